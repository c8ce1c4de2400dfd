// Incoming connections: reading requests off the bufferevent (request line, headers, a
// body by Content-Length or chunked), handing each to the server, writing the reply and
// then either reading the next request (keep-alive) or closing.
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "http/keyvalq.h"
#include "http/parse.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/server.h"
#include "http/uri.h"

namespace reevent::http {
namespace {

// What a line of the request head gives.
enum class Step { more, next, fail_400, fail_413, fail_417, done };

struct LineFree {
    void operator()(char *p) const noexcept { event_mm_free_(p); }
};
using Line = std::unique_ptr<char, LineFree>;

evbuffer *input_of(evhttp_connection *c) noexcept { return bufferevent_get_input(c->bev); }

bool start_request(evhttp_connection *c) noexcept {
    evhttp_request *req = request_new();
    if (!req) return false;
    req->evcon = c;
    req->flags = EVHTTP_REQ_OWN_CONNECTION;
    req->kind = EVHTTP_REQUEST;
    req->remote_host = copy_str(c->address.get()).release();
    req->remote_port = c->port;
    if (!req->remote_host) {
        request_free(req);
        return false;
    }
    c->req = req;
    c->state = ConnState::read_first_line;
    return true;
}

// Reads one line into line; false when no whole line is buffered.
bool take_line(evhttp_connection *c, Line &line, size_t &len) noexcept {
    line.reset(evbuffer_readln(input_of(c), &len, EVBUFFER_EOL_CRLF));
    return line != nullptr;
}

// Counts a line of the head against the limit.
bool head_fits(evhttp_connection *c, size_t len) noexcept {
    c->req->headers_size += len;
    return c->req->headers_size <= c->max_headers_size;
}

Step read_first_line(evhttp_connection *c) noexcept {
    evhttp_request *req = c->req;
    Line line;
    size_t len = 0;
    if (!take_line(c, line, len))
        return evbuffer_get_length(input_of(c)) > c->max_headers_size ? Step::fail_400
                                                                       : Step::more;
    if (!head_fits(c, len)) return Step::fail_400;
    RequestLine parts;
    if (!split_request_line({line.get(), len}, parts)) return Step::fail_400;
    set_request_method(req, method_type(parts.method));
    if (!parse_version(parts.version, req->major, req->minor)) return Step::fail_400;
    if (!request_parse_target(req, parts.target, c->server)) return Step::fail_400;
    c->state = ConnState::read_headers;
    return Step::next;
}

}  // namespace

bool request_parse_target(evhttp_request *req, std::string_view target, evhttp *server) noexcept {
    req->uri = copy_str(target).release();
    if (!req->uri) return false;
    // The request owns uri_elems from here on, parsed or not (freed with it).
    req->uri_elems = make_obj<evhttp_uri>();
    if (!req->uri_elems) return false;
    Uri &uri = req->uri_elems->uri;
    if (request_method(req) == EVHTTP_REQ_CONNECT ? !uri.parse_authority_form(target)
                                                  : !uri.parse(target, Uri::kNonconformant))
        return false;
    // An absolute http(s) URI naming a host that is neither an alias nor a virtual host of
    // the server: the request is for a proxy.
    const char *scheme = uri.scheme();
    const char *host = uri.host();
    if (scheme && host &&
        (evutil_ascii_strcasecmp(scheme, "http") == 0 ||
         evutil_ascii_strcasecmp(scheme, "https") == 0) &&
        server && !server_knows_host(server, host))
        req->flags |= EVHTTP_PROXY_REQUEST;
    return true;
}

// One "Key: value" line (or a continuation of the previous one) into headers.
bool add_header_line(evkeyvalq *headers, std::string_view line) noexcept {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
        evkeyval *last = headers->tqh_first;
        while (last && last->next.tqe_next) last = last->next.tqe_next;
        if (!last) return false;
        std::string_view more = trim_value(line, true);
        size_t old = std::strlen(last->value);
        auto *joined = static_cast<char *>(event_mm_realloc_(last->value, old + more.size() + 2));
        if (!joined) return false;
        joined[old] = ' ';
        std::memcpy(joined + old + 1, more.data(), more.size());
        joined[old + 1 + more.size()] = '\0';
        last->value = joined;
        return true;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    OwnedStr key = copy_str(slice(line, 0, colon));
    OwnedStr value = copy_str(trim_value(slice(line, colon + 1), false));
    // A CR left inside the value (a line ends only at LF or CRLF) is refused, as libevent's
    // evhttp_add_header, which its parser uses, refuses it.
    return key && value && add_checked_header(headers, key.get(), value.get());
}

bool trailer_line_ok(std::string_view line) noexcept {
    evkeyvalq scratch;
    TAILQ_INIT(&scratch);
    bool ok = add_header_line(&scratch, line);
    clear_headers(&scratch);
    return ok;
}

namespace {

// A Content-Length body over the limit: refused at once, or, with lingering close, read
// and dropped first so that the client (still sending it) gets the 413 rather than a reset.
Step body_too_long(evhttp_connection *c, int64_t n) noexcept {
    if (!c->lingering) return Step::fail_413;
    c->req->ntoread = n;
    c->state = ConnState::discard_body;
    return Step::next;
}

// The body that follows the head, as its headers announce it.
Step start_body(evhttp_connection *c) noexcept {
    evhttp_request *req = c->req;
    // An ambiguous body is refused whatever the method (deb12u1's smuggling rules).
    Framing framing = body_framing(req->input_headers);
    if (framing == Framing::refused) return Step::fail_400;
    if (!method_may_have_body(request_method(req))) return Step::done;
    if (framing == Framing::chunked) {
        req->chunked = 1;
        req->ntoread = -1;
    } else {
        const char *cl = find_header(req->input_headers, "Content-Length");
        if (!cl) return Step::done;
        int64_t n = parse_length(cl, 10);
        if (n < 0) return Step::fail_400;
        if (n == 0) return Step::done;
        req->ntoread = n;
    }
    // libevent looks at Expect before the length: an unknown expectation is a 417 even
    // when the body is also too long.
    bool want_continue = false;
    if (req->major == 1 && req->minor >= 1) {
        if (const char *expect = find_header(req->input_headers, "Expect")) {
            if (evutil_ascii_strcasecmp(expect, "100-continue") != 0) return Step::fail_417;
            want_continue = true;
        }
    }
    if (!req->chunked && static_cast<uint64_t>(req->ntoread) > c->max_body_size)
        return body_too_long(c, req->ntoread);
    if (want_continue && evbuffer_get_length(input_of(c)) == 0) {
        bufferevent_enable(c->bev, EV_WRITE);
        evbuffer_add_printf(bufferevent_get_output(c->bev), "HTTP/%d.%d 100 Continue\r\n\r\n",
                            req->major, req->minor);
    }
    c->state = req->chunked ? ConnState::read_chunk_size : ConnState::read_body;
    return Step::next;
}

// A header (or trailer) line; the empty line ends them. As in libevent, trailer fields are
// checked like headers but not kept, and a bad or oversized one is a 413 (a bad header is
// a 400).
Step read_header(evhttp_connection *c, bool trailer) noexcept {
    Step bad = trailer ? Step::fail_413 : Step::fail_400;
    Line line;
    size_t len = 0;
    if (!take_line(c, line, len))
        return c->req->headers_size + evbuffer_get_length(input_of(c)) > c->max_headers_size
                   ? bad
                   : Step::more;
    if (!head_fits(c, len)) return bad;
    std::string_view text = line_text(line.get(), len);
    if (text.empty()) return trailer ? Step::done : start_body(c);
    if (trailer) return trailer_line_ok(text) ? Step::next : bad;
    return add_header_line(c->req->input_headers, text) ? Step::next : bad;
}

// Moves up to req->ntoread buffered body bytes into the request.
bool move_body(evhttp_connection *c) noexcept {
    evhttp_request *req = c->req;
    size_t have = evbuffer_get_length(input_of(c));
    size_t n = have < static_cast<uint64_t>(req->ntoread) ? have
                                                           : static_cast<size_t>(req->ntoread);
    if (n > 0 && evbuffer_remove_buffer(input_of(c), req->input_buffer, n) != static_cast<int>(n))
        return false;
    req->ntoread -= static_cast<int64_t>(n);
    req->body_size += n;
    return req->ntoread == 0;
}

Step read_chunk_size(evhttp_connection *c) noexcept {
    evhttp_request *req = c->req;
    Line line;
    size_t len = 0;
    if (!take_line(c, line, len)) return Step::more;
    std::string_view text = line_text(line.get(), len);
    if (text.empty()) return Step::next;  // the CRLF that ends the previous chunk
    int64_t n = chunk_size_line(line.get());
    if (n < 0) return Step::fail_413;
    if (n == 0) {
        c->state = ConnState::read_trailer;
        return Step::next;
    }
    if (static_cast<uint64_t>(n) > c->max_body_size - req->body_size) return Step::fail_413;
    req->ntoread = n;
    c->state = ConnState::read_chunk_data;
    return Step::next;
}

// Lingering close: drops body bytes until the announced length has come, then refuses it.
Step discard_body(evhttp_connection *c) noexcept {
    evhttp_request *req = c->req;
    size_t have = evbuffer_get_length(input_of(c));
    size_t n = have < static_cast<uint64_t>(req->ntoread) ? have
                                                           : static_cast<size_t>(req->ntoread);
    evbuffer_drain(input_of(c), n);
    req->ntoread -= static_cast<int64_t>(n);
    req->body_size += n;
    return req->ntoread == 0 ? Step::fail_413 : Step::more;
}

// Runs the reading state machine over what is buffered.
Step read_some(evhttp_connection *c) noexcept {
    for (;;) {
        Step s = Step::more;
        switch (c->state) {
            case ConnState::read_first_line: s = read_first_line(c); break;
            case ConnState::read_headers: s = read_header(c, false); break;
            case ConnState::read_trailer: s = read_header(c, true); break;
            case ConnState::read_body:
                s = move_body(c) ? Step::done : Step::more;
                break;
            case ConnState::read_chunk_size: s = read_chunk_size(c); break;
            case ConnState::discard_body: s = discard_body(c); break;
            case ConnState::read_chunk_data:
                if (move_body(c)) {
                    c->req->ntoread = -1;
                    c->state = ConnState::read_chunk_size;
                    s = Step::next;
                }
                break;
            case ConnState::handling:
            case ConnState::writing: return Step::more;
        }
        if (s != Step::next) return s;
    }
}

void process_input(evhttp_connection *c) noexcept {
    Step s = read_some(c);
    if (s == Step::more) return;
    // The request is complete (or refused): reading stops until it is answered.
    c->state = ConnState::handling;
    bufferevent_disable(c->bev, EV_READ);
    evhttp_request *req = c->req;
    switch (s) {
        case Step::fail_400: send_error(req, HTTP_BADREQUEST, nullptr); break;
        case Step::fail_413: send_error(req, HTTP_ENTITYTOOLARGE, nullptr); break;
        case Step::fail_417: send_error(req, HTTP_EXPECTATIONFAILED, nullptr); break;
        default: server_dispatch(c->server, req); break;
    }
    // c may be gone now.
}

void on_read(bufferevent *, void *arg) noexcept { process_input(static_cast<evhttp_connection *>(arg)); }

// The reply is out: the request is finished, and the connection reads the next one or
// closes.
void reply_done(evhttp_connection *c) noexcept {
    evhttp_request *req = c->req;
    c->req = nullptr;
    bool close = !req || reply_closes_connection(req);
    if (req && req->on_complete_cb) req->on_complete_cb(req, req->on_complete_cb_arg);
    // libevent 2.1 frees an answered request even when the program owns it (ownership
    // only keeps a request alive when its connection goes away first).
    request_free(req);
    if (close || !start_request(c)) {
        connection_free(c);
        return;
    }
    bufferevent_enable(c->bev, EV_READ);
    if (evbuffer_get_length(input_of(c)) > 0) process_input(c);
}

void on_write(bufferevent *, void *arg) noexcept {
    auto *c = static_cast<evhttp_connection *>(arg);
    // (A deferred trigger may arrive after more was queued: wait for that to go too.)
    if (c->state != ConnState::writing || evbuffer_get_length(bufferevent_get_output(c->bev)) > 0)
        return;
    if (auto cb = c->chunk_written_cb) {
        c->chunk_written_cb = nullptr;
        cb(c, c->chunk_written_arg);
    }
    if (c->req && c->req->userdone) reply_done(c);
}

void on_event(bufferevent *, short what, void *arg) noexcept {
    if (what & BEV_EVENT_CONNECTED) return;
    // End of stream, an error or a timeout: the connection is dropped without a reply. A
    // request the program is still answering stays the program's, detached, as in libevent:
    // evhttp_request_get_connection gives NULL, and its next send or evhttp_request_free
    // frees it (freeing it here left the program a dangling pointer mid-reply).
    auto *c = static_cast<evhttp_connection *>(arg);
    if (evhttp_request *req = c->req;
        req && !req->userdone && (c->state == ConnState::handling || c->state == ConnState::writing)) {
        c->req = nullptr;
        req->evcon = nullptr;
    }
    connection_free(c);
}

}  // namespace

void connection_accept(evhttp *http, evutil_socket_t fd, const sockaddr *peer,
                       int peer_len) noexcept {
    evhttp_connection *c = make_obj<evhttp_connection>();
    if (!c) {
        evutil_closesocket(fd);
        return;
    }
    char host[NI_MAXHOST] = "";
    char serv[NI_MAXSERV] = "0";
    if (peer && peer_len > 0)
        getnameinfo(peer, static_cast<socklen_t>(peer_len), host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV);
    c->server = http;
    c->address = copy_str(host);
    c->port = static_cast<uint16_t>(std::atoi(serv));
    c->max_headers_size = http->max_headers_size;
    c->max_body_size = http->max_body_size;
    c->lingering = (http->flags & EVHTTP_SERVER_LINGERING_CLOSE) != 0;
    if (http->bevcb) {
        c->bev = http->bevcb(http->base, http->bevcb_arg);
        if (c->bev && bufferevent_setfd(c->bev, fd) < 0) {
            bufferevent_free(c->bev);
            c->bev = nullptr;
        }
    } else {
        c->bev = bufferevent_socket_new(http->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!c->bev || !c->address) {
        if (c->bev) bufferevent_free(c->bev);
        evutil_closesocket(fd);
        destroy_obj(c);
        return;
    }
    // The connection closes the socket itself, whatever options bevcb's bufferevent has.
    if (http->bevcb) c->own_fd = fd;
    TAILQ_INSERT_TAIL(&http->connections, c, next);
    bufferevent_set_timeouts(c->bev, &http->timeout, &http->timeout);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    if (!start_request(c)) {
        connection_free(c);
        return;
    }
    bufferevent_enable(c->bev, EV_READ);
}

void connection_free(evhttp_connection *c) noexcept {
    if (!c) return;
    if (c->server) TAILQ_REMOVE(&c->server->connections, c, next);
    if (c->closecb) c->closecb(c, c->closecb_arg);
    if (evhttp_request *req = c->req) {
        c->req = nullptr;
        req->evcon = nullptr;
        if (!(req->flags & EVHTTP_USER_OWNED)) request_free(req);
    }
    if (c->own_fd >= 0) bufferevent_setfd(c->bev, -1);
    bufferevent_free(c->bev);
    if (c->own_fd >= 0) evutil_closesocket(c->own_fd);
    destroy_obj(c);
}

void connection_fail(evhttp_connection *c, evhttp_request_error error) noexcept {
    evhttp_request *req = c->req;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    // A reply already on its way cannot be replaced by an error page: the connection only
    // goes (the request stays the program's if it is still answering it, as on_event does).
    const bool answering = c->state == ConnState::handling || c->state == ConnState::writing;
    const bool network = error == EVREQ_HTTP_TIMEOUT || error == EVREQ_HTTP_EOF;
    if (!req || network || c->state == ConnState::writing || req->userdone) {
        if (req && answering && !req->userdone) {
            c->req = nullptr;
            req->evcon = nullptr;
        }
        connection_free(c);
        return;
    }
    // An HTTP-level failure: the request (read or not) is answered with the error page and
    // the connection closes after it. libevent forgets the request's URI first.
    if (req->uri) {
        event_mm_free_(req->uri);
        req->uri = nullptr;
    }
    if (req->uri_elems) {
        evhttp_uri_free(req->uri_elems);
        req->uri_elems = nullptr;
    }
    c->state = ConnState::handling;
    send_error(req, error == EVREQ_HTTP_DATA_TOO_LONG ? HTTP_ENTITYTOOLARGE : HTTP_BADREQUEST,
               nullptr);
    // c may be gone now.
}

void connection_start_writing(evhttp_connection *c) noexcept {
    c->state = ConnState::writing;
    // Reading goes on while the reply is written, as in libevent, only so that a client
    // that leaves is noticed (and the connection freed) without waiting for a write to
    // fail: what it sends meanwhile stays buffered for the next request (process_input
    // leaves it alone in this state).
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    // A TLS bufferevent may have sent it all already (it writes as output is added, before
    // the state said writing): the write callback would not come again, so it is asked
    // for, deferred, as if the socket had taken the bytes.
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        bufferevent_trigger(c->bev, EV_WRITE, BEV_TRIG_DEFER_CALLBACKS);
}

void connection_reply_queued(evhttp_connection *c) noexcept {
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) reply_done(c);
}

}  // namespace reevent::http
