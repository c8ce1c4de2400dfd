// Answering a request on its connection: whole replies, error pages, replies in pieces.
#pragma once

#include <event2/http.h>
#include <event2/http_struct.h>

namespace reevent::http {

void send_reply(evhttp_request *req, int code, const char *reason, evbuffer *body) noexcept;
// The HTML error page libevent sends (the connection closes after it).
void send_error(evhttp_request *req, int code, const char *reason) noexcept;
// The 404 page for a request no callback takes.
void send_not_found(evhttp_request *req) noexcept;
void send_reply_start(evhttp_request *req, int code, const char *reason) noexcept;
void send_reply_chunk(evhttp_request *req, evbuffer *body,
                      void (*cb)(evhttp_connection *, void *), void *arg) noexcept;
void send_reply_end(evhttp_request *req) noexcept;

}  // namespace reevent::http
