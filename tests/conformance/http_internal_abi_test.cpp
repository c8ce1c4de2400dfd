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

#include "differences.h"
#include "http_test_util.h"

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
    // libevent's private EVHTTP_REQ_UNKNOWN_, read as bytes (outside C++'s enum range).
    unsigned type = 0;
    std::memcpy(&type, &req->type, sizeof type);
    EXPECT_EQ(type, 1u << 15);
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

// CONNECT's target is an authority ("host:port"), not a URI reference: host and port, no
// scheme, an empty path; whatever follows a '/', '?' or '#' is ignored.
struct ConnectTarget {
    const char *line;
    int result;
    const char *host;
    int port;
};

TEST_F(Parse, ConnectTargetIsAnAuthority) {
    const ConnectTarget cases[] = {
        {"CONNECT example.com:443 HTTP/1.1\r\n", ALL_DATA_READ, "example.com", 443},
        {"CONNECT example.com HTTP/1.1\r\n", ALL_DATA_READ, "example.com", -1},
        {"CONNECT [::1]:8080 HTTP/1.1\r\n", ALL_DATA_READ, "[::1]", 8080},
        {"CONNECT host:1/path HTTP/1.1\r\n", ALL_DATA_READ, "host", 1},
        {"CONNECT host:1?q HTTP/1.1\r\n", ALL_DATA_READ, "host", 1},
        {"CONNECT h:1#frag HTTP/1.1\r\n", ALL_DATA_READ, "h", 1},
        {"CONNECT h: HTTP/1.1\r\n", ALL_DATA_READ, "h", -1},
        {"CONNECT :80 HTTP/1.1\r\n", ALL_DATA_READ, "", 80},
        {"CONNECT /x HTTP/1.1\r\n", ALL_DATA_READ, "", -1},
        {"CONNECT http://h:1/ HTTP/1.1\r\n", ALL_DATA_READ, "http", -1},
        {"CONNECT * HTTP/1.1\r\n", ALL_DATA_READ, "*", -1},
        {"CONNECT a%20b:1 HTTP/1.1\r\n", ALL_DATA_READ, "a%20b", 1},
        {"CONNECT host:abc HTTP/1.1\r\n", DATA_CORRUPTED, nullptr, 0},
        {"CONNECT h:99999 HTTP/1.1\r\n", DATA_CORRUPTED, nullptr, 0},
        {"CONNECT [::1 HTTP/1.1\r\n", DATA_CORRUPTED, nullptr, 0},
    };
    for (const ConnectTarget &c : cases) {
        SCOPED_TRACE(c.line);
        evhttp_request *r = evhttp_request_new(nullptr, nullptr);
        r->kind = EVHTTP_REQUEST;
        evbuffer *b = evbuffer_new();
        evbuffer_add(b, c.line, strlen(c.line));
        ASSERT_EQ(evhttp_parse_firstline_(r, b), c.result);
        EXPECT_EQ(evhttp_request_get_command(r), EVHTTP_REQ_CONNECT);
        if (c.result == ALL_DATA_READ) {
            std::string target(c.line + 8, strchr(c.line + 8, ' '));
            EXPECT_EQ(evhttp_request_get_uri(r), target);
            const evhttp_uri *u = evhttp_request_get_evhttp_uri(r);
            ASSERT_NE(u, nullptr);
            EXPECT_EQ(evhttp_uri_get_scheme(u), nullptr);
            EXPECT_STREQ(evhttp_uri_get_host(u), c.host);
            EXPECT_EQ(evhttp_uri_get_port(u), c.port);
            EXPECT_STREQ(evhttp_uri_get_path(u), "");
            EXPECT_EQ(evhttp_uri_get_query(u), nullptr);
            EXPECT_EQ(evhttp_uri_get_fragment(u), nullptr);
            EXPECT_EQ(evhttp_uri_get_userinfo(u), nullptr);
            EXPECT_STREQ(evhttp_request_get_host(r), c.host);
            EXPECT_EQ(r->flags & EVHTTP_PROXY_REQUEST, 0);
            char joined[64];
            EXPECT_EQ(std::string(evhttp_uri_join(const_cast<evhttp_uri *>(u), joined, sizeof joined)),
                      std::string("//") + c.host + (c.port >= 0 ? ":" + std::to_string(c.port) : ""));
        }
        evbuffer_free(b);
        evhttp_request_free(r);
    }
}

// A userinfo in a CONNECT target is read too; libevent cuts the request's uri at its '@'
// (it parses the uri text in place), reevent keeps the target whole.
TEST_F(Parse, ConnectTargetWithUserinfo) {
    ASSERT_EQ(first(EVHTTP_REQUEST, "CONNECT user@host:1 HTTP/1.1\r\n"), ALL_DATA_READ);
    const evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    EXPECT_STREQ(evhttp_uri_get_userinfo(u), "user");
    EXPECT_STREQ(evhttp_uri_get_host(u), "host");
    EXPECT_EQ(evhttp_uri_get_port(u), 1);
    EXPECT_STREQ(evhttp_request_get_uri(req), conf::kConnectUriKeepsUserinfo ? "user@host:1" : "user");
}

// Only the upper-case method is CONNECT; other spellings are unknown methods whose target
// is an ordinary URI reference.
TEST_F(Parse, LowerCaseConnectIsAnUnknownMethod) {
    ASSERT_EQ(first(EVHTTP_REQUEST, "connect h:1 HTTP/1.1\r\n"), ALL_DATA_READ);
    // libevent's unknown 1 << 15, read as bytes (outside C++'s range of the enum).
    unsigned type = 0;
    std::memcpy(&type, &req->type, sizeof type);
    EXPECT_EQ(type, 1u << 15);
    EXPECT_STREQ(evhttp_uri_get_scheme(evhttp_request_get_evhttp_uri(req)), "h");
    EXPECT_STREQ(evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)), "1");
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
    uint16_t port = 0;
    int fd = httptest::listen_loopback(&port);
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

