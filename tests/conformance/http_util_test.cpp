// <event2/http.h> helpers that need no server: URI references (parse, setters, join),
// percent-encoding and decoding, query strings, header lists and HTML escaping. Pure
// functions, so no backend parameter. The random differential test against libevent is
// tests/fuzz/http_uri_fuzz.cpp (ctest: unit.HttpUriDiff.*).
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <gtest/gtest.h>

#include "differences.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::string str(const char *s) { return s ? s : "(null)"; }

// The parts of a parsed reference, "(null)" for a missing one.
struct Parts {
    std::string scheme, userinfo, host;
    int port;
    std::string path, query, fragment;
};

Parts parts_of(const evhttp_uri *u) {
    return {str(evhttp_uri_get_scheme(u)), str(evhttp_uri_get_userinfo(u)),
            str(evhttp_uri_get_host(u)),   evhttp_uri_get_port(u),
            str(evhttp_uri_get_path(u)),   str(evhttp_uri_get_query(u)),
            str(evhttp_uri_get_fragment(u))};
}

// joined: what evhttp_uri_join gives back (the text itself when null).
void expect_parts(const char *text, const Parts &want, unsigned flags = 0,
                  const char *joined = nullptr) {
    SCOPED_TRACE(text);
    evhttp_uri *u = evhttp_uri_parse_with_flags(text, flags);
    ASSERT_NE(u, nullptr);
    Parts got = parts_of(u);
    EXPECT_EQ(got.scheme, want.scheme);
    EXPECT_EQ(got.userinfo, want.userinfo);
    EXPECT_EQ(got.host, want.host);
    EXPECT_EQ(got.port, want.port);
    EXPECT_EQ(got.path, want.path);
    EXPECT_EQ(got.query, want.query);
    EXPECT_EQ(got.fragment, want.fragment);
    // A parsed reference joins back to the text it came from.
    char buf[512];
    EXPECT_STREQ(evhttp_uri_join(u, buf, sizeof buf), joined ? joined : text);
    evhttp_uri_free(u);
}

std::string take(char *s) {
    std::string r = str(s);
    std::free(s);
    return r;
}

std::vector<std::string> pairs(const evkeyvalq *q) {
    std::vector<std::string> v;
    for (evkeyval *e = q->tqh_first; e; e = e->next.tqe_next) v.push_back(std::string(e->key) + "=" + e->value);
    return v;
}

const char *N = "(null)";

TEST(HttpUri, FullReferenceSplitsIntoSevenParts) {
    expect_parts("http://user:pw@example.com:8080/a/b%20c?x=1&y=2#frag",
                 {"http", "user:pw", "example.com", 8080, "/a/b%20c", "x=1&y=2", "frag"});
    expect_parts("HTTPS://[::1]:443/", {"HTTPS", N, "[::1]", 443, "/", N, N});
    expect_parts("ftp://[v7.a:b]", {"ftp", N, "[v7.a:b]", -1, "", N, N});
}

TEST(HttpUri, RelativeReferencesHaveNoSchemeOrHost) {
    expect_parts("/index.html?q", {N, N, N, -1, "/index.html", "q", N});
    expect_parts("a/b", {N, N, N, -1, "a/b", N, N});
    expect_parts("", {N, N, N, -1, "", N, N});
    expect_parts("?only=query", {N, N, N, -1, "", "only=query", N});
    expect_parts("#f", {N, N, N, -1, "", N, "f"});
    expect_parts("//host", {N, N, "host", -1, "", N, N});
    expect_parts("mailto:someone@example.org", {"mailto", N, N, -1, "someone@example.org", N, N});
}

TEST(HttpUri, EmptyAuthorityAndEmptyPortAreKeptApart) {
    expect_parts("file:///etc/hosts", {"file", N, "", -1, "/etc/hosts", N, N});
    expect_parts("http://host:/", {"http", N, "host", -1, "/", N, N}, 0, "http://host/");
    expect_parts("http://:80", {"http", N, "", 80, "", N, N});
    expect_parts("http://h:0", {"http", N, "h", 0, "", N, N});
}

