// TLS echo server: evconnlistener + libevent_openssl bufferevents, built against reevent and
// against libevent from this one file (same program, only the library differs). Every read
// callback moves the whole decrypted input to the output, as echo_server.cpp does in clear.
//
//   bench_tls_echo_server_<lib> <port> <epoll|poll|select> [socket|filter]
// `socket`: bufferevent_openssl_socket_new on the accepted fd (the default); `filter`:
// bufferevent_openssl_filter_new over a socket bufferevent. Prints "READY <port>".
#include "common/server_cg.h"
#include "echo/tls_selfsigned.h"

#include "common/server_main.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace {

struct Server {
    event_base *base = nullptr;
    SSL_CTX *ctx = nullptr;
    bool filter = false;
    bench_cg::Window cg;
};

void on_read(bufferevent *bev, void *arg) {
    evbuffer *in = bufferevent_get_input(bev);
    static_cast<Server *>(arg)->cg.add(evbuffer_get_length(in));
    evbuffer_add_buffer(bufferevent_get_output(bev), in);
}

void on_event(bufferevent *bev, short what, void *) {
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev);
}

void on_accept(evconnlistener *, evutil_socket_t fd, sockaddr *, int, void *arg) {
    Server *s = static_cast<Server *>(arg);
    int one = 1;  // as in echo_server.cpp: measure the loop, not Nagle
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL *ssl = SSL_new(s->ctx);
    bufferevent *bev = nullptr;
    if (ssl && s->filter) {
        bufferevent *under = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (under) {
            bev = bufferevent_openssl_filter_new(s->base, under, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                 BEV_OPT_CLOSE_ON_FREE);
            if (!bev) bufferevent_free(under);
        } else {
            evutil_closesocket(fd);
        }
    } else if (ssl) {
        bev = bufferevent_openssl_socket_new(s->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE);
    }
    if (!bev) {
        if (ssl) SSL_free(ssl);
        if (!s->filter) evutil_closesocket(fd);
        return;
    }
    bufferevent_setcb(bev, on_read, nullptr, on_event, s);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s <port> <epoll|poll|select> [socket|filter]\n", argv[0]);
        return 2;
    }
    bench::prepare_server_process();

    static Server s;
    s.filter = argc > 3 && std::strcmp(argv[3], "filter") == 0;
    s.ctx = bench_tls::make_server_ctx();
    if (!s.ctx) {
        std::fprintf(stderr, "cannot make the TLS context\n");
        return 1;
    }
    int port = std::atoi(argv[1]);
    s.base = bench::server_base(argv[2]);
    if (!s.base) return 1;
    evconnlistener *lev = bench::listen_loopback(s.base, port, on_accept, &s);
    if (!lev) return 1;
    bench::announce_ready(port);
    event_base_dispatch(s.base);
    evconnlistener_free(lev);
    event_base_free(s.base);
    SSL_CTX_free(s.ctx);
    return 0;
}
