// C API of <event2/http.h> (the server, and the URI, encoding, query and header helpers):
// argument checks and one call into src/http each, in header order. NULL arguments that
// libevent would crash on get a -1/NULL answer (or nothing is done) instead.
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_compat.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include <cstdint>
#include <cstring>

#include "capi/http_command.h"
#include "core/current_base.h"
#include "http/client.h"
#include "http/encoding.h"
#include "http/keyvalq.h"
#include "http/mem.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/server.h"
#include "http/uri.h"

using namespace reevent;

extern "C" {

// ---- the server -------------------------------------------------------------------------

struct evhttp *evhttp_new(struct event_base *base) {
    // libevent accepts NULL: the server then runs on the base of event_init, if any
    // (without one, callbacks and settings work and binding fails).
    return http::server_new(base);
}

void evhttp_free(struct evhttp *http) {
    if (http) http::server_free(http);
}

int evhttp_bind_socket(struct evhttp *http, const char *address, ev_uint16_t port) {
    return http && http::server_bind(http, address, port) ? 0 : -1;
}

struct evhttp_bound_socket *evhttp_bind_socket_with_handle(struct evhttp *http,
                                                           const char *address,
                                                           ev_uint16_t port) {
    return http ? http::server_bind(http, address, port) : nullptr;
}

int evhttp_accept_socket(struct evhttp *http, evutil_socket_t fd) {
    return http && fd >= 0 && http::server_accept_fd(http, fd) ? 0 : -1;
}

struct evhttp_bound_socket *evhttp_accept_socket_with_handle(struct evhttp *http,
                                                             evutil_socket_t fd) {
    return http && fd >= 0 ? http::server_accept_fd(http, fd) : nullptr;
}

struct evhttp_bound_socket *evhttp_bind_listener(struct evhttp *http,
                                                 struct evconnlistener *listener) {
    return http && listener ? http::server_adopt_listener(http, listener) : nullptr;
}

struct evconnlistener *evhttp_bound_socket_get_listener(struct evhttp_bound_socket *bound) {
    return bound ? bound->listener : nullptr;
}

void evhttp_foreach_bound_socket(struct evhttp *http, evhttp_bound_socket_foreach_fn *function,
                                 void *argument) {
    if (!http || !function) return;
    evhttp_bound_socket *b, *next;
    for (b = TAILQ_FIRST(&http->sockets); b; b = next) {
        next = TAILQ_NEXT(b, next);
        function(b, argument);
    }
}

void evhttp_del_accept_socket(struct evhttp *http, struct evhttp_bound_socket *bound_socket) {
    if (http && bound_socket) http::server_del_socket(http, bound_socket);
}

evutil_socket_t evhttp_bound_socket_get_fd(struct evhttp_bound_socket *bound_socket) {
    return bound_socket ? evconnlistener_get_fd(bound_socket->listener) : -1;
}

// Negative limits mean none.
static size_t limit_of(ev_ssize_t v) { return v < 0 ? SIZE_MAX : static_cast<size_t>(v); }

void evhttp_set_max_headers_size(struct evhttp *http, ev_ssize_t max_headers_size) {
    if (http) http->max_headers_size = limit_of(max_headers_size);
}

void evhttp_set_max_body_size(struct evhttp *http, ev_ssize_t max_body_size) {
    if (http) http->max_body_size = limit_of(max_body_size);
}

void evhttp_set_default_content_type(struct evhttp *http, const char *content_type) {
    if (!http) return;
    http::OwnedStr copy = content_type ? http::copy_str(content_type) : http::OwnedStr{};
    if (content_type && !copy) return;
    http->default_content_type = std::move(copy);
}

void evhttp_set_allowed_methods(struct evhttp *http, ev_uint16_t methods) {
    if (http) http->allowed_methods = methods;
}

int evhttp_set_cb(struct evhttp *http, const char *path,
                  void (*cb)(struct evhttp_request *, void *), void *cb_arg) {
    if (!http || !path || !cb) return -2;
    return http::server_set_cb(http, path, cb, cb_arg);
}

int evhttp_del_cb(struct evhttp *http, const char *path) {
    if (!http || !path) return -1;
    return http::server_del_cb(http, path);
}

void evhttp_set_gencb(struct evhttp *http, void (*cb)(struct evhttp_request *, void *),
                      void *arg) {
    if (!http) return;
    http->gencb = cb;
    http->gencb_arg = arg;
}

int evhttp_add_virtual_host(struct evhttp *http, const char *pattern, struct evhttp *vhost) {
    if (!http || !pattern || !vhost || vhost == http) return -1;
    return http::server_add_vhost(http, pattern, vhost);
}

int evhttp_remove_virtual_host(struct evhttp *http, struct evhttp *vhost) {
    if (!http || !vhost) return -1;
    return http::server_remove_vhost(http, vhost);
}

int evhttp_add_server_alias(struct evhttp *http, const char *alias) {
    if (!http || !alias) return -1;
    return http::server_add_alias(http, alias);
}

int evhttp_remove_server_alias(struct evhttp *http, const char *alias) {
    if (!http || !alias) return -1;
    return http::server_remove_alias(http, alias);
}

void evhttp_set_bevcb(struct evhttp *http,
                      struct bufferevent *(*cb)(struct event_base *, void *), void *arg) {
    if (!http) return;
    http->bevcb = cb;
    http->bevcb_arg = arg;
}

void evhttp_set_timeout(struct evhttp *http, int timeout_in_secs) {
    if (!http) return;
    // -1 restores the default.
    http->timeout = {timeout_in_secs < 0 ? 50 : timeout_in_secs, 0};
}

void evhttp_set_timeout_tv(struct evhttp *http, const struct timeval *tv) {
    if (!http) return;
    http->timeout = tv ? *tv : timeval{50, 0};
}

int evhttp_set_flags(struct evhttp *http, int flags) {
    // libevent answers 1 (not -1) for a flag it does not know, and leaves the flags alone.
    if (!http || (flags & ~EVHTTP_SERVER_LINGERING_CLOSE)) return 1;
    http->flags = flags;
    return 0;
}

// ---- answering a request ---------------------------------------------------------------

void evhttp_send_error(struct evhttp_request *req, int error, const char *reason) {
    if (req) http::send_error(req, error, reason);
}

void evhttp_send_reply(struct evhttp_request *req, int code, const char *reason,
                       struct evbuffer *databuf) {
    if (req) http::send_reply(req, code, reason, databuf);
}

void evhttp_send_reply_start(struct evhttp_request *req, int code, const char *reason) {
    if (req) http::send_reply_start(req, code, reason);
}

void evhttp_send_reply_chunk(struct evhttp_request *req, struct evbuffer *databuf) {
    if (req) http::send_reply_chunk(req, databuf, nullptr, nullptr);
}

void evhttp_send_reply_chunk_with_cb(struct evhttp_request *req, struct evbuffer *databuf,
                                     void (*cb)(struct evhttp_connection *, void *),
                                     void *arg) {
    if (req) http::send_reply_chunk(req, databuf, cb, arg);
}

void evhttp_send_reply_end(struct evhttp_request *req) {
    if (req) http::send_reply_end(req);
}

// ---- requests --------------------------------------------------------------------------

void evhttp_request_own(struct evhttp_request *req) {
    if (req) req->flags |= EVHTTP_USER_OWNED;
}

int evhttp_request_is_owned(struct evhttp_request *req) {
    return req && (req->flags & EVHTTP_USER_OWNED) ? 1 : 0;
}

void evhttp_request_free(struct evhttp_request *req) {
    if (!req) return;
    if (req->flags & http::kReqDeferFree) {  // inside its chunk callback: freed after it
        req->flags |= http::kReqNeedsFree;
        return;
    }
    // A client request still queued leaves its connection's queue.
    if (req->evcon && req->evcon->outgoing) {
        TAILQ_REMOVE(&req->evcon->requests, req, next);
        req->evcon = nullptr;
    }
    // A request still on its connection is detached so that the connection does not
    // free it a second time.
    if (req->evcon && req->evcon->req == req) req->evcon->req = nullptr;
    http::request_free(req);
}

struct evhttp_connection *evhttp_request_get_connection(struct evhttp_request *req) {
    return req ? req->evcon : nullptr;
}

const char *evhttp_request_get_uri(const struct evhttp_request *req) {
    return req ? req->uri : nullptr;
}

const struct evhttp_uri *evhttp_request_get_evhttp_uri(const struct evhttp_request *req) {
    return req ? req->uri_elems : nullptr;
}

// evhttp_request_get_command and evhttp_make_request: capi/http_command.c (C, where the
// enum may hold libevent's 1 << 15 for an unknown method).

int evhttp_request_get_response_code(const struct evhttp_request *req) {
    return req ? req->response_code : 0;
}

const char *evhttp_request_get_response_code_line(const struct evhttp_request *req) {
    return req ? req->response_code_line : nullptr;
}

struct evkeyvalq *evhttp_request_get_input_headers(struct evhttp_request *req) {
    return req ? req->input_headers : nullptr;
}

struct evkeyvalq *evhttp_request_get_output_headers(struct evhttp_request *req) {
    return req ? req->output_headers : nullptr;
}

struct evbuffer *evhttp_request_get_input_buffer(struct evhttp_request *req) {
    return req ? req->input_buffer : nullptr;
}

struct evbuffer *evhttp_request_get_output_buffer(struct evhttp_request *req) {
    return req ? req->output_buffer : nullptr;
}

const char *evhttp_request_get_host(struct evhttp_request *req) {
    return req ? http::request_host(req) : nullptr;
}

// ---- the client ------------------------------------------------------------------------

struct evhttp_request *evhttp_request_new(void (*cb)(struct evhttp_request *, void *),
                                          void *arg) {
    evhttp_request *req = http::request_new();
    if (!req) return nullptr;
    req->cb = cb;
    req->cb_arg = arg;
    return req;
}

void evhttp_request_set_chunked_cb(struct evhttp_request *req,
                                   void (*cb)(struct evhttp_request *, void *)) {
    if (req) req->chunk_cb = cb;
}

void evhttp_request_set_header_cb(struct evhttp_request *req,
                                  int (*cb)(struct evhttp_request *, void *)) {
    if (req) req->header_cb = cb;
}

void evhttp_request_set_error_cb(struct evhttp_request *req,
                                 void (*cb)(enum evhttp_request_error, void *)) {
    if (req) req->error_cb = cb;
}

void evhttp_request_set_on_complete_cb(struct evhttp_request *req,
                                       void (*cb)(struct evhttp_request *, void *),
                                       void *cb_arg) {
    if (!req) return;
    req->on_complete_cb = cb;
    req->on_complete_cb_arg = cb_arg;
}

struct evhttp_connection *evhttp_connection_base_bufferevent_new(struct event_base *base,
                                                                 struct evdns_base *dnsbase,
                                                                 struct bufferevent *bev,
                                                                 const char *address,
                                                                 ev_uint16_t port) {
    return http::client_new(base, dnsbase, bev, address, port);
}

struct evhttp_connection *evhttp_connection_base_new(struct event_base *base,
                                                     struct evdns_base *dnsbase,
                                                     const char *address, ev_uint16_t port) {
    return http::client_new(base, dnsbase, nullptr, address, port);
}

struct evhttp *evhttp_start(const char *address, ev_uint16_t port) {
    // The server of 1.x programs runs on the current base (event_init's).
    event_base *base = addon::base_or_current(nullptr);
    if (!base) return nullptr;
    evhttp *http = http::server_new(base);
    if (http && !http::server_bind(http, address, port)) {
        http::server_free(http);
        return nullptr;
    }
    return http;
}

struct evhttp_connection *evhttp_connection_new(const char *address, ev_uint16_t port) {
    return http::client_new(nullptr, nullptr, nullptr, address, port);
}

void evhttp_connection_set_base(struct evhttp_connection *evcon, struct event_base *base) {
    if (evcon && evcon->outgoing && base) http::client_set_base(evcon, base);
}

int reevent_http_make_request_(struct evhttp_connection *evcon, struct evhttp_request *req,
                               unsigned type, const char *uri) {
    if (!evcon || !req || !evcon->outgoing) return -1;
    return http::client_make_request(evcon, req, type, uri);
}

void evhttp_cancel_request(struct evhttp_request *req) {
    if (req) http::client_cancel(req);
}

void evhttp_connection_set_timeout(struct evhttp_connection *evcon, int timeout_in_secs) {
    if (!evcon || !evcon->outgoing) return;
    timeval tv{timeout_in_secs, 0};
    http::client_set_timeout(evcon, timeout_in_secs == -1 ? nullptr : &tv);
}

void evhttp_connection_set_timeout_tv(struct evhttp_connection *evcon, const struct timeval *tv) {
    if (evcon && evcon->outgoing) http::client_set_timeout(evcon, tv);
}

void evhttp_connection_set_initial_retry_tv(struct evhttp_connection *evcon,
                                            const struct timeval *tv) {
    if (!evcon) return;
    if (tv) {
        evcon->initial_retry = *tv;
    } else {
        evcon->initial_retry = timeval{2, 0};
    }
}

void evhttp_connection_set_retries(struct evhttp_connection *evcon, int retry_max) {
    if (evcon) evcon->retry_max = retry_max;
}

void evhttp_connection_set_local_address(struct evhttp_connection *evcon, const char *address) {
    if (!evcon) return;
    evcon->bind_address = address ? http::copy_str(address) : http::OwnedStr{};
}

void evhttp_connection_set_local_port(struct evhttp_connection *evcon, ev_uint16_t port) {
    if (evcon) evcon->bind_port = port;
}

void evhttp_connection_set_family(struct evhttp_connection *evcon, int family) {
    if (evcon) evcon->family = family;
}

int evhttp_connection_set_flags(struct evhttp_connection *evcon, int flags) {
    // EVHTTP_CON_REUSE_CONNECTED_ADDR and EVHTTP_CON_READ_ON_WRITE_ERROR (which only
    // outgoing connections use; an incoming one takes it all the same, as in libevent).
    // Anything else is refused with 1.
    constexpr int kTaken = EVHTTP_CON_REUSE_CONNECTED_ADDR | EVHTTP_CON_READ_ON_WRITE_ERROR;
    if (!evcon || (flags & ~kTaken)) return 1;
    evcon->flags = flags;
    return 0;
}

void evhttp_connection_free_on_completion(struct evhttp_connection *evcon) {
    if (evcon && evcon->outgoing) evcon->autofree = true;
}

const struct sockaddr *evhttp_connection_get_addr(struct evhttp_connection *evcon) {
    if (!evcon) return nullptr;
    // The peer while connected; before the first connect, empty storage (family AF_UNSPEC)
    // and after a close the last peer, as libevent gives.
    evutil_socket_t fd = bufferevent_getfd(evcon->bev);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (fd >= 0 && getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len) == 0) {
        evcon->conn_addr = ss;
        evcon->conn_addr_len = static_cast<int>(len);
    }
    return reinterpret_cast<const sockaddr *>(&evcon->conn_addr);
}

