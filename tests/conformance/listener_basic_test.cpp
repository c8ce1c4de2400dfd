// evconnlistener on every backend: accepting, enable/disable, the NULL callback, options,
// freeing (also from inside the callback), and what accepted sockets look like.
#include "listener_support.h"

#include <vector>

#include "backend_fixture.h"
#include "differences.h"

namespace {

using conf::connect_loopback;
using conf::local_port;
using conf::loopback4;
using conf::run_for;
using conf::run_until;

struct Accepted {
    std::vector<int> fds;
    std::vector<sockaddr_storage> peers;
    std::vector<int> lens;
    evconnlistener *seen = nullptr;
    bool close_fds = true;
    ~Accepted() {
        if (close_fds)
            for (int fd : fds) close(fd);
    }
};

void on_accept(evconnlistener *lev, evutil_socket_t fd, sockaddr *addr, int len, void *arg) {
    auto *a = static_cast<Accepted *>(arg);
    a->seen = lev;
    a->fds.push_back(fd);
    sockaddr_storage ss;
    std::memset(&ss, 0, sizeof ss);
    std::memcpy(&ss, addr, static_cast<size_t>(len));
    a->peers.push_back(ss);
    a->lens.push_back(len);
}

class ListenerTest : public conf::BackendTest {
protected:
    evconnlistener *bind_loopback(evconnlistener_cb cb, void *arg, unsigned flags,
                                  int backlog = -1) {
        sockaddr_in sin = loopback4();
        return evconnlistener_new_bind(base(), cb, arg, flags, backlog,
                                       reinterpret_cast<sockaddr *>(&sin), sizeof sin);
    }
};

TEST_P(ListenerTest, AcceptsAndReportsPeerAddress) {
    Accepted acc;
    evconnlistener *lev = bind_loopback(on_accept, &acc, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE);
    ASSERT_NE(lev, nullptr);
    int port = local_port(evconnlistener_get_fd(lev));
    ASSERT_GT(port, 0);
    int client = connect_loopback(port);
    ASSERT_GE(client, 0);
    ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 1; }, 2000));
    EXPECT_EQ(acc.seen, lev);
    ASSERT_EQ(acc.lens[0], (int)sizeof(sockaddr_in));
    auto *peer = reinterpret_cast<sockaddr_in *>(&acc.peers[0]);
    EXPECT_EQ(peer->sin_family, AF_INET);
    EXPECT_EQ(ntohl(peer->sin_addr.s_addr), INADDR_LOOPBACK);
    EXPECT_EQ(ntohs(peer->sin_port), local_port(client));
    // The accepted socket is connected to our client.
    ASSERT_EQ(write(client, "hi", 2), 2);
    char buf[4];
    ASSERT_TRUE(conf::readable_within(acc.fds[0], 1000));
    EXPECT_EQ(read(acc.fds[0], buf, sizeof buf), 2);
    close(client);
    evconnlistener_free(lev);
}

TEST_P(ListenerTest, AcceptsEveryPendingConnection) {
    Accepted acc;
    evconnlistener *lev = bind_loopback(on_accept, &acc, LEV_OPT_CLOSE_ON_FREE, 64);
    ASSERT_NE(lev, nullptr);
    int port = local_port(evconnlistener_get_fd(lev));
    std::vector<int> clients;
    for (int i = 0; i < 20; ++i) clients.push_back(connect_loopback(port));
    for (int c : clients) ASSERT_GE(c, 0);
    ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 20; }, 3000));
    run_for(base(), 10);
    EXPECT_EQ(acc.fds.size(), 20u);
    for (int c : clients) close(c);
    evconnlistener_free(lev);
}

TEST_P(ListenerTest, AcceptedSocketsAreNonblockingUnlessAskedNotTo) {
    for (unsigned flags : {0u, (unsigned)LEV_OPT_LEAVE_SOCKETS_BLOCKING}) {
        Accepted acc;
        evconnlistener *lev = bind_loopback(on_accept, &acc, LEV_OPT_CLOSE_ON_FREE | flags);
        ASSERT_NE(lev, nullptr);
        int client = connect_loopback(local_port(evconnlistener_get_fd(lev)));
        ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 1; }, 2000));
        bool nonblocking = fcntl(acc.fds[0], F_GETFL) & O_NONBLOCK;
        EXPECT_EQ(nonblocking, flags == 0) << "flags " << flags;
        close(client);
        evconnlistener_free(lev);
    }
}

