// See grammar.h.
#include "http/grammar.h"

#include <arpa/inet.h>

#include <cstring>

#include <event2/util.h>

namespace reevent::http {
namespace {

// s without its first n bytes (n <= s.size()); string_view::substr would pull in
// libstdc++'s out_of_range thrower, which the libraries must not link.
std::string_view drop(std::string_view s, size_t n) noexcept { return {s.data() + n, s.size() - n}; }

bool is_alpha(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Length of a %XX escape at the start of s, or 0.
size_t pct_escape_at(std::string_view s) noexcept {
    return s.size() >= 3 && s[0] == '%' && is_hex(s[1]) && is_hex(s[2]) ? 3 : 0;
}

// Whether every byte of s is unreserved, a sub-delim, a %XX escape or one of `extra`.
bool all_of_class(std::string_view s, std::string_view extra) noexcept {
    while (!s.empty()) {
        char c = s[0];
        if (is_unreserved(c) || is_sub_delim(c) || extra.find(c) != std::string_view::npos) {
            s.remove_prefix(1);
        } else if (size_t n = pct_escape_at(s)) {
            s.remove_prefix(n);
        } else {
            return false;
        }
    }
    return true;
}

}  // namespace

bool is_unreserved(char c) noexcept {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

bool is_sub_delim(char c) noexcept {
    switch (c) {
    case '!': case '$': case '&': case '\'': case '(': case ')':
    case '*': case '+': case ',': case ';': case '=':
        return true;
    default:
        return false;
    }
}

bool is_hex(char c) noexcept {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool scheme_ok(std::string_view s) noexcept {
    if (s.empty() || !is_alpha(s[0])) return false;
    for (char c : drop(s, 1)) {
        if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
    }
    return true;
}

bool userinfo_ok(std::string_view s) noexcept { return all_of_class(s, ":"); }

bool regname_ok(std::string_view s) noexcept { return all_of_class(s, ""); }

bool ip_literal_ok(std::string_view s) noexcept {
    if (s.size() < 3 || s.front() != '[' || s.back() != ']') return false;
    std::string_view inner(s.data() + 1, s.size() - 2);
    if (inner[0] == 'v') {
        // IPvFuture: at least one hex digit, a dot, then anything of the address class.
        inner.remove_prefix(1);
        size_t hex = 0;
        while (hex < inner.size() && is_hex(inner[hex])) ++hex;
        if (hex == 0 || hex == inner.size() || inner[hex] != '.') return false;
        for (char c : drop(inner, hex + 1)) {
            if (!is_unreserved(c) && !is_sub_delim(c) && c != ':') return false;
        }
        return true;
    }
    char text[64];
    if (inner.size() >= sizeof text) return false;
    std::memcpy(text, inner.data(), inner.size());
    text[inner.size()] = '\0';
    struct in6_addr addr;
    return evutil_inet_pton(AF_INET6, text, &addr) == 1;
}

size_t part_extent(std::string_view s, Part part, bool nonconformant) noexcept {
    size_t i = 0;
    if (nonconformant) {
        while (i < s.size()) {
            char c = s[i];
            if (c == '#' && part != Part::fragment) break;
            if (c == '?' && part == Part::path) break;
            ++i;
        }
        return i;
    }
    while (i < s.size()) {
        char c = s[i];
        if (is_unreserved(c) || is_sub_delim(c) || c == ':' || c == '@' || c == '/' ||
            (c == '?' && part != Part::path)) {
            ++i;
        } else if (size_t n = pct_escape_at(drop(s, i))) {
            i += n;
        } else {
            break;
        }
    }
    return i;
}

bool first_segment_colon_free(std::string_view path) noexcept {
    for (char c : path) {
        if (c == '/') return true;
        if (c == ':') return false;
    }
    return true;
}

}  // namespace reevent::http
