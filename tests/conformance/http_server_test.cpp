// The HTTP server of <event2/http.h>: raw requests sent on a TCP socket and the raw bytes
// of the answer compared (the Date header masked), on both libraries and every backend;
// then the settings, the callbacks, bound sockets, connections and request ownership.
// The client runs on its own thread with blocking sockets; the loop runs on the test's
// thread, so no libevent call crosses threads.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <evhttp.h>  // the 1.x header: evhttp_request_uri
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "backend_fixture.h"
#include "http_test_util.h"

namespace {

// The layout programs compile against (transmission reads the members directly).
static_assert(sizeof(evhttp_request) == 216);
static_assert(offsetof(evhttp_request, evcon) == 16);
static_assert(offsetof(evhttp_request, flags) == 24);
static_assert(offsetof(evhttp_request, input_headers) == 32);
static_assert(offsetof(evhttp_request, output_headers) == 40);
static_assert(offsetof(evhttp_request, remote_host) == 48);
static_assert(offsetof(evhttp_request, remote_port) == 56);
static_assert(offsetof(evhttp_request, host_cache) == 64);
static_assert(offsetof(evhttp_request, kind) == 72);
static_assert(offsetof(evhttp_request, type) == 76);
static_assert(offsetof(evhttp_request, headers_size) == 80);
static_assert(offsetof(evhttp_request, body_size) == 88);
static_assert(offsetof(evhttp_request, uri) == 96);
static_assert(offsetof(evhttp_request, uri_elems) == 104);
static_assert(offsetof(evhttp_request, major) == 112);
static_assert(offsetof(evhttp_request, minor) == 113);
static_assert(offsetof(evhttp_request, response_code) == 116);
static_assert(offsetof(evhttp_request, response_code_line) == 120);
static_assert(offsetof(evhttp_request, input_buffer) == 128);
static_assert(offsetof(evhttp_request, ntoread) == 136);
static_assert(offsetof(evhttp_request, output_buffer) == 152);
static_assert(offsetof(evhttp_request, cb) == 160);
static_assert(offsetof(evhttp_request, cb_arg) == 168);
static_assert(offsetof(evhttp_request, chunk_cb) == 176);
static_assert(offsetof(evhttp_request, header_cb) == 184);
static_assert(offsetof(evhttp_request, error_cb) == 192);
static_assert(offsetof(evhttp_request, on_complete_cb) == 200);
static_assert(offsetof(evhttp_request, on_complete_cb_arg) == 208);

std::string s(const char *p) { return p ? p : "(null)"; }

int connect_to(int port) { return httptest::connect_loopback(static_cast<uint16_t>(port)); }
int local_port(int fd) { return httptest::local_port(fd); }
using httptest::error_page;
using httptest::kBadRequestPage;
using httptest::mask_date;
using httptest::read_all;

// The echo callback: what the server parsed, as text.
void echo_cb(evhttp_request *req, void *) {
    evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "type=%d uri=%s ver=%d.%d host=%s rh=%s rp=%s path=%s query=%s\n",
                        static_cast<int>(evhttp_request_get_command(req)),
                        s(evhttp_request_get_uri(req)).c_str(), req->major, req->minor,
                        s(evhttp_request_get_host(req)).c_str(), s(req->remote_host).c_str(),
                        req->remote_port > 0 ? "set" : "0",
                        s(evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req))).c_str(),
                        s(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req))).c_str());
    for (evkeyval *kv = evhttp_request_get_input_headers(req)->tqh_first; kv;
         kv = kv->next.tqe_next)
        evbuffer_add_printf(b, "[%s]=[%s]\n", kv->key, kv->value);
    evbuffer *in = evhttp_request_get_input_buffer(req);
    evbuffer_add_printf(b, "body=%zu:", evbuffer_get_length(in));
    evbuffer_add_buffer(b, in);
    evhttp_send_reply(req, HTTP_OK, "OK", b);
    evbuffer_free(b);
}

void error_cb(evhttp_request *req, void *arg) {
    evhttp_send_error(req, static_cast<int>(reinterpret_cast<intptr_t>(arg)), nullptr);
}

void reason_cb(evhttp_request *req, void *) { evhttp_send_error(req, 500, "oops <b>"); }

void chunks_cb(evhttp_request *req, void *) {
    evhttp_send_reply_start(req, HTTP_OK, "OK");
    evbuffer *b = evbuffer_new();
    evbuffer_add(b, "abc", 3);
    evhttp_send_reply_chunk(req, b);
    evhttp_send_reply_chunk(req, b);  // empty: nothing is sent
    evbuffer_add(b, "defg", 4);
    evhttp_send_reply_chunk(req, b);
    evhttp_send_reply_end(req);
    evbuffer_free(b);
}

void status_cb(evhttp_request *req, void *arg) {
    evbuffer *b = evbuffer_new();
    evbuffer_add(b, "xyz", 3);
    evhttp_send_reply(req, static_cast<int>(reinterpret_cast<intptr_t>(arg)), nullptr, b);
    evbuffer_free(b);
}

class HttpServer : public conf::BackendTest {
protected:
    void SetUp() override {
        conf::BackendTest::SetUp();
        http_ = evhttp_new(base());
        ASSERT_NE(http_, nullptr);
        bound_ = evhttp_bind_socket_with_handle(http_, "127.0.0.1", 0);
        ASSERT_NE(bound_, nullptr);
        port_ = local_port(evhttp_bound_socket_get_fd(bound_));
        ASSERT_GT(port_, 0);
        evhttp_set_cb(http_, "/echo", echo_cb, nullptr);
        evhttp_set_cb(http_, "/err403", error_cb, reinterpret_cast<void *>(intptr_t{403}));
        evhttp_set_cb(http_, "/reason", reason_cb, nullptr);
        evhttp_set_cb(http_, "/chunks", chunks_cb, nullptr);
        evhttp_set_cb(http_, "/s204", status_cb, reinterpret_cast<void *>(intptr_t{204}));
        evhttp_set_cb(http_, "/s304", status_cb, reinterpret_cast<void *>(intptr_t{304}));
        evhttp_set_cb(http_, "/s100", status_cb, reinterpret_cast<void *>(intptr_t{100}));
        evhttp_set_cb(http_, "/s299", status_cb, reinterpret_cast<void *>(intptr_t{299}));
    }
    void TearDown() override {
        if (http_) evhttp_free(http_);
        conf::BackendTest::TearDown();
    }

    // Runs the loop while client() runs on another thread.
    void with_client(const std::function<void()> &client) {
        std::atomic<bool> done{false};
        std::thread t([&] {
            client();
            done = true;
        });
        while (!done) {
            event_base_loop(base(), EVLOOP_NONBLOCK);
            usleep(500);
        }
        t.join();
        for (int i = 0; i < 5; ++i) event_base_loop(base(), EVLOOP_NONBLOCK);
    }

    // Sends request on a fresh connection; the answer with the Date masked (read_all: the
    // first byte may take first_ms, later ones idle_ms).
    std::string exchange(const std::string &request, int idle_ms = 250, int first_ms = 3000) {
        std::string out;
        with_client([&] {
            int fd = connect_to(port_);
            if (fd < 0) return;
            send(fd, request.data(), request.size(), MSG_NOSIGNAL);
            out = read_all(fd, idle_ms, first_ms);
            close(fd);
        });
        return mask_date(out);
    }

    evhttp *http_ = nullptr;
    evhttp_bound_socket *bound_ = nullptr;
    int port_ = 0;
};

// evhttp's own error pages for a 403, a 413 and a 501.
const std::string kForbiddenPage = error_page("403 Forbidden", "Forbidden");
const std::string k413 = error_page("413 Request Entity Too Large", "Request Entity Too Large");
const std::string kNotImplementedPage = error_page("501 Not Implemented", "Not Implemented");