// evhttp_connection_fail_ on an incoming connection whose request the program holds: a
// timeout or the end of the stream drops the connection without a word (the request stays
// the program's, detached); any other error answers 400, or 413 for DATA_TOO_LONG, closing.
struct HttpIncomingFail : ::testing::TestWithParam<evhttp_request_error> {
    event_base *base = event_base_new();
    evhttp *http = evhttp_new(base);
    evhttp_request *held = nullptr;
    uint16_t port = 0;
    int client = -1;

    void SetUp() override {
        evhttp_bound_socket *b = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
        ASSERT_NE(b, nullptr);
        port = httptest::local_port(evhttp_bound_socket_get_fd(b));
        evhttp_set_gencb(
            http, [](evhttp_request *r, void *arg) { *static_cast<evhttp_request **>(arg) = r; },
            &held);
    }
    void TearDown() override {
        if (client >= 0) close(client);
        evhttp_free(http);
        event_base_free(base);
    }
    // Sends a request and runs the loop until the program holds it.
    void hold(const std::string &request) {
        client = httptest::connect_loopback(port);
        ASSERT_GE(client, 0);
        ASSERT_EQ(send(client, request.data(), request.size(), MSG_NOSIGNAL),
                  static_cast<ssize_t>(request.size()));
        for (int i = 0; i < 2000 && !held; ++i) {
            event_base_loop(base, EVLOOP_NONBLOCK);
            usleep(1000);
        }
        ASSERT_NE(held, nullptr);
    }
    // What the client reads until the server closes ("<closed>") or 2 s pass ("<open>").
    std::string answer() {
        std::string out;
        for (int i = 0; i < 2000; ++i) {
            event_base_loop(base, EVLOOP_NONBLOCK);
            char buf[1024];
            ssize_t n = recv(client, buf, sizeof buf, MSG_DONTWAIT);
            if (n == 0) return out + "<closed>";
            if (n > 0) out.append(buf, static_cast<size_t>(n));
            else usleep(1000);
        }
        return out + "<open>";
    }
};

TEST_P(HttpIncomingFail, HeldRequest) {
    hold("GET /held HTTP/1.1\r\nHost: a\r\n\r\n");
    evhttp_connection *evcon = evhttp_request_get_connection(held);
    ASSERT_NE(evcon, nullptr);
    evhttp_connection_fail_(evcon, GetParam());
    std::string got = answer();
    if (GetParam() == EVREQ_HTTP_TIMEOUT || GetParam() == EVREQ_HTTP_EOF) {
        EXPECT_EQ(got, "<closed>");
        // Still the program's: no connection, and its reply only frees it.
        EXPECT_EQ(evhttp_request_get_connection(held), nullptr);
        evhttp_send_reply(held, HTTP_OK, "OK", nullptr);
        return;
    }
    const bool too_long = GetParam() == EVREQ_HTTP_DATA_TOO_LONG;
    const std::string status = too_long ? "413 Request Entity Too Large" : "400 Bad Request";
    const std::string page = "<HTML><HEAD>\n<TITLE>" + status + "</TITLE>\n</HEAD><BODY>\n<H1>" +
                             status.substr(4) + "</H1>\n</BODY></HTML>\n";
    EXPECT_EQ(got.substr(0, got.find("\r\n")), "HTTP/1.1 " + status);
    EXPECT_NE(got.find("\r\nConnection: close\r\n"), std::string::npos);
    EXPECT_NE(got.find("\r\nContent-Type: text/html\r\n"), std::string::npos);
    EXPECT_NE(got.find("\r\nContent-Length: " + std::to_string(page.size()) + "\r\n"),
              std::string::npos);
    ASSERT_GE(got.size(), page.size() + 8);
    EXPECT_EQ(got.substr(got.size() - page.size() - 8), page + "<closed>");
}

INSTANTIATE_TEST_SUITE_P(Errors, HttpIncomingFail,
                         ::testing::Values(EVREQ_HTTP_TIMEOUT, EVREQ_HTTP_EOF,
                                           EVREQ_HTTP_INVALID_HEADER, EVREQ_HTTP_BUFFER_ERROR,
                                           EVREQ_HTTP_REQUEST_CANCEL, EVREQ_HTTP_DATA_TOO_LONG));

// libevent 2.1's private struct evhttp has its list of live connections at offset 48 (after
// the vhost link and the socket and callback lists); programs, libevent's regress suite among
// them, read TAILQ_FIRST of it to see whether the server still holds a connection.
struct HttpServerLayout : HttpIncomingFail {
    void *first_connection() {
        void *first;
        std::memcpy(&first, reinterpret_cast<const char *>(http) + 48, sizeof first);
        return first;
    }
};

TEST_F(HttpServerLayout, ConnectionListHeadIsWhereLibeventHasIt) {
    EXPECT_EQ(first_connection(), nullptr);
    hold("GET /held HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(first_connection(), static_cast<void *>(evhttp_request_get_connection(held)));
    evhttp_send_reply(held, HTTP_OK, "OK", nullptr);
    std::string got = answer();
    EXPECT_EQ(got.substr(0, got.find("\r\n")), "HTTP/1.1 200 OK");
    EXPECT_EQ(got.substr(got.size() - 8), "<closed>");
    EXPECT_EQ(first_connection(), nullptr);
}

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
