/* reevent: TLS bufferevents over OpenSSL (libevent 2.1 <event2/bufferevent_ssl.h>).
 *
 * These live in libevent_openssl (link with -levent_openssl and OpenSSL's -lssl -lcrypto).
 * The caller makes and configures the SSL object; the bufferevent runs the handshake
 * (unless the state says it is done) and moves plaintext in and out of it. */
#ifndef EVENT2_BUFFEREVENT_SSL_H_INCLUDED_
#define EVENT2_BUFFEREVENT_SSL_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/event-config.h>
#include <event2/bufferevent.h>
#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

/* OpenSSL's SSL is a typedef of this struct. */
struct ssl_st;

/* Where the SSL object stands when the bufferevent takes it. */
enum bufferevent_ssl_state {
	BUFFEREVENT_SSL_OPEN = 0,       /* handshake already done */
	BUFFEREVENT_SSL_CONNECTING = 1, /* we are the client: the bufferevent runs SSL_connect */
	BUFFEREVENT_SSL_ACCEPTING = 2   /* we are the server: the bufferevent runs SSL_accept */
};

#if defined(EVENT__HAVE_OPENSSL)
/* TLS over another bufferevent (socket, pair, filter...), which carries the ciphertext.
 * base must be the underlying's base. With BEV_OPT_CLOSE_ON_FREE, freeing the new
 * bufferevent frees the underlying and the SSL. NULL on failure. */
EVENT2_EXPORT_SYMBOL
struct bufferevent *bufferevent_openssl_filter_new(struct event_base *base,
    struct bufferevent *underlying, struct ssl_st *ssl,
    enum bufferevent_ssl_state state, int options);

/* TLS over a socket. fd may be -1: then the fd set on the SSL is used if any, else one is
 * given later (bufferevent_setfd, bufferevent_socket_connect). With BEV_OPT_CLOSE_ON_FREE,
 * freeing the bufferevent frees the SSL and closes the fd. NULL on failure. */
EVENT2_EXPORT_SYMBOL
struct bufferevent *bufferevent_openssl_socket_new(struct event_base *base,
    evutil_socket_t fd, struct ssl_st *ssl,
    enum bufferevent_ssl_state state, int options);

/* A peer that closes the transport without a TLS close_notify is reported as
 * BEV_EVENT_ERROR by default; with allow_dirty_shutdown set, as BEV_EVENT_EOF. */
EVENT2_EXPORT_SYMBOL
int bufferevent_openssl_get_allow_dirty_shutdown(struct bufferevent *bev);
EVENT2_EXPORT_SYMBOL
void bufferevent_openssl_set_allow_dirty_shutdown(struct bufferevent *bev,
    int allow_dirty_shutdown);

/* The SSL object of a TLS bufferevent; NULL for any other bufferevent. */
EVENT2_EXPORT_SYMBOL
struct ssl_st *bufferevent_openssl_get_ssl(struct bufferevent *bufev);

/* Starts a new handshake on an open connection (TLS 1.2 and older). 0 or -1. */
EVENT2_EXPORT_SYMBOL
int bufferevent_ssl_renegotiate(struct bufferevent *bev);

/* One OpenSSL error code the bufferevent saw (it keeps the last few); 0 when none is left. */
EVENT2_EXPORT_SYMBOL
unsigned long bufferevent_get_openssl_error(struct bufferevent *bev);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_BUFFEREVENT_SSL_H_INCLUDED_ */
