// Raw loopback sockets shared by the http conformance tests that play the other side of an
// evhttp connection themselves (public socket calls only).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace httptest {

// A TCP socket listening on 127.0.0.1 at a port the kernel picks (given in *port); -1 on
// failure.
inline int listen_loopback(uint16_t *port, int backlog = 8) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    if (bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0 || listen(fd, backlog) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sin.sin_port);
    return fd;
}

// A blocking connection to 127.0.0.1:port; -1 on failure.
inline int connect_loopback(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// The local port of a bound socket (0 when unknown).
inline uint16_t local_port(int fd) {
    sockaddr_in sin{};
    socklen_t len = sizeof sin;
    if (getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len) != 0) return 0;
    return ntohs(sin.sin_port);
}

// True when fd becomes readable (or the peer closes) within ms.
// Binds `http` to 127.0.0.1 at a port the kernel picks: that port, 0 on failure.
inline int bind_loopback(evhttp *http) {
    evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    return bound ? local_port(evhttp_bound_socket_get_fd(bound)) : 0;
}

inline bool wait_readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

// "Date: <anything>\r\n" becomes "Date: D\r\n" (answers then compare whole).
inline std::string mask_date(std::string t) {
    size_t pos = 0;
    while ((pos = t.find("Date: ", pos)) != std::string::npos) {
        size_t end = t.find("\r\n", pos);
        if (end == std::string::npos) break;
        t.replace(pos, end - pos, "Date: D");
        pos += 7;
    }
    return t;
}

// evhttp's own error page for `status` (say "403 Forbidden") headed `heading`, as read_all
// returns it after mask_date: the connection closes after it.
inline std::string error_page(const std::string &status, const std::string &heading) {
    const std::string body = "<HTML><HEAD>\n<TITLE>" + status + "</TITLE>\n</HEAD><BODY>\n<H1>" +
                             heading + "</H1>\n</BODY></HTML>\n";
    return "HTTP/1.1 " + status +
           "\r\nContent-Type: text/html\r\nConnection: close\r\nDate: D\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body + "<closed>";
}

// What a request evhttp refuses gets.
inline const std::string kBadRequestPage = error_page("400 Bad Request", "Bad Request");

// Reads until the peer closes ("<closed>" appended) or nothing comes for idle_ms
// ("<open>"); the first byte may take up to first_ms (a loaded machine).
inline std::string read_all(int fd, int idle_ms, int first_ms = 3000) {
    std::string out;
    char buf[4096];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, out.empty() && first_ms > idle_ms ? first_ms : idle_ms) <= 0)
            return out + "<open>";
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return out + (n == 0 ? "<closed>" : "<error>");
        out.append(buf, static_cast<size_t>(n));
    }
}

// Sends each (port, request) over a fresh blocking connection to 127.0.0.1:port, each from
// a thread of its own, all together so that their idle waits overlap, and returns what came
// back to each in the order given (read_all with `idle_ms`, Date masked), running `base`
// here meanwhile so that the evhttp servers on it answer. What a server holds per
// connection stays per connection, so each request sees what it would see alone.
inline std::vector<std::string> exchanges_while_looping(
    event_base *base, const std::vector<std::pair<int, std::string>> &requests,
    int idle_ms = 250) {
    std::vector<std::string> out(requests.size());
    std::atomic<size_t> left{requests.size()};
    std::vector<std::thread> threads;
    threads.reserve(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
        threads.emplace_back([&, i] {
            int fd = connect_loopback(static_cast<uint16_t>(requests[i].first));
            if (fd >= 0) {
                const std::string &r = requests[i].second;
                send(fd, r.data(), r.size(), MSG_NOSIGNAL);
                out[i] = read_all(fd, idle_ms);
                close(fd);
            }
            --left;
        });
    }
    while (left > 0) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(500);
    }
    for (std::thread &t : threads) t.join();
    for (int i = 0; i < 5; ++i) event_base_loop(base, EVLOOP_NONBLOCK);
    for (std::string &s : out) s = mask_date(std::move(s));
    return out;
}

// One request, as exchanges_while_looping.
inline std::string exchange_while_looping(event_base *base, int port, const std::string &request,
                                          int idle_ms = 250) {
    return exchanges_while_looping(base, {{port, request}}, idle_ms)[0];
}

}  // namespace httptest
