// struct event_base: the C++ object behind the opaque C handle, and the core's internal API.
//
// One base owns: the backend (epoll/poll/select), the fd map, the signal map, the timer heap
// and common-timeout queues, the active queues (one per priority, plus the "later" queue for
// deferred callbacks), the notification fd that wakes the loop from other threads, and the
// loop state. All per-event state lives in the caller's struct event (event_struct.h): the
// base keeps no side table of events, so a program may free an event's memory after
// event_del without telling us.
//
// Locking: every entry point takes lock_ (a recursive mutex, absent with
// EVENT_BASE_FLAG_NOLOCK); the loop drops it while waiting in the kernel and while a user
// callback runs. See docs/parts/design-core.md for the full lock plan.
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>

#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "backends/backend.h"
#include "core/io_map.h"
#include "core/lock.h"
#include "core/mm.h"
#include "core/dary_heap.h"
#include "core/signal_hub.h"

namespace reevent::core {

// evcb_closure values: how the loop runs a callback (libevent's numbering).
enum Closure : uint8_t {
    kClosureEvent = 0,
    kClosureSignal = 1,
    kClosurePersist = 2,
    kClosureCbSelf = 3,
    kClosureCbFinalize = 4,
    kClosureEventFinalize = 5,
    kClosureEventFinalizeFree = 6,
};

// Common timeouts: the duration timeval handed to the user carries this in tv_usec.
inline constexpr long kCommonMask = 0xf0000000;
inline constexpr long kCommonMagic = 0x50000000;
inline constexpr long kCommonIdxMask = 0x0ff00000;
inline constexpr int kCommonIdxShift = 20;
inline constexpr long kUsecMask = 0x000fffff;
inline constexpr int kMaxCommonTimeouts = 256;

// The deadline of a timed event lives in ev_timeout: tv_sec holds monotonic nanoseconds,
// tv_usec a FIFO sequence number for the heap (>= 0), or -(queue index + 1) when the event
// sits in a common-timeout queue instead of the heap.
inline int64_t &deadline_of(event *ev) noexcept {
    return reinterpret_cast<int64_t &>(ev->ev_timeout.tv_sec);
}
inline int64_t deadline_of(const event *ev) noexcept {
    return static_cast<int64_t>(ev->ev_timeout.tv_sec);
}
inline long &timer_tag(event *ev) noexcept { return ev->ev_timeout.tv_usec; }

struct TimerHooks {
    static bool less(const event *a, const event *b) noexcept {
        if (a->ev_timeout.tv_sec != b->ev_timeout.tv_sec)
            return a->ev_timeout.tv_sec < b->ev_timeout.tv_sec;
        return a->ev_timeout.tv_usec < b->ev_timeout.tv_usec;
    }
    static int &index(event *e) noexcept { return e->ev_timeout_pos.min_heap_idx; }
    static const void *key_line(const event *e) noexcept { return &e->ev_timeout; }
};
using TimerHeap = DaryHeap<event, TimerHooks>;

// An intrusive FIFO of callbacks linked through evcb_active_next (TAILQ layout).
struct CallbackQueue {
    event_callback *first = nullptr;
    event_callback **last = &first;

    bool empty() const noexcept { return first == nullptr; }
    void init() noexcept {
        first = nullptr;
        last = &first;
    }
    void push_back(event_callback *cb) noexcept {
        cb->evcb_active_next.tqe_next = nullptr;
        cb->evcb_active_next.tqe_prev = last;
        *last = cb;
        last = &cb->evcb_active_next.tqe_next;
    }
    void remove(event_callback *cb) noexcept {
        event_callback *next = cb->evcb_active_next.tqe_next;
        if (next)
            next->evcb_active_next.tqe_prev = cb->evcb_active_next.tqe_prev;
        else
            last = cb->evcb_active_next.tqe_prev;
        *cb->evcb_active_next.tqe_prev = next;
    }
};

// A FIFO of events linked through ev_timeout_pos.ev_next_with_common_timeout.
struct CommonTimeout {
    int64_t duration_ns;
    timeval duration;  // as the user gave it, with the magic bits in tv_usec
    event *first;
    event **last;
    event timer;       // internal event in the heap, due when `first` is due
    event_base *base;
};

// An event_base_once allocation (freed after its callback, or by event_base_free).
struct OnceEvent {
    event ev;
    event_callback_fn cb;
    void *arg;
    OnceEvent *next;
    OnceEvent **prev;
};

// Per-signal list of events (linked through ev_.ev_signal.ev_signal_next).
struct SignalSlot {
    event *head;
    int count;
};

}  // namespace reevent::core