struct evhttp *evhttp_connection_get_server(struct evhttp_connection *evcon) {
    return evcon ? evcon->server : nullptr;
}

// ---- connections -----------------------------------------------------------------------

void evhttp_connection_free(struct evhttp_connection *evcon) {
    if (!evcon) return;
    if (evcon->outgoing)
        http::client_free(evcon);
    else
        http::connection_free(evcon);
}

struct bufferevent *evhttp_connection_get_bufferevent(struct evhttp_connection *evcon) {
    return evcon ? evcon->bev : nullptr;
}

struct event_base *evhttp_connection_get_base(struct evhttp_connection *evcon) {
    if (!evcon) return nullptr;
    return evcon->outgoing ? evcon->base : evcon->server->base;
}

void evhttp_connection_get_peer(struct evhttp_connection *evcon, char **address,
                                ev_uint16_t *port) {
    if (!evcon) return;
    if (address) *address = evcon->address.get();
    if (port) *port = evcon->port;
}

void evhttp_connection_set_closecb(struct evhttp_connection *evcon,
                                   void (*cb)(struct evhttp_connection *, void *),
                                   void *cbarg) {
    if (!evcon) return;
    evcon->closecb = cb;
    evcon->closecb_arg = cbarg;
}

void evhttp_connection_set_max_headers_size(struct evhttp_connection *evcon,
                                            ev_ssize_t new_max_headers_size) {
    if (evcon) evcon->max_headers_size = limit_of(new_max_headers_size);
}