TEST_P(ListenerTest, CloseOnExecAppliesToListenerAndAcceptedSockets) {
    for (unsigned flags : {0u, (unsigned)LEV_OPT_CLOSE_ON_EXEC}) {
        Accepted acc;
        evconnlistener *lev = bind_loopback(on_accept, &acc, LEV_OPT_CLOSE_ON_FREE | flags);
        ASSERT_NE(lev, nullptr);
        bool want = flags != 0;
        EXPECT_EQ((bool)(fcntl(evconnlistener_get_fd(lev), F_GETFD) & FD_CLOEXEC), want);
        int client = connect_loopback(local_port(evconnlistener_get_fd(lev)));
        ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 1; }, 2000));
        EXPECT_EQ((bool)(fcntl(acc.fds[0], F_GETFD) & FD_CLOEXEC), want);
        close(client);
        evconnlistener_free(lev);
    }
}

TEST_P(ListenerTest, CreatedDisabledAcceptsOnlyAfterEnable) {
    Accepted acc;
    evconnlistener *lev = bind_loopback(on_accept, &acc, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_DISABLED);
    ASSERT_NE(lev, nullptr);
    int client = connect_loopback(local_port(evconnlistener_get_fd(lev)));
    ASSERT_GE(client, 0);  // the kernel completes the handshake into the backlog
    run_for(base(), 30);
    EXPECT_TRUE(acc.fds.empty());
    EXPECT_EQ(evconnlistener_enable(lev), 0);
    ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 1; }, 2000));
    close(client);
    evconnlistener_free(lev);
}

TEST_P(ListenerTest, DisableStopsAndEnableResumes) {
    Accepted acc;
    evconnlistener *lev = bind_loopback(on_accept, &acc, LEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(lev, nullptr);
    int port = local_port(evconnlistener_get_fd(lev));
    EXPECT_EQ(evconnlistener_disable(lev), 0);
    EXPECT_EQ(evconnlistener_disable(lev), 0);  // twice is harmless
    int c1 = connect_loopback(port);
    run_for(base(), 30);
    EXPECT_TRUE(acc.fds.empty());
    EXPECT_EQ(evconnlistener_enable(lev), 0);
    EXPECT_EQ(evconnlistener_enable(lev), 0);
    ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 1; }, 2000));
    int c2 = connect_loopback(port);
    ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 2; }, 2000));
    close(c1);
    close(c2);
    evconnlistener_free(lev);
}

void disable_on_accept(evconnlistener *lev, evutil_socket_t fd, sockaddr *a, int n, void *arg) {
    on_accept(lev, fd, a, n, arg);
    evconnlistener_disable(lev);
}

TEST_P(ListenerTest, DisableFromCallbackStopsTheAcceptLoop) {
    Accepted acc;
    evconnlistener *lev = bind_loopback(disable_on_accept, &acc, LEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(lev, nullptr);
    int port = local_port(evconnlistener_get_fd(lev));
    int c1 = connect_loopback(port), c2 = connect_loopback(port), c3 = connect_loopback(port);
    ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() >= 1; }, 2000));
    run_for(base(), 30);
    EXPECT_EQ(acc.fds.size(), 1u);
    evconnlistener_set_cb(lev, on_accept, &acc);
    evconnlistener_enable(lev);
    ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 3; }, 2000));
    close(c1);
    close(c2);
    close(c3);
    evconnlistener_free(lev);
}

TEST_P(ListenerTest, NullCallbackWaitsUntilOneIsSet) {
    Accepted acc;
    evconnlistener *lev = bind_loopback(nullptr, nullptr, LEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(lev, nullptr);
    int client = connect_loopback(local_port(evconnlistener_get_fd(lev)));
    run_for(base(), 30);
    // Not accepted (and so not closed): nothing arrives on the client.
    EXPECT_FALSE(conf::readable_within(client, 0));
    evconnlistener_set_cb(lev, on_accept, &acc);
    ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 1; }, 2000));
    close(client);
    evconnlistener_free(lev);
}

TEST_P(ListenerTest, NullCallbackOnDisabledListenerStaysDisabledWhenSet) {
    Accepted acc;
    evconnlistener *lev = bind_loopback(nullptr, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_DISABLED);
    ASSERT_NE(lev, nullptr);
    int client = connect_loopback(local_port(evconnlistener_get_fd(lev)));
    evconnlistener_set_cb(lev, on_accept, &acc);
    run_for(base(), 30);
    EXPECT_TRUE(acc.fds.empty());
    evconnlistener_enable(lev);
    ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 1; }, 2000));
    close(client);
    evconnlistener_free(lev);
}

