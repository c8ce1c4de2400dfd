// C API of <event2/util.h>: argument checks and one call into src/util each, in header order.
#include <event2/util.h>

#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>

#include "core/mm.h"
#include "util/addrinfo.h"
#include "util/address.h"
#include "util/monotonic_timer.h"
#include "util/secure_rng.h"
#include "util/socket_ops.h"
#include "util/text.h"

using namespace reevent;

extern "C" {

int evutil_date_rfc1123(char *date, const size_t datelen, const struct tm *tm) {
    if (!date && datelen) return -1;
    return util::date_rfc1123(date, datelen, tm);
}

struct evutil_monotonic_timer *evutil_monotonic_timer_new(void) {
    return mm::make<evutil_monotonic_timer>();
}

void evutil_monotonic_timer_free(struct evutil_monotonic_timer *timer) { mm::destroy(timer); }

int evutil_configure_monotonic_time(struct evutil_monotonic_timer *timer, int flags) {
    if (!timer) return -1;
    return timer->configure(flags);
}

int evutil_gettime_monotonic(struct evutil_monotonic_timer *timer, struct timeval *tp) {
    if (!timer || !tp) return -1;
    return timer->now(tp);
}

int evutil_socketpair(int d, int type, int protocol, evutil_socket_t sv[2]) {
    if (!sv) {
        errno = EINVAL;
        return -1;
    }
    return socketpair(d, type, protocol, sv);
}

int evutil_make_socket_nonblocking(evutil_socket_t sock) { return util::make_nonblocking(sock); }

int evutil_make_listen_socket_reuseable(evutil_socket_t sock) { return util::make_reuseable(sock); }

int evutil_make_listen_socket_reuseable_port(evutil_socket_t sock) {
    return util::make_reuseable_port(sock);
}

int evutil_make_listen_socket_ipv6only(evutil_socket_t sock) { return util::make_ipv6only(sock); }

int evutil_make_socket_closeonexec(evutil_socket_t sock) { return util::make_closeonexec(sock); }

int evutil_closesocket(evutil_socket_t sock) { return close(sock); }

int evutil_make_tcp_listen_socket_deferred(evutil_socket_t sock) {
    return util::make_defer_accept(sock);
}

ev_int64_t evutil_strtoll(const char *s, char **endptr, int base) {
    return strtoll(s, endptr, base);
}

int evutil_snprintf(char *buf, size_t buflen, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int r = util::vsnprintf(buf, buflen, format, ap);
    va_end(ap);
    return r;
}

int evutil_vsnprintf(char *buf, size_t buflen, const char *format, va_list ap) {
    return util::vsnprintf(buf, buflen, format, ap);
}

const char *evutil_inet_ntop(int af, const void *src, char *dst, size_t len) {
    return util::inet_ntop(af, src, dst, len);
}

int evutil_inet_pton_scope(int af, const char *src, void *dst, unsigned *indexp) {
    return util::inet_pton_scope(af, src, dst, indexp);
}

int evutil_inet_pton(int af, const char *src, void *dst) {
    return util::inet_pton(af, src, dst);
}

int evutil_parse_sockaddr_port(const char *str, struct sockaddr *out, int *outlen) {
    return util::parse_sockaddr_port(str, out, outlen);
}

int evutil_sockaddr_cmp(const struct sockaddr *sa1, const struct sockaddr *sa2,
                        int include_port) {
    return util::sockaddr_cmp(sa1, sa2, include_port != 0);
}

int evutil_ascii_strcasecmp(const char *str1, const char *str2) {
    return util::ascii_strcasecmp(str1, str2);
}

int evutil_ascii_strncasecmp(const char *str1, const char *str2, size_t n) {
    return util::ascii_strncasecmp(str1, str2, n);
}

int evutil_getaddrinfo(const char *nodename, const char *servname,
                       const struct evutil_addrinfo *hints_in, struct evutil_addrinfo **res) {
    return util::getaddrinfo(nodename, servname, hints_in, res);
}

void evutil_freeaddrinfo(struct evutil_addrinfo *ai) { util::freeaddrinfo(ai); }

const char *evutil_gai_strerror(int err) { return util::gai_strerror(err); }

void evutil_secure_rng_get_bytes(void *buf, size_t n) { util::secure_rng_get_bytes(buf, n); }

int evutil_secure_rng_init(void) { return util::secure_rng_init(); }

int evutil_secure_rng_set_urandom_device_file(char *fname) {
    // The generator is the C library's arc4random, seeded by the kernel: no device to pick.
    (void)fname;
    return -1;
}

void evutil_secure_rng_add_bytes(const char *dat, size_t datlen) {
    // arc4random is reseeded from the kernel; caller entropy is not needed (as in Debian's
    // libevent, which is built on the same generator).
    (void)dat;
    (void)datlen;
}

}  // extern "C"