void evhttp_connection_set_max_body_size(struct evhttp_connection *evcon,
                                         ev_ssize_t new_max_body_size) {
    if (evcon) evcon->max_body_size = limit_of(new_max_body_size);
}

// ---- header lists ----------------------------------------------------------------------

const char *evhttp_find_header(const struct evkeyvalq *headers, const char *key) {
    if (!headers || !key) return nullptr;
    return http::find_header(headers, key);
}

int evhttp_remove_header(struct evkeyvalq *headers, const char *key) {
    if (!headers || !key) return -1;
    return http::remove_header(headers, key) ? 0 : -1;
}

int evhttp_add_header(struct evkeyvalq *headers, const char *key, const char *value) {
    if (!headers || !key || !value) return -1;
    return http::add_checked_header(headers, key, value) ? 0 : -1;
}

void evhttp_clear_headers(struct evkeyvalq *headers) {
    if (headers) http::clear_headers(headers);
}

char *evhttp_encode_uri(const char *str) {
    if (!str) return nullptr;
    return http::percent_encode(str, false);
}

char *evhttp_uriencode(const char *str, ev_ssize_t size, int space_to_plus) {
    if (!str) return nullptr;
    size_t n = size >= 0 ? static_cast<size_t>(size) : std::strlen(str);
    return http::percent_encode({str, n}, space_to_plus != 0);
}

