// Time and timers: the monotonic clock with its per-iteration cache, the 8-ary timer heap
// (dary_heap.h) and common-timeout queues.
//
// Deadlines are monotonic nanoseconds stored in the event's own ev_timeout (see base.h), so
// a pending timer costs one pointer in the heap array and nothing else. Ties are broken by
// a per-base sequence number: timers with the same deadline fire in the order they were
// added. Common timeouts put every event with one duration into a FIFO whose head alone
// sits in the heap (through an internal event), so adding such a timer is O(1).
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <ctime>

#include "core/base.h"
#include "core/log.h"
#include "core/timers.h"

namespace reevent::core {

int64_t clock_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

namespace {

// CLOCK_MONOTONIC_COARSE: the monotonic time of the kernel's last tick, read without the
// TSC (~4x cheaper than CLOCK_MONOTONIC, 10 vs 40 ns on a VM). It lags the precise clock
// by a fixed offset plus up to one tick; `margin` bounds that lag (one sample of it plus
// one resolution plus slack), so coarse + margin is never earlier than the precise time.
struct CoarseClock {
    int64_t margin = -1;         // -1: not usable
    int64_t min_rel = INT64_MAX;  // timeouts this long may be computed from it
};

int64_t coarse_raw_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Measured once per process. Not a function-local static: the library is built without
// thread-safe statics (no C++ runtime guard), and bases in several threads may ask first
// at the same time; two measuring at once store two valid bounds, either will do.
std::atomic<bool> g_coarse_measured{false};
std::atomic<int64_t> g_coarse_margin{-1};
std::atomic<int64_t> g_coarse_min_rel{INT64_MAX};

[[gnu::noinline]] void measure_coarse_clock() noexcept {
    timespec res;
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0 && res.tv_sec == 0) {
        int64_t lag = 0;
        for (int i = 0; i < 4; ++i) {
            const int64_t coarse = coarse_raw_ns();
            const int64_t precise = clock_ns();
            if (precise - coarse > lag) lag = precise - coarse;
        }
        const int64_t margin = lag + res.tv_nsec + 500000;
        if (margin <= 20000000) {  // else too coarse to be worth it
            // The lateness this can add stays below 1/128 of the timeout (and 1 s is the least).
            g_coarse_min_rel.store(margin * 128 > 1000000000 ? margin * 128 : 1000000000,
                                   std::memory_order_relaxed);
            g_coarse_margin.store(margin, std::memory_order_relaxed);
        }
    }
    g_coarse_measured.store(true, std::memory_order_release);
}

CoarseClock coarse_clock() noexcept {
    if (!g_coarse_measured.load(std::memory_order_acquire)) [[unlikely]]
        measure_coarse_clock();
    return {g_coarse_margin.load(std::memory_order_relaxed),
            g_coarse_min_rel.load(std::memory_order_relaxed)};
}

// An upper bound of the precise monotonic time from the coarse clock, or -1.
int64_t coarse_upper_ns() noexcept {
    const CoarseClock cc = coarse_clock();
    return cc.margin < 0 ? -1 : coarse_raw_ns() + cc.margin;
}

}  // namespace

// The loop marks the time "cacheable" once per iteration and the first reader fills the
// cache: an iteration that needs no time (no timer pending, none added) reads no clock.
int64_t now_ns(event_base *base) noexcept {
    if (base->cached_ns_) return base->cached_ns_;
    const int64_t t = clock_ns();
    if (base->time_lazy_) base->cached_ns_ = t;
    return t;
}

int64_t timeout_now_slow(event_base *base, int64_t rel) noexcept {
    if ((base->flags_ & EVENT_BASE_FLAG_PRECISE_TIMER) || rel < coarse_clock().min_rel)
        return now_ns(base);
    // A long timeout: a few ms late (< 1/128 of it) instead of a TSC read; never early. In
    // the loop the iteration's bound is cached (read after the wait, it is never earlier
    // than the precise cached time would have been) and serves every long timeout of the
    // iteration.
    if (!base->time_lazy_) return coarse_upper_ns();
    if (!base->coarse_ub_) base->coarse_ub_ = base->cached_ns_ ? base->cached_ns_ : coarse_upper_ns();
    return base->coarse_ub_;
}

