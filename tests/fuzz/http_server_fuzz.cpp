// libFuzzer target: an evhttp server reading a client's bytes. Each input is
//   byte 0   options (limits, lingering close, allowed methods, how to reply)
//   byte 1   write size: the client writes its bytes in pieces of this many (0: all at once),
//            running the loop between pieces so that the parser sees every partial state
//   rest     the bytes the client sends, after which it shuts its side down
// The server listens on a Unix socket (abstract, autobound), so nothing leaves the machine.
// The loop runs until the server closes the connection or stops doing anything (libevent too
// keeps some half-closed connections open, e.g. after a pipelined request).
// Every callback replies at once (plain, chunked or an error page) with a body.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

namespace {

enum : uint8_t {
    kSmallHeaders = 0x01,   // evhttp_set_max_headers_size
    kSmallBody = 0x02,      // evhttp_set_max_body_size
    kLingering = 0x04,      // EVHTTP_SERVER_LINGERING_CLOSE
    kFewMethods = 0x08,     // only GET, HEAD and POST allowed
    kChunked = 0x10,        // reply with send_reply_start/chunk/end
    kErrorPage = 0x20,      // some replies are evhttp_send_error
    kRouteCallbacks = 0x40, // callbacks on paths as well as the generic one
    kContentType = 0x80,    // a default content type (none otherwise)
};

struct Run {
    uint8_t opts = 0;
    int replies = 0;
    size_t received = 0;  // bytes the client has read
    bool closed = false;
    event *client_read = nullptr;
};

[[noreturn]] void fail(const char *what) {
    std::fprintf(stderr, "http_server_fuzz: %s\n", what);
    std::abort();
}

void on_request(evhttp_request *req, void *arg) {
    auto *run = static_cast<Run *>(arg);
    ++run->replies;
    // Read back everything the parser produced.
    const char *uri = evhttp_request_get_uri(req);
    const evhttp_uri *parsed = evhttp_request_get_evhttp_uri(req);
    const char *host = evhttp_request_get_host(req);
    size_t header_bytes = 0;
    evkeyvalq *headers = evhttp_request_get_input_headers(req);
    for (evkeyval *kv = headers->tqh_first; kv; kv = kv->next.tqe_next)
        header_bytes += std::strlen(kv->key) + std::strlen(kv->value);
    const char *ctype = evhttp_find_header(headers, "Content-Type");
    evbuffer *body = evhttp_request_get_input_buffer(req);
    evbuffer *out = evbuffer_new();
    if (!out) fail("evbuffer_new");
    evbuffer_add_printf(out, "cmd=%d uri=%s path=%s host=%s type=%s headers=%zu body=%zu\n",
                        static_cast<int>(evhttp_request_get_command(req)), uri ? uri : "-",
                        parsed && evhttp_uri_get_path(parsed) ? evhttp_uri_get_path(parsed) : "-",
                        host ? host : "-", ctype ? ctype : "-", header_bytes,
                        evbuffer_get_length(body));
    evbuffer_add_buffer(out, body);  // echo the body back
    evhttp_add_header(evhttp_request_get_output_headers(req), "X-Fuzz", "yes");
    if ((run->opts & kErrorPage) && run->replies % 2 == 0) {
        evhttp_send_error(req, 400 + run->replies % 20, nullptr);
    } else if (run->opts & kChunked) {
        evhttp_send_reply_start(req, 200, "OK");
        evbuffer *piece = evbuffer_new();
        if (!piece) fail("evbuffer_new");
        evbuffer_add(piece, "first piece\n", 12);
        evhttp_send_reply_chunk(req, piece);
        evhttp_send_reply_chunk(req, out);
        evhttp_send_reply_chunk(req, piece);  // empty now
        evbuffer_free(piece);
        evhttp_send_reply_end(req);
    } else {
        evhttp_send_reply(req, run->replies % 3 ? 200 : 201, nullptr, out);
    }
    evbuffer_free(out);
}

void on_client_readable(evutil_socket_t fd, short, void *arg) {
    auto *run = static_cast<Run *>(arg);
    char buf[4096];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            run->received += size_t(n);
#ifdef FUZZ_STANDALONE
            if (std::getenv("FUZZ_DUMP")) std::fwrite(buf, 1, size_t(n), stderr);
#endif
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
        run->closed = true;  // EOF or reset: the server closed the connection
        event_del(run->client_read);  // else the loop would see the EOF forever
        return;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    Run run;
    run.opts = data[0];
    size_t piece = data[1];
    data += 2;
    size -= 2;

    event_base *base = event_base_new();
    if (!base) fail("event_base_new");
    evhttp *http = evhttp_new(base);
    if (!http) fail("evhttp_new");
    if (run.opts & kSmallHeaders) evhttp_set_max_headers_size(http, 64 + run.opts);
    if (run.opts & kSmallBody) evhttp_set_max_body_size(http, run.opts & 0x30);
    if (run.opts & kLingering) evhttp_set_flags(http, EVHTTP_SERVER_LINGERING_CLOSE);
    if (run.opts & kFewMethods)
        evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
    evhttp_set_default_content_type(http, (run.opts & kContentType) ? "text/plain" : nullptr);
    evhttp_set_gencb(http, on_request, &run);
    if (run.opts & kRouteCallbacks) {
        evhttp_set_cb(http, "/", on_request, &run);
        evhttp_set_cb(http, "/a", on_request, &run);
        evhttp_add_server_alias(http, "alias");
        evhttp *vhost = evhttp_new(base);
        if (!vhost) fail("evhttp_new");
        evhttp_set_gencb(vhost, on_request, &run);
        evhttp_add_virtual_host(http, "v.example", vhost);  // freed with http
    }

    // Listening socket: an autobound abstract Unix address.
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (lfd < 0 || bind(lfd, reinterpret_cast<sockaddr *>(&sun), sizeof(sa_family_t)) < 0 ||
        listen(lfd, 4) < 0)
        fail("listen");
    socklen_t sunlen = sizeof sun;
    if (getsockname(lfd, reinterpret_cast<sockaddr *>(&sun), &sunlen) < 0) fail("getsockname");
    if (evhttp_accept_socket(http, lfd) != 0) fail("evhttp_accept_socket");
    int cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cfd < 0 || connect(cfd, reinterpret_cast<sockaddr *>(&sun), sunlen) < 0) fail("connect");
    event *rd = event_new(base, cfd, EV_READ | EV_PERSIST, on_client_readable, &run);
    if (!rd) fail("event_new");
    run.client_read = rd;
    event_add(rd, nullptr);

    event_base_loop(base, EVLOOP_NONBLOCK);  // accept
    size_t off = 0;
    for (int stuck = 0; off < size && !run.closed && stuck < 100;) {
        size_t want = piece ? piece : size - off;
        if (want > size - off) want = size - off;
        ssize_t n = send(cfd, data + off, want, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) off += size_t(n), stuck = 0;
        else if (n < 0 && errno == EAGAIN) ++stuck;  // the server reads no more
        else if (n < 0 && errno != EAGAIN && errno != EINTR) break;  // the server closed
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    shutdown(cfd, SHUT_WR);
    // Loopback delivery is synchronous, so a few turns without news mean nothing more comes.
    for (int idle = 0; !run.closed && idle < 3; ++idle) {
        int replies = run.replies;
        size_t received = run.received;
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (replies != run.replies || received != run.received) idle = -1;
    }

    event_free(rd);
    evhttp_free(http);
    close(cfd);
    event_base_free(base);
#ifdef FUZZ_STANDALONE
    std::printf("replies=%d received=%zu closed=%d\n", run.replies, run.received, int(run.closed));
#endif
    return 0;
}

#ifdef FUZZ_STANDALONE
#include "standalone_main.h"
#endif