TEST_P(ListenerTest, ClearingTheCallbackClosesNewConnections) {
    Accepted acc;
    evconnlistener *lev = bind_loopback(on_accept, &acc, LEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(lev, nullptr);
    evconnlistener_set_cb(lev, nullptr, nullptr);
    int client = connect_loopback(local_port(evconnlistener_get_fd(lev)));
    run_until(base(), [&] { return conf::readable_within(client, 0); }, 2000);
    char c;
    EXPECT_EQ(read(client, &c, 1), 0) << "accepted and closed: EOF";
    EXPECT_TRUE(acc.fds.empty());
    close(client);
    evconnlistener_free(lev);
}

TEST_P(ListenerTest, GettersReturnFdAndBase) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in sin = loopback4();
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin), 0);
    evconnlistener *lev = evconnlistener_new(base(), on_accept, nullptr, 0, 8, fd);
    ASSERT_NE(lev, nullptr);
    EXPECT_EQ(evconnlistener_get_fd(lev), fd);
    EXPECT_EQ(evconnlistener_get_base(lev), base());
    evconnlistener_free(lev);
    close(fd);
}

TEST_P(ListenerTest, CloseOnFreeClosesTheSocketOtherwiseLeavesIt) {
    int before = conf::count_open_fds();
    evconnlistener *lev = bind_loopback(on_accept, nullptr, LEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(lev, nullptr);
    evconnlistener_free(lev);
    EXPECT_EQ(conf::count_open_fds(), before);

    lev = bind_loopback(on_accept, nullptr, 0);
    ASSERT_NE(lev, nullptr);
    int fd = evconnlistener_get_fd(lev);
    evconnlistener_free(lev);
    EXPECT_NE(fcntl(fd, F_GETFD), -1) << "still open without LEV_OPT_CLOSE_ON_FREE";
    EXPECT_EQ(conf::count_open_fds(), before + 1);
    close(fd);
}

TEST_P(ListenerTest, FreedListenerRefusesNewConnections) {
    evconnlistener *lev = bind_loopback(on_accept, nullptr, LEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(lev, nullptr);
    int port = local_port(evconnlistener_get_fd(lev));
    evconnlistener_free(lev);
    EXPECT_EQ(connect_loopback(port), -1);
    EXPECT_EQ(errno, ECONNREFUSED);
}

struct FreeInside {
    evconnlistener *lev = nullptr;
    int calls = 0;
    int fd = -1;
};

void free_on_accept(evconnlistener *lev, evutil_socket_t fd, sockaddr *, int, void *arg) {
    auto *f = static_cast<FreeInside *>(arg);
    ++f->calls;
    f->fd = fd;
    evconnlistener_free(lev);
    f->lev = nullptr;
}

TEST_P(ListenerTest, FreeFromInsideTheCallbackIsSafe) {
    FreeInside f;
    f.lev = bind_loopback(free_on_accept, &f, LEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(f.lev, nullptr);
    int port = local_port(evconnlistener_get_fd(f.lev));
    int c1 = connect_loopback(port), c2 = connect_loopback(port);
    ASSERT_TRUE(run_until(base(), [&] { return f.calls >= 1; }, 2000));
    run_for(base(), 20);
    EXPECT_EQ(f.calls, 1) << "no callback after free";
    close(f.fd);
    close(c1);
    close(c2);
}

TEST_P(ListenerTest, NewBindRefusesZeroBacklogAndBusyAddress) {
    EXPECT_EQ(bind_loopback(on_accept, nullptr, LEV_OPT_CLOSE_ON_FREE, 0), nullptr);
    int before = conf::count_open_fds();
    evconnlistener *lev = bind_loopback(on_accept, nullptr, LEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(lev, nullptr);
    sockaddr_in busy = loopback4(local_port(evconnlistener_get_fd(lev)));
    EXPECT_EQ(evconnlistener_new_bind(base(), on_accept, nullptr, LEV_OPT_CLOSE_ON_FREE, -1,
                                      reinterpret_cast<sockaddr *>(&busy), sizeof busy),
              nullptr);
    EXPECT_EQ(conf::count_open_fds(), before + 1) << "the failed socket was closed";
    evconnlistener_free(lev);
    // No address: no family to create a socket for.
    EXPECT_EQ(evconnlistener_new_bind(base(), on_accept, nullptr, 0, -1, nullptr, 0), nullptr);
    EXPECT_EQ(conf::count_open_fds(), before);
}

TEST_P(ListenerTest, NewBindSocketOptions) {
    evconnlistener *lev = bind_loopback(on_accept, nullptr,
                                        LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                            LEV_OPT_REUSEABLE_PORT | LEV_OPT_DEFERRED_ACCEPT);
    ASSERT_NE(lev, nullptr);
    int fd = evconnlistener_get_fd(lev);
    auto opt = [fd](int level, int name) {
        int v = 0;
        socklen_t len = sizeof v;
        getsockopt(fd, level, name, &v, &len);
        return v;
    };
    EXPECT_NE(opt(SOL_SOCKET, SO_REUSEADDR), 0);
    EXPECT_NE(opt(SOL_SOCKET, SO_REUSEPORT), 0);
    EXPECT_NE(opt(SOL_SOCKET, SO_KEEPALIVE), 0);
    EXPECT_GT(opt(IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);
    EXPECT_NE(opt(SOL_SOCKET, SO_ACCEPTCONN), 0);
    EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
    // A second listener may share the port with LEV_OPT_REUSEABLE_PORT.
    sockaddr_in same = loopback4(local_port(fd));
    evconnlistener *twin = evconnlistener_new_bind(
        base(), on_accept, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE_PORT, -1,
        reinterpret_cast<sockaddr *>(&same), sizeof same);
    EXPECT_NE(twin, nullptr);
    if (twin) evconnlistener_free(twin);
    evconnlistener_free(lev);
}

TEST_P(ListenerTest, Ipv6OnlyAndIpv6Accept) {
    sockaddr_in6 sin6 = conf::loopback6();
    Accepted acc;
    evconnlistener *lev = evconnlistener_new_bind(
        base(), on_accept, &acc, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_BIND_IPV6ONLY, -1,
        reinterpret_cast<sockaddr *>(&sin6), sizeof sin6);
    if (!lev) GTEST_SKIP() << "no IPv6 loopback";
    int fd = evconnlistener_get_fd(lev);
    int v = 0;
    socklen_t len = sizeof v;
    getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, &len);
    EXPECT_EQ(v, 1);
    int client = socket(AF_INET6, SOCK_STREAM, 0);
    sockaddr_in6 to = conf::loopback6(local_port(fd));
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr *>(&to), sizeof to), 0);
    ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 1; }, 2000));
    EXPECT_EQ(acc.lens[0], (int)sizeof(sockaddr_in6));
    EXPECT_EQ(acc.peers[0].ss_family, AF_INET6);
    close(client);
    evconnlistener_free(lev);
}

