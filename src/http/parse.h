// The pieces of an HTTP/1.x request head, parsed as libevent 2.1 parses them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <event2/http.h>

struct evkeyvalq;

namespace reevent::http {

struct RequestLine {
    std::string_view method, target, version;
};

// "METHOD SP target SP HTTP/x.y": the method ends at the first space, the version starts
// after the last one, and the target is everything between (spaces included). Trailing
// spaces are dropped first. false when the line is shorter than "GET / HTTP/1.0", there
// are not two spaces or the target is empty. As in libevent, which reads the line as a C
// string, the length check counts the whole line and the parts end at a NUL.
bool split_request_line(std::string_view line, RequestLine &out) noexcept;

// The method's bit (case-sensitive names; only the nine of enum evhttp_cmd_type, the
// WebDAV ones are 2.2's), 1 << 15 (libevent's private EVHTTP_REQ_UNKNOWN_) for any other
// token: such a request is served only by a server whose allowed methods have bit 15.
unsigned method_type(std::string_view method) noexcept;

// "HTTP/<major>.<minor>" read as libevent's sscanf does (so "HTTP/0.9" and "HTTP/1.2"
// pass); false for anything else or a major above 1.
bool parse_version(std::string_view version, char &major, char &minor) noexcept;

// Whether requests of this method may carry a body the server must read (libevent: all
// it knows but HEAD and TRACE; an unknown method's body is left to be read as the next
// request).
bool method_may_have_body(unsigned type) noexcept;

// A whole decimal (Content-Length) or hex (chunk size) number >= 0; -1 when the text is
// anything else.
int64_t parse_length(std::string_view text, int base) noexcept;

// text[pos, pos + n) clamped to text; pos <= text.size(). (std::string_view::substr would
// link libstdc++'s exception thrower into the library.)
inline std::string_view slice(std::string_view text, size_t pos,
                              size_t n = std::string_view::npos) noexcept {
    size_t room = text.size() - pos;
    return {text.data() + pos, n < room ? n : room};
}

// A chunk-size line (a NUL-terminated line from evbuffer_readln) as libevent reads it:
// strtoll in base 16 (leading blanks, a sign, "0x" allowed), which must stop at the end or
// at a space; text with no digits before a space is 0. -1 when refused (also when negative).
// Found by tests/fuzz/http_client_fuzz.cpp.
int64_t chunk_size_line(const char *line) noexcept;

// A line read from the peer as libevent reads it, a C string: up to its first NUL, if any
// (a NUL that would otherwise hide the rest of a request line, header or chunk size from
// the program, which reads the parts as C strings). Found by tests/fuzz/http_*_fuzz.cpp.
inline std::string_view line_text(const char *line, size_t len) noexcept {
    size_t n = 0;
    while (n < len && line[n] != '\0') ++n;
    return {line, n};
}

// A header value as libevent trims it: the spaces in front (and tabs too for a continuation
// line, tabs_in_front), the spaces and tabs at the end. A CR stays (and makes the value
// invalid for evhttp_add_header).
std::string_view trim_value(std::string_view v, bool tabs_in_front) noexcept;

// Transfer-Encoding, as Debian's libevent 2.1.12-stable-8+deb12u1 reads it (its
// request-smuggling fix). The values are that build's (evhttp_check_transfer_encoding_).
enum class TransferCoding {
    invalid = 0,          // "chunked" before another coding
    ends_in_chunked = 1,  // the last coding is "chunked"
    no_chunked = 2        // no "chunked" at all
};

// Whether a coding's name is "chunked", in any case: leading spaces/tabs skipped, the name
// ends at a space, a tab or the ';' of its parameters, and what follows is not looked at.
bool coding_is_chunked(std::string_view coding) noexcept;

// One Transfer-Encoding value, a comma-separated list of codings.
TransferCoding check_transfer_encoding(std::string_view value) noexcept;

// How a message's headers frame its body, checked once the head is read, before anything
// else decides whether there is a body at all.
enum class Framing {
    refused,  // Transfer-Encoding with Content-Length, "chunked" before another coding, or
              // a Transfer-Encoding header after one that ended in "chunked"
    chunked,  // the last Transfer-Encoding header ends in "chunked"
    other     // Content-Length (the first one counts) or none
};
Framing body_framing(const evkeyvalq *headers) noexcept;

}  // namespace reevent::http
