// util.h socket helpers: evutil_socketpair, the make_* option setters, evutil_closesocket.
#include <event2/util.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"

namespace {

int sockopt(int fd, int level, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, name, &v, &len) != 0) return -1;
    return v;
}

TEST(Socketpair, ConnectedStreamPair) {
    evutil_socket_t sv[2] = {-1, -1};
    ASSERT_EQ(evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ASSERT_GE(sv[0], 0);
    ASSERT_GE(sv[1], 0);
    ASSERT_EQ(write(sv[0], "ping", 4), 4);
    char buf[8];
    ASSERT_EQ(read(sv[1], buf, sizeof buf), 4);
    EXPECT_EQ(std::string(buf, 4), "ping");
    EXPECT_EQ(evutil_closesocket(sv[0]), 0);
    EXPECT_EQ(evutil_closesocket(sv[1]), 0);
}

TEST(Socketpair, TypeFlagsPassThrough) {
    evutil_socket_t sv[2];
    ASSERT_EQ(evutil_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    EXPECT_TRUE(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
    EXPECT_TRUE(fcntl(sv[1], F_GETFD) & FD_CLOEXEC);
    evutil_closesocket(sv[0]);
    evutil_closesocket(sv[1]);
}

TEST(Socketpair, BadFamilyFailsWithErrno) {
    evutil_socket_t sv[2] = {-1, -1};
    errno = 0;
    EXPECT_EQ(evutil_socketpair(12345, SOCK_STREAM, 0, sv), -1);
    EXPECT_NE(errno, 0);
}

TEST(SocketFlags, NonblockingAndCloseOnExec) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    EXPECT_FALSE(fcntl(fd, F_GETFL) & O_NONBLOCK);
    EXPECT_EQ(evutil_make_socket_nonblocking(fd), 0);
    EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
    EXPECT_EQ(evutil_make_socket_nonblocking(fd), 0);  // idempotent
    EXPECT_TRUE(fcntl(fd, F_GETFL) & O_NONBLOCK);
    EXPECT_FALSE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    EXPECT_EQ(evutil_make_socket_closeonexec(fd), 0);
    EXPECT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    EXPECT_EQ(evutil_make_socket_closeonexec(fd), 0);
    EXPECT_EQ(evutil_closesocket(fd), 0);
}

TEST(SocketFlags, BadDescriptorFails) {
    EXPECT_EQ(evutil_make_socket_nonblocking(-1), -1);
    EXPECT_EQ(evutil_make_socket_closeonexec(-1), -1);
    EXPECT_EQ(evutil_closesocket(-1), -1);
}

TEST(ListenOptions, ReuseableSetsSoReuseaddr) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(sockopt(fd, SOL_SOCKET, SO_REUSEADDR), 0);
    EXPECT_EQ(evutil_make_listen_socket_reuseable(fd), 0);
    EXPECT_NE(sockopt(fd, SOL_SOCKET, SO_REUSEADDR), 0);
    EXPECT_EQ(evutil_make_listen_socket_reuseable_port(fd), 0);
    EXPECT_NE(sockopt(fd, SOL_SOCKET, SO_REUSEPORT), 0);
    EXPECT_EQ(evutil_make_tcp_listen_socket_deferred(fd), 0);
    EXPECT_GT(sockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);
    evutil_closesocket(fd);
}

TEST(ListenOptions, Ipv6Only) {
    int fd = socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) GTEST_SKIP() << "no IPv6";
    EXPECT_EQ(evutil_make_listen_socket_ipv6only(fd), 0);
    EXPECT_EQ(sockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
    evutil_closesocket(fd);
    // Not an IPv6 socket: the setsockopt error comes back.
    int v4 = socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_EQ(evutil_make_listen_socket_ipv6only(v4), -1);
    evutil_closesocket(v4);
}

TEST(ListenOptions, BadDescriptorFails) {
    EXPECT_EQ(evutil_make_listen_socket_reuseable(-1), -1);
    EXPECT_EQ(evutil_make_listen_socket_reuseable_port(-1), -1);
    EXPECT_EQ(evutil_make_listen_socket_ipv6only(-1), -1);
    EXPECT_EQ(evutil_make_tcp_listen_socket_deferred(-1), -1);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    EXPECT_EQ(evutil_make_listen_socket_reuseable(fds[0]), -1);
    EXPECT_EQ(errno, ENOTSOCK);
    close(fds[0]);
    close(fds[1]);
}

TEST(Closesocket, ClosesTheDescriptor) {
    int before = conf::count_open_fds();
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(conf::count_open_fds(), before + 1);
    EXPECT_EQ(EVUTIL_CLOSESOCKET(fd), 0);
    EXPECT_EQ(conf::count_open_fds(), before);
    EXPECT_EQ(fcntl(fd, F_GETFD), -1);
}

TEST(SocketError, MacrosMapToErrno) {
    EVUTIL_SET_SOCKET_ERROR(ECONNRESET);
    EXPECT_EQ(EVUTIL_SOCKET_ERROR(), ECONNRESET);
    EXPECT_EQ(evutil_socket_geterror(0), ECONNRESET);
    EXPECT_STREQ(evutil_socket_error_to_string(ECONNRESET), strerror(ECONNRESET));
    EXPECT_EQ(EVUTIL_INVALID_SOCKET, -1);
}

}  // namespace
