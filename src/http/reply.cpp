// See reply.h. Replies are queued on the connection's bufferevent; the connection
// (connection.cpp) finishes the request once the last byte is written.
#include "http/reply.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>

#include "http/encoding.h"
#include "http/keyvalq.h"
#include "http/request.h"
#include "http/server.h"

namespace reevent::http {
namespace {

// A request whose connection is gone cannot be answered; libevent frees it then.
bool orphaned(evhttp_request *req) noexcept {
    if (req->evcon) return false;
    if (!(req->flags & EVHTTP_USER_OWNED)) request_free(req);
    return true;
}

evbuffer *output_of(evhttp_request *req) noexcept {
    return bufferevent_get_output(req->evcon->bev);
}

const char *content_type(evhttp_request *req) noexcept {
    return req->evcon->server->default_content_type.get();
}

// Status line, headers and body, then the connection takes over. libevent sends the body
// even to HEAD (it only leaves out Content-Length and Content-Type), and so does this.
void send_whole(evhttp_request *req) noexcept {
    evhttp_connection *c = req->evcon;
    evbuffer *out = output_of(req);
    write_reply_head(req, out, content_type(req));
    evbuffer_add_buffer(out, req->output_buffer);
    req->userdone = 1;
    connection_start_writing(c);
}

// The HTML pages the library writes itself: HTTP/1.1 at least, and the connection closes.
void send_page(evhttp_request *req, evbuffer *page) noexcept {
    if (!req->major || !req->minor) {
        req->major = 1;
        req->minor = 1;
    }
    clear_headers(req->output_headers);
    append_header(req->output_headers, "Content-Type", "text/html");
    append_header(req->output_headers, "Connection", "close");
    evbuffer_add_buffer(req->output_buffer, page);
    send_whole(req);
}

}  // namespace

void send_reply(evhttp_request *req, int code, const char *reason, evbuffer *body) noexcept {
    if (orphaned(req)) return;
    request_set_response(req, code, reason);
    if (body) evbuffer_add_buffer(req->output_buffer, body);
    send_whole(req);
}

void send_error(evhttp_request *req, int code, const char *reason) noexcept {
    if (orphaned(req)) return;
    request_set_response(req, code, reason);
    const char *phrase = req->response_code_line;
    evbuffer *page = evbuffer_new();
    if (!page) return;
    evbuffer_add_printf(page,
                        "<HTML><HEAD>\n<TITLE>%d %s</TITLE>\n</HEAD><BODY>\n<H1>%s</H1>\n"
                        "</BODY></HTML>\n",
                        code, phrase, phrase);
    send_page(req, page);
    evbuffer_free(page);
}

void send_not_found(evhttp_request *req) noexcept {
    if (orphaned(req)) return;
    OwnedStr escaped{html_escape(req->uri ? req->uri : "")};
    evbuffer *page = evbuffer_new();
    if (!page || !escaped) {
        if (page) evbuffer_free(page);
        return;
    }
    request_set_response(req, HTTP_NOTFOUND, "Not Found");
    evbuffer_add_printf(page,
                        "<html><head><title>404 Not Found</title></head><body>"
                        "<h1>Not Found</h1><p>The requested URL %s was not found on this "
                        "server.</p></body></html>\n",
                        escaped.get());
    send_page(req, page);
    evbuffer_free(page);
}

void send_reply_start(evhttp_request *req, int code, const char *reason) noexcept {
    if (orphaned(req)) return;
    request_set_response(req, code, reason);
    // HTTP/1.1 streams in chunks unless the program set a length; 1.0 up to the close.
    bool v11 = req->major > 1 || (req->major == 1 && req->minor >= 1);
    if (v11 && reply_needs_body(req) && !find_header(req->output_headers, "Content-Length")) {
        append_header(req->output_headers, "Transfer-Encoding", "chunked");
        req->chunked = 1;
    } else {
        req->chunked = 0;
    }
    write_reply_head(req, output_of(req), content_type(req));
    // What the program already put in the output buffer follows the head as it is.
    evbuffer_add_buffer(output_of(req), req->output_buffer);
    req->userdone = 0;
    connection_start_writing(req->evcon);
}

void send_reply_chunk(evhttp_request *req, evbuffer *body,
                      void (*cb)(evhttp_connection *, void *), void *arg) noexcept {
    if (!req->evcon || !body || !reply_needs_body(req)) return;
    size_t n = evbuffer_get_length(body);
    if (n == 0) return;
    evbuffer *out = output_of(req);
    if (req->chunked) evbuffer_add_printf(out, "%zx\r\n", n);
    evbuffer_add_buffer(out, body);
    if (req->chunked) evbuffer_add(out, "\r\n", 2);
    req->evcon->chunk_written_cb = cb;
    req->evcon->chunk_written_arg = arg;
    connection_start_writing(req->evcon);
}

void send_reply_end(evhttp_request *req) noexcept {
    if (orphaned(req)) return;
    if (req->chunked) {
        evbuffer_add(output_of(req), "0\r\n\r\n", 5);
        req->chunked = 0;
    }
    req->userdone = 1;
    connection_start_writing(req->evcon);
    connection_reply_queued(req->evcon);
}

}  // namespace reevent::http
