// The request-smuggling rules of Debian's libevent 2.1.12-stable-8+deb12u1 (the system
// libevent of Debian 12), server and client side, on every backend: once the head is read,
// a message with both Transfer-Encoding and Content-Length, with Content-Length twice,
// with "chunked" before another coding, or with a second Transfer-Encoding header after
// one that ended in "chunked" is refused; a body is read as chunked when "chunked" (in any
// case) is the last coding. Server side: the raw bytes that come back and whether the
// handler ran; client side: what the request and error callbacks get.
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backend_fixture.h"
#include "http_test_util.h"

namespace {

// ---- server side ------------------------------------------------------------------------


// The handler: counts its calls and answers with the body it was given.
void body_cb(evhttp_request *req, void *arg) {
    ++*static_cast<int *>(arg);
    evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "body=");
    evbuffer_add_buffer(b, evhttp_request_get_input_buffer(req));
    evhttp_send_reply(req, HTTP_OK, "OK", b);
    evbuffer_free(b);
}

class HttpSmugglingServer : public conf::BackendTest {
protected:
    void SetUp() override {
        conf::BackendTest::SetUp();
        http_ = evhttp_new(base());
        ASSERT_NE(http_, nullptr);
        port_ = httptest::bind_loopback(http_);
        ASSERT_GT(port_, 0);
        evhttp_set_cb(http_, "/b", body_cb, &calls_);
    }
    void TearDown() override {
        if (http_) evhttp_free(http_);
        conf::BackendTest::TearDown();
    }
    // Sends request on a fresh connection (from another thread while the loop runs here);
    // the answer with its Date masked.
    std::string exchange(const std::string &request) {
        return httptest::exchange_while_looping(base(), port_, request);
    }

    evhttp *http_ = nullptr;
    int port_ = 0;
    int calls_ = 0;
};

// What a refused request gets: a 400 and the close (the handler is not called).
const std::string &kRefused = httptest::kBadRequestPage;

struct Refusal {
    const char *name;
    const char *request;
};

const Refusal kRefusals[] = {
    {"chunked_and_length",
     "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
     "3\r\nabc\r\n0\r\n\r\n"},
    {"length_and_chunked",
     "POST /b HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
     "3\r\nabc\r\n0\r\n\r\n"},
    {"names_in_lower_case",
     "POST /b HTTP/1.1\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\n"
     "3\r\nabc\r\n0\r\n\r\n"},
    {"other_coding_and_length",
     "POST /b HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc"},
    // Whatever the method: a GET is refused too, before the server decides it has no body.
    {"get_with_chunked_and_length",
     "GET /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"},
    {"chunked_then_gzip",
     "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n"},
    {"chunked_header_then_gzip_header",
     "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"
     "3\r\nabc\r\n0\r\n\r\n"},
    {"chunked_header_twice",
     "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
     "3\r\nabc\r\n0\r\n\r\n"},
};

TEST_P(HttpSmugglingServer, AmbiguousBodiesAreRefusedWithoutCallingTheHandler) {
    for (const Refusal &r : kRefusals) {
        SCOPED_TRACE(r.name);
        calls_ = 0;
        EXPECT_EQ(exchange(r.request), kRefused);
        EXPECT_EQ(calls_, 0);
    }
}

// What the handler answers when the request reached it with body "abc" / an empty body.
const char kBodyAbc[] =
    "HTTP/1.1 200 OK\r\n"
    "Date: D\r\n"
    "Content-Length: 8\r\n"
    "Content-Type: text/html; charset=ISO-8859-1\r\n"
    "\r\n"
    "body=abc<open>";
const char kNoBody[] =
    "HTTP/1.1 200 OK\r\n"
    "Date: D\r\n"
    "Content-Length: 5\r\n"
    "Content-Type: text/html; charset=ISO-8859-1\r\n"
    "\r\n"
    "body=<open>";

struct Accepted {
    const char *name;
    const char *request;
    const char *answer;
};

const Accepted kAccepted[] = {
    {"gzip_then_chunked",
     "POST /b HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
     kBodyAbc},
    {"chunked_capitalised",
     "POST /b HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", kBodyAbc},
    {"chunked_with_parameter",
     "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked;x=1\r\n\r\n3\r\nabc\r\n0\r\n\r\n", kBodyAbc},
    // Two headers: the last one decides, and it may end in "chunked".
    {"gzip_header_then_chunked_header",
     "POST /b HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
     "3\r\nabc\r\n0\r\n\r\n",
     kBodyAbc},
    // No "chunked" and no length: no body (the bytes stay for a next request that never
    // completes).
    {"other_coding_only", "POST /b HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc", kNoBody},
    // Content-Length twice is not refused: the first one counts.
    {"length_twice_same",
     "POST /b HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", kBodyAbc},
    {"length_twice_different",
     "POST /b HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde", kBodyAbc},
    {"get_with_length_twice", "GET /b HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
     kNoBody},
};

