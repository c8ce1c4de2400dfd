// The evhttp server and client over TLS bufferevents (evhttp_set_bevcb on the server,
// evhttp_connection_base_bufferevent_new on the client), on both libraries: the handshake
// of a client connection the evhttp client sets up itself, keep-alive requests on it, and
// a reconnect of the same TLS bufferevent after `Connection: close`.
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "ssl_support.h"

namespace {

struct Tls {
    ssltest::Ctx server = ssltest::server_ctx();
    ssltest::Ctx client = ssltest::client_ctx();
};

bufferevent *server_bev(event_base *base, void *arg) {
    SSL *ssl = SSL_new(static_cast<Tls *>(arg)->server.get());
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                          BEV_OPT_CLOSE_ON_FREE);
}

void hello(evhttp_request *req, void *) {
    evbuffer *b = evbuffer_new();
    evbuffer_add(b, "hello", 5);
    evhttp_send_reply(req, HTTP_OK, "OK", b);  // a whole reply, written at once by TLS
    evbuffer_free(b);
}

struct Seen {
    event_base *base;
    std::vector<std::string> got;
};

void done(evhttp_request *req, void *arg) {
    auto *s = static_cast<Seen *>(arg);
    if (!req) {
        s->got.push_back("NULL");
    } else {
        evbuffer *in = evhttp_request_get_input_buffer(req);
        std::string body(reinterpret_cast<char *>(evbuffer_pullup(in, -1)),
                         evbuffer_get_length(in));
        s->got.push_back(std::to_string(evhttp_request_get_response_code(req)) + " " + body);
    }
    event_base_loopexit(s->base, nullptr);
}

TEST(HttpTls, KeepAliveAndReconnectOverAClientTlsBufferevent) {
    Tls tls;
    event_base *base = event_base_new();
    evhttp *http = evhttp_new(base);
    evhttp_set_bevcb(http, server_bev, &tls);
    evhttp_set_gencb(http, hello, nullptr);
    evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    ASSERT_NE(bound, nullptr);
    sockaddr_in sin{};
    socklen_t len = sizeof sin;
    getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr *>(&sin), &len);

    // The client's TLS bufferevent has no socket yet: the evhttp client connects it (and
    // disables it first, which must not hold the handshake).
    bufferevent *bev = bufferevent_openssl_socket_new(base, -1, SSL_new(tls.client.get()),
                                                      BUFFEREVENT_SSL_CONNECTING,
                                                      BEV_OPT_CLOSE_ON_FREE);
    evhttp_connection *c =
        evhttp_connection_base_bufferevent_new(base, nullptr, bev, "127.0.0.1", ntohs(sin.sin_port));
    ASSERT_NE(c, nullptr);
    Seen seen{base, {}};
    for (int i = 0; i < 3; ++i) {
        evhttp_request *r = evhttp_request_new(done, &seen);
        // The second one closes the connection: the third reconnects the same TLS
        // bufferevent, which starts its handshake again on the new socket.
        if (i == 1) evhttp_add_header(evhttp_request_get_output_headers(r), "Connection", "close");
        ASSERT_EQ(evhttp_make_request(c, r, EVHTTP_REQ_GET, "/"), 0);
        timeval tv{5, 0};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    EXPECT_EQ(seen.got, (std::vector<std::string>{"200 hello", "200 hello", "200 hello"}));
    evhttp_connection_free(c);
    evhttp_free(http);
    event_base_free(base);
}

}  // namespace
