// C API of <event2/http.h> (the URI, encoding, query and header helpers): argument checks
// and one call into src/http each, in header order. NULL arguments that libevent would
// crash on get a -1/NULL answer instead.
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <cstring>

#include "http/encoding.h"
#include "http/keyvalq.h"
#include "http/mem.h"
#include "http/uri.h"

using namespace reevent;

// The handle callers hold: the C++ Uri itself.
struct evhttp_uri {
    http::Uri uri;
};

extern "C" {

const char *evhttp_find_header(const struct evkeyvalq *headers, const char *key) {
    if (!headers || !key) return nullptr;
    return http::find_header(headers, key);
}

int evhttp_remove_header(struct evkeyvalq *headers, const char *key) {
    if (!headers || !key) return -1;
    return http::remove_header(headers, key) ? 0 : -1;
}

int evhttp_add_header(struct evkeyvalq *headers, const char *key, const char *value) {
    if (!headers || !key || !value) return -1;
    return http::add_checked_header(headers, key, value) ? 0 : -1;
}

void evhttp_clear_headers(struct evkeyvalq *headers) {
    if (headers) http::clear_headers(headers);
}

char *evhttp_encode_uri(const char *str) {
    if (!str) return nullptr;
    return http::percent_encode(str, false);
}

char *evhttp_uriencode(const char *str, ev_ssize_t size, int space_to_plus) {
    if (!str) return nullptr;
    size_t n = size >= 0 ? static_cast<size_t>(size) : std::strlen(str);
    return http::percent_encode({str, n}, space_to_plus != 0);
}

char *evhttp_decode_uri(const char *uri) {
    if (!uri) return nullptr;
    return http::percent_decode(uri, http::Plus::space_after_question_mark, nullptr);
}

char *evhttp_uridecode(const char *uri, int decode_plus, size_t *size_out) {
    if (!uri) return nullptr;
    return http::percent_decode(uri, decode_plus ? http::Plus::space : http::Plus::keep,
                                size_out);
}

int evhttp_parse_query(const char *uri, struct evkeyvalq *headers) {
    if (!headers) return -1;
    http::Uri parsed;
    if (!uri || !parsed.parse(uri, 0)) {
        http::parse_query_into({}, headers);  // leaves the list initialised and empty
        return -1;
    }
    const char *query = parsed.query();
    return http::parse_query_into(query ? query : "", headers) ? 0 : -1;
}

int evhttp_parse_query_str(const char *uri, struct evkeyvalq *headers) {
    if (!headers) return -1;
    return http::parse_query_into(uri ? uri : "", headers) ? 0 : -1;
}

char *evhttp_htmlescape(const char *html) {
    if (!html) return nullptr;
    return http::html_escape(html);
}

struct evhttp_uri *evhttp_uri_new(void) { return http::make_obj<evhttp_uri>(); }

void evhttp_uri_set_flags(struct evhttp_uri *uri, unsigned flags) {
    if (uri) uri->uri.set_flags(flags);
}

const char *evhttp_uri_get_scheme(const struct evhttp_uri *uri) {
    return uri ? uri->uri.scheme() : nullptr;
}
const char *evhttp_uri_get_userinfo(const struct evhttp_uri *uri) {
    return uri ? uri->uri.userinfo() : nullptr;
}
const char *evhttp_uri_get_host(const struct evhttp_uri *uri) {
    return uri ? uri->uri.host() : nullptr;
}
int evhttp_uri_get_port(const struct evhttp_uri *uri) { return uri ? uri->uri.port() : -1; }
const char *evhttp_uri_get_path(const struct evhttp_uri *uri) {
    return uri ? uri->uri.path() : nullptr;
}
const char *evhttp_uri_get_query(const struct evhttp_uri *uri) {
    return uri ? uri->uri.query() : nullptr;
}
const char *evhttp_uri_get_fragment(const struct evhttp_uri *uri) {
    return uri ? uri->uri.fragment() : nullptr;
}

int evhttp_uri_set_scheme(struct evhttp_uri *uri, const char *scheme) {
    return uri && uri->uri.set_scheme(scheme) ? 0 : -1;
}
int evhttp_uri_set_userinfo(struct evhttp_uri *uri, const char *userinfo) {
    return uri && uri->uri.set_userinfo(userinfo) ? 0 : -1;
}
int evhttp_uri_set_host(struct evhttp_uri *uri, const char *host) {
    return uri && uri->uri.set_host(host) ? 0 : -1;
}
int evhttp_uri_set_port(struct evhttp_uri *uri, int port) {
    return uri && uri->uri.set_port(port) ? 0 : -1;
}
int evhttp_uri_set_path(struct evhttp_uri *uri, const char *path) {
    return uri && uri->uri.set_path(path) ? 0 : -1;
}
int evhttp_uri_set_query(struct evhttp_uri *uri, const char *query) {
    return uri && uri->uri.set_query(query) ? 0 : -1;
}
int evhttp_uri_set_fragment(struct evhttp_uri *uri, const char *fragment) {
    return uri && uri->uri.set_fragment(fragment) ? 0 : -1;
}

struct evhttp_uri *evhttp_uri_parse_with_flags(const char *source_uri, unsigned flags) {
    if (!source_uri) return nullptr;
    evhttp_uri *uri = http::make_obj<evhttp_uri>();
    if (uri && !uri->uri.parse(source_uri, flags)) {
        http::destroy_obj(uri);
        return nullptr;
    }
    return uri;
}

struct evhttp_uri *evhttp_uri_parse(const char *source_uri) {
    return evhttp_uri_parse_with_flags(source_uri, 0);
}

void evhttp_uri_free(struct evhttp_uri *uri) { http::destroy_obj(uri); }

char *evhttp_uri_join(struct evhttp_uri *uri, char *buf, size_t limit) {
    if (!uri || !buf || !limit) return nullptr;
    return uri->uri.join(buf, limit);
}

}  // extern "C"
