// Load generator for the echo benchmark, a separate process so the server's loop is the
// only thing in its process. C connections to 127.0.0.1:<port>; each keeps `depth`
// fixed-size messages in flight: whenever a whole message has come back it sends another.
// Counts echoed bytes over the measured window (after a warm-up) and prints one JSON line.
// Built a second time with LOADGEN_TLS=1 (echo_loadgen_tls): the same loop over OpenSSL
// client connections (TLS 1.3, certificate not verified), for the TLS echo server.
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

#if LOADGEN_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

namespace {

struct Conn {
    int fd;
    size_t to_send = 0;   // bytes queued but not yet accepted by the socket
    size_t recv_partial = 0;
    bool want_out = false;
#if LOADGEN_TLS
    SSL *ssl = nullptr;
    size_t retry_len = 0;  // OpenSSL wants a write that returned WANT_WRITE repeated as is
#endif
};

// read/write on a connection: plain syscalls, or TLS records. -1 with errno EAGAIN when
// nothing can move now, 0 on end of stream.
ssize_t conn_read(Conn &c, char *buf, size_t len) {
#if LOADGEN_TLS
    int r = SSL_read(c.ssl, buf, static_cast<int>(len));
    if (r > 0) return r;
    int e = SSL_get_error(c.ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        errno = EAGAIN;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN) return 0;
    errno = EIO;
    return -1;
#else
    return read(c.fd, buf, len);
#endif
}

ssize_t conn_write(Conn &c, const char *buf, size_t len) {
#if LOADGEN_TLS
    if (c.retry_len) len = c.retry_len;
    int w = SSL_write(c.ssl, buf, static_cast<int>(len));
    if (w > 0) {
        c.retry_len = 0;
        return w;
    }
    int e = SSL_get_error(c.ssl, w);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) c.retry_len = len;
    errno = EAGAIN;
    return -1;
#else
    return write(c.fd, buf, len);
#endif
}

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
#if LOADGEN_TLS
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#endif
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
#if LOADGEN_TLS
        // Blocking handshake while connecting; the server does its side in its loop.
        conns[i].ssl = SSL_new(ctx);
        SSL_set_fd(conns[i].ssl, fd);
        if (SSL_connect(conns[i].ssl) != 1) {
            std::fprintf(stderr, "loadgen: TLS handshake failed: %s\n",
                         ERR_error_string(ERR_get_error(), nullptr));
            return 1;
        }
#endif
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
              for (bool more = true; more;) {  // TLS: drain records already decrypted
                ssize_t r = conn_read(*c, g_in, sizeof g_in);
#if LOADGEN_TLS
                more = r > 0 && SSL_pending(c->ssl) > 0;
#else
                more = false;
#endif
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
            }
            if (c->to_send > 0) {
                size_t k = c->to_send < sizeof g_out ? c->to_send : sizeof g_out;
                ssize_t w = conn_write(*c, g_out, k);
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