// Every case at once, each on a server of its own (with its own call count, set up as
// SetUp sets up http_) and its own connection, so that the 250 ms idle waits overlap.
TEST_P(HttpSmugglingServer, ChunkedWhenItIsTheLastCoding) {
    constexpr size_t n = std::size(kAccepted);
    std::vector<evhttp *> servers;
    std::vector<int> calls(n, 0);
    std::vector<std::pair<int, std::string>> requests;
    for (size_t i = 0; i < n; ++i) {
        evhttp *h = evhttp_new(base());
        ASSERT_NE(h, nullptr);
        servers.push_back(h);
        const int port = httptest::bind_loopback(h);
        ASSERT_GT(port, 0) << kAccepted[i].name;
        evhttp_set_cb(h, "/b", body_cb, &calls[i]);
        requests.emplace_back(port, kAccepted[i].request);
    }
    const std::vector<std::string> answers = httptest::exchanges_while_looping(base(), requests);
    for (evhttp *h : servers) evhttp_free(h);
    for (size_t i = 0; i < n; ++i) {
        SCOPED_TRACE(kAccepted[i].name);
        EXPECT_EQ(answers[i], kAccepted[i].answer);
        EXPECT_EQ(calls[i], 1);
    }
}

// Wire details found by fuzzing the server (tests/fuzz/http_server_fuzz.cpp) and checked
// against libevent, which reads each line as a C string: a NUL ends the line's text.
TEST_P(HttpSmugglingServer, NulInTheRequestLineCutsItAndIsRefused) {
    // "GET /b" is all libevent reads: no version, a 400.
    EXPECT_EQ(exchange(std::string("GET /b\0x HTTP/1.1\r\n\r\n", 21)), kRefused);
    EXPECT_EQ(calls_, 0);
}

TEST_P(HttpSmugglingServer, NulInAHeaderLineCutsIt) {
    // Before the colon: no colon left, a 400.
    EXPECT_EQ(exchange(std::string("GET /b HTTP/1.1\r\nX\0: y\r\n\r\n", 26)), kRefused);
    EXPECT_EQ(calls_, 0);
    // A line that starts with a NUL is empty: it ends the head.
    EXPECT_EQ(exchange(std::string("GET /b HTTP/1.1\r\n\0junk\r\n", 24)), kNoBody);
    EXPECT_EQ(calls_, 1);
}

TEST_P(HttpSmugglingServer, ACarriageReturnLeftInAHeaderValueIsRefused) {
    // Only spaces and tabs are trimmed from a value's end; a CR left in it is refused.
    for (const char *request : {"GET /b HTTP/1.1\r\nX: a\rb\r\n\r\n",
                                "GET /b HTTP/1.1\r\nX: a\r\r\n\r\n",
                                "GET /b HTTP/1.1\r\nX: a\r\t \n\r\n"}) {
        SCOPED_TRACE(request);
        EXPECT_EQ(exchange(request), kRefused);
    }
    EXPECT_EQ(calls_, 0);
    EXPECT_EQ(exchange("GET /b HTTP/1.1\r\nX: a \t \r\n\r\n"), kNoBody);
    EXPECT_EQ(calls_, 1);
}

TEST_P(HttpSmugglingServer, TrailerLinesAreCheckedAsHeaders) {
    const std::string head = "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n";
    EXPECT_EQ(exchange(head + "X-Trailer: 1\r\n\r\n"), kBodyAbc);
    EXPECT_EQ(calls_, 1);
    // A trailer line without a colon: the request fails as too large (libevent's error).
    EXPECT_EQ(exchange(head + "no colon\r\n\r\n"),
              httptest::error_page("413 Request Entity Too Large", "Request Entity Too Large"));
    EXPECT_EQ(calls_, 1);
}

TEST_P(HttpSmugglingServer, ChunkSizeLinesAreReadAsStrtollReadsThem) {
    const std::string head = "POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    // A space may follow the size, and "0x" may lead it.
    EXPECT_EQ(exchange(head + "3 ext\r\nabc\r\n0\r\n\r\n"), kBodyAbc);
    EXPECT_EQ(exchange(head + "0x3\r\nabc\r\n0\r\n\r\n"), kBodyAbc);
    EXPECT_EQ(calls_, 2);
}

CONF_INSTANTIATE_BACKENDS(HttpSmugglingServer);

// ---- client side ------------------------------------------------------------------------

