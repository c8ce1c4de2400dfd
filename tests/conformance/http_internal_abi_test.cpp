// libevent_extra's four exported internal http names (no public header declares them; the
// prototypes and the read-status values below are those of libevent 2.1.12's .so): the
// first-line and header parsers, the URI decoder and the connection-failure entry point,
// called as libevent's regress suite and some programs call them.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

extern "C" {
enum message_read_status {
    ALL_DATA_READ = 1,
    MORE_DATA_EXPECTED = 0,
    DATA_CORRUPTED = -1,
    REQUEST_CANCELED = -2,
    DATA_TOO_LONG = -3
};
enum message_read_status evhttp_parse_firstline_(struct evhttp_request *, struct evbuffer *);
enum message_read_status evhttp_parse_headers_(struct evhttp_request *, struct evbuffer *);
int evhttp_decode_uri_internal(const char *uri, size_t length, char *ret, int decode_plus);
void evhttp_connection_fail_(struct evhttp_connection *, enum evhttp_request_error error);
}

namespace {

// A request of the given kind and a buffer holding text.
struct Parse : ::testing::Test {
    evhttp_request *req = evhttp_request_new(nullptr, nullptr);
    evbuffer *buf = evbuffer_new();
    ~Parse() override {
        evhttp_request_free(req);
        evbuffer_free(buf);
    }
    void feed(const std::string &text) { evbuffer_add(buf, text.data(), text.size()); }
    std::string rest() {
        std::string s(evbuffer_get_length(buf), '\0');
        evbuffer_copyout(buf, s.data(), s.size());
        return s;
    }
    int first(enum evhttp_request_kind kind, const std::string &text) {
        req->kind = kind;
        feed(text);
        return evhttp_parse_firstline_(req, buf);
    }
    std::string header(const char *key) {
        const char *v = evhttp_find_header(req->input_headers, key);
        return v ? v : "(none)";
    }
};

TEST_F(Parse, NewRequestIsAResponse) { EXPECT_EQ(req->kind, EVHTTP_RESPONSE); }

TEST_F(Parse, ResponseLine) {
    EXPECT_EQ(first(EVHTTP_RESPONSE, "HTTP/1.1 404 Not Found\r\nX: y\r\n"), ALL_DATA_READ);
    EXPECT_EQ(req->response_code, 404);
    EXPECT_STREQ(req->response_code_line, "Not Found");
    EXPECT_EQ(req->major, 1);
    EXPECT_EQ(req->minor, 1);
    EXPECT_EQ(req->headers_size, strlen("HTTP/1.1 404 Not Found"));
    EXPECT_EQ(rest(), "X: y\r\n");  // only the line is drained
}

TEST_F(Parse, ResponseLineWithoutReasonHasAnEmptyOne) {
    EXPECT_EQ(first(EVHTTP_RESPONSE, "HTTP/1.0 200\n"), ALL_DATA_READ);
    EXPECT_EQ(req->response_code, 200);
    EXPECT_STREQ(req->response_code_line, "");
    EXPECT_EQ(req->minor, 0);
}

TEST_F(Parse, ResponseLineWithTrailingSpace) {
    EXPECT_EQ(first(EVHTTP_RESPONSE, "HTTP/1.1 200 OK \r\n"), ALL_DATA_READ);
    EXPECT_STREQ(req->response_code_line, "OK ");
}

TEST_F(Parse, ResponseLineCorrupted) {
    EXPECT_EQ(first(EVHTTP_RESPONSE, "garbage\r\n"), DATA_CORRUPTED);
}
TEST_F(Parse, ResponseCodeZeroIsCorrupted) {
    EXPECT_EQ(first(EVHTTP_RESPONSE, "HTTP/1.1 abc OK\r\n"), DATA_CORRUPTED);
}
TEST_F(Parse, ResponseVersionAboveOneIsCorrupted) {
    EXPECT_EQ(first(EVHTTP_RESPONSE, "HTTP/2.0 200 OK\r\n"), DATA_CORRUPTED);
}

TEST_F(Parse, PartialLineWantsMore) {
    EXPECT_EQ(first(EVHTTP_RESPONSE, "HTTP/1.1 200 O"), MORE_DATA_EXPECTED);
    EXPECT_EQ(rest(), "HTTP/1.1 200 O");  // nothing taken
    feed("K\r\n");
    EXPECT_EQ(evhttp_parse_firstline_(req, buf), ALL_DATA_READ);
    EXPECT_STREQ(req->response_code_line, "OK");
}

TEST_F(Parse, RequestLine) {
    EXPECT_EQ(first(EVHTTP_REQUEST, "POST /a/b?c=d HTTP/1.0\r\n"), ALL_DATA_READ);
    EXPECT_EQ(req->type, EVHTTP_REQ_POST);
    EXPECT_STREQ(req->uri, "/a/b?c=d");
    EXPECT_STREQ(evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)), "/a/b");
    EXPECT_EQ(req->major, 1);
    EXPECT_EQ(req->minor, 0);
    EXPECT_EQ(rest(), "");
}

