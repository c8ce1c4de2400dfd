// Outgoing connections (see client.h). The order in which requests leave the queue, the
// connection is reset and the program's callbacks run follows what libevent 2.1 does, as
// observed from outside: a failed request is dequeued and freed before its callbacks run
// (the callback gets NULL), a finished one is dequeued and the next one started before its
// callback runs (the callback gets the request, freed afterwards unless owned), and a
// connection that cannot be made hands every queued request to its callback with response
// code 0 once the retries are used up.
#include "http/client.h"

#include "core/current_base.h"

#include <errno.h>
#include <stdlib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "http/keyvalq.h"
#include "http/parse.h"
#include "http/request.h"
#include "http/server.h"

namespace reevent::http {
namespace {

constexpr timeval kConnectTimeout{45, 0};  // libevent's defaults when none is set
constexpr timeval kIoTimeout{50, 0};

// The outcome of reading what is buffered.
enum class Read { more, done, fail, stop };  // stop: the request went in a callback

struct LineFree {
    void operator()(char *p) const noexcept { event_mm_free_(p); }
};
using Line = std::unique_ptr<char, LineFree>;

void on_read(bufferevent *, void *arg) noexcept;
void on_write(bufferevent *, void *arg) noexcept;
void on_event(bufferevent *, short what, void *arg) noexcept;
void connect_now(evhttp_connection *c) noexcept;

evbuffer *input_of(evhttp_connection *c) noexcept { return bufferevent_get_input(c->bev); }

void free_unless_owned(evhttp_request *req) noexcept {
    if (req->flags & EVHTTP_USER_OWNED) return;
    if (req->flags & kReqDeferFree)
        req->flags |= kReqNeedsFree;  // inside its chunk callback
    else
        request_free(req);
}

bool connected(const evhttp_connection *c) noexcept {
    return c->cstate != ClientState::disconnected && c->cstate != ClientState::connecting;
}

const timeval &io_timeout(const evhttp_connection *c) noexcept {
    return c->timeout.tv_sec == -1 ? kIoTimeout : c->timeout;
}

// Closes the socket (the close callback runs if it was connected) and forgets what was
// buffered; the queue is left alone.
void reset(evhttp_connection *c) noexcept {
    if (c->lookup) {
        evdns_getaddrinfo_request *l = c->lookup;
        c->lookup = nullptr;
        evdns_getaddrinfo_cancel(l);
    }
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd >= 0) {
        if (connected(c) && c->closecb) c->closecb(c, c->closecb_arg);
        bufferevent_setfd(c->bev, -1);
        shutdown(fd, SHUT_WR);
        evutil_closesocket(fd);
    }
    evbuffer_drain(input_of(c), evbuffer_get_length(input_of(c)));
    // A socket bufferevent keeps its output's start frozen (only it may take bytes out), so
    // the unsent rest of a failed request is dropped under a short unfreeze; left there, it
    // went out ahead of the next request on the new connection.
    evbuffer *out = bufferevent_get_output(c->bev);
    if (evbuffer_drain(out, evbuffer_get_length(out)) < 0) {
        evbuffer_unfreeze(out, 1);
        evbuffer_drain(out, evbuffer_get_length(out));
        evbuffer_freeze(out, 1);
    }
    c->cstate = ClientState::disconnected;
    c->close_detect = false;
    c->reading_error = false;
}

// The first request failed: it leaves the queue and is freed, the connection is reset and
// the next request (if any) gets a new one; then the error callback and the request
// callback (with NULL; not for a cancel) run.
void fail(evhttp_connection *c, evhttp_request_error err) noexcept {
    evhttp_request *req = TAILQ_FIRST(&c->requests);
    if (!req) {
        reset(c);
        return;
    }
    auto error_cb = req->error_cb;
    void *arg = req->cb_arg;
    auto cb = err == EVREQ_HTTP_REQUEST_CANCEL ? nullptr : req->cb;
    TAILQ_REMOVE(&c->requests, req, next);
    req->evcon = nullptr;
    free_unless_owned(req);
    reset(c);
    bool free_now = false;
    if (TAILQ_FIRST(&c->requests))
        connect_now(c);
    else
        free_now = c->autofree;
    if (error_cb) error_cb(err, arg);
    if (cb) cb(nullptr, arg);
    if (free_now) client_free(c);
}

// The connection could not be made: try again later, or give every queued request back to
// its callback (response code 0).
void connect_failed(evhttp_connection *c) noexcept {
    reset(c);
    if (c->retry_max < 0 || c->retry_cnt < c->retry_max) {
        timeval tv = c->initial_retry;
        for (int i = 0; i < c->retry_cnt; ++i) {  // doubles each time, at most an hour
            tv.tv_usec *= 2;
            if (tv.tv_usec >= 1000000) {
                tv.tv_usec -= 1000000;
                tv.tv_sec += 1;
            }
            tv.tv_sec *= 2;
            if (tv.tv_sec > 3600) {
                tv.tv_sec = 3600;
                tv.tv_usec = 0;
            }
        }
        event_add(c->retry_ev, &tv);
        c->retry_cnt++;
        return;
    }
    // Detach the queue first: a callback may free the connection or queue new requests.
    TAILQ_HEAD(, evhttp_request) failed;
    TAILQ_INIT(&failed);
    while (evhttp_request *req = TAILQ_FIRST(&c->requests)) {
        TAILQ_REMOVE(&c->requests, req, next);
        TAILQ_INSERT_TAIL(&failed, req, next);
    }
    while (evhttp_request *req = TAILQ_FIRST(&failed)) {
        TAILQ_REMOVE(&failed, req, next);
        req->evcon = nullptr;
        if (req->cb) req->cb(req, req->cb_arg);
        free_unless_owned(req);
    }
}

void on_retry(evutil_socket_t, short, void *arg) noexcept {
    connect_now(static_cast<evhttp_connection *>(arg));
}

bool waits_for_continue(const evhttp_request *req) noexcept {
    if (req->major < 1 || (req->major == 1 && req->minor < 1)) return false;
    const char *expect = find_header(req->output_headers, "Expect");
    return expect && evutil_ascii_strcasecmp(expect, "100-continue") == 0;
}

void write_request(evhttp_connection *c, evhttp_request *req) noexcept {
    evbuffer *out = bufferevent_get_output(c->bev);
    static const char *const kMethods[] = {"GET",    "POST",    "HEAD",  "PUT",  "DELETE",
                                           "OPTIONS", "TRACE", "CONNECT", "PATCH"};
    // A value that names none of the nine (libevent's unknown 1 << 15, 0, two bits): libevent
    // 2.1.12 writes "NULL" for the method.
    const char *method = "NULL";
    const unsigned type = request_method(req);
    for (unsigned i = 0; i < 9; ++i)
        if (type == (1u << i)) method = kMethods[i];
    evbuffer_add_printf(out, "%s %s HTTP/%d.%d\r\n", method, req->uri, req->major, req->minor);
    if ((type == EVHTTP_REQ_POST || type == EVHTTP_REQ_PUT) &&
        !find_header(req->output_headers, "Content-Length")) {
        char size[24];
        evutil_snprintf(size, sizeof size, "%zu", evbuffer_get_length(req->output_buffer));
        append_header(req->output_headers, "Content-Length", size);
    }
    for (evkeyval *h = req->output_headers->tqh_first; h; h = h->next.tqe_next)
        evbuffer_add_printf(out, "%s: %s\r\n", h->key, h->value);
    evbuffer_add(out, "\r\n", 2);
    // "Expect: 100-continue" (HTTP/1.1 and up): the body waits for the server's 100.
    if (!waits_for_continue(req)) evbuffer_add_buffer(out, req->output_buffer);
}

// Sends the first queued request.
void dispatch(evhttp_connection *c) noexcept {
    evhttp_request *req = TAILQ_FIRST(&c->requests);
    if (!req) return;
    c->close_detect = false;
    c->cstate = ClientState::writing;
    write_request(c, req);
    // Reading stays on while the request goes out, as in libevent: a server that answers
    // early and closes fails the request (NULL, EOF) as soon as its close arrives, instead
    // of when a write finally fails. What it sent waits in the input buffer until the
    // request is out (process_input ignores it while writing).
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

void on_connect_event(bufferevent *, short what, void *arg) noexcept {
    auto *c = static_cast<evhttp_connection *>(arg);
    if (!(what & BEV_EVENT_CONNECTED)) {
        // A refused or timed-out connect is retried (and at the end gives the requests back
        // with code 0); anything else (unreachable, no such name) fails the first request.
        if ((what & BEV_EVENT_TIMEOUT) || EVUTIL_SOCKET_ERROR() == ECONNREFUSED)
            connect_failed(c);
        else
            fail(c, EVREQ_HTTP_EOF);
        return;
    }
    c->retry_cnt = 0;
    c->cstate = ClientState::idle;
    socklen_t len = sizeof c->conn_addr;
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd >= 0 && getpeername(fd, reinterpret_cast<sockaddr *>(&c->conn_addr), &len) == 0)
        c->conn_addr_len = static_cast<int>(len);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_set_timeouts(c->bev, &io_timeout(c), &io_timeout(c));
    dispatch(c);
}

void connect_to(evhttp_connection *c, const sockaddr *sa, int len) noexcept {
    if (bufferevent_socket_connect(c->bev, sa, len) < 0) fail(c, EVREQ_HTTP_EOF);
}

void on_resolved(int err, evutil_addrinfo *ai, void *arg) noexcept {
    auto *c = static_cast<evhttp_connection *>(arg);
    if (err == EVUTIL_EAI_CANCEL) {
        if (ai) evutil_freeaddrinfo(ai);
        return;
    }
    c->lookup = nullptr;
    if (err || !ai) {
        if (ai) evutil_freeaddrinfo(ai);
        fail(c, EVREQ_HTTP_EOF);
        return;
    }
    connect_to(c, ai->ai_addr, static_cast<int>(ai->ai_addrlen));
    evutil_freeaddrinfo(ai);
}

// A socket bound to the local address or port set on the connection; -1 on failure.
evutil_socket_t bound_socket(evhttp_connection *c) noexcept {
    evutil_addrinfo hints{};
    hints.ai_family = c->family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICHOST;
    char port[8];
    evutil_snprintf(port, sizeof port, "%u", static_cast<unsigned>(c->bind_port));
    evutil_addrinfo *ai = nullptr;
    if (evutil_getaddrinfo(c->bind_address.get(), port, &hints, &ai) != 0 || !ai) return -1;
    evutil_socket_t fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && (evutil_make_socket_nonblocking(fd) < 0 ||
                    bind(fd, ai->ai_addr, static_cast<socklen_t>(ai->ai_addrlen)) < 0)) {
        evutil_closesocket(fd);
        fd = -1;
    }
    evutil_freeaddrinfo(ai);
    return fd;
}

