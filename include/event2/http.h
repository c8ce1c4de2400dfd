/* reevent: HTTP helpers (libevent 2.1 <event2/http.h>, compatible subset).
 *
 * What is here works exactly as libevent 2.1.12's functions of the same names: the HTTP
 * server (evhttp, its incoming connections and requests), RFC 3986 URI references (parse,
 * inspect, change, join), percent-encoding, query-string parsing, HTML escaping, and the
 * evkeyvalq header lists those use. They live in libevent_extra.
 *
 * Those functions are simply not declared or exported
 * until they are implemented. */
#ifndef EVENT2_HTTP_H_INCLUDED_
#define EVENT2_HTTP_H_INCLUDED_

#include <event2/util.h>
#include <event2/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evbuffer;
struct event_base;
struct bufferevent;
struct evhttp_connection;
struct evkeyvalq;
struct evdns_base;
struct sockaddr;

/* Response codes, as libevent names them. */
#define HTTP_OK 200
#define HTTP_NOCONTENT 204
#define HTTP_MOVEPERM 301
#define HTTP_MOVETEMP 302
#define HTTP_NOTMODIFIED 304
#define HTTP_BADREQUEST 400
#define HTTP_NOTFOUND 404
#define HTTP_BADMETHOD 405
#define HTTP_ENTITYTOOLARGE 413
#define HTTP_EXPECTATIONFAILED 417
#define HTTP_INTERNAL 500
#define HTTP_NOTIMPLEMENTED 501
#define HTTP_SERVUNAVAIL 503

/* ---- the server ---------------------------------------------------------------------- */

struct evhttp;
struct evhttp_request;
struct evhttp_bound_socket;
struct evconnlistener;

/* Methods, as bits (evhttp_set_allowed_methods takes a mask of them). */
enum evhttp_cmd_type {
	EVHTTP_REQ_GET     = 1 << 0,
	EVHTTP_REQ_POST    = 1 << 1,
	EVHTTP_REQ_HEAD    = 1 << 2,
	EVHTTP_REQ_PUT     = 1 << 3,
	EVHTTP_REQ_DELETE  = 1 << 4,
	EVHTTP_REQ_OPTIONS = 1 << 5,
	EVHTTP_REQ_TRACE   = 1 << 6,
	EVHTTP_REQ_CONNECT = 1 << 7,
	EVHTTP_REQ_PATCH   = 1 << 8
};

/* A request read by the server is EVHTTP_REQUEST until it is answered. */
enum evhttp_request_kind { EVHTTP_REQUEST, EVHTTP_RESPONSE };

/* Why a request failed (libevent's error callbacks; listed for struct evhttp_request). */
enum evhttp_request_error {
	EVREQ_HTTP_TIMEOUT,
	EVREQ_HTTP_EOF,
	EVREQ_HTTP_INVALID_HEADER,
	EVREQ_HTTP_BUFFER_ERROR,
	EVREQ_HTTP_REQUEST_CANCEL,
	EVREQ_HTTP_DATA_TOO_LONG
};

/* A server on base, with no socket and no callback yet. NULL on failure. */
EVENT2_EXPORT_SYMBOL
struct evhttp *evhttp_new(struct event_base *base);

/* Closes the sockets and every connection (their close callbacks run), frees the requests
 * the program does not own, and the server. */
EVENT2_EXPORT_SYMBOL
void evhttp_free(struct evhttp *http);

/* Binds a listening socket on address:port (a port of 0 picks a free one) and serves on
 * it. 0 / -1. */
EVENT2_EXPORT_SYMBOL
int evhttp_bind_socket(struct evhttp *http, const char *address, ev_uint16_t port);

/* As evhttp_bind_socket, returning the bound socket (NULL on failure). */
EVENT2_EXPORT_SYMBOL
struct evhttp_bound_socket *evhttp_bind_socket_with_handle(struct evhttp *http,
    const char *address, ev_uint16_t port);

/* Serves on fd, a socket the program has bound and put in listening state; the server
 * closes it when it is done. 0 / -1. */
EVENT2_EXPORT_SYMBOL
int evhttp_accept_socket(struct evhttp *http, evutil_socket_t fd);

