// The TLS bufferevent kind of libevent_openssl (entry points for bufferevent_ssl_capi.cpp).
//
// Both flavours are one design: the SSL object talks to a bufferevent below it through a
// BIO over that bufferevent's buffers (link_bio.h), and this kind moves plaintext between
// its own buffers and the SSL. bufferevent_openssl_filter_new puts it over the caller's
// bufferevent; bufferevent_openssl_socket_new makes a socket bufferevent of its own for the
// fd, which stays hidden (bufferevent_get_underlying says NULL, as libevent) but does the
// connecting, the fd events and the socket I/O.
#pragma once

#include <event2/bufferevent_ssl.h>

#include <openssl/ssl.h>

#include "bufferevent/kit.h"

namespace reevent::ssl {

bufferevent *socket_new(event_base *base, int fd, SSL *ssl, bufferevent_ssl_state state,
                        int options) noexcept;
bufferevent *filter_new(event_base *base, bev::Bev *under, SSL *ssl,
                        bufferevent_ssl_state state, int options) noexcept;

// The calls below take any bufferevent and answer -1 / null / 0 for other kinds.
SSL *get_ssl(bev::Bev *b) noexcept;
int get_allow_dirty_shutdown(bev::Bev *b) noexcept;
void set_allow_dirty_shutdown(bev::Bev *b, bool allow) noexcept;
int renegotiate(bev::Bev *b) noexcept;
unsigned long pop_error(bev::Bev *b) noexcept;

}  // namespace reevent::ssl
