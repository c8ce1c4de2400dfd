// See status.h.
#include "http/status.h"

namespace reevent::http {
namespace {

struct Phrases {
    const char *const *names;
    int count;
    const char *fallback;  // for a code of the class past the table
};

constexpr const char *k1xx[] = {"Continue", "Switching Protocols"};
constexpr const char *k2xx[] = {"OK",       "Created",        "Accepted",
                                "Non-Authoritative Information", "No Content",
                                "Reset Content", "Partial Content"};
constexpr const char *k3xx[] = {"Multiple Choices", "Moved Permanently", "Found",
                                "See Other",        "Not Modified",      "Use Proxy",
                                // libevent's table has no entry for the unused 306, so
                                // its phrase is 307's and 307 gets the class's word.
                                "Temporary Redirect"};
constexpr const char *k4xx[] = {"Bad Request",
                                "Unauthorized",
                                "Payment Required",
                                "Forbidden",
                                "Not Found",
                                "Method Not Allowed",
                                "Not Acceptable",
                                "Proxy Authentication Required",
                                "Request Time-out",
                                "Conflict",
                                "Gone",
                                "Length Required",
                                "Precondition Failed",
                                "Request Entity Too Large",
                                "Request-URI Too Large",
                                "Unsupported Media Type",
                                "Requested range not satisfiable",
                                "Expectation Failed"};
constexpr const char *k5xx[] = {"Internal Server Error", "Not Implemented",
                                "Bad Gateway",           "Service Unavailable",
                                "Gateway Time-out",      "HTTP Version not supported"};

template <int N>
constexpr Phrases table(const char *const (&names)[N], const char *fallback) {
    return {names, N, fallback};
}

constexpr Phrases kClasses[] = {
    table(k1xx, "Informational"), table(k2xx, "Success"), table(k3xx, "Redirection"),
    table(k4xx, "Client Error"),  table(k5xx, "Server Error"),
};

}  // namespace

const char *status_phrase(int code) noexcept {
    int klass = code / 100 - 1;
    if (code < 100 || klass >= 5) return "Unknown Status Class";
    const Phrases &p = kClasses[klass];
    int index = code % 100;
    return index < p.count ? p.names[index] : p.fallback;
}

}  // namespace reevent::http
