// Misuse that crashes or reads out of bounds in libevent 2.1.12 and must fail cleanly in
// reevent (NULL arguments, out-of-range struct tm fields). Skipped on libevent.
#include <event2/util.h>
#include <gtest/gtest.h>

#include <cstring>

#include "differences.h"

namespace {

#define SKIP_ON_LIBEVENT() \
    if (!conf::kIsReevent) GTEST_SKIP() << "crashes libevent 2.1.12"

TEST(UtilRobustness, NullArgumentsAreErrorsNotCrashes) {
    SKIP_ON_LIBEVENT();
    sockaddr_storage ss;
    int len = sizeof ss;
    EXPECT_EQ(evutil_parse_sockaddr_port(nullptr, reinterpret_cast<sockaddr *>(&ss), &len), -1);
    EXPECT_EQ(evutil_parse_sockaddr_port("1.2.3.4", nullptr, &len), -1);
    EXPECT_EQ(evutil_parse_sockaddr_port("1.2.3.4", reinterpret_cast<sockaddr *>(&ss), nullptr),
              -1);
    unsigned char buf[16];
    EXPECT_EQ(evutil_inet_pton(AF_INET, nullptr, buf), -1);
    EXPECT_EQ(evutil_inet_pton(AF_INET, "1.2.3.4", nullptr), -1);
    EXPECT_EQ(evutil_inet_pton_scope(AF_INET6, nullptr, buf, nullptr), -1);
    // A NULL index pointer is fine when the caller does not want the scope.
    EXPECT_EQ(evutil_inet_pton_scope(AF_INET6, "fe80::1%3", buf, nullptr), 1);
    char text[64];
    EXPECT_EQ(evutil_inet_ntop(AF_INET, nullptr, text, sizeof text), nullptr);
    EXPECT_EQ(evutil_inet_ntop(AF_INET, buf, nullptr, sizeof text), nullptr);
    EXPECT_EQ(evutil_getaddrinfo("1.2.3.4", nullptr, nullptr, nullptr), EVUTIL_EAI_FAIL);
    evutil_freeaddrinfo(nullptr);
    EXPECT_EQ(evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, nullptr), -1);
    EXPECT_EQ(evutil_configure_monotonic_time(nullptr, 0), -1);
    timeval tv;
    EXPECT_EQ(evutil_gettime_monotonic(nullptr, &tv), -1);
    evutil_monotonic_timer *t = evutil_monotonic_timer_new();
    EXPECT_EQ(evutil_gettime_monotonic(t, nullptr), -1);
    evutil_monotonic_timer_free(t);
    evutil_secure_rng_get_bytes(nullptr, 16);
}

TEST(UtilRobustness, DateWithOutOfRangeFieldsFails) {
    SKIP_ON_LIBEVENT();
    tm t;
    std::memset(&t, 0, sizeof t);
    char buf[64];
    t.tm_wday = 7;
    EXPECT_EQ(evutil_date_rfc1123(buf, sizeof buf, &t), -1);
    EXPECT_STREQ(buf, "");
    t.tm_wday = 0;
    t.tm_mon = -1;
    EXPECT_EQ(evutil_date_rfc1123(buf, sizeof buf, &t), -1);
    t.tm_mon = 12;
    EXPECT_EQ(evutil_date_rfc1123(buf, sizeof buf, &t), -1);
    t.tm_mon = 0;
    t.tm_year = 2147483647;  // 1900 + tm_year does not overflow
    EXPECT_GT(evutil_date_rfc1123(buf, sizeof buf, &t), 29);
}

}  // namespace