TEST(HttpUri, MalformedReferencesAreRefused) {
    const char *bad[] = {
        "http://host:65536/",     // port out of range
        "http://host:8x/",        // not a port, and ':' is no reg-name character
        "http://[::1/",           // unterminated literal
        "http://[1.2.3.4]/",      // not an IPv6 address
        "http://[]/",             // empty literal
        "http://[vx.a]/",         // IPvFuture needs hex digits
        "http://a b/",            // space in host
        "http://us er@h/",        // space in userinfo
        "http://h/a b",           // space in path
        "http://h/%zz",           // bad escape
        "http://h/p#a#b",         // second '#'
        "a:b/c:d e",              // space
        "1a:b",                   // no scheme, colon in the first segment
        ":x",                     // no scheme, colon in the first segment
        "http://h/\x80",          // a byte RFC 3986 does not allow
    };
    for (const char *text : bad) {
        SCOPED_TRACE(text);
        EXPECT_EQ(evhttp_uri_parse(text), nullptr);
    }
}

TEST(HttpUri, NonconformantFlagAcceptsAnyByteInPathQueryAndFragment) {
    EXPECT_EQ(evhttp_uri_parse("/a b?c d#e f"), nullptr);
    expect_parts("/a b?c d#e f#g", {N, N, N, -1, "/a b", "c d", "e f#g"}, EVHTTP_URI_NONCONFORMANT);
    expect_parts("http://h/{x}?|", {"http", N, "h", -1, "/{x}", "|", N}, EVHTTP_URI_NONCONFORMANT);
    // The flag does not loosen the authority.
    EXPECT_EQ(evhttp_uri_parse_with_flags("http://a b/", EVHTTP_URI_NONCONFORMANT), nullptr);
}

TEST(HttpUri, QueryMayHoldQuestionMarksButPathMayNot) {
    expect_parts("/p?a?b/c", {N, N, N, -1, "/p", "a?b/c", N});
    expect_parts("/p#a?b", {N, N, N, -1, "/p", N, "a?b"});
}

TEST(HttpUri, NewUriIsEmptyAndJoinsToEmptyString) {
    evhttp_uri *u = evhttp_uri_new();
    ASSERT_NE(u, nullptr);
    Parts p = parts_of(u);
    EXPECT_EQ(p.scheme + p.userinfo + p.host + p.path + p.query + p.fragment, "(null)(null)(null)(null)(null)(null)");
    EXPECT_EQ(p.port, -1);
    char buf[8];
    EXPECT_STREQ(evhttp_uri_join(u, buf, sizeof buf), "");
    evhttp_uri_free(u);
}

TEST(HttpUri, SettersCheckTheirPartAndLeaveItUnchangedOnRefusal) {
    evhttp_uri *u = evhttp_uri_new();
    EXPECT_EQ(evhttp_uri_set_scheme(u, "http"), 0);
    EXPECT_EQ(evhttp_uri_set_scheme(u, "1http"), -1);
    EXPECT_EQ(evhttp_uri_set_scheme(u, ""), -1);
    EXPECT_EQ(evhttp_uri_set_userinfo(u, "me:secret"), 0);
    EXPECT_EQ(evhttp_uri_set_userinfo(u, "a@b"), -1);
    EXPECT_EQ(evhttp_uri_set_host(u, "example.com"), 0);
    EXPECT_EQ(evhttp_uri_set_host(u, "bad host"), -1);
    EXPECT_EQ(evhttp_uri_set_host(u, "[::1"), -1);
    EXPECT_EQ(evhttp_uri_set_port(u, 8080), 0);
    EXPECT_EQ(evhttp_uri_set_port(u, -2), -1);
    EXPECT_EQ(evhttp_uri_set_path(u, "/x y"), -1);
    EXPECT_EQ(evhttp_uri_set_path(u, "/p?q"), -1);
    EXPECT_EQ(evhttp_uri_set_path(u, "/p"), 0);
    EXPECT_EQ(evhttp_uri_set_query(u, "a=1#"), -1);
    EXPECT_EQ(evhttp_uri_set_query(u, "a=1?"), 0);
    EXPECT_EQ(evhttp_uri_set_fragment(u, "f#"), -1);
    EXPECT_EQ(evhttp_uri_set_fragment(u, "f"), 0);
    char buf[128];
    EXPECT_STREQ(evhttp_uri_join(u, buf, sizeof buf), "http://me:secret@example.com:8080/p?a=1?#f");
    // NULL (or port -1) clears a part.
    EXPECT_EQ(evhttp_uri_set_userinfo(u, nullptr), 0);
    EXPECT_EQ(evhttp_uri_set_port(u, -1), 0);
    EXPECT_EQ(evhttp_uri_set_fragment(u, nullptr), 0);
    EXPECT_STREQ(evhttp_uri_join(u, buf, sizeof buf), "http://example.com/p?a=1?");
    // The flags given later govern later path/query/fragment checks.
    evhttp_uri_set_flags(u, EVHTTP_URI_NONCONFORMANT);
    EXPECT_EQ(evhttp_uri_set_path(u, "/x y"), 0);
    EXPECT_STREQ(evhttp_uri_get_path(u), "/x y");
    evhttp_uri_free(u);
}