TEST_F(Parse, RequestLineWithAnUnknownMethodIsRead) {
    EXPECT_EQ(first(EVHTTP_REQUEST, "FROB / HTTP/1.1\r\n"), ALL_DATA_READ);
    EXPECT_STREQ(req->uri, "/");
}

TEST_F(Parse, RequestLineTooShortOrWithoutVersionIsCorrupted) {
    EXPECT_EQ(first(EVHTTP_REQUEST, "GET /\r\n"), DATA_CORRUPTED);
}
TEST_F(Parse, RequestLineBadVersionIsCorrupted) {
    EXPECT_EQ(first(EVHTTP_REQUEST, "GET /index HTTP/x.y\r\n"), DATA_CORRUPTED);
}
TEST_F(Parse, ResponseLineReadAsARequestIsCorrupted) {
    EXPECT_EQ(first(EVHTTP_REQUEST, "HTTP/1.1 200 OK\r\n"), DATA_CORRUPTED);
}

TEST_F(Parse, Headers) {
    feed("Content-Type: text/plain\r\nX-Multi: one\r\n  two \r\n\tthree\r\nEmpty:\r\n\r\nbody");
    EXPECT_EQ(evhttp_parse_headers_(req, buf), ALL_DATA_READ);
    EXPECT_EQ(header("Content-Type"), "text/plain");
    EXPECT_EQ(header("X-Multi"), "one two three");
    EXPECT_EQ(header("Empty"), "");
    EXPECT_EQ(rest(), "body");
}

TEST_F(Parse, HeadersCountTheirSize) {
    feed("A: b\r\n\r\n");
    EXPECT_EQ(evhttp_parse_headers_(req, buf), ALL_DATA_READ);
    EXPECT_EQ(req->headers_size, 4u);
}

TEST_F(Parse, HeadersInPieces) {
    feed("A: 1\r\nB: ");
    EXPECT_EQ(evhttp_parse_headers_(req, buf), MORE_DATA_EXPECTED);
    EXPECT_EQ(header("A"), "1");
    EXPECT_EQ(rest(), "B: ");
    feed("2\r\n\r\n");
    EXPECT_EQ(evhttp_parse_headers_(req, buf), ALL_DATA_READ);
    EXPECT_EQ(header("B"), "2");
}

TEST_F(Parse, HeaderWithoutColonIsCorrupted) {
    feed("Good: yes\r\nno colon here\r\n\r\n");
    EXPECT_EQ(evhttp_parse_headers_(req, buf), DATA_CORRUPTED);
    EXPECT_EQ(header("Good"), "yes");
}

TEST_F(Parse, ContinuationWithoutAHeaderIsCorrupted) {
    feed(" lonely\r\n\r\n");
    EXPECT_EQ(evhttp_parse_headers_(req, buf), DATA_CORRUPTED);
}

TEST(HttpDecodeUriInternal, PlusModes) {
    const char *in = "a+b?c+d%20e";
    char out[32];
    EXPECT_EQ(evhttp_decode_uri_internal(in, strlen(in), out, 0), 9);
    EXPECT_STREQ(out, "a+b?c+d e");
    EXPECT_EQ(evhttp_decode_uri_internal(in, strlen(in), out, 1), 9);
    EXPECT_STREQ(out, "a b?c d e");
    EXPECT_EQ(evhttp_decode_uri_internal(in, strlen(in), out, -1), 9);
    EXPECT_STREQ(out, "a+b?c d e");
    EXPECT_EQ(evhttp_decode_uri_internal(in, strlen(in), out, 2), 9);  // only 1 decodes
    EXPECT_STREQ(out, "a+b?c+d e");
}

TEST(HttpDecodeUriInternal, BadEscapesStay) {
    char out[32];
    EXPECT_EQ(evhttp_decode_uri_internal("%zz%4", 5, out, 0), 5);
    EXPECT_STREQ(out, "%zz%4");
    EXPECT_EQ(evhttp_decode_uri_internal("%41%4a%00x", 10, out, 0), 4);
    EXPECT_EQ(std::string(out, 4), std::string("AJ\0x", 4));
}