void connect_now(evhttp_connection *c) noexcept {
    if (c->cstate == ClientState::connecting) return;
    reset(c);
    c->cstate = ClientState::connecting;
    if (c->bind_address || c->bind_port) {
        evutil_socket_t fd = bound_socket(c);
        if (fd < 0) {
            connect_failed(c);
            return;
        }
        bufferevent_setfd(c->bev, fd);
    }
    bufferevent_setcb(c->bev, nullptr, nullptr, on_connect_event, c);
    const timeval &tv = c->timeout.tv_sec == -1 ? kConnectTimeout : c->timeout;
    bufferevent_set_timeouts(c->bev, nullptr, &tv);
    char port[8];
    evutil_snprintf(port, sizeof port, "%u", static_cast<unsigned>(c->port));
    if ((c->flags & EVHTTP_CON_REUSE_CONNECTED_ADDR) && c->conn_addr_len > 0) {
        connect_to(c, reinterpret_cast<const sockaddr *>(&c->conn_addr), c->conn_addr_len);
        return;
    }
    evutil_addrinfo hints{};
    hints.ai_family = c->family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    if (c->dns_base) {
        // nullptr when it answered at once (on_resolved has run).
        c->lookup = evdns_getaddrinfo(c->dns_base, c->address.get(), port, &hints, on_resolved, c);
        return;
    }
    evutil_addrinfo *ai = nullptr;  // no evdns base: a blocking lookup, as libevent does
    if (evutil_getaddrinfo(c->address.get(), port, &hints, &ai) != 0 || !ai) {
        if (ai) evutil_freeaddrinfo(ai);
        fail(c, EVREQ_HTTP_EOF);
        return;
    }
    connect_to(c, ai->ai_addr, static_cast<int>(ai->ai_addrlen));
    evutil_freeaddrinfo(ai);
}