TEST(HttpUri, JoinNeedsRoomForTheTerminatorAndAnAbsolutePathUnderAHost) {
    evhttp_uri *u = evhttp_uri_parse("http://h/p");
    ASSERT_NE(u, nullptr);
    char buf[16];
    std::memset(buf, 'x', sizeof buf);
    EXPECT_EQ(evhttp_uri_join(u, buf, 10), nullptr);  // "http://h/p" needs 11 bytes
    EXPECT_EQ(evhttp_uri_join(u, buf, 0), nullptr);
    EXPECT_STREQ(evhttp_uri_join(u, buf, 11), "http://h/p");
    EXPECT_EQ(evhttp_uri_set_path(u, "rel"), 0);  // allowed by itself...
    EXPECT_EQ(evhttp_uri_join(u, buf, sizeof buf), nullptr);  // ...but not joinable with a host
    EXPECT_EQ(evhttp_uri_set_host(u, nullptr), 0);
    EXPECT_STREQ(evhttp_uri_join(u, buf, sizeof buf), "http:rel");
    // Userinfo and port are written only with a host.
    EXPECT_EQ(evhttp_uri_set_userinfo(u, "u"), 0);
    EXPECT_EQ(evhttp_uri_set_port(u, 1), 0);
    EXPECT_STREQ(evhttp_uri_join(u, buf, sizeof buf), "http:rel");
    evhttp_uri_free(u);
}

TEST(HttpEncoding, EncodeEscapesAllButUnreserved) {
    EXPECT_EQ(take(evhttp_encode_uri("a-Z_0.9~ /?&=%+\xff")), "a-Z_0.9~%20%2F%3F%26%3D%25%2B%FF");
    EXPECT_EQ(take(evhttp_uriencode("a b", -1, 1)), "a+b");
    EXPECT_EQ(take(evhttp_uriencode("a b", -1, 0)), "a%20b");
    // An explicit size stops early or runs over NUL bytes.
    EXPECT_EQ(take(evhttp_uriencode("abcdef", 3, 0)), "abc");
    EXPECT_EQ(take(evhttp_uriencode("a\0b", 3, 0)), "a%00b");
    EXPECT_EQ(take(evhttp_uriencode("", -1, 0)), "");
}

TEST(HttpEncoding, DecodeHandlesEscapesAndPlusByTheRules) {
    EXPECT_EQ(take(evhttp_uridecode("a%20b+c%2Bd", 0, nullptr)), "a b+c+d");
    EXPECT_EQ(take(evhttp_uridecode("a%20b+c%2bd", 1, nullptr)), "a b c+d");
    // Bad or cut escapes are kept as they are.
    EXPECT_EQ(take(evhttp_uridecode("%zz%4%", 0, nullptr)), "%zz%4%");
    EXPECT_EQ(take(evhttp_uridecode("%41%4", 0, nullptr)), "A%4");
    // evhttp_decode_uri turns '+' into a space only after the first '?'.
    EXPECT_EQ(take(evhttp_decode_uri("/a+b?c+d%21")), "/a+b?c d!");
    size_t n = 99;
    char *d = evhttp_uridecode("x%00y", 0, &n);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(n, 3u);
    EXPECT_EQ(std::memcmp(d, "x\0y", 4), 0);
    std::free(d);
}

