/* reevent: HTTP helpers (libevent 2.1 <event2/http.h>, compatible subset).
 *
 * What is here works exactly as libevent 2.1.12's functions of the same names: RFC 3986
 * URI references (parse, inspect, change, join), percent-encoding, query-string parsing,
 * HTML escaping, and the evkeyvalq header lists those use. They live in libevent_extra.
 *
 * Not here yet: the HTTP server and client (evhttp_new, evhttp_connection_*, requests).
 * Those functions are simply not declared or exported until they are implemented. */
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
