// Socket set-up helpers behind evutil_make_socket_* and evutil_make_listen_socket_*.
//
// Thin, but shared: the listener uses the same functions for LEV_OPT_REUSEABLE & co, so the
// option a user sets through util.h and through a listener flag is the same code path.
#pragma once

namespace reevent::util {

// O_NONBLOCK / FD_CLOEXEC, set only when missing. 0, or -1 with a warning logged.
int make_nonblocking(int fd) noexcept;
int make_closeonexec(int fd) noexcept;

// setsockopt(…, 1) results: 0 or -1 with errno.
int make_reuseable(int fd) noexcept;        // SO_REUSEADDR
int make_reuseable_port(int fd) noexcept;   // SO_REUSEPORT
int make_ipv6only(int fd) noexcept;         // IPV6_V6ONLY
int make_defer_accept(int fd) noexcept;     // TCP_DEFER_ACCEPT

}  // namespace reevent::util
