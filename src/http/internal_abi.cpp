// libevent-internal names of libevent_extra exported for binary compatibility with programs
// and test suites that call them (libevent's regress suite parses responses with the first
// two, for one). No public header declares them; the signatures and the read-status values
// are those of libevent 2.1.12's .so. See src/util/internal_abi.cpp for the precedent in core.
// Our own code over src/http's parsing and client.
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/util.h>

#include "core/addon_abi.h"
#include "http/client.h"
#include "http/encoding.h"
#include "http/mem.h"
#include "http/parse.h"
#include "http/request.h"
#include "http/server.h"
#include "http/uri.h"

// libevent's values (http-internal.h): the ABI of the two parse functions.
enum message_read_status {
    ALL_DATA_READ = 1,
    MORE_DATA_EXPECTED = 0,
    DATA_CORRUPTED = -1,
    REQUEST_CANCELED = -2,
    DATA_TOO_LONG = -3
};

// The answers of evhttp_check_transfer_encoding_ (Debian's libevent 2.1.12-stable-8+deb12u1
// exports it with its request-smuggling fix; values as in that build's http-internal.h).
enum evhttp_transfer_encoding_header_status {
    TE_INVALID = 0,          // "chunked" before another coding
    TE_ENDS_IN_CHUNKED = 1,  // the last coding is "chunked"
    TE_NO_CHUNKED = 2        // no "chunked" at all
};
static_assert(TE_INVALID == static_cast<int>(reevent::http::TransferCoding::invalid) &&
              TE_ENDS_IN_CHUNKED == static_cast<int>(reevent::http::TransferCoding::ends_in_chunked) &&
              TE_NO_CHUNKED == static_cast<int>(reevent::http::TransferCoding::no_chunked));

namespace {

using reevent::http::copy_str;
using reevent::http::slice;

// A line taken from the buffer, on hook memory.
using Line = std::unique_ptr<char, reevent::http::MemFree>;

// The limit a request's connection puts on its head; none without a connection.
bool over_limit(const evhttp_request *req, size_t n) noexcept {
    return req->evcon && n > req->evcon->max_headers_size;
}

// "HTTP/x.y code [reason]" as libevent reads it: the code is atoi()'s, anything but 0; no
// second space means an empty reason.
bool parse_response_line(evhttp_request *req, std::string_view line) noexcept {
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return false;
    std::string_view rest = slice(line, sp1 + 1);
    size_t sp2 = rest.find(' ');
    std::string_view number = slice(rest, 0, sp2);
    std::string_view reason = sp2 == std::string_view::npos ? std::string_view{}
                                                            : slice(rest, sp2 + 1);
    if (!reevent::http::parse_version(slice(line, 0, sp1), req->major, req->minor)) return false;
    reevent::http::OwnedStr num = copy_str(number);
    if (!num) return false;
    req->response_code = std::atoi(num.get());
    if (req->response_code == 0) return false;
    event_mm_free_(req->response_code_line);
    req->response_code_line = copy_str(reason).release();
    return req->response_code_line != nullptr;
}

// "METHOD target HTTP/x.y": type (unknown methods are kept for a later error), version,
// uri and its parsed elements; an absolute http(s) URI for a host the request's server
// does not know marks a proxy request.
bool parse_request_line(evhttp_request *req, std::string_view line) noexcept {
    reevent::http::RequestLine parts;
    if (!reevent::http::split_request_line(line, parts)) return false;
    reevent::http::set_request_method(req, reevent::http::method_type(parts.method));
    if (!reevent::http::parse_version(parts.version, req->major, req->minor)) return false;
    // As our server reads it (CONNECT's host:port target included).
    return reevent::http::request_parse_target(req, parts.target,
                                               req->evcon ? req->evcon->server : nullptr);
}

}  // namespace

extern "C" {

REEVENT_ADDON_ABI enum message_read_status evhttp_parse_firstline_(evhttp_request *req,
                                                                   evbuffer *buffer) {
    size_t len = 0;
    Line line{evbuffer_readln(buffer, &len, EVBUFFER_EOL_CRLF)};
    if (!line)
        return over_limit(req, evbuffer_get_length(buffer)) ? DATA_TOO_LONG : MORE_DATA_EXPECTED;
    if (over_limit(req, len)) return DATA_TOO_LONG;
    req->headers_size = len;
    std::string_view text{line.get(), len};
    bool ok = req->kind == EVHTTP_REQUEST    ? parse_request_line(req, text)
              : req->kind == EVHTTP_RESPONSE ? parse_response_line(req, reevent::http::line_text(line.get(), len))
                                             : false;
    return ok ? ALL_DATA_READ : DATA_CORRUPTED;
}

REEVENT_ADDON_ABI enum message_read_status evhttp_parse_headers_(evhttp_request *req,
                                                                 evbuffer *buffer) {
    size_t len = 0;
    for (;;) {
        Line line{evbuffer_readln(buffer, &len, EVBUFFER_EOL_CRLF)};
        if (!line) break;
        req->headers_size += len;
        if (over_limit(req, req->headers_size)) return DATA_TOO_LONG;
        std::string_view text = reevent::http::line_text(line.get(), len);
        if (text.empty()) return ALL_DATA_READ;
        if (!reevent::http::add_header_line(req->input_headers, text))
            return DATA_CORRUPTED;
    }
    return over_limit(req, req->headers_size + evbuffer_get_length(buffer)) ? DATA_TOO_LONG
                                                                            : MORE_DATA_EXPECTED;
}

// decode_plus 1: '+' is a space; -1: only after a '?'; anything else: '+' stays.
REEVENT_ADDON_ABI int evhttp_decode_uri_internal(const char *uri, size_t length, char *ret,
                                                 int decode_plus) {
    using reevent::http::Plus;
    Plus plus = decode_plus == 1    ? Plus::space
                : decode_plus == -1 ? Plus::space_after_question_mark
                                    : Plus::keep;
    return static_cast<int>(reevent::http::percent_decode_into({uri, length}, plus, ret));
}

// Outgoing connections: the request in flight fails as on the connection's own errors.
// Incoming ones close, after a 400 (413 for DATA_TOO_LONG) unless the error is a timeout or
// the end of the stream, as libevent's do.
REEVENT_ADDON_ABI void evhttp_connection_fail_(evhttp_connection *evcon,
                                               enum evhttp_request_error error) {
    if (!evcon) return;
    if (evcon->outgoing) {
        reevent::http::client_fail(evcon, error);
        return;
    }
    reevent::http::connection_fail(evcon, error);
}

// Whether the first transfer-coding of [value, eos) (eos NULL: the end of the string) is
// "chunked" (reevent::http::coding_is_chunked, which the server and the client use too).
REEVENT_ADDON_ABI int evhttp_str_is_chunked_(const char *value, const char *eos) {
    std::string_view coding = eos ? std::string_view(value, static_cast<size_t>(eos - value))
                                  : std::string_view(value);
    return reevent::http::coding_is_chunked(coding);
}

// One Transfer-Encoding value, a comma-separated list of codings: "chunked" may only be
// the last one.
REEVENT_ADDON_ABI enum evhttp_transfer_encoding_header_status evhttp_check_transfer_encoding_(
    const char *value) {
    return static_cast<evhttp_transfer_encoding_header_status>(
        reevent::http::check_transfer_encoding(value));
}

}  // extern "C"
