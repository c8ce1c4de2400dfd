// The HTTP client of <event2/http.h>: requests sent to a scripted raw server (a thread with
// blocking sockets that records the exact request bytes and answers with fixed bytes),
// checked on both libraries: the bytes the client writes, how responses of each kind are
// read, connection reuse, and which callbacks run, with what, when things go wrong.
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/http.h>
#include <event2/http_compat.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "http_test_util.h"

namespace {

// Accepts connections in turn; on connection i answers each request with script[i][j]
// ("" : answer nothing and wait for the client to go), then closes.
class RawServer {
public:
    explicit RawServer(std::vector<std::vector<std::string>> script)
        : script_(std::move(script)) {
        lfd_ = httptest::listen_loopback(&port_);
        th_ = std::thread([this] { run(); });
    }
    ~RawServer() {
        stop_ = true;
        th_.join();
        close(lfd_);
    }
    uint16_t port() const { return port_; }
    // Requests as received, per connection.
    std::vector<std::vector<std::string>> requests;

private:
    static bool wait_readable(int fd, int ms) { return httptest::wait_readable(fd, ms); }
    // One request head plus a Content-Length body; "" when the peer closed or went quiet.
    std::string read_request(int fd, std::string &buf) {
        for (;;) {
            size_t end = buf.find("\r\n\r\n");
            if (end != std::string::npos) {
                size_t body = 0;
                size_t cl = buf.find("Content-Length: ");
                if (cl != std::string::npos && cl < end) body = std::stoul(buf.substr(cl + 16));
                if (buf.size() >= end + 4 + body) {
                    std::string r = buf.substr(0, end + 4 + body);
                    buf.erase(0, end + 4 + body);
                    return r;
                }
            }
            if (stop_ || !wait_readable(fd, 3000)) return "";
            char tmp[4096];
            ssize_t n = recv(fd, tmp, sizeof tmp, 0);
            if (n <= 0) return "";
            buf.append(tmp, static_cast<size_t>(n));
        }
    }
    void run() {
        for (auto &answers : script_) {
            while (!stop_ && !wait_readable(lfd_, 50)) {
            }
            if (stop_) return;
            int fd = accept(lfd_, nullptr, nullptr);
            requests.emplace_back();
            std::string buf;
            for (auto &a : answers) {
                std::string req = read_request(fd, buf);
                if (req.empty()) break;
                requests.back().push_back(req);
                if (a.empty()) {  // no answer: wait until the client closes
                    while (!stop_ && wait_readable(fd, 50) == false) {
                    }
                    break;
                }
                send(fd, a.data(), a.size(), MSG_NOSIGNAL);
            }
            shutdown(fd, SHUT_WR);
            // Wait for the client's close before closing (no RST on unread bytes).
            char tmp[256];
            while (wait_readable(fd, 1000) && recv(fd, tmp, sizeof tmp, 0) > 0) {
            }
            close(fd);
        }
    }