int64_t wall_minus_mono_ns() noexcept {
    timespec w, m;
    clock_gettime(CLOCK_REALTIME, &w);
    clock_gettime(CLOCK_MONOTONIC, &m);
    return (static_cast<int64_t>(w.tv_sec) - m.tv_sec) * 1000000000 + (w.tv_nsec - m.tv_nsec);
}

// ---- common timeouts -------------------------------------------------------------------

int common_index_slow(const event_base *base, const timeval *tv) noexcept {
    int idx = static_cast<int>((tv->tv_usec & kCommonIdxMask) >> kCommonIdxShift);
    if (idx >= base->n_common_) return -1;
    const timeval &d = base->common_[idx]->duration;
    if (d.tv_sec != tv->tv_sec || d.tv_usec != tv->tv_usec) return -1;
    return idx;
}

namespace {

// A timeout deletes the event entirely (all its other conditions too) and activates it with
// EV_TIMEOUT, keeping the flags it was already active with (libevent 2.1 drops them, #1530).
void expire(event *ev) noexcept {
    const short was = ev->ev_evcallback.evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)
                          ? ev->ev_res
                          : 0;
    del_nolock(ev, DelMode::kNoBlock);
    activate_nolock(ev, EV_TIMEOUT | was, 1);
}

void common_timer_cb(evutil_socket_t, short, void *arg);

// (Re)arms the queue's internal heap timer for its first event.
void common_schedule(event_base *base, CommonTimeout *ct) noexcept {
    event *t = &ct->timer;
    const bool in_heap = t->ev_evcallback.evcb_flags & EVLIST_TIMEOUT;
    if (!ct->first) {
        if (in_heap) {
            base->heap_.erase(t);
            t->ev_evcallback.evcb_flags &= ~EVLIST_TIMEOUT;
        }
        return;
    }
    if (in_heap && deadline_of(t) == deadline_of(ct->first)) return;
    deadline_of(t) = deadline_of(ct->first);
    timer_tag(t) = static_cast<long>(base->timer_seq_++);
    if (in_heap)
        base->heap_.update(t);  // one sift in place
    else if (base->heap_.push(t))
        t->ev_evcallback.evcb_flags |= EVLIST_TIMEOUT;
    // The queue's timer became the first deadline: a loop sleeping in another thread must
    // wake up for it (as for a plain timer, add_nolock).
    if (base->heap_.top() == t) notify_if_needed(base);
}

void common_timer_cb(evutil_socket_t, short, void *arg) {
    auto *ct = static_cast<CommonTimeout *>(arg);
    event_base *base = ct->base;
    LockGuard g(base->lock_);
    const int64_t now = now_ns(base);
    while (event *ev = ct->first) {
        if (deadline_of(ev) > now) break;
        expire(ev);
    }
    common_schedule(base, ct);
}

}  // namespace

const timeval *init_common_timeout(event_base *base, const timeval *duration) noexcept {
    LockGuard g(base->lock_);
    timeval d = *duration;
    // A value this base already handed out names its own queue: strip the magic bits.
    if (common_index(base, duration) >= 0) d.tv_usec &= kUsecMask;
    if (d.tv_usec > 1000000) {
        d.tv_sec += d.tv_usec / 1000000;
        d.tv_usec %= 1000000;
    }
    if (d.tv_sec < 0 || d.tv_usec < 0) return nullptr;
    for (int i = 0; i < base->n_common_; ++i) {
        CommonTimeout *ct = base->common_[i];
        if (ct->duration.tv_sec == d.tv_sec && (ct->duration.tv_usec & kUsecMask) == d.tv_usec)
            return &ct->duration;
    }
    if (base->n_common_ == kMaxCommonTimeouts) {
        log::warn("event_base_init_common_timeout: Too many common timeouts already in use; "
                  "we only support %d per event_base", kMaxCommonTimeouts);
        return nullptr;
    }
    if (!base->common_) {
        base->common_ = static_cast<CommonTimeout **>(
            mm::calloc(kMaxCommonTimeouts, sizeof(CommonTimeout *)));
        if (!base->common_) return nullptr;
    }
    auto *ct = static_cast<CommonTimeout *>(mm::calloc(1, sizeof(CommonTimeout)));
    if (!ct) return nullptr;
    int idx = base->n_common_;
    ct->duration_ns = static_cast<int64_t>(d.tv_sec) * 1000000000 + d.tv_usec * 1000;
    ct->duration.tv_sec = d.tv_sec;
    ct->duration.tv_usec = d.tv_usec | kCommonMagic | (static_cast<long>(idx) << kCommonIdxShift);
    ct->first = nullptr;
    ct->last = &ct->first;
    ct->base = base;
    assign(&ct->timer, base, -1, 0, common_timer_cb, ct);
    ct->timer.ev_evcallback.evcb_flags |= EVLIST_INTERNAL;
    ct->timer.ev_evcallback.evcb_pri = 0;
    base->common_[idx] = ct;
    base->n_common_ = idx + 1;
    return &ct->duration;
}

