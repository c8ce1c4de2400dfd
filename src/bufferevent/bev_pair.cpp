// Paired bufferevents: what one side writes lands in the other side's input, moved with
// evbuffer_add_buffer (segments change hands, bytes are not copied) as soon as the writer
// may write and the reader may read. Both halves share one lock when THREADSAFE.
//
// Freeing one half unlinks it; reevent then gives the survivor BEV_EVENT_EOF|READING (from
// the loop, or when it next enables reading), as the end of a socketpair would see. libevent
// 2.1 says nothing to the survivor (conf::kPairFreeGivesPartnerEof).
#include "bufferevent/bev.h"
#include "bufferevent/kit.h"

#include "core/base.h"
#include "core/mm.h"

namespace reevent::bev {

namespace {

struct PairBev : Bev {
    PairBev *partner = nullptr;
    // With THREADSAFE the second half uses the first half's lock and keeps a reference to
    // it, so the lock outlives both.
    PairBev *lock_holder = nullptr;
    bool eof_pending = false;  // partner freed while we were not reading
};

PairBev *pair_of(Bev *b) noexcept { return static_cast<PairBev *>(b); }

bool wants_to_talk(Bev *src, Bev *dst) noexcept {
    return (src->pub.enabled & EV_WRITE) && !src->write_suspended &&
           (dst->pub.enabled & EV_READ) && !dst->read_suspended &&
           evbuffer_get_length(src->pub.output) > 0;
}

// Moves src's output into dst's input (up to dst's read high-water mark unless ignore_wm),
// then runs dst's read callback and src's write callback as their watermarks say.
void transfer(Bev *src, Bev *dst, bool ignore_wm) noexcept {
    ++src->refcnt;
    ++dst->refcnt;
    evbuffer *out = src->pub.output;
    evbuffer *in = dst->pub.input;
    if (dst->pub.wm_read.high && !ignore_wm) {
        size_t len = evbuffer_get_length(in);
        if (len < dst->pub.wm_read.high) {
            size_t room = dst->pub.wm_read.high - len;
            evbuffer_remove_buffer(out, in, room);
        }
    } else {
        evbuffer_add_buffer(in, out);
    }
    if (event_pending(&dst->pub.ev_read, EV_TIMEOUT, nullptr)) generic_arm(dst, EV_READ);
    if (event_pending(&src->pub.ev_write, EV_TIMEOUT, nullptr)) {
        if (evbuffer_get_length(out)) generic_arm(src, EV_WRITE);
        else generic_disarm(src, EV_WRITE);
    }
    trigger_nolock(dst, EV_READ, 0);
    trigger_nolock(src, EV_WRITE, 0);
    --dst->refcnt;  // the caller holds references to both, so these never reach zero
    --src->refcnt;
}

void output_cb(evbuffer *, const evbuffer_cb_info *info, void *arg) noexcept {
    if (!info->n_added) return;
    PairBev *b = static_cast<PairBev *>(arg);
    incref_and_lock(b);
    if (!b->dead && b->partner && wants_to_talk(b, b->partner)) {
        PairBev *p = b->partner;
        incref_and_lock(p);
        transfer(b, p, false);
        decref_and_unlock(p);
    }
    decref_and_unlock(b);
}

int pair_enable(Bev *bb, short what) noexcept {
    PairBev *b = pair_of(bb);
    // Enabling writing arms the write timeout only when output waits for the partner.
    generic_arm(b, evbuffer_get_length(b->pub.output) ? what : static_cast<short>(what & ~EV_WRITE));
    PairBev *p = b->partner;
    if (!p) {
        if ((what & EV_READ) && b->eof_pending) {
            b->eof_pending = false;
            run_eventcb(b, BEV_EVENT_EOF | BEV_EVENT_READING, BEV_OPT_DEFER_CALLBACKS);
        }
        return 0;
    }
    incref_and_lock(p);
    ++b->refcnt;
    if ((what & EV_READ) && wants_to_talk(p, b)) transfer(p, b, false);
    if ((what & EV_WRITE) && b->partner && wants_to_talk(b, b->partner)) transfer(b, b->partner, false);
    --b->refcnt;  // our caller holds a reference too
    decref_and_unlock(p);
    return 0;
}

int pair_disable(Bev *b, short what) noexcept {
    generic_disarm(b, what);
    return 0;
}

void pair_unlink(Bev *bb) noexcept {
    PairBev *b = pair_of(bb);
    PairBev *p = b->partner;
    if (!p) return;
    p->partner = nullptr;
    b->partner = nullptr;
    if (p->dead || p->freed) return;
    if ((p->pub.enabled & EV_READ) && !p->read_suspended) {
        // Deferred: the survivor may be in the middle of one of its own callbacks.
        run_eventcb(p, BEV_EVENT_EOF | BEV_EVENT_READING, BEV_OPT_DEFER_CALLBACKS);
    } else {
        p->eof_pending = true;
    }
}

void pair_destruct(Bev *b) noexcept {
    PairBev *pb = pair_of(b);
    if (pb->partner) {
        pb->partner->partner = nullptr;
        pb->partner = nullptr;
    }
    if (PairBev *h = pb->lock_holder) {
        pb->lock_holder = nullptr;
        lock(h);
        decref_and_unlock(h);
    }
}

int pair_flush(Bev *bb, short iotype, bufferevent_flush_mode mode) noexcept {
    if (mode == BEV_NORMAL) return 0;
    PairBev *b = pair_of(bb);
    PairBev *p = b->partner;
    if (!p) return -1;
    incref_and_lock(p);
    if (iotype & EV_READ) transfer(p, b, true);
    if (iotype & EV_WRITE) transfer(b, p, true);
    if (mode == BEV_FINISHED) {
        short what = BEV_EVENT_EOF;
        if (iotype & EV_READ) what |= BEV_EVENT_WRITING;
        if (iotype & EV_WRITE) what |= BEV_EVENT_READING;
        run_eventcb(p, what, 0);
    }
    decref_and_unlock(p);
    return 0;
}

int pair_get_fd(Bev *) noexcept { return -1; }
int pair_set_fd(Bev *, int) noexcept { return -1; }
Bev *pair_underlying(Bev *) noexcept { return nullptr; }

PairBev *pair_make(event_base *base, int options, core::Lock *shared) noexcept {
    PairBev *b = mm::make<PairBev>();
    if (!b) return nullptr;
    // A pair's callbacks always run deferred, from the loop (libevent forces
    // BEV_OPT_DEFER_CALLBACKS on both halves): never inside the bufferevent_write or
    // bufferevent_flush that moved the data, and one callback for several moves.
    options |= BEV_OPT_DEFER_CALLBACKS;
    if (!init_common(b, base, &kPairOps, options, shared)) {
        destroy_unlinked(b);
        return nullptr;
    }
    generic_init_timeouts(b);
    if (!evbuffer_add_cb(b->pub.output, output_cb, b)) {
        destroy_unlinked(b);
        return nullptr;
    }
    return b;
}

}  // namespace

const bufferevent_ops kPairOps = {
    "pair",     pair_enable, pair_disable,  pair_unlink,      pair_destruct, generic_adj_timeouts,
    pair_flush, pair_get_fd, pair_set_fd,   pair_underlying, nullptr, &kKit,
};

int pair_new(event_base *base, int options, bufferevent *pair[2]) noexcept {
    // A NULL base means the current base of event_init(), as for events assigned to NULL
    // (libevent: the pair's ev_base stays NULL, its events and callbacks use that base).
    if (!pair || !core::base_or_current(base)) return -1;
    PairBev *a = pair_make(base, options, nullptr);
    if (!a) return -1;
    PairBev *b = pair_make(base, options, a->lock);
    if (!b) {
        destroy_unlinked(a);
        return -1;
    }
    if (b->lock) {
        b->lock_holder = a;
        ++a->refcnt;
    }
    a->partner = b;
    b->partner = a;
    pair[0] = handle(a);
    pair[1] = handle(b);
    return 0;
}

bufferevent *pair_get_partner(Bev *b) noexcept {
    if (b->pub.be_ops != &kPairOps) return nullptr;
    lock(b);
    PairBev *p = pair_of(b)->partner;
    unlock(b);
    return p ? handle(p) : nullptr;
}

}  // namespace reevent::bev
