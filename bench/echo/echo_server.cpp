// Echo server on evconnlistener + socket bufferevents, built against reevent and against
// libevent from this one file. It is what a typical libevent program looks like: every
// read callback moves the whole input buffer to the output buffer.
//
//   echo_server_<lib> <port> <epoll|poll|select>
// Prints "READY <port>" once listening, then serves until killed.
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
    std::signal(SIGPIPE, SIG_IGN);  // a peer that closes must not kill the process
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    int port = std::atoi(argv[1]);
    event_config *cfg = event_config_new();
    for (const char *m : {"epoll", "poll", "select"})
        if (std::strcmp(m, argv[2]) != 0) event_config_avoid_method(cfg, m);
    event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
    event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!base || std::strcmp(event_base_get_method(base), argv[2]) != 0) {
        std::fprintf(stderr, "backend %s unavailable\n", argv[2]);
        return 1;
    }
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<uint16_t>(port));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    evconnlistener *lev = evconnlistener_new_bind(
        base, on_accept, base, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, 1024,
        reinterpret_cast<sockaddr *>(&sin), sizeof sin);
    if (!lev) {
        std::perror("evconnlistener_new_bind");
        return 1;
    }
    std::printf("READY %d\n", port);
    std::fflush(stdout);
    event_base_dispatch(base);
    evconnlistener_free(lev);
    event_base_free(base);
    return 0;
}