// Answers the first request of one connection with fixed bytes, then waits for the close.
class OneAnswerServer {
public:
    explicit OneAnswerServer(std::string answer) : answer_(std::move(answer)) {
        lfd_ = httptest::listen_loopback(&port_, 4);
        th_ = std::thread([this] { run(); });
    }
    ~OneAnswerServer() {
        stop_ = true;
        th_.join();
        close(lfd_);
    }
    uint16_t port() const { return port_; }

private:
    void run() {
        using httptest::wait_readable;
        while (!stop_ && !wait_readable(lfd_, 50)) {
        }
        if (stop_) return;
        int fd = accept(lfd_, nullptr, nullptr);
        std::string got;
        char tmp[1024];
        while (got.find("\r\n\r\n") == std::string::npos && wait_readable(fd, 3000)) {
            ssize_t n = recv(fd, tmp, sizeof tmp, 0);
            if (n <= 0) break;
            got.append(tmp, static_cast<size_t>(n));
        }
        send(fd, answer_.data(), answer_.size(), MSG_NOSIGNAL);
        while (!stop_) {
            if (!wait_readable(fd, 50)) continue;
            if (recv(fd, tmp, sizeof tmp, 0) <= 0) break;
        }
        close(fd);
    }

    std::string answer_;
    int lfd_ = -1;
    uint16_t port_ = 0;
    std::thread th_;
    std::atomic<bool> stop_{false};
};

// What the callbacks of one request saw.
struct Seen {
    event_base *base = nullptr;
    int calls = 0;
    bool null_req = false;
    int code = -1;
    std::string body;
    std::vector<int> errors;
    int header_calls = 0;
};

int on_headers(evhttp_request *, void *arg) {
    static_cast<Seen *>(arg)->header_calls++;
    return 0;
}

void on_done(evhttp_request *req, void *arg) {
    auto *s = static_cast<Seen *>(arg);
    s->calls++;
    s->null_req = req == nullptr;
    if (req) {
        s->code = evhttp_request_get_response_code(req);
        evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(in);
        s->body.assign(reinterpret_cast<char *>(evbuffer_pullup(in, -1)), n);
    }
    event_base_loopexit(s->base, nullptr);
}

void on_error(evhttp_request_error e, void *arg) { static_cast<Seen *>(arg)->errors.push_back(e); }

// "calls=1 req=null code=- errors=2 body=": the callbacks of one request.
std::string describe(const Seen &s) {
    std::string out = "calls=" + std::to_string(s.calls);
    out += s.null_req ? " req=null" : " req=set code=" + std::to_string(s.code);
    out += " headers_cb=" + std::to_string(s.header_calls);
    out += " errors=";
    for (int e : s.errors) out += std::to_string(e) + ",";
    if (!s.null_req) out += " body=" + s.body;
    return out;
}

class HttpSmugglingClient : public conf::BackendTest {
protected:
    // One GET answered with response; what the callbacks saw.
    std::string fetch(const std::string &response, evhttp_cmd_type type = EVHTTP_REQ_GET) {
        OneAnswerServer srv(response);
        Seen seen;
        seen.base = base();
        evhttp_connection *c = evhttp_connection_base_new(base(), nullptr, "127.0.0.1", srv.port());
        evhttp_request *r = evhttp_request_new(on_done, &seen);
        evhttp_request_set_error_cb(r, on_error);
        evhttp_request_set_header_cb(r, on_headers);
        EXPECT_EQ(evhttp_make_request(c, r, type, "/"), 0);
        timeval tv{5, 0};
        event_base_loopexit(base(), &tv);
        event_base_dispatch(base());
        evhttp_connection_free(c);
        return describe(seen);
    }
};

struct ClientCase {
    const char *name;
    std::string response;
    std::string seen;
};

// A refused response: the header callback does not run, the error callback gets
// EVREQ_HTTP_INVALID_HEADER (2), then the request callback gets NULL. An accepted one: the
// header callback, then its code and body.
const ClientCase kClientCases[] = {
    {"chunked_and_length",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
     "calls=1 req=null headers_cb=0 errors=2,"},
    {"other_coding_and_length",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc", "calls=1 req=null headers_cb=0 errors=2,"},
    // Content-Length twice is not refused.
    {"length_twice", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "calls=1 req=set code=200 headers_cb=1 errors= body=abc"},
    {"chunked_then_gzip",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "calls=1 req=null headers_cb=0 errors=2,"},
    {"chunked_header_then_gzip_header",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"
     "3\r\nabc\r\n0\r\n\r\n",
     "calls=1 req=null headers_cb=0 errors=2,"},
    {"gzip_then_chunked",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "calls=1 req=set code=200 headers_cb=1 errors= body=abc"},
    {"chunked_capitalised",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", "calls=1 req=set code=200 headers_cb=1 errors= body=abc"},
    {"gzip_header_then_chunked_header",
     "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
     "3\r\nabc\r\n0\r\n\r\n",
     "calls=1 req=set code=200 headers_cb=1 errors= body=abc"},
    // Refused before the client decides a 204 has no body.
    {"no_content_with_chunked_and_length",
     "HTTP/1.1 204 No Content\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", "calls=1 req=null headers_cb=0 errors=2,"},
};

TEST_P(HttpSmugglingClient, AmbiguousResponsesFailTheRequest) {
    for (const ClientCase &c : kClientCases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(fetch(c.response), c.seen);
    }
}

CONF_INSTANTIATE_BACKENDS(HttpSmugglingClient);

}  // namespace
