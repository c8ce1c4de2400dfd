// Token-bucket rate limits for single bufferevents and for groups of them.
//
// A bucket holds a read and a write allowance in bytes. It starts at one tick's worth
// (the rate, as libevent does) and gains `rate` per elapsed tick up to `maximum` (the
// burst). Moving bytes takes them out; an empty (<= 0) bucket pauses that direction
// (kSuspendBw / kSuspendBwGroup) until a timer refills it. A group's bucket is shared: each
// member may take its share (bucket / members, at least min_share) per operation, and
// when the group refills, members resume in rotating order so none is always first.
// Only socket bufferevents consult the buckets, as in libevent.
#include "bufferevent/bev.h"

#include "core/lock.h"
#include "core/log.h"
#include "core/mm.h"

#include <climits>
#include <ctime>

struct ev_token_bucket_cfg {
    size_t read_rate;
    size_t read_maximum;
    size_t write_rate;
    size_t write_maximum;
    timeval tick_timeout;
    unsigned msec_per_tick;
};

namespace reevent::bev {

struct Bucket {
    ssize_t read_limit = 0;
    ssize_t write_limit = 0;
    uint32_t last_tick = 0;
};

struct RateLimit {
    Bev *owner = nullptr;
    const ev_token_bucket_cfg *cfg = nullptr;
    Bucket bucket;
    event refill{};
    bool refill_assigned = false;
    bufferevent_rate_limit_group *group = nullptr;
    RateLimit *gnext = nullptr;
    RateLimit *gprev = nullptr;
};

}  // namespace reevent::bev

struct bufferevent_rate_limit_group {
    event_base *base = nullptr;
    ev_token_bucket_cfg cfg{};
    reevent::bev::Bucket bucket;
    event tick{};
    reevent::core::Lock lock;
    reevent::bev::RateLimit *members = nullptr;
    int n_members = 0;
    unsigned rotate = 0;
    bool read_suspended = false;
    bool write_suspended = false;
    size_t min_share = 64;
    // Per-operation share of each member, fixed when the bucket refills (not recomputed
    // from the shrinking bucket, which would favour whoever the loop serves first).
    ssize_t share_read = 0;
    ssize_t share_write = 0;
    uint64_t total_read = 0;
    uint64_t total_written = 0;
};

