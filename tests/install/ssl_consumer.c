/* A C program using the installed libevent_openssl: a TLS client bufferevent whose peer
 * hangs up during the handshake must report BEV_EVENT_ERROR. Prints "consumer: ssl ok". */
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>

#include <openssl/ssl.h>

#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static int result = 0;

static void on_event(struct bufferevent *bev, short what, void *arg) {
    (void)bev;
    (void)arg;
    result = what;
}

int main(void) {
    /* The hello goes to a socket whose peer is gone: EPIPE, not a signal. */
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = SSL_new(ctx);
    evutil_socket_t sv[2];
    if (!base || !ssl || evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
    evutil_make_socket_nonblocking(sv[0]);
    struct bufferevent *bev = bufferevent_openssl_socket_new(
        base, sv[0], ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
    if (!bev || bufferevent_openssl_get_ssl(bev) != ssl) return 2;
    bufferevent_setcb(bev, NULL, NULL, on_event, NULL);
    bufferevent_enable(bev, EV_READ);
    close(sv[1]);
    event_base_dispatch(base);
    bufferevent_free(bev); /* frees the SSL too */
    SSL_CTX_free(ctx);
    event_base_free(base);
    if (!(result & BEV_EVENT_ERROR)) return 3;
    puts("consumer: ssl ok");
    return 0;
}