/* As evhttp_accept_socket, returning the bound socket (NULL on failure). */
EVENT2_EXPORT_SYMBOL
struct evhttp_bound_socket *evhttp_accept_socket_with_handle(struct evhttp *http,
    evutil_socket_t fd);

/* Serves on the connections listener accepts; the server owns and frees it. */
EVENT2_EXPORT_SYMBOL
struct evhttp_bound_socket *evhttp_bind_listener(struct evhttp *http,
    struct evconnlistener *listener);

EVENT2_EXPORT_SYMBOL
struct evconnlistener *evhttp_bound_socket_get_listener(struct evhttp_bound_socket *bound);

typedef void evhttp_bound_socket_foreach_fn(struct evhttp_bound_socket *, void *);

/* Calls function(bound, argument) for each bound socket, in the order they were added. */
EVENT2_EXPORT_SYMBOL
void evhttp_foreach_bound_socket(struct evhttp *http, evhttp_bound_socket_foreach_fn *function,
    void *argument);

/* Stops serving on bound_socket and closes it. */
EVENT2_EXPORT_SYMBOL
void evhttp_del_accept_socket(struct evhttp *http, struct evhttp_bound_socket *bound_socket);

EVENT2_EXPORT_SYMBOL
evutil_socket_t evhttp_bound_socket_get_fd(struct evhttp_bound_socket *bound_socket);

/* Limits for requests read from new connections: a request line plus headers longer than
 * max_headers_size is answered 400, a body longer than max_body_size 413. A negative
 * value means no limit (the default). */
EVENT2_EXPORT_SYMBOL
void evhttp_set_max_headers_size(struct evhttp *http, ev_ssize_t max_headers_size);
EVENT2_EXPORT_SYMBOL
void evhttp_set_max_body_size(struct evhttp *http, ev_ssize_t max_body_size);

/* Content-Type of replies that set none ("text/html; charset=ISO-8859-1" by default;
 * NULL: no Content-Type is added). The string is copied. */
EVENT2_EXPORT_SYMBOL
void evhttp_set_default_content_type(struct evhttp *http, const char *content_type);

/* Methods the server serves; others are answered 501. Default: GET POST HEAD PUT DELETE. */
EVENT2_EXPORT_SYMBOL
void evhttp_set_allowed_methods(struct evhttp *http, ev_uint16_t methods);

/* Calls cb for requests whose path (percent-decoded, without query) is exactly path.
 * 0, -1 when path already has a callback, -2 on failure. */
EVENT2_EXPORT_SYMBOL
int evhttp_set_cb(struct evhttp *http, const char *path,
    void (*cb)(struct evhttp_request *, void *), void *cb_arg);

/* Removes the callback of path: 0, or -1 when there is none. */
EVENT2_EXPORT_SYMBOL
int evhttp_del_cb(struct evhttp *http, const char *path);

/* The callback for requests no path callback takes (without one they get a 404 page). */
EVENT2_EXPORT_SYMBOL
void evhttp_set_gencb(struct evhttp *http,
    void (*cb)(struct evhttp_request *, void *), void *arg);

/* Serves requests whose host matches pattern ('*' matches any run of characters, case is
 * ignored) with vhost's callbacks: vhost is a server of its own with no socket. The server
 * frees its virtual hosts. 0, or -1 when vhost already is a virtual host. */
EVENT2_EXPORT_SYMBOL
int evhttp_add_virtual_host(struct evhttp *http, const char *pattern, struct evhttp *vhost);

/* Takes vhost back (the program frees it): 0, or -1 when it is not one of http's. */
EVENT2_EXPORT_SYMBOL
int evhttp_remove_virtual_host(struct evhttp *http, struct evhttp *vhost);

/* Another host name of the server: requests naming it are not proxy requests, and one
 * given to a virtual host selects that virtual host. 0 / -1. */
EVENT2_EXPORT_SYMBOL
int evhttp_add_server_alias(struct evhttp *http, const char *alias);

/* Removes an alias (case ignored): 0, or -1 when there is none. */
EVENT2_EXPORT_SYMBOL
int evhttp_remove_server_alias(struct evhttp *http, const char *alias);

