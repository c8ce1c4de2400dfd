/* reevent: accepting TCP connections (libevent 2.1 <event2/listener.h>, compatible).
 *
 * An evconnlistener watches a listening socket on an event_base and hands every accepted
 * connection to a callback. reevent accepts with one accept4() call per connection (so the
 * new socket is non-blocking and, with LEV_OPT_CLOSE_ON_EXEC, close-on-exec from birth) and
 * survives descriptor exhaustion: on EMFILE/ENFILE the error callback runs, the listener
 * pauses with a growing delay instead of spinning, and resumes on its own. */
#ifndef EVENT2_LISTENER_H_INCLUDED_
#define EVENT2_LISTENER_H_INCLUDED_

#include <event2/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

#include <event2/event.h>

struct sockaddr;
struct evconnlistener;

/* A new connection: its socket (now owned by the callback), the peer address and its
 * length, and the pointer given at creation or to evconnlistener_set_cb. */
typedef void (*evconnlistener_cb)(struct evconnlistener *, evutil_socket_t, struct sockaddr *,
    int socklen, void *);

/* accept() failed for a reason other than "try again"; errno (EVUTIL_SOCKET_ERROR()) says
 * why. Runs once per failure. */
typedef void (*evconnlistener_errorcb)(struct evconnlistener *, void *);

/* Accepted sockets stay blocking (by default they are made non-blocking). */
#define LEV_OPT_LEAVE_SOCKETS_BLOCKING	(1u<<0)
/* evconnlistener_free closes the listening socket. */
#define LEV_OPT_CLOSE_ON_FREE		(1u<<1)
/* The listening socket (new_bind) and accepted sockets get FD_CLOEXEC. */
#define LEV_OPT_CLOSE_ON_EXEC		(1u<<2)
/* SO_REUSEADDR on the listening socket (new_bind). */
#define LEV_OPT_REUSEABLE		(1u<<3)
/* The listener may be used from several threads (reevent always locks it). */
#define LEV_OPT_THREADSAFE		(1u<<4)
/* Created disabled; evconnlistener_enable starts it. */
#define LEV_OPT_DISABLED		(1u<<5)
/* TCP_DEFER_ACCEPT: wake only once the peer has sent data (new_bind). */
#define LEV_OPT_DEFERRED_ACCEPT		(1u<<6)
/* SO_REUSEPORT on the listening socket (new_bind). */
#define LEV_OPT_REUSEABLE_PORT		(1u<<7)
/* IPV6_V6ONLY on the listening socket (new_bind). */
#define LEV_OPT_BIND_IPV6ONLY		(1u<<8)

/* Listens on fd, a bound socket. backlog > 0: listen(fd, backlog); -1 (any negative): a
 * default backlog; 0: fd is already listening. A NULL cb leaves the listener idle until
 * evconnlistener_set_cb gives it one. NULL on failure. */
EVENT2_EXPORT_SYMBOL
struct evconnlistener *evconnlistener_new(struct event_base *base,
    evconnlistener_cb cb, void *ptr, unsigned flags, int backlog,
    evutil_socket_t fd);

/* Creates a non-blocking TCP socket for sa, applies the LEV_OPT_* socket options, binds and
 * listens. backlog 0 is refused. NULL on failure (the socket is closed again). */
EVENT2_EXPORT_SYMBOL
struct evconnlistener *evconnlistener_new_bind(struct event_base *base,
    evconnlistener_cb cb, void *ptr, unsigned flags, int backlog,
    const struct sockaddr *sa, int socklen);

/* Stops and frees the listener (closing the socket with LEV_OPT_CLOSE_ON_FREE). Safe from
 * inside its own callbacks. */
EVENT2_EXPORT_SYMBOL
void evconnlistener_free(struct evconnlistener *lev);

/* Resume / pause accepting. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int evconnlistener_enable(struct evconnlistener *lev);
EVENT2_EXPORT_SYMBOL
int evconnlistener_disable(struct evconnlistener *lev);

EVENT2_EXPORT_SYMBOL
struct event_base *evconnlistener_get_base(struct evconnlistener *lev);

EVENT2_EXPORT_SYMBOL
evutil_socket_t evconnlistener_get_fd(struct evconnlistener *lev);

/* Replaces the connection callback and its argument. Setting a callback on an enabled
 * listener that had none starts it. */
EVENT2_EXPORT_SYMBOL
void evconnlistener_set_cb(struct evconnlistener *lev,
    evconnlistener_cb cb, void *arg);

EVENT2_EXPORT_SYMBOL
void evconnlistener_set_error_cb(struct evconnlistener *lev,
    evconnlistener_errorcb errorcb);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_LISTENER_H_INCLUDED_ */
