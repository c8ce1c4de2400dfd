// C API of <event2/bufferevent_ssl.h> (libevent_openssl): argument checks and one call into
// src/ssl each, in header order. The calls that take any bufferevent answer NULL/-1/0 for
// bufferevents of other kinds, as libevent does.
#include <event2/bufferevent_ssl.h>

#include "ssl/ssl_bev.h"

namespace ssl = reevent::ssl;
namespace bev = reevent::bev;

struct bufferevent *bufferevent_openssl_filter_new(struct event_base *base,
                                                   struct bufferevent *underlying,
                                                   struct ssl_st *ssl,
                                                   enum bufferevent_ssl_state state,
                                                   int options) {
    if (!underlying || !ssl) return nullptr;
    return ssl::filter_new(base, bev::from(underlying), ssl, state, options);
}

struct bufferevent *bufferevent_openssl_socket_new(struct event_base *base, evutil_socket_t fd,
                                                   struct ssl_st *ssl,
                                                   enum bufferevent_ssl_state state,
                                                   int options) {
    return ssl::socket_new(base, fd, ssl, state, options);
}

int bufferevent_openssl_get_allow_dirty_shutdown(struct bufferevent *bev) {
    if (!bev) return -1;
    return ssl::get_allow_dirty_shutdown(bev::from(bev));
}

void bufferevent_openssl_set_allow_dirty_shutdown(struct bufferevent *bev,
                                                  int allow_dirty_shutdown) {
    if (bev) ssl::set_allow_dirty_shutdown(bev::from(bev), allow_dirty_shutdown != 0);
}

struct ssl_st *bufferevent_openssl_get_ssl(struct bufferevent *bufev) {
    if (!bufev) return nullptr;
    return ssl::get_ssl(bev::from(bufev));
}

int bufferevent_ssl_renegotiate(struct bufferevent *bev) {
    if (!bev) return -1;
    return ssl::renegotiate(bev::from(bev));
}

unsigned long bufferevent_get_openssl_error(struct bufferevent *bev) {
    if (!bev) return 0;
    return ssl::pop_error(bev::from(bev));
}
