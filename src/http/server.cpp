// See server.h: the server's sockets, its path callbacks and the choice of who answers a
// request.
#include "http/server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>

#include <event2/event.h>
#include <event2/listener.h>

#include "http/encoding.h"
#include "http/reply.h"
#include "http/uri.h"

namespace reevent::http {
namespace {

void on_accept(evconnlistener *, evutil_socket_t fd, sockaddr *peer, int peer_len,
               void *arg) noexcept {
    connection_accept(static_cast<evhttp *>(arg), fd, peer, peer_len);
}

PathCallback *find_cb(evhttp *http, const char *path) noexcept {
    PathCallback *e;
    TAILQ_FOREACH(e, &http->callbacks, next)
    if (std::strcmp(e->path.get(), path) == 0) return e;
    return nullptr;
}

// A listening socket on address:port (any address when address is NULL), or -1.
evutil_socket_t listen_on(const char *address, uint16_t port) noexcept {
    char service[8];
    std::snprintf(service, sizeof service, "%u", static_cast<unsigned>(port));
    evutil_addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
    evutil_addrinfo *ai = nullptr;
    if (evutil_getaddrinfo(address, service, &hints, &ai) != 0 || !ai) return -1;
    evutil_socket_t fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    bool ok = fd >= 0 && evutil_make_listen_socket_reuseable(fd) == 0 &&
              bind(fd, ai->ai_addr, static_cast<socklen_t>(ai->ai_addrlen)) == 0 &&
              listen(fd, 128) == 0;
    evutil_freeaddrinfo(ai);
    if (!ok && fd >= 0) {
        evutil_closesocket(fd);
        fd = -1;
    }
    return fd;
}

}  // namespace

evhttp *server_new(event_base *base) noexcept {
    evhttp *http = make_obj<evhttp>();
    if (!http) return nullptr;
    http->base = base;
    http->default_content_type = copy_str("text/html; charset=ISO-8859-1");
    if (!http->default_content_type) {
        destroy_obj(http);
        return nullptr;
    }
    return http;
}

void server_free(evhttp *http) noexcept {
    while (evhttp_bound_socket *b = TAILQ_FIRST(&http->sockets)) server_del_socket(http, b);
    while (evhttp_connection *c = TAILQ_FIRST(&http->connections)) connection_free(c);
    while (PathCallback *e = TAILQ_FIRST(&http->callbacks)) {
        TAILQ_REMOVE(&http->callbacks, e, next);
        destroy_obj(e);
    }
    destroy_obj(http);
}

evhttp_bound_socket *server_bind(evhttp *http, const char *address, uint16_t port) noexcept {
    evutil_socket_t fd = listen_on(address, port);
    if (fd < 0) return nullptr;
    evhttp_bound_socket *b = server_accept_fd(http, fd);
    if (!b) evutil_closesocket(fd);
    return b;
}

evhttp_bound_socket *server_accept_fd(evhttp *http, evutil_socket_t fd) noexcept {
    // Allocated first so that a failure leaves fd with the caller.
    evhttp_bound_socket *b = make_obj<evhttp_bound_socket>();
    if (!b) return nullptr;
    // Backlog 0: the socket is listening already.
    b->listener = evconnlistener_new(http->base, on_accept, http,
                                     LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, 0, fd);
    if (!b->listener) {
        destroy_obj(b);
        return nullptr;
    }
    TAILQ_INSERT_TAIL(&http->sockets, b, next);
    return b;
}

evhttp_bound_socket *server_adopt_listener(evhttp *http, evconnlistener *listener) noexcept {
    evhttp_bound_socket *b = make_obj<evhttp_bound_socket>();
    if (!b) return nullptr;
    b->listener = listener;
    evconnlistener_set_cb(listener, on_accept, http);
    TAILQ_INSERT_TAIL(&http->sockets, b, next);
    return b;
}

void server_del_socket(evhttp *http, evhttp_bound_socket *b) noexcept {
    TAILQ_REMOVE(&http->sockets, b, next);
    evconnlistener_free(b->listener);
    destroy_obj(b);
}

int server_set_cb(evhttp *http, const char *path, evhttp_cb cb, void *arg) noexcept {
    if (find_cb(http, path)) return -1;
    PathCallback *e = make_obj<PathCallback>();
    if (!e) return -2;
    e->path = copy_str(path);
    if (!e->path) {
        destroy_obj(e);
        return -2;
    }
    e->cb = cb;
    e->arg = arg;
    TAILQ_INSERT_TAIL(&http->callbacks, e, next);
    return 0;
}

int server_del_cb(evhttp *http, const char *path) noexcept {
    PathCallback *e = find_cb(http, path);
    if (!e) return -1;
    TAILQ_REMOVE(&http->callbacks, e, next);
    destroy_obj(e);
    return 0;
}

void server_dispatch(evhttp *http, evhttp_request *req) noexcept {
    if ((req->type & http->allowed_methods) == 0) {
        send_error(req, HTTP_NOTIMPLEMENTED, nullptr);
        return;
    }
    // Callbacks match the percent-decoded path exactly; the query plays no part.
    const char *path = req->uri_elems ? req->uri_elems->uri.path() : nullptr;
    OwnedStr decoded{percent_decode(path ? path : "", Plus::keep, nullptr)};
    if (decoded) {
        if (PathCallback *e = find_cb(http, decoded.get())) {
            e->cb(req, e->arg);
            return;
        }
    }
    if (http->gencb) {
        http->gencb(req, http->gencb_arg);
        return;
    }
    send_not_found(req);
}

}  // namespace reevent::http
