// libevent-internal names of the event loop that libevent 2.1's core exports without a
// public header and that programs and test suites written against libevent call (its
// regress suite does): exported with libevent's signatures and behaviour for binary
// compatibility. Only small ones over the public struct event / the base's counters; the
// callback and deferred-callback internals (struct event_callback queues) are not here.
#include <event2/event.h>
#include <event2/event_struct.h>

#include "core/addon_abi.h"
#include "core/base.h"
#include "core/log.h"

using namespace reevent;

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

}  // extern "C"