namespace reevent::bev {

namespace {

uint64_t now_ms() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

uint32_t current_tick(const ev_token_bucket_cfg *cfg) noexcept {
    return static_cast<uint32_t>(now_ms() / cfg->msec_per_tick);
}

// Time until the next tick boundary (+1 ms), so refills line up with the ticks instead of
// drifting by the processing time of every cycle.
timeval until_next_tick(const ev_token_bucket_cfg *cfg) noexcept {
    uint64_t rest = cfg->msec_per_tick - now_ms() % cfg->msec_per_tick + 1;
    return timeval{static_cast<time_t>(rest / 1000), static_cast<suseconds_t>((rest % 1000) * 1000)};
}

ssize_t refill_one(ssize_t cur, size_t rate, size_t maximum, uint32_t ticks) noexcept {
    __int128 v = static_cast<__int128>(cur) + static_cast<__int128>(rate) * ticks;
    if (v > static_cast<__int128>(maximum)) v = maximum;
    return static_cast<ssize_t>(v);
}

void bucket_init(Bucket &b, const ev_token_bucket_cfg *cfg) noexcept {
    b.read_limit = static_cast<ssize_t>(cfg->read_rate);
    b.write_limit = static_cast<ssize_t>(cfg->write_rate);
    b.last_tick = current_tick(cfg);
}

void bucket_update(Bucket &b, const ev_token_bucket_cfg *cfg, uint32_t now) noexcept {
    uint32_t n = now - b.last_tick;
    if (n == 0 || n > uint32_t(INT32_MAX)) return;
    b.read_limit = refill_one(b.read_limit, cfg->read_rate, cfg->read_maximum, n);
    b.write_limit = refill_one(b.write_limit, cfg->write_rate, cfg->write_maximum, n);
    b.last_tick = now;
}

void bucket_clamp(Bucket &b, const ev_token_bucket_cfg *cfg) noexcept {
    if (b.read_limit > static_cast<ssize_t>(cfg->read_maximum))
        b.read_limit = static_cast<ssize_t>(cfg->read_maximum);
    if (b.write_limit > static_cast<ssize_t>(cfg->write_maximum))
        b.write_limit = static_cast<ssize_t>(cfg->write_maximum);
}

RateLimit *ensure(Bev *b) noexcept {
    if (!b->rate) {
        b->rate = mm::make<RateLimit>();
        if (b->rate) b->rate->owner = b;
    }
    return b->rate;
}

// The bufferevent's own bucket refilled (or was refilled by hand): resume what can go on,
// and keep the timer running while a direction is still starved.
void refill_own(Bev *b) noexcept {
    RateLimit *r = b->rate;
    if (!r || !r->cfg) return;
    bucket_update(r->bucket, r->cfg, current_tick(r->cfg));
    bool again = false;
    if (r->bucket.read_limit > 0) unsuspend_read(b, kSuspendBw);
    else if (b->read_suspended & kSuspendBw) again = true;
    if (r->bucket.write_limit > 0) unsuspend_write(b, kSuspendBw);
    else if (b->write_suspended & kSuspendBw) again = true;
    if (again && !event_pending(&r->refill, EV_TIMEOUT, nullptr)) {
        timeval tv = until_next_tick(r->cfg);
        event_add(&r->refill, &tv);
    }
}

void refill_cb(evutil_socket_t, short, void *arg) noexcept {
    Bev *b = static_cast<Bev *>(arg);
    incref_and_lock(b);
    if (!b->dead) refill_own(b);
    decref_and_unlock(b);
}

void arm_refill(Bev *b) noexcept {
    RateLimit *r = b->rate;
    if (!r->refill_assigned) {
        event_assign(&r->refill, base_of(b), -1, 0, refill_cb, b);
        r->refill_assigned = true;
    }
    if (!event_pending(&r->refill, EV_TIMEOUT, nullptr)) {
        timeval tv = until_next_tick(r->cfg);
        event_add(&r->refill, &tv);
    }
}

// Group suspension touches every member: the members are locked (and referenced) under the
// group lock, then acted on. Known limit: with BEV_OPT_THREADSAFE members driven from
// several threads this group -> member order can meet a member -> group one.
void group_foreach(bufferevent_rate_limit_group *g, void (*fn)(Bev *)) noexcept {
    g->lock.lock();
    int n = g->n_members;
    if (n == 0) {
        g->lock.unlock();
        return;
    }
    // Snapshot, starting at a rotating member so resumption order is fair.
    Bev *stack_list[64];
    Bev **list = n <= 64 ? stack_list : static_cast<Bev **>(mm::calloc(size_t(n), sizeof(Bev *)));
    if (!list) {
        g->lock.unlock();
        return;
    }
    int i = 0;
    for (RateLimit *m = g->members; m && i < n; m = m->gnext) list[i++] = m->owner;
    unsigned start = g->rotate++ % unsigned(n);
    for (int k = 0; k < n; ++k) {
        Bev *b = list[(start + unsigned(k)) % unsigned(n)];
        lock(b);
        ++b->refcnt;
    }
    g->lock.unlock();
    for (int k = 0; k < n; ++k) {
        Bev *b = list[(start + unsigned(k)) % unsigned(n)];
        if (!b->dead) fn(b);
        decref_and_unlock(b);
    }
    if (list != stack_list) mm::free(list);
}

void suspend_group_read(bufferevent_rate_limit_group *g) noexcept {
    g->read_suspended = true;
    group_foreach(g, [](Bev *b) { suspend_read(b, kSuspendBwGroup); });
}
void suspend_group_write(bufferevent_rate_limit_group *g) noexcept {
    g->write_suspended = true;
    group_foreach(g, [](Bev *b) { suspend_write(b, kSuspendBwGroup); });
}
void resume_group_read(bufferevent_rate_limit_group *g) noexcept {
    g->read_suspended = false;
    group_foreach(g, [](Bev *b) { unsuspend_read(b, kSuspendBwGroup); });
}
void resume_group_write(bufferevent_rate_limit_group *g) noexcept {
    g->write_suspended = false;
    group_foreach(g, [](Bev *b) { unsuspend_write(b, kSuspendBwGroup); });
}

// Call with g->lock held.
void group_reshare(bufferevent_rate_limit_group *g) noexcept {
    ssize_t n = g->n_members > 0 ? g->n_members : 1;
    ssize_t min = static_cast<ssize_t>(g->min_share);
    g->share_read = g->bucket.read_limit > 0 ? g->bucket.read_limit / n : 0;
    g->share_write = g->bucket.write_limit > 0 ? g->bucket.write_limit / n : 0;
    if (g->share_read < min) g->share_read = min;
    if (g->share_write < min) g->share_write = min;
}

// After the group bucket changed: pause or resume the members to match it.
void group_apply(bufferevent_rate_limit_group *g) noexcept {
    g->lock.lock();
    group_reshare(g);
    bool rs = g->read_suspended, ws = g->write_suspended;
    ssize_t rl = g->bucket.read_limit, wl = g->bucket.write_limit;
    g->lock.unlock();
    if (rl > 0 && rs) resume_group_read(g);
    else if (rl <= 0 && !rs) suspend_group_read(g);
    if (wl > 0 && ws) resume_group_write(g);
    else if (wl <= 0 && !ws) suspend_group_write(g);
}

void group_tick_cb(evutil_socket_t, short, void *arg) noexcept {
    auto *g = static_cast<bufferevent_rate_limit_group *>(arg);
    g->lock.lock();
    bucket_update(g->bucket, &g->cfg, current_tick(&g->cfg));
    g->lock.unlock();
    group_apply(g);
}

void group_unlink(RateLimit *r) noexcept {
    bufferevent_rate_limit_group *g = r->group;
    g->lock.lock();
    if (r->gprev) r->gprev->gnext = r->gnext;
    else g->members = r->gnext;
    if (r->gnext) r->gnext->gprev = r->gprev;
    r->gnext = r->gprev = nullptr;
    --g->n_members;
    r->group = nullptr;
    group_reshare(g);
    g->lock.unlock();
}

}  // namespace

// ---- used by the socket I/O paths ------------------------------------------------------------

ssize_t limit_max(Bev *b, bool write) noexcept {
    ssize_t m = write ? max_single_write(b) : max_single_read(b);
    RateLimit *r = b->rate;
    if (!r) return m;
    if (r->cfg) {
        bucket_update(r->bucket, r->cfg, current_tick(r->cfg));
        // As libevent: with a bucket configured, the bucket is the answer.
        m = write ? r->bucket.write_limit : r->bucket.read_limit;
    }
    if (bufferevent_rate_limit_group *g = r->group) {
        g->lock.lock();
        ssize_t share;
        if (write ? g->write_suspended : g->read_suspended) {
            share = 0;
        } else {
            share = write ? g->share_write : g->share_read;
        }
        g->lock.unlock();
        if (m > share) m = share;
    }
    return m < 0 ? 0 : m;
}

void decrement_read_buckets(Bev *b, ssize_t n) noexcept {
    RateLimit *r = b->rate;
    if (!r) return;
    if (r->cfg) {
        r->bucket.read_limit -= n;
        if (r->bucket.read_limit <= 0) {
            suspend_read(b, kSuspendBw);
            arm_refill(b);
        }
    }
    if (bufferevent_rate_limit_group *g = r->group) {
        g->lock.lock();
        g->bucket.read_limit -= n;
        g->total_read += uint64_t(n);
        bool stop = g->bucket.read_limit <= 0 && !g->read_suspended;
        g->lock.unlock();
        if (stop) suspend_group_read(g);
    }
}

void decrement_write_buckets(Bev *b, ssize_t n) noexcept {
    RateLimit *r = b->rate;
    if (!r) return;
    if (r->cfg) {
        r->bucket.write_limit -= n;
        if (r->bucket.write_limit <= 0) {
            suspend_write(b, kSuspendBw);
            arm_refill(b);
        }
    }
    if (bufferevent_rate_limit_group *g = r->group) {
        g->lock.lock();
        g->bucket.write_limit -= n;
        g->total_written += uint64_t(n);
        bool stop = g->bucket.write_limit <= 0 && !g->write_suspended;
        g->lock.unlock();
        if (stop) suspend_group_write(g);
    }
}

void rate_starved(Bev *b, bool write) noexcept {
    RateLimit *r = b->rate;
    if (!r) return;
    if (r->cfg && (write ? r->bucket.write_limit : r->bucket.read_limit) <= 0) {
        if (write) suspend_write(b, kSuspendBw);
        else suspend_read(b, kSuspendBw);
        arm_refill(b);
    } else if (bufferevent_rate_limit_group *g = r->group) {
        g->lock.lock();
        bool susp = write ? g->write_suspended : g->read_suspended;
        g->lock.unlock();
        if (susp) {
            if (write) suspend_write(b, kSuspendBwGroup);
            else suspend_read(b, kSuspendBwGroup);
        }
    }
}

void rate_limit_destroy(Bev *b) noexcept {
    RateLimit *r = b->rate;
    if (!r) return;
    if (r->group) group_unlink(r);
    if (r->refill_assigned) event_del(&r->refill);
    b->rate = nullptr;
    mm::destroy(r);
}

// ---- the public operations (called from the C API) -----------------------------------------

ev_token_bucket_cfg *cfg_new(size_t read_rate, size_t read_burst, size_t write_rate,
                             size_t write_burst, const timeval *tick_len) noexcept {
    if (read_rate > read_burst || write_rate > write_burst || read_rate < 1 || write_rate < 1)
        return nullptr;
    if (read_rate > EV_RATE_LIMIT_MAX || write_rate > EV_RATE_LIMIT_MAX ||
        read_burst > EV_RATE_LIMIT_MAX || write_burst > EV_RATE_LIMIT_MAX)
        return nullptr;
    timeval tick = tick_len ? *tick_len : timeval{1, 0};
    if (tick.tv_sec < 0 || tick.tv_usec < 0 || tick.tv_usec >= 1000000) return nullptr;
    uint64_t ms = uint64_t(tick.tv_sec) * 1000 + uint64_t(tick.tv_usec) / 1000;
    if (ms == 0 || ms > UINT32_MAX) return nullptr;  // libevent would divide by zero later
    auto *c = static_cast<ev_token_bucket_cfg *>(mm::calloc(1, sizeof(ev_token_bucket_cfg)));
    if (!c) return nullptr;
    c->read_rate = read_rate;
    c->read_maximum = read_burst;
    c->write_rate = write_rate;
    c->write_maximum = write_burst;
    c->tick_timeout = tick;
    c->msec_per_tick = static_cast<unsigned>(ms);
    return c;
}

void cfg_free(ev_token_bucket_cfg *cfg) noexcept { mm::free(cfg); }

int set_rate_limit(Bev *b, ev_token_bucket_cfg *cfg) noexcept {
    incref_and_lock(b);
    int r = 0;
    if (!cfg) {
        if (b->rate && b->rate->cfg) {
            b->rate->cfg = nullptr;
            if (b->rate->refill_assigned) event_del(&b->rate->refill);
            unsuspend_read(b, kSuspendBw);
            unsuspend_write(b, kSuspendBw);
        }
    } else if (RateLimit *rl = ensure(b)) {
        if (rl->cfg != cfg) {
            bool reinit = rl->cfg != nullptr;
            rl->cfg = cfg;
            if (reinit) {
                bucket_clamp(rl->bucket, cfg);
                rl->bucket.last_tick = current_tick(cfg);
            } else {
                bucket_init(rl->bucket, cfg);
            }
            if (rl->refill_assigned) event_del(&rl->refill);
            refill_own(b);
            if (rl->bucket.read_limit <= 0) {
                suspend_read(b, kSuspendBw);
                arm_refill(b);
            }
            if (rl->bucket.write_limit <= 0) {
                suspend_write(b, kSuspendBw);
                arm_refill(b);
            }
        }
    } else {
        r = -1;
    }
    decref_and_unlock(b);
    return r;
}

const ev_token_bucket_cfg *get_cfg(const Bev *b) noexcept { return b->rate ? b->rate->cfg : nullptr; }

ssize_t get_limit(Bev *b, bool write) noexcept {
    lock(b);
    ssize_t v = EV_SSIZE_MAX;
    if (b->rate && b->rate->cfg) {
        bucket_update(b->rate->bucket, b->rate->cfg, current_tick(b->rate->cfg));
        v = write ? b->rate->bucket.write_limit : b->rate->bucket.read_limit;
    }
    unlock(b);
    return v;
}

int decrement_limit(Bev *b, ssize_t decr, bool write) noexcept {
    incref_and_lock(b);
    int r = -1;
    if (b->rate && b->rate->cfg) {
        ssize_t &lim = write ? b->rate->bucket.write_limit : b->rate->bucket.read_limit;
        ssize_t old = lim;
        lim -= decr;
        if (old > 0 && lim <= 0) {
            if (write) suspend_write(b, kSuspendBw);
            else suspend_read(b, kSuspendBw);
            arm_refill(b);
        } else if (old <= 0 && lim > 0) {
            if (write) unsuspend_write(b, kSuspendBw);
            else unsuspend_read(b, kSuspendBw);
        }
        r = 0;
    }
    decref_and_unlock(b);
    return r;
}

bufferevent_rate_limit_group *group_new(event_base *base, const ev_token_bucket_cfg *cfg) noexcept {
    if (!base || !cfg) return nullptr;
    auto *g = mm::make<bufferevent_rate_limit_group>();
    if (!g) return nullptr;
    g->base = base;
    g->cfg = *cfg;
    bucket_init(g->bucket, &g->cfg);
    group_reshare(g);
    event_assign(&g->tick, base, -1, EV_PERSIST, group_tick_cb, g);
    event_add(&g->tick, &g->cfg.tick_timeout);
    return g;
}

int group_set_cfg(bufferevent_rate_limit_group *g, const ev_token_bucket_cfg *cfg) noexcept {
    if (!g || !cfg) return -1;
    g->lock.lock();
    bool same_tick = g->cfg.msec_per_tick == cfg->msec_per_tick;
    g->cfg = *cfg;
    bucket_clamp(g->bucket, &g->cfg);
    g->lock.unlock();
    if (!same_tick) {
        event_del(&g->tick);
        g->bucket.last_tick = current_tick(&g->cfg);
        event_add(&g->tick, &g->cfg.tick_timeout);
    }
    group_apply(g);
    return 0;
}

int group_set_min_share(bufferevent_rate_limit_group *g, size_t share) noexcept {
    if (!g || share > size_t(EV_SSIZE_MAX)) return -1;
    g->lock.lock();
    g->min_share = share;
    group_reshare(g);
    g->lock.unlock();
    return 0;
}

int group_remove(Bev *b) noexcept;

void group_free(bufferevent_rate_limit_group *g) noexcept {
    if (!g) return;
    // libevent requires an empty group; members still in it are taken out first.
    while (true) {
        g->lock.lock();
        RateLimit *m = g->members;
        g->lock.unlock();
        if (!m) break;
        group_remove(m->owner);
    }
    event_del(&g->tick);
    mm::destroy(g);
}

int group_remove(Bev *b) noexcept {
    incref_and_lock(b);
    if (b->rate && b->rate->group) {
        group_unlink(b->rate);
        unsuspend_read(b, kSuspendBwGroup);
        unsuspend_write(b, kSuspendBwGroup);
    }
    decref_and_unlock(b);
    return 0;
}

int group_add(Bev *b, bufferevent_rate_limit_group *g) noexcept {
    if (!g) return group_remove(b);
    incref_and_lock(b);
    RateLimit *r = ensure(b);
    if (!r) {
        decref_and_unlock(b);
        return -1;
    }
    if (r->group != g) {
        if (r->group) group_unlink(r);
        g->lock.lock();
        r->group = g;
        r->gprev = nullptr;
        r->gnext = g->members;
        if (g->members) g->members->gprev = r;
        g->members = r;
        ++g->n_members;
        group_reshare(g);
        bool rs = g->read_suspended, ws = g->write_suspended;
        g->lock.unlock();
        if (rs) suspend_read(b, kSuspendBwGroup);
        else unsuspend_read(b, kSuspendBwGroup);
        if (ws) suspend_write(b, kSuspendBwGroup);
        else unsuspend_write(b, kSuspendBwGroup);
    }
    decref_and_unlock(b);
    return 0;
}

ssize_t group_get_limit(bufferevent_rate_limit_group *g, bool write) noexcept {
    g->lock.lock();
    ssize_t v = write ? g->bucket.write_limit : g->bucket.read_limit;
    g->lock.unlock();
    return v;
}

int group_decrement(bufferevent_rate_limit_group *g, ssize_t decr, bool write) noexcept {
    g->lock.lock();
    if (write) g->bucket.write_limit -= decr;
    else g->bucket.read_limit -= decr;
    g->lock.unlock();
    group_apply(g);
    return 0;
}

void group_totals(bufferevent_rate_limit_group *g, uint64_t *r, uint64_t *w) noexcept {
    g->lock.lock();
    if (r) *r = g->total_read;
    if (w) *w = g->total_written;
    g->lock.unlock();
}

void group_reset_totals(bufferevent_rate_limit_group *g) noexcept {
    g->lock.lock();
    g->total_read = g->total_written = 0;
    g->lock.unlock();
}

}  // namespace reevent::bev