char *evhttp_decode_uri(const char *uri) {
    if (!uri) return nullptr;
    return http::percent_decode(uri, http::Plus::space_after_question_mark, nullptr);
}

char *evhttp_uridecode(const char *uri, int decode_plus, size_t *size_out) {
    if (!uri) return nullptr;
    return http::percent_decode(uri, decode_plus ? http::Plus::space : http::Plus::keep,
                                size_out);
}

int evhttp_parse_query(const char *uri, struct evkeyvalq *headers) {
    if (!headers) return -1;
    http::Uri parsed;
    if (!uri || !parsed.parse(uri, 0)) {
        http::parse_query_into({}, headers);  // leaves the list initialised and empty
        return -1;
    }
    const char *query = parsed.query();
    return http::parse_query_into(query ? query : "", headers) ? 0 : -1;
}

int evhttp_parse_query_str(const char *uri, struct evkeyvalq *headers) {
    if (!headers) return -1;
    return http::parse_query_into(uri ? uri : "", headers) ? 0 : -1;
}

char *evhttp_htmlescape(const char *html) {
    if (!html) return nullptr;
    return http::html_escape(html);
}

struct evhttp_uri *evhttp_uri_new(void) { return http::make_obj<evhttp_uri>(); }

void evhttp_uri_set_flags(struct evhttp_uri *uri, unsigned flags) {
    if (uri) uri->uri.set_flags(flags);
}

