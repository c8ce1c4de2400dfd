// libFuzzer target: an evhttp client reading a server's bytes. Each input is
//   byte 0   options (limits, request method, which request callbacks are set)
//   byte 1   low 7 bits: the server writes in pieces of this many bytes (0: all at once),
//            running the loop between pieces; high bit: a second request is queued
//   rest     the bytes the server sends (status line, headers, a chunked, Content-Length or
//            close-delimited body, maybe more responses), after which it shuts its side down
// The "server" is a listening TCP socket on 127.0.0.1 the target accepts on itself; any later
// connection (the client reconnecting for the queued request) is closed at once. The loop runs
// until every request has had its callback or nothing happens any more.
#include <netinet/in.h>
#include <sys/socket.h>
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
    kSmallHeaders = 0x01,  // evhttp_connection_set_max_headers_size
    kSmallBody = 0x02,     // evhttp_connection_set_max_body_size
    kChunkCb = 0x04,       // evhttp_request_set_chunked_cb
    kHeaderCb = 0x08,      // evhttp_request_set_header_cb
    kHead = 0x10,          // HEAD (else GET, or POST with kPost)
    kPost = 0x20,          // POST with a body
    kErrorCb = 0x40,       // evhttp_request_set_error_cb
    kHeaderCbFails = 0x80, // the header callback returns -1
};

struct Run {
    uint8_t opts = 0;
    int requests = 0;  // made
    int done = 0;      // request callbacks run
    int events = 0;    // any callback
    int conns[8];
    int nconns = 0;
    size_t body = 0;
};

int listener_fd = -1;
sockaddr_in listener_addr{};

[[noreturn]] void fail(const char *what) {
    std::fprintf(stderr, "http_client_fuzz: %s\n", what);
    std::abort();
}

void setup_listener() {
    if (listener_fd >= 0) return;
    listener_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    listener_addr.sin_family = AF_INET;
    listener_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof listener_addr;
    if (listener_fd < 0 ||
        bind(listener_fd, reinterpret_cast<sockaddr *>(&listener_addr), len) < 0 ||
        listen(listener_fd, 16) < 0 ||
        getsockname(listener_fd, reinterpret_cast<sockaddr *>(&listener_addr), &len) < 0)
        fail("listen");
}

// Closes without TIME_WAIT (a reset), so that many runs do not use up loopback ports.
void close_now(int fd) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

