// See server.h: the server's sockets, its path callbacks and the choice of who answers a
// request.
#include "http/server.h"

#include "core/current_base.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdio>
#include <cstring>

#include <event2/event.h>
#include <event2/listener.h>

#include "http/encoding.h"
#include "http/reply.h"
#include "http/request.h"
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

// The server among http and its virtual hosts that has host as an alias, or nullptr.
evhttp *alias_owner(evhttp *http, const char *host) noexcept {
    Alias *a;
    TAILQ_FOREACH(a, &http->aliases, next)
    if (evutil_ascii_strcasecmp(a->name.get(), host) == 0) return http;
    evhttp *v;
    TAILQ_FOREACH(v, &http->vhosts, next_vhost)
    if (evhttp *owner = alias_owner(v, host)) return owner;
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

// '*' in pattern matches any run of characters; the rest compares ignoring ASCII case.
bool host_matches(const char *pattern, const char *name) noexcept {
    for (; *pattern; ++pattern, ++name) {
        if (*pattern == '*') {
            for (const char *rest = name;; ++rest) {
                if (host_matches(pattern + 1, rest)) return true;
                if (!*rest) return false;
            }
        }
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        if (!*name || lower(*pattern) != lower(*name)) return false;
    }
    return *name == '\0';
}

// The server that serves host: the owner of an alias, else the virtual host whose pattern
// matches (followed down through virtual hosts of virtual hosts), else http itself. The
// bool says whether an alias or a pattern matched.
bool find_host(evhttp *http, const char *host, evhttp **out) noexcept {
    if (evhttp *owner = alias_owner(http, host)) {
        *out = owner;
        return true;
    }
    bool found = false;
    for (bool descended = true; descended;) {
        descended = false;
        evhttp *v;
        TAILQ_FOREACH(v, &http->vhosts, next_vhost) {
            if (host_matches(v->vhost_pattern.get(), host)) {
                http = v;
                descended = found = true;
                break;
            }
        }
    }
    *out = http;
    return found;
}

}  // namespace

evhttp *server_new(event_base *base) noexcept {
    evhttp *http = make_obj<evhttp>();
    if (!http) return nullptr;
    http->base = addon::base_or_current(base);
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
    // Virtual hosts still added belong to the server and go with it.
    while (evhttp *v = TAILQ_FIRST(&http->vhosts)) {
        TAILQ_REMOVE(&http->vhosts, v, next_vhost);
        server_free(v);
    }
    while (Alias *a = TAILQ_FIRST(&http->aliases)) {
        TAILQ_REMOVE(&http->aliases, a, next);
        destroy_obj(a);
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

int server_add_vhost(evhttp *http, const char *pattern, evhttp *vhost) noexcept {
    // A server is the virtual host of one server at most.
    if (vhost->vhost_pattern) return -1;
    vhost->vhost_pattern = copy_str(pattern);
    if (!vhost->vhost_pattern) return -1;
    TAILQ_INSERT_TAIL(&http->vhosts, vhost, next_vhost);
    return 0;
}

int server_remove_vhost(evhttp *http, evhttp *vhost) noexcept {
    if (!vhost->vhost_pattern) return -1;
    evhttp *v;
    TAILQ_FOREACH(v, &http->vhosts, next_vhost)
    if (v == vhost) break;
    if (!v) return -1;
    TAILQ_REMOVE(&http->vhosts, vhost, next_vhost);
    vhost->vhost_pattern.reset();
    return 0;
}

int server_add_alias(evhttp *http, const char *alias) noexcept {
    Alias *a = make_obj<Alias>();
    if (!a) return -1;
    a->name = copy_str(alias);
    if (!a->name) {
        destroy_obj(a);
        return -1;
    }
    TAILQ_INSERT_TAIL(&http->aliases, a, next);
    return 0;
}

int server_remove_alias(evhttp *http, const char *alias) noexcept {
    Alias *a;
    TAILQ_FOREACH(a, &http->aliases, next)
    if (evutil_ascii_strcasecmp(a->name.get(), alias) == 0) break;
    if (!a) return -1;
    TAILQ_REMOVE(&http->aliases, a, next);
    destroy_obj(a);
    return 0;
}

bool server_knows_host(evhttp *http, const char *host) noexcept {
    evhttp *unused;
    return find_host(http, host, &unused);
}

void server_dispatch(evhttp *http, evhttp_request *req) noexcept {
    if ((request_method(req) & http->allowed_methods) == 0) {
        send_error(req, HTTP_NOTIMPLEMENTED, nullptr);
        return;
    }
    // The request's host picks a virtual host (or an alias's owner) to serve it.
    if (const char *host = request_host(req)) find_host(http, host, &http);
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