/* Makes the bufferevent of each new connection with cb(base, arg) instead of a plain
 * socket bufferevent; the server sets its fd. */
EVENT2_EXPORT_SYMBOL
void evhttp_set_bevcb(struct evhttp *http,
    struct bufferevent *(*cb)(struct event_base *, void *), void *arg);

/* Read and write timeout of new connections, in seconds (default 50). */
EVENT2_EXPORT_SYMBOL
void evhttp_set_timeout(struct evhttp *http, int timeout_in_secs);
EVENT2_EXPORT_SYMBOL
void evhttp_set_timeout_tv(struct evhttp *http, const struct timeval *tv);

/* A body over max_body_size is read to its end (and dropped) before the 413 goes out, so
 * that the client still sending it gets the answer rather than a reset. */
#define EVHTTP_SERVER_LINGERING_CLOSE	0x0001
/* Flags of the server (EVHTTP_SERVER_*), for connections accepted from now on: 0, or
 * nonzero (and nothing changed) for a flag it does not know. */
EVENT2_EXPORT_SYMBOL
int evhttp_set_flags(struct evhttp *http, int flags);

/* ---- answering a request ----------------------------------------------------------- */

/* An error page for code (reason: the standard phrase when NULL); the connection closes
 * after it. */
EVENT2_EXPORT_SYMBOL
void evhttp_send_error(struct evhttp_request *req, int error, const char *reason);

/* The reply: status line, headers (Date, Content-Length, Content-Type and Connection
 * added as needed) and databuf's content (drained; NULL for none). The request is freed
 * once the reply is written, unless the program owns it. */
EVENT2_EXPORT_SYMBOL
void evhttp_send_reply(struct evhttp_request *req, int code, const char *reason,
    struct evbuffer *databuf);

/* A reply sent in pieces: chunked for HTTP/1.1, the raw body up to a close for 1.0. */
EVENT2_EXPORT_SYMBOL
void evhttp_send_reply_start(struct evhttp_request *req, int code, const char *reason);
EVENT2_EXPORT_SYMBOL
void evhttp_send_reply_chunk(struct evhttp_request *req, struct evbuffer *databuf);
/* As evhttp_send_reply_chunk; cb(conn, arg) runs once this piece has been written. */
EVENT2_EXPORT_SYMBOL
void evhttp_send_reply_chunk_with_cb(struct evhttp_request *req, struct evbuffer *databuf,
    void (*cb)(struct evhttp_connection *, void *), void *arg);
EVENT2_EXPORT_SYMBOL
void evhttp_send_reply_end(struct evhttp_request *req);

/* ---- requests ---------------------------------------------------------------------- */

/* The program frees the request itself (evhttp_request_free) after it is answered. */
EVENT2_EXPORT_SYMBOL
void evhttp_request_own(struct evhttp_request *req);
EVENT2_EXPORT_SYMBOL
int evhttp_request_is_owned(struct evhttp_request *req);
EVENT2_EXPORT_SYMBOL
void evhttp_request_free(struct evhttp_request *req);

/* The connection of a request; NULL once it is gone. */
EVENT2_EXPORT_SYMBOL
struct evhttp_connection *evhttp_request_get_connection(struct evhttp_request *req);

EVENT2_EXPORT_SYMBOL
const char *evhttp_request_get_uri(const struct evhttp_request *req);
EVENT2_EXPORT_SYMBOL
const struct evhttp_uri *evhttp_request_get_evhttp_uri(const struct evhttp_request *req);
EVENT2_EXPORT_SYMBOL
enum evhttp_cmd_type evhttp_request_get_command(const struct evhttp_request *req);
EVENT2_EXPORT_SYMBOL
int evhttp_request_get_response_code(const struct evhttp_request *req);
EVENT2_EXPORT_SYMBOL
const char *evhttp_request_get_response_code_line(const struct evhttp_request *req);
EVENT2_EXPORT_SYMBOL
struct evkeyvalq *evhttp_request_get_input_headers(struct evhttp_request *req);
EVENT2_EXPORT_SYMBOL
struct evkeyvalq *evhttp_request_get_output_headers(struct evhttp_request *req);
EVENT2_EXPORT_SYMBOL
struct evbuffer *evhttp_request_get_input_buffer(struct evhttp_request *req);
EVENT2_EXPORT_SYMBOL
struct evbuffer *evhttp_request_get_output_buffer(struct evhttp_request *req);

