// The HTTP client: outgoing evhttp_connections that send queued requests one at a time and
// read the responses (client.cpp).
#pragma once

#include <sys/time.h>

#include <cstdint>

#include <event2/http.h>

struct bufferevent;
struct evdns_base;
struct event_base;

namespace reevent::http {

// bev nullptr: a socket bufferevent of the connection's own. nullptr on failure.
evhttp_connection *client_new(event_base *base, evdns_base *dns, bufferevent *bev,
                              const char *address, uint16_t port) noexcept;
void client_free(evhttp_connection *c) noexcept;
int client_make_request(evhttp_connection *c, evhttp_request *req, unsigned type,
                        const char *uri) noexcept;
void client_cancel(evhttp_request *req) noexcept;
// Fails the request being worked on as the connection's own errors do (the connection is
// reset, the error and request callbacks run, the latter with NULL). evrpc's timeouts.
void client_fail(evhttp_connection *c, evhttp_request_error err) noexcept;
void client_set_timeout(evhttp_connection *c, const timeval *tv) noexcept;
void client_set_base(evhttp_connection *c, event_base *base) noexcept;

}  // namespace reevent::http