bool header_is(const evkeyvalq *headers, const char *key, const char *value) noexcept {
    const char *v = find_header(headers, key);
    return v && evutil_ascii_strcasecmp(v, value) == 0;
}

// The response is complete.
void done(evhttp_connection *c) noexcept {
    evhttp_request *req = TAILQ_FIRST(&c->requests);
    TAILQ_REMOVE(&c->requests, req, next);
    req->evcon = nullptr;
    c->cstate = ClientState::idle;
    // Only "Connection: close" ends it (libevent keeps a 1.0 server's connection too).
    bool need_close = header_is(req->input_headers, "Connection", "close") ||
        header_is(req->output_headers, "Connection", "close");
    if (need_close) reset(c);
    bool free_now = false;
    if (TAILQ_FIRST(&c->requests)) {
        if (!connected(c))
            connect_now(c);
        else
            dispatch(c);
    } else if (!need_close) {
        // Idle: anything read now (data or the end of the stream) resets the connection.
        c->close_detect = true;
        bufferevent_enable(c->bev, EV_READ);
    } else {
        free_now = c->autofree;
    }
    if (req->cb) req->cb(req, req->cb_arg);
    free_unless_owned(req);
    if (free_now && !TAILQ_FIRST(&c->requests)) client_free(c);
}