/* The host the request names: the host of an absolute URI, else the Host header without
 * its port; NULL when neither is there. */
EVENT2_EXPORT_SYMBOL
const char *evhttp_request_get_host(struct evhttp_request *req);

/* ---- the client -------------------------------------------------------------------- */

/* Flags of evhttp_connection_set_flags (only REUSE_CONNECTED_ADDR is accepted). */
#define EVHTTP_CON_REUSE_CONNECTED_ADDR	0x0008
#define EVHTTP_CON_READ_ON_WRITE_ERROR	0x0010
#define EVHTTP_CON_LINGERING_CLOSE	0x0020
#define EVHTTP_CON_PUBLIC_FLAGS_END	0x100000

/* A request to send with evhttp_make_request; cb(req, arg) gets the response (NULL, or a
 * request with response code 0, when there is none). */
EVENT2_EXPORT_SYMBOL
struct evhttp_request *evhttp_request_new(void (*cb)(struct evhttp_request *, void *),
    void *arg);
/* cb runs for each piece of the response body as it arrives (the piece is then dropped). */
EVENT2_EXPORT_SYMBOL
void evhttp_request_set_chunked_cb(struct evhttp_request *req,
    void (*cb)(struct evhttp_request *, void *));
/* cb runs once the response head is read; a negative return drops the request. */
EVENT2_EXPORT_SYMBOL
void evhttp_request_set_header_cb(struct evhttp_request *req,
    int (*cb)(struct evhttp_request *, void *));
/* cb runs (before the request callback) when the request fails. */
EVENT2_EXPORT_SYMBOL
void evhttp_request_set_error_cb(struct evhttp_request *req,
    void (*cb)(enum evhttp_request_error, void *));
/* Server side: cb(req, arg) runs once the reply to req has been written. */
EVENT2_EXPORT_SYMBOL
void evhttp_request_set_on_complete_cb(struct evhttp_request *req,
    void (*cb)(struct evhttp_request *, void *), void *cb_arg);

/* An outgoing connection to address:port, made when the first request is queued. Names
 * are resolved with dnsbase, or a blocking lookup when it is NULL. */
EVENT2_EXPORT_SYMBOL
struct evhttp_connection *evhttp_connection_base_new(struct event_base *base,
    struct evdns_base *dnsbase, const char *address, ev_uint16_t port);
/* The same on the given bufferevent (NULL: a socket bufferevent of its own). */
EVENT2_EXPORT_SYMBOL
struct evhttp_connection *evhttp_connection_base_bufferevent_new(struct event_base *base,
    struct evdns_base *dnsbase, struct bufferevent *bev, const char *address,
    ev_uint16_t port);
/* Queues req (the connection takes it); 0, or -1. */
EVENT2_EXPORT_SYMBOL
int evhttp_make_request(struct evhttp_connection *evcon, struct evhttp_request *req,
    enum evhttp_cmd_type type, const char *uri);
/* Drops a queued request (its error callback gets EVREQ_HTTP_REQUEST_CANCEL when it was
 * under way); its request callback does not run. */
EVENT2_EXPORT_SYMBOL
void evhttp_cancel_request(struct evhttp_request *req);

/* Read and write timeout (also the connect timeout); -1 / NULL: the defaults. */
EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_timeout(struct evhttp_connection *evcon, int timeout_in_secs);
EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_timeout_tv(struct evhttp_connection *evcon,
    const struct timeval *tv);
/* Failed connects are tried again retry_max times (-1: forever), waiting initial_retry
 * (default 2 s), then twice as long each time. */
EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_initial_retry_tv(struct evhttp_connection *evcon,
    const struct timeval *tv);
EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_retries(struct evhttp_connection *evcon, int retry_max);
EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_local_address(struct evhttp_connection *evcon,
    const char *address);
EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_local_port(struct evhttp_connection *evcon, ev_uint16_t port);
/* AF_INET, AF_INET6 or AF_UNSPEC for the name lookup. */
EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_family(struct evhttp_connection *evcon, int family);
/* 0, or 1 for a flag not taken. */
EVENT2_EXPORT_SYMBOL
int evhttp_connection_set_flags(struct evhttp_connection *evcon, int flags);
/* The connection frees itself once its last queued request has finished or failed. */
EVENT2_EXPORT_SYMBOL
void evhttp_connection_free_on_completion(struct evhttp_connection *evcon);
/* The peer's address while connected (NULL otherwise); it lives in the connection. */
EVENT2_EXPORT_SYMBOL
const struct sockaddr *evhttp_connection_get_addr(struct evhttp_connection *evcon);
/* The server of an incoming connection; NULL for an outgoing one. */
EVENT2_EXPORT_SYMBOL
struct evhttp *evhttp_connection_get_server(struct evhttp_connection *evcon);

/* ---- connections ------------------------------------------------------------------- */

/* Closes the connection (its close callback runs) and frees its request unless the
 * program owns it. */
EVENT2_EXPORT_SYMBOL
void evhttp_connection_free(struct evhttp_connection *evcon);

EVENT2_EXPORT_SYMBOL
struct bufferevent *evhttp_connection_get_bufferevent(struct evhttp_connection *evcon);
EVENT2_EXPORT_SYMBOL
struct event_base *evhttp_connection_get_base(struct evhttp_connection *evcon);

/* The peer's numeric address (owned by the connection) and port. */
EVENT2_EXPORT_SYMBOL
void evhttp_connection_get_peer(struct evhttp_connection *evcon, char **address,
    ev_uint16_t *port);

/* cb(evcon, cbarg) runs when the connection closes. */
EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_closecb(struct evhttp_connection *evcon,
    void (*cb)(struct evhttp_connection *, void *), void *cbarg);

/* Limits for the next requests read on this connection (see evhttp_set_max_*). */
EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_max_headers_size(struct evhttp_connection *evcon,
    ev_ssize_t new_max_headers_size);
EVENT2_EXPORT_SYMBOL
void evhttp_connection_set_max_body_size(struct evhttp_connection *evcon,
    ev_ssize_t new_max_body_size);

/* ---- header lists (struct evkeyvalq from <event2/keyvalq_struct.h>) ---------------- */

/* The value of the first header whose name matches key (ASCII case-insensitive), or NULL. */
EVENT2_EXPORT_SYMBOL
const char *evhttp_find_header(const struct evkeyvalq *headers, const char *key);

/* Removes the first header named key: 0, or -1 when there is none. */
EVENT2_EXPORT_SYMBOL
int evhttp_remove_header(struct evkeyvalq *headers, const char *key);

/* Appends a copy of key: value. -1 (nothing added) when the key or the value holds CR or
 * LF (header injection). */
EVENT2_EXPORT_SYMBOL
int evhttp_add_header(struct evkeyvalq *headers, const char *key, const char *value);

/* Frees every entry; the list is empty afterwards. */
EVENT2_EXPORT_SYMBOL
void evhttp_clear_headers(struct evkeyvalq *headers);

/* ---- percent-encoding --------------------------------------------------------------- */

/* Every byte but RFC 3986's unreserved ones (ALPHA DIGIT - . _ ~) as %XX. Free the result
 * with free() (or the function set by event_set_mem_functions). NULL on failure. */
EVENT2_EXPORT_SYMBOL
char *evhttp_encode_uri(const char *str);

/* As evhttp_encode_uri for the first size bytes of str (all of it when size < 0; NUL bytes
 * inside are encoded), writing ' ' as '+' when space_to_plus is non-zero. */
EVENT2_EXPORT_SYMBOL
char *evhttp_uriencode(const char *str, ev_ssize_t size, int space_to_plus);

/* Decodes %XX escapes, and '+' as a space only after the first '?'. Prefer
 * evhttp_uridecode. */
EVENT2_EXPORT_SYMBOL
char *evhttp_decode_uri(const char *uri);

/* Decodes %XX escapes; '+' becomes a space when decode_plus is non-zero. The decoded length
 * goes to *size_out when size_out is not NULL (the result may hold NUL bytes). */
