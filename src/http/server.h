// The HTTP server: struct evhttp (sockets, path callbacks, settings for new connections),
// the bound sockets, and the incoming connections it serves. The C handles are these
// structs themselves; lists are intrusive (<sys/queue.h>) so that nothing is allocated
// outside the event_set_mem_functions hooks.
#pragma once

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <event2/http.h>
#include <event2/util.h>

#include "http/mem.h"

struct bufferevent;
struct evconnlistener;
struct event_base;
struct event;
struct evdns_base;
struct evdns_getaddrinfo_request;

using evhttp_cb = void (*)(evhttp_request *, void *);

struct evhttp_bound_socket {
    TAILQ_ENTRY(evhttp_bound_socket) next;
    evconnlistener *listener = nullptr;
};

namespace reevent::http {

// Another name the server answers to (evhttp_add_server_alias).
struct Alias {
    TAILQ_ENTRY(Alias) next;
    OwnedStr name;
};

// A path and the callback serving it.
struct PathCallback {
    TAILQ_ENTRY(PathCallback) next;
    OwnedStr path;
    evhttp_cb cb = nullptr;
    void *arg = nullptr;
};

// Where an incoming connection is in its current request.
enum class ConnState {
    read_first_line,
    read_headers,
    read_body,        // Content-Length bytes
    read_chunk_size,  // chunked: the size line
    read_chunk_data,
    read_trailer,
    discard_body,     // lingering close: a body over the limit is read and dropped
    handling,         // the request is with the program; reading is off
    writing,          // the reply is going out; reading is on only to see the client leave
};

// Where an outgoing connection is.
enum class ClientState {
    disconnected,
    connecting,
    idle,
    writing,          // the request is going out
    read_first_line,  // the status line
    read_headers,
    read_body,        // Content-Length bytes, or until close (ntoread -1)
    read_chunk_size,
    read_chunk_data,
    read_trailer,
};

}  // namespace reevent::http

struct evhttp_connection {
    TAILQ_ENTRY(evhttp_connection) next;
    evhttp *server = nullptr;
    bufferevent *bev = nullptr;
    reevent::http::OwnedStr address;  // numeric peer address
    uint16_t port = 0;
    evhttp_request *req = nullptr;    // the request being read, handled or answered
    reevent::http::ConnState state = reevent::http::ConnState::read_first_line;
    size_t max_headers_size = SIZE_MAX;
    size_t max_body_size = SIZE_MAX;
    void (*closecb)(evhttp_connection *, void *) = nullptr;
    void *closecb_arg = nullptr;
    // evhttp_send_reply_chunk_with_cb: runs when what is queued now has been written.
    void (*chunk_written_cb)(evhttp_connection *, void *) = nullptr;
    void *chunk_written_arg = nullptr;
    evutil_socket_t own_fd = -1;  // closed by the connection (bufferevents from evhttp_set_bevcb)
    bool lingering = false;       // the server's EVHTTP_SERVER_LINGERING_CLOSE when accepted

    // Outgoing (client) connections only (client.cpp).
    bool outgoing = false;
    reevent::http::ClientState cstate = reevent::http::ClientState::disconnected;
    event_base *base = nullptr;
    evdns_base *dns_base = nullptr;
    evdns_getaddrinfo_request *lookup = nullptr;  // the evdns lookup under way
    TAILQ_HEAD(, evhttp_request) requests;        // queued; the first is being worked on
    timeval timeout{-1, 0};                       // tv_sec -1: libevent's defaults
    int retry_max = 0;
    int retry_cnt = 0;
    timeval initial_retry{2, 0};
    event *retry_ev = nullptr;
    reevent::http::OwnedStr bind_address;
    uint16_t bind_port = 0;
    int family = 0;  // AF_UNSPEC
    int flags = 0;   // EVHTTP_CON_* given to evhttp_connection_set_flags
    bool autofree = false;      // evhttp_connection_free_on_completion
    bool close_detect = false;  // idle: a read event means the server closed
    // EVHTTP_CON_READ_ON_WRITE_ERROR: a write failed and the response is being read; a
    // second failure ends the request.
    bool reading_error = false;
    // EVHTTP_CON_REUSE_CONNECTED_ADDR: the address of the last connect, used again.
    sockaddr_storage conn_addr{};
    int conn_addr_len = 0;

    evhttp_connection() noexcept { TAILQ_INIT(&requests); }
};

