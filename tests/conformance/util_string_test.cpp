// util.h string and comparison helpers: evutil_snprintf/vsnprintf, the ASCII case-insensitive
// comparisons, evutil_sockaddr_cmp, evutil_date_rfc1123 and the evutil_timer* macros.
#include <event2/util.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstdarg>
#include <cstring>
#include <string>

namespace {

TEST(Snprintf, AlwaysTerminatesAndReturnsFullLength) {
    char buf[8];
    std::memset(buf, 'x', sizeof buf);
    EXPECT_EQ(evutil_snprintf(buf, 3, "%s", "hello"), 5);
    EXPECT_STREQ(buf, "he");
    EXPECT_EQ(buf[3], 'x');
    EXPECT_EQ(evutil_snprintf(buf, sizeof buf, "%d-%s", 42, "ab"), 5);
    EXPECT_STREQ(buf, "42-ab");
    EXPECT_EQ(evutil_snprintf(buf, 1, "%s", "abc"), 3);
    EXPECT_EQ(buf[0], '\0');
}

TEST(Snprintf, ZeroLengthBufferReturnsZeroAndWritesNothing) {
    char buf[4] = {'q', 'q', 'q', 'q'};
    EXPECT_EQ(evutil_snprintf(buf, 0, "%s", "hello"), 0);
    EXPECT_EQ(buf[0], 'q');
    EXPECT_EQ(evutil_snprintf(nullptr, 0, "%s", "hello"), 0);
}

int call_vsnprintf(char *buf, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = evutil_vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return r;
}

TEST(Snprintf, VsnprintfSameContract) {
    char buf[6];
    EXPECT_EQ(call_vsnprintf(buf, sizeof buf, "%05d|%x", 7, 255), 8);
    EXPECT_STREQ(buf, "00007");
    EXPECT_EQ(call_vsnprintf(buf, 0, "%d", 1), 0);
}

TEST(AsciiStrcasecmp, OrdersIgnoringAsciiCaseOnly) {
    EXPECT_EQ(evutil_ascii_strcasecmp("abc", "ABC"), 0);
    EXPECT_EQ(evutil_ascii_strcasecmp("Zz", "zZ"), 0);
    EXPECT_EQ(evutil_ascii_strcasecmp("abc", "ABD"), -1);
    EXPECT_EQ(evutil_ascii_strcasecmp("b", "A"), 1);
    EXPECT_EQ(evutil_ascii_strcasecmp("ab", "abc"), -1);
    EXPECT_EQ(evutil_ascii_strcasecmp("abc", "ab"), 1);
    EXPECT_EQ(evutil_ascii_strcasecmp("", ""), 0);
    // '[' sorts after 'Z' but before 'a': case folding is to lower case.
    EXPECT_EQ(evutil_ascii_strcasecmp("[", "a"), -1);
    EXPECT_EQ(evutil_ascii_strcasecmp("[", "A"), -1);
    // Bytes >= 0x80 are not folded and compare as signed chars (below ASCII), as libevent.
    EXPECT_EQ(evutil_ascii_strcasecmp("\xe9", "a"), -1);
    EXPECT_EQ(evutil_ascii_strcasecmp("a", "\xe9"), 1);
    EXPECT_EQ(evutil_ascii_strcasecmp("\xc9", "\xe9"), -1);
}

TEST(AsciiStrcasecmp, NVariantStopsAfterN) {
    EXPECT_EQ(evutil_ascii_strncasecmp("abcx", "ABCy", 3), 0);
    EXPECT_EQ(evutil_ascii_strncasecmp("abcx", "ABCy", 4), -1);
    EXPECT_EQ(evutil_ascii_strncasecmp("a", "b", 0), 0);
    EXPECT_EQ(evutil_ascii_strncasecmp("ab", "AB", 100), 0);
    EXPECT_EQ(evutil_ascii_strncasecmp("ab", "ABc", 100), -1);
    EXPECT_EQ(evutil_ascii_strncasecmp("Content-Length", "content-length: 5", 14), 0);
}

sockaddr_in v4(const char *addr, int port) {
    sockaddr_in sin;
    std::memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, addr, &sin.sin_addr);
    sin.sin_port = htons(port);
    return sin;
}

sockaddr_in6 v6(const char *addr, int port) {
    sockaddr_in6 sin6;
    std::memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, addr, &sin6.sin6_addr);
    sin6.sin6_port = htons(port);
    return sin6;
}

int cmp(const void *a, const void *b, int include_port) {
    return evutil_sockaddr_cmp(static_cast<const sockaddr *>(a), static_cast<const sockaddr *>(b),
                               include_port);
}

TEST(SockaddrCmp, FamilyDifferenceFirst) {
    sockaddr_in a = v4("1.2.3.4", 1);
    sockaddr_in6 b = v6("::1", 1);
    EXPECT_EQ(cmp(&b, &a, 1), AF_INET6 - AF_INET);
    EXPECT_EQ(cmp(&a, &b, 1), AF_INET - AF_INET6);
}

