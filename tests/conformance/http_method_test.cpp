// Request methods of the evhttp server, and the client's reading of an interim 100 response.
//
// Server: raw request lines with methods libevent 2.1.12 knows and ones it does not
// ("FOO", lower-case "get", the WebDAV names that only 2.2 knows), sent with the allowed
// methods at their default, narrowed, and widened to all 16 bits; the answer bytes (Date
// masked) and what the callback saw (the method read from evhttp_request_get_command and from
// the public `type` member, the body) are compared on both libraries and every backend.
// Client: a raw server answers `Expect: 100-continue` with a 100 carrying Content-Length
// and/or Transfer-Encoding before the real answer.
//
// The value 1 << 15 that an unknown method gets lies outside the value range C++ gives
// enum evhttp_cmd_type, so the test never loads it as the enum: it copies the member's
// bytes, and calls the two enum-typed functions through C helpers (http_method_c.c).
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backend_fixture.h"
#include "http_test_util.h"

namespace {

}  // namespace

// http_method_c.c: the two enum-typed functions called from C with integers.
extern "C" unsigned conf_http_get_command(const struct evhttp_request *req);
extern "C" int conf_http_make_request(struct evhttp_connection *evcon, struct evhttp_request *req,
                                      unsigned method, const char *uri);

namespace {

// The method as a number, from the getter and from the member, never held in the enum.
unsigned command_of(const evhttp_request *req) { return conf_http_get_command(req); }
unsigned type_member_of(const evhttp_request *req) {
    unsigned v = 0;
    static_assert(sizeof req->type == sizeof v);
    std::memcpy(&v, &req->type, sizeof v);
    return v;
}

// Replies with what it saw: which callback, the method both ways, the body.
void seen_cb(evhttp_request *req, void *arg) {
    evbuffer *b = evbuffer_new();
    evbuffer *in = evhttp_request_get_input_buffer(req);
    evbuffer_add_printf(b, "%s cmd=%u type=%u uri=%s body=%zu:", static_cast<const char *>(arg),
                        command_of(req), type_member_of(req), evhttp_request_get_uri(req),
                        evbuffer_get_length(in));
    evbuffer_add_buffer(b, in);
    evhttp_send_reply(req, HTTP_OK, "OK", b);
    evbuffer_free(b);
}

class HttpMethods : public conf::BackendTest {
protected:
    void SetUp() override {
        conf::BackendTest::SetUp();
        http_ = evhttp_new(base());
        ASSERT_NE(http_, nullptr);
        port_ = httptest::bind_loopback(http_);
        ASSERT_GT(port_, 0);
        evhttp_set_cb(http_, "/path", seen_cb, const_cast<char *>("path"));
    }
    void TearDown() override {
        if (http_) evhttp_free(http_);
        conf::BackendTest::TearDown();
    }

    // Sends request on a fresh connection (a thread with a blocking socket) while the loop
    // runs here; the answer with the Date masked.
    std::string exchange(const std::string &request, int idle_ms = 250) {
        return httptest::exchange_while_looping(base(), port_, request, idle_ms);
    }