// The configuration object of event_config_new.
struct event_config {
    static constexpr int kMaxAvoid = 8;
    char *avoid[kMaxAvoid];
    int n_avoid;
    int require_features;
    int flags;
    int n_cpus_hint;
    timeval max_dispatch_interval;  // tv_sec -1: unlimited
    int max_dispatch_callbacks;
    int limit_callbacks_after_prio;
};

struct event_base {
    event_base() noexcept = default;
    event_base(const event_base &) = delete;
    event_base &operator=(const event_base &) = delete;

    // ---- configuration
    int flags_ = 0;
    const reevent::backends::Ops *ops_ = nullptr;
    const char *method_name_ = nullptr;  // what event_base_get_method reports
    void *bstate_ = nullptr;
    bool immediate_ = false;  // epoll without the changelist: changes at once, but removals at the flush
    reevent::core::Lock lock_obj_{reevent::core::Lock::kBiased};  // biased to the creating thread
    reevent::core::Lock *lock_ = nullptr;  // &lock_obj_ unless EVENT_BASE_FLAG_NOLOCK
    reevent::core::Cond current_cond_;  // signalled when current_ stops running

    // ---- queues
    reevent::core::CallbackQueue *activeq_ = nullptr;
    int nactiveq_ = 0;
    reevent::core::CallbackQueue later_;
    int n_active_ = 0;       // callbacks on activeq_ and later_ (incl. internal)
    int n_added_ = 0;        // queue memberships of non-internal events (libevent's count)
    int n_virtual_ = 0;
    int max_active_ = 0, max_added_ = 0, max_virtual_ = 0;
    uint64_t timer_seq_ = 0;
    reevent::core::TimerHeap heap_;
    reevent::core::CommonTimeout **common_ = nullptr;
    int n_common_ = 0;
    reevent::core::IoMap io_;
    reevent::core::SignalSlot *sigs_ = nullptr;  // NSIG entries, allocated on first use
    reevent::core::OnceEvent *once_ = nullptr;

    // ---- loop state
    bool running_ = false;
    bool collecting_ = false;  // the loop thread is collecting readiness/timeouts (no wake-up needed)
    bool gotterm_ = false;
    bool break_ = false;
    bool continue_ = false;
    int running_priority_ = -1;
    int n_deferreds_queued_ = 0;
    event_callback *current_ = nullptr;
    int current_waiters_ = 0;
    unsigned long loop_tid_ = 0;  // reevent::core::thread_id() of the thread running the loop
    int64_t cached_ns_ = 0;  // 0: no cached time
    // An upper bound of the monotonic time from the coarse clock, taken in this iteration
    // (0: none yet). Only long timeouts added in the loop use it, as "now" (never early).
    int64_t coarse_ub_ = 0;
    bool time_lazy_ = false;  // the loop allows caching: the first now_ns() fills cached_ns_
    bool cache_time_ = true;  // !EVENT_BASE_FLAG_NO_CACHE_TIME (what time_lazy_ is in the loop)
    int64_t wall_off_ = 0;     // wall minus monotonic clock, measured for...
    int64_t wall_off_at_ = 0;  // ...this cached_ns_ (so the cached wall time is stable)
    int64_t max_dispatch_ns_ = -1;
    int max_callbacks_ = 0x7fffffff;
    int limit_after_prio_ = 0x7fffffff;

    // ---- notification (wakes the loop from other threads)
    int notify_fd_ = -1;
    bool notify_pending_ = false;
    event notify_ev_{};

    // ---- signals
    reevent::core::SignalPort sigport_;
    event sig_ev_{};
    bool sig_ev_added_ = false;
};