// ---- heap / queue membership ---------------------------------------------------------------

namespace {

// Links ev into the queue at its sorted place: the tail, since everyone has the same
// duration, except when the cached clock went backwards relative to an earlier add (then
// walk back). Only the new event and the (hot) tail are touched. True if ev is the head.
bool common_link(CommonTimeout *ct, event *ev) noexcept {
    auto &link = ev->ev_timeout_pos.ev_next_with_common_timeout;
    event **pos = ct->last;
    if (ct->first) {
        auto *tail = reinterpret_cast<event *>(reinterpret_cast<char *>(ct->last) -
                                               offsetof(event, ev_timeout_pos));
        if (deadline_of(tail) > deadline_of(ev)) {
            pos = &ct->first;
            while (*pos && deadline_of(*pos) <= deadline_of(ev))
                pos = &(*pos)->ev_timeout_pos.ev_next_with_common_timeout.tqe_next;
        }
    }
    link.tqe_next = *pos;
    link.tqe_prev = pos;
    if (*pos)
        (*pos)->ev_timeout_pos.ev_next_with_common_timeout.tqe_prev = &link.tqe_next;
    else
        ct->last = &link.tqe_next;
    *pos = ev;
    return ct->first == ev;
}

void common_unlink(CommonTimeout *ct, event *ev) noexcept {
    auto &link = ev->ev_timeout_pos.ev_next_with_common_timeout;
    if (link.tqe_next)
        link.tqe_next->ev_timeout_pos.ev_next_with_common_timeout.tqe_prev = link.tqe_prev;
    else
        ct->last = link.tqe_prev;
    *link.tqe_prev = link.tqe_next;
}

}  // namespace

void timer_insert(event_base *base, event *ev, int common_idx) noexcept {
    if (common_idx < 0) {
        heap_timer_insert(base, ev, deadline_of(ev));  // add_nolock reserved room
        return;
    }
    count_added(base, to_callback(ev));
    ev->ev_evcallback.evcb_flags |= EVLIST_TIMEOUT;
    CommonTimeout *ct = base->common_[common_idx];
    timer_tag(ev) = -(common_idx + 1);
    if (common_link(ct, ev)) common_schedule(base, ct);
}

void timer_remove(event_base *base, event *ev) noexcept {
    const long tag = timer_tag(ev);
    if (tag >= 0) {
        heap_timer_remove(base, ev);
        return;
    }
    uncount_added(base, to_callback(ev));
    ev->ev_evcallback.evcb_flags &= ~EVLIST_TIMEOUT;
    CommonTimeout *ct = base->common_[-tag - 1];
    common_unlink(ct, ev);
    ev->ev_timeout_pos.min_heap_idx = -1;
    ev->ev_timeout_pos.ev_next_with_common_timeout.tqe_prev = nullptr;
    timer_tag(ev) = 0;
    // When the head leaves, the queue's heap timer is left at the old head's (earlier)
    // deadline: it fires early, expires nothing and re-arms for the new head (as
    // libevent's). A re-add of the head (an idle timeout restarted on activity) then
    // costs no heap work. An empty queue leaves the heap at once.
    if (!ct->first) common_schedule(base, ct);
}

