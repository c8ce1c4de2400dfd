// The event loop: wait for the kernel, turn readiness and expired timers into active
// callbacks, run the callbacks of the most important non-empty priority, repeat.
//
// One iteration:
//   1. stop if loopexit/loopbreak was requested, or (unless EVLOOP_NO_EXIT_ON_EMPTY) if no
//      event is pending or active;
//   2. move deferred ("later") callbacks onto their active queues;
//   3. hand the iteration's coalesced fd changes to the backend (queued mode);
//   4. wait (unlocked) until an fd is ready or the first timer is due (0 if something is
//      already active or with EVLOOP_NONBLOCK);
//   5. cache the time, collect ready fds and expired timers;
//   6. run the callbacks of the first non-empty priority queue (each with no lock held),
//      within the max-dispatch limits; EVLOOP_ONCE stops after a round that ran callbacks.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "backends/epoll_report.h"
#include "core/base.h"
#include "core/log.h"

namespace reevent::core {

namespace {

// The loop's hold on the base lock. It is compiled twice, for a base with a lock (kLocked)
// and for a NOLOCK base, so the hot path tests nothing on the latter. With a lock, the loop
// notes at entry whether its thread holds the lock biased exactly once (the usual case: the
// thread that made the base, no other thread ever took it); then dropping the lock around
// the wait and around each callback is one store and taking it back a store, a load and a
// test, with no owner or depth checks. If the bias is revoked meanwhile, the loop falls
// back to the general unlock/lock for the rest of the call.
template <bool kLocked>
struct LoopLock {
    void release() noexcept {}
    void reacquire() noexcept {}
};
template <>
struct LoopLock<true> {
    Lock *const lock;
    bool biased;
    void release() noexcept {
        if (biased) [[likely]]
            lock->release_biased();
        else
            lock->unlock();
    }
    void reacquire() noexcept {
        if (biased) [[likely]] {
            if (lock->reacquire_biased()) [[likely]]
                return;
            biased = false;
        }
        lock->lock();
    }
};
template <bool kLocked>
inline void unlock(LoopLock<kLocked> &lock) noexcept {
    lock.release();
}
template <bool kLocked>
inline void relock(LoopLock<kLocked> &lock) noexcept {
    lock.reacquire();
}

void make_later_events_active(event_base *base) noexcept {
    while (event_callback *cb = base->later_.first) {
        base->later_.remove(cb);
        cb->evcb_flags = static_cast<short>((cb->evcb_flags & ~EVLIST_ACTIVE_LATER) | EVLIST_ACTIVE);
        int pri = cb->evcb_pri < base->nactiveq_ ? cb->evcb_pri : base->nactiveq_ - 1;
        base->activeq_[pri].push_back(cb);
    }
}

[[gnu::noinline]] void flush_dirty(event_base *base) noexcept {
    auto &dirty = base->io_.dirty();
    for (int fd : dirty) {
        FdSlot &s = base->io_[static_cast<size_t>(fd)];
        s.dirty = 0;
        unsigned want = wanted_mask(s);
        // dropped && want == kmask: removed and re-added since the last flush; MOD once in
        // case the fd was closed and its number reused meanwhile (ENOENT -> ADD).
        if (want != s.kmask || (s.dropped && want)) {
            if (base->ops_->apply(base->bstate_, fd, s, s.kmask, want) == 0)
                s.kmask = static_cast<uint8_t>(want);
        }
        s.dropped = 0;
    }
    dirty.clear();
}
// Most iterations have nothing to flush: only that test is inline.
inline void flush_changes(event_base *base) noexcept {
    if (!base->io_.dirty().empty()) [[unlikely]]
        flush_dirty(base);
}

// EV_PERSIST with a timeout: the timeout restarts whenever the callback runs. After a
// timeout it counts from the old deadline (no drift), otherwise from now.
void persist_rearm(event_base *base, event *ev) noexcept {
    const timeval &rel = ev->ev_.ev_io.ev_timeout;
    if (rel.tv_sec == 0 && rel.tv_usec == 0) return;
    int common = common_index(base, &rel);
    int64_t delay = common >= 0 ? base->common_[common]->duration_ns : tv_to_ns(rel);
    int64_t run_at;
    if (ev->ev_res & EV_TIMEOUT) {
        const int64_t now = now_ns(base);
        run_at = deadline_of(ev) + delay;
        if (run_at < now) run_at = now + delay;
    } else {
        run_at = timeout_now_ns(base, delay) + delay;  // as event_add would
    }
    timeval abs;
    abs.tv_sec = static_cast<time_t>(run_at);
    abs.tv_usec = common;
    add_nolock(ev, &abs, true);
}

// Signals: the callback runs once per delivery; event_del from the callback (through
// ev_pncalls) or loopbreak stops the remaining calls. Entered and left with the lock held.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
// ev_pncalls points at our local only while this function runs; every exit path resets it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
template <bool kLocked>
void run_signal_closure(event_base *base, LoopLock<kLocked> &lock, event *ev) noexcept {
    short ncalls = ev->ev_.ev_signal.ev_ncalls;
    if (ncalls) ev->ev_.ev_signal.ev_pncalls = &ncalls;
    const event_callback_fn fn = ev->ev_evcallback.evcb_cb_union.evcb_callback;
    const int fd = ev->ev_fd;
    const short res = ev->ev_res;
    void *const arg = ev->ev_evcallback.evcb_arg;
    while (ncalls) {
        ncalls--;
        ev->ev_.ev_signal.ev_ncalls = ncalls;
        if (ncalls == 0) ev->ev_.ev_signal.ev_pncalls = nullptr;
        unlock<kLocked>(lock);
        fn(fd, res, arg);
        relock<kLocked>(lock);
        // event_del inside the callback zeroes ncalls through ev_pncalls, and then the event
        // may be gone: do not touch it again.
        if (base->break_) {
            if (ncalls) ev->ev_.ev_signal.ev_pncalls = nullptr;
            return;
        }
    }
}
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif

// pop_active for the fast paths of run_queue: cb (the first of q) is not internal and
// `flags` are its flags. current_waiters_ needs no reset before the callback: the end of
// every callback (ran:) resets it, and nobody waits while current_ is null.
[[gnu::always_inline]] inline void pop_user_active(event_base *base, CallbackQueue &q,
                                                   event_callback *cb, short flags) noexcept {
    --base->n_added_;
    cb->evcb_flags = static_cast<short>(flags & ~EVLIST_ACTIVE);
    --base->n_active_;
    event_callback *const next = cb->evcb_active_next.tqe_next;
    q.first = next;
    if (next)
        next->evcb_active_next.tqe_prev = &q.first;
    else
        q.last = &q.first;
}

// A plain event's callback, called with the lock released. The event may be freed by the
// callback, so its fields are read before the call and never after.
template <bool kLocked>
[[gnu::always_inline]] inline void call_event(LoopLock<kLocked> &lock, event *ev, event_callback *cb) noexcept {
    const event_callback_fn fn = cb->evcb_cb_union.evcb_callback;
    const int fd = ev->ev_fd;
    const short res = ev->ev_res;
    void *const arg = cb->evcb_arg;
    unlock<kLocked>(lock);
    fn(fd, res, arg);
    relock<kLocked>(lock);
}

// Runs the callbacks queued on q; returns how many non-internal ones ran, or -1 when
// loopbreak was called. Entered and left with the lock held. kLimited: max_to_run and
// endtime apply (the max-dispatch limits of event_config_set_max_dispatch_interval).
template <bool kLocked, bool kLimited>
[[gnu::always_inline]] inline int run_queue(event_base *base, LoopLock<kLocked> &lock, CallbackQueue &q,
                                            int max_to_run, int64_t endtime) noexcept {
    int count = 0;
    for (event_callback *cb = q.first; cb; cb = q.first) {
        event *ev = to_event(cb);
        const short flags = cb->evcb_flags;
        // The common cases first: a persistent event that stays pending, or a one-shot
        // event that is only active (an expired timer, event_active) and which del_nolock
        // would merely take off the queue. Neither is internal, so n_added_ counts it.
        const uint8_t closure = cb->evcb_closure;
        if ((flags & (EVLIST_INIT | EVLIST_FINALIZING | EVLIST_INTERNAL)) == EVLIST_INIT) {
            if (closure == kClosurePersist) {
                if (ev->ev_events & EV_PERSIST) {
                    pop_user_active(base, q, cb, flags);
                    ++count;
                    base->current_ = cb;
                    if (ev->ev_.ev_io.ev_timeout.tv_sec | ev->ev_.ev_io.ev_timeout.tv_usec)
                        persist_rearm(base, ev);
                    call_event<kLocked>(lock, ev, cb);
                    goto ran;
                }
            } else if (closure == kClosureEvent && flags == (EVLIST_INIT | EVLIST_ACTIVE) &&
                       !(ev->ev_events & (EV_PERSIST | EV_SIGNAL)) && !debug::g_on) {
                pop_user_active(base, q, cb, flags);
                ++count;
                base->current_ = cb;
                call_event<kLocked>(lock, ev, cb);
                goto ran;
            }
        }
        if (flags & EVLIST_INIT) {
            ev = to_event(cb);
            if ((ev->ev_events & EV_PERSIST) || (flags & EVLIST_FINALIZING))
                pop_active(base, q, cb);
            else
                del_nolock(ev, DelMode::kNoBlock);  // a one-shot event stops being pending
        } else {
            ev = nullptr;
            pop_active(base, q, cb);
        }
        if (!(flags & EVLIST_INTERNAL)) ++count;
        base->current_ = cb;
        base->current_waiters_ = 0;

        switch (cb->evcb_closure) {
            case kClosureSignal:
                run_signal_closure<kLocked>(base, lock, ev);
                break;
            case kClosurePersist:
                if (ev->ev_.ev_io.ev_timeout.tv_sec || ev->ev_.ev_io.ev_timeout.tv_usec)
                    persist_rearm(base, ev);
                [[fallthrough]];
            case kClosureEvent:
                call_event<kLocked>(lock, ev, cb);
                break;
            case kClosureCbSelf: {
                auto fn = cb->evcb_cb_union.evcb_selfcb;
                void *arg = cb->evcb_arg;
                unlock<kLocked>(lock);
                fn(cb, arg);
                relock<kLocked>(lock);
                break;
            }
            case kClosureEventFinalize:
            case kClosureEventFinalizeFree: {
                const bool free_it = cb->evcb_closure == kClosureEventFinalizeFree;
                auto fin = cb->evcb_cb_union.evcb_evfinalize;
                void *arg = cb->evcb_arg;
                base->current_ = nullptr;
                unlock<kLocked>(lock);
                // Torn down before the finalizer runs: it may legally event_assign() the
                // event again and reuse it (libevent does the same).
                if (debug::g_on) debug::note_teardown(ev);
                fin(ev, arg);
                if (free_it) mm::free(ev);
                relock<kLocked>(lock);
                break;
            }
            case kClosureCbFinalize: {
                auto fin = cb->evcb_cb_union.evcb_cbfinalize;
                void *arg = cb->evcb_arg;
                base->current_ = nullptr;
                unlock<kLocked>(lock);
                fin(cb, arg);
                relock<kLocked>(lock);
                break;
            }
            default:
                log::fatal(0xdeaddead, "%s: unknown closure %d", __func__, cb->evcb_closure);
        }

    ran:
        base->current_ = nullptr;
        if (base->current_waiters_) {
            base->current_waiters_ = 0;
            base->current_cond_.notify_all();
        }
        if (base->break_) return -1;
        if (kLimited) {
            if (count >= max_to_run) return count;
            if (count && endtime >= 0) {
                update_time_cache(base);
                if (now_ns(base) >= endtime) return count;
            }
        }
        if (base->continue_) break;
    }
    return count;
}

// Runs the most important non-empty priority queue (internal-only queues do not count)
// on a base with max-dispatch limits (event_config_set_max_dispatch_interval): queues
// from limit_after_prio_ on run with max_callbacks_ and the time limit. Out of line: only
// such bases come here.
template <bool kLocked>
[[gnu::noinline]] int process_active_limited(event_base *base, LoopLock<kLocked> &lock) noexcept {
    int64_t endtime = -1;
    if (base->max_dispatch_ns_ >= 0) {
        update_time_cache(base);
        endtime = now_ns(base) + base->max_dispatch_ns_;
    }
    int c = 0;
    for (int i = 0; i < base->nactiveq_; ++i) {
        CallbackQueue &q = base->activeq_[i];
        if (q.empty()) continue;
        base->running_priority_ = i;
        if (i < base->limit_after_prio_)
            c = run_queue<kLocked, false>(base, lock, q, 0x7fffffff, -1);
        else
            c = run_queue<kLocked, true>(base, lock, q, base->max_callbacks_, endtime);
        if (c != 0) break;
    }
    base->running_priority_ = -1;
    return c;
}

// The same without limits: base_new sets limit_after_prio_ to INT_MAX exactly when no limit
// is configured.
template <bool kLocked>
[[gnu::always_inline]] inline int process_active(event_base *base, LoopLock<kLocked> &lock) noexcept {
    if (base->limit_after_prio_ != 0x7fffffff) [[unlikely]]
        return process_active_limited<kLocked>(base, lock);
    int c = 0;
    for (int i = 0; i < base->nactiveq_; ++i) {
        CallbackQueue &q = base->activeq_[i];
        if (q.empty()) continue;
        base->running_priority_ = i;
        c = run_queue<kLocked, false>(base, lock, q, 0x7fffffff, -1);
        if (c != 0) break;
    }
    base->running_priority_ = -1;
    return c;
}

// After the loop's sole-event shortcut ran a callback (of priority pri) that left callbacks
// active: the rest of the round run_queue would have made. A more important queue that is
// not empty now was filled by that callback (nothing was active before it), which would
// have stopped the round (continue_), as would loopbreak or loopcontinue; otherwise the
// callbacks the first one added to its own priority's queue run now. Less important ones
// and "later" callbacks wait for the next round, as they would have.
template <bool kLocked>
[[gnu::noinline]] void finish_sole_round(event_base *base, LoopLock<kLocked> &lock, int pri) noexcept {
    if (pri >= base->nactiveq_) pri = base->nactiveq_ - 1;
    if (base->break_ || base->continue_) return;
    for (int i = 0; i < pri; ++i)
        if (!base->activeq_[i].empty()) return;
    CallbackQueue &q = base->activeq_[pri];
    if (q.empty()) return;
    base->running_priority_ = pri;
    run_queue<kLocked, false>(base, lock, q, 0x7fffffff, -1);
    base->running_priority_ = -1;
}

void loopexit_cb(evutil_socket_t, short, void *arg) {
    auto *base = static_cast<event_base *>(arg);
    LockGuard g(base->lock_);
    base->gotterm_ = true;
}

}  // namespace

void base_io_ready(event_base *base, int fd, unsigned what) noexcept {
    if (FdSlot *s = base->io_.find(fd)) slot_io_ready(s, what);
}

void slot_io_ready(FdSlot *s, unsigned what) noexcept {
    for (event *ev = s->head; ev;) {
        event *next = ev->ev_.ev_io.ev_io_next.le_next;
        // EV_ET in `what` (epoll) only marks the report: it never wakes an event by itself,
        // but an edge-triggered event sees EV_ET in its callback's flags, as in libevent.
        if (ev->ev_events & what & ~unsigned(EV_ET)) activate_nolock(ev, static_cast<short>(ev->ev_events & what), 1);
        ev = next;
    }
}

void notify_slow(event_base *base) noexcept {
    if (base->loop_tid_ == thread_id()) return;
    if (base->notify_fd_ < 0 && make_notifiable(base) < 0) return;
    base->notify_pending_ = true;
    uint64_t one = 1;
    ssize_t r;
    do {
        r = ::write(base->notify_fd_, &one, sizeof one);
    } while (r < 0 && errno == EINTR);
}

namespace {

// kFlags >= 0: the loop's flags are that constant (EVLOOP_ONCE, a round per call, the
// shape of libevent's own benchmark and of programs that drive the loop round by round),
// so its flag tests fold away; -1: they are the runtime `flags`.
template <bool kLocked, int kFlags>
[[gnu::noinline]] int loop_impl(event_base *base, Lock *const base_lock, int runtime_flags) noexcept {
    const int flags = kFlags >= 0 ? kFlags : runtime_flags;
    LoopLock<kLocked> lock = [base_lock] {
        if constexpr (kLocked) {
            return LoopLock<true>{base_lock, base_lock->lock_biased_once()};
        } else {
            return LoopLock<false>{};
        }
    }();
    if (base->running_) {
        log::warn("%s: reentrant invocation.  Only one event_base_loop can run on each event_base at once.",
                  "event_base_loop");
        unlock<kLocked>(lock);
        return -1;
    }
    base->running_ = true;
    base->loop_tid_ = thread_id();
    // The time cache is clear: only a running loop fills it, and it clears it on its way out.
    base->gotterm_ = base->break_ = false;

    int retval = 0;
    bool done = false;
    while (!done) {
        base->continue_ = false;
        base->n_deferreds_queued_ = 0;
        if (base->gotterm_ || base->break_) break;

        if (!(flags & EVLOOP_NO_EXIT_ON_EMPTY) && base->n_added_ == 0 && base->n_virtual_ == 0 &&
            base->n_active_ == 0) {
            retval = 1;
            break;
        }
        make_later_events_active(base);
        flush_changes(base);

        clear_time_cache(base);
        int64_t timeout = 0;
        if (base->n_active_ == 0 && !(flags & EVLOOP_NONBLOCK)) timeout = next_timeout_ns(base);

        unlock<kLocked>(lock);
        // epoll (the default) inline, the others through their table.
        const bool on_epoll = base->ops_ == &backends::kEpollOps;
        auto *const ep = static_cast<backends::EpollState *>(base->bstate_);
        const int r = on_epoll ? backends::epoll_wait_inline(ep, timeout)
                               : base->ops_->wait(base->bstate_, timeout);
        relock<kLocked>(lock);
        if (r < 0) {
            retval = -1;
            break;
        }
        update_time_cache(base);
        // The commonest round: one fd ready, its only event a plain persistent one, nothing
        // else active, no timer pending, no max-dispatch limit. Run it straight away: what
        // queueing it and taking it off again would leave is what this leaves (the counts'
        // maxima included), so only the instructions differ. running_priority_ stays -1
        // during the callback; whatever the callback activates is sorted out afterwards by
        // finish_sole_round, as run_queue would have.
        if (on_epoll && base->n_active_ == 0 && base->heap_.empty() &&
            base->limit_after_prio_ == 0x7fffffff) [[likely]] {
            if (event *const ev = backends::epoll_sole_persistent(ep, base)) {
                if (base->n_added_ >= base->max_added_) base->max_added_ = base->n_added_ + 1;
                if (base->max_active_ < 1) base->max_active_ = 1;
                event_callback *const cb = &ev->ev_evcallback;
                const uint8_t pri = cb->evcb_pri;  // the callback may free the event
                base->current_ = cb;
                call_event<kLocked>(lock, ev, cb);
                base->current_ = nullptr;
                if (base->current_waiters_) {
                    base->current_waiters_ = 0;
                    base->current_cond_.notify_all();
                }
                if (base->n_active_) [[unlikely]]
                    finish_sole_round<kLocked>(base, lock, pri);
                if ((flags & EVLOOP_ONCE) && base->n_active_ == 0) done = true;
                continue;
            }
        }
        base->collecting_ = true;
        if (on_epoll) [[likely]]
            backends::epoll_report_inline(ep, base);
        else
            base->ops_->report(base->bstate_, base);
        note_maxima(base);
        process_timeouts(base);
        base->collecting_ = false;

        if (base->n_active_) {
            int n = process_active<kLocked>(base, lock);
            if ((flags & EVLOOP_ONCE) && base->n_active_ == 0 && n != 0) done = true;
        } else if (flags & EVLOOP_NONBLOCK) {
            done = true;
        }
    }
    clear_time_cache(base);
    base->running_ = false;
    unlock<kLocked>(lock);
    return retval;
}

}  // namespace

int loop(event_base *base, int flags) noexcept {
    // base->lock_ is &base->lock_obj_ or null: the address is known without a register.
    if (flags == EVLOOP_ONCE)
        return base->lock_ ? loop_impl<true, EVLOOP_ONCE>(base, &base->lock_obj_, flags)
                           : loop_impl<false, EVLOOP_ONCE>(base, nullptr, flags);
    return base->lock_ ? loop_impl<true, -1>(base, &base->lock_obj_, flags)
                       : loop_impl<false, -1>(base, nullptr, flags);
}

int loopexit(event_base *base, const timeval *tv) noexcept {
    return once(base, -1, EV_TIMEOUT, loopexit_cb, base, tv);
}

int loopbreak(event_base *base) noexcept {
    LockGuard g(base->lock_);
    base->break_ = true;
    notify_if_needed(base);
    return 0;
}

int loopcontinue(event_base *base) noexcept {
    LockGuard g(base->lock_);
    base->continue_ = true;
    return 0;
}

}  // namespace reevent::core
