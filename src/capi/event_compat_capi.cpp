// extern "C" entry points of <event2/event_compat.h>: the 1.x API on the "current" base
// (the one created by the last event_init()).
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/event_struct.h>

#include "core/base.h"
#include "core/log.h"

namespace core = reevent::core;

extern "C" {

struct event_base *event_init(void) {
    struct event_base *base = core::base_new(nullptr);
    core::set_current_base(base);
    return base;
}

int event_dispatch(void) { return event_loop(0); }

int event_loop(int flags) {
    event_base *base = core::current_base();
    if (!base) {
        reevent::log::warn("%s: no current base (call event_init first)", __func__);
        return -1;
    }
    return core::loop(base, flags);
}

int event_loopexit(const struct timeval *tv) {
    event_base *base = core::current_base();
    if (!base) return -1;
    return core::loopexit(base, tv);
}

int event_loopbreak(void) {
    event_base *base = core::current_base();
    if (!base) return -1;
    return core::loopbreak(base);
}

int event_once(evutil_socket_t fd, short events, void (*cb)(evutil_socket_t, short, void *),
               void *arg, const struct timeval *tv) {
    event_base *base = core::current_base();
    if (!base || !cb) return -1;
    return core::once(base, fd, events, cb, arg, tv);
}

const char *event_get_method(void) {
    event_base *base = core::current_base();
    return base ? base->method_name_ : nullptr;
}

int event_priority_init(int npriorities) {
    event_base *base = core::current_base();
    if (!base) return -1;
    return core::base_priority_init(base, npriorities);
}

void event_set(struct event *ev, evutil_socket_t fd, short events,
               void (*cb)(evutil_socket_t, short, void *), void *arg) {
    if (!ev) return;
    // libevent asserts here; a bad combination of flags is logged by assign instead.
    core::assign(ev, core::current_base(), fd, events, cb, arg);
}

}  // extern "C"