TEST_P(ListenerTest, NewOnListeningSocketWithZeroBacklog) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in sin = loopback4();
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin), 0);
    ASSERT_EQ(listen(fd, 16), 0);
    Accepted acc;
    evconnlistener *lev = evconnlistener_new(base(), on_accept, &acc, LEV_OPT_CLOSE_ON_FREE, 0, fd);
    ASSERT_NE(lev, nullptr);
    int client = connect_loopback(local_port(fd));
    ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 1; }, 2000));
    close(client);
    evconnlistener_free(lev);
    EXPECT_EQ(fcntl(fd, F_GETFD), -1) << "closed by LEV_OPT_CLOSE_ON_FREE";
}

TEST_P(ListenerTest, NewFailsWhenListenFails) {
    // A UDP socket cannot listen().
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    EXPECT_EQ(evconnlistener_new(base(), on_accept, nullptr, LEV_OPT_CLOSE_ON_FREE, 16, fd),
              nullptr);
    EXPECT_NE(fcntl(fd, F_GETFD), -1) << "the caller still owns fd after a failure";
    close(fd);
}

TEST_P(ListenerTest, TwoListenersOnOneBase) {
    Accepted a, b;
    evconnlistener *la = bind_loopback(on_accept, &a, LEV_OPT_CLOSE_ON_FREE);
    evconnlistener *lb = bind_loopback(on_accept, &b, LEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(la, nullptr);
    ASSERT_NE(lb, nullptr);
    int ca = connect_loopback(local_port(evconnlistener_get_fd(la)));
    int cb = connect_loopback(local_port(evconnlistener_get_fd(lb)));
    ASSERT_TRUE(run_until(base(), [&] { return a.fds.size() == 1 && b.fds.size() == 1; }, 2000));
    EXPECT_EQ(a.seen, la);
    EXPECT_EQ(b.seen, lb);
    close(ca);
    close(cb);
    evconnlistener_free(la);
    evconnlistener_free(lb);
}

struct ErrorSeen {
    int calls = 0;
    int err = 0;
};

void disable_on_error(evconnlistener *lev, void *arg) {
    auto *e = static_cast<ErrorSeen *>(arg);
    ++e->calls;
    e->err = EVUTIL_SOCKET_ERROR();
    evconnlistener_disable(lev);
}

TEST_P(ListenerTest, ErrorCallbackSeesAcceptErrno) {
    // A TCP socket that never listened is "readable" (hung up) and accept() fails with EINVAL.
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ErrorSeen seen;
    evconnlistener *lev =
        evconnlistener_new(base(), on_accept, &seen, LEV_OPT_CLOSE_ON_FREE, 0, fd);
    ASSERT_NE(lev, nullptr);
    evconnlistener_set_error_cb(lev, disable_on_error);
    ASSERT_TRUE(run_until(base(), [&] { return seen.calls > 0; }, 2000));
    run_for(base(), 20);
    EXPECT_EQ(seen.calls, 1) << "disabled from the error callback";
    EXPECT_EQ(seen.err, EINVAL);
    evconnlistener_free(lev);
}

TEST_P(ListenerTest, AcceptErrorWithoutCallbackIsLogged) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    conf::LogCapture log;
    evconnlistener *lev =
        evconnlistener_new(base(), on_accept, nullptr, LEV_OPT_CLOSE_ON_FREE, 0, fd);
    ASSERT_NE(lev, nullptr);
    run_until(base(), [&] { return !log.messages().empty(); }, 2000);
    evconnlistener_free(lev);
    ASSERT_FALSE(log.messages().empty());
    EXPECT_EQ(log.messages()[0].first, EVENT_LOG_WARN);
    EXPECT_TRUE(log.contains("accept")) << log.messages()[0].second;
}

