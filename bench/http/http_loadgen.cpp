// Load generator for the HTTP benchmark: a separate process speaking raw HTTP/1.1 over
// sockets, so only the server's library differs between the sides. C keep-alive
// connections to 127.0.0.1:<port>, each with one `GET /<body>` outstanding: when a whole
// response (headers + Content-Length body) is in, the next request goes out. Counts
// responses over the measured window (after a warm-up) and prints one JSON line.
//
//   http_loadgen <port> <conns> <body_bytes> <seconds> [warmup_seconds]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <strings.h>
#include <vector>

namespace {

struct Conn {
    int fd = -1;
    std::string in;        // bytes of the response being read
    size_t need = 0;       // total response length once the headers are in; 0 before
    size_t sent = 0;       // bytes of the request already written
};

double now_s() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

char g_in[256 * 1024];

// Length of the whole response once its header block is in buf; 0 while incomplete,
// SIZE_MAX if it has no Content-Length (not expected from the server under test).
size_t response_length(const std::string &buf) {
    size_t end = buf.find("\r\n\r\n");
    if (end == std::string::npos) return 0;
    for (size_t p = buf.find("\r\n"); p < end; p = buf.find("\r\n", p + 2)) {
        const char *line = buf.c_str() + p + 2;
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            return end + 4 + std::strtoul(line + 15, nullptr, 10);
    }
    return static_cast<size_t>(-1);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: %s port conns body_bytes seconds [warmup]\n", argv[0]);
        return 2;
    }
    int port = std::atoi(argv[1]);
    int nconn = std::atoi(argv[2]);
    size_t body = static_cast<size_t>(std::atol(argv[3]));
    double seconds = std::atof(argv[4]);
    double warmup = argc > 5 ? std::atof(argv[5]) : 0.3;
    std::signal(SIGPIPE, SIG_IGN);
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    const std::string request = "GET /" + std::to_string(body) +
                                " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: reevent-bench\r\n\r\n";

    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<uint16_t>(port));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    std::vector<Conn> conns(static_cast<size_t>(nconn));
    for (auto &c : conns) {
        c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c.fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0) {
            std::perror("connect");
            return 1;
        }
        ioctl(c.fd, FIONBIO, &one);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;  // EPOLLOUT until the first request is out
        ev.data.ptr = &c;
        epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    }

    std::vector<epoll_event> ready(1024);
    double start = now_s();
    double measure_from = start + warmup, end = measure_from + seconds;
    bool measuring = false;
    unsigned long long responses = 0, bytes = 0;
    double t = start;
    while (t < end) {
        int n = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
        for (int i = 0; i < n; ++i) {
            Conn *c = static_cast<Conn *>(ready[i].data.ptr);
            bool was_writing = c->sent < request.size();
            if (ready[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                ssize_t r = read(c->fd, g_in, sizeof g_in);
                if (r == 0 || (r < 0 && errno != EAGAIN)) {
                    std::fprintf(stderr, "http_loadgen: connection lost\n");
                    return 1;
                }
                if (r > 0) {
                    c->in.append(g_in, static_cast<size_t>(r));
                    if (!c->need) c->need = response_length(c->in);
                    if (c->need == static_cast<size_t>(-1)) {
                        std::fprintf(stderr, "http_loadgen: response without Content-Length\n");
                        return 1;
                    }
                    if (c->need && c->in.size() >= c->need) {
                        // One outstanding request per connection: nothing follows the body.
                        if (measuring) {
                            ++responses;
                            bytes += c->need;
                        }
                        c->in.clear();
                        c->need = 0;
                        c->sent = 0;
                    }
                }
            }
            if (c->sent < request.size()) {
                ssize_t w = write(c->fd, request.data() + c->sent, request.size() - c->sent);
                if (w > 0) c->sent += static_cast<size_t>(w);
            }
            bool writing = c->sent < request.size();
            if (writing != was_writing || (ready[i].events & EPOLLOUT && !writing)) {
                epoll_event ev{};
                ev.events = EPOLLIN | (writing ? EPOLLOUT : 0u);
                ev.data.ptr = c;
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            }
        }
        t = now_s();
        if (!measuring && t >= measure_from) {
            measuring = true;
            measure_from = t;
        }
    }
    double elapsed = t - measure_from;
    std::printf("{\"conns\": %d, \"size\": %zu, \"seconds\": %.3f, \"requests\": %llu, "
                "\"bytes\": %llu, \"reqs_per_s\": %.1f, \"mb_per_s\": %.3f}\n",
                nconn, body, elapsed, responses, bytes, static_cast<double>(responses) / elapsed,
                static_cast<double>(bytes) / elapsed / 1e6);
    for (auto &c : conns) close(c.fd);
    return 0;
}