struct Exchange {
    const char *name;
    std::string request;
    std::string answer;
};

const Exchange kExchanges[] = {
    {"get_1_1", "GET /echo HTTP/1.1\r\nHost: a\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 94\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.1 host=a rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "[Host]=[a]\n"
     "body=0:<open>"},
    {"get_1_0_closes", "GET /echo?x=1 HTTP/1.0\r\n\r\n",
     "HTTP/1.0 200 OK\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo?x=1 ver=1.0 host=(null) rh=127.0.0.1 rp=set path=/echo query=x=1\n"
     "body=0:<closed>"},
    {"get_1_0_keepalive", "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
     "HTTP/1.0 200 OK\r\n"
     "Connection: keep-alive\r\n"
     "Content-Length: 114\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.0 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "[Connection]=[keep-alive]\n"
     "body=0:<open>"},
    {"get_1_1_close", "GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 109\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "Connection: close\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "[Connection]=[close]\n"
     "body=0:<closed>"},
    {"close_among_tokens_is_not_close", "GET /echo HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 121\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "[Connection]=[keep-alive, close]\n"
     "body=0:<open>"},
    {"head_gets_no_length_but_the_body", "HEAD /echo HTTP/1.1\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "\r\n"
     "type=4 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "body=0:<open>"},
    {"not_found", "GET /none HTTP/1.1\r\n\r\n",
     "HTTP/1.1 404 Not Found\r\n"
     "Content-Type: text/html\r\n"
     "Connection: close\r\n"
     "Date: D\r\n"
     "Content-Length: 146\r\n"
     "\r\n"
     "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL /none was not found on this server.</p></body></html>\n"
     "<closed>"},
    {"not_found_escapes_and_answers_1_1", "GET /none?<a> HTTP/1.0\r\n\r\n",
     "HTTP/1.1 404 Not Found\r\n"
     "Content-Type: text/html\r\n"
     "Connection: close\r\n"
     "Date: D\r\n"
     "Content-Length: 156\r\n"
     "\r\n"
     "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL /none?&lt;a&gt; was not found on this server.</p></body></html>\n"
     "<closed>"},
    {"options_not_allowed", "OPTIONS /echo HTTP/1.1\r\n\r\n", kNotImplementedPage},
    {"trace_not_allowed", "TRACE /echo HTTP/1.1\r\n\r\n", kNotImplementedPage},
    {"unknown_method", "FOO /echo HTTP/1.1\r\n\r\n", kNotImplementedPage},
    {"methods_are_case_sensitive", "get /echo HTTP/1.1\r\n\r\n", kNotImplementedPage},
    {"trailing_spaces_after_version", "GET /echo HTTP/1.1  \r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 88\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "body=0:<open>"},
    {"version_0_9", "GET /echo HTTP/0.9\r\n\r\n",
     "HTTP/0.9 200 OK\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=0.9 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "body=0:<closed>"},
    {"version_1_2", "GET /echo HTTP/1.2\r\n\r\n",
     "HTTP/1.2 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 88\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.2 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "body=0:<open>"},
    {"version_junk_after", "GET /echo HTTP/1.1x\r\n\r\n", kBadRequestPage},
    {"shorter_than_get_slash", "GET / HTTP/1\r\n\r\n", kBadRequestPage},
    {"version_2_0", "GET /echo HTTP/2.0\r\n\r\n", kBadRequestPage},
    {"bad_protocol", "GET /echo HTTX/1.1\r\n\r\n", kBadRequestPage},
    {"no_version", "GET /echo\r\n\r\n", kBadRequestPage},
    {"leading_empty_line", "\r\nGET /echo HTTP/1.1\r\n\r\n", kBadRequestPage},
    {"header_without_colon", "GET /echo HTTP/1.1\r\nbad header\r\n\r\n", kBadRequestPage},
    {"continuation_lines_and_trimming", "GET /echo HTTP/1.1\r\nA: b\r\n c\r\n\td\r\nE:f\r\nG:   h  \r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 116\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "[A]=[b c d]\n"
     "[E]=[f]\n"
     "[G]=[h]\n"
     "body=0:<open>"},
    {"empty_key_and_value", "GET /echo HTTP/1.1\r\n: v\r\nK:\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 102\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "[]=[v]\n"
     "[K]=[]\n"
     "body=0:<open>"},
    {"bare_lf_line_ends", "GET /echo HTTP/1.1\n\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 88\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "body=0:<open>"},
    {"post_content_length", "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 114\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=2 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "[Content-Length]=[5]\n"
     "body=5:hello<open>"},
    {"put_content_length", "PUT /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nab",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 111\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=8 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "[Content-Length]=[2]\n"
     "body=2:ab<open>"},
    {"get_with_body", "GET /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 112\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "[Content-Length]=[3]\n"
     "body=3:abc<open>"},
    {"post_without_length", "POST /echo HTTP/1.1\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 88\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=2 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "body=0:<open>"},
    {"bad_content_length", "POST /echo HTTP/1.1\r\nContent-Length: x5\r\n\r\nhello", kBadRequestPage},
    {"negative_content_length", "POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n", kBadRequestPage},
    {"chunked_body_trailer_dropped", "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 123\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=2 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "[Transfer-Encoding]=[chunked]\n"
     "body=5:abcde<open>"},
    {"chunk_extension_refused", "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2;ext\r\nde\r\n0\r\n\r\n", k413},
    {"bad_chunk_size", "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", k413},
    {"expect_100_continue", "POST /echo HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
     "HTTP/1.1 100 Continue\r\n"
     "\r\n"
     "<open>"},
    {"expect_other", "POST /echo HTTP/1.1\r\nExpect: foo\r\nContent-Length: 1\r\n\r\n",
     error_page("417 Expectation Failed", "Expectation Failed")},
    {"pipelined_in_order", "GET /echo HTTP/1.1\r\n\r\nGET /echo?2 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 88\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "body=0:HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 85\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo?2 ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=2\n"
     "body=0:<open>"},
    {"pipelined_1_0_keepalive_then_close", "GET /echo HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET /echo HTTP/1.0\r\n\r\n",
     "HTTP/1.0 200 OK\r\n"
     "Connection: keep-alive\r\n"
     "Content-Length: 114\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.0 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "[Connection]=[Keep-Alive]\n"
     "body=0:HTTP/1.0 200 OK\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.0 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "body=0:<closed>"},
    {"absolute_uri_is_a_proxy_request", "GET http://host.example:99/echo?q HTTP/1.1\r\nHost: other\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 128\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=http://host.example:99/echo?q ver=1.1 host=host.example rh=127.0.0.1 rp=set path=/echo query=q\n"
     "[Host]=[other]\n"
     "body=0:<closed>"},
    {"host_header_without_port", "GET /echo HTTP/1.1\r\nHost: Other:80\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 105\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo ver=1.1 host=Other rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "[Host]=[Other:80]\n"
     "body=0:<open>"},
    {"path_is_matched_decoded", "GET /e%63ho HTTP/1.1\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 92\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/e%63ho ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/e%63ho query=(null)\n"
     "body=0:<open>"},
    {"fragment_is_ignored_for_matching", "GET /echo#frag HTTP/1.1\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "Content-Length: 93\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "type=1 uri=/echo#frag ver=1.1 host=(null) rh=127.0.0.1 rp=set path=/echo query=(null)\n"
     "body=0:<open>"},
    {"trailing_slash_is_another_path", "GET /echo/ HTTP/1.1\r\n\r\n",
     "HTTP/1.1 404 Not Found\r\n"
     "Content-Type: text/html\r\n"
     "Connection: close\r\n"
     "Date: D\r\n"
     "Content-Length: 147\r\n"
     "\r\n"
     "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL /echo/ was not found on this server.</p></body></html>\n"
     "<closed>"},
    {"two_spaces_keep_one_in_the_uri", "GET  /echo HTTP/1.1\r\n\r\n",
     "HTTP/1.1 404 Not Found\r\n"
     "Content-Type: text/html\r\n"
     "Connection: close\r\n"
     "Date: D\r\n"
     "Content-Length: 147\r\n"
     "\r\n"
     "<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><p>The requested URL  /echo was not found on this server.</p></body></html>\n"
     "<closed>"},
    {"send_error_standard_phrase", "GET /err403 HTTP/1.1\r\n\r\n", kForbiddenPage},
    {"send_error_1_0_request", "GET /err403 HTTP/1.0\r\n\r\n", kForbiddenPage},
    {"send_error_reason_as_given", "GET /reason HTTP/1.1\r\n\r\n",
     error_page("500 oops <b>", "oops <b>")},
    {"chunked_reply_1_1", "GET /chunks HTTP/1.1\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Transfer-Encoding: chunked\r\n"
     "Date: D\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "3\r\n"
     "abc\r\n"
     "4\r\n"
     "defg\r\n"
     "0\r\n"
     "\r\n"
     "<open>"},
    {"chunked_reply_1_0_is_raw_then_close", "GET /chunks HTTP/1.0\r\n\r\n",
     "HTTP/1.0 200 OK\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "abcdefg<closed>"},
    {"chunked_reply_head", "HEAD /chunks HTTP/1.1\r\n\r\n",
     "HTTP/1.1 200 OK\r\n"
     "Date: D\r\n"
     "\r\n"
     "<open>"},
    {"reply_204", "GET /s204 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 204 No Content\r\n"
     "Date: D\r\n"
     "\r\n"
     "xyz<open>"},
    {"reply_304", "GET /s304 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 304 Not Modified\r\n"
     "Date: D\r\n"
     "\r\n"
     "xyz<open>"},
    {"reply_100", "GET /s100 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 100 Continue\r\n"
     "Date: D\r\n"
     "\r\n"
     "xyz<open>"},
    {"reply_unknown_2xx", "GET /s299 HTTP/1.1\r\n\r\n",
     "HTTP/1.1 299 Success\r\n"
     "Date: D\r\n"
     "Content-Length: 3\r\n"
     "Content-Type: text/html; charset=ISO-8859-1\r\n"
     "\r\n"
     "xyz<open>"},
};

// All exchanges at once, each on its own connection (their 250 ms idle waits overlap).
TEST_P(HttpServer, RawExchangesMatchLibevent) {
    std::vector<std::pair<int, std::string>> requests;
    for (const Exchange &e : kExchanges) requests.emplace_back(port_, e.request);
    const std::vector<std::string> answers = httptest::exchanges_while_looping(base(), requests);
    for (size_t i = 0; i < std::size(kExchanges); ++i) {
        const Exchange &e = kExchanges[i];
        SCOPED_TRACE(e.name);
        const std::string &got = answers[i];
        EXPECT_EQ(got, e.answer);
        if (std::getenv("CONF_HTTP_DUMP")) {
            std::printf("@@%s\n", e.name);
            for (char c : got) {
                if (c == '\r') std::printf("\\r");
                else if (c == '\n') std::printf("\\n");
                else if (c == '"') std::printf("\\\"");
                else std::putchar(c);
            }
            std::printf("\n");
        }
    }
}

CONF_INSTANTIATE_BACKENDS(HttpServer);

// ---- settings, callbacks, connections and requests (default backend) --------------------

class HttpServerApi : public HttpServer {};

// What the callbacks saw.
struct Seen {
    event_base *base = nullptr;
    int client_port = 0;
    std::vector<std::string> notes;
    evhttp_request *req = nullptr;
    evhttp_connection *conn = nullptr;
    int closed = 0;
    int chunk_written = 0;
};

// Replies with the query's code through evhttp_send_error: "/code?404".
void code_cb(evhttp_request *req, void *) {
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    evhttp_send_error(req, q ? std::atoi(q) : 0, nullptr);
}

TEST_P(HttpServerApi, ErrorPhrasesFollowRfc2616AndTheCodeClass) {
    evhttp_set_cb(http_, "/code", code_cb, nullptr);
    const std::pair<int, const char *> kPhrases[] = {
        {100, "Continue"}, {101, "Switching Protocols"}, {102, "Informational"},
        {200, "OK"}, {201, "Created"}, {202, "Accepted"},
        {203, "Non-Authoritative Information"}, {204, "No Content"}, {205, "Reset Content"},
        {206, "Partial Content"}, {207, "Success"}, {300, "Multiple Choices"},
        {301, "Moved Permanently"}, {302, "Found"}, {303, "See Other"}, {304, "Not Modified"},
        {305, "Use Proxy"}, {306, "Temporary Redirect"}, {307, "Redirection"},
        {400, "Bad Request"}, {401, "Unauthorized"}, {402, "Payment Required"},
        {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"},
        {406, "Not Acceptable"}, {407, "Proxy Authentication Required"},
        {408, "Request Time-out"}, {409, "Conflict"}, {410, "Gone"}, {411, "Length Required"},
        {412, "Precondition Failed"}, {413, "Request Entity Too Large"},
        {414, "Request-URI Too Large"}, {415, "Unsupported Media Type"},
        {416, "Requested range not satisfiable"}, {417, "Expectation Failed"},
        {418, "Client Error"}, {499, "Client Error"}, {500, "Internal Server Error"},
        {501, "Not Implemented"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
        {504, "Gateway Time-out"}, {505, "HTTP Version not supported"}, {506, "Server Error"},
        {600, "Unknown Status Class"}, {99, "Unknown Status Class"},
    };
    for (auto [code, phrase] : kPhrases) {
        std::string got = exchange("GET /code?" + std::to_string(code) + " HTTP/1.1\r\n\r\n");
        std::string want = "HTTP/1.1 " + std::to_string(code) + " " + phrase + "\r\n";
        EXPECT_EQ(got.substr(0, want.size()), want) << code;
        EXPECT_NE(got.find(std::string("<H1>") + phrase + "</H1>"), std::string::npos) << code;
    }
}

TEST_P(HttpServerApi, DateIsRfc1123InGmt) {
    std::string got;
    with_client([&] {
        int fd = connect_to(port_);
        std::string req = "GET /s299 HTTP/1.1\r\n\r\n";
        send(fd, req.data(), req.size(), MSG_NOSIGNAL);
        got = read_all(fd, 150);
        close(fd);
    });
    size_t at = got.find("\r\nDate: ");
    ASSERT_NE(at, std::string::npos) << got;
    std::string date = got.substr(at + 8, got.find("\r\n", at + 2) - at - 8);
    // e.g. "Sun, 06 Dec 2026 20:13:55 GMT", today's.
    char wday[4], mon[4];
    int mday, year, h, m, sec;
    ASSERT_EQ(std::sscanf(date.c_str(), "%3s, %2d %3s %4d %2d:%2d:%2d GMT", wday, &mday, mon,
                          &year, &h, &m, &sec),
              7)
        << date;
    char want[64];
    time_t now = time(nullptr);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(want, sizeof want, "%d %Y", &tm);
    char have[64];
    std::snprintf(have, sizeof have, "%02d %d", mday, year);
    EXPECT_STREQ(have, want);
    EXPECT_EQ(date.size(), 29u) << date;
}

TEST_P(HttpServerApi, HeaderAndBodyLimits) {
    evhttp_set_max_headers_size(http_, 200);
    evhttp_set_max_body_size(http_, 10);
    auto status = [&](const std::string &req) {
        std::string got = exchange(req);
        return got.substr(0, got.find("\r\n"));
    };
    EXPECT_EQ(status("GET /echo HTTP/1.1\r\nX: " + std::string(300, 'a') + "\r\n\r\n"),
              "HTTP/1.1 400 Bad Request");
    EXPECT_EQ(status("GET /echo HTTP/1.1\r\nX: " + std::string(300, 'a')),
              "HTTP/1.1 400 Bad Request");
    EXPECT_EQ(status("POST /echo HTTP/1.1\r\nContent-Length: 20\r\n\r\n01234567890123456789"),
              "HTTP/1.1 413 Request Entity Too Large");
    EXPECT_EQ(status("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n"
                     "01234567890123456789\r\n0\r\n\r\n"),
              "HTTP/1.1 413 Request Entity Too Large");
    EXPECT_EQ(status("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n012345\r\n"
                     "6\r\n012345\r\n0\r\n\r\n"),
              "HTTP/1.1 413 Request Entity Too Large");
    EXPECT_EQ(status("POST /echo HTTP/1.1\r\nContent-Length: 20\r\nExpect: 100-continue\r\n\r\n"),
              "HTTP/1.1 413 Request Entity Too Large");
    EXPECT_EQ(status("POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"),
              "HTTP/1.1 200 OK");
    // Negative: no limit.
    evhttp_set_max_body_size(http_, -1);
    EXPECT_EQ(status("POST /echo HTTP/1.1\r\nContent-Length: 20\r\n\r\n01234567890123456789"),
              "HTTP/1.1 200 OK");
}

// "/shrink?body" or "/shrink?headers": lowers that limit of the connection.
void shrink_limit_cb(evhttp_request *req, void *) {
    evhttp_connection *conn = evhttp_request_get_connection(req);
    const char *q = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
    if (q && std::strcmp(q, "body") == 0) evhttp_connection_set_max_body_size(conn, 3);
    if (q && std::strcmp(q, "headers") == 0) evhttp_connection_set_max_headers_size(conn, 60);
    evhttp_send_reply(req, 200, "OK", nullptr);
}

TEST_P(HttpServerApi, ConnectionLimitsApplyToItsNextRequests) {
    evhttp_set_cb(http_, "/shrink", shrink_limit_cb, nullptr);
    std::string got = exchange(
        "GET /shrink?body HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_NE(got.find("HTTP/1.1 200 OK"), std::string::npos);
    EXPECT_NE(got.find("HTTP/1.1 413 Request Entity Too Large"), std::string::npos);
    got = exchange("GET /shrink?headers HTTP/1.1\r\n\r\nGET /echo HTTP/1.1\r\nX: " +
                   std::string(100, 'a') + "\r\n\r\n");
    EXPECT_NE(got.find("HTTP/1.1 200 OK"), std::string::npos);
    EXPECT_NE(got.find("HTTP/1.1 400 Bad Request"), std::string::npos);
    // Other connections keep the server's limits.
    got = exchange("POST /echo HTTP/1.1\r\nContent-Length: 5\r\nX: " + std::string(100, 'a') +
                   "\r\n\r\nhello");
    EXPECT_NE(got.find("body=5:hello"), std::string::npos);
}

void drop_cb(evhttp_request *req, void *arg) {
    evhttp_connection *conn = evhttp_request_get_connection(req);
    evhttp_connection_set_closecb(
        conn, [](evhttp_connection *, void *a) { ++static_cast<Seen *>(a)->closed; }, arg);
    evhttp_connection_free(conn);  // frees req too: the program does not own it
}

TEST_P(HttpServerApi, ConnectionFreeClosesWithoutAReply) {
    Seen seen;
    evhttp_set_cb(http_, "/drop", drop_cb, &seen);
    EXPECT_EQ(exchange("GET /drop HTTP/1.1\r\n\r\n", 2000), "<closed>");
    EXPECT_EQ(seen.closed, 1);
    // The server goes on serving.
    EXPECT_EQ(exchange("GET /s299 HTTP/1.1\r\n\r\n").substr(0, 22), "HTTP/1.1 299 Success\r\n");
}

TEST_P(HttpServerApi, CallbacksAddRemoveAndGeneral) {
    EXPECT_EQ(evhttp_set_cb(http_, "/echo", echo_cb, nullptr), -1);
    EXPECT_EQ(evhttp_del_cb(http_, "/nothing"), -1);
    EXPECT_EQ(evhttp_del_cb(http_, "/echo"), 0);
    EXPECT_EQ(evhttp_del_cb(http_, "/echo"), -1);
    EXPECT_EQ(exchange("GET /echo HTTP/1.1\r\n\r\n").substr(0, 22), "HTTP/1.1 404 Not Found");
    int general = 0;
    evhttp_set_gencb(
        http_,
        [](evhttp_request *req, void *arg) {
            ++*static_cast<int *>(arg);
            evhttp_send_reply(req, 202, "Taken", nullptr);
        },
        &general);
    EXPECT_EQ(exchange("GET /echo?x HTTP/1.1\r\n\r\n").substr(0, 20), "HTTP/1.1 202 Taken\r\n");
    EXPECT_EQ(general, 1);
    EXPECT_EQ(evhttp_set_cb(http_, "/echo", echo_cb, nullptr), 0);
    EXPECT_EQ(exchange("GET /echo?x HTTP/1.1\r\n\r\n").substr(0, 17), "HTTP/1.1 200 OK\r\n");
    EXPECT_EQ(general, 1);
}

void vhost_cb(evhttp_request *req, void *) { evhttp_send_reply(req, 200, "vhost", nullptr); }

TEST_P(HttpServerApi, VirtualHostsAndAliases) {
    auto status = [&](const std::string &req) {
        std::string got = exchange(req);
        size_t eol = got.find("\r\n");
        return got.substr(0, eol) + (got.size() >= 6 && got.compare(got.size() - 6, 6, "<open>") == 0
                                         ? " (open)"
                                         : " (closed)");
    };
    evhttp *vhost = evhttp_new(base());
    ASSERT_NE(vhost, nullptr);
    evhttp_set_cb(vhost, "/v", vhost_cb, nullptr);
    EXPECT_EQ(evhttp_add_virtual_host(http_, "*.example.com", vhost), 0);
    EXPECT_EQ(evhttp_add_virtual_host(http_, "again.example", vhost), -1);
    EXPECT_EQ(status("GET /v HTTP/1.1\r\nHost: A.Example.COM\r\n\r\n"), "HTTP/1.1 200 vhost (open)");
    EXPECT_EQ(status("GET /v HTTP/1.1\r\nHost: a.example.com:81\r\n\r\n"),
              "HTTP/1.1 200 vhost (open)");
    EXPECT_EQ(status("GET /v HTTP/1.1\r\nHost: example.com\r\n\r\n"),
              "HTTP/1.1 404 Not Found (closed)");
    EXPECT_EQ(status("GET /v HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 Not Found (closed)");
    // A virtual host answers with its own callbacks only.
    EXPECT_EQ(status("GET /s299 HTTP/1.1\r\nHost: a.example.com\r\n\r\n"),
              "HTTP/1.1 404 Not Found (closed)");
    // The host of an absolute URI picks it too, and a host a virtual host serves makes no
    // proxy request (the connection stays open).
    EXPECT_EQ(status("GET http://b.example.com/v HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 vhost (open)");
    EXPECT_EQ(status("GET http://elsewhere/v HTTP/1.1\r\n\r\n"), "HTTP/1.1 404 Not Found (closed)");

    // Aliases: an absolute URI naming one is not a proxy request.
    EXPECT_EQ(evhttp_add_server_alias(http_, "myself"), 0);
    EXPECT_EQ(status("GET http://MySelf/s299 HTTP/1.1\r\n\r\n"), "HTTP/1.1 299 Success (open)");
    EXPECT_EQ(evhttp_add_server_alias(vhost, "vname"), 0);
    EXPECT_EQ(status("GET /v HTTP/1.1\r\nHost: vname\r\n\r\n"), "HTTP/1.1 200 vhost (open)");
    EXPECT_EQ(status("GET http://vname/v HTTP/1.1\r\n\r\n"), "HTTP/1.1 200 vhost (open)");
    EXPECT_EQ(evhttp_remove_server_alias(http_, "MYSELF"), 0);
    EXPECT_EQ(evhttp_remove_server_alias(http_, "myself"), -1);
    EXPECT_EQ(status("GET http://myself/s299 HTTP/1.1\r\n\r\n"), "HTTP/1.1 299 Success (closed)");

    EXPECT_EQ(evhttp_remove_virtual_host(http_, vhost), 0);
    EXPECT_EQ(evhttp_remove_virtual_host(http_, vhost), -1);
    EXPECT_EQ(status("GET /v HTTP/1.1\r\nHost: a.example.com\r\n\r\n"),
              "HTTP/1.1 404 Not Found (closed)");
    evhttp_free(vhost);
    // One left added: the server frees it.
    evhttp *kept = evhttp_new(base());
    EXPECT_EQ(evhttp_add_virtual_host(http_, "kept", kept), 0);
}

TEST_P(HttpServerApi, AllowedMethods) {
    evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    EXPECT_EQ(exchange("OPTIONS /echo HTTP/1.1\r\n\r\n").substr(0, 17), "HTTP/1.1 200 OK\r\n");
    std::string patch = exchange("PATCH /echo HTTP/1.1\r\nContent-Length: 2\r\n\r\nab");
    EXPECT_NE(patch.find("type=256 "), std::string::npos);
    EXPECT_NE(patch.find("body=2:ab"), std::string::npos);
    EXPECT_EQ(exchange("POST /echo HTTP/1.1\r\n\r\n").substr(0, 28), "HTTP/1.1 501 Not Implemented");
}

// CONNECT is not among the methods allowed by default: 501.
TEST_P(HttpServerApi, ConnectIsNotAllowedByDefault) {
    EXPECT_EQ(exchange("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
                  .substr(0, 28),
              "HTTP/1.1 501 Not Implemented");
}

// Allowed, a CONNECT request's target is an authority: its host (not the Host header) is
// the request's host, the path is empty, so the general callback answers it.
TEST_P(HttpServerApi, ConnectTargetIsAnAuthority) {
    evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_CONNECT);
    evhttp_set_gencb(http_, echo_cb, nullptr);
    std::string got = exchange("CONNECT example.com:443 HTTP/1.1\r\nHost: other\r\n\r\n");
    EXPECT_EQ(got.substr(0, 17), "HTTP/1.1 200 OK\r\n");
    EXPECT_NE(got.find("type=128 uri=example.com:443 ver=1.1 host=example.com rh=127.0.0.1 rp=set "
                       "path= query=(null)\n"),
              std::string::npos)
        << got;
    // A target that is no authority: 400.
    EXPECT_EQ(exchange("CONNECT host:abc HTTP/1.1\r\n\r\n").substr(0, 24), "HTTP/1.1 400 Bad Request");
    // The host picks a virtual host.
    evhttp *vhost = evhttp_new(base());
    evhttp_set_allowed_methods(vhost, EVHTTP_REQ_CONNECT);
    evhttp_set_gencb(vhost, status_cb, reinterpret_cast<void *>(intptr_t{299}));
    ASSERT_EQ(evhttp_add_virtual_host(http_, "proxy.test", vhost), 0);
    EXPECT_EQ(exchange("CONNECT proxy.test:80 HTTP/1.1\r\nHost: other\r\n\r\n").substr(0, 21),
              "HTTP/1.1 299 Success\r");
    EXPECT_EQ(exchange("CONNECT other:80 HTTP/1.1\r\nHost: proxy.test\r\n\r\n").substr(0, 17),
              "HTTP/1.1 200 OK\r\n");
}

TEST_P(HttpServerApi, DefaultContentType) {
    evhttp_set_default_content_type(http_, "text/plain");
    EXPECT_NE(exchange("GET /s299 HTTP/1.1\r\n\r\n").find("Content-Type: text/plain\r\n"),
              std::string::npos);
    evhttp_set_default_content_type(http_, nullptr);
    EXPECT_EQ(exchange("GET /s299 HTTP/1.1\r\n\r\n"),
              "HTTP/1.1 299 Success\r\nDate: D\r\nContent-Length: 3\r\n\r\nxyz<open>");
}


void inspect_cb(evhttp_request *req, void *arg) {
    auto *seen = static_cast<Seen *>(arg);
    auto note = [&](std::string n) { seen->notes.push_back(std::move(n)); };
    note("command=" + std::to_string(evhttp_request_get_command(req)));
    note("uri=" + s(evhttp_request_get_uri(req)));
    note("compat_uri_same=" + std::to_string(evhttp_request_uri(req) == evhttp_request_get_uri(req)));
    note("query=" + s(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req))));
    note("host=" + s(evhttp_request_get_host(req)));
    note("kind=" + std::to_string(req->kind));
    note("input_header=" + s(evhttp_find_header(evhttp_request_get_input_headers(req), "X-A")));
    note("output_headers_empty=" +
         std::to_string(evhttp_request_get_output_headers(req)->tqh_first == nullptr));
    note("body=" + std::to_string(evbuffer_get_length(evhttp_request_get_input_buffer(req))));
    note("out=" + std::to_string(evbuffer_get_length(evhttp_request_get_output_buffer(req))));
    note("code=" + std::to_string(evhttp_request_get_response_code(req)));
    evhttp_connection *conn = evhttp_request_get_connection(req);
    note("conn=" + std::to_string(conn != nullptr && conn == req->evcon));
    char *address = nullptr;
    ev_uint16_t port = 0;
    evhttp_connection_get_peer(conn, &address, &port);
    note("peer=" + s(address) + " port_matches=" + std::to_string(port == seen->client_port));
    note("remote=" + s(req->remote_host) + " " + std::to_string(req->remote_port == port));
    note("bev=" + std::to_string(evhttp_connection_get_bufferevent(conn) != nullptr));
    note("base=" + std::to_string(evhttp_connection_get_base(conn) == seen->base));
    evhttp_add_header(evhttp_request_get_output_headers(req), "X-Reply", "yes");
    evbuffer_add(evhttp_request_get_output_buffer(req), "<", 1);
    evhttp_send_reply_start(req, 200, nullptr);
    note("code=" + std::to_string(evhttp_request_get_response_code(req)) + " line=" +
         s(evhttp_request_get_response_code_line(req)) + " kind=" + std::to_string(req->kind));
    evbuffer *b = evbuffer_new();
    evbuffer_add(b, "chunk", 5);
    evhttp_send_reply_chunk_with_cb(
        req, b,
        [](evhttp_connection *c, void *a) {
            // The piece is written: the reply ends here.
            auto *sn = static_cast<Seen *>(a);
            sn->chunk_written += 1;
            sn->conn = c;
            evhttp_send_reply_end(sn->req);
        },
        seen);
    evbuffer_free(b);
    seen->req = req;
}

TEST_P(HttpServerApi, RequestAndConnectionGetters) {
    Seen seen;
    seen.base = base();
    evhttp_set_cb(http_, "/inspect", inspect_cb, &seen);
    std::string got;
    with_client([&] {
        int fd = connect_to(port_);
        seen.client_port = local_port(fd);
        std::string req =
            "POST /inspect?q=1 HTTP/1.1\r\nHost: h.example:8080\r\nX-A: b\r\nContent-Length: "
            "3\r\n\r\nxyz";
        send(fd, req.data(), req.size(), MSG_NOSIGNAL);
        got = mask_date(read_all(fd, 150));
        close(fd);
    });
    const std::vector<std::string> want = {
        "command=2", "uri=/inspect?q=1", "compat_uri_same=1", "query=q=1", "host=h.example", "kind=0",
        "input_header=b", "output_headers_empty=1", "body=3", "out=0", "code=0", "conn=1",
        "peer=127.0.0.1 port_matches=1", "remote=127.0.0.1 1", "bev=1", "base=1",
        "code=200 line=OK kind=1"};
    EXPECT_EQ(seen.notes, want);
    // The bytes the program put in the output buffer before starting go out first, as
    // they are (not as a chunk).
    EXPECT_EQ(got,
              "HTTP/1.1 200 OK\r\nX-Reply: yes\r\nTransfer-Encoding: chunked\r\nDate: "
              "D\r\nContent-Type: text/html; charset=ISO-8859-1\r\n\r\n<5\r\nchunk\r\n0\r\n\r\n<open>");
    EXPECT_EQ(seen.chunk_written, 1);
    EXPECT_NE(seen.conn, nullptr);
}

void own_cb(evhttp_request *req, void *arg) {
    auto *seen = static_cast<Seen *>(arg);
    EXPECT_EQ(evhttp_request_is_owned(req), 0);
    evhttp_request_own(req);
    EXPECT_EQ(evhttp_request_is_owned(req), 1);
    seen->req = req;
    evhttp_send_reply(req, 200, "Mine", nullptr);
}

TEST_P(HttpServerApi, OwnedRequestIsStillFreedAfterItsReply) {
    // libevent 2.1 frees a server request once its reply is written even when the
    // program owns it (the checks in own_cb ran: the flag is set while it is handled).
    Seen seen;
    evhttp_set_cb(http_, "/own", own_cb, &seen);
    EXPECT_EQ(exchange("GET /own HTTP/1.1\r\n\r\nGET /own HTTP/1.1\r\n\r\n"),
              "HTTP/1.1 200 Mine\r\nDate: D\r\nContent-Length: 0\r\nContent-Type: text/html; "
              "charset=ISO-8859-1\r\n\r\nHTTP/1.1 200 Mine\r\nDate: D\r\nContent-Length: "
              "0\r\nContent-Type: text/html; charset=ISO-8859-1\r\n\r\n<open>");
}

void own_and_hold_cb(evhttp_request *req, void *arg) {
    evhttp_request_own(req);
    static_cast<Seen *>(arg)->req = req;
}

TEST_P(HttpServerApi, OwnedRequestOutlivesItsConnection) {
    Seen seen;
    evhttp_set_cb(http_, "/own", own_and_hold_cb, &seen);
    EXPECT_EQ(exchange("GET /own?1 HTTP/1.1\r\nX-A: b\r\n\r\n"), "<open>");
    ASSERT_NE(seen.req, nullptr);
    evhttp_free(http_);  // closes the connection; the request is the program's
    http_ = nullptr;
    EXPECT_EQ(evhttp_request_is_owned(seen.req), 1);
    EXPECT_STREQ(evhttp_request_get_uri(seen.req), "/own?1");
    EXPECT_STREQ(evhttp_find_header(evhttp_request_get_input_headers(seen.req), "X-A"), "b");
    evhttp_request_free(seen.req);
}

void closecb_cb(evhttp_request *req, void *arg) {
    evhttp_connection_set_closecb(
        evhttp_request_get_connection(req),
        [](evhttp_connection *, void *a) { ++static_cast<Seen *>(a)->closed; }, arg);
    evhttp_send_reply(req, 200, "OK", nullptr);
}

TEST_P(HttpServerApi, CloseCallbackRunsOnceWhenTheConnectionCloses) {
    Seen seen;
    evhttp_set_cb(http_, "/cc", closecb_cb, &seen);
    EXPECT_EQ(exchange("GET /cc HTTP/1.1\r\nConnection: close\r\n\r\n").substr(0, 17),
              "HTTP/1.1 200 OK\r\n");
    EXPECT_EQ(seen.closed, 1);
    // A client that goes away while idle.
    EXPECT_EQ(exchange("GET /cc HTTP/1.1\r\n\r\n").substr(0, 17), "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 50 && seen.closed < 2; ++i) {
        event_base_loop(base(), EVLOOP_NONBLOCK);
        usleep(2000);
    }
    EXPECT_EQ(seen.closed, 2);
}

void start_chunks_cb(evhttp_request *req, void *arg) {
    auto *seen = static_cast<Seen *>(arg);
    seen->req = req;
    evhttp_connection_set_closecb(
        evhttp_request_get_connection(req),
        [](evhttp_connection *, void *a) { ++static_cast<Seen *>(a)->closed; }, arg);
    evhttp_send_reply_start(req, 200, "OK");
}

TEST_P(HttpServerApi, ClientLeavingMidReplyLeavesTheRequestToTheProgram) {
    // A chunked reply in progress when the client goes away: the connection closes, and the
    // request stays the program's, without a connection; sending on it does nothing and the
    // program frees it (under ASan a library that had freed it fails here).
    Seen seen;
    ASSERT_EQ(evhttp_set_cb(http_, "/midreply", start_chunks_cb, &seen), 0);
    EXPECT_EQ(exchange("GET /midreply HTTP/1.1\r\n\r\n").substr(0, 17), "HTTP/1.1 200 OK\r\n");
    ASSERT_NE(seen.req, nullptr);
    for (int i = 0; i < 500 && seen.closed < 1; ++i) {
        evbuffer *chunk = evbuffer_new();
        evbuffer_add(chunk, "more", 4);
        evhttp_send_reply_chunk(seen.req, chunk);  // the write that finds the peer gone
        evbuffer_free(chunk);
        event_base_loop(base(), EVLOOP_NONBLOCK);
        usleep(2000);
    }
    ASSERT_EQ(seen.closed, 1);
    EXPECT_EQ(evhttp_request_get_connection(seen.req), nullptr);
    evbuffer *late = evbuffer_new();
    evbuffer_add(late, "late", 4);
    evhttp_send_reply_chunk(seen.req, late);
    evbuffer_free(late);
    evhttp_request_free(seen.req);
}

TEST_P(HttpServerApi, SetFlagsTakesOnlyLingeringClose) {
    EXPECT_EQ(evhttp_set_flags(http_, EVHTTP_SERVER_LINGERING_CLOSE), 0);
    EXPECT_EQ(evhttp_set_flags(http_, 0x2), 1);  // unknown: refused with 1, not -1
    EXPECT_EQ(evhttp_set_flags(http_, EVHTTP_SERVER_LINGERING_CLOSE | 0x100), 1);
    EXPECT_EQ(evhttp_set_flags(http_, 0), 0);
}

// Sends a head announcing body_size bytes, then the body; says whether all of it was sent
// and gives what came back (Date masked).
struct BigPost {
    bool sent_all = false;
    std::string answer;
};
BigPost post_big_body(int port, size_t body_size) {
    BigPost r;
    int fd = connect_to(port);
    if (fd < 0) return r;
    std::string head = "POST /echo HTTP/1.1\r\nContent-Length: " + std::to_string(body_size) +
                       "\r\n\r\n";
    send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    std::string body(body_size, 'b');
    size_t off = 0;
    while (off < body.size()) {
        ssize_t n = send(fd, body.data() + off, body.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<size_t>(n);
    }
    r.sent_all = off == body.size();
    r.answer = mask_date(read_all(fd, 1000));
    close(fd);
    return r;
}

TEST_P(HttpServerApi, LingeringCloseReadsABodyOverTheLimitBeforeRefusingIt) {
    ASSERT_EQ(evhttp_set_flags(http_, EVHTTP_SERVER_LINGERING_CLOSE), 0);
    evhttp_set_max_body_size(http_, 1000);
    BigPost r;
    with_client([&] { r = post_big_body(port_, 2 << 20); });
    EXPECT_TRUE(r.sent_all);
    EXPECT_EQ(r.answer, k413);  // and a clean close: everything sent was read
    // A body within the limit is still served.
    EXPECT_NE(exchange("POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc").find("body=3:abc"),
              std::string::npos);
}

TEST_P(HttpServerApi, WithoutLingeringCloseABodyOverTheLimitIsNotRead) {
    // The 413 goes out as soon as the head is read and the socket is closed with the body
    // unread: the client, still sending, gets a reset.
    evhttp_set_max_body_size(http_, 1000);
    BigPost r;
    with_client([&] { r = post_big_body(port_, 32 << 20); });
    EXPECT_FALSE(r.sent_all);
}

TEST_P(HttpServerApi, LingeringCloseSettingTakesEffectOnNewConnections) {
    // With Expect: 100-continue too, the body is read and dropped (no 100 Continue).
    ASSERT_EQ(evhttp_set_flags(http_, EVHTTP_SERVER_LINGERING_CLOSE), 0);
    evhttp_set_max_body_size(http_, 5);
    std::string got = exchange(
        "POST /echo HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n0123456789");
    EXPECT_EQ(got, k413);
    // Announced but not all sent: no answer yet.
    got = exchange("POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\n01234");
    EXPECT_EQ(got, "<open>");
}

TEST_P(HttpServerApi, UnknownExpectationIsRefusedBeforeTheLength) {
    evhttp_set_max_body_size(http_, 5);
    std::string got = exchange("POST /echo HTTP/1.1\r\nContent-Length: 10\r\nExpect: foo\r\n\r\n");
    EXPECT_EQ(got.substr(0, got.find("\r\n")), "HTTP/1.1 417 Expectation Failed");
}

TEST_P(HttpServerApi, ClientLeavingMidReplyIsNoticedWithoutAWrite) {
    // While a reply is being written the server listens for the client's close: the
    // connection goes (close callback, request detached) though nothing more is sent.
    Seen seen;
    ASSERT_EQ(evhttp_set_cb(http_, "/midreply", start_chunks_cb, &seen), 0);
    EXPECT_EQ(exchange("GET /midreply HTTP/1.1\r\n\r\n").substr(0, 17), "HTTP/1.1 200 OK\r\n");
    ASSERT_NE(seen.req, nullptr);
    for (int i = 0; i < 500 && seen.closed < 1; ++i) {
        event_base_loop(base(), EVLOOP_NONBLOCK);
        usleep(2000);
    }
    EXPECT_EQ(seen.closed, 1);
    EXPECT_EQ(evhttp_request_get_connection(seen.req), nullptr);
    evhttp_request_free(seen.req);
}

TEST_P(HttpServerApi, RequestSentWhileAReplyIsWrittenIsServedAfterIt) {
    Seen seen;
    ASSERT_EQ(evhttp_set_cb(http_, "/midreply", start_chunks_cb, &seen), 0);
    std::atomic<int> phase{0};
    std::string got;
    std::atomic<bool> done{false};
    std::thread t([&] {
        int fd = connect_to(port_);
        std::string a = "GET /midreply HTTP/1.1\r\n\r\n";
        send(fd, a.data(), a.size(), MSG_NOSIGNAL);
        got = read_all(fd, 200);
        std::string b = "GET /s299 HTTP/1.1\r\n\r\n";
        send(fd, b.data(), b.size(), MSG_NOSIGNAL);
        usleep(100000);
        phase = 1;
        while (phase != 2) usleep(1000);
        got += "|" + read_all(fd, 300);
        close(fd);
        done = true;
    });
    while (!done) {
        if (phase == 1) {
            evbuffer *b = evbuffer_new();
            evbuffer_add(b, "abc", 3);
            evhttp_send_reply_chunk(seen.req, b);
            evbuffer_free(b);
            evhttp_send_reply_end(seen.req);
            phase = 2;
        }
        event_base_loop(base(), EVLOOP_NONBLOCK);
        usleep(500);
    }
    t.join();
    got = mask_date(got);
    EXPECT_EQ(got,
              "HTTP/1.1 200 OK\r\n"
              "Transfer-Encoding: chunked\r\n"
              "Date: D\r\n"
              "Content-Type: text/html; charset=ISO-8859-1\r\n"
              "\r\n"
              "<open>|3\r\nabc\r\n0\r\n\r\n"
              "HTTP/1.1 299 Success\r\n"
              "Date: D\r\n"
              "Content-Length: 3\r\n"
              "Content-Type: text/html; charset=ISO-8859-1\r\n"
              "\r\n"
              "xyz<open>");
}

TEST_P(HttpServerApi, FreeingTheServerClosesOpenConnections) {
    Seen seen;
    evhttp_set_cb(http_, "/cc", closecb_cb, &seen);
    std::atomic<int> phase{0};
    std::string first, after;
    std::atomic<bool> done{false};
    std::thread t([&] {
        int fd = connect_to(port_);
        std::string req = "GET /cc HTTP/1.1\r\n\r\n";
        send(fd, req.data(), req.size(), MSG_NOSIGNAL);
        first = read_all(fd, 150);
        phase = 1;
        while (phase != 2) usleep(1000);
        after = read_all(fd, 2000);
        close(fd);
        done = true;
    });
    while (!done) {
        if (phase == 1) {
            evhttp_free(http_);
            http_ = nullptr;
            phase = 2;
        }
        event_base_loop(base(), EVLOOP_NONBLOCK);
        usleep(500);
    }
    t.join();
    EXPECT_EQ(first.substr(0, 17), "HTTP/1.1 200 OK\r\n");
    EXPECT_EQ(after, "<closed>");
    EXPECT_EQ(seen.closed, 1);
}

void hold_cb(evhttp_request *req, void *arg) { static_cast<Seen *>(arg)->req = req; }

TEST_P(HttpServerApi, TimeoutsCloseIdleConnectionsButNotOnesBeingAnswered) {
    evhttp_set_timeout(http_, 1);
    Seen seen;
    evhttp_set_cb(http_, "/hold", hold_cb, &seen);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(exchange("", 3000), "<closed>");
    EXPECT_EQ(exchange("GET /ho", 3000), "<closed>");
    auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_LT(took, std::chrono::milliseconds(5500));
    // A request the program holds is not timed out: still open after twice the timeout (the
    // first byte's usual 3 s allowance would only stretch that wait).
    EXPECT_EQ(exchange("GET /hold HTTP/1.1\r\n\r\n", 2000, 2000), "<open>");
    EXPECT_NE(seen.req, nullptr);
    // evhttp_set_timeout_tv likewise.
    timeval tv{0, 300000};
    evhttp_set_timeout_tv(http_, &tv);
    t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(exchange("", 3000), "<closed>");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(2000));
}

int conf_count_fds() {
    int n = 0;
    for (int fd = 0; fd < 1024; ++fd) n += fcntl(fd, F_GETFD) != -1;
    return n;
}

int fd_is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

TEST_P(HttpServerApi, BoundSockets) {
    evhttp_bound_socket *second = evhttp_bind_socket_with_handle(http_, "127.0.0.1", 0);
    ASSERT_NE(second, nullptr);
    int fd2 = evhttp_bound_socket_get_fd(second);
    ASSERT_NE(evhttp_bound_socket_get_listener(second), nullptr);
    EXPECT_EQ(evconnlistener_get_fd(evhttp_bound_socket_get_listener(second)), fd2);
    std::vector<evhttp_bound_socket *> listed;
    evhttp_foreach_bound_socket(
        http_,
        [](evhttp_bound_socket *b, void *a) {
            static_cast<std::vector<evhttp_bound_socket *> *>(a)->push_back(b);
        },
        &listed);
    EXPECT_EQ(listed, (std::vector<evhttp_bound_socket *>{bound_, second}));
    // Both serve.
    int main_port = port_;
    port_ = local_port(fd2);
    EXPECT_EQ(exchange("GET /s299 HTTP/1.1\r\n\r\n").substr(0, 22), "HTTP/1.1 299 Success\r\n");
    evhttp_del_accept_socket(http_, second);
    EXPECT_FALSE(fd_is_open(fd2));
    port_ = main_port;
    EXPECT_EQ(exchange("GET /s299 HTTP/1.1\r\n\r\n").substr(0, 22), "HTTP/1.1 299 Success\r\n");

    // A socket the program made and put in listening state itself.
    int own = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(bind(own, reinterpret_cast<sockaddr *>(&sa), sizeof sa), 0);
    ASSERT_EQ(listen(own, 16), 0);
    ASSERT_EQ(evhttp_accept_socket(http_, own), 0);
    port_ = local_port(own);
    EXPECT_EQ(exchange("GET /s299 HTTP/1.1\r\n\r\n").substr(0, 22), "HTTP/1.1 299 Success\r\n");

    // A listener made by the program.
    sa.sin_port = 0;
    evconnlistener *l = evconnlistener_new_bind(base(), nullptr, nullptr,
                                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
                                                reinterpret_cast<sockaddr *>(&sa), sizeof sa);
    ASSERT_NE(l, nullptr);
    evhttp_bound_socket *third = evhttp_bind_listener(http_, l);
    ASSERT_NE(third, nullptr);
    EXPECT_EQ(evhttp_bound_socket_get_listener(third), l);
    port_ = local_port(evconnlistener_get_fd(l));
    EXPECT_EQ(exchange("GET /s299 HTTP/1.1\r\n\r\n").substr(0, 22), "HTTP/1.1 299 Success\r\n");
    int own_with_handle = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sa.sin_port = 0;
    ASSERT_EQ(bind(own_with_handle, reinterpret_cast<sockaddr *>(&sa), sizeof sa), 0);
    ASSERT_EQ(listen(own_with_handle, 16), 0);
    evhttp_bound_socket *fourth = evhttp_accept_socket_with_handle(http_, own_with_handle);
    ASSERT_NE(fourth, nullptr);
    EXPECT_EQ(evhttp_bound_socket_get_fd(fourth), own_with_handle);

    // The server closes the sockets it serves on.
    evhttp_free(http_);
    http_ = nullptr;
    EXPECT_FALSE(fd_is_open(own));
    EXPECT_FALSE(fd_is_open(own_with_handle));
}

TEST_P(HttpServerApi, BindFailures) {
    EXPECT_EQ(evhttp_bind_socket(http_, "127.0.0.1", static_cast<ev_uint16_t>(port_)), -1);
    EXPECT_EQ(evhttp_bind_socket_with_handle(http_, "not an address", 0), nullptr);
    EXPECT_EQ(evhttp_bind_socket(http_, "127.0.0.1", 0), 0);
}

TEST_P(HttpServerApi, BufferEventCallbackMakesEachConnectionsBufferevent) {
    struct Made {
        int count = 0;
        bufferevent *last = nullptr;
    } made;
    evhttp_set_bevcb(
        http_,
        [](event_base *b, void *a) -> bufferevent * {
            auto *m = static_cast<Made *>(a);
            ++m->count;
            m->last = bufferevent_socket_new(b, -1, BEV_OPT_CLOSE_ON_FREE);
            return m->last;
        },
        &made);
    Seen seen;
    evhttp_set_cb(
        http_, "/bev",
        [](evhttp_request *req, void *a) {
            auto *m = static_cast<Made *>(a);
            EXPECT_EQ(evhttp_connection_get_bufferevent(evhttp_request_get_connection(req)),
                      m->last);
            evhttp_send_reply(req, 200, "OK", nullptr);
        },
        &made);
    int fds_before = conf_count_fds();
    EXPECT_EQ(exchange("GET /bev HTTP/1.1\r\nConnection: close\r\n\r\n").substr(0, 17),
              "HTTP/1.1 200 OK\r\n");
    EXPECT_EQ(exchange("GET /bev HTTP/1.0\r\n\r\n").substr(0, 17), "HTTP/1.0 200 OK\r\n");
    EXPECT_EQ(made.count, 2);
    EXPECT_EQ(conf_count_fds(), fds_before);
}

INSTANTIATE_TEST_SUITE_P(Default, HttpServerApi, ::testing::Values(::conf::kBackends[0]),
                         ::conf::BackendName());

// Every allocation the server makes and frees goes through event_set_mem_functions' hooks:
// the hooks put a tag before each block, and freeing an untagged block (or a tagged one
// through libc) would abort.
constexpr size_t kTagSize = 16;
constexpr unsigned kTag = 0x5eb1e55u;
int g_tagged_allocs = 0;
void *tagged_malloc(size_t n) {
    ++g_tagged_allocs;
    auto *p = static_cast<unsigned char *>(std::malloc(n + kTagSize));
    if (!p) return nullptr;
    std::memcpy(p, &kTag, sizeof kTag);
    return p + kTagSize;
}
void tagged_free(void *p) {
    if (!p) return;
    auto *b = static_cast<unsigned char *>(p) - kTagSize;
    unsigned tag;
    std::memcpy(&tag, b, sizeof tag);
    if (tag != kTag) std::abort();
    std::free(b);
}
void *tagged_realloc(void *p, size_t n) {
    if (!p) return tagged_malloc(n);
    auto *b = static_cast<unsigned char *>(p) - kTagSize;
    unsigned tag;
    std::memcpy(&tag, b, sizeof tag);
    if (tag != kTag) std::abort();
    auto *r = static_cast<unsigned char *>(std::realloc(b, n + kTagSize));
    return r ? r + kTagSize : nullptr;
}

TEST(HttpServerMemory, ServerAllocatesThroughTheMemHooks) {
    EXPECT_EXIT(
        {
            event_set_mem_functions(tagged_malloc, tagged_realloc, tagged_free);
            event_base *base = event_base_new();
            evhttp *http = evhttp_new(base);
            int port = httptest::bind_loopback(http);
            evhttp_set_cb(http, "/echo", echo_cb, nullptr);
            evhttp *vhost = evhttp_new(base);
            evhttp_add_virtual_host(http, "v.example", vhost);
            evhttp_add_server_alias(http, "alias");
            std::string got = httptest::exchange_while_looping(
                base, port,
                "POST /echo?x HTTP/1.1\r\nHost: h\r\nA: b\r\n c\r\nTransfer-Encoding: "
                "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /none HTTP/1.1\r\n\r\n");
            evhttp_free(http);
            event_base_free(base);
            bool ok = got.find("body=3:abc") != std::string::npos &&
                      got.find("404 Not Found") != std::string::npos && g_tagged_allocs > 20;
            std::exit(ok ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
}

}  // namespace
