// C API of <event2/listener.h>: argument checks and one call into src/listener each.
#include <event2/listener.h>

#include "core/base.h"
#include "listener/listener.h"

extern "C" {

struct evconnlistener *evconnlistener_new(struct event_base *base, evconnlistener_cb cb,
                                          void *ptr, unsigned flags, int backlog,
                                          evutil_socket_t fd) {
    // A NULL base: the current base of event_init (none: no listener).
    return evconnlistener::create(reevent::core::base_or_current(base), cb, ptr, flags, backlog, fd);
}

struct evconnlistener *evconnlistener_new_bind(struct event_base *base, evconnlistener_cb cb,
                                               void *ptr, unsigned flags, int backlog,
                                               const struct sockaddr *sa, int socklen) {
    base = reevent::core::base_or_current(base);
    if (!base) return nullptr;
    return evconnlistener::create_bound(base, cb, ptr, flags, backlog, sa, socklen);
}

void evconnlistener_free(struct evconnlistener *lev) {
    if (lev) lev->release();
}

int evconnlistener_enable(struct evconnlistener *lev) { return lev ? lev->enable() : -1; }

int evconnlistener_disable(struct evconnlistener *lev) { return lev ? lev->disable() : -1; }

struct event_base *evconnlistener_get_base(struct evconnlistener *lev) {
    return lev ? lev->base() : nullptr;
}

evutil_socket_t evconnlistener_get_fd(struct evconnlistener *lev) { return lev ? lev->fd() : -1; }

void evconnlistener_set_cb(struct evconnlistener *lev, evconnlistener_cb cb, void *arg) {
    if (lev) lev->set_callback(cb, arg);
}

void evconnlistener_set_error_cb(struct evconnlistener *lev, evconnlistener_errorcb errorcb) {
    if (lev) lev->set_error_callback(errorcb);
}

}  // extern "C"
