// The "current base" for the add-on libraries (libevent_extra: evhttp, evdns, evrpc).
//
// libevent's objects made with a NULL event_base run on the current base, the one event_init
// made (evhttp_new(NULL), evhttp_connection_new and evdns_init are the usual cases, in old
// programs and in libevent's own rpc tests). Inside libevent_core that is
// core::base_or_current (core/base.h). libevent_extra cannot call core's internals and core
// exports no reevent-specific symbol for it, so it asks through event_new, the public call
// that falls back to the current base.
#pragma once

#include <event2/event.h>

namespace reevent::addon {

// base itself, or else the current base (nullptr when there is none).
inline event_base *base_or_current(event_base *base) noexcept {
    if (base) return base;
    event *probe = event_new(nullptr, -1, 0, [](evutil_socket_t, short, void *) {}, nullptr);
    if (!probe) return nullptr;
    event_base *current = event_get_base(probe);
    event_free(probe);
    return current;
}

}  // namespace reevent::addon
