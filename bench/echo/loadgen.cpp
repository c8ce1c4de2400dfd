// Load generator for the echo benchmark, a separate process so the server's loop is the
// only thing in its process. C connections to 127.0.0.1:<port>; each keeps `depth`
// fixed-size messages in flight: whenever a whole message has come back it sends another.
// Counts echoed bytes over the measured window (after a warm-up) and prints one JSON line.
//
//   echo_loadgen <port> <conns> <msg_size> <depth> <seconds> [warmup_seconds]
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
#include <ctime>
#include <vector>

namespace {

struct Conn {
    int fd;
    size_t to_send = 0;   // bytes queued but not yet accepted by the socket
    size_t recv_partial = 0;
    bool want_out = false;
};

double now_s() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

char g_out[256 * 1024];
char g_in[256 * 1024];

}  // namespace

int main(int argc, char **argv) {
    if (argc < 6) {
        std::fprintf(stderr, "usage: %s port conns size depth seconds [warmup]\n", argv[0]);
        return 2;
    }
    int port = std::atoi(argv[1]);
    int nconn = std::atoi(argv[2]);
    size_t size = static_cast<size_t>(std::atol(argv[3]));
    int depth = std::atoi(argv[4]);
    double seconds = std::atof(argv[5]);
    double warmup = argc > 6 ? std::atof(argv[6]) : 0.3;
    std::signal(SIGPIPE, SIG_IGN);  // a peer that closes must not kill the process
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<uint16_t>(port));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    std::vector<Conn> conns(static_cast<size_t>(nconn));
    for (int i = 0; i < nconn; ++i) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0) {
            std::perror("connect");
            return 1;
        }
        int fl = 1;
        ioctl(fd, FIONBIO, &fl);
        conns[i].fd = fd;
        conns[i].to_send = size * static_cast<size_t>(depth);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        conns[i].want_out = true;
        ev.data.ptr = &conns[i];
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }

    std::vector<epoll_event> ready(1024);
    double start = now_s();
    double measure_from = start + warmup, end = measure_from + seconds;
    bool measuring = false;
    unsigned long long bytes = 0;
    double t = start;
    while (t < end) {
        int n = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), 100);
        for (int i = 0; i < n; ++i) {
            Conn *c = static_cast<Conn *>(ready[i].data.ptr);
            if (ready[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                ssize_t r = read(c->fd, g_in, sizeof g_in);
                if (r == 0 || (r < 0 && errno != EAGAIN)) {
                    std::fprintf(stderr, "loadgen: connection lost\n");
                    return 1;
                }
                if (r > 0) {
                    if (measuring) bytes += static_cast<unsigned long long>(r);
                    c->recv_partial += static_cast<size_t>(r);
                    size_t whole = c->recv_partial / size;
                    c->recv_partial %= size;
                    c->to_send += whole * size;
                }
            }
            if (c->to_send > 0) {
                size_t k = c->to_send < sizeof g_out ? c->to_send : sizeof g_out;
                ssize_t w = write(c->fd, g_out, k);
                if (w > 0) c->to_send -= static_cast<size_t>(w);
            }
            bool want = c->to_send > 0;
            if (want != c->want_out) {
                epoll_event ev{};
                ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
                ev.data.ptr = c;
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                c->want_out = want;
            }
        }
        t = now_s();
        if (!measuring && t >= measure_from) {
            measuring = true;
            measure_from = t;
        }
    }
    double elapsed = t - measure_from;
    double msgs = static_cast<double>(bytes) / static_cast<double>(size);
    std::printf("{\"conns\": %d, \"size\": %zu, \"depth\": %d, \"seconds\": %.3f, \"bytes\": %llu, "
                "\"msgs_per_s\": %.1f, \"mb_per_s\": %.3f}\n",
                nconn, size, depth, elapsed, bytes, msgs / elapsed,
                static_cast<double>(bytes) / elapsed / 1e6);
    for (auto &c : conns) close(c.fd);
    return 0;
}