TEST(HttpDecodeUriInternal, OnlyLengthBytesAreRead) {
    char out[8];
    EXPECT_EQ(evhttp_decode_uri_internal("%41%42", 4, out, 0), 2);  // "%4" cut: kept
    EXPECT_STREQ(out, "A%");
}

// A listening socket that accepts and never answers.
struct Silent {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    uint16_t port = 0;
    Silent() {
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin);
        listen(fd, 8);
        socklen_t len = sizeof sin;
        getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len);
        port = ntohs(sin.sin_port);
    }
    ~Silent() { close(fd); }
};

struct Seen {
    int done = 0, errors = 0;
    evhttp_request *got = reinterpret_cast<evhttp_request *>(1);
    evhttp_request_error err = EVREQ_HTTP_TIMEOUT;
};

void on_done(evhttp_request *req, void *arg) {
    auto *s = static_cast<Seen *>(arg);
    ++s->done;
    s->got = req;
}
void on_error(evhttp_request_error e, void *arg) {
    auto *s = static_cast<Seen *>(arg);
    ++s->errors;
    s->err = e;
}

struct Fail : ::testing::TestWithParam<evhttp_request_error> {};

TEST_P(Fail, RequestInFlightGetsTheError) {
    Silent server;
    event_base *base = event_base_new();
    evhttp_connection *evcon = evhttp_connection_base_new(base, nullptr, "127.0.0.1", server.port);
    Seen seen;
    evhttp_request *req = evhttp_request_new(on_done, &seen);
    evhttp_request_set_error_cb(req, on_error);
    ASSERT_EQ(evhttp_make_request(evcon, req, EVHTTP_REQ_GET, "/"), 0);
    for (int i = 0; i < 5; ++i) event_base_loop(base, EVLOOP_NONBLOCK);
    evhttp_connection_fail_(evcon, GetParam());
    EXPECT_EQ(seen.errors, 1);
    EXPECT_EQ(seen.err, GetParam());
    if (GetParam() == EVREQ_HTTP_REQUEST_CANCEL) {
        EXPECT_EQ(seen.done, 0);  // a cancelled request's callback does not run
    } else {
        EXPECT_EQ(seen.done, 1);
        EXPECT_EQ(seen.got, nullptr);
    }
    evhttp_connection_free(evcon);
    event_base_free(base);
}

INSTANTIATE_TEST_SUITE_P(Errors, Fail,
                         ::testing::Values(EVREQ_HTTP_TIMEOUT, EVREQ_HTTP_EOF,
                                           EVREQ_HTTP_INVALID_HEADER, EVREQ_HTTP_BUFFER_ERROR,
                                           EVREQ_HTTP_REQUEST_CANCEL, EVREQ_HTTP_DATA_TOO_LONG));

// With a connection, its max headers size bounds the head.
TEST(HttpParseLimits, ConnectionMaxHeadersSize) {
    Silent server;
    event_base *base = event_base_new();
    evhttp_connection *evcon = evhttp_connection_base_new(base, nullptr, "127.0.0.1", server.port);
    evhttp_connection_set_max_headers_size(evcon, 20);
    evhttp_request *req = evhttp_request_new(on_done, nullptr);
    ASSERT_EQ(evhttp_make_request(evcon, req, EVHTTP_REQ_GET, "/"), 0);
    req->kind = EVHTTP_RESPONSE;
    evbuffer *buf = evbuffer_new();
    evbuffer_add_printf(buf, "HTTP/1.1 200 A very long reason\r\n");
    EXPECT_EQ(evhttp_parse_firstline_(req, buf), DATA_TOO_LONG);
    evbuffer_drain(buf, evbuffer_get_length(buf));
    evbuffer_add_printf(buf, "HTTP/1.1 200 the line goes on and on");
    EXPECT_EQ(evhttp_parse_firstline_(req, buf), DATA_TOO_LONG);
    evbuffer_drain(buf, evbuffer_get_length(buf));
    evbuffer_add_printf(buf, "HTTP/1.1 200 OK\r\n");
    EXPECT_EQ(evhttp_parse_firstline_(req, buf), ALL_DATA_READ);
    evbuffer_add_printf(buf, "Abc: d\r\n");
    EXPECT_EQ(evhttp_parse_headers_(req, buf), DATA_TOO_LONG);  // 15 + 6 > 20
    evbuffer_free(buf);
    evhttp_connection_free(evcon);
    event_base_free(base);
}

}  // namespace