void on_accept(evutil_socket_t, short, void *arg) {
    auto *run = static_cast<Run *>(arg);
    for (;;) {
        int fd = accept4(listener_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        ++run->events;
        if (run->nconns == int(sizeof run->conns / sizeof run->conns[0])) {
            close_now(fd);
            continue;
        }
        run->conns[run->nconns++] = fd;
        if (run->nconns > 1) shutdown(fd, SHUT_WR);  // later connections: an empty answer
    }
}

void on_done(evhttp_request *req, void *arg) {
    auto *run = static_cast<Run *>(arg);
    ++run->done;
    ++run->events;
    if (!req) return;
    int code = evhttp_request_get_response_code(req);
    const char *line = evhttp_request_get_response_code_line(req);
    size_t n = 0;
    evkeyvalq *h = evhttp_request_get_input_headers(req);
    for (evkeyval *kv = h->tqh_first; kv; kv = kv->next.tqe_next)
        n += std::strlen(kv->key) + std::strlen(kv->value);
    const char *cl = evhttp_find_header(h, "Content-Length");
    run->body += evbuffer_get_length(evhttp_request_get_input_buffer(req)) + n +
                 size_t(code) + (line ? std::strlen(line) : 0) + (cl ? std::strlen(cl) : 0);
    evhttp_request_get_connection(req);
}

void on_chunk(evhttp_request *req, void *arg) {
    auto *run = static_cast<Run *>(arg);
    ++run->events;
    evbuffer *in = evhttp_request_get_input_buffer(req);
    run->body += evbuffer_get_length(in);
    char buf[64];
    evbuffer_remove(in, buf, sizeof buf);  // take some of it; the rest is dropped
}

int on_header(evhttp_request *req, void *arg) {
    auto *run = static_cast<Run *>(arg);
    ++run->events;
    const char *te = evhttp_find_header(evhttp_request_get_input_headers(req), "Transfer-Encoding");
    run->body += te ? std::strlen(te) : 0;
    return (run->opts & kHeaderCbFails) ? -1 : 0;
}

void on_error(evhttp_request_error err, void *arg) {
    auto *run = static_cast<Run *>(arg);
    ++run->events;
    run->body += size_t(err);
}

void make_request(evhttp_connection *evcon, Run *run, const char *path) {
    evhttp_request *req = evhttp_request_new(on_done, run);
    if (!req) fail("evhttp_request_new");
    if (run->opts & kChunkCb) evhttp_request_set_chunked_cb(req, on_chunk);
    if (run->opts & kHeaderCb) evhttp_request_set_header_cb(req, on_header);
    if (run->opts & kErrorCb) evhttp_request_set_error_cb(req, on_error);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "fuzz.example");
    evhttp_cmd_type type = EVHTTP_REQ_GET;
    if (run->opts & kHead) {
        type = EVHTTP_REQ_HEAD;
    } else if (run->opts & kPost) {
        type = EVHTTP_REQ_POST;
        evbuffer_add(evhttp_request_get_output_buffer(req), "a=1&b=2", 7);
    }
    if (evhttp_make_request(evcon, req, type, path) != 0) fail("evhttp_make_request");
    ++run->requests;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    setup_listener();
    for (int fd; (fd = accept4(listener_fd, nullptr, nullptr, SOCK_CLOEXEC)) >= 0;)
        close_now(fd);  // a connection left over from the last run
    Run run;
    run.opts = data[0];
    size_t piece = data[1] & 0x7f;
    bool second = (data[1] & 0x80) != 0;
    data += 2;
    size -= 2;

    event_base *base = event_base_new();
    if (!base) fail("event_base_new");
    evhttp_connection *evcon =
        evhttp_connection_base_new(base, nullptr, "127.0.0.1", ntohs(listener_addr.sin_port));
    if (!evcon) fail("evhttp_connection_base_new");
    if (run.opts & kSmallHeaders) evhttp_connection_set_max_headers_size(evcon, 40 + run.opts);
    if (run.opts & kSmallBody) evhttp_connection_set_max_body_size(evcon, run.opts & 0x3c);
    event *acc = event_new(base, listener_fd, EV_READ | EV_PERSIST, on_accept, &run);
    if (!acc) fail("event_new");
    event_add(acc, nullptr);
    make_request(evcon, &run, "/first?x=1");
    if (second) make_request(evcon, &run, "/second");

    for (int i = 0; run.nconns == 0 && i < 100; ++i) event_base_loop(base, EVLOOP_NONBLOCK);
    if (run.nconns == 0) fail("the client never connected");
    int sfd = run.conns[0];
    size_t off = 0;
    for (int stuck = 0; off < size && stuck < 100;) {
        size_t want = piece ? piece : size - off;
        if (want > size - off) want = size - off;
        ssize_t n = send(sfd, data + off, want, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) off += size_t(n), stuck = 0;
        else if (n < 0 && errno == EAGAIN) ++stuck;  // the client reads no more
        else if (n < 0 && errno != EINTR) break;     // the client closed
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    shutdown(sfd, SHUT_WR);
    // Loopback delivery is synchronous, so a few turns without news mean nothing more comes.
    for (int idle = 0; run.done < run.requests && idle < 3; ++idle) {
        int events = run.events;
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (events != run.events) idle = -1;
    }
    if (run.done < run.requests) fail("hang: a request never finished after the server closed");

    evhttp_connection_free(evcon);
    event_free(acc);
    for (int i = 0; i < run.nconns; ++i) close_now(run.conns[i]);
    event_base_free(base);
#ifdef FUZZ_STANDALONE
    std::printf("requests=%d done=%d events=%d conns=%d body=%zu\n", run.requests, run.done, run.events, run.nconns, run.body);
#endif
    return 0;
}

#ifdef FUZZ_STANDALONE
#include "standalone_main.h"
#endif