TEST_P(ListenerTest, BlockingListeningSocketDoesNotStallTheLoop) {
    // libevent requires a non-blocking socket and blocks its whole loop in accept() after
    // the last pending connection otherwise; reevent makes the socket non-blocking.
    if (!conf::kIsReevent) GTEST_SKIP() << "hangs libevent 2.1.12";
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sin = loopback4();
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin), 0);
    Accepted acc;
    evconnlistener *lev = evconnlistener_new(base(), on_accept, &acc, LEV_OPT_CLOSE_ON_FREE, 8, fd);
    ASSERT_NE(lev, nullptr);
    EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
    int client = connect_loopback(local_port(fd));
    ASSERT_TRUE(run_until(base(), [&] { return acc.fds.size() == 1; }, 2000));
    double t0 = conf::now_ms();
    run_for(base(), 10);
    EXPECT_LT(conf::now_ms() - t0, 1000);
    close(client);
    evconnlistener_free(lev);
}

TEST_P(ListenerTest, NullListenerAndBaseAreRejected) {
    if (!conf::kIsReevent) GTEST_SKIP() << "crashes libevent 2.1.12";
    EXPECT_EQ(evconnlistener_enable(nullptr), -1);
    EXPECT_EQ(evconnlistener_disable(nullptr), -1);
    EXPECT_EQ(evconnlistener_get_fd(nullptr), -1);
    EXPECT_EQ(evconnlistener_get_base(nullptr), nullptr);
    evconnlistener_set_cb(nullptr, on_accept, nullptr);
    evconnlistener_set_error_cb(nullptr, nullptr);
    evconnlistener_free(nullptr);
    sockaddr_in sin = loopback4();
    int before = conf::count_open_fds();
    EXPECT_EQ(evconnlistener_new_bind(nullptr, on_accept, nullptr, 0, -1,
                                      reinterpret_cast<sockaddr *>(&sin), sizeof sin),
              nullptr);
    EXPECT_EQ(conf::count_open_fds(), before);
}

CONF_INSTANTIATE_BACKENDS(ListenerTest);

}  // namespace
