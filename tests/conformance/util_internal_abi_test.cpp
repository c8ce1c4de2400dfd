// libevent-internal helpers that libevent 2.1's core exports without a public header, which
// programs and libevent's own regress suite call: no header declares them, so this file
// does, with libevent's signatures. Each case is checked against the system libevent too.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/util.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <string>

#include "helpers.h"

extern "C" {
int EVUTIL_ISALPHA_(char c);
int EVUTIL_ISALNUM_(char c);
int EVUTIL_ISSPACE_(char c);
int EVUTIL_ISDIGIT_(char c);
int EVUTIL_ISXDIGIT_(char c);
int EVUTIL_ISPRINT_(char c);
int EVUTIL_ISLOWER_(char c);
int EVUTIL_ISUPPER_(char c);
char EVUTIL_TOUPPER_(char c);
char EVUTIL_TOLOWER_(char c);
void evutil_rtrim_lws_(char *str);
int evutil_v4addr_is_local_(const struct in_addr *in);
int evutil_v6addr_is_local_(const struct in6_addr *in);
int evutil_sockaddr_is_loopback_(const struct sockaddr *sa);
const char *evutil_format_sockaddr_port_(const struct sockaddr *sa, char *out, size_t outlen);
int evutil_configure_monotonic_time_(struct evutil_monotonic_timer *timer, int flags);
int evutil_gettime_monotonic_(struct evutil_monotonic_timer *timer, struct timeval *tp);
void event_warn(const char *fmt, ...);
void event_sock_warn(evutil_socket_t sock, const char *fmt, ...);
void event_debugx_(const char *fmt, ...);
void event_err(int eval, const char *fmt, ...);
void event_errx(int eval, const char *fmt, ...);
void event_sock_err(int eval, evutil_socket_t sock, const char *fmt, ...);
void event_logv_(int severity, const char *errstr, const char *fmt, va_list ap);
}