TEST(HttpEncoding, HtmlEscapeReplacesTheFiveSpecialCharacters) {
    EXPECT_EQ(take(evhttp_htmlescape("<a href=\"x\">'&'</a>")),
              "&lt;a href=&quot;x&quot;&gt;&#039;&amp;&#039;&lt;/a&gt;");
    EXPECT_EQ(take(evhttp_htmlescape("")), "");
    EXPECT_EQ(evhttp_htmlescape(nullptr), nullptr);
}

TEST(HttpQuery, PairsAreSplitAndValuesDecoded) {
    evkeyvalq q;
    ASSERT_EQ(evhttp_parse_query_str("a=1&b=x+y%21&a=2&c=&d=e=f", &q), 0);
    EXPECT_EQ(pairs(&q), (std::vector<std::string>{"a=1", "b=x y!", "a=2", "c=", "d=e=f"}));
    EXPECT_STREQ(evhttp_find_header(&q, "A"), "1");  // first match, case-insensitive
    evhttp_clear_headers(&q);
    EXPECT_EQ(q.tqh_first, nullptr);
    // Keys are not decoded; a trailing '&' is harmless.
    ASSERT_EQ(evhttp_parse_query_str("k%41=v&", &q), 0);
    EXPECT_EQ(pairs(&q), (std::vector<std::string>{"k%41=v"}));
    evhttp_clear_headers(&q);
    ASSERT_EQ(evhttp_parse_query_str("", &q), 0);
    EXPECT_EQ(q.tqh_first, nullptr);
}

TEST(HttpQuery, AMalformedPairFailsTheWholeQueryAndEmptiesTheList) {
    const char *bad[] = {"a=1&b", "=1", "a=1&&b=2", "&a=1"};
    for (const char *text : bad) {
        SCOPED_TRACE(text);
        evkeyvalq q;
        EXPECT_EQ(evhttp_parse_query_str(text, &q), -1);
        EXPECT_EQ(q.tqh_first, nullptr);
    }
}

TEST(HttpQuery, ParseQueryTakesTheQueryOfAWholeUri) {
    evkeyvalq q;
    ASSERT_EQ(evhttp_parse_query("/search?q=libevent+2.1&page=2#top", &q), 0);
    EXPECT_EQ(pairs(&q), (std::vector<std::string>{"q=libevent 2.1", "page=2"}));
    evhttp_clear_headers(&q);
    ASSERT_EQ(evhttp_parse_query("/no/query", &q), 0);
    EXPECT_EQ(q.tqh_first, nullptr);
    EXPECT_EQ(evhttp_parse_query("/bad path?a=1", &q), -1);  // not a URI reference
    EXPECT_EQ(q.tqh_first, nullptr);
}

TEST(HttpHeaders, AddFindRemoveAndClear) {
    evkeyvalq q;
    q.tqh_first = nullptr;
    q.tqh_last = &q.tqh_first;
    EXPECT_EQ(evhttp_add_header(&q, "Content-Type", "text/plain"), 0);
    EXPECT_EQ(evhttp_add_header(&q, "X-Dup", "one"), 0);
    EXPECT_EQ(evhttp_add_header(&q, "x-dup", "two"), 0);
    EXPECT_EQ(evhttp_add_header(&q, "Empty", ""), 0);
    EXPECT_STREQ(evhttp_find_header(&q, "content-type"), "text/plain");
    EXPECT_STREQ(evhttp_find_header(&q, "X-DUP"), "one");
    EXPECT_EQ(evhttp_find_header(&q, "Missing"), nullptr);
    EXPECT_EQ(evhttp_remove_header(&q, "x-DUP"), 0);  // the first of the two
    EXPECT_STREQ(evhttp_find_header(&q, "X-Dup"), "two");
    EXPECT_EQ(evhttp_remove_header(&q, "Missing"), -1);
    EXPECT_EQ(pairs(&q), (std::vector<std::string>{"Content-Type=text/plain", "x-dup=two", "Empty="}));
    // Removing the last entry keeps the tail pointer right for the next append.
    EXPECT_EQ(evhttp_remove_header(&q, "Empty"), 0);
    EXPECT_EQ(evhttp_add_header(&q, "Last", "1"), 0);
    EXPECT_EQ(pairs(&q), (std::vector<std::string>{"Content-Type=text/plain", "x-dup=two", "Last=1"}));
    evhttp_clear_headers(&q);
    EXPECT_EQ(q.tqh_first, nullptr);
    EXPECT_EQ(evhttp_add_header(&q, "After", "clear"), 0);
    EXPECT_EQ(pairs(&q), (std::vector<std::string>{"After=clear"}));
    evhttp_clear_headers(&q);
}

