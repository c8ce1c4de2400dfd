/* reevent: HTTP names kept for programs written against libevent 1.x (libevent 2.1
 * <event2/http_compat.h>, compatible subset). */
#ifndef EVENT2_HTTP_COMPAT_H_INCLUDED_
#define EVENT2_HTTP_COMPAT_H_INCLUDED_

#include <event2/event-config.h>
#include <event2/http.h>
#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;

/* A server on the global base (event_init) listening on address:port; NULL when there is
 * no global base or the socket cannot be bound. */
EVENT2_EXPORT_SYMBOL
struct evhttp *evhttp_start(const char *address, ev_uint16_t port);

/* A client connection on the global base (event_init); evhttp_connection_set_base moves
 * it to another base. */
EVENT2_EXPORT_SYMBOL
struct evhttp_connection *evhttp_connection_new(const char *address, ev_uint16_t port);
EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_base(struct evhttp_connection *evcon, struct event_base *base);

#ifdef __cplusplus
}
#endif

/* The 1.x name of evhttp_request_get_uri. */
#define evhttp_request_uri evhttp_request_get_uri

#endif /* EVENT2_HTTP_COMPAT_H_INCLUDED_ */