namespace {

TEST(InternalCtype, ClassesAreAsciiOnlyInEveryByte) {
    for (int i = 0; i < 256; ++i) {
        const char c = static_cast<char>(i);
        const bool ascii = i < 0x80;
        SCOPED_TRACE(i);
        EXPECT_EQ(EVUTIL_ISDIGIT_(c), ascii && i >= '0' && i <= '9');
        EXPECT_EQ(EVUTIL_ISUPPER_(c), ascii && i >= 'A' && i <= 'Z');
        EXPECT_EQ(EVUTIL_ISLOWER_(c), ascii && i >= 'a' && i <= 'z');
        EXPECT_EQ(EVUTIL_ISALPHA_(c), EVUTIL_ISUPPER_(c) || EVUTIL_ISLOWER_(c));
        EXPECT_EQ(EVUTIL_ISALNUM_(c), EVUTIL_ISALPHA_(c) || EVUTIL_ISDIGIT_(c));
        EXPECT_EQ(EVUTIL_ISXDIGIT_(c), EVUTIL_ISDIGIT_(c) || (ascii && std::strchr("abcdefABCDEF", i) && i));
        EXPECT_EQ(EVUTIL_ISSPACE_(c), i == ' ' || (i >= 9 && i <= 13));
        EXPECT_EQ(EVUTIL_ISPRINT_(c), i >= 32 && i < 127);
        EXPECT_EQ(EVUTIL_TOUPPER_(c), EVUTIL_ISLOWER_(c) ? static_cast<char>(i - 32) : c);
        EXPECT_EQ(EVUTIL_TOLOWER_(c), EVUTIL_ISUPPER_(c) ? static_cast<char>(i + 32) : c);
    }
}

std::string rtrimmed(const char *s) {
    std::string copy(s);
    evutil_rtrim_lws_(copy.data());
    return copy.c_str();
}

TEST(InternalRtrim, CutsOnlyTrailingSpacesAndTabs) {
    EXPECT_EQ(rtrimmed(""), "");
    EXPECT_EQ(rtrimmed(" \t \t"), "");
    EXPECT_EQ(rtrimmed("x y\t "), "x y");
    EXPECT_EQ(rtrimmed("\tlead"), "\tlead");
    EXPECT_EQ(rtrimmed("line\r\n"), "line\r\n");  // only blanks, not CR/LF
    EXPECT_EQ(rtrimmed("v \n "), "v \n");
    evutil_rtrim_lws_(nullptr);  // accepted, nothing happens
}

int v4_local(const char *text) {
    in_addr a;
    EXPECT_EQ(inet_pton(AF_INET, text, &a), 1) << text;
    return evutil_v4addr_is_local_(&a);
}

TEST(InternalAddrIsLocal, V4AnyLoopbackLinkLocalMulticast) {
    for (const char *yes : {"0.0.0.0", "127.0.0.1", "127.200.1.2", "169.254.3.4",
                            "224.0.0.1", "239.1.2.3"})
        EXPECT_EQ(v4_local(yes), 1) << yes;
    for (const char *no : {"0.0.0.1", "126.255.255.255", "128.0.0.0", "169.253.0.1",
                           "169.255.0.0", "10.0.0.1", "192.168.1.1", "223.255.255.255",
                           "240.0.0.1", "255.255.255.255"})
        EXPECT_EQ(v4_local(no), 0) << no;
}

int v6_local(const char *text) {
    in6_addr a;
    EXPECT_EQ(inet_pton(AF_INET6, text, &a), 1) << text;
    return evutil_v6addr_is_local_(&a);
}

TEST(InternalAddrIsLocal, V6ZeroPrefixUniqueLinkSiteLocalMulticast) {
    for (const char *yes : {"::", "::1", "::ffff:10.0.0.1", "::0:1:2:3:4", "fc00::1",
                            "fdff::2", "fe80::1", "febf::1", "fec0::1", "feff::1", "ff02::1"})
        EXPECT_EQ(v6_local(yes), 1) << yes;
    for (const char *no : {"0:0:0:1::", "64:ff9b::1", "2001:db8::1", "fb00::1", "fe7f::1",
                           "fe00::1"})
        EXPECT_EQ(v6_local(no), 0) << no;
}

int loopback(const char *text) {
    sockaddr_storage ss;
    int len = sizeof ss;
    EXPECT_EQ(evutil_parse_sockaddr_port(text, reinterpret_cast<sockaddr *>(&ss), &len), 0)
        << text;
    return evutil_sockaddr_is_loopback_(reinterpret_cast<sockaddr *>(&ss));
}

TEST(InternalSockaddr, LoopbackIs127Slash8OrExactlyColonColon1) {
    EXPECT_EQ(loopback("127.0.0.1"), 1);
    EXPECT_EQ(loopback("127.9.8.7:80"), 1);
    EXPECT_EQ(loopback("128.0.0.1"), 0);
    EXPECT_EQ(loopback("0.0.0.0"), 0);
    EXPECT_EQ(loopback("[::1]:8080"), 1);
    EXPECT_EQ(loopback("::2"), 0);
    EXPECT_EQ(loopback("::ffff:127.0.0.1"), 0);
    sockaddr un{};
    un.sa_family = AF_UNIX;
    EXPECT_EQ(evutil_sockaddr_is_loopback_(&un), 0);
}

TEST(InternalSockaddr, FormatWithPort) {
    char out[64];
    sockaddr_storage ss;
    int len = sizeof ss;
    auto *sa = reinterpret_cast<sockaddr *>(&ss);
    ASSERT_EQ(evutil_parse_sockaddr_port("10.1.2.3:4567", sa, &len), 0);
    EXPECT_EQ(evutil_format_sockaddr_port_(sa, out, sizeof out), out);
    EXPECT_STREQ(out, "10.1.2.3:4567");
    len = sizeof ss;
    ASSERT_EQ(evutil_parse_sockaddr_port("[2001:db8::5]:80", sa, &len), 0);
    evutil_format_sockaddr_port_(sa, out, sizeof out);
    EXPECT_STREQ(out, "[2001:db8::5]:80");
    evutil_format_sockaddr_port_(sa, out, 8);  // truncated, still terminated
    EXPECT_STREQ(out, "[2001:d");
    sockaddr un{};
    un.sa_family = AF_UNIX;
    evutil_format_sockaddr_port_(&un, out, sizeof out);
    EXPECT_STREQ(out, "<addr with socktype 1>");
}

// The caller owns the timer's storage (libevent's private struct: 40 bytes on Linux).
struct TimerStorage {
    alignas(8) unsigned char bytes[40];
    evutil_monotonic_timer *get() { return reinterpret_cast<evutil_monotonic_timer *>(bytes); }
};

TEST(InternalMonotonic, CallerStorageTimersNeverGoBackwards) {
    for (int flags : {0, EV_MONOT_PRECISE, EV_MONOT_FALLBACK}) {
        SCOPED_TRACE(flags);
        TimerStorage t;
        std::memset(t.bytes, 0xa5, sizeof t.bytes);  // garbage, as on a stack
        ASSERT_EQ(evutil_configure_monotonic_time_(t.get(), flags), 0);
        timeval prev{}, cur{};
        ASSERT_EQ(evutil_gettime_monotonic_(t.get(), &prev), 0);
        const double start = conf::now_ms();
        int steps = 0;
        while (steps < 5 && conf::now_ms() - start < 2000) {
            ASSERT_EQ(evutil_gettime_monotonic_(t.get(), &cur), 0);
            ASSERT_FALSE(evutil_timercmp(&cur, &prev, <));
            if (evutil_timercmp(&cur, &prev, >)) ++steps;
            prev = cur;
        }
        EXPECT_EQ(steps, 5);
    }
}

TEST(InternalLog, WarnAppendsErrnoTextAndSockWarnTheSocketError) {
    conf::LogCapture log;
    errno = ENOENT;
    event_warn("open %s", "/nope");
    errno = EAGAIN;
    event_sock_warn(-1, "sock %d", 3);
    ASSERT_EQ(log.messages().size(), 2u);
    EXPECT_EQ(log.messages()[0].first, EVENT_LOG_WARN);
    EXPECT_EQ(log.messages()[0].second, std::string("open /nope: ") + std::strerror(ENOENT));
    EXPECT_EQ(log.messages()[1].first, EVENT_LOG_WARN);
    EXPECT_EQ(log.messages()[1].second, std::string("sock 3: ") + std::strerror(EAGAIN));
}

void logv_helper(int severity, const char *errstr, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    event_logv_(severity, errstr, fmt, ap);
    va_end(ap);
}

TEST(InternalLog, DebugOnlyWhileDebugLoggingIsOnAndLogvTakesAnErrorText) {
    conf::LogCapture log;
    event_debugx_("hidden %d", 1);
    EXPECT_TRUE(log.messages().empty());
    event_enable_debug_logging(EVENT_DBG_ALL);
    event_debugx_("shown %d", 2);
    event_enable_debug_logging(EVENT_DBG_NONE);
    logv_helper(EVENT_LOG_MSG, "why", "what %s", "now");
    ASSERT_EQ(log.messages().size(), 2u);
    EXPECT_EQ(log.messages()[0].first, EVENT_LOG_DEBUG);
    EXPECT_EQ(log.messages()[0].second, "shown 2");
    EXPECT_EQ(log.messages()[1].first, EVENT_LOG_MSG);
    EXPECT_EQ(log.messages()[1].second, "what now: why");
}

void print_to_stderr(int severity, const char *msg) {
    std::fprintf(stderr, "<%d|%s>", severity, msg);
}

void exit_with_double(int err) { std::exit(err * 2); }

TEST(InternalLogDeathTest, ErrorsLogThenExitWithTheirCode) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            event_set_log_callback(print_to_stderr);
            event_errx(7, "bad %s", "thing");
        },
        ::testing::ExitedWithCode(7), "<3\\|bad thing>");
    EXPECT_EXIT(
        {
            event_set_log_callback(print_to_stderr);
            errno = EPIPE;
            event_err(9, "pipe");
        },
        ::testing::ExitedWithCode(9), "pipe: Broken pipe");
    EXPECT_EXIT(
        {
            event_set_log_callback(print_to_stderr);
            event_set_fatal_callback(exit_with_double);
            errno = EBADF;
            event_sock_err(5, -1, "sock");
        },
        ::testing::ExitedWithCode(10), "sock: Bad file descriptor");
}

}  // namespace
