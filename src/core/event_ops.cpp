// The life of an event: assign, add, delete, activate, pending, finalize, once.
//
// An event's state is the EVLIST_* bits in its evcb_flags: INSERTED (watching its fd or
// signal), TIMEOUT (in the heap or a common-timeout queue), ACTIVE / ACTIVE_LATER (on an
// active queue), FINALIZING, INTERNAL, and INIT (assigned). Every transition below keeps
// the bits, the queue memberships and the base's counters in step; nothing else records an
// event, so freeing an event's memory after event_del is always safe.
#include <csignal>
#include <cstring>

#include "core/base.h"
#include "core/log.h"
#include "core/timers.h"

namespace reevent::core {

// ---- counters ----------------------------------------------------------------------------

void insert_active_later(event_base *base, event_callback *cb) noexcept {
    count_added(base, cb);
    cb->evcb_flags |= EVLIST_ACTIVE_LATER;
    if (++base->n_active_ > base->max_active_) base->max_active_ = base->n_active_;
    base->later_.push_back(cb);
}

void remove_active_later(event_base *base, event_callback *cb) noexcept {
    uncount_added(base, cb);
    cb->evcb_flags &= ~EVLIST_ACTIVE_LATER;
    --base->n_active_;
    base->later_.remove(cb);
}

namespace {

// Blocks until the callback of ev, running in the loop thread, has returned. Only from
// another thread and only when the base has a lock to wait on.
void wait_for_callback(event_base *base, const event *ev) noexcept {
    if (!base->lock_) return;
    while (base->current_ == &const_cast<event *>(ev)->ev_evcallback) {
        ++base->current_waiters_;
        base->lock_->wait(&base->current_cond_);
    }
}

bool event_on_another_thread(event_base *base, const event *ev) noexcept {
    return base->current_ == &const_cast<event *>(ev)->ev_evcallback && !in_loop_thread(base);
}

// The end of a delete: unless told not to block, wait while the event's callback runs in
// the loop thread (an EV_FINALIZE event only with DelMode::kBlock).
inline void wait_unless_noblock(event_base *base, const event *ev, DelMode mode) noexcept {
    if (mode != DelMode::kNoBlock && event_on_another_thread(base, ev) &&
        (mode == DelMode::kBlock || !(ev->ev_events & EV_FINALIZE)))
        wait_for_callback(base, ev);
}

// ---- the fd map ----------------------------------------------------------------------------

// Brings the backend in line with the slot's wanted mask, or queues that for the loop.
// Returns 1 if something changed or was queued (the loop may need a wake-up), 0 if nothing
// had to change, -1 if the kernel refused (nothing changed then).
int apply_slot(event_base *base, int fd, FdSlot &slot, bool may_defer = true) noexcept {
    const unsigned want = wanted_mask(slot);
    if (base->immediate_) {
        // epoll by default: the kernel hears of each change at once (below).
        if (want == slot.kmask) {
            if (!want || !slot.dropped) return 0;
            // Re-added after a pending removal: the number may name a new file by now. One
            // MOD (ADD on ENOENT) settles it; a DEL and an ADD are saved.
            slot.dropped = 0;
            if (base->ops_->apply(base->bstate_, fd, slot, slot.kmask, want) < 0) return -1;
            return 1;
        }
        // The fd's last event went away: the DEL waits for the loop's next flush (run by
        // the caller's own loop, before it waits), so that a re-add before then costs one
        // MOD above instead of a DEL and an ADD. A removal from another thread while the
        // loop runs goes at once: that thread may close the fd right after. A DEL is never
        // refused in a way event_del reports, so nothing is lost by waiting; a file kept
        // open by a dup() after its fd was closed is caught by the backend (a registration
        // that keeps reporting makes epoll rebuild its set).
        if (want == 0 && may_defer && !slot.dropped &&
            (!base->running_ || base->loop_tid_ == thread_id()) && base->io_.mark_dirty(fd)) {
            slot.dropped = 1;
            return 1;
        }
        // Every other change goes at once too, as libevent's epoll without the changelist
        // does: event_add reports a change the kernel refuses (a closed fd).
        if (base->ops_->apply(base->bstate_, fd, slot, slot.kmask, want) < 0) return -1;
        slot.kmask = static_cast<uint8_t>(want);
        slot.dropped = 0;
        return 1;
    }
    if (want == 0 && slot.kmask) slot.dropped = 1;
    if (!base->io_.mark_dirty(fd)) return -1;
    return 1;
}

void io_count(FdSlot &s, short events, int delta) noexcept {
    if (events & EV_READ) s.nread = static_cast<uint16_t>(s.nread + delta);
    if (events & EV_WRITE) s.nwrite = static_cast<uint16_t>(s.nwrite + delta);
    if (events & EV_CLOSED) s.nclose = static_cast<uint16_t>(s.nclose + delta);
    if (events & EV_ET) s.net = static_cast<uint16_t>(s.net + delta);
}

// 1: the kernel set changed, 0: nothing to change, -1: refused (nothing changed).
int io_add(event_base *base, event *ev) noexcept {
    const int fd = ev->ev_fd;
    if (fd < 0) return 0;  // libevent accepts and never reports such an event
    FdSlot *s = base->io_.get(fd);
    if (!s) return -1;
    const short events = ev->ev_events;
    // Mixing edge- and level-triggered events on one fd is accepted, as libevent does (the
    // fd is then edge-triggered for all of them, see wanted_mask), except in debug mode,
    // where libevent refuses it as the programming error it is.
    if (debug::g_on && s->head && ((s->head->ev_events ^ events) & EV_ET)) {
        log::warn("Tried to mix edge-triggered and non-edge-triggered events on fd %d", fd);
        return -1;
    }
    if (((events & EV_READ) && s->nread == 0xffff) || ((events & EV_WRITE) && s->nwrite == 0xffff) ||
        ((events & EV_CLOSED) && s->nclose == 0xffff)) {
        log::warn("Too many events reading or writing on fd %d", fd);
        return -1;
    }
    io_count(*s, events, +1);
    int r = apply_slot(base, fd, *s);
    if (r < 0) {
        io_count(*s, events, -1);
        return -1;
    }
    auto &link = ev->ev_.ev_io.ev_io_next;
    link.le_next = s->head;
    if (s->head) s->head->ev_.ev_io.ev_io_next.le_prev = &link.le_next;
    s->head = ev;
    link.le_prev = &s->head;
    return r;
}

int io_del(event_base *base, event *ev, bool may_defer) noexcept {
    const int fd = ev->ev_fd;
    auto &link = ev->ev_.ev_io.ev_io_next;
    FdSlot *s = base->io_.find(fd);
    if (fd < 0 || !s || !link.le_prev) return 0;
    if (link.le_next) link.le_next->ev_.ev_io.ev_io_next.le_prev = link.le_prev;
    *link.le_prev = link.le_next;
    link.le_next = nullptr;
    link.le_prev = nullptr;
    io_count(*s, ev->ev_events, -1);
    return apply_slot(base, fd, *s, may_defer) < 0 ? -1 : 1;
}

}  // namespace

// ---- signals ---------------------------------------------------------------------------------

#ifdef REEVENT_HAVE_SIGNAL_HUB
namespace {
void on_signal(void *ctx, int signum, int count) {
    activate_by_signal(static_cast<event_base *>(ctx), signum, count);
}
void signal_pipe_cb(evutil_socket_t, short, void *arg) {
    auto *base = static_cast<event_base *>(arg);
    LockGuard g(base->lock_);
    base->sigport_.drain(on_signal, base);
}
}  // namespace
#endif

int sigmap_add(event_base *base, event *ev) noexcept {
    const int sig = ev->ev_fd;
    if (sig <= 0 || sig >= NSIG) {
        log::warn("%s: signal number %d is out of range", __func__, sig);
        return -1;
    }
#ifdef REEVENT_HAVE_SIGNAL_HUB
    if (!base->sigs_) {
        base->sigs_ = static_cast<SignalSlot *>(mm::calloc(NSIG, sizeof(SignalSlot)));
        if (!base->sigs_) return -1;
    }
    SignalSlot &slot = base->sigs_[sig];
    if (slot.count == 0) {
        if (!base->sigport_.is_open()) {
            if (base->sigport_.open() < 0) {
                log::warn_errno("%s: cannot open the signal pipe", __func__);
                return -1;
            }
        }
        if (!base->sig_ev_added_) {
            assign(&base->sig_ev_, base, base->sigport_.read_fd(), EV_READ | EV_PERSIST,
                   signal_pipe_cb, base);
            base->sig_ev_.ev_evcallback.evcb_flags |= EVLIST_INTERNAL;
            base->sig_ev_.ev_evcallback.evcb_pri = 0;
            if (add_nolock(&base->sig_ev_, nullptr, false) < 0) return -1;
            base->sig_ev_added_ = true;
        }
        if (base->sigport_.watch(sig) < 0) {
            log::warn_errno("%s: cannot watch signal %d", __func__, sig);
            return -1;
        }
    }
    auto &link = ev->ev_.ev_signal.ev_signal_next;
    link.le_next = slot.head;
    if (slot.head) slot.head->ev_.ev_signal.ev_signal_next.le_prev = &link.le_next;
    slot.head = ev;
    link.le_prev = &slot.head;
    ++slot.count;
    return 0;
#else
    (void)base;
    log::warn("%s: signal events are not available in this build", __func__);
    return -1;
#endif
}

void sigmap_del(event_base *base, event *ev) noexcept {
    const int sig = ev->ev_fd;
    auto &link = ev->ev_.ev_signal.ev_signal_next;
    if (sig <= 0 || sig >= NSIG || !base->sigs_ || !link.le_prev) return;
    if (link.le_next) link.le_next->ev_.ev_signal.ev_signal_next.le_prev = link.le_prev;
    *link.le_prev = link.le_next;
    link.le_next = nullptr;
    link.le_prev = nullptr;
#ifdef REEVENT_HAVE_SIGNAL_HUB
    if (--base->sigs_[sig].count == 0) base->sigport_.unwatch(sig);
#endif
}

void activate_by_signal(event_base *base, int sig, int count) noexcept {
    if (!base->sigs_ || sig <= 0 || sig >= NSIG) return;
    if (count > 0x7fff) count = 0x7fff;
    for (event *ev = base->sigs_[sig].head; ev;) {
        event *next = ev->ev_.ev_signal.ev_signal_next.le_next;
        activate_nolock(ev, EV_SIGNAL, static_cast<short>(count));
        ev = next;
    }
}

// ---- assign ------------------------------------------------------------------------------------

namespace {
char g_self_cbarg_marker;
}

void *self_cbarg_marker() noexcept { return &g_self_cbarg_marker; }

int assign(event *ev, event_base *base, int fd, short events, event_callback_fn cb,
           void *arg) noexcept {
    base = base_or_current(base);
    if (arg == &g_self_cbarg_marker) arg = ev;
    if (debug::g_on) {
        if (!(events & EV_SIGNAL)) debug::assert_socket_nonblocking(fd);
        debug::assert_not_added(ev, "event_assign");
    }
    if ((events & EV_SIGNAL) && (events & (EV_READ | EV_WRITE | EV_CLOSED))) {
        log::warn("%s: EV_SIGNAL is not compatible with EV_READ, EV_WRITE or EV_CLOSED",
                  "event_assign");
        return -1;
    }
    std::memset(static_cast<void *>(ev), 0, sizeof(*ev));
    ev->ev_base = base;
    ev->ev_evcallback.evcb_cb_union.evcb_callback = cb;
    ev->ev_evcallback.evcb_arg = arg;
    ev->ev_fd = fd;
    ev->ev_events = events;
    ev->ev_res = 0;
    ev->ev_evcallback.evcb_flags = EVLIST_INIT;
    if (events & EV_SIGNAL)
        ev->ev_evcallback.evcb_closure = kClosureSignal;
    else if (events & EV_PERSIST)
        ev->ev_evcallback.evcb_closure = kClosurePersist;
    else
        ev->ev_evcallback.evcb_closure = kClosureEvent;
    ev->ev_timeout_pos.min_heap_idx = -1;
    if (base) ev->ev_evcallback.evcb_pri = static_cast<uint8_t>(base->nactiveq_ / 2);
    // Written once: a store on every event_assign would keep the line (g_on's too, which
    // every add/del reads) bouncing between the cores of threads that assign events.
    if (!debug::g_too_late.load(std::memory_order_relaxed))
        debug::g_too_late.store(true, std::memory_order_relaxed);
    if (debug::g_on) debug::note_setup(ev);
    return 0;
}

int base_set(event_base *base, event *ev) noexcept {
    if (!base || ev->ev_evcallback.evcb_flags != EVLIST_INIT) return -1;
    if (debug::g_on) debug::assert_is_setup(ev, "event_base_set");
    ev->ev_base = base;
    ev->ev_evcallback.evcb_pri = static_cast<uint8_t>(base->nactiveq_ / 2);
    return 0;
}

int priority_set(event *ev, int pri) noexcept {
    event_base *base = ev->ev_base;
    if (!base) return -1;
    LockGuard g(base->lock_);
    if (debug::g_on) debug::assert_is_setup(ev, "event_priority_set");
    if (ev->ev_evcallback.evcb_flags & EVLIST_ACTIVE) return -1;
    if (pri < 0 || pri >= base->nactiveq_) return -1;
    ev->ev_evcallback.evcb_pri = static_cast<uint8_t>(pri);
    return 0;
}

// ---- add -----------------------------------------------------------------------------------------

// Relative timeval -> nanoseconds, saturating: an enormous timeout simply never expires.
int64_t tv_to_ns_slow(const timeval &tv) noexcept {
    constexpr int64_t kMaxSec = INT64_MAX / 1000000000 / 4;
    int64_t sec = tv.tv_sec;
    int64_t usec = tv.tv_usec;
    if (sec > kMaxSec) return kMaxSec * 1000000000;
    if (sec < -kMaxSec) return -kMaxSec * 1000000000;
    if (usec > 1000000000 || usec < -1000000000) usec %= 1000000000;
    return sec * 1000000000 + usec * 1000;
}

namespace {

// add_nolock for a pure timer (no fd, no signal) that is neither pending nor active nor
// finalizing, with a relative timeout: the same steps, without the ones that cannot apply.
[[gnu::always_inline]] inline int add_new_timer(event_base *base, event *ev, const timeval *tv) noexcept {
    if (!base->heap_.reserve(base->heap_.size() + 1)) return -1;
    if (ev->ev_evcallback.evcb_closure == kClosurePersist) ev->ev_.ev_io.ev_timeout = *tv;
    const int common = common_index(base, tv);
    if (common < 0) {
        const int64_t rel = tv_to_ns(*tv);
        heap_timer_insert(base, ev, timeout_now_ns(base, rel) + rel);
        // A new first deadline: a loop sleeping in another thread must wake up earlier.
        if (base->heap_.top() == ev) notify_if_needed(base);
    } else {
        const int64_t rel = base->common_[common]->duration_ns;
        deadline_of(ev) = timeout_now_ns(base, rel) + rel;
        timer_insert(base, ev, common);
    }
    if (debug::g_on) debug::note_add(ev);
    return 0;
}

// The same for a pure timer whose timeout is pending (re-armed): a heap timer that stays in
// the heap moves in place.
[[gnu::noinline]] int readd_pure_timer(event_base *base, event *ev, const timeval *tv) noexcept {
    if (ev->ev_evcallback.evcb_closure == kClosurePersist) ev->ev_.ev_io.ev_timeout = *tv;
    const int common = common_index(base, tv);
    const int64_t rel = common < 0 ? tv_to_ns(*tv) : base->common_[common]->duration_ns;
    const int64_t deadline = timeout_now_ns(base, rel) + rel;
    event *const old_top = base->heap_.top();
    if (common < 0 && timer_tag(ev) >= 0)
        heap_timer_move(base, ev, deadline);
    else
        timer_schedule(base, ev, common, deadline);
    // The first deadline changed: a loop sleeping in another thread must wake up.
    if (common < 0 && (base->heap_.top() == ev || old_top != base->heap_.top()))
        notify_if_needed(base);
    if (debug::g_on) debug::note_add(ev);
    return 0;
}

}  // namespace

int add_nolock(event *ev, const timeval *tv, bool tv_is_absolute) noexcept {
    event_base *base = ev->ev_base;
    event_callback *cb = to_callback(ev);
    int res = 0;
    bool notify = false;
    if (cb->evcb_flags & EVLIST_FINALIZING) return -1;
    if (tv && !(cb->evcb_flags & EVLIST_TIMEOUT)) {
        if (!base->heap_.reserve(base->heap_.size() + 1)) return -1;
    }
    // Adding a signal event while its callback runs in the loop thread: wait, as libevent.
    if ((ev->ev_events & EV_SIGNAL) && event_on_another_thread(base, ev))
        wait_for_callback(base, ev);

    if ((ev->ev_events & (EV_READ | EV_WRITE | EV_CLOSED | EV_SIGNAL)) &&
        !(cb->evcb_flags & (EVLIST_INSERTED | EVLIST_ACTIVE | EVLIST_ACTIVE_LATER))) {
        if (ev->ev_events & (EV_READ | EV_WRITE | EV_CLOSED))
            res = io_add(base, ev);
        else
            res = sigmap_add(base, ev);
        if (res != -1) {
            count_added(base, cb);
            cb->evcb_flags |= EVLIST_INSERTED;
        }
        if (res == 1) {
            notify = true;
            res = 0;
        }
    }

    if (res != -1 && tv) {
        if (cb->evcb_closure == kClosurePersist && !tv_is_absolute) ev->ev_.ev_io.ev_timeout = *tv;
        // Re-adding an event that is active because it timed out cancels that activation.
        if ((cb->evcb_flags & EVLIST_ACTIVE) && (ev->ev_res & EV_TIMEOUT)) {
            if (ev->ev_events & EV_SIGNAL) {
                if (ev->ev_.ev_signal.ev_ncalls && ev->ev_.ev_signal.ev_pncalls)
                    *ev->ev_.ev_signal.ev_pncalls = 0;
            }
            remove_active(base, cb);
        }
        int common = -1;
        int64_t deadline;
        if (tv_is_absolute) {
            // Only the persist closure uses this: tv_sec holds nanoseconds already.
            deadline = tv->tv_sec;
            common = static_cast<int>(tv->tv_usec);
        } else {
            common = common_index(base, tv);
            int64_t rel;
            if (common >= 0)
                rel = base->common_[common]->duration_ns;
            else
                rel = tv_to_ns(*tv);
            deadline = timeout_now_ns(base, rel) + rel;
        }
        event *old_top = base->heap_.top();
        timer_schedule(base, ev, common, deadline);
        if (common < 0 && (base->heap_.top() == ev || old_top != base->heap_.top()))
            notify = true;
    }
    if (res != -1 && debug::g_on) debug::note_add(ev);
    if (res != -1 && notify) notify_if_needed(base);
    return res;
}

int add(event *ev, const timeval *tv) noexcept {
    event_base *base = ev->ev_base;
    if (!base) {
        log::warn("%s: event has no event_base set.", "event_add");
        return -1;
    }
    LockGuard g(base->lock_);
    if (debug::g_on) debug::assert_is_setup(ev, "event_add");
    const short flags = ev->ev_evcallback.evcb_flags;
    if (!(flags & EVLIST_INIT)) {
        log::warn("%s: event %p was never assigned", "event_add", static_cast<void *>(ev));
        return -1;
    }
    // A pure timer (no fd, no signal) that is not active: the add is the timer part of
    // add_nolock alone.
    if ((flags & ~EVLIST_TIMEOUT) == EVLIST_INIT && tv &&
        !(ev->ev_events & (EV_READ | EV_WRITE | EV_CLOSED | EV_SIGNAL)))
        return flags == EVLIST_INIT ? add_new_timer(base, ev, tv) : readd_pure_timer(base, ev, tv);
    return add_nolock(ev, tv, false);
}

// ---- delete --------------------------------------------------------------------------------------

int del_nolock(event *ev, DelMode mode) noexcept {
    event_base *base = ev->ev_base;
    event_callback *cb = to_callback(ev);
    int res = 0;
    bool notify = false;
    if (!base) return -1;
    if (mode != DelMode::kEvenIfFinalizing && (cb->evcb_flags & EVLIST_FINALIZING)) return 0;

    // A signal callback looping over its call count stops after the current call.
    if ((ev->ev_events & EV_SIGNAL) && ev->ev_.ev_signal.ev_ncalls && ev->ev_.ev_signal.ev_pncalls) {
        *ev->ev_.ev_signal.ev_pncalls = 0;
        // The pointer aims into the running closure's frame: never use it again.
        ev->ev_.ev_signal.ev_ncalls = 0;
        ev->ev_.ev_signal.ev_pncalls = nullptr;
    }

    if (cb->evcb_flags & EVLIST_TIMEOUT) timer_remove(base, ev);
    if (cb->evcb_flags & EVLIST_ACTIVE)
        remove_active(base, cb);
    else if (cb->evcb_flags & EVLIST_ACTIVE_LATER)
        remove_active_later(base, cb);

    if (cb->evcb_flags & EVLIST_INSERTED) {
        uncount_added(base, cb);
        cb->evcb_flags &= ~EVLIST_INSERTED;
        if (ev->ev_events & (EV_READ | EV_WRITE | EV_CLOSED)) {
            res = io_del(base, ev, mode != DelMode::kFree);
        } else {
            sigmap_del(base, ev);
            res = 0;
        }
        if (res == 1) {
            notify = true;
            res = 0;
        }
        // Wake a loop that sleeps with nothing left to wait for, so it can return.
        if (base->n_added_ == 0 && base->n_virtual_ == 0 && base->n_active_ == 0) notify = true;
    }
    if (res != -1 && notify) notify_if_needed(base);
    if (debug::g_on) debug::note_del(ev);
    wait_unless_noblock(base, ev, mode);
    return res;
}

int del(event *ev, DelMode mode) noexcept {
    event_base *base = ev->ev_base;
    if (!base) {
        log::warn("%s: event has no event_base set.", "event_del_");  // libevent's helper
        return -1;
    }
    LockGuard g(base->lock_);
    // Only a timeout in the heap is pending (not active, not finalizing, not a signal whose
    // calls must stop): del_nolock would do just this. The common case of timers.
    if (ev->ev_evcallback.evcb_flags == (EVLIST_INIT | EVLIST_TIMEOUT) && timer_tag(ev) >= 0 &&
        !(ev->ev_events & EV_SIGNAL)) {
        heap_timer_remove(base, ev);
        if (debug::g_on) debug::note_del(ev);
        wait_unless_noblock(base, ev, mode);
        return 0;
    }
    return del_nolock(ev, mode);
}

int remove_timer(event *ev) noexcept {
    event_base *base = ev->ev_base;
    if (!base) {
        log::warn("%s: event has no event_base set.", "event_remove_timer");
        return -1;
    }
    LockGuard g(base->lock_);
    if (debug::g_on) debug::assert_is_setup(ev, "event_remove_timer");
    event_callback *cb = to_callback(ev);
    // A pure timer is deleted outright; otherwise only its timeout goes.
    if (!(ev->ev_events & (EV_READ | EV_WRITE | EV_CLOSED | EV_SIGNAL))) return del_nolock(ev, DelMode::kAuto);
    if (cb->evcb_flags & EVLIST_TIMEOUT) {
        timer_remove(base, ev);
        ev->ev_.ev_io.ev_timeout.tv_sec = 0;
        ev->ev_.ev_io.ev_timeout.tv_usec = 0;
    }
    return 0;
}

// ---- activate -------------------------------------------------------------------------------------

void callback_activate_nolock(event_base *base, event_callback *cb) noexcept {
    if (cb->evcb_flags & EVLIST_FINALIZING) return;
    switch (cb->evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) {
        case EVLIST_ACTIVE: return;
        case EVLIST_ACTIVE_LATER: remove_active_later(base, cb); break;
        default: break;
    }
    insert_active(base, cb);
    notify_if_needed(base);
}

bool callback_activate_later_nolock(event_base *base, event_callback *cb) noexcept {
    if (cb->evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) return false;
    insert_active_later(base, cb);
    notify_if_needed(base);
    return true;
}

bool callback_cancel_nolock(event_base *base, event_callback *cb, bool even_if_finalizing) noexcept {
    if ((cb->evcb_flags & EVLIST_FINALIZING) && !even_if_finalizing) return false;
    if (cb->evcb_flags & EVLIST_INIT) {
        del_nolock(to_event(cb), even_if_finalizing ? DelMode::kEvenIfFinalizing : DelMode::kAuto);
        return true;
    }
    bool was = (cb->evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) != 0;
    if (cb->evcb_flags & EVLIST_ACTIVE)
        remove_active(base, cb);
    else if (cb->evcb_flags & EVLIST_ACTIVE_LATER)
        remove_active_later(base, cb);
    return was;
}

void activate_nolock(event *ev, int res, short ncalls) noexcept {
    event_base *base = ev->ev_base;
    event_callback *cb = to_callback(ev);
    // The common case: not queued yet, not a signal (the general path below, shortened).
    if (!(cb->evcb_flags & (EVLIST_FINALIZING | EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) &&
        !(ev->ev_events & EV_SIGNAL)) {
        ev->ev_res = static_cast<short>(res);
        if (cb->evcb_pri < base->running_priority_) base->continue_ = true;
        insert_active(base, cb);
        notify_if_needed(base);
        return;
    }
    if (cb->evcb_flags & EVLIST_FINALIZING) return;
    switch (cb->evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) {
        case EVLIST_ACTIVE:
            ev->ev_res = static_cast<short>(ev->ev_res | res);  // already queued: merge flags
            return;
        case EVLIST_ACTIVE_LATER:
            ev->ev_res = static_cast<short>(ev->ev_res | res);
            break;
        default:
            ev->ev_res = static_cast<short>(res);
            break;
    }
    if (cb->evcb_pri < base->running_priority_) base->continue_ = true;
    if (ev->ev_events & EV_SIGNAL) {
        if (event_on_another_thread(base, ev)) wait_for_callback(base, ev);
        ev->ev_.ev_signal.ev_ncalls = ncalls;
        ev->ev_.ev_signal.ev_pncalls = nullptr;
    }
    callback_activate_nolock(base, cb);
}

void activate(event *ev, int res, short ncalls) noexcept {
    event_base *base = ev->ev_base;
    if (!base) {
        log::warn("%s: event has no event_base set.", "event_active");
        return;
    }
    LockGuard g(base->lock_);
    if (debug::g_on) debug::assert_is_setup(ev, "event_active");
    if (!(ev->ev_evcallback.evcb_flags & EVLIST_INIT)) {
        log::warn("%s: event %p was never assigned", "event_active", static_cast<void *>(ev));
        return;
    }
    activate_nolock(ev, res, ncalls);
}

// ---- pending --------------------------------------------------------------------------------------

int pending(const event *ev, short what, timeval *tv) noexcept {
    event_base *base = ev->ev_base;
    if (!base) {
        log::warn("%s: event has no event_base set.", "event_pending");
        return 0;
    }
    LockGuard g(base->lock_);
    if (debug::g_on) debug::assert_is_setup(ev, "event_pending");
    const short f = ev->ev_evcallback.evcb_flags;
    int flags = 0;
    if (f & EVLIST_INSERTED) flags |= ev->ev_events & (EV_READ | EV_WRITE | EV_CLOSED | EV_SIGNAL);
    if (f & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) flags |= ev->ev_res;
    if (f & EVLIST_TIMEOUT) flags |= EV_TIMEOUT;
    what &= (EV_TIMEOUT | EV_READ | EV_WRITE | EV_CLOSED | EV_SIGNAL);
    if (tv && (flags & what & EV_TIMEOUT)) {
        int64_t wall = deadline_of(ev) + wall_minus_mono_ns();
        tv->tv_sec = static_cast<time_t>(wall / 1000000000);
        tv->tv_usec = static_cast<suseconds_t>((wall % 1000000000) / 1000);
    }
    return flags & what;
}

// ---- finalize --------------------------------------------------------------------------------------

int finalize(unsigned, event *ev, event_finalize_callback_fn fn, bool free_it) noexcept {
    event_base *base = ev->ev_base;
    if (!base) {
        log::warn("%s: event has no event_base set.", "event_finalize_impl_");
        return -1;
    }
    LockGuard g(base->lock_);
    del_nolock(ev, DelMode::kNoBlock);
    ev->ev_evcallback.evcb_closure = free_it ? kClosureEventFinalizeFree : kClosureEventFinalize;
    ev->ev_evcallback.evcb_cb_union.evcb_evfinalize = fn;
    activate_nolock(ev, EV_FINALIZE, 1);
    ev->ev_evcallback.evcb_flags |= EVLIST_FINALIZING;
    return 0;
}

// ---- once --------------------------------------------------------------------------------------------

namespace {

void once_cb(evutil_socket_t fd, short what, void *arg) {
    auto *o = static_cast<OnceEvent *>(arg);
    event_base *base = o->ev.ev_base;
    o->cb(fd, what, o->arg);
    {
        LockGuard g(base->lock_);
        *o->prev = o->next;
        if (o->next) o->next->prev = o->prev;
    }
    if (debug::g_on) debug::unassign(&o->ev);
    mm::free(o);
}

}  // namespace

int once(event_base *base, int fd, short events, event_callback_fn cb, void *arg,
         const timeval *tv) noexcept {
    if (events & (EV_SIGNAL | EV_PERSIST)) return -1;
    auto *o = static_cast<OnceEvent *>(mm::calloc(1, sizeof(OnceEvent)));
    if (!o) return -1;
    o->cb = cb;
    o->arg = arg;
    bool activate_now = false;
    if ((events & (EV_TIMEOUT | EV_SIGNAL | EV_READ | EV_WRITE | EV_CLOSED)) == EV_TIMEOUT) {
        assign(&o->ev, base, -1, 0, once_cb, o);
        if (!tv || (tv->tv_sec == 0 && tv->tv_usec == 0)) activate_now = true;
    } else if (events & (EV_READ | EV_WRITE | EV_CLOSED)) {
        events &= EV_READ | EV_WRITE | EV_CLOSED;
        assign(&o->ev, base, fd, events, once_cb, o);
    } else {
        mm::free(o);
        return -1;
    }
    LockGuard g(base->lock_);
    int res = 0;
    if (activate_now)
        activate_nolock(&o->ev, EV_TIMEOUT, 1);
    else
        res = add_nolock(&o->ev, tv, false);
    if (res != 0) {
        if (debug::g_on) debug::unassign(&o->ev);
        mm::free(o);
        return res;
    }
    o->next = base->once_;
    if (o->next) o->next->prev = &o->next;
    o->prev = &base->once_;
    base->once_ = o;
    return 0;
}

}  // namespace reevent::core