EVENT2_EXPORT_SYMBOL
char *evhttp_uridecode(const char *uri, int decode_plus, size_t *size_out);

/* Parses the query of a whole URI ("/path?a=1&b=2") into key/value pairs (values decoded,
 * '+' as space). 0, or -1 with the list left empty when the URI or a pair is malformed. */
EVENT2_EXPORT_SYMBOL
int evhttp_parse_query(const char *uri, struct evkeyvalq *headers);

/* As evhttp_parse_query for a bare query string ("a=1&b=2"). */
EVENT2_EXPORT_SYMBOL
int evhttp_parse_query_str(const char *uri, struct evkeyvalq *headers);

/* < > " ' & replaced by their HTML entities. NULL for NULL or on failure. */
EVENT2_EXPORT_SYMBOL
char *evhttp_htmlescape(const char *html);

/* ---- URI references (RFC 3986) ------------------------------------------------------ */

struct evhttp_uri;

/* A URI with no part set (port -1). */
EVENT2_EXPORT_SYMBOL
struct evhttp_uri *evhttp_uri_new(void);

/* EVHTTP_URI_* flags for later set_path/set_query/set_fragment checks. */
EVENT2_EXPORT_SYMBOL
void evhttp_uri_set_flags(struct evhttp_uri *uri, unsigned flags);

/* The parts, NULL when absent (a NULL host means no authority; "" an empty one). */
EVENT2_EXPORT_SYMBOL
const char *evhttp_uri_get_scheme(const struct evhttp_uri *uri);
EVENT2_EXPORT_SYMBOL
const char *evhttp_uri_get_userinfo(const struct evhttp_uri *uri);
EVENT2_EXPORT_SYMBOL
const char *evhttp_uri_get_host(const struct evhttp_uri *uri);
/* -1 when no port is set. */
EVENT2_EXPORT_SYMBOL
int evhttp_uri_get_port(const struct evhttp_uri *uri);
EVENT2_EXPORT_SYMBOL
const char *evhttp_uri_get_path(const struct evhttp_uri *uri);
EVENT2_EXPORT_SYMBOL
const char *evhttp_uri_get_query(const struct evhttp_uri *uri);
EVENT2_EXPORT_SYMBOL
const char *evhttp_uri_get_fragment(const struct evhttp_uri *uri);

/* Setters: NULL (or port -1) clears the part; 0, or -1 with the part unchanged when the
 * value is not well-formed for that part. */
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_scheme(struct evhttp_uri *uri, const char *scheme);
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_userinfo(struct evhttp_uri *uri, const char *userinfo);
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_host(struct evhttp_uri *uri, const char *host);
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_port(struct evhttp_uri *uri, int port);
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_path(struct evhttp_uri *uri, const char *path);
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_query(struct evhttp_uri *uri, const char *query);
EVENT2_EXPORT_SYMBOL
int evhttp_uri_set_fragment(struct evhttp_uri *uri, const char *fragment);

/* Parses a URI-reference: scheme://[userinfo@]host[:port]/path?query#fragment or a relative
 * reference. No percent-decoding is done. NULL when the text is not a URI-reference. */
EVENT2_EXPORT_SYMBOL
struct evhttp_uri *evhttp_uri_parse_with_flags(const char *source_uri, unsigned flags);

/* Accept characters RFC 3986 forbids in the path, query and fragment. */
#define EVHTTP_URI_NONCONFORMANT 0x01

/* evhttp_uri_parse_with_flags(source_uri, 0). */
EVENT2_EXPORT_SYMBOL
struct evhttp_uri *evhttp_uri_parse(const char *source_uri);

/* Frees a URI made by evhttp_uri_new or evhttp_uri_parse. */
EVENT2_EXPORT_SYMBOL
void evhttp_uri_free(struct evhttp_uri *uri);

/* Writes the URI into buf (limit bytes, NUL included) and returns buf; NULL when it does
 * not fit, or a host is set with a path that is neither empty nor starts with '/'. No
 * escaping is done. */
EVENT2_EXPORT_SYMBOL
char *evhttp_uri_join(struct evhttp_uri *uri, char *buf, size_t limit);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_HTTP_H_INCLUDED_ */
