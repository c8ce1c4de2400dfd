// What the benchmark servers (echo, TLS echo, HTTP) share in main(): process set-up, a base
// forced onto the method named on the command line, a loopback listener. Public API only,
// so the same code builds against reevent and libevent.
#pragma once

#include <event2/event.h>
#include <event2/listener.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>

namespace bench {

// A peer that closes must not kill the server (SIGPIPE), and 500 connections need descriptors.
inline void prepare_server_process() {
    std::signal(SIGPIPE, SIG_IGN);
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}

// A base on exactly `method` (environment ignored); nullptr, after a message, if unavailable.
inline event_base *server_base(const char *method) {
    event_config *cfg = event_config_new();
    for (const char *m : {"epoll", "poll", "select"})
        if (std::strcmp(m, method) != 0) event_config_avoid_method(cfg, m);
    event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
    event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (base && std::strcmp(event_base_get_method(base), method) != 0) {
        event_base_free(base);
        base = nullptr;
    }
    if (!base) std::fprintf(stderr, "backend %s unavailable\n", method);
    return base;
}

// A listener on 127.0.0.1:port; nullptr, after a message, on failure.
inline evconnlistener *listen_loopback(event_base *base, int port, evconnlistener_cb cb, void *arg) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<uint16_t>(port));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    evconnlistener *lev = evconnlistener_new_bind(base, cb, arg, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE,
                                                  1024, reinterpret_cast<sockaddr *>(&sin), sizeof sin);
    if (!lev) std::perror("evconnlistener_new_bind");
    return lev;
}

// The line the driver waits for before it starts the load.
inline void announce_ready(int port) {
    std::printf("READY %d\n", port);
    std::fflush(stdout);
}

}  // namespace bench
