// libevent-internal helper names that libevent 2.1's core exports (they are in its .so though
// no public header declares them). reevent exports the small pure ones with libevent's
// signatures and behaviour for binary compatibility: programs and test suites written
// against libevent (its own regress suite among them) call them directly. Our own code,
// implemented from the documented/observed behaviour; nothing here depends on libevent's
// private structures except evutil_monotonic_timer, which is ours (see below).
#include "core/addon_abi.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>
#include <new>

#include <event2/util.h>

#include "util/monotonic_timer.h"

namespace {

// Character classes in the C locale, ASCII only (bytes >= 0x80 belong to none), as libevent.
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_upper(unsigned char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(unsigned char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(unsigned char c) { return is_upper(c) || is_lower(c); }
bool is_xdigit(unsigned char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
// Space, \t, \n, \v, \f, \r.
bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool is_print(unsigned char c) { return c >= 0x20 && c < 0x7f; }

// The storage of a libevent caller's `struct evutil_monotonic_timer` (on its stack, sized by
// libevent's private header: on Linux an int and two timevals, 40 bytes, 8-aligned) must
// hold ours.
constexpr size_t kLibeventMonotonicTimerSize = 40;
static_assert(sizeof(evutil_monotonic_timer) <= kLibeventMonotonicTimerSize);
static_assert(alignof(evutil_monotonic_timer) <= 8);

}  // namespace

extern "C" {

REEVENT_ADDON_ABI int EVUTIL_ISALPHA_(char c) { return is_alpha(static_cast<unsigned char>(c)); }
REEVENT_ADDON_ABI int EVUTIL_ISALNUM_(char c) {
    auto u = static_cast<unsigned char>(c);
    return is_alpha(u) || is_digit(u);
}
REEVENT_ADDON_ABI int EVUTIL_ISSPACE_(char c) { return is_space(static_cast<unsigned char>(c)); }
REEVENT_ADDON_ABI int EVUTIL_ISDIGIT_(char c) { return is_digit(static_cast<unsigned char>(c)); }
REEVENT_ADDON_ABI int EVUTIL_ISXDIGIT_(char c) { return is_xdigit(static_cast<unsigned char>(c)); }
REEVENT_ADDON_ABI int EVUTIL_ISPRINT_(char c) { return is_print(static_cast<unsigned char>(c)); }
REEVENT_ADDON_ABI int EVUTIL_ISLOWER_(char c) { return is_lower(static_cast<unsigned char>(c)); }
REEVENT_ADDON_ABI int EVUTIL_ISUPPER_(char c) { return is_upper(static_cast<unsigned char>(c)); }
REEVENT_ADDON_ABI char EVUTIL_TOUPPER_(char c) {
    auto u = static_cast<unsigned char>(c);
    return is_lower(u) ? static_cast<char>(u - 'a' + 'A') : c;
}
REEVENT_ADDON_ABI char EVUTIL_TOLOWER_(char c) {
    auto u = static_cast<unsigned char>(c);
    return is_upper(u) ? static_cast<char>(u - 'A' + 'a') : c;
}

// Cuts trailing spaces and tabs (only those: "linear white space" of a header line).
REEVENT_ADDON_ABI void evutil_rtrim_lws_(char *str) {
    if (!str) return;
    size_t n = std::strlen(str);
    while (n && (str[n - 1] == ' ' || str[n - 1] == '\t')) str[--n] = '\0';
}

// True for addresses that say nothing about reaching the Internet: any (0.0.0.0),
// 127/8, link-local 169.254/16 and multicast 224/4.
REEVENT_ADDON_ABI int evutil_v4addr_is_local_(const struct in_addr *in) {
    const uint32_t a = ntohl(in->s_addr);
    return a == INADDR_ANY || (a >> 24) == 127 || (a >> 16) == 0xa9fe || (a >> 28) == 0xe;
}

// The same for IPv6: an all-zero first half (::, ::1, v4-mapped/-compatible), unique local
// fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast ff00::/8.
REEVENT_ADDON_ABI int evutil_v6addr_is_local_(const struct in6_addr *in) {
    const unsigned char *a = in->s6_addr;
    static constexpr unsigned char kZero[8] = {};
    return std::memcmp(a, kZero, sizeof kZero) == 0 || (a[0] & 0xfe) == 0xfc ||
           (a[0] == 0xfe && (a[1] & 0x80) == 0x80) || a[0] == 0xff;
}

// 127/8 or exactly ::1; other families never.
REEVENT_ADDON_ABI int evutil_sockaddr_is_loopback_(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET) {
        const auto *sin = reinterpret_cast<const sockaddr_in *>(sa);
        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(sa);
        return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ? 1 : 0;
    }
    return 0;
}

// "a.b.c.d:port", "[v6]:port", or "<addr with socktype N>" for other families; returns out.
REEVENT_ADDON_ABI const char *evutil_format_sockaddr_port_(const struct sockaddr *sa, char *out,
                                                           size_t outlen) {
    char text[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const auto *sin = reinterpret_cast<const sockaddr_in *>(sa);
        if (inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text)) {
            std::snprintf(out, outlen, "%s:%d", text, int(ntohs(sin->sin_port)));
            return out;
        }
    } else if (sa->sa_family == AF_INET6) {
        const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(sa);
        if (inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text)) {
            std::snprintf(out, outlen, "[%s]:%d", text, int(ntohs(sin6->sin6_port)));
            return out;
        }
    }
    std::snprintf(out, outlen, "<addr with socktype %d>", int(sa->sa_family));
    return out;
}

// The public evutil_configure_monotonic_time / evutil_gettime_monotonic on a timer the
// caller allocated itself (uninitialized storage of libevent's private struct size, see
// above): configuring constructs ours in it.
REEVENT_ADDON_ABI int evutil_configure_monotonic_time_(struct evutil_monotonic_timer *timer,
                                                       int flags) {
    auto *t = new (timer) evutil_monotonic_timer{};
    return t->configure(flags);
}

REEVENT_ADDON_ABI int evutil_gettime_monotonic_(struct evutil_monotonic_timer *timer,
                                                struct timeval *tp) {
    return timer->now(tp);
}

}  // extern "C"