TEST(HttpHeaders, LineBreaksInKeysOrValuesAreRefused) {
    evkeyvalq q;
    q.tqh_first = nullptr;
    q.tqh_last = &q.tqh_first;
    EXPECT_EQ(evhttp_add_header(&q, "Bad\r\nKey", "v"), -1);
    EXPECT_EQ(evhttp_add_header(&q, "K", "v\r\nInjected: 1"), -1);
    EXPECT_EQ(evhttp_add_header(&q, "K", "folded\r\n continuation"), -1);
    EXPECT_EQ(evhttp_add_header(&q, "K", "lf\n"), -1);
    EXPECT_EQ(q.tqh_first, nullptr);
}

// Every allocation of these helpers goes through event_set_mem_functions' hooks, and what
// they hand back can be released with the same hook.
int g_hook_allocs = 0;
void *counting_malloc(size_t n) {
    ++g_hook_allocs;
    return std::malloc(n);
}
void *counting_realloc(void *p, size_t n) {
    ++g_hook_allocs;
    return std::realloc(p, n);
}
void plain_free(void *p) { std::free(p); }

TEST(HttpMemory, HelpersAllocateThroughTheMemHooks) {
    // Hooks must be set before anything is allocated: a death test runs in a fresh process.
    EXPECT_EXIT(
        {
            event_set_mem_functions(counting_malloc, counting_realloc, plain_free);
            evhttp_uri *u = evhttp_uri_parse("http://h/p?q#f");
            char *e = evhttp_encode_uri("a b");
            evkeyvalq q;
            int rc = evhttp_parse_query_str("a=1", &q);
            evhttp_clear_headers(&q);
            std::free(e);
            evhttp_uri_free(u);
            std::exit(u && e && rc == 0 && g_hook_allocs >= 6 ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
}

}  // namespace

namespace {

TEST(HttpRobustness, NullArgumentsGetAnErrorNotACrash) {
    if (!conf::kHttpHelpersTakeNull) GTEST_SKIP() << "libevent crashes on these (differences.h)";
    evhttp_uri_free(nullptr);
    EXPECT_EQ(evhttp_uri_parse(nullptr), nullptr);
    EXPECT_EQ(evhttp_uri_get_host(nullptr), nullptr);
    EXPECT_EQ(evhttp_uri_get_port(nullptr), -1);
    EXPECT_EQ(evhttp_uri_set_path(nullptr, "/"), -1);
    char buf[4];
    EXPECT_EQ(evhttp_uri_join(nullptr, buf, sizeof buf), nullptr);
    EXPECT_EQ(evhttp_encode_uri(nullptr), nullptr);
    EXPECT_EQ(evhttp_uriencode(nullptr, 3, 0), nullptr);
    EXPECT_EQ(evhttp_decode_uri(nullptr), nullptr);
    EXPECT_EQ(evhttp_uridecode(nullptr, 1, nullptr), nullptr);
    EXPECT_EQ(evhttp_find_header(nullptr, "k"), nullptr);
    EXPECT_EQ(evhttp_add_header(nullptr, "k", "v"), -1);
    EXPECT_EQ(evhttp_remove_header(nullptr, "k"), -1);
    evhttp_clear_headers(nullptr);
    EXPECT_EQ(evhttp_parse_query_str("a=1", nullptr), -1);
    evkeyvalq q;
    EXPECT_EQ(evhttp_parse_query(nullptr, &q), -1);
    EXPECT_EQ(q.tqh_first, nullptr);
    EXPECT_EQ(evhttp_parse_query_str(nullptr, &q), 0);
    EXPECT_EQ(q.tqh_first, nullptr);
}

}  // namespace