const char *evhttp_uri_get_scheme(const struct evhttp_uri *uri) {
    return uri ? uri->uri.scheme() : nullptr;
}
const char *evhttp_uri_get_userinfo(const struct evhttp_uri *uri) {
    return uri ? uri->uri.userinfo() : nullptr;
}
const char *evhttp_uri_get_host(const struct evhttp_uri *uri) {
    return uri ? uri->uri.host() : nullptr;
}
int evhttp_uri_get_port(const struct evhttp_uri *uri) { return uri ? uri->uri.port() : -1; }
const char *evhttp_uri_get_path(const struct evhttp_uri *uri) {
    return uri ? uri->uri.path() : nullptr;
}
const char *evhttp_uri_get_query(const struct evhttp_uri *uri) {
    return uri ? uri->uri.query() : nullptr;
}
const char *evhttp_uri_get_fragment(const struct evhttp_uri *uri) {
    return uri ? uri->uri.fragment() : nullptr;
}

int evhttp_uri_set_scheme(struct evhttp_uri *uri, const char *scheme) {
    return uri && uri->uri.set_scheme(scheme) ? 0 : -1;
}
int evhttp_uri_set_userinfo(struct evhttp_uri *uri, const char *userinfo) {
    return uri && uri->uri.set_userinfo(userinfo) ? 0 : -1;
}
int evhttp_uri_set_host(struct evhttp_uri *uri, const char *host) {
    return uri && uri->uri.set_host(host) ? 0 : -1;
}
int evhttp_uri_set_port(struct evhttp_uri *uri, int port) {
    return uri && uri->uri.set_port(port) ? 0 : -1;
}
int evhttp_uri_set_path(struct evhttp_uri *uri, const char *path) {
    return uri && uri->uri.set_path(path) ? 0 : -1;
}
int evhttp_uri_set_query(struct evhttp_uri *uri, const char *query) {
    return uri && uri->uri.set_query(query) ? 0 : -1;
}
int evhttp_uri_set_fragment(struct evhttp_uri *uri, const char *fragment) {
    return uri && uri->uri.set_fragment(fragment) ? 0 : -1;
}

struct evhttp_uri *evhttp_uri_parse_with_flags(const char *source_uri, unsigned flags) {
    if (!source_uri) return nullptr;
    evhttp_uri *uri = http::make_obj<evhttp_uri>();
    if (uri && !uri->uri.parse(source_uri, flags)) {
        http::destroy_obj(uri);
        return nullptr;
    }
    return uri;
}

struct evhttp_uri *evhttp_uri_parse(const char *source_uri) {
    return evhttp_uri_parse_with_flags(source_uri, 0);
}

void evhttp_uri_free(struct evhttp_uri *uri) { http::destroy_obj(uri); }

char *evhttp_uri_join(struct evhttp_uri *uri, char *buf, size_t limit) {
    if (!uri || !buf || !limit) return nullptr;
    return uri->uri.join(buf, limit);
}

}  // extern "C"