    std::vector<std::vector<std::string>> script_;
    int lfd_ = -1;
    uint16_t port_ = 0;
    std::thread th_;
    volatile bool stop_ = false;
};

// What the callbacks saw.
struct Seen {
    event_base *base = nullptr;
    int calls = 0;
    bool null_req = false;
    int code = -1;
    std::string line, body, chunks, content_type;
    std::vector<int> errors;
    int chunk_calls = 0;
    int closes = 0;
    int stop_after = 1;  // calls before the loop stops
};

void on_done(evhttp_request *req, void *arg) {
    auto *s = static_cast<Seen *>(arg);
    s->calls++;
    s->null_req = req == nullptr;
    if (req) {
        s->code = evhttp_request_get_response_code(req);
        const char *l = evhttp_request_get_response_code_line(req);
        s->line = l ? l : "(null)";
        evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(in);
        s->body.append(reinterpret_cast<char *>(evbuffer_pullup(in, -1)), n);
        const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
        s->content_type = ct ? ct : "";
    }
    if (s->calls >= s->stop_after) event_base_loopexit(s->base, nullptr);
}

void on_error(evhttp_request_error e, void *arg) { static_cast<Seen *>(arg)->errors.push_back(e); }

void on_chunk(evhttp_request *req, void *arg) {
    auto *s = static_cast<Seen *>(arg);
    s->chunk_calls++;
    evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    s->chunks.append(reinterpret_cast<char *>(evbuffer_pullup(in, -1)), n);
    s->chunks += "|";
}

void on_close(evhttp_connection *, void *arg) { static_cast<Seen *>(arg)->closes++; }

void run_loop(event_base *base, int secs = 5) {
    timeval tv{secs, 0};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

struct Client : ::testing::Test {
    event_base *base = event_base_new();
    Seen seen;
    Client() { seen.base = base; }
    ~Client() override { event_base_free(base); }
    evhttp_connection *connect(uint16_t port) {
        return evhttp_connection_base_new(base, nullptr, "127.0.0.1", port);
    }
    evhttp_request *request() {
        evhttp_request *r = evhttp_request_new(on_done, &seen);
        evhttp_request_set_error_cb(r, on_error);
        return r;
    }
    // The one request made ended in `error`: its callback got NULL.
    void expect_failed_with(int error) {
        EXPECT_EQ(seen.calls, 1);
        EXPECT_TRUE(seen.null_req);
        EXPECT_EQ(seen.errors, std::vector<int>{error});
    }
    // A GET of "/" on c (with the request r, or a new one) fails with `error`.
    void expect_get_fails(evhttp_connection *c, int error, evhttp_request *r = nullptr) {
        ASSERT_EQ(evhttp_make_request(c, r ? r : request(), EVHTTP_REQ_GET, "/"), 0);
        run_loop(base);
        expect_failed_with(error);
    }
};

const char kOk[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

TEST_F(Client, GetSendsOnlyTheHeadersGivenAndReadsAContentLengthBody) {
    RawServer srv({{kOk}});
    evhttp_connection *c = connect(srv.port());
    evhttp_request *r = request();
    evhttp_add_header(evhttp_request_get_output_headers(r), "Host", "example");
    ASSERT_EQ(evhttp_make_request(c, r, EVHTTP_REQ_GET, "/a?b=1"), 0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.code, 200);
    EXPECT_EQ(seen.line, "OK");
    EXPECT_EQ(seen.body, "hello");
    EXPECT_TRUE(seen.errors.empty());
    evhttp_connection_free(c);
    ASSERT_EQ(srv.requests.size(), 1u);
    EXPECT_EQ(srv.requests[0].at(0), "GET /a?b=1 HTTP/1.1\r\nHost: example\r\n\r\n");
}

TEST_F(Client, PostAndPutGetAContentLengthOtherMethodsDoNot) {
    RawServer srv({{kOk, kOk, kOk, kOk}});
    evhttp_connection *c = connect(srv.port());
    seen.stop_after = 4;
    const evhttp_cmd_type types[] = {EVHTTP_REQ_POST, EVHTTP_REQ_PUT, EVHTTP_REQ_DELETE,
                                     EVHTTP_REQ_PATCH};
    for (evhttp_cmd_type t : types) {
        evhttp_request *r = request();
        evbuffer_add(evhttp_request_get_output_buffer(r), "abc", 3);
        ASSERT_EQ(evhttp_make_request(c, r, t, "/p"), 0);
    }
    run_loop(base);
    EXPECT_EQ(seen.calls, 4);
    evhttp_connection_free(c);
    ASSERT_EQ(srv.requests.size(), 1u);  // all four on one connection
    // Without a Content-Length the raw server takes DELETE's body for the next head.
    ASSERT_EQ(srv.requests[0].size(), 4u);
    EXPECT_EQ(srv.requests[0][0], "POST /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    EXPECT_EQ(srv.requests[0][1], "PUT /p HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
    EXPECT_EQ(srv.requests[0][2], "DELETE /p HTTP/1.1\r\n\r\n");
    EXPECT_EQ(srv.requests[0][3], "abcPATCH /p HTTP/1.1\r\n\r\n");
}

TEST_F(Client, HeadResponseHasNoBodyAndTheConnectionIsReused) {
    RawServer srv({{std::string("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), kOk}});
    evhttp_connection *c = connect(srv.port());
    seen.stop_after = 2;
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_HEAD, "/h"), 0);
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/g"), 0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 2);
    EXPECT_EQ(seen.body, "hello");
    evhttp_connection_free(c);
    ASSERT_EQ(srv.requests.size(), 1u);
    EXPECT_EQ(srv.requests[0].size(), 2u);
}

// Only "Connection: close" (in the request or the response) ends a connection: a 1.0
// response without it leaves the connection open for the next request.
TEST_F(Client, ConnectionCloseMakesANewConnectionForTheNextRequest) {
    RawServer srv({{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"},
                   {"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\ny", kOk}});
    evhttp_connection *c = connect(srv.port());
    evhttp_connection_set_closecb(c, on_close, &seen);
    seen.stop_after = 3;
    for (int i = 0; i < 3; ++i)
        ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 3);
    EXPECT_EQ(seen.body, "xyhello");
    EXPECT_EQ(seen.closes, 1);  // each close of a connected socket
    evhttp_connection_free(c);
    EXPECT_EQ(seen.closes, 2);
    ASSERT_EQ(srv.requests.size(), 2u);
    EXPECT_EQ(srv.requests[1].size(), 2u);
}

TEST_F(Client, ChunkedBodyStreamsThroughTheChunkCallback) {
    RawServer srv({{std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n"),
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n0\r\n\r\n"}});
    evhttp_connection *c = connect(srv.port());
    seen.stop_after = 2;
    evhttp_request *r = request();
    evhttp_request_set_chunked_cb(r, on_chunk);
    ASSERT_EQ(evhttp_make_request(c, r, EVHTTP_REQ_GET, "/c"), 0);
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/c"), 0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 2);
    EXPECT_EQ(seen.chunks, "abc|de|");
    EXPECT_EQ(seen.body, "abc");  // the first body went to the chunk callback
    evhttp_connection_free(c);
}

TEST_F(Client, BodyWithoutLengthRunsUntilTheServerCloses) {
    RawServer srv({{"HTTP/1.0 200 OK\r\nContent-Type: text/x\r\n\r\nall of it"}});
    evhttp_connection *c = connect(srv.port());
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.body, "all of it");
    EXPECT_EQ(seen.content_type, "text/x");
    EXPECT_TRUE(seen.errors.empty());
    evhttp_connection_free(c);
}

TEST_F(Client, RefusedConnectGivesTheRequestWithCodeZero) {
    uint16_t port;
    {
        RawServer srv({});
        port = srv.port();
    }
    evhttp_connection *c = connect(port);
    evhttp_connection_set_closecb(c, on_close, &seen);
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_FALSE(seen.null_req);
    EXPECT_EQ(seen.code, 0);
    EXPECT_TRUE(seen.errors.empty());
    EXPECT_EQ(seen.closes, 0);
    evhttp_connection_free(c);
}

TEST_F(Client, RetriesWaitTheInitialDelayThenTwiceAsLong) {
    uint16_t port;
    {
        RawServer srv({});
        port = srv.port();
    }
    evhttp_connection *c = connect(port);
    evhttp_connection_set_retries(c, 2);
    timeval tv{0, 100000};
    evhttp_connection_set_initial_retry_tv(c, &tv);
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - t0)
                  .count();
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.code, 0);
    EXPECT_GE(ms, 280);  // 100 ms + 200 ms
    EXPECT_LT(ms, 2000);
    evhttp_connection_free(c);
}

TEST_F(Client, SilentServerTimesOut) {
    RawServer srv({{""}});
    evhttp_connection *c = connect(srv.port());
    evhttp_connection_set_timeout(c, 1);
    expect_get_fails(c, EVREQ_HTTP_TIMEOUT);
    evhttp_connection_free(c);
}

TEST_F(Client, ServerClosingBeforeTheAnswerIsEof) {
    RawServer srv({{"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort"}});
    evhttp_connection *c = connect(srv.port());
    expect_get_fails(c, EVREQ_HTTP_EOF);
    evhttp_connection_free(c);
}

TEST_F(Client, BadStatusLineIsInvalidHeader) {
    RawServer srv({{"HTTP/1.1 abc OK\r\n\r\n"}});
    evhttp_connection *c = connect(srv.port());
    expect_get_fails(c, EVREQ_HTTP_INVALID_HEADER);
    evhttp_connection_free(c);
}

// Status lines as libevent reads them (found by tests/fuzz/http_client_fuzz.cpp): the
// reason may be missing, and the code is atoi's reading of its text, anything but 0.
TEST_F(Client, StatusLineWithoutAReasonIsAccepted) {
    RawServer srv({{"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"}});
    evhttp_connection *c = connect(srv.port());
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.code, 200);
    EXPECT_EQ(seen.line, "");
    EXPECT_EQ(seen.body, "ok");
    evhttp_connection_free(c);
}

TEST_F(Client, StatusCodeIsAtoiOfItsText) {
    RawServer srv({{"HTTP/1.1 2000 Big\r\nContent-Length: 2\r\n\r\nok"}});
    evhttp_connection *c = connect(srv.port());
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.code, 2000);
    EXPECT_EQ(seen.line, "Big");
    evhttp_connection_free(c);
}

TEST_F(Client, NulEndsTheStatusLine) {
    RawServer srv({{std::string("HTTP/1.1 200 OK\0junk\r\nContent-Length: 2\r\n\r\nok", 45)}});
    evhttp_connection *c = connect(srv.port());
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.code, 200);
    EXPECT_EQ(seen.line, "OK");
    evhttp_connection_free(c);
}

// Trailers are checked like headers and then dropped; a bad one is DATA_TOO_LONG.
TEST_F(Client, TrailersAreCheckedAndDropped) {
    RawServer srv({{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"
                    "Content-Type: text/x-trailer\r\n\r\n"}});
    evhttp_connection *c = connect(srv.port());
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.body, "ok");
    EXPECT_EQ(seen.content_type, "");
    evhttp_connection_free(c);
}

TEST_F(Client, BadTrailerIsDataTooLong) {
    RawServer srv({{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"
                    "no colon\r\n\r\n"}});
    evhttp_connection *c = connect(srv.port());
    expect_get_fails(c, EVREQ_HTTP_DATA_TOO_LONG);
    evhttp_connection_free(c);
}

TEST_F(Client, ChunkSizeWithoutDigitsBeforeASpaceIsTheLastChunk) {
    RawServer srv({{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n"
                    " x\r\n\r\n"}});
    evhttp_connection *c = connect(srv.port());
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.code, 200);
    EXPECT_EQ(seen.body, "ok");
    evhttp_connection_free(c);
}

TEST_F(Client, BodyOverTheLimitIsDataTooLong) {
    RawServer srv({{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"}});
    evhttp_connection *c = connect(srv.port());
    evhttp_connection_set_max_body_size(c, 4);
    expect_get_fails(c, EVREQ_HTTP_DATA_TOO_LONG);
    evhttp_connection_free(c);
}

// libevent reports a response head over the limit as an invalid header (a body over the
// limit is DATA_TOO_LONG).
TEST_F(Client, HeadersOverTheLimitAreInvalidHeader) {
    RawServer srv({{"HTTP/1.1 200 OK\r\nX-Long: 0123456789012345678901234567890123456789\r\n"
                    "Content-Length: 0\r\n\r\n"}});
    evhttp_connection *c = connect(srv.port());
    evhttp_connection_set_max_headers_size(c, 30);
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.errors, std::vector<int>{EVREQ_HTTP_INVALID_HEADER});
    evhttp_connection_free(c);
}

int refuse_head(evhttp_request *req, void *arg) {
    static_cast<Seen *>(arg)->code = evhttp_request_get_response_code(req);
    return -1;
}

TEST_F(Client, HeaderCallbackSeesTheHeadAndMayDropTheRequest) {
    RawServer srv({{kOk}});
    evhttp_connection *c = connect(srv.port());
    evhttp_request *r = request();
    evhttp_request_set_header_cb(r, refuse_head);
    expect_get_fails(c, EVREQ_HTTP_EOF, r);
    evhttp_connection_free(c);
}

void cancel_later(evutil_socket_t, short, void *arg) {
    evhttp_cancel_request(static_cast<evhttp_request *>(arg));
}

TEST_F(Client, CancelInFlightRunsOnlyTheErrorCallback) {
    RawServer srv({{""}, {kOk}});
    evhttp_connection *c = connect(srv.port());
    evhttp_request *r = request();
    ASSERT_EQ(evhttp_make_request(c, r, EVHTTP_REQ_GET, "/slow"), 0);
    evhttp_request *queued = request();
    ASSERT_EQ(evhttp_make_request(c, queued, EVHTTP_REQ_GET, "/q"), 0);
    evhttp_request *second = request();
    ASSERT_EQ(evhttp_make_request(c, second, EVHTTP_REQ_GET, "/next"), 0);
    evhttp_cancel_request(queued);  // not started: just leaves the queue
    timeval tv{0, 200000};
    event_base_once(base, -1, EV_TIMEOUT, cancel_later, r, &tv);
    run_loop(base);
    EXPECT_EQ(seen.errors, std::vector<int>{EVREQ_HTTP_REQUEST_CANCEL});
    EXPECT_EQ(seen.calls, 1);  // the next request, on a new connection
    EXPECT_EQ(seen.body, "hello");
    evhttp_connection_free(c);
    ASSERT_EQ(srv.requests.size(), 2u);
    EXPECT_EQ(srv.requests[1].at(0), "GET /next HTTP/1.1\r\n\r\n");
}

void never(evhttp_request *, void *) { ADD_FAILURE() << "callback of a freed connection"; }

TEST_F(Client, FreeingTheConnectionDropsQueuedRequestsSilently) {
    RawServer srv({{""}});
    evhttp_connection *c = connect(srv.port());
    ASSERT_EQ(evhttp_make_request(c, evhttp_request_new(never, nullptr), EVHTTP_REQ_GET, "/"), 0);
    ASSERT_EQ(evhttp_make_request(c, evhttp_request_new(never, nullptr), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base, 0);
    timeval tv{0, 200000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    evhttp_connection_free(c);
    run_loop(base, 0);
}

struct FreeInCb {
    Seen *seen;
    evhttp_connection *c;
};

void free_in_cb(evhttp_request *req, void *arg) {
    auto *f = static_cast<FreeInCb *>(arg);
    f->seen->code = evhttp_request_get_response_code(req);
    f->seen->calls++;
    evhttp_connection_free(f->c);
    event_base_loopexit(f->seen->base, nullptr);
}

TEST_F(Client, TheConnectionMayBeFreedInsideTheRequestCallback) {
    RawServer srv({{kOk}});
    FreeInCb f{&seen, connect(srv.port())};
    ASSERT_EQ(evhttp_make_request(f.c, evhttp_request_new(free_in_cb, &f), EVHTTP_REQ_GET, "/"),
              0);
    run_loop(base);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.code, 200);
}

void keep(evhttp_request *req, void *arg) {
    evhttp_request_own(req);
    *static_cast<evhttp_request **>(arg) = req;
}

TEST_F(Client, AnOwnedRequestOutlivesItsCallback) {
    RawServer srv({{kOk}});
    evhttp_connection *c = connect(srv.port());
    evhttp_request *got = nullptr;
    ASSERT_EQ(evhttp_make_request(c, evhttp_request_new(keep, &got), EVHTTP_REQ_GET, "/"), 0);
    timeval tv{0, 300000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(evhttp_request_get_response_code(got), 200);
    EXPECT_EQ(evbuffer_get_length(evhttp_request_get_input_buffer(got)), 5u);
    evhttp_request_free(got);
    evhttp_connection_free(c);
}

TEST_F(Client, GettersOfAnOutgoingConnection) {
    evhttp_connection *c = evhttp_connection_base_new(base, nullptr, "127.0.0.1", 8080);
    char *addr = nullptr;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(c, &addr, &port);
    EXPECT_STREQ(addr, "127.0.0.1");
    EXPECT_EQ(port, 8080);
    EXPECT_EQ(evhttp_connection_get_server(c), nullptr);
    EXPECT_EQ(evhttp_connection_get_base(c), base);
    EXPECT_NE(evhttp_connection_get_bufferevent(c), nullptr);
    // Not connected yet: libevent gives its (empty) address storage, not NULL.
    const sockaddr *sa = evhttp_connection_get_addr(c);
    ASSERT_NE(sa, nullptr);
    EXPECT_EQ(sa->sa_family, AF_UNSPEC);
    EXPECT_EQ(evhttp_connection_set_flags(c, EVHTTP_CON_REUSE_CONNECTED_ADDR), 0);
    EXPECT_NE(evhttp_connection_set_flags(c, 0x4000), 0);
    evhttp_connection_free(c);
}

TEST_F(Client, LocalAddressAndPortBindTheSocket) {
    RawServer srv({{kOk}});
    evhttp_connection *c = connect(srv.port());
    evhttp_connection_set_local_address(c, "127.0.0.1");
    evhttp_connection_set_family(c, AF_INET);
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.code, 200);
    const sockaddr *sa = evhttp_connection_get_addr(c);
    ASSERT_NE(sa, nullptr);
    EXPECT_EQ(sa->sa_family, AF_INET);
    evhttp_connection_free(c);
}

TEST_F(Client, OneXConnectionOnTheGlobalBaseMovedToAnother) {
    RawServer srv({{kOk}});
    event_base *global = event_init();
    evhttp_connection *c = evhttp_connection_new("127.0.0.1", srv.port());
    ASSERT_NE(c, nullptr);
    evhttp_connection_set_base(c, base);
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.code, 200);
    evhttp_connection_free(c);
    event_base_free(global);
}

void completed(evhttp_request *, void *arg) { ++*static_cast<int *>(arg); }
void answer(evhttp_request *req, void *arg) {
    evhttp_request_set_on_complete_cb(req, completed, arg);
    evhttp_send_reply(req, 200, "OK", nullptr);
}

TEST_F(Client, AgainstTheEvhttpServerWithOnCompleteCallback) {
    evhttp *http = evhttp_new(base);
    evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    ASSERT_NE(bound, nullptr);
    const uint16_t port = httptest::local_port(evhttp_bound_socket_get_fd(bound));
    int completes = 0;
    evhttp_set_gencb(http, answer, &completes);
    evhttp_connection *c = connect(port);
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/x"), 0);
    run_loop(base);
    EXPECT_EQ(seen.code, 200);
    EXPECT_EQ(completes, 1);
    evhttp_connection_free(c);
    evhttp_free(http);
}

void cancel_in_chunk(evhttp_request *req, void *arg) {
    static_cast<Seen *>(arg)->chunk_calls++;
    evhttp_cancel_request(req);
}

TEST_F(Client, CancelInsideTheChunkCallbackStopsTheResponse) {
    RawServer srv({{std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")}});
    evhttp_connection *c = connect(srv.port());
    evhttp_request *r = request();
    evhttp_request_set_chunked_cb(r, cancel_in_chunk);
    ASSERT_EQ(evhttp_make_request(c, r, EVHTTP_REQ_GET, "/"), 0);
    timeval tv{1, 0};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    EXPECT_EQ(seen.chunk_calls, 1);
    EXPECT_EQ(seen.calls, 0);
    EXPECT_EQ(seen.errors, std::vector<int>{EVREQ_HTTP_REQUEST_CANCEL});
    evhttp_connection_free(c);
}

// Never freed by the test: the connection frees itself after the last request (LeakSanitizer
// in the sanitizer build would report it otherwise).
TEST_F(Client, FreeOnCompletionFreesTheConnectionAfterTheLastRequest) {
    RawServer srv({{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"}});
    evhttp_connection *c = connect(srv.port());
    evhttp_connection_set_closecb(c, on_close, &seen);
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    evhttp_connection_free_on_completion(c);
    run_loop(base);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.body, "x");
    EXPECT_EQ(seen.closes, 1);
}

TEST(HttpServerNoBase, EvhttpNewTakesANullBase) {
    evhttp *http = evhttp_new(nullptr);
    ASSERT_NE(http, nullptr);
    EXPECT_EQ(evhttp_set_cb(http, "/t", answer, nullptr), 0);
    EXPECT_EQ(evhttp_set_cb(http, "/t", answer, nullptr), -1);
    evhttp_free(http);
}

TEST_F(Client, UnreachableAddressFailsWithNullAndEof) {
    // An administratively scoped multicast address: connect() fails at once.
    evhttp_connection *c = evhttp_connection_base_new(base, nullptr, "239.10.20.30", 80);
    expect_get_fails(c, EVREQ_HTTP_EOF);
    evhttp_connection_free(c);
}

// A server that answers a request as soon as its head is in, ends its side (FIN) and then
// reads nothing more until the test lets it close: the client is still sending the body.
class EarlyAnswerServer {
public:
    explicit EarlyAnswerServer(std::string answer) : answer_(std::move(answer)) {
        lfd_ = httptest::listen_loopback(&port_);
        th_ = std::thread([this] { run(); });
    }
    ~EarlyAnswerServer() {
        release = true;
        th_.join();
        close(lfd_);
    }
    uint16_t port() const { return port_; }
    std::atomic<bool> release{false};  // the server may close now
    std::atomic<bool> closed{false};   // it did

private:
    void run() {
        pollfd p{lfd_, POLLIN, 0};
        if (poll(&p, 1, 5000) != 1) return;
        int fd = accept(lfd_, nullptr, nullptr);
        std::string head;
        char c;
        while (head.find("\r\n\r\n") == std::string::npos && recv(fd, &c, 1, 0) == 1) head += c;
        send(fd, answer_.data(), answer_.size(), MSG_NOSIGNAL);
        shutdown(fd, SHUT_WR);
        for (int i = 0; i < 500 && !release; ++i) usleep(10000);
        closed = true;
        close(fd);
    }
    std::string answer_;
    int lfd_ = -1;
    uint16_t port_ = 0;
    std::thread th_;
};

TEST_F(Client, ServerAnsweringAndClosingWhileTheBodyIsSentFailsTheRequest) {
    // libevent's client listens for the server's close while it writes the request: the
    // answer that came first is dropped and the request fails with NULL (EOF) at once, not
    // when a write finally fails (the server here reads nothing and keeps its socket).
    EarlyAnswerServer srv(
        "HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    evhttp_connection *c = connect(srv.port());
    evhttp_request *r = request();
    std::string body(16 << 20, 'a');
    evbuffer_add(evhttp_request_get_output_buffer(r), body.data(), body.size());
    ASSERT_EQ(evhttp_make_request(c, r, EVHTTP_REQ_POST, "/"), 0);
    run_loop(base, 3);
    bool server_still_open = !srv.closed;
    srv.release = true;
    expect_failed_with(EVREQ_HTTP_EOF);
    EXPECT_TRUE(server_still_open);
    evhttp_connection_free(c);
}

TEST_F(Client, EvhttpStartServesOnTheCurrentBase) {
    event_base *global = event_init();
    evhttp *http = evhttp_start("127.0.0.1", 0);
    ASSERT_NE(http, nullptr);
    int fd = -1;
    evhttp_foreach_bound_socket(
        http, [](evhttp_bound_socket *b, void *arg) { *static_cast<int *>(arg) = evhttp_bound_socket_get_fd(b); },
        &fd);
    ASSERT_GE(fd, 0);
    const uint16_t port = httptest::local_port(fd);
    int completes = 0;
    evhttp_set_gencb(http, answer, &completes);
    // A second server on the same port cannot bind.
    EXPECT_EQ(evhttp_start("127.0.0.1", port), nullptr);
    seen.base = global;
    evhttp_connection *c =
        evhttp_connection_base_new(global, nullptr, "127.0.0.1", port);
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/x"), 0);
    run_loop(global);
    EXPECT_EQ(seen.code, 200);
    EXPECT_EQ(completes, 1);
    evhttp_connection_free(c);
    evhttp_free(http);
    event_base_free(global);
}

// Reads a request head; with answer_continue sends "100 Continue", reads the announced body
// and answers 200 "ok"; otherwise answers 413 at once. Records what it read.
class ExpectServer {
public:
    explicit ExpectServer(bool answer_continue) : continue_(answer_continue) {
        lfd_ = httptest::listen_loopback(&port_);
        th_ = std::thread([this] { run(); });
    }
    ~ExpectServer() {
        join();
        close(lfd_);
    }
    uint16_t port() const { return port_; }
    std::string head, body;  // what the server read (after join)
    void join() {
        if (th_.joinable()) th_.join();
    }

private:
    void run() {
        pollfd p{lfd_, POLLIN, 0};
        if (poll(&p, 1, 5000) != 1) return;
        int fd = accept(lfd_, nullptr, nullptr);
        char c;
        while (head.find("\r\n\r\n") == std::string::npos && recv(fd, &c, 1, 0) == 1) head += c;
        std::string answer = "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\n\r\n";
        if (continue_) {
            const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
            send(fd, kContinue, sizeof kContinue - 1, MSG_NOSIGNAL);
            size_t want = std::stoul(head.substr(head.find("Content-Length: ") + 16));
            pollfd q{fd, POLLIN, 0};
            while (body.size() < want && poll(&q, 1, 3000) == 1 && recv(fd, &c, 1, 0) == 1)
                body += c;
            answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        }
        send(fd, answer.data(), answer.size(), MSG_NOSIGNAL);
        // Whatever else comes within a moment (nothing, for a client that waits for 100).
        pollfd q{fd, POLLIN, 0};
        char buf[4096];
        ssize_t n;
        while (poll(&q, 1, 300) == 1 && (n = recv(fd, buf, sizeof buf, 0)) > 0)
            body.append(buf, static_cast<size_t>(n));
        close(fd);
    }
    bool continue_;
    int lfd_ = -1;
    uint16_t port_ = 0;
    std::thread th_;
};

TEST_F(Client, ExpectContinueSendsTheBodyOnlyAfterA100) {
    ExpectServer srv(true);
    evhttp_connection *c = connect(srv.port());
    evhttp_request *r = request();
    evhttp_add_header(evhttp_request_get_output_headers(r), "Expect", "100-continue");
    evbuffer_add(evhttp_request_get_output_buffer(r), "hello", 5);
    ASSERT_EQ(evhttp_make_request(c, r, EVHTTP_REQ_POST, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.code, 200);
    EXPECT_EQ(seen.body, "ok");
    evhttp_connection_free(c);
    srv.join();
    EXPECT_EQ(srv.head, "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    EXPECT_EQ(srv.body, "hello");
}

TEST_F(Client, ExpectContinueRefusedAtOnceNeverSendsTheBody) {
    ExpectServer srv(false);
    evhttp_connection *c = connect(srv.port());
    evhttp_request *r = request();
    evhttp_add_header(evhttp_request_get_output_headers(r), "Expect", "100-continue");
    evbuffer_add(evhttp_request_get_output_buffer(r), "hello", 5);
    ASSERT_EQ(evhttp_make_request(c, r, EVHTTP_REQ_POST, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.code, 413);
    evhttp_connection_free(c);
    srv.join();
    EXPECT_EQ(srv.body, "");
}

TEST_F(Client, UnsentRestOfAFailedRequestIsDroppedNotSentOnTheNextConnection) {
    // Connection 1: the server reads the head and closes with the body unread (a reset);
    // connection 2 must start with the next request's own line.
    uint16_t port = 0;
    int lfd = httptest::listen_loopback(&port);
    std::string second;
    std::thread th([&] {
        for (int conn = 0; conn < 2; ++conn) {
            pollfd p{lfd, POLLIN, 0};
            if (poll(&p, 1, 5000) != 1) return;
            int fd = accept(lfd, nullptr, nullptr);
            std::string head;
            char c;
            pollfd q{fd, POLLIN, 0};
            while (head.find("\r\n\r\n") == std::string::npos && poll(&q, 1, 3000) == 1 &&
                   recv(fd, &c, 1, 0) == 1)
                head += c;
            if (conn == 1) {
                second = head;
                const char kAnswer[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                send(fd, kAnswer, sizeof kAnswer - 1, MSG_NOSIGNAL);
                poll(&q, 1, 1000);  // until the client closes
            }
            close(fd);
        }
    });
    evhttp_connection *c = connect(port);
    evhttp_request *r = request();
    std::string body(16 << 20, 'a');
    evbuffer_add(evhttp_request_get_output_buffer(r), body.data(), body.size());
    ASSERT_EQ(evhttp_make_request(c, r, EVHTTP_REQ_POST, "/first"), 0);
    run_loop(base);
    EXPECT_TRUE(seen.null_req);
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/second"), 0);
    run_loop(base);
    EXPECT_EQ(seen.code, 200);
    evhttp_connection_free(c);
    th.join();
    close(lfd);
    EXPECT_EQ(second.substr(0, 24), "GET /second HTTP/1.1\r\n\r\n");
}

}  // namespace

namespace {

void release_server(evutil_socket_t, short, void *arg) {
    static_cast<EarlyAnswerServer *>(arg)->release = true;
}

const char kEarly413[] =
    "HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

// Posts 16 MiB with r on c to srv, which answers before it has read them and ends the
// connection (unread bytes: a reset) 300 ms later; runs the loop meanwhile.
void post_to_early_answer_server(event_base *base, evhttp_connection *c, evhttp_request *r,
                                 EarlyAnswerServer &srv) {
    std::string body(16 << 20, 'a');
    evbuffer_add(evhttp_request_get_output_buffer(r), body.data(), body.size());
    ASSERT_EQ(evhttp_make_request(c, r, EVHTTP_REQ_POST, "/"), 0);
    event *ev = evtimer_new(base, release_server, &srv);
    timeval later{0, 300000};
    evtimer_add(ev, &later);
    run_loop(base, 4);
    event_free(ev);
}

void set_flags_on_incoming(evhttp_request *req, void *arg) {
    evhttp_connection *in = evhttp_request_get_connection(req);
    static_cast<std::vector<int> *>(arg)->push_back(
        evhttp_connection_set_flags(in, EVHTTP_CON_READ_ON_WRITE_ERROR));
    evhttp_send_reply(req, HTTP_OK, "OK", nullptr);
}

}  // namespace

TEST_F(Client, ReadOnWriteErrorReadsTheAnswerOfAServerThatClosedDuringTheBody) {
    // With the flag, the failed write is followed by a read: the 413 the server sent before
    // it ended the connection reaches the request callback instead of NULL.
    EarlyAnswerServer srv(kEarly413);
    evhttp_connection *c = connect(srv.port());
    ASSERT_EQ(evhttp_connection_set_flags(c, EVHTTP_CON_READ_ON_WRITE_ERROR), 0);
    post_to_early_answer_server(base, c, request(), srv);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_FALSE(seen.null_req);
    EXPECT_EQ(seen.code, 413);
    EXPECT_EQ(seen.line, "Request Entity Too Large");
    EXPECT_TRUE(seen.errors.empty());
    evhttp_connection_free(c);
}

TEST_F(Client, WithoutReadOnWriteErrorTheSameServerFailsTheRequest) {
    EarlyAnswerServer srv(kEarly413);
    evhttp_connection *c = connect(srv.port());
    post_to_early_answer_server(base, c, request(), srv);
    expect_failed_with(EVREQ_HTTP_EOF);
    evhttp_connection_free(c);
}

TEST_F(Client, SetFlagsTakesTheTwoConnectionFlagsOnly) {
    evhttp_connection *c = connect(80);
    EXPECT_EQ(evhttp_connection_set_flags(c, 0), 0);
    EXPECT_EQ(evhttp_connection_set_flags(c, EVHTTP_CON_READ_ON_WRITE_ERROR), 0);
    EXPECT_EQ(evhttp_connection_set_flags(
                  c, EVHTTP_CON_READ_ON_WRITE_ERROR | EVHTTP_CON_REUSE_CONNECTED_ADDR),
              0);
    // Anything else, the lingering-close flag included, is refused with 1.
    EXPECT_EQ(evhttp_connection_set_flags(c, EVHTTP_CON_LINGERING_CLOSE), 1);
    EXPECT_EQ(evhttp_connection_set_flags(c, 0x0100), 1);
    EXPECT_EQ(evhttp_connection_set_flags(c, EVHTTP_CON_READ_ON_WRITE_ERROR | 0x0004), 1);
    evhttp_connection_free(c);
}

TEST_F(Client, SetFlagsOnAnIncomingConnectionTakesReadOnWriteError) {
    evhttp *http = evhttp_new(base);
    evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    ASSERT_NE(bound, nullptr);
    const uint16_t port = httptest::local_port(evhttp_bound_socket_get_fd(bound));
    std::vector<int> results;
    evhttp_set_gencb(http, set_flags_on_incoming, &results);
    evhttp_connection *c = connect(port);
    ASSERT_EQ(evhttp_make_request(c, request(), EVHTTP_REQ_GET, "/"), 0);
    run_loop(base);
    EXPECT_EQ(seen.code, 200);
    EXPECT_EQ(results, std::vector<int>{0});
    evhttp_connection_free(c);
    evhttp_free(http);
}