bool take_line(evhttp_connection *c, Line &line, size_t &len) noexcept {
    line.reset(evbuffer_readln(input_of(c), &len, EVBUFFER_EOL_CRLF));
    return line != nullptr;
}

// "HTTP/x.y code reason", read as libevent reads it: the reason may be missing (""), and
// the code is what atoi makes of the text up to the next space, anything but 0 ("200",
// "2000", "42x"). Found by tests/fuzz/http_client_fuzz.cpp: "HTTP/1.1 200" was refused.
bool parse_status_line(evhttp_request *req, std::string_view line) noexcept {
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return false;
    std::string_view rest = slice(line, sp1 + 1);
    size_t sp2 = rest.find(' ');
    std::string_view num = slice(rest, 0, sp2);
    std::string_view reason = sp2 == std::string_view::npos ? std::string_view{}
                                                            : slice(rest, sp2 + 1);
    if (!parse_version(slice(line, 0, sp1), req->major, req->minor)) return false;
    OwnedStr digits = copy_str(num);
    if (!digits) return false;
    int code = std::atoi(digits.get());
    if (code == 0) return false;
    req->response_code = code;
    event_mm_free_(req->response_code_line);
    req->response_code_line = copy_str(reason).release();
    return req->response_code_line != nullptr;
}

// Runs the chunk callback over what the request holds, then drops it. false when the
// callback cancelled or freed the request: reading stops (the connection was reset).
bool stream_chunk(evhttp_request *req) noexcept {
    if (!req->chunk_cb || evbuffer_get_length(req->input_buffer) == 0) return true;
    req->flags |= kReqDeferFree;
    req->chunk_cb(req, req->cb_arg);
    req->flags &= ~kReqDeferFree;
    bool gone = req->evcon == nullptr;
    if (req->flags & kReqNeedsFree) {
        if (evhttp_connection *c = req->evcon) {  // freed by the program: drop the response
            TAILQ_REMOVE(&c->requests, req, next);
            reset(c);
        }
        request_free(req);
        return false;
    }
    evbuffer_drain(req->input_buffer, evbuffer_get_length(req->input_buffer));
    return !gone;
}

// Starts reading the body the response announces, or finishes it.
Read start_body(evhttp_connection *c, evhttp_request *req, Framing framing,
                evhttp_request_error &err) noexcept {
    int code = req->response_code;
    // No body for HEAD or CONNECT (whatever the code: the bytes after a CONNECT answer's
    // head are the tunnel's, left in the input buffer), 1xx, 204 and 304, as libevent.
    unsigned method = request_method(req);
    if (method == EVHTTP_REQ_HEAD || method == EVHTTP_REQ_CONNECT || code == 204 || code == 304 ||
        (code >= 100 && code < 200))
        return Read::done;
    if (framing == Framing::chunked) {
        req->chunked = 1;
        req->ntoread = -1;
        c->cstate = ClientState::read_chunk_size;
        return Read::more;
    }
    const char *cl = find_header(req->input_headers, "Content-Length");
    const char *conn = find_header(req->input_headers, "Connection");
    if (!cl) {
        // No length: the body runs until the server closes, unless the connection stays.
        req->ntoread = conn && evutil_ascii_strcasecmp(conn, "close") != 0 ? 0 : -1;
    } else {
        int64_t n = parse_length(cl, 10);
        if (n < 0) {
            err = EVREQ_HTTP_INVALID_HEADER;
            return Read::fail;
        }
        req->ntoread = n;
        if (static_cast<uint64_t>(n) > c->max_body_size) {
            err = EVREQ_HTTP_DATA_TOO_LONG;
            return Read::fail;
        }
    }
    c->cstate = ClientState::read_body;
    return Read::more;
}

