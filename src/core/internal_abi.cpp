// libevent-internal names of the event loop that libevent 2.1's core exports without a
// public header and that programs and test suites written against libevent call (its
// regress suite does): exported with libevent's signatures and behaviour for binary
// compatibility: small ones over the public struct event / the base's counters, and the
// callback entries over a bare struct event_callback (event_struct.h's public layout): a
// "deferred callback" (closure kClosureCbSelf) or a callback finalizer (kClosureCbFinalize)
// is queued, run and cancelled by the same queues and loop code as an event's callback, with
// all of its state in the caller's struct (flags, priority, queue link), as for struct event.
//
// The *_nolock_ forms take no lock: as in libevent, their caller must own the base (the
// thread that runs it, or a single-threaded program); a program cannot take the base lock
// itself.
#include <event2/event.h>
#include <event2/event_struct.h>

#include "core/addon_abi.h"
#include "core/base.h"
#include "core/log.h"

using namespace reevent;

namespace {

using SelfCallback = void (*)(struct event_callback *, void *);

// libevent's answers: 1 when cb was put on an active queue now, 0 when it was active
// already, moved there from the "later" queue, or is being finalized (left alone).
int activate_callback(event_base *base, event_callback *cb) noexcept {
    const short f = cb->evcb_flags;
    if (f & (EVLIST_FINALIZING | EVLIST_ACTIVE)) return 0;
    core::callback_activate_nolock(base, cb);
    return (f & EVLIST_ACTIVE_LATER) ? 0 : 1;
}

// Takes cb off the queues; for an event (EVLIST_INIT) this is event_del's work and answer.
// A bare callback answers 0 whatever it was (libevent's answer).
int cancel_callback(event_base *base, event_callback *cb, bool even_if_finalizing) noexcept {
    if ((cb->evcb_flags & EVLIST_FINALIZING) && !even_if_finalizing) return 0;
    if (cb->evcb_flags & EVLIST_INIT)
        return core::del_nolock(core::to_event(cb), even_if_finalizing
                                                       ? core::DelMode::kEvenIfFinalizing
                                                       : core::DelMode::kAuto);
    core::callback_cancel_nolock(base, cb, even_if_finalizing);
    return 0;
}

// Cancels cb (an event is deleted without waiting for its running callback) and queues
// fn(cb, arg) in its place; from then on cb is finalizing: nothing activates or cancels it
// but event_base_free, which still runs fn.
void finalize_callback(event_base *base, event_callback *cb, SelfCallback fn) noexcept {
    if (cb->evcb_flags & EVLIST_INIT)
        core::del_nolock(core::to_event(cb), core::DelMode::kNoBlock);
    else
        core::callback_cancel_nolock(base, cb, false);
    cb->evcb_closure = core::kClosureCbFinalize;
    cb->evcb_cb_union.evcb_cbfinalize = fn;
    activate_callback(base, cb);
    cb->evcb_flags |= EVLIST_FINALIZING;
}

// Deferred callbacks scheduled per loop iteration before further ones wait for the next
// (libevent's MAX_DEFERREDS_QUEUED; the loop resets the count every iteration).
constexpr int kMaxDeferredsNow = 32;

}  // namespace