void timer_schedule(event_base *base, event *ev, int common_idx, int64_t deadline) noexcept {
    if (ev->ev_evcallback.evcb_flags & EVLIST_TIMEOUT) {
        if (common_idx < 0 && timer_tag(ev) >= 0) {
            heap_timer_move(base, ev, deadline);
            return;
        }
        timer_remove(base, ev);
    }
    deadline_of(ev) = deadline;
    timer_insert(base, ev, common_idx);
}

int64_t next_timeout_slow(event_base *base) noexcept {
    event *top = base->heap_.top();
    if (!base->cached_ns_) {
        // A far deadline needs no precise clock: waking up a few ms early only costs one
        // more (precise) round.
        const int64_t ub = coarse_upper_ns();
        if (ub >= 0 && deadline_of(top) - ub >= coarse_clock().min_rel) return deadline_of(top) - ub;
    }
    int64_t now = now_ns(base);
    int64_t d = deadline_of(top) - now;
    return d > 0 ? d : 0;
}

namespace {

// Mass expiry: a loop that slept through many deadlines, or thousands of idle timeouts due
// together. Popping costs a sift of about six dependent cache misses per timer; taking every
// due timer out in one pass over the heap array (independent loads), sorting them and
// rebuilding the rest costs a fraction of that. Probed only after this many pops, so the
// usual pass (a few timers due) never pays for it.
constexpr unsigned kBulkProbeAfter = 64;
constexpr size_t kBulkMinHeap = 1024;

// Whether a quarter or more of the heap looks due, from 16 slots spread over the array
// (most slots are leaves, so this samples the whole range of deadlines).
bool mostly_due(const event_base *base, int64_t now) noexcept {
    const size_t n = base->heap_.size();
    if (n < kBulkMinHeap) return false;
    unsigned due = 0;
    for (size_t k = 0; k < 16; ++k) due += deadline_of(base->heap_.at((2 * k + 1) * n / 32)) <= now;
    return due >= 4;
}

struct Due {
    int64_t deadline;
    long seq;
    event *ev;
};

// expire() for a timer the sweep took out (its heap index still stale). The common case, a
// timer pending only as a timeout (not active, not finalizing, no fd or signal registered,
// not internal, no debug mode), is what del_nolock + activate_nolock would do to it, inline:
// n_added_ stays (the timeout's membership becomes the active queue's), and neither the
// flags' lines nor the base's are read more than once.
inline void expire_swept(event_base *base, event *ev) noexcept {
    ev->ev_timeout_pos.min_heap_idx = -1;
    event_callback *cb = &ev->ev_evcallback;
    if (cb->evcb_flags == (EVLIST_INIT | EVLIST_TIMEOUT) && !(ev->ev_events & EV_SIGNAL) &&
        !debug::g_on) [[likely]] {
        ev->ev_res = EV_TIMEOUT;
        cb->evcb_flags = EVLIST_INIT | EVLIST_ACTIVE;
        if (cb->evcb_pri < base->running_priority_) base->continue_ = true;
        if (++base->n_active_ > base->max_active_) base->max_active_ = base->n_active_;
        const int pri = cb->evcb_pri < base->nactiveq_ ? cb->evcb_pri : base->nactiveq_ - 1;
        base->activeq_[pri].push_back(cb);
        notify_if_needed(base);
        return;
    }
    expire(ev);
}

// How many timers ahead the expiry pass prefetches: its loads are scattered over the whole
// set of events, and one expiry is too short for the out-of-order window to reach the next
// ones' misses by itself.
constexpr size_t kExpireAhead = 8;

bool due_before(const Due &a, const Due &b) noexcept {
    return a.deadline != b.deadline ? a.deadline < b.deadline : a.seq < b.seq;
}

// The bucket of the swept timers a due deadline falls into: buckets of 2^shift ns from lo.
struct Buckets {
    int64_t lo;
    unsigned shift;
    size_t n;
    uint32_t *count;  // n + 1 slots
    size_t of(int64_t deadline) const noexcept {
        return static_cast<size_t>((static_cast<uint64_t>(deadline) - static_cast<uint64_t>(lo)) >> shift);
    }
};

// Sorts the k due timers of `in` by (deadline, sequence) into `out`: a bucket sort, whose
// count of timers per bucket the sweep made. A scatter, then each bucket on its own (a timer
// or two: by insertion; a crowded one, many equal deadlines, by std::sort). Linear where
// std::sort on the whole took ~100 instructions per timer, more on some inputs.
void sort_due(const Due *in, Due *out, size_t k, const Buckets &bk) noexcept {
    uint32_t *const count = bk.count;
    uint32_t start = 0;  // count[b] becomes the start of bucket b, then (after the scatter) its end
    for (size_t b = 0; b < bk.n; ++b) {
        const uint32_t c = count[b];
        count[b] = start;
        start += c;
    }
    for (size_t i = 0; i < k; ++i) out[count[bk.of(in[i].deadline)]++] = in[i];
    uint32_t begin = 0;
    for (size_t b = 0; b < bk.n; ++b) {
        const uint32_t end = count[b];
        if (end - begin > 16) {
            std::sort(out + begin, out + end, due_before);
        } else {
            for (uint32_t i = begin + 1; i < end; ++i) {
                const Due x = out[i];
                uint32_t j = i;
                for (; j > begin && due_before(x, out[j - 1]); --j) out[j] = out[j - 1];
                out[j] = x;
            }
        }
        begin = end;
    }
}

// Expires every heap timer due at `now` in heap order, (deadline, sequence). false, with
// nothing done, when the scratch array cannot be had (the caller pops instead).
bool expire_bulk(event_base *base, int64_t now) noexcept {
    const size_t n = base->heap_.size();
    // Every deadline in the heap is at least the top's, so the due ones lie in [lo, now]:
    // about one bucket per due timer or two (a quarter or more of the heap is due), each
    // spanning a power of two of nanoseconds.
    Buckets bk{deadline_of(base->heap_.top()), 0, 1, nullptr};
    while (bk.n * 2 <= n) bk.n *= 2;
    while (bk.of(now) >= bk.n) ++bk.shift;
    // The swept timers (24 bytes per heap timer) and the buckets (up to 2 bytes per timer).
    auto *due = static_cast<Due *>(mm::malloc(n * sizeof(Due) + (bk.n + 1) * sizeof(uint32_t)));
    if (!due) return false;
    bk.count = reinterpret_cast<uint32_t *>(due + n);
    std::fill(bk.count, bk.count + bk.n + 1, 0u);
    size_t k = 0;
    // The sweep reads each event's deadline and sequence (one line: ev_timeout) and writes
    // nothing there; the stale index is reset by expire_swept.
    base->heap_.extract_if_unmarked([now](event *e) { return deadline_of(e) <= now; },
                                    [&](event *e) {
                                        const int64_t d = deadline_of(e);
                                        due[k++] = Due{d, timer_tag(e), e};
                                        ++bk.count[bk.of(d)];
                                    });
    // The sorted copy (24 bytes per due timer); without it, std::sort in place.
    Due *sorted = static_cast<Due *>(mm::malloc(k * sizeof(Due)));
    if (sorted)
        sort_due(due, sorted, k, bk);
    else
        std::sort(due, due + k, due_before);
    const Due *const run = sorted ? sorted : due;
    // Out of the heap already: expire's delete finds nothing there to sift.
    for (size_t i = 0; i < k; ++i) {
        if (i + kExpireAhead < k) prefetch_activation_lines(run[i + kExpireAhead].ev);
        expire_swept(base, run[i].ev);
    }
    mm::free(sorted);
    mm::free(due);
    return true;
}

}  // namespace

void process_timeouts_slow(event_base *base) noexcept {
    event *top = base->heap_.top();
    if (!base->cached_ns_) {
        // Nothing can be due before the coarse upper bound of now: skip the precise clock.
        const int64_t ub = coarse_upper_ns();
        if (ub >= 0 && deadline_of(top) > ub) {
            // Long timeouts added in this iteration's callbacks start from it.
            if (base->time_lazy_) base->coarse_ub_ = ub;
            return;
        }
    }
    const int64_t now = now_ns(base);
    unsigned popped = 0;
    while (event *ev = base->heap_.top()) {
        if (deadline_of(ev) > now) break;
        if (++popped == kBulkProbeAfter && mostly_due(base, now) && expire_bulk(base, now)) return;
        expire(ev);
    }
}

}  // namespace reevent::core