// What is buffered, through the response's states. err is set on Read::fail.
Read read_response(evhttp_connection *c, evhttp_request_error &err) noexcept {
    evhttp_request *req = TAILQ_FIRST(&c->requests);
    evbuffer *in = input_of(c);
    Line line;
    size_t len = 0;
    for (;;) {
        switch (c->cstate) {
            case ClientState::read_first_line:
            case ClientState::read_headers:
            case ClientState::read_trailer: {
                bool first = c->cstate == ClientState::read_first_line;
                // A bad or oversized trailer fails as DATA_TOO_LONG, as in libevent.
                evhttp_request_error bad = c->cstate == ClientState::read_trailer
                                               ? EVREQ_HTTP_DATA_TOO_LONG
                                               : EVREQ_HTTP_INVALID_HEADER;
                if (!take_line(c, line, len)) {
                    if (req->headers_size + evbuffer_get_length(in) > c->max_headers_size) {
                        err = bad;  // what libevent reports
                        return Read::fail;
                    }
                    return Read::more;
                }
                req->headers_size += len;
                if (req->headers_size > c->max_headers_size) {
                    err = bad;
                    return Read::fail;
                }
                std::string_view text = line_text(line.get(), len);
                if (first) {
                    if (!parse_status_line(req, text)) {
                        err = EVREQ_HTTP_INVALID_HEADER;
                        return Read::fail;
                    }
                    c->cstate = ClientState::read_headers;
                    break;
                }
                if (c->cstate == ClientState::read_trailer) {
                    if (text.empty()) return Read::done;
                    if (!trailer_line_ok(text)) {  // checked, then dropped, as libevent does
                        err = bad;
                        return Read::fail;
                    }
                    break;
                }
                if (!text.empty()) {
                    if (!add_header_line(req->input_headers, text)) {
                        err = EVREQ_HTTP_INVALID_HEADER;
                        return Read::fail;
                    }
                    break;
                }
                // The head is complete. An ambiguous body (deb12u1's smuggling rules) fails
                // the request before anything else: no header callback, whatever the code.
                Framing framing = body_framing(req->input_headers);
                if (framing == Framing::refused) {
                    err = EVREQ_HTTP_INVALID_HEADER;
                    return Read::fail;
                }
                if (req->header_cb && req->header_cb(req, req->cb_arg) < 0) {
                    err = EVREQ_HTTP_EOF;
                    return Read::fail;
                }
                if (req->response_code == 100) {  // an interim answer: the real one follows
                    c->cstate = ClientState::read_first_line;
                    if (evbuffer_get_length(req->output_buffer) > 0) {
                        // The body held back for it goes now; then the real answer.
                        evbuffer_add_buffer(bufferevent_get_output(c->bev), req->output_buffer);
                        c->cstate = ClientState::writing;
                        bufferevent_enable(c->bev, EV_WRITE);
                        return Read::more;
                    }
                    break;
                }
                Read r = start_body(c, req, framing, err);
                if (r != Read::more) return r;
                break;
            }
            case ClientState::read_body: {
                size_t have = evbuffer_get_length(in);
                if (req->ntoread < 0) {
                    req->body_size += have;
                    evbuffer_add_buffer(req->input_buffer, in);
                } else if (req->chunk_cb || have >= static_cast<uint64_t>(req->ntoread)) {
                    size_t n = have < static_cast<uint64_t>(req->ntoread)
                                   ? have
                                   : static_cast<size_t>(req->ntoread);
                    evbuffer_remove_buffer(in, req->input_buffer, n);
                    req->ntoread -= static_cast<int64_t>(n);
                    req->body_size += n;
                }
                if (req->body_size > c->max_body_size) {
                    err = EVREQ_HTTP_DATA_TOO_LONG;
                    return Read::fail;
                }
                if (!stream_chunk(req)) return Read::stop;
                return req->ntoread == 0 ? Read::done : Read::more;
            }
            case ClientState::read_chunk_size: {
                if (!take_line(c, line, len)) return Read::more;
                std::string_view text = line_text(line.get(), len);
                if (text.empty()) break;  // the CRLF after a chunk
                int64_t n = chunk_size_line(line.get());
                if (n < 0 || static_cast<uint64_t>(n) > c->max_body_size - req->body_size) {
                    err = EVREQ_HTTP_DATA_TOO_LONG;
                    return Read::fail;
                }
                req->body_size += static_cast<size_t>(n);
                if (n == 0) {
                    c->cstate = ClientState::read_trailer;
                    break;
                }
                req->ntoread = n;
                c->cstate = ClientState::read_chunk_data;
                break;
            }
            case ClientState::read_chunk_data: {
                if (evbuffer_get_length(in) < static_cast<uint64_t>(req->ntoread))
                    return Read::more;
                evbuffer_remove_buffer(in, req->input_buffer, static_cast<size_t>(req->ntoread));
                req->ntoread = -1;
                c->cstate = ClientState::read_chunk_size;
                if (!stream_chunk(req)) return Read::stop;
                break;
            }
            default: return Read::more;
        }
    }
}