namespace reevent::core {

// ---- base lifetime and configuration (base.cpp)
event_base *base_new(const event_config *cfg) noexcept;
void base_free(event_base *base, bool run_finalizers) noexcept;
int base_reinit(event_base *base) noexcept;
int base_priority_init(event_base *base, int n) noexcept;
// Makes sure the base can be woken from other threads (creates the notification fd if the
// base has none, e.g. with EVENT_BASE_FLAG_NOLOCK). 0 or -1.
int make_notifiable(event_base *base) noexcept;
const char **supported_methods() noexcept;
event_base *current_base() noexcept;          // the base of event_init (may be null)
// base itself, or else the current base (nullptr when there is none): what a NULL base means
// wherever libevent accepts one (event_assign, listeners, deferred evbuffer callbacks ...).
// libevent_extra, which cannot call into core, has src/core/current_base.h.
event_base *base_or_current(event_base *base) noexcept;
void set_current_base(event_base *base) noexcept;

// ---- event_config (config.cpp)
event_config *config_new() noexcept;
void config_free(event_config *cfg) noexcept;
int config_avoid_method(event_config *cfg, const char *method) noexcept;
int config_set_max_dispatch_interval(event_config *cfg, const timeval *max_interval,
                                     int max_callbacks, int min_priority) noexcept;

// ---- events (event_ops.cpp); all take the base lock themselves
int assign(event *ev, event_base *base, int fd, short events, event_callback_fn cb,
           void *arg) noexcept;
int add(event *ev, const timeval *tv) noexcept;
// kFree: kAuto for an event about to be freed, whose fd is usually closed next: its removal
// from the kernel is made at once, never left for the flush (see apply_slot).
enum class DelMode { kAuto, kBlock, kNoBlock, kEvenIfFinalizing, kFree };
int del(event *ev, DelMode mode) noexcept;
int remove_timer(event *ev) noexcept;
void activate(event *ev, int res, short ncalls) noexcept;
int pending(const event *ev, short what, timeval *tv) noexcept;
int finalize(unsigned flags, event *ev, event_finalize_callback_fn cb, bool free_it) noexcept;
int once(event_base *base, int fd, short events, event_callback_fn cb, void *arg,
         const timeval *tv) noexcept;
int priority_set(event *ev, int pri) noexcept;
int base_set(event_base *base, event *ev) noexcept;
void *self_cbarg_marker() noexcept;  // what event_self_cbarg() returns

// ---- the same, for callers that already hold the base lock
int add_nolock(event *ev, const timeval *tv, bool tv_is_absolute) noexcept;
int del_nolock(event *ev, DelMode mode) noexcept;
void activate_nolock(event *ev, int res, short ncalls) noexcept;
void callback_activate_nolock(event_base *base, event_callback *cb) noexcept;
bool callback_activate_later_nolock(event_base *base, event_callback *cb) noexcept;
bool callback_cancel_nolock(event_base *base, event_callback *cb, bool even_if_finalizing) noexcept;

// ---- loop (loop.cpp)
int loop(event_base *base, int flags) noexcept;
int loopexit(event_base *base, const timeval *tv) noexcept;
int loopbreak(event_base *base) noexcept;
int loopcontinue(event_base *base) noexcept;
// Called by a backend's wait() for every ready fd (what: EV_READ|EV_WRITE|EV_CLOSED bits).
void base_io_ready(event_base *base, int fd, unsigned what) noexcept;
// The same for a slot the backend already looked up.
void slot_io_ready(FdSlot *slot, unsigned what) noexcept;
// Wakes the loop if it sleeps in another thread (call with the lock held). The inline part
// filters the common cases (loop not running, or the loop itself collecting readiness).
void notify_slow(event_base *base) noexcept;
// A unique non-zero id of the calling thread (as Lock's): the thread pointer where the
// compiler exposes it (one instruction), else pthread_self().
inline unsigned long thread_id() noexcept {
#if (defined(__x86_64__) || defined(__aarch64__)) && (defined(__clang__) || __GNUC__ >= 11)
    return reinterpret_cast<unsigned long>(__builtin_thread_pointer());
#else
    return static_cast<unsigned long>(pthread_self());
#endif
}
inline void notify_if_needed(event_base *base) noexcept {
    // A locked base without a wake-up fd yet opens it on its first wake-up (see base_new).
    // The loop's own thread (a callback) never needs one.
    if (base->running_ && !base->collecting_ && (base->notify_fd_ >= 0 || base->lock_) &&
        !base->notify_pending_ && base->loop_tid_ != thread_id())
        notify_slow(base);
}
inline bool in_loop_thread(const event_base *base) noexcept {
    return base->running_ && base->loop_tid_ == thread_id();
}

// ---- time (timers.cpp)
int64_t now_ns(event_base *base) noexcept;      // cached monotonic time, or the clock
int64_t clock_ns() noexcept;                     // the monotonic clock itself
// "now" for a deadline `rel` ns away: the cached time, the precise clock, or (long
// timeouts without EVENT_BASE_FLAG_PRECISE_TIMER, unless the loop cached the precise time
// first) an upper bound of it from the coarse clock.
int64_t timeout_now_slow(event_base *base, int64_t rel) noexcept;
// In the loop, every long timeout of one iteration counts from the same value (the coarse
// bound read after the wait, or the precise cached time if that came first), so equal
// durations keep their FIFO order.
inline int64_t timeout_now_ns(event_base *base, int64_t rel) noexcept {
    return base->cached_ns_ && !base->coarse_ub_ ? base->cached_ns_ : timeout_now_slow(base, rel);
}
// A new loop iteration: the time may be cached (unless EVENT_BASE_FLAG_NO_CACHE_TIME); the
// first reader fills the cache.
inline void update_time_cache(event_base *base) noexcept {
    base->cached_ns_ = 0;
    base->coarse_ub_ = 0;
    base->time_lazy_ = base->cache_time_;
}
// No caching (outside the loop, and while the loop waits).
inline void clear_time_cache(event_base *base) noexcept {
    base->cached_ns_ = 0;
    base->coarse_ub_ = 0;
    base->time_lazy_ = false;
}
int64_t wall_minus_mono_ns() noexcept;
const timeval *init_common_timeout(event_base *base, const timeval *duration) noexcept;
int common_index_slow(const event_base *base, const timeval *tv) noexcept;
// The common-timeout queue a duration names, or -1 (the inline part rejects plain timevals).
inline int common_index(const event_base *base, const timeval *tv) noexcept {
    if ((tv->tv_usec & kCommonMask) != kCommonMagic) return -1;
    return common_index_slow(base, tv);
}
void timer_insert(event_base *base, event *ev, int common_idx) noexcept;
void timer_remove(event_base *base, event *ev) noexcept;
// Sets (or moves) the timeout of ev to `deadline`; a heap timer that stays in the heap is
// moved in place (one sift) instead of removed and inserted again.
void timer_schedule(event_base *base, event *ev, int common_idx, int64_t deadline) noexcept;
int64_t next_timeout_slow(event_base *base) noexcept;
inline int64_t next_timeout_ns(event_base *base) noexcept {  // -1 when no timer is pending
    return base->heap_.empty() ? -1 : next_timeout_slow(base);
}
void process_timeouts_slow(event_base *base) noexcept;
inline void process_timeouts(event_base *base) noexcept {
    if (!base->heap_.empty()) process_timeouts_slow(base);
}

// ---- queue bookkeeping (event_ops.cpp)
inline void count_added(event_base *base, const event_callback *cb) noexcept {
    if (cb->evcb_flags & EVLIST_INTERNAL) return;
    if (++base->n_added_ > base->max_added_) base->max_added_ = base->n_added_;
}
inline void uncount_added(event_base *base, const event_callback *cb) noexcept {
    if (cb->evcb_flags & EVLIST_INTERNAL) return;
    --base->n_added_;
}
inline void insert_active(event_base *base, event_callback *cb) noexcept {
    count_added(base, cb);
    cb->evcb_flags |= EVLIST_ACTIVE;
    if (++base->n_active_ > base->max_active_) base->max_active_ = base->n_active_;
    int pri = cb->evcb_pri < base->nactiveq_ ? cb->evcb_pri : base->nactiveq_ - 1;
    base->activeq_[pri].push_back(cb);
}
inline void remove_active(event_base *base, event_callback *cb) noexcept {
    uncount_added(base, cb);
    cb->evcb_flags &= ~EVLIST_ACTIVE;
    --base->n_active_;
    int pri = cb->evcb_pri < base->nactiveq_ ? cb->evcb_pri : base->nactiveq_ - 1;
    base->activeq_[pri].remove(cb);
}
// slot_io_ready for the loop's own collection step (the backend's report(): collecting_ is
// set, so no wake-up is needed, and no priority is running; the loop calls note_maxima()
// after it). A user event that is not active yet goes straight onto its queue; anything
// else (internal events too: the wake-up fd) takes the general path.
inline void io_ready_collecting(event_base *base, FdSlot *s, unsigned what) noexcept {
    for (event *ev = s->head; ev;) {
        event *const next = ev->ev_.ev_io.ev_io_next.le_next;
        const unsigned hit = static_cast<unsigned>(ev->ev_events) & what;
        // EV_ET in `what` only marks the report (see slot_io_ready).
        if (hit & ~unsigned(EV_ET)) {
            event_callback *cb = &ev->ev_evcallback;
            const short flags = cb->evcb_flags;
            if (!(flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER | EVLIST_FINALIZING | EVLIST_INTERNAL))) {
                ev->ev_res = static_cast<short>(hit);
                // insert_active without the maxima: the counts only grow while the loop
                // collects, and it updates max_added_/max_active_ once afterwards.
                ++base->n_added_;
                cb->evcb_flags = static_cast<short>(flags | EVLIST_ACTIVE);
                ++base->n_active_;
                const int pri = cb->evcb_pri < base->nactiveq_ ? cb->evcb_pri : base->nactiveq_ - 1;
                base->activeq_[pri].push_back(cb);
            } else {
                activate_nolock(ev, static_cast<short>(hit), 1);
            }
        }
        ev = next;
    }
}
// The loop's collection step only adds to the counts (a move from the "later" queue takes
// one off and puts it back): their maxima are the final values.
inline void note_maxima(event_base *base) noexcept {
    if (base->n_added_ > base->max_added_) base->max_added_ = base->n_added_;
    if (base->n_active_ > base->max_active_) base->max_active_ = base->n_active_;
}
// Takes cb, the first callback of q (its priority's queue), off the active queue.
inline void pop_active(event_base *base, CallbackQueue &q, event_callback *cb) noexcept {
    uncount_added(base, cb);
    cb->evcb_flags &= ~EVLIST_ACTIVE;
    --base->n_active_;
    event_callback *next = cb->evcb_active_next.tqe_next;
    q.first = next;
    if (next)
        next->evcb_active_next.tqe_prev = &q.first;
    else
        q.last = &q.first;
}
void insert_active_later(event_base *base, event_callback *cb) noexcept;
void remove_active_later(event_base *base, event_callback *cb) noexcept;
// Relative timeval -> nanoseconds, saturating (an enormous timeout never expires).
int64_t tv_to_ns_slow(const timeval &tv) noexcept;
inline int64_t tv_to_ns(const timeval &tv) noexcept {
    // The usual timeval (0 <= tv_usec < 1 s, a sane tv_sec) needs no care.
    if (static_cast<uint64_t>(tv.tv_sec) < 1000000000 &&
        static_cast<unsigned long>(tv.tv_usec) < 1000000)
        return static_cast<int64_t>(tv.tv_sec) * 1000000000 + static_cast<int64_t>(tv.tv_usec) * 1000;
    return tv_to_ns_slow(tv);
}