    evhttp *http_ = nullptr;
    int port_ = 0;
};

// The allowed methods a case runs with.
enum class Allowed { by_default, get_only, all_bits };

struct Case {
    const char *name;
    Allowed allowed;
    bool gencb;
    std::string request;
    std::string answer;
};

const std::string k501 =
    "HTTP/1.1 501 Not Implemented\r\n"
    "Content-Type: text/html\r\n"
    "Connection: close\r\n"
    "Date: D\r\n"
    "Content-Length: 102\r\n"
    "\r\n"
    "<HTML><HEAD>\n<TITLE>501 Not Implemented</TITLE>\n</HEAD><BODY>\n"
    "<H1>Not Implemented</H1>\n</BODY></HTML>\n"
    "<closed>";

std::string ok(const std::string &body, const char *tail = "<open>") {
    return "HTTP/1.1 200 OK\r\n"
           "Date: D\r\n"
           "Content-Length: " +
           std::to_string(body.size()) +
           "\r\n"
           "Content-Type: text/html; charset=ISO-8859-1\r\n"
           "\r\n" +
           body + tail;
}

const Case kCases[] = {
    {"unknown_by_default_path", Allowed::by_default, false, "FOO /path HTTP/1.1\r\n\r\n", k501},
    {"unknown_by_default_gencb", Allowed::by_default, true, "FOO /other HTTP/1.1\r\n\r\n", k501},
    {"unknown_get_only", Allowed::get_only, true, "FOO /path HTTP/1.1\r\n\r\n", k501},
    {"unknown_all_bits_path", Allowed::all_bits, false, "FOO /path HTTP/1.1\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"unknown_all_bits_gencb", Allowed::all_bits, true, "FOO /other HTTP/1.1\r\n\r\n",
     ok("gen cmd=32768 type=32768 uri=/other body=0:")},
    {"unknown_all_bits_not_found", Allowed::all_bits, false, "FOO /other HTTP/1.1\r\n\r\n",
     "HTTP/1.1 404 Not Found\r\n"
     "Content-Type: text/html\r\n"
     "Connection: close\r\n"
     "Date: D\r\n"
     "Content-Length: 147\r\n"
     "\r\n"
     "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested "
     "URL /other was not found on this server.</p></body></html>\n"
     "<closed>"},
    {"unknown_all_bits_length_body", Allowed::all_bits, false,
     "FOO /path HTTP/1.1\r\nContent-Length: 2\r\n\r\nab",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"unknown_all_bits_chunked_body", Allowed::all_bits, false,
     "FOO /path HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:", "") +
         "HTTP/1.1 400 Bad Request\r\n"
         "Content-Type: text/html\r\n"
         "Connection: close\r\n"
         "Date: D\r\n"
         "Content-Length: 94\r\n"
         "\r\n"
         "<HTML><HEAD>\n<TITLE>400 Bad Request</TITLE>\n</HEAD><BODY>\n<H1>Bad "
         "Request</H1>\n</BODY></HTML>\n<closed>"},
    {"lower_case_get_is_unknown", Allowed::all_bits, false, "get /path HTTP/1.1\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"lower_case_get_by_default", Allowed::by_default, false, "get /path HTTP/1.1\r\n\r\n", k501},
    {"propfind_is_unknown", Allowed::all_bits, false, "PROPFIND /path HTTP/1.1\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"mkcol_is_unknown", Allowed::all_bits, false, "MKCOL /path HTTP/1.1\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"lock_is_unknown", Allowed::all_bits, false, "LOCK /path HTTP/1.1\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"unlock_is_unknown", Allowed::all_bits, false, "UNLOCK /path HTTP/1.1\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"copy_is_unknown", Allowed::all_bits, false, "COPY /path HTTP/1.1\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"move_is_unknown", Allowed::all_bits, false, "MOVE /path HTTP/1.1\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"proppatch_is_unknown", Allowed::all_bits, false, "PROPPATCH /path HTTP/1.1\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"punctuation_method", Allowed::all_bits, false, "F(O /path HTTP/1.1\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"unknown_http_1_0", Allowed::all_bits, false, "FOO /path HTTP/1.0\r\n\r\n",
     "HTTP/1.0 200 OK\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "path cmd=32768 type=32768 uri=/path body=0:<closed>"},
    {"get_with_body_all_bits", Allowed::all_bits, false,
     "GET /path HTTP/1.1\r\nContent-Length: 2\r\n\r\nab",
     ok("path cmd=1 type=1 uri=/path body=2:ab")},
    {"options_with_body", Allowed::all_bits, false,
     "OPTIONS /path HTTP/1.1\r\nContent-Length: 2\r\n\r\nab",
     ok("path cmd=32 type=32 uri=/path body=2:ab")},
    {"delete_with_body", Allowed::all_bits, false,
     "DELETE /path HTTP/1.1\r\nContent-Length: 2\r\n\r\nab",
     ok("path cmd=16 type=16 uri=/path body=2:ab")},
    {"connect_with_body", Allowed::all_bits, true,
     "CONNECT h:1 HTTP/1.1\r\nContent-Length: 2\r\n\r\nab",
     "HTTP/1.1 200 OK\r\nDate: D\r\n\r\ngen cmd=128 type=128 uri=h:1 body=2:ab<open>"},
    {"connect_no_body", Allowed::all_bits, true, "CONNECT h:1 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 200 OK\r\nDate: D\r\n\r\ngen cmd=128 type=128 uri=h:1 body=0:<open>"},
    {"connect_1_0", Allowed::all_bits, true, "CONNECT h:1 HTTP/1.0\r\n\r\n",
     "HTTP/1.0 200 OK\r\n\r\ngen cmd=128 type=128 uri=h:1 body=0:<closed>"},
    {"connect_keepalive_1_0", Allowed::all_bits, true,
     "CONNECT h:1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
     "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\ngen cmd=128 type=128 uri=h:1 body=0:<open>"},
    {"connect_path_cb", Allowed::all_bits, false, "CONNECT /path HTTP/1.1\r\n\r\n",
     "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nConnection: close\r\nDate: D\r\n\r\n"
     "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested "
     "URL /path was not found on this server.</p></body></html>\n<open>"},
    {"unknown_keepalive_1_0", Allowed::all_bits, false,
     "FOO /path HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
     "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 43\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n\r\n"
     "path cmd=32768 type=32768 uri=/path body=0:<open>"},
    {"connect_asking_close", Allowed::all_bits, true,
     "CONNECT h:1 HTTP/1.1\r\nConnection: close\r\n\r\n",
     "HTTP/1.1 200 OK\r\nDate: D\r\nConnection: close\r\n\r\n"
     "gen cmd=128 type=128 uri=h:1 body=0:<open>"},
    {"trace_with_body", Allowed::all_bits, false,
     "TRACE /path HTTP/1.1\r\nContent-Length: 2\r\n\r\nab",
     ok("path cmd=64 type=64 uri=/path body=0:")},
    {"patch_with_body", Allowed::all_bits, false,
     "PATCH /path HTTP/1.1\r\nContent-Length: 2\r\n\r\nab",
     ok("path cmd=256 type=256 uri=/path body=2:ab")},
    // Expect is looked at only for a method whose body is read: no 100, no 417 otherwise.
    {"unknown_expect_continue", Allowed::all_bits, false,
     "FOO /path HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"unknown_expect_other", Allowed::all_bits, false,
     "FOO /path HTTP/1.1\r\nExpect: foo\r\n\r\n",
     ok("path cmd=32768 type=32768 uri=/path body=0:")},
    {"head_expect_other", Allowed::all_bits, false,
     "HEAD /path HTTP/1.1\r\nExpect: foo\r\n\r\n",
     "HTTP/1.1 200 OK\r\nDate: D\r\n\r\npath cmd=4 type=4 uri=/path body=0:<open>"},
    {"trace_expect_continue", Allowed::all_bits, false,
     "TRACE /path HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
     ok("path cmd=64 type=64 uri=/path body=0:")},
    {"options_all_bits", Allowed::all_bits, false, "OPTIONS /path HTTP/1.1\r\n\r\n",
     ok("path cmd=32 type=32 uri=/path body=0:")},
    {"trace_all_bits", Allowed::all_bits, false, "TRACE /path HTTP/1.1\r\n\r\n",
     ok("path cmd=64 type=64 uri=/path body=0:")},
    {"patch_all_bits", Allowed::all_bits, false, "PATCH /path HTTP/1.1\r\n\r\n",
     ok("path cmd=256 type=256 uri=/path body=0:")},
};

// Every case at once: each on a server of its own (set up as the case says, as SetUp sets
// up http_) and its own connection, so that the 250 ms idle waits overlap.
TEST_P(HttpMethods, RawExchangesMatchLibevent) {
    std::vector<evhttp *> servers;
    std::vector<std::pair<int, std::string>> requests;
    for (const Case &c : kCases) {
        evhttp *h = evhttp_new(base());
        ASSERT_NE(h, nullptr);
        servers.push_back(h);
        const int port = httptest::bind_loopback(h);
        ASSERT_GT(port, 0) << c.name;
        evhttp_set_cb(h, "/path", seen_cb, const_cast<char *>("path"));
        evhttp_set_allowed_methods(h, c.allowed == Allowed::by_default
                                          ? EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                                EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE
                                      : c.allowed == Allowed::get_only ? EVHTTP_REQ_GET
                                                                       : 0xffff);
        evhttp_set_gencb(h, c.gencb ? seen_cb : nullptr, const_cast<char *>("gen"));
        requests.emplace_back(port, c.request);
    }
    const std::vector<std::string> answers = httptest::exchanges_while_looping(base(), requests);
    for (evhttp *h : servers) evhttp_free(h);
    for (size_t i = 0; i < std::size(kCases); ++i) {
        const Case &c = kCases[i];
        SCOPED_TRACE(c.name);
        const std::string &got = answers[i];
        EXPECT_EQ(got, c.answer);
        if (std::getenv("CONF_HTTP_DUMP")) {
            std::printf("@@%s\n", c.name);
            for (char ch : got) {
                if (ch == '\r') std::printf("\\r");
                else if (ch == '\n') std::printf("\\n");
                else if (ch == '"') std::printf("\\\"");
                else std::putchar(ch);
            }
            std::printf("\n");
        }
    }
}

// A reply in chunks (evhttp_send_reply_start/_chunk/_end) to CONNECT and to an unknown
// method (the latter chunked as any other method's).
void chunks_cb(evhttp_request *req, void *) {
    evhttp_send_reply_start(req, HTTP_OK, "OK");
    evbuffer *b = evbuffer_new();
    evbuffer_add(b, "abc", 3);
    evhttp_send_reply_chunk(req, b);
    evbuffer_add(b, "defg", 4);
    evhttp_send_reply_chunk(req, b);
    evhttp_send_reply_end(req);
    evbuffer_free(b);
}

TEST_P(HttpMethods, ChunkedReplies) {
    evhttp_set_allowed_methods(http_, 0xffff);
    evhttp_set_gencb(http_, chunks_cb, nullptr);
    std::string connect = exchange("CONNECT h:1 HTTP/1.1\r\n\r\n");
    std::string unknown = exchange("FOO /x HTTP/1.1\r\n\r\n");
    // CONNECT: the head alone; the chunks are dropped, as a HEAD reply's are.
    EXPECT_EQ(connect, "HTTP/1.1 200 OK\r\nDate: D\r\n\r\n<open>");
    EXPECT_EQ(unknown,
              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nDate: D\r\n"
              "Content-Type: text/html; charset=ISO-8859-1\r\n\r\n"
              "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n<open>");
}

// The allowed methods that count are those of the server the connection came to, not of
// the virtual host that serves the request.
TEST_P(HttpMethods, VirtualHostsUseTheirParentsAllowedMethods) {
    evhttp *vhost = evhttp_new(base());
    ASSERT_NE(vhost, nullptr);
    evhttp_set_gencb(vhost, seen_cb, const_cast<char *>("vhost"));
    ASSERT_EQ(evhttp_add_virtual_host(http_, "v.test", vhost), 0);
    evhttp_set_allowed_methods(http_, 0xffff);
    evhttp_set_allowed_methods(vhost, EVHTTP_REQ_GET);
    std::string a = exchange("FOO /x HTTP/1.1\r\nHost: v.test\r\n\r\n");
    evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET);
    evhttp_set_allowed_methods(vhost, 0xffff);
    std::string b = exchange("FOO /x HTTP/1.1\r\nHost: v.test\r\n\r\n");
    EXPECT_EQ(a,
              "HTTP/1.1 200 OK\r\nDate: D\r\nContent-Length: 41\r\n"
              "Content-Type: text/html; charset=ISO-8859-1\r\n\r\n"
              "vhost cmd=32768 type=32768 uri=/x body=0:<open>");
    EXPECT_EQ(b, k501);
}

CONF_INSTANTIATE_BACKENDS(HttpMethods);

// ---- the client: an interim 100 carrying a body framing ---------------------------------

// Answers one request: reads the head, sends `interim` (a 100 with some headers), reads the
// announced body, then sends the final answer and collects anything more for a moment.
class InterimServer {
public:
    explicit InterimServer(std::string interim) : interim_(std::move(interim)) {
        lfd_ = httptest::listen_loopback(&port_);
        th_ = std::thread([this] { run(); });
    }
    ~InterimServer() {
        join();
        close(lfd_);
    }
    uint16_t port() const { return port_; }
    void join() {
        if (th_.joinable()) th_.join();
    }
    std::string head, body;  // what the server read (after join)

private:
    void run() {
        pollfd p{lfd_, POLLIN, 0};
        if (poll(&p, 1, 5000) != 1) return;
        int fd = accept(lfd_, nullptr, nullptr);
        char c;
        pollfd q{fd, POLLIN, 0};
        while (head.find("\r\n\r\n") == std::string::npos && poll(&q, 1, 3000) == 1 &&
               recv(fd, &c, 1, 0) == 1)
            head += c;
        send(fd, interim_.data(), interim_.size(), MSG_NOSIGNAL);
        while (body.size() < 5 && poll(&q, 1, 1000) == 1 && recv(fd, &c, 1, 0) == 1) body += c;
        const char kFinal[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Final: 1\r\n\r\nok";
        send(fd, kFinal, sizeof kFinal - 1, MSG_NOSIGNAL);
        char buf[4096];
        ssize_t n;
        while (poll(&q, 1, 300) == 1 && (n = recv(fd, buf, sizeof buf, 0)) > 0)
            body.append(buf, static_cast<size_t>(n));
        close(fd);
    }
    std::string interim_;
    int lfd_ = -1;
    uint16_t port_ = 0;
    std::thread th_;
};

struct Outcome {
    event_base *base = nullptr;
    std::string text;  // "code=.. line=.. headers=.. body=.." or "null"; then "err=N"s
};

void outcome_done(evhttp_request *req, void *arg) {
    auto *o = static_cast<Outcome *>(arg);
    if (!req) {
        o->text += "null";
    } else {
        o->text += "code=" + std::to_string(evhttp_request_get_response_code(req)) + " headers=";
        for (evkeyval *kv = evhttp_request_get_input_headers(req)->tqh_first; kv;
             kv = kv->next.tqe_next)
            o->text += std::string(kv->key) + ":" + kv->value + ";";
        evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t n = evbuffer_get_length(in);
        o->text += " body=" + std::string(reinterpret_cast<char *>(evbuffer_pullup(in, -1)), n);
    }
    event_base_loopexit(o->base, nullptr);
}

void outcome_error(evhttp_request_error e, void *arg) {
    static_cast<Outcome *>(arg)->text += "err=" + std::to_string(static_cast<int>(e)) + " ";
}

struct InterimCase {
    const char *name;
    std::string interim;
    std::string outcome;      // what the request callback saw
    std::string server_body;  // what the server read after the head
};

const InterimCase kInterims[] = {
    {"plain", "HTTP/1.1 100 Continue\r\n\r\n",
     "code=200 headers=Content-Length:2;X-Final:1; body=ok",
     "hello"},
    {"with_length_0", "HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n", 
     "code=200 headers=Content-Length:0;Content-Length:2;X-Final:1; body=", "hello"},
    {"with_length_7", "HTTP/1.1 100 Continue\r\nContent-Length: 7\r\n\r\n", 
     "err=1 null", "hello"},
    {"with_chunked", "HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\n\r\n", 
     "err=2 null", "hello"},
    {"with_both",
     "HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
     
     "err=2 null", ""},
    {"with_length_2", "HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\n", 
     "code=200 headers=Content-Length:2;Content-Length:2;X-Final:1; body=ok", "hello"},
    {"with_bad_length", "HTTP/1.1 100 Continue\r\nContent-Length: x\r\n\r\n", 
     "err=2 null", "hello"},
    {"with_te_gzip", "HTTP/1.1 100 Continue\r\nTransfer-Encoding: gzip\r\n\r\n", 
     "err=2 null", "hello"},
    {"with_te_gzip_chunked", "HTTP/1.1 100 Continue\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 
     "err=2 null", "hello"},
    {"with_te_chunked_gzip", "HTTP/1.1 100 Continue\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 
     "err=2 null", ""},
    {"http_1_0_with_length", "HTTP/1.0 100 Continue\r\nContent-Length: 0\r\n\r\n", 
     "code=200 headers=Content-Length:0;Content-Length:2;X-Final:1; body=", "hello"},
    {"processing_102", "HTTP/1.1 102 Processing\r\nContent-Length: 0\r\n\r\n", 
     "code=102 headers=Content-Length:0; body=", ""},
    {"with_other_header", "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n", 
     "code=200 headers=X-Interim:1;Content-Length:2;X-Final:1; body=ok", "hello"},
};

TEST(HttpInterim, HundredContinueWithABodyFraming) {
    for (const InterimCase &ic : kInterims) {
        SCOPED_TRACE(ic.name);
        event_base *base = event_base_new();
        ASSERT_NE(base, nullptr);
        InterimServer srv(ic.interim);
        evhttp_connection *c = evhttp_connection_base_new(base, nullptr, "127.0.0.1", srv.port());
        Outcome o;
        o.base = base;
        evhttp_request *r = evhttp_request_new(outcome_done, &o);
        evhttp_request_set_error_cb(r, outcome_error);
        evhttp_add_header(evhttp_request_get_output_headers(r), "Expect", "100-continue");
        evbuffer_add(evhttp_request_get_output_buffer(r), "hello", 5);
        ASSERT_EQ(evhttp_make_request(c, r, EVHTTP_REQ_POST, "/"), 0);
        timeval tv{5, 0};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
        evhttp_connection_free(c);
        srv.join();
        EXPECT_EQ(o.text, ic.outcome);
        EXPECT_EQ(srv.body, ic.server_body);
        if (std::getenv("CONF_HTTP_DUMP"))
            std::printf("@@%s\n%s\n[%s]\n", ic.name, o.text.c_str(), srv.body.c_str());
        event_base_free(base);
    }
}

// evhttp_make_request with a method outside enum evhttp_cmd_type's names (libevent's
// unknown 1 << 15, no bit, two bits): the request line names the method "NULL".
TEST(HttpClientMethods, RequestWithAMethodOutsideTheNamesSaysNull) {
    for (unsigned bits : {1u << 15, 0u, 3u, 1u << 9}) {
        SCOPED_TRACE(bits);
        event_base *base = event_base_new();
        ASSERT_NE(base, nullptr);
        InterimServer srv("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        evhttp_connection *c = evhttp_connection_base_new(base, nullptr, "127.0.0.1", srv.port());
        Outcome o;
        o.base = base;
        evhttp_request *r = evhttp_request_new(outcome_done, &o);
        evbuffer_add(evhttp_request_get_output_buffer(r), "hello", 5);
        ASSERT_EQ(conf_http_make_request(c, r, bits, "/u"), 0);
        timeval tv{5, 0};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
        evhttp_connection_free(c);
        srv.join();
        EXPECT_EQ(o.text, "code=200 headers=Content-Length:0; body=");
        EXPECT_EQ(srv.head, "NULL /u HTTP/1.1\r\n\r\n");
        EXPECT_EQ(srv.body, "hello");
        if (std::getenv("CONF_HTTP_DUMP"))
            std::printf("@@%u\n%s\n[%s][%s]\n", bits, o.text.c_str(), srv.head.c_str(),
                        srv.body.c_str());
        event_base_free(base);
    }
}

// The response to a CONNECT request made by the client has no body, Content-Length or not.
TEST(HttpClientMethods, ResponseToConnect) {
    event_base *base = event_base_new();
    ASSERT_NE(base, nullptr);
    InterimServer srv("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    evhttp_connection *c = evhttp_connection_base_new(base, nullptr, "127.0.0.1", srv.port());
    Outcome o;
    o.base = base;
    evhttp_request *r = evhttp_request_new(outcome_done, &o);
    evhttp_request_set_error_cb(r, outcome_error);
    ASSERT_EQ(evhttp_make_request(c, r, EVHTTP_REQ_CONNECT, "h:1"), 0);
    timeval tv{5, 0};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
    evhttp_connection_free(c);
    srv.join();
    // The body is not read: what follows the head belongs to the tunnel.
    EXPECT_EQ(o.text, "code=200 headers=Content-Length:5; body=");
    EXPECT_EQ(srv.head, "CONNECT h:1 HTTP/1.1\r\n\r\n");
    event_base_free(base);
}

}  // namespace
