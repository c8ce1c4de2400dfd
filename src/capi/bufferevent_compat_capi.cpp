// C API of <event2/bufferevent_compat.h>: the libevent 1.x bufferevent constructor and
// timeout setter, on top of the 2.x calls.
#include <event2/bufferevent.h>
#include <event2/bufferevent_compat.h>

#include "bufferevent/kinds.h"

struct bufferevent *bufferevent_new(evutil_socket_t fd, evbuffercb readcb, evbuffercb writecb,
                                    everrorcb errorcb, void *cbarg) {
    // A NULL base means the current one (event_init), as event_set does.
    struct bufferevent *bev = reevent::bev::socket_new(nullptr, fd, 0);
    if (bev) bufferevent_setcb(bev, readcb, writecb, errorcb, cbarg);
    return bev;
}

void bufferevent_settimeout(struct bufferevent *bufev, int timeout_read, int timeout_write) {
    if (!bufev) return;
    struct timeval tr = {timeout_read, 0}, tw = {timeout_write, 0};
    bufferevent_set_timeouts(bufev, timeout_read ? &tr : nullptr, timeout_write ? &tw : nullptr);
}