void process_input(evhttp_connection *c) noexcept {
    if (c->cstate == ClientState::idle) {
        // Bytes nobody asked for, or the server closing: drop the connection.
        if (evbuffer_get_length(input_of(c)) > 0) reset(c);
        return;
    }
    if (c->cstate < ClientState::read_first_line || !TAILQ_FIRST(&c->requests)) return;
    evhttp_request_error err = EVREQ_HTTP_EOF;
    switch (read_response(c, err)) {
        case Read::more:
        case Read::stop: return;
        case Read::fail: fail(c, err); return;
        case Read::done:
            bufferevent_disable(c->bev, EV_READ);
            done(c);
            return;
    }
}

void on_read(bufferevent *, void *arg) noexcept {
    process_input(static_cast<evhttp_connection *>(arg));
}

void on_write(bufferevent *, void *arg) noexcept {
    auto *c = static_cast<evhttp_connection *>(arg);
    if (c->cstate != ClientState::writing) return;
    // The request is out: read the response.
    c->cstate = ClientState::read_first_line;
    bufferevent_disable(c->bev, EV_WRITE);
    bufferevent_enable(c->bev, EV_READ);
    if (evbuffer_get_length(input_of(c)) > 0) process_input(c);
}

// EVHTTP_CON_READ_ON_WRITE_ERROR: the request could not be sent whole, but the server may
// have answered before it stopped reading (a 413, say): the rest of the request is dropped
// and the response read. A write error while already doing so fails the request.
void read_on_write_error(evhttp_connection *c, evhttp_request *req) noexcept {
    if (c->reading_error) {
        c->reading_error = false;
        fail(c, EVREQ_HTTP_EOF);
        return;
    }
    req->kind = EVHTTP_RESPONSE;
    evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_unfreeze(out, 1);  // the socket bufferevent keeps the start frozen
    evbuffer_drain(out, evbuffer_get_length(out));
    evbuffer_freeze(out, 1);
    c->cstate = ClientState::read_first_line;
    bufferevent_disable(c->bev, EV_WRITE);
    bufferevent_enable(c->bev, EV_READ);
    c->reading_error = true;
    // What arrived while writing (the answer, typically) is read now.
    if (evbuffer_get_length(input_of(c)) > 0) process_input(c);
}

void on_event(bufferevent *, short what, void *arg) noexcept {
    auto *c = static_cast<evhttp_connection *>(arg);
    evhttp_request *req = TAILQ_FIRST(&c->requests);
    if (c->cstate == ClientState::read_body && req && !req->chunked && req->ntoread < 0 &&
        what == (BEV_EVENT_READING | BEV_EVENT_EOF)) {
        done(c);  // the body ran until the end of the stream
        return;
    }
    if (c->close_detect) {
        reset(c);
        if (c->autofree && !TAILQ_FIRST(&c->requests)) client_free(c);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        fail(c, EVREQ_HTTP_TIMEOUT);
    else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
        if (c->flags & EVHTTP_CON_READ_ON_WRITE_ERROR) {
            if (req && (what & BEV_EVENT_WRITING)) {
                read_on_write_error(c, req);
                return;
            }
            // The server ended its side after sending something: that is read (while the
            // request is still going out it waits, and the write's failure reads it).
            if ((what & BEV_EVENT_READING) && evbuffer_get_length(input_of(c)) > 0) {
                process_input(c);
                return;
            }
        }
        fail(c, EVREQ_HTTP_EOF);
    } else if (what != BEV_EVENT_CONNECTED)
        fail(c, EVREQ_HTTP_BUFFER_ERROR);
}

}  // namespace