struct evhttp {
    // The first four members sit where libevent 2.1's private struct evhttp has them:
    // programs (libevent's own regress suite among them) read TAILQ_FIRST(&http->connections)
    // at offset 48 to see whether the server still holds a connection.
    // As a virtual host of another server: its link there.
    TAILQ_ENTRY(evhttp) next_vhost;
    TAILQ_HEAD(, evhttp_bound_socket) sockets;
    TAILQ_HEAD(, reevent::http::PathCallback) callbacks;
    TAILQ_HEAD(, evhttp_connection) connections;
    reevent::http::OwnedStr vhost_pattern;  // as a virtual host: its host pattern
    TAILQ_HEAD(, evhttp) vhosts;
    TAILQ_HEAD(, reevent::http::Alias) aliases;
    event_base *base = nullptr;
    evhttp_cb gencb = nullptr;
    void *gencb_arg = nullptr;
    bufferevent *(*bevcb)(event_base *, void *) = nullptr;
    void *bevcb_arg = nullptr;
    timeval timeout{50, 0};  // read and write timeout of new connections
    size_t max_headers_size = SIZE_MAX;
    size_t max_body_size = SIZE_MAX;
    uint16_t allowed_methods = EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                               EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE;
    reevent::http::OwnedStr default_content_type;  // empty: add none
    int flags = 0;  // EVHTTP_SERVER_* of evhttp_set_flags

    evhttp() noexcept {
        TAILQ_INIT(&sockets);
        TAILQ_INIT(&callbacks);
        TAILQ_INIT(&connections);
        TAILQ_INIT(&vhosts);
        TAILQ_INIT(&aliases);
    }
};
static_assert(offsetof(evhttp, connections) == 48, "libevent 2.1's place of the connection list");

namespace reevent::http {

using PathCallbackList = decltype(evhttp::callbacks);

// Server side (server.cpp).
evhttp *server_new(event_base *base) noexcept;
void server_free(evhttp *http) noexcept;
evhttp_bound_socket *server_bind(evhttp *http, const char *address, uint16_t port) noexcept;
// Serves on an already listening socket (closed with the server).
evhttp_bound_socket *server_accept_fd(evhttp *http, evutil_socket_t fd) noexcept;
evhttp_bound_socket *server_adopt_listener(evhttp *http, evconnlistener *listener) noexcept;
void server_del_socket(evhttp *http, evhttp_bound_socket *bound) noexcept;
int server_set_cb(evhttp *http, const char *path, evhttp_cb cb, void *arg) noexcept;
int server_del_cb(evhttp *http, const char *path) noexcept;
int server_add_vhost(evhttp *http, const char *pattern, evhttp *vhost) noexcept;
int server_remove_vhost(evhttp *http, evhttp *vhost) noexcept;
int server_add_alias(evhttp *http, const char *alias) noexcept;
int server_remove_alias(evhttp *http, const char *alias) noexcept;
// Whether host is an alias of http or of one of its virtual hosts, or matches the pattern
// of one of its virtual hosts.
bool server_knows_host(evhttp *http, const char *host) noexcept;
// Answers a request that has been read completely: its callback, the general callback, or
// the error page libevent sends.
void server_dispatch(evhttp *http, evhttp_request *req) noexcept;

// Connection side (connection.cpp).
// One "Key: value" header line (or a continuation of the previous one) into headers.
bool add_header_line(evkeyvalq *headers, std::string_view line) noexcept;
// Whether a trailer line would be a good header line (libevent checks trailers, then drops
// them); a continuation line is not (it has nothing to continue).
bool trailer_line_ok(std::string_view line) noexcept;
// A connection for an accepted socket (closed on failure).
void connection_accept(evhttp *http, evutil_socket_t fd, const sockaddr *peer,
                       int peer_len) noexcept;
void connection_free(evhttp_connection *conn) noexcept;
// A request line's target into req: uri, uri_elems (a CONNECT's target read as an
// authority, any other as a URI reference, nonconformant characters allowed) and, for an
// absolute http(s) URI naming a host that server (if any) does not know, the proxy flag.
// false when the target does not parse (or memory runs out); req owns what was set.
bool request_parse_target(evhttp_request *req, std::string_view target, evhttp *server) noexcept;
// evhttp_connection_fail_ on an incoming connection: a network-level error (timeout, end of
// stream) drops it without a word, any other answers 400 (413 for DATA_TOO_LONG) and closes.
void connection_fail(evhttp_connection *conn, evhttp_request_error error) noexcept;
// The reply head has been queued: write until it is out, then finish the request when
// req->userdone is set.
void connection_start_writing(evhttp_connection *conn) noexcept;
// Called after the program has queued the last bytes of a reply (userdone set).
void connection_reply_queued(evhttp_connection *conn) noexcept;

}  // namespace reevent::http
