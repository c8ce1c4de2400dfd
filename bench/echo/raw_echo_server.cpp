// The physical ceiling for the echo benchmark: an echo server written directly on epoll.
// Level-triggered; per readable connection one read() of up to 64 KiB and one write() of
// what was read (3 syscalls per message burst including epoll_wait). Only if the socket
// refuses part of a write does it keep the rest, stop reading and wait for EPOLLOUT.
//
//   echo_server_raw <port>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

constexpr size_t kBuf = 64 * 1024;

struct Conn {
    int fd;
    std::vector<char> pending;  // bytes the socket has not taken yet
    size_t off = 0;
};

char g_buf[kBuf];

}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s <port>\n", argv[0]);
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);  // a peer that closes must not kill the process
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[1])));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0 || listen(lfd, 1024) != 0) {
        std::perror("bind/listen");
        return 1;
    }
    int ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_event lev{};
    lev.events = EPOLLIN;
    lev.data.ptr = nullptr;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    std::printf("READY %s\n", argv[1]);
    std::fflush(stdout);

    std::vector<epoll_event> ready(1024);
    for (;;) {
        int n = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), -1);
        for (int i = 0; i < n; ++i) {
            Conn *c = static_cast<Conn *>(ready[i].data.ptr);
            if (!c) {  // listener
                for (;;) {
                    int fd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) break;
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    Conn *nc = new Conn{fd, {}, 0};
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.ptr = nc;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            bool closed = false;
            if (!c->pending.empty()) {  // EPOLLOUT: flush what is left, then read again
                ssize_t w = write(c->fd, c->pending.data() + c->off, c->pending.size() - c->off);
                if (w > 0) c->off += static_cast<size_t>(w);
                else if (w < 0 && errno != EAGAIN) closed = true;
                if (!closed && c->off == c->pending.size()) {
                    c->pending.clear();
                    c->off = 0;
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.ptr = c;
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            } else {
                ssize_t r = read(c->fd, g_buf, kBuf);
                if (r == 0 || (r < 0 && errno != EAGAIN)) {
                    closed = true;
                } else if (r > 0) {
                    ssize_t w = write(c->fd, g_buf, static_cast<size_t>(r));
                    if (w < 0 && errno != EAGAIN) closed = true;
                    else if (w < r) {
                        size_t done = w > 0 ? static_cast<size_t>(w) : 0;
                        c->pending.assign(g_buf + done, g_buf + r);
                        c->off = 0;
                        epoll_event ev{};
                        ev.events = EPOLLOUT;
                        ev.data.ptr = c;
                        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                    }
                }
            }
            if (closed) {
                close(c->fd);
                delete c;
            }
        }
    }
}
