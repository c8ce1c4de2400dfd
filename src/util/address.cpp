// Address parsing and comparison; see address.h.
#include "util/address.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <net/if.h>
#include <netinet/in.h>

namespace reevent::util {
namespace {

// Longest address part (between '[' and ']', or before ":port") libevent accepts; anything
// longer fails even if it would parse (it copies into a 128-byte buffer).
constexpr size_t kMaxAddrPart = 127;

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// The port after ':' as libevent reads it (atoi: blanks, a sign, digits, junk ignored), but
// computed exactly: anything outside 1..65535 is -1 (libevent lets 2^32+80 wrap to 80).
int parse_port(const char *s) noexcept {
    while (is_blank(*s)) ++s;
    bool negative = false;
    if (*s == '+' || *s == '-') negative = *s++ == '-';
    long value = 0;
    for (; *s >= '0' && *s <= '9'; ++s) {
        value = value * 10 + (*s - '0');
        if (value > 65535) return -1;
    }
    if (negative || value < 1) return -1;
    return static_cast<int>(value);
}

// Copies [begin, begin+len) into buf as a C string; false if it does not fit.
bool copy_part(char *buf, size_t cap, const char *begin, size_t len) noexcept {
    if (len >= cap) return false;
    std::memcpy(buf, begin, len);
    buf[len] = '\0';
    return true;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// One dotted-quad field as scanf's %u reads it: blanks, a sign, decimal digits. Values are
// computed exactly and must end up in 0..255 ("-0" is 0); libevent lets numbers that wrap
// modulo 2^32 into that range through, reevent does not.
bool parse_v4_field(const char *&s, const char *end, unsigned &out) noexcept {
    while (s < end && is_blank(*s)) ++s;
    bool negative = false;
    if (s < end && (*s == '+' || *s == '-')) negative = *s++ == '-';
    if (s == end || !is_digit(*s)) return false;
    unsigned long value = 0;
    bool too_big = false;
    for (; s < end && is_digit(*s); ++s) {
        value = value * 10 + static_cast<unsigned>(*s - '0');
        if (value > 255) {
            too_big = true;
            value = 256;  // saturate; keep consuming digits
        }
    }
    if (too_big || (negative && value != 0)) return false;
    out = static_cast<unsigned>(value);
    return true;
}

// "a.b.c.d" filling [s, end) exactly, into 4 bytes.
bool parse_v4(const char *s, const char *end, unsigned char out[4]) noexcept {
    for (int i = 0; i < 4; ++i) {
        unsigned v;
        if (!parse_v4_field(s, end, v)) return false;
        out[i] = static_cast<unsigned char>(v);
        if (i < 3 && (s == end || *s++ != '.')) return false;
    }
    return s == end;
}

// One IPv6 word as strtol(s, &end, 16) reads it when s starts with a hex digit: an optional
// "0x" prefix counts toward the 4-character limit. The caller checked hex_value(*s) >= 0.
bool parse_v6_word(const char *&s, const char *end, unsigned &out) noexcept {
    const char *p = s;
    if (end - p >= 3 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && hex_value(p[2]) >= 0)
        p += 2;
    unsigned value = 0;
    int digits = 0;
    for (; p < end && hex_value(*p) >= 0; ++p, ++digits) {
        if (digits < 8) value = value * 16 + static_cast<unsigned>(hex_value(*p));
    }
    if (p - s > 4) return false;
    out = value;
    s = p;
    return true;
}

// [src, src+len) as an IPv6 address.
bool parse_v6(const char *src, size_t len, unsigned char out[16]) noexcept {
    unsigned words[8] = {};
    int count = 0;  // words given, including the two of an IPv4 tail
    int gap = -1;   // index where "::" stands
    const char *end = src + len;
    auto *dot = static_cast<const char *>(std::memchr(src, '.', len));
    if (dot == src) return false;
    if (dot) {
        // The IPv4 tail is the run of digits before the first dot, and everything after.
        const char *tail = dot;
        while (tail > src && is_digit(tail[-1])) --tail;
        unsigned char v4[4];
        if (!parse_v4(tail, end, v4)) return false;
        words[6] = (v4[0] << 8) | v4[1];
        words[7] = (v4[2] << 8) | v4[3];
        count = 2;
        end = tail;
    }
    int i = 0;
    const char *s = src;
    while (s < end) {
        if (i > 7) return false;
        if (hex_value(*s) >= 0) {
            unsigned w;
            // Like strtol, the word may run on past `end` into the IPv4 tail ("ffff1.2.3.4"
            // is one 5-digit word, hence invalid), so it is bounded by the whole text only.
            if (!parse_v6_word(s, src + len, w)) return false;
            words[i++] = w;
            ++count;
            if (s != end && *s != ':') return false;
            ++s;  // the separator (or one past the end, which ends the loop)
        } else if (*s == ':' && i > 0 && gap < 0) {
            gap = i;
            ++s;
        } else if (*s == ':' && i == 0 && s + 1 < end && s[1] == ':' && gap < 0) {
            gap = 0;
            s += 2;
        } else {
            return false;
        }
    }
    if (count > 8 || (count == 8 && gap >= 0) || (count < 8 && gap < 0)) return false;
    if (gap >= 0) {
        // Words after the gap move to the end; the tail, if any, is already there.
        int moving = count - (dot ? 2 : 0) - gap;
        int width = 8 - count;
        if (moving < 0) return false;
        for (int k = moving - 1; k >= 0; --k) words[gap + width + k] = words[gap + k];
        for (int k = 0; k < width; ++k) words[gap + k] = 0;
    }
    for (int k = 0; k < 8; ++k) {
        out[2 * k] = static_cast<unsigned char>(words[k] >> 8);
        out[2 * k + 1] = static_cast<unsigned char>(words[k] & 0xff);
    }
    return true;
}

}  // namespace

int inet_pton(int af, const char *src, void *dst) noexcept {
    if (!src || !dst) {
        errno = EINVAL;
        return -1;
    }
    size_t len = std::strlen(src);
    auto *out = static_cast<unsigned char *>(dst);
    if (af == AF_INET) return parse_v4(src, src + len, out) ? 1 : 0;
    if (af == AF_INET6) return parse_v6(src, len, out) ? 1 : 0;
    errno = EAFNOSUPPORT;
    return -1;
}

const char *inet_ntop(int af, const void *src, char *dst, size_t len) noexcept {
    if (!src || !dst) {
        errno = EINVAL;
        return nullptr;
    }
    if (af == AF_INET6) {
        // An IPv4-compatible address whose low word is zero is printed as words by libevent
        // ("::1:0"); the C library would print "::0.1.0.0".
        auto *b = static_cast<const unsigned char *>(src);
        bool zero96 = true;
        for (int i = 0; i < 12; ++i) zero96 = zero96 && b[i] == 0;
        if (zero96 && (b[12] | b[13]) && !(b[14] | b[15])) {
            char text[16];
            int n = std::snprintf(text, sizeof text, "::%x:0", (b[12] << 8) | b[13]);
            if (n < 0 || static_cast<size_t>(n) >= len) {
                errno = ENOSPC;
                return nullptr;
            }
            std::memcpy(dst, text, static_cast<size_t>(n) + 1);
            return dst;
        }
    }
    return ::inet_ntop(af, src, dst, static_cast<socklen_t>(len));
}

int inet_pton_scope(int af, const char *src, void *dst, unsigned *index) noexcept {
    if (index) *index = 0;
    if (!src || !dst) {
        errno = EINVAL;
        return -1;
    }
    if (af != AF_INET6) return util::inet_pton(af, src, dst);
    const char *percent = std::strchr(src, '%');
    if (!percent) return util::inet_pton(af, src, dst);

    const char *scope = percent + 1;
    unsigned id = if_nametoindex(scope);
    if (id == 0) {
        // Not an interface name: a number, read as strtoul does (blanks, sign, wrap).
        char *end = nullptr;
        unsigned long n = std::strtoul(scope, &end, 10);
        if (*end != '\0') return 0;
        id = static_cast<unsigned>(n);
    }
    if (index) *index = id;

    if (!dst) return -1;
    return parse_v6(src, static_cast<size_t>(percent - src), static_cast<unsigned char *>(dst))
               ? 1 : 0;
}

int parse_sockaddr_port(const char *str, sockaddr *out, int *outlen) noexcept {
    if (!str || !out || !outlen) return -1;

    char buf[kMaxAddrPart + 1];
    const char *addr;
    const char *port_text = nullptr;  // null: no port given
    bool v6;
    const char *colon = std::strchr(str, ':');
    if (str[0] == '[') {
        const char *close = std::strchr(str, ']');
        if (!close) return -1;
        if (!copy_part(buf, sizeof buf, str + 1, static_cast<size_t>(close - str - 1))) return -1;
        addr = buf;
        if (close[1] == ':') port_text = close + 2;  // anything else after ']' is ignored
        v6 = true;
    } else if (colon && std::strchr(colon + 1, ':')) {
        addr = str;  // two or more colons: a bare IPv6 address, never with a port
        v6 = true;
    } else if (colon) {
        if (!copy_part(buf, sizeof buf, str, static_cast<size_t>(colon - str))) return -1;
        addr = buf;
        port_text = colon + 1;
        v6 = false;
    } else {
        addr = str;
        v6 = false;
    }

    int port = 0;
    if (port_text) {
        port = parse_port(port_text);
        if (port < 0) return -1;
    }

    if (v6) {
        sockaddr_in6 sin6;
        std::memset(&sin6, 0, sizeof sin6);
        sin6.sin6_family = AF_INET6;
        sin6.sin6_port = htons(static_cast<uint16_t>(port));
        unsigned scope = 0;
        if (inet_pton_scope(AF_INET6, addr, &sin6.sin6_addr, &scope) != 1) return -1;
        sin6.sin6_scope_id = scope;
        if (*outlen < static_cast<int>(sizeof sin6)) return -1;
        std::memset(out, 0, static_cast<size_t>(*outlen));
        std::memcpy(out, &sin6, sizeof sin6);
        *outlen = sizeof sin6;
    } else {
        sockaddr_in sin;
        std::memset(&sin, 0, sizeof sin);
        sin.sin_family = AF_INET;
        sin.sin_port = htons(static_cast<uint16_t>(port));
        if (util::inet_pton(AF_INET, addr, &sin.sin_addr) != 1) return -1;
        if (*outlen < static_cast<int>(sizeof sin)) return -1;
        std::memset(out, 0, static_cast<size_t>(*outlen));
        std::memcpy(out, &sin, sizeof sin);
        *outlen = sizeof sin;
    }
    return 0;
}

int sockaddr_cmp(const sockaddr *a, const sockaddr *b, bool include_port) noexcept {
    if (int d = a->sa_family - b->sa_family) return d;
    if (a->sa_family == AF_INET) {
        auto *x = reinterpret_cast<const sockaddr_in *>(a);
        auto *y = reinterpret_cast<const sockaddr_in *>(b);
        // Ordered by the stored network-order integers, as libevent does (not by value).
        if (x->sin_addr.s_addr < y->sin_addr.s_addr) return -1;
        if (x->sin_addr.s_addr > y->sin_addr.s_addr) return 1;
        if (include_port) return static_cast<int>(x->sin_port) - static_cast<int>(y->sin_port);
        return 0;
    }
    if (a->sa_family == AF_INET6) {
        auto *x = reinterpret_cast<const sockaddr_in6 *>(a);
        auto *y = reinterpret_cast<const sockaddr_in6 *>(b);
        for (int i = 0; i < 16; ++i) {
            int d = x->sin6_addr.s6_addr[i] - y->sin6_addr.s6_addr[i];
            if (d) return d;
        }
        if (include_port) return static_cast<int>(x->sin6_port) - static_cast<int>(y->sin6_port);
        return 0;
    }
    return 1;  // other families are never equal
}

}  // namespace reevent::util