evhttp_connection *client_new(event_base *base, evdns_base *dns, bufferevent *bev,
                              const char *address, uint16_t port) noexcept {
    if (!address) return nullptr;
    evhttp_connection *c = make_obj<evhttp_connection>();
    if (!c) return nullptr;
    c->outgoing = true;
    if (!bev) base = addon::base_or_current(base);
    c->base = base;
    c->dns_base = dns;
    c->address = copy_str(address);
    c->port = port;
    c->bev = bev ? bev : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    c->retry_ev = c->bev ? evtimer_new(bufferevent_get_base(c->bev), on_retry, c) : nullptr;
    if (!c->address || !c->bev || !c->retry_ev) {
        if (c->retry_ev) event_free(c->retry_ev);
        if (c->bev && !bev) bufferevent_free(c->bev);
        destroy_obj(c);
        return nullptr;
    }
    if (!c->base) c->base = bufferevent_get_base(c->bev);
    // A bufferevent of our own writes a request body in libevent's 16 KiB steps (reevent's
    // bufferevents otherwise hand the kernel all of it at once): a server that refuses the
    // body and closes is then seen while the body is still going out, and the request fails
    // (NULL) as with libevent, instead of the whole body fitting in the kernel's buffers and
    // the refusal being read as the response. The value is the default the getter reports.
    if (!bev) bufferevent_set_max_single_write(c->bev, 16384);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    return c;
}

void client_free(evhttp_connection *c) noexcept {
    if (connected(c) && bufferevent_getfd(c->bev) >= 0 && c->closecb)
        c->closecb(c, c->closecb_arg);
    // Queued requests are freed without their callbacks, owned or not.
    while (evhttp_request *req = TAILQ_FIRST(&c->requests)) {
        TAILQ_REMOVE(&c->requests, req, next);
        request_free(req);
    }
    c->closecb = nullptr;
    c->cstate = ClientState::disconnected;
    reset(c);
    event_free(c->retry_ev);
    bufferevent_free(c->bev);
    destroy_obj(c);
}

int client_make_request(evhttp_connection *c, evhttp_request *req, unsigned type,
                        const char *uri) noexcept {
    req->kind = EVHTTP_REQUEST;
    set_request_method(req, type);
    event_mm_free_(req->uri);
    req->uri = copy_str(uri ? uri : "").release();
    if (!req->uri) {
        free_unless_owned(req);
        return -1;
    }
    if (!req->major && !req->minor) {
        req->major = 1;
        req->minor = 1;
    }
    req->evcon = c;
    TAILQ_INSERT_TAIL(&c->requests, req, next);
    if (c->cstate == ClientState::disconnected) {
        if (!event_pending(c->retry_ev, EV_TIMEOUT, nullptr)) connect_now(c);
    } else if (c->cstate == ClientState::idle && TAILQ_FIRST(&c->requests) == req) {
        dispatch(c);
    }
    return 0;
}

void client_cancel(evhttp_request *req) noexcept {
    if (evhttp_connection *c = req->evcon) {
        if (TAILQ_FIRST(&c->requests) == req) {
            fail(c, EVREQ_HTTP_REQUEST_CANCEL);  // frees the request
            return;
        }
        TAILQ_REMOVE(&c->requests, req, next);
        req->evcon = nullptr;
    }
    free_unless_owned(req);
}

void client_fail(evhttp_connection *c, evhttp_request_error err) noexcept { fail(c, err); }

void client_set_timeout(evhttp_connection *c, const timeval *tv) noexcept {
    if (tv) {
        c->timeout = *tv;
    } else {
        c->timeout.tv_sec = -1;
        c->timeout.tv_usec = 0;
    }
    if (connected(c)) bufferevent_set_timeouts(c->bev, &io_timeout(c), &io_timeout(c));
}

void client_set_base(evhttp_connection *c, event_base *base) noexcept {
    c->base = base;
    bufferevent_base_set(base, c->bev);
    event_free(c->retry_ev);
    c->retry_ev = evtimer_new(base, on_retry, c);
}

}  // namespace reevent::http
