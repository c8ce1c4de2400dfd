// struct evhttp_request (public layout, <event2/http_struct.h>): allocation, the host it
// names, and the reply head libevent writes for it.
#pragma once

#include <event2/http.h>
#include <event2/http_struct.h>

#include <cstring>

struct evbuffer;

namespace reevent::http {

// Private bits of evhttp_request::flags (the values libevent uses there): while a chunk
// callback runs the request is not freed (a cancel or evhttp_request_free inside it marks
// it instead, and the reader frees it when the callback returns).
constexpr int kReqDeferFree = 0x0008;
constexpr int kReqNeedsFree = 0x0010;

// The method of a request, as an integer. An unknown method is libevent's private
// EVHTTP_REQ_UNKNOWN_, 1 << 15, which lies outside the value range C++ gives
// enum evhttp_cmd_type (its enumerators need 9 bits): src/http never loads or stores
// req->type as the enum, only copies its bytes. (C code, where the enum is just its
// integer type, converts at the boundary: capi/http_command.c.)
constexpr unsigned kMethodUnknown = 1u << 15;
static_assert(sizeof(enum evhttp_cmd_type) == sizeof(unsigned));
inline unsigned request_method(const evhttp_request *req) noexcept {
    unsigned v;
    std::memcpy(&v, &req->type, sizeof v);
    return v;
}
inline void set_request_method(evhttp_request *req, unsigned method) noexcept {
    std::memcpy(&req->type, &method, sizeof method);
}

// A request with empty header lists and buffers; nullptr when memory runs out.
evhttp_request *request_new() noexcept;
void request_free(evhttp_request *req) noexcept;

// evhttp_request_get_host (cached in host_cache).
const char *request_host(evhttp_request *req) noexcept;

// Makes req a response with this status; reason nullptr: the standard phrase.
bool request_set_response(evhttp_request *req, int code, const char *reason) noexcept;

// Whether a reply to req carries a body (not for HEAD, 1xx, 204, 304); a reply to CONNECT
// is sent like one without (no Content-Length or Content-Type added), body or not.
bool reply_needs_body(const evhttp_request *req) noexcept;

// Adds the headers libevent adds to a reply (Date, Connection, Content-Length,
// Content-Type) to req->output_headers and writes the status line and headers to out.
// default_content_type nullptr: none is added.
bool write_reply_head(evhttp_request *req, evbuffer *out,
                      const char *default_content_type) noexcept;

// Whether the connection closes after the reply to req.
bool reply_closes_connection(const evhttp_request *req) noexcept;

}  // namespace reevent::http
