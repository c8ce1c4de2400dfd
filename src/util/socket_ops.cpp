// Socket option helpers; see socket_ops.h.
#include "util/socket_ops.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "core/log.h"

namespace reevent::util {
namespace {

int set_int_option(int fd, int level, int name) noexcept {
    int one = 1;
    return setsockopt(fd, level, name, &one, sizeof one);
}

}  // namespace

int make_nonblocking(int fd) noexcept {
    int flags = fcntl(fd, F_GETFL, nullptr);
    if (flags < 0) {
        log::warn_errno("fcntl(%d, F_GETFL)", fd);
        return -1;
    }
    if (!(flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
        log::warn_errno("fcntl(%d, F_SETFL)", fd);
        return -1;
    }
    return 0;
}

int make_closeonexec(int fd) noexcept {
    int flags = fcntl(fd, F_GETFD, nullptr);
    if (flags < 0) {
        log::warn_errno("fcntl(%d, F_GETFD)", fd);
        return -1;
    }
    if (!(flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) {
        log::warn_errno("fcntl(%d, F_SETFD)", fd);
        return -1;
    }
    return 0;
}

int make_reuseable(int fd) noexcept { return set_int_option(fd, SOL_SOCKET, SO_REUSEADDR); }
int make_reuseable_port(int fd) noexcept { return set_int_option(fd, SOL_SOCKET, SO_REUSEPORT); }
int make_ipv6only(int fd) noexcept { return set_int_option(fd, IPPROTO_IPV6, IPV6_V6ONLY); }
int make_defer_accept(int fd) noexcept { return set_int_option(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT); }

}  // namespace reevent::util
