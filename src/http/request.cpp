// See request.h.
#include "http/request.h"

#include <cstring>
#include <ctime>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "http/keyvalq.h"
#include "http/mem.h"
#include "http/parse.h"
#include "http/status.h"
#include "http/uri.h"

namespace reevent::http {
namespace {

evkeyvalq *new_header_list() noexcept {
    auto *h = static_cast<evkeyvalq *>(event_mm_malloc_(sizeof(evkeyvalq)));
    if (h) {
        h->tqh_first = nullptr;
        h->tqh_last = &h->tqh_first;
    }
    return h;
}

void free_header_list(evkeyvalq *h) noexcept {
    if (!h) return;
    clear_headers(h);
    event_mm_free_(h);
}

bool header_is(const evkeyvalq *headers, const char *key, const char *value) noexcept {
    const char *v = find_header(headers, key);
    return v && evutil_ascii_strcasecmp(v, value) == 0;
}

// "Connection: close" (or, for a proxy request, anything but Proxy-Connection: keep-alive).
bool asks_close(const evhttp_request *req, const evkeyvalq *headers) noexcept {
    if (req->flags & EVHTTP_PROXY_REQUEST)
        return !header_is(headers, "Proxy-Connection", "keep-alive");
    return header_is(headers, "Connection", "close");
}

bool before_1_1(const evhttp_request *req) noexcept {
    return req->major < 1 || (req->major == 1 && req->minor < 1);
}

// RFC 1123 date, with English names whatever the program's locale (strftime's %a and %b
// would follow LC_TIME).
bool add_date(evkeyvalq *headers) noexcept {
    static constexpr const char *kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char *kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char date[64];
    time_t now = time(nullptr);
    struct tm tm;
    gmtime_r(&now, &tm);
    evutil_snprintf(date, sizeof date, "%s, %02d %s %d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                    tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour,
                    tm.tm_min, tm.tm_sec);
    return append_header(headers, "Date", date);
}

}  // namespace

evhttp_request *request_new() noexcept {
    auto *req = static_cast<evhttp_request *>(event_mm_calloc_(1, sizeof(evhttp_request)));
    if (!req) return nullptr;
    req->kind = EVHTTP_RESPONSE;  // a fresh request is not yet a received one
    req->input_headers = new_header_list();
    req->output_headers = new_header_list();
    req->input_buffer = evbuffer_new();
    req->output_buffer = evbuffer_new();
    if (!req->input_headers || !req->output_headers || !req->input_buffer ||
        !req->output_buffer) {
        request_free(req);
        return nullptr;
    }
    return req;
}

void request_free(evhttp_request *req) noexcept {
    if (!req) return;
    free_header_list(req->input_headers);
    free_header_list(req->output_headers);
    if (req->input_buffer) evbuffer_free(req->input_buffer);
    if (req->output_buffer) evbuffer_free(req->output_buffer);
    event_mm_free_(req->remote_host);
    event_mm_free_(req->host_cache);
    event_mm_free_(req->uri);
    destroy_obj(req->uri_elems);
    event_mm_free_(req->response_code_line);
    event_mm_free_(req);
}

const char *request_host(evhttp_request *req) noexcept {
    if (req->host_cache) return req->host_cache;
    if (req->uri_elems && req->uri_elems->uri.host()) {
        req->host_cache = copy_str(req->uri_elems->uri.host()).release();
        return req->host_cache;
    }
    const char *host = find_header(req->input_headers, "Host");
    if (!host) return nullptr;
    // Drop a ":port" (only digits after the last ':', which is past any "[v6]").
    std::string_view h = host;
    size_t colon = h.rfind(':');
    size_t bracket = h.rfind(']');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
        bool digits = true;
        for (char c : slice(h, colon + 1))
            if (c < '0' || c > '9') digits = false;
        if (digits) h = slice(h, 0, colon);
    }
    req->host_cache = copy_str(h).release();
    return req->host_cache;
}

bool request_set_response(evhttp_request *req, int code, const char *reason) noexcept {
    OwnedStr line = copy_str(reason ? reason : status_phrase(code));
    if (!line) return false;
    req->kind = EVHTTP_RESPONSE;
    req->response_code = code;
    event_mm_free_(req->response_code_line);
    req->response_code_line = line.release();
    return true;
}

bool reply_needs_body(const evhttp_request *req) noexcept {
    int code = req->response_code;
    unsigned method = request_method(req);
    return method != EVHTTP_REQ_HEAD && method != EVHTTP_REQ_CONNECT && code != 204 &&
           code != 304 && (code < 100 || code >= 200);
}

bool write_reply_head(evhttp_request *req, evbuffer *out,
                      const char *default_content_type) noexcept {
    evkeyvalq *h = req->output_headers;
    bool ok = true;
    if (req->major == 1) {
        if (req->minor >= 1 && !find_header(h, "Date")) ok &= add_date(h);
        bool keepalive_1_0 =
            req->minor == 0 && header_is(req->input_headers, "Connection", "keep-alive");
        if (keepalive_1_0) ok &= append_header(h, "Connection", "keep-alive");
        if ((req->minor >= 1 || keepalive_1_0) && reply_needs_body(req) &&
            !find_header(h, "Transfer-Encoding") && !find_header(h, "Content-Length")) {
            char len[32];
            evutil_snprintf(len, sizeof len, "%zu", evbuffer_get_length(req->output_buffer));
            ok &= append_header(h, "Content-Length", len);
        }
    }
    if (reply_needs_body(req) && default_content_type && !find_header(h, "Content-Type"))
        ok &= append_header(h, "Content-Type", default_content_type);
    if (asks_close(req, req->input_headers)) {
        remove_header(h, "Connection");
        if (!(req->flags & EVHTTP_PROXY_REQUEST)) ok &= append_header(h, "Connection", "close");
        remove_header(h, "Proxy-Connection");
    }
    if (!ok) return false;
    if (evbuffer_add_printf(out, "HTTP/%d.%d %d %s\r\n", req->major, req->minor,
                            req->response_code, req->response_code_line) < 0)
        return false;
    for (evkeyval *e = h->tqh_first; e; e = e->next.tqe_next)
        if (evbuffer_add_printf(out, "%s: %s\r\n", e->key, e->value) < 0) return false;
    return evbuffer_add(out, "\r\n", 2) == 0;
}

bool reply_closes_connection(const evhttp_request *req) noexcept {
    bool keepalive_1_0 = header_is(req->input_headers, "Connection", "keep-alive");
    if (before_1_1(req) && !keepalive_1_0) return true;
    // A CONNECT request's Connection headers (its own or the reply's, an error page's
    // "close" included) never close the connection (libevent 2.1.12).
    if (request_method(req) == EVHTTP_REQ_CONNECT) return false;
    return asks_close(req, req->input_headers) || asks_close(req, req->output_headers);
}

}  // namespace reevent::http
