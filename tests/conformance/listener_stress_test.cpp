// evconnlistener under load: 1000 concurrent connections to an echo server with nothing lost,
// and running out of file descriptors (EMFILE) without spinning, on every backend.
#include "listener_support.h"

#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "backend_fixture.h"
#include "differences.h"

namespace {

using conf::local_port;
using conf::loopback4;

// ---- echo server on the public event API --------------------------------------------------

struct EchoServer {
    int accepted = 0;
    int closed = 0;
    long echoed = 0;
    event_base *base = nullptr;
};

struct EchoConn {
    EchoServer *server;
    event *ev;
    int fd;
};

void echo_read(evutil_socket_t fd, short, void *arg) {
    auto *c = static_cast<EchoConn *>(arg);
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            // Loopback socket buffers hold far more than the tiny messages of this test.
            ssize_t w = write(fd, buf, static_cast<size_t>(n));
            if (w > 0) c->server->echoed += w;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        ++c->server->closed;
        event_free(c->ev);
        close(fd);
        delete c;
        return;
    }
}

void echo_accept(evconnlistener *, evutil_socket_t fd, sockaddr *, int, void *arg) {
    auto *s = static_cast<EchoServer *>(arg);
    ++s->accepted;
    auto *c = new EchoConn{s, nullptr, fd};
    c->ev = event_new(s->base, fd, EV_READ | EV_PERSIST, echo_read, c);
    event_add(c->ev, nullptr);
}

// The client side, run in a forked child so the server's process stays under FD_SETSIZE:
// opens n connections, then sends a distinct 16-byte message on each, then reads every echo.
// Exit status 0 if every byte came back right, else a code saying what went wrong.
[[noreturn]] void echo_clients(int port, int n) {
    std::vector<int> fds;
    for (int i = 0; i < n; ++i) {
        int fd = conf::connect_loopback(port);
        if (fd < 0) _exit(2);
        fds.push_back(fd);
    }
    auto message = [](int i) {
        char m[17];
        std::snprintf(m, sizeof m, "conn-%010d", i);
        return std::string(m, 16);
    };
    for (int i = 0; i < n; ++i)
        if (write(fds[i], message(i).data(), 16) != 16) _exit(3);
    std::vector<std::string> got(n);
    int done = 0;
    double deadline = conf::now_ms() + 20000;
    std::vector<pollfd> pfds(n);
    while (done < n) {
        if (conf::now_ms() > deadline) _exit(4);
        for (int i = 0; i < n; ++i)
            pfds[i] = pollfd{got[i].size() < 16 ? fds[i] : -1, POLLIN, 0};
        if (poll(pfds.data(), pfds.size(), 100) < 0) _exit(5);
        for (int i = 0; i < n; ++i) {
            if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[32];
            ssize_t r = read(fds[i], buf, 16 - got[i].size());
            if (r <= 0) _exit(6);
            got[i].append(buf, static_cast<size_t>(r));
            if (got[i].size() == 16) {
                if (got[i] != message(i)) _exit(7);
                ++done;
            }
        }
    }
    for (int fd : fds) close(fd);
    _exit(0);
}

struct ChildWatch {
    pid_t pid;
    int status = -1;
    bool exited = false;
};

void poll_child(evutil_socket_t, short, void *arg) {
    auto *w = static_cast<ChildWatch *>(arg);
    if (!w->exited && waitpid(w->pid, &w->status, WNOHANG) == w->pid) w->exited = true;
}

class ListenerStressTest : public conf::BackendTest {};

TEST_P(ListenerStressTest, ThousandConcurrentEchoConnectionsLoseNothing) {
    constexpr int kConns = 1000;
    EchoServer server;
    server.base = base();
    sockaddr_in sin = loopback4();
    evconnlistener *lev = evconnlistener_new_bind(base(), echo_accept, &server,
                                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 512,
                                                  reinterpret_cast<sockaddr *>(&sin), sizeof sin);
    ASSERT_NE(lev, nullptr);
    int port = local_port(evconnlistener_get_fd(lev));
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) echo_clients(port, kConns);

    ChildWatch watch{pid};
    event *tick = event_new(base(), -1, EV_PERSIST, poll_child, &watch);
    timeval every = conf::tv_ms(5);
    event_add(tick, &every);
    bool finished = conf::run_until(base(), [&] {
        return watch.exited && server.closed == server.accepted;
    }, 40000);
    event_free(tick);
    evconnlistener_free(lev);
    if (!watch.exited) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
    ASSERT_TRUE(finished) << "accepted " << server.accepted << " closed " << server.closed;
    ASSERT_TRUE(WIFEXITED(watch.status));
    EXPECT_EQ(WEXITSTATUS(watch.status), 0);
    EXPECT_EQ(server.accepted, kConns);
    EXPECT_EQ(server.echoed, 16L * kConns);
}

// ---- descriptor exhaustion -----------------------------------------------------------------

struct EmfileReport {
    int errors = 0;            // error callbacks while out of descriptors
    int last_errno = 0;        // errno seen inside the error callback
    double cpu_ms = -1;        // process CPU time while out of descriptors
    double wall_ms = -1;
    int accepted_starved = 0;  // connections accepted while out of descriptors
    int accepted = 0;          // connections accepted in total
    double recovery_ms = -1;   // from freeing descriptors to accepting everything
    int setup_failed = 0;
};

struct EmfileState {
    EmfileReport report;
    std::vector<int> accepted_fds;
};

