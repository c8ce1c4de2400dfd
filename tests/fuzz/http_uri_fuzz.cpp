// Differential fuzz target for the <event2/http.h> helpers: every input is parsed as a URI
// (strict and EVHTTP_URI_NONCONFORMANT), percent-encoded and decoded, HTML-escaped, parsed
// as a query (bare and inside a URI), split into a header key and value, and fed to each
// evhttp_uri_set_* setter, by reevent and by the real libevent 2.1.12 (libevent_extra loaded
// with dlopen, so its symbols never meet ours). Any difference aborts with both answers.
// Built as a libFuzzer target (tests/fuzz/http.cmake); with -DHTTP_FUZZ_STANDALONE it is a
// plain program running random inputs near the URI grammar (used by ctest).
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

namespace {

// The reference's entry points, same signatures as ours.
struct Reference {
#define REF_FN(name) decltype(&::name) name = nullptr;
#define REF_FNS(X)                                                                        \
    X(evhttp_uri_parse_with_flags) X(evhttp_uri_free) X(evhttp_uri_join)                  \
    X(evhttp_uri_get_scheme) X(evhttp_uri_get_userinfo) X(evhttp_uri_get_host)            \
    X(evhttp_uri_get_port) X(evhttp_uri_get_path) X(evhttp_uri_get_query)                 \
    X(evhttp_uri_get_fragment) X(evhttp_uri_new) X(evhttp_uri_set_flags)                  \
    X(evhttp_uri_set_scheme) X(evhttp_uri_set_userinfo) X(evhttp_uri_set_host)            \
    X(evhttp_uri_set_port) X(evhttp_uri_set_path) X(evhttp_uri_set_query)                 \
    X(evhttp_uri_set_fragment) X(evhttp_encode_uri) X(evhttp_uriencode)                   \
    X(evhttp_decode_uri) X(evhttp_uridecode) X(evhttp_htmlescape) X(evhttp_parse_query)   \
    X(evhttp_parse_query_str) X(evhttp_add_header) X(evhttp_find_header)                  \
    X(evhttp_remove_header) X(evhttp_clear_headers)
    REF_FNS(REF_FN)
    bool ok = false;
};

Reference load_reference() {
    Reference r;
    void *h = dlopen("libevent_extra-2.1.so.7", RTLD_NOW | RTLD_LOCAL);
    if (!h) return r;
    r.ok = true;
#define REF_LOAD(name)                                                  \
    r.name = reinterpret_cast<decltype(r.name)>(dlsym(h, #name));      \
    if (!r.name) r.ok = false;
    REF_FNS(REF_LOAD)
    return r;
}

const Reference &ref() {
    static const Reference r = load_reference();
    return r;
}

[[noreturn]] void mismatch(const char *what, const std::string &input, const std::string &ours,
                           const std::string &theirs) {
    std::fprintf(stderr, "mismatch in %s for input \"%s\"\n  reevent:  %s\n  libevent: %s\n",
                 what, input.c_str(), ours.c_str(), theirs.c_str());
    std::abort();
}

std::string show(const char *s) { return s ? "\"" + std::string(s) + "\"" : "(null)"; }

// Every part, the port and the joined text, or "(null)" for a failed parse.
template <class Api>
std::string describe(evhttp_uri *u, const Api &api) {
    if (!u) return "(null)";
    char buf[8192];
    std::string s = "scheme=" + show(api.evhttp_uri_get_scheme(u)) +
                    " userinfo=" + show(api.evhttp_uri_get_userinfo(u)) +
                    " host=" + show(api.evhttp_uri_get_host(u)) +
                    " port=" + std::to_string(api.evhttp_uri_get_port(u)) +
                    " path=" + show(api.evhttp_uri_get_path(u)) +
                    " query=" + show(api.evhttp_uri_get_query(u)) +
                    " fragment=" + show(api.evhttp_uri_get_fragment(u));
    const char *joined = api.evhttp_uri_join(u, buf, sizeof buf);
    s += " join=" + show(joined);
    if (joined) {
        size_t n = std::strlen(joined);  // one byte short of the room it needs
        s += " short=" + show(api.evhttp_uri_join(u, buf, n));
        s += " exact=" + show(api.evhttp_uri_join(u, buf, n + 1));
    }
    return s;
}

std::string take(char *s, size_t n) {
    if (!s) return "(null)";
    std::string r(s, n);
    std::free(s);
    return "\"" + r + "\"";
}
std::string take(char *s) { return s ? take(s, std::strlen(s)) : "(null)"; }

std::string list(int rc, evkeyvalq *q) {
    std::string s = "rc=" + std::to_string(rc);
    for (evkeyval *e = q->tqh_first; e; e = e->next.tqe_next) s += " " + show(e->key) + "=" + show(e->value);
    return s;
}

// Our own functions, in the same shape as Reference.
struct Ours {
#define OUR_FN(name) decltype(&::name) name = &::name;
    REF_FNS(OUR_FN)
};

template <class Api>
std::string run_query(const Api &api, const char *input, bool whole) {
    evkeyvalq q;
    int rc = whole ? api.evhttp_parse_query(input, &q) : api.evhttp_parse_query_str(input, &q);
    std::string s = list(rc, &q);
    api.evhttp_clear_headers(&q);
    return s;
}

template <class Api>
std::string run_headers(const Api &api, const char *key, const char *value) {
    evkeyvalq q;
    q.tqh_first = nullptr;
    q.tqh_last = &q.tqh_first;
    std::string s = "add=" + std::to_string(api.evhttp_add_header(&q, key, value));
    s += " add2=" + std::to_string(api.evhttp_add_header(&q, "X-Other", "v"));
    s += " find=" + show(api.evhttp_find_header(&q, key));
    s += " remove=" + std::to_string(api.evhttp_remove_header(&q, key));
    s += " " + list(0, &q);
    api.evhttp_clear_headers(&q);
    return s;
}

template <class Api>
std::string run_setters(const Api &api, const char *v, unsigned flags) {
    evhttp_uri *u = api.evhttp_uri_new();
    api.evhttp_uri_set_flags(u, flags);
    std::string s;
    s += std::to_string(api.evhttp_uri_set_scheme(u, v));
    s += std::to_string(api.evhttp_uri_set_userinfo(u, v));
    s += std::to_string(api.evhttp_uri_set_host(u, v));
    s += std::to_string(api.evhttp_uri_set_path(u, v));
    s += std::to_string(api.evhttp_uri_set_query(u, v));
    s += std::to_string(api.evhttp_uri_set_fragment(u, v));
    s += " " + describe(u, api);
    api.evhttp_uri_free(u);
    return s;
}

template <class Api>
std::string run_all(const Api &api, const char *in, size_t len) {
    std::string s;
    for (unsigned flags : {0u, unsigned(EVHTTP_URI_NONCONFORMANT)}) {
        evhttp_uri *u = api.evhttp_uri_parse_with_flags(in, flags);
        s += "[parse " + std::to_string(flags) + "] " + describe(u, api) + "\n";
        if (u) api.evhttp_uri_free(u);
        s += "[set " + std::to_string(flags) + "] " + run_setters(api, in, flags) + "\n";
    }
    s += "[encode] " + take(api.evhttp_encode_uri(in)) + "\n";
    s += "[uriencode] " + take(api.evhttp_uriencode(in, static_cast<ev_ssize_t>(len / 2), 1)) + "\n";
    s += "[decode] " + take(api.evhttp_decode_uri(in)) + "\n";
    for (int plus : {0, 1}) {
        size_t n = 0;
        char *d = api.evhttp_uridecode(in, plus, &n);
        s += "[uridecode " + std::to_string(plus) + "] " + take(d, n) + "\n";
    }
    s += "[html] " + take(api.evhttp_htmlescape(in)) + "\n";
    s += "[query_str] " + run_query(api, in, false) + "\n";
    s += "[query] " + run_query(api, in, true) + "\n";
    std::string key(in, len / 3), value(in + len / 3);
    s += "[header] " + run_headers(api, key.c_str(), value.c_str()) + "\n";
    return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // An exact-size heap copy, cut at the first NUL: reads past it are ASan reports.
    size_t len = strnlen(reinterpret_cast<const char *>(data), size);
    char *s = static_cast<char *>(std::malloc(len + 1));
    if (!s) return 0;
    std::memcpy(s, data, len);
    s[len] = '\0';
    std::string ours = run_all(Ours{}, s, len);
    if (ref().ok) {
        std::string theirs = run_all(ref(), s, len);
        if (ours != theirs) mismatch("http helpers", s, ours, theirs);
    }
    std::free(s);
    return 0;
}

#ifdef HTTP_FUZZ_STANDALONE
// Random inputs built from URI-shaped pieces and single characters of every class.
int main(int argc, char **argv) {
    if (!ref().ok) {
        std::printf("no reference libevent_extra: compared nothing\n");
        return 0;
    }
    static const char *kPieces[] = {
        "http", "HTTP", "x+y.z-", "1ab", ":", "//", "/", "?", "#", "@", ":80", ":65535",
        ":65536", ":0", ":", "[::1]", "[v1.a:b]", "[v.x]", "[vG.x]", "[fe80::1%25lo]", "[1.2.3.4]",
        "[", "]", "%", "%4", "%41", "%zz", "%2b", "+", " ", "a=b", "&", "=", "a", "Z", "~",
        "-", ".", "_", "!", "$", "'", "(", ")", "*", ",", ";", "\r\n", "\r\n ", "\n\t", "\r",
        "<", ">", "\"", "\x7f", "\x80", "\xff", "host", "user:pw@", "@", "127.0.0.1", "%00"};
    const size_t npieces = sizeof kPieces / sizeof kPieces[0];
    unsigned seed = 2024;
    long iterations = argc > 1 ? std::atol(argv[1]) : 100000;
    auto rnd = [&seed](unsigned n) {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 8) % n;
    };
    for (long i = 0; i < iterations; ++i) {
        std::string s;
        unsigned n = rnd(10);
        for (unsigned k = 0; k < n; ++k) s += kPieces[rnd(npieces)];
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(s.data()), s.size());
    }
    std::printf("%ld inputs: reevent and libevent agree\n", iterations);
    return 0;
}
#endif
