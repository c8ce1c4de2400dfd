// Helpers for the listener tests: loopback addresses, raw client sockets, bounded loop runs.
#pragma once

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <functional>

#include "helpers.h"

namespace conf {

inline sockaddr_in loopback4(int port = 0) {
    sockaddr_in sin;
    std::memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<uint16_t>(port));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

inline sockaddr_in6 loopback6(int port = 0) {
    sockaddr_in6 sin6;
    std::memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(static_cast<uint16_t>(port));
    sin6.sin6_addr = in6addr_loopback;
    return sin6;
}

// The local port of a bound socket.
inline int local_port(int fd) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0) return -1;
    if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
    return ntohs(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
}

// A blocking TCP connection to 127.0.0.1:port, or -1.
inline int connect_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in sin = loopback4(port);
    if (connect(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Runs the loop until done() or the deadline (ms) passes, in short slices so a test whose
// condition never comes true still ends. True if done() became true.
inline bool run_until(event_base *base, const std::function<bool()> &done, int deadline_ms) {
    double end = now_ms() + deadline_ms;
    while (!done()) {
        if (now_ms() > end) return false;
        timeval slice = tv_ms(5);
        event_base_loopexit(base, &slice);
        event_base_dispatch(base);
    }
    return true;
}

// Runs the loop for ms milliseconds.
inline void run_for(event_base *base, int ms) {
    timeval tv = tv_ms(ms);
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

// True if fd has data or EOF to read within ms.
inline bool readable_within(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

}  // namespace conf