TEST(SockaddrCmp, Ipv4ComparesStoredAddressThenPort) {
    sockaddr_in a = v4("1.1.1.1", 5), b = v4("1.1.1.1", 9);
    EXPECT_EQ(cmp(&a, &a, 1), 0);
    EXPECT_EQ(cmp(&a, &b, 0), 0);
    // Ordering is by the stored (network-order) integer, as libevent: -1/1 for addresses,
    // the raw difference of the stored ports.
    sockaddr_in c = v4("0.0.0.1", 0), d = v4("0.0.0.9", 0);
    EXPECT_EQ(cmp(&c, &d, 0), -1);
    EXPECT_EQ(cmp(&d, &c, 0), 1);
    sockaddr_in e = v4("1.0.0.2", 0), f = v4("2.0.0.1", 0);
    EXPECT_EQ(cmp(&e, &f, 0), 1);
    EXPECT_EQ(cmp(&f, &e, 0), -1);
    EXPECT_EQ(cmp(&a, &b, 1), (int)htons(5) - (int)htons(9));
    EXPECT_EQ(cmp(&b, &a, 1), (int)htons(9) - (int)htons(5));
}

TEST(SockaddrCmp, Ipv6ComparesBytesThenPort) {
    sockaddr_in6 a = v6("::1", 1), b = v6("::5", 1);
    EXPECT_LT(cmp(&a, &b, 1), 0);
    EXPECT_GT(cmp(&b, &a, 1), 0);
    EXPECT_EQ(cmp(&a, &a, 1), 0);
    sockaddr_in6 c = v6("::1", 1), d = v6("::1", 256);
    EXPECT_EQ(cmp(&c, &d, 0), 0);
    EXPECT_EQ(cmp(&c, &d, 1), (int)htons(1) - (int)htons(256));
}

TEST(SockaddrCmp, UnknownFamiliesNeverCompareEqual) {
    sockaddr_un a;
    std::memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    EXPECT_EQ(cmp(&a, &a, 1), 1);
    EXPECT_EQ(cmp(&a, &a, 0), 1);
}

tm sample_tm() {
    tm t;
    std::memset(&t, 0, sizeof t);
    t.tm_year = 94;
    t.tm_mon = 10;
    t.tm_mday = 6;
    t.tm_hour = 8;
    t.tm_min = 49;
    t.tm_sec = 37;
    t.tm_wday = 0;
    return t;
}

TEST(DateRfc1123, FormatsGivenTime) {
    tm t = sample_tm();
    char buf[64];
    EXPECT_EQ(evutil_date_rfc1123(buf, sizeof buf, &t), 29);
    EXPECT_STREQ(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
    t.tm_wday = 6;
    t.tm_mon = 11;
    t.tm_year = 2026 - 1900;
    t.tm_mday = 31;
    EXPECT_EQ(evutil_date_rfc1123(buf, sizeof buf, &t), 29);
    EXPECT_STREQ(buf, "Sat, 31 Dec 2026 08:49:37 GMT");
}

TEST(DateRfc1123, TruncatesLikeSnprintf) {
    tm t = sample_tm();
    char buf[10];
    EXPECT_EQ(evutil_date_rfc1123(buf, sizeof buf, &t), 29);
    EXPECT_STREQ(buf, "Sun, 06 N");
    t.tm_year = 5 - 1900;
    char wide[64];
    EXPECT_EQ(evutil_date_rfc1123(wide, sizeof wide, &t), 29);
    EXPECT_STREQ(wide, "Sun, 06 Nov    5 08:49:37 GMT");
}

TEST(DateRfc1123, NullTmMeansNowInGmt) {
    char buf[64];
    time_t before = time(nullptr);
    ASSERT_EQ(evutil_date_rfc1123(buf, sizeof buf, nullptr), 29);
    time_t after = time(nullptr);
    std::string got = buf;
    bool matched = false;
    for (time_t t = before; t <= after; ++t) {
        tm g;
        gmtime_r(&t, &g);
        char want[64];
        strftime(want, sizeof want, "%a, %d %b %Y %H:%M:%S GMT", &g);
        if (got == want) matched = true;
    }
    EXPECT_TRUE(matched) << got;
}

TEST(TimerMacros, AddSubCompareClear) {
    timeval a{1, 900000}, b{2, 200000}, r;
    evutil_timeradd(&a, &b, &r);
    EXPECT_EQ(r.tv_sec, 4);
    EXPECT_EQ(r.tv_usec, 100000);
    evutil_timersub(&b, &a, &r);
    EXPECT_EQ(r.tv_sec, 0);
    EXPECT_EQ(r.tv_usec, 300000);
    EXPECT_TRUE(evutil_timercmp(&a, &b, <));
    EXPECT_TRUE(evutil_timercmp(&b, &a, >=));
    EXPECT_TRUE(evutil_timercmp(&a, &a, ==));
    EXPECT_TRUE(evutil_timerisset(&a));
    evutil_timerclear(&a);
    EXPECT_FALSE(evutil_timerisset(&a));
    timeval now;
    EXPECT_EQ(evutil_gettimeofday(&now, nullptr), 0);
    EXPECT_GT(now.tv_sec, 1600000000);
}

}  // namespace