extern "C" {

// Activates `ev` for the next loop iteration, not this one (libevent's "active later"
// queue); already queued (now or later), its result bits are merged instead.
REEVENT_ADDON_ABI void event_active_later_(struct event *ev, int res) {
    event_base *base = ev->ev_base;
    core::LockGuard g(base->lock_);
    event_callback *cb = &ev->ev_evcallback;
    if (cb->evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) {
        ev->ev_res = static_cast<short>(ev->ev_res | res);
        return;
    }
    ev->ev_res = static_cast<short>(res);
    core::callback_activate_later_nolock(base, cb);
}

// A "virtual" event: counted by event_base_get_num_events/_max_events
// (EVENT_BASE_COUNT_VIRTUAL) and keeping the loop from returning for lack of events.
REEVENT_ADDON_ABI void event_base_add_virtual_(struct event_base *base) {
    core::LockGuard g(base->lock_);
    ++base->n_virtual_;
    if (base->n_virtual_ > base->max_virtual_) base->max_virtual_ = base->n_virtual_;
}

REEVENT_ADDON_ABI void event_base_del_virtual_(struct event_base *base) {
    core::LockGuard g(base->lock_);
    REEVENT_ASSERT(base->n_virtual_ > 0);
    // The last one gone: a loop sleeping with nothing else to wait for may return.
    if (--base->n_virtual_ == 0) core::notify_if_needed(base);
}

// ---- bare callbacks (struct event_callback) -------------------------------------------------

// Zeroes cb and gives it the base's least urgent priority (closure kClosureEvent: only an
// event's callback may be run like that; a caller sets the closure and function next).
REEVENT_ADDON_ABI void event_callback_init_(struct event_base *base, struct event_callback *cb) {
    *cb = event_callback{};
    cb->evcb_pri = static_cast<uint8_t>(base->nactiveq_ - 1);
}

// A deferred callback: fn(cb, arg) runs from the loop once per activation.
REEVENT_ADDON_ABI void event_deferred_cb_init_(struct event_callback *cb, ev_uint8_t priority,
                                               SelfCallback fn, void *arg) {
    *cb = event_callback{};
    cb->evcb_cb_union.evcb_selfcb = fn;
    cb->evcb_arg = arg;
    cb->evcb_pri = priority;
    cb->evcb_closure = core::kClosureCbSelf;
}

REEVENT_ADDON_ABI void event_deferred_cb_set_priority_(struct event_callback *cb,
                                                       ev_uint8_t priority) {
    cb->evcb_pri = priority;
}

// Activates cb on base (NULL: the current base): on its active queue now for the first 32
// per loop iteration, on the "later" queue beyond that. 1 if it was queued by this call.
REEVENT_ADDON_ABI int event_deferred_cb_schedule_(struct event_base *base,
                                                  struct event_callback *cb) {
    base = core::base_or_current(base);
    if (!base) return 0;
    core::LockGuard g(base->lock_);
    if (base->n_deferreds_queued_ > kMaxDeferredsNow)
        return core::callback_activate_later_nolock(base, cb) ? 1 : 0;
    const int r = activate_callback(base, cb);
    if (r) ++base->n_deferreds_queued_;
    return r;
}

REEVENT_ADDON_ABI void event_deferred_cb_cancel_(struct event_base *base,
                                                 struct event_callback *cb) {
    base = core::base_or_current(base);
    if (!base) return;
    core::LockGuard g(base->lock_);
    cancel_callback(base, cb, false);
}

REEVENT_ADDON_ABI int event_callback_activate_(struct event_base *base,
                                               struct event_callback *cb) {
    core::LockGuard g(base->lock_);
    return activate_callback(base, cb);
}

REEVENT_ADDON_ABI int event_callback_activate_nolock_(struct event_base *base,
                                                      struct event_callback *cb) {
    return activate_callback(base, cb);
}

// Onto the "later" queue (run in the loop's next round); 0 if already active or later.
REEVENT_ADDON_ABI int event_callback_activate_later_nolock_(struct event_base *base,
                                                            struct event_callback *cb) {
    return core::callback_activate_later_nolock(base, cb) ? 1 : 0;
}

REEVENT_ADDON_ABI int event_callback_cancel_(struct event_base *base,
                                             struct event_callback *cb) {
    core::LockGuard g(base->lock_);
    return cancel_callback(base, cb, false);
}

REEVENT_ADDON_ABI int event_callback_cancel_nolock_(struct event_base *base,
                                                    struct event_callback *cb,
                                                    int even_if_finalizing) {
    return cancel_callback(base, cb, even_if_finalizing != 0);
}

REEVENT_ADDON_ABI void event_callback_finalize_(struct event_base *base, unsigned flags,
                                                struct event_callback *cb, SelfCallback fn) {
    (void)flags;  // libevent ignores them too
    core::LockGuard g(base->lock_);
    finalize_callback(base, cb, fn);
}

REEVENT_ADDON_ABI void event_callback_finalize_nolock_(struct event_base *base, unsigned flags,
                                                       struct event_callback *cb,
                                                       SelfCallback fn) {
    (void)flags;
    finalize_callback(base, cb, fn);
}

// Finalizes a group of callbacks that share one finalizer: the one running now (if any)
// gets fn, the others are cancelled; with none running, the first gets fn. Always 0.
REEVENT_ADDON_ABI int event_callback_finalize_many_(struct event_base *base, int n_cbs,
                                                    struct event_callback **cbs,
                                                    SelfCallback fn) {
    base = core::base_or_current(base);
    if (!base || n_cbs <= 0) return 0;
    core::LockGuard g(base->lock_);
    int n_pending = 0;
    for (int i = 0; i < n_cbs; ++i) {
        if (cbs[i] == base->current_) {
            finalize_callback(base, cbs[i], fn);
            ++n_pending;
        } else {
            cancel_callback(base, cbs[i], false);
        }
    }
    if (n_pending == 0) finalize_callback(base, cbs[0], fn);
    return 0;
}

}  // extern "C"