void emfile_accept(evconnlistener *, evutil_socket_t fd, sockaddr *, int, void *arg) {
    auto *s = static_cast<EmfileState *>(arg);
    ++s->report.accepted;
    s->accepted_fds.push_back(fd);
}

void emfile_error(evconnlistener *, void *arg) {
    auto *s = static_cast<EmfileState *>(arg);
    ++s->report.errors;
    s->report.last_errno = EVUTIL_SOCKET_ERROR();
}

double cpu_ms() {
    rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

constexpr int kStarvedMs = 400;
constexpr int kClients = 5;

// The server side, in a child with a tiny descriptor limit. Reports through `out`.
[[noreturn]] void emfile_server(const conf::Backend &backend, int port_pipe, int go_pipe,
                                int out) {
    EmfileState st;
    auto fail = [&](int code) {
        st.report.setup_failed = code;
        (void)!write(out, &st.report, sizeof st.report);
        _exit(1);
    };
    event_base *base = conf::new_base_on(backend);
    if (!base) fail(1);
    sockaddr_in sin = loopback4();
    evconnlistener *lev = evconnlistener_new_bind(base, emfile_accept, &st,
                                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                                  reinterpret_cast<sockaddr *>(&sin), sizeof sin);
    if (!lev) fail(2);
    evconnlistener_set_error_cb(lev, emfile_error);
    // Lower the limit just above what is open, then use up every remaining descriptor.
    rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    int highest = 0;
    for (int fd = 0; fd < 4096; ++fd)
        if (fcntl(fd, F_GETFD) != -1) highest = fd;
    rl.rlim_cur = static_cast<rlim_t>(highest + 16);
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) fail(3);
    std::vector<int> filler;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) break;
        filler.push_back(fd);
    }
    if (errno != EMFILE || filler.size() < 4) fail(4);

    int port = local_port(evconnlistener_get_fd(lev));
    (void)!write(port_pipe, &port, sizeof port);
    char go;
    if (read(go_pipe, &go, 1) != 1) fail(5);  // the parent has connected its clients

    double cpu0 = cpu_ms(), wall0 = conf::now_ms();
    conf::run_until(base, [] { return false; }, kStarvedMs);
    st.report.cpu_ms = cpu_ms() - cpu0;
    st.report.wall_ms = conf::now_ms() - wall0;
    st.report.accepted_starved = st.report.accepted;

    // Free descriptors without telling the listener; it must notice by itself.
    for (int i = 0; i < 10 && !filler.empty(); ++i) {
        close(filler.back());
        filler.pop_back();
    }
    double t0 = conf::now_ms();
    if (conf::run_until(base, [&] { return st.report.accepted >= kClients; }, 3000))
        st.report.recovery_ms = conf::now_ms() - t0;
    (void)!write(out, &st.report, sizeof st.report);
    _exit(0);
}

TEST_P(ListenerStressTest, OutOfDescriptorsCallsErrorCallbackBacksOffAndRecovers) {
    int port_pipe[2], go_pipe[2], out_pipe[2];
    ASSERT_EQ(pipe(port_pipe), 0);
    ASSERT_EQ(pipe(go_pipe), 0);
    ASSERT_EQ(pipe(out_pipe), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) emfile_server(GetParam(), port_pipe[1], go_pipe[0], out_pipe[1]);
    close(port_pipe[1]);
    close(go_pipe[0]);
    close(out_pipe[1]);

    int port = -1;
    ASSERT_TRUE(conf::readable_within(port_pipe[0], 5000));
    ASSERT_EQ(read(port_pipe[0], &port, sizeof port), (ssize_t)sizeof port);
    std::vector<int> clients;
    for (int i = 0; i < kClients; ++i) clients.push_back(conf::connect_loopback(port));
    ASSERT_EQ(write(go_pipe[1], "g", 1), 1);

    EmfileReport r;
    ASSERT_TRUE(conf::readable_within(out_pipe[0], 10000));
    ASSERT_EQ(read(out_pipe[0], &r, sizeof r), (ssize_t)sizeof r);
    int status;
    waitpid(pid, &status, 0);
    for (int c : clients) close(c);
    for (int fd : {port_pipe[0], go_pipe[1], out_pipe[0]}) close(fd);

    std::printf("EMFILE: %d error callbacks, %.1f ms CPU in %.1f ms, recovered in %.1f ms\n",
                r.errors, r.cpu_ms, r.wall_ms, r.recovery_ms);
    ASSERT_EQ(r.setup_failed, 0);
    for (int c : clients) ASSERT_GE(c, 0);
    EXPECT_EQ(r.accepted_starved, 0);
    EXPECT_GE(r.errors, 1) << "the error callback runs on EMFILE";
    EXPECT_EQ(r.last_errno, EMFILE);
    EXPECT_EQ(r.accepted, kClients) << "every waiting client is accepted once fds are free";
    EXPECT_GE(r.recovery_ms, 0);
    EXPECT_LT(r.recovery_ms, 1000);
    if (conf::kListenerBacksOffOnEmfile) {
        // Backing off: a few wake-ups, not a busy loop (libevent spins at ~100% here).
        EXPECT_LT(r.cpu_ms, 0.25 * r.wall_ms) << r.cpu_ms << " ms CPU in " << r.wall_ms;
        EXPECT_LT(r.errors, 200);
    } else {
        // libevent retries at once, forever: an error callback per loop iteration. (Its CPU
        // share depends on machine load, so the count is what is checked.)
        EXPECT_GT(r.errors, 1000) << "libevent spins";
    }
}

CONF_INSTANTIATE_BACKENDS(ListenerStressTest);

}  // namespace
