// See parse.h.
#include "http/parse.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace reevent::http {

bool split_request_line(std::string_view line, RequestLine &out) noexcept {
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
    return 0;
}

bool parse_version(std::string_view v, char &major, char &minor) noexcept {
    if (v == "HTTP/1.0") {
        major = 1, minor = 0;
        return true;
    }
    if (v == "HTTP/1.1") {
        major = 1, minor = 1;
        return true;
    }
    return false;
}

bool method_may_have_body(unsigned type) noexcept {
    return type != EVHTTP_REQ_HEAD && type != EVHTTP_REQ_TRACE && type != 0;
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

std::string_view trim_value(std::string_view v) noexcept {
    auto space = [](char c) { return c == ' ' || c == '\t'; };
    while (!v.empty() && space(v.front())) v.remove_prefix(1);
    while (!v.empty() && (space(v.back()) || v.back() == '\r' || v.back() == '\n'))
        v.remove_suffix(1);
    return v;
}

}  // namespace reevent::http
