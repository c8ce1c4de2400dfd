/* reevent: HTTP names kept for programs written against libevent 1.x (libevent 2.1
 * <event2/http_compat.h>, compatible subset).
 *
 * evhttp_start, evhttp_connection_new and evhttp_connection_set_base (the client and the
 * server on the implicit global base) are not implemented and so not declared. */
#ifndef EVENT2_HTTP_COMPAT_H_INCLUDED_
#define EVENT2_HTTP_COMPAT_H_INCLUDED_

#include <event2/event-config.h>
#include <event2/http.h>
#include <event2/util.h>

/* The 1.x name of evhttp_request_get_uri. */
#define evhttp_request_uri evhttp_request_get_uri

#endif /* EVENT2_HTTP_COMPAT_H_INCLUDED_ */
