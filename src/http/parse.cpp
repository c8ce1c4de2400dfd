// See parse.h.
#include "http/parse.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "http/keyvalq.h"

namespace reevent::http {

bool split_request_line(std::string_view line, RequestLine &out) noexcept {
    while (!line.empty() && line.back() == ' ') line.remove_suffix(1);
    if (line.size() < sizeof "GET / HTTP/1.0" - 1) return false;  // libevent's shortest
    line = line_text(line.data(), line.size());
    size_t first = line.find(' ');
    if (first == std::string_view::npos) return false;
    std::string_view rest = slice(line, first + 1);
    size_t last = rest.rfind(' ');
    if (last == std::string_view::npos || last == 0) return false;
    out.method = slice(line, 0, first);
    out.target = slice(rest, 0, last);
    out.version = slice(rest, last + 1);
    return true;
}

unsigned method_type(std::string_view m) noexcept {
    struct Name {
        std::string_view name;
        unsigned type;
    };
    static constexpr Name kNames[] = {
        {"GET", EVHTTP_REQ_GET},         {"POST", EVHTTP_REQ_POST},
        {"HEAD", EVHTTP_REQ_HEAD},       {"PUT", EVHTTP_REQ_PUT},
        {"DELETE", EVHTTP_REQ_DELETE},   {"OPTIONS", EVHTTP_REQ_OPTIONS},
        {"TRACE", EVHTTP_REQ_TRACE},     {"CONNECT", EVHTTP_REQ_CONNECT},
        {"PATCH", EVHTTP_REQ_PATCH},
    };
    for (const Name &n : kNames)
        if (n.name == m) return n.type;
    return 1u << 15;
}

namespace {

// A decimal number as scanf's %d reads it (leading whitespace, a sign, digits); false when
// there is no digit. Digits past the eighth are read but not added (no overflow; a major
// above 1 is refused anyway).
bool scan_int(std::string_view &s, long &out) noexcept {
    size_t i = 0;
    while (i < s.size() && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) ++i;
    bool neg = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    size_t digits = i;
    long v = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i)
        if (v < 100000000) v = v * 10 + (s[i] - '0');
    if (i == digits) return false;
    out = neg ? -v : v;
    s.remove_prefix(i);
    return true;
}

}  // namespace

bool parse_version(std::string_view v, char &major, char &minor) noexcept {
    // libevent: sscanf "HTTP/%d.%d" with nothing after, and a major of at most 1.
    constexpr std::string_view kPrefix = "HTTP/";
    if (slice(v, 0, kPrefix.size()) != kPrefix) return false;
    v.remove_prefix(kPrefix.size());
    long ma = 0, mi = 0;
    if (!scan_int(v, ma) || v.empty() || v.front() != '.') return false;
    v.remove_prefix(1);
    if (!scan_int(v, mi) || !v.empty() || ma > 1) return false;
    major = static_cast<char>(ma);
    minor = static_cast<char>(mi);
    return true;
}

bool method_may_have_body(unsigned type) noexcept {
    return type != EVHTTP_REQ_HEAD && type != EVHTTP_REQ_TRACE && type != 0 &&
           type != (1u << 15);
}

int64_t parse_length(std::string_view text, int base) noexcept {
    char buf[32];
    if (text.empty() || text.size() >= sizeof buf) return -1;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    char *end = nullptr;
    errno = 0;
    long long v = std::strtoll(buf, &end, base);
    if (end == buf || *end != '\0' || errno != 0 || v < 0) return -1;
    return v;
}

int64_t chunk_size_line(const char *line) noexcept {
    char *end = nullptr;
    long long v = std::strtoll(line, &end, 16);
    if (*line == '\0' || (*end != '\0' && *end != ' ') || v < 0) return -1;
    return v;
}

std::string_view trim_value(std::string_view v, bool tabs_in_front) noexcept {
    auto space = [](char c) { return c == ' ' || c == '\t'; };
    while (!v.empty() && (v.front() == ' ' || (tabs_in_front && v.front() == '\t')))
        v.remove_prefix(1);
    while (!v.empty() && space(v.back())) v.remove_suffix(1);
    return v;
}

bool coding_is_chunked(std::string_view coding) noexcept {
    auto is_ws = [](char c) { return c == ' ' || c == '\t'; };
    size_t begin = 0;
    while (begin < coding.size() && is_ws(coding[begin])) ++begin;
    size_t end = begin;
    while (end < coding.size() && !is_ws(coding[end]) && coding[end] != ';') ++end;
    static constexpr std::string_view kChunked = "chunked";
    return end - begin == kChunked.size() &&
           evutil_ascii_strncasecmp(coding.data() + begin, kChunked.data(), kChunked.size()) == 0;
}

TransferCoding check_transfer_encoding(std::string_view value) noexcept {
    for (size_t comma; (comma = value.find(',')) != std::string_view::npos;
         value = slice(value, comma + 1))
        if (coding_is_chunked(slice(value, 0, comma))) return TransferCoding::invalid;
    return coding_is_chunked(value) ? TransferCoding::ends_in_chunked : TransferCoding::no_chunked;
}

Framing body_framing(const evkeyvalq *headers) noexcept {
    bool any = false;
    bool last_chunked = false;
    for (const evkeyval *kv = headers->tqh_first; kv; kv = kv->next.tqe_next) {
        if (evutil_ascii_strcasecmp(kv->key, "Transfer-Encoding") != 0) continue;
        if (last_chunked) return Framing::refused;  // another one after "..., chunked"
        TransferCoding tc = check_transfer_encoding(kv->value);
        if (tc == TransferCoding::invalid) return Framing::refused;
        any = true;
        last_chunked = tc == TransferCoding::ends_in_chunked;
    }
    if (any && find_header(headers, "Content-Length")) return Framing::refused;
    return last_chunked ? Framing::chunked : Framing::other;
}

}  // namespace reevent::http
