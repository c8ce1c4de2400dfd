// HTTP server on evhttp, built against reevent and against libevent from this one file.
// `GET /<n>` is answered 200 with an n-byte text/plain body (n <= 1 MiB), as a small
// evhttp program does it: a fresh evbuffer per reply, evhttp_send_reply, keep-alive left
// to the library (HTTP/1.1 default).
//
//   bench_http_server_<lib> <port> <epoll|poll|select> [nodelay|nagle]
// `nodelay` (the default) sets TCP_NODELAY on the listening socket, which the accepted
// sockets inherit on Linux: as in the echo servers, the loop is measured, not the
// Nagle/delayed-ACK interplay of a reply written in pieces. `nagle` leaves it as a bare
// evhttp program has it. Prints "READY <port>" once listening, then serves until killed.
#include "common/server_cg.h"

#include "common/server_main.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>

namespace {

struct Server {
    std::string body;  // 1 MiB of 'x'; a reply takes a prefix
    bench_cg::Window cg;
};

void on_request(evhttp_request *req, void *arg) {
    Server *s = static_cast<Server *>(arg);
    const char *uri = evhttp_request_get_uri(req);
    size_t n = uri && uri[0] == '/' ? std::strtoul(uri + 1, nullptr, 10) : 0;
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET || n > s->body.size()) {
        evhttp_send_error(req, HTTP_NOTFOUND, nullptr);
        return;
    }
    evbuffer *out = evbuffer_new();
    evbuffer_add(out, s->body.data(), n);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
    evhttp_send_reply(req, HTTP_OK, "OK", out);
    evbuffer_free(out);
    s->cg.add(1);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s <port> <epoll|poll|select> [nodelay|nagle]\n", argv[0]);
        return 2;
    }
    bench::prepare_server_process();

    static Server s;
    s.body.assign(1 << 20, 'x');
    int port = std::atoi(argv[1]);
    event_base *base = bench::server_base(argv[2]);
    if (!base) return 1;
    evhttp *http = evhttp_new(base);
    evhttp_bound_socket *bound =
        http ? evhttp_bind_socket_with_handle(http, "127.0.0.1", static_cast<uint16_t>(port)) : nullptr;
    if (!bound) {
        std::fprintf(stderr, "cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    if (!(argc > 3 && std::strcmp(argv[3], "nagle") == 0)) {
        int one = 1;
        setsockopt(evhttp_bound_socket_get_fd(bound), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    evhttp_set_gencb(http, on_request, &s);
    bench::announce_ready(port);
    event_base_dispatch(base);
    evhttp_free(http);
    event_base_free(base);
    return 0;
}