// ---- signals (event_ops.cpp; no-ops without the signal hub)
int sigmap_add(event_base *base, event *ev) noexcept;
void sigmap_del(event_base *base, event *ev) noexcept;
void activate_by_signal(event_base *base, int sig, int count) noexcept;

// ---- inspection (inspect.cpp)
int num_events(event_base *base, unsigned what) noexcept;
int max_events(event_base *base, unsigned what, bool clear) noexcept;
int foreach_event(event_base *base, event_base_foreach_event_cb fn, void *arg) noexcept;
void dump_events(event_base *base, FILE *out) noexcept;
void active_by_fd(event_base *base, int fd, short events) noexcept;
void active_by_signal(event_base *base, int sig) noexcept;

// ---- debug mode (debug_mode.cpp)
namespace debug {
extern bool g_on;
// An event or a base exists: enabling debug mode now is an error. Written by any thread.
extern std::atomic<bool> g_too_late;
void enable() noexcept;
void note_setup(const event *ev) noexcept;
void note_teardown(const event *ev) noexcept;
void note_add(const event *ev) noexcept;
void note_del(const event *ev) noexcept;
void assert_is_setup(const event *ev, const char *fn) noexcept;
void assert_not_added(const event *ev, const char *fn) noexcept;
// An I/O event's fd must be non-blocking (a blocking read in a callback stalls the loop).
void assert_socket_nonblocking(int fd) noexcept;
void unassign(event *ev) noexcept;
void shutdown() noexcept;
}  // namespace debug

// Lock helpers for other areas (bufferevent, evbuffer): the base lock, or nullptr.
inline Lock *base_lock(event_base *base) noexcept { return base ? base->lock_ : nullptr; }

// The lines of an event that activating it and running its callback touch: the active link
// (+0), flags, priority, closure, callback and argument (+16..+39), the heap index (+40),
// ev_fd (+56), ev_events and ev_res (+104). An event (128 bytes, 16-aligned by malloc) spans
// two or three lines; these three addresses name every line of it that holds one of those
// fields, whatever its alignment. Prefetched for writing (flags, links and ev_res change).
inline void prefetch_activation_lines(const void *ev) noexcept {
    const char *p = static_cast<const char *>(ev);
    __builtin_prefetch(p, 1);
    __builtin_prefetch(p + 40, 1);
    __builtin_prefetch(p + 104, 1);
}

inline event *to_event(event_callback *cb) noexcept { return reinterpret_cast<event *>(cb); }
inline event_callback *to_callback(event *ev) noexcept { return &ev->ev_evcallback; }

}  // namespace reevent::core
