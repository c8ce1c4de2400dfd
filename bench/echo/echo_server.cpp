// Echo server on evconnlistener + socket bufferevents, built against reevent and against
// libevent from this one file. It is what a typical libevent program looks like: every
// read callback moves the whole input buffer to the output buffer.
//
//   echo_server_<lib> <port> <epoll|poll|select>
// Prints "READY <port>" once listening, then serves until killed.
#include "common/server_main.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
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

void on_read(bufferevent *bev, void *) {
    evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

void on_event(bufferevent *bev, short what, void *) {
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev);
}

void on_accept(evconnlistener *, evutil_socket_t fd, sockaddr *, int, void *arg) {
    event_base *base = static_cast<event_base *>(arg);
    // Nagle off on every server (raw too): the benchmark measures the loop, not the
    // delayed-ACK interplay of partial writes.
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        evutil_closesocket(fd);
        return;
    }
    bufferevent_setcb(bev, on_read, nullptr, on_event, nullptr);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s <port> <epoll|poll|select>\n", argv[0]);
        return 2;
    }
    bench::prepare_server_process();

    int port = std::atoi(argv[1]);
    event_base *base = bench::server_base(argv[2]);
    if (!base) return 1;
    evconnlistener *lev = bench::listen_loopback(base, port, on_accept, base);
    if (!lev) return 1;
    bench::announce_ready(port);
    event_base_dispatch(base);
    evconnlistener_free(lev);
    event_base_free(base);
    return 0;
}
