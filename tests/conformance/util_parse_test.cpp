// Table tests of the util.h parsers on malformed and edge-case input:
// evutil_parse_sockaddr_port, evutil_inet_pton, evutil_inet_pton_scope, evutil_inet_ntop and
// evutil_strtoll. Every expected value below was observed on libevent 2.1.12.
#include <event2/util.h>
#include <gtest/gtest.h>

#include "differences.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cctype>
#include <cstring>
#include <string>

namespace {

// A test-name suffix from a table input: its index and its alphanumerics.
std::string case_name(size_t index, const char *input) {
    std::string name = "n" + std::to_string(index) + "_";
    for (const char *p = input; *p && name.size() < 40; ++p)
        name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
    return name;
}

template <class Case>
std::string param_name(const ::testing::TestParamInfo<Case> &info) {
    return case_name(info.index, info.param.input);
}

struct SockaddrCase {
    const char *input;
    int result;        // 0 or -1
    int family;        // AF_INET / AF_INET6 when result == 0
    const char *addr;  // inet_ntop of the parsed address
    int port;
    unsigned scope;
};

// What evutil_parse_sockaddr_port accepts and rejects (outlen = sizeof(sockaddr_storage)).
const SockaddrCase kSockaddrCases[] = {
    {"1.2.3.4", 0, AF_INET, "1.2.3.4", 0, 0},
    {"1.2.3.4:80", 0, AF_INET, "1.2.3.4", 80, 0},
    {"1.2.3.4:65535", 0, AF_INET, "1.2.3.4", 65535, 0},
    {"1.2.3.4:1", 0, AF_INET, "1.2.3.4", 1, 0},
    // The port is read like atoi: leading blanks and sign, trailing junk ignored.
    {"1.2.3.4:80x", 0, AF_INET, "1.2.3.4", 80, 0},
    {"1.2.3.4: 80", 0, AF_INET, "1.2.3.4", 80, 0},
    {"1.2.3.4:+80", 0, AF_INET, "1.2.3.4", 80, 0},
    {"1.2.3.4:00080", 0, AF_INET, "1.2.3.4", 80, 0},
    {" 1.2.3.4:80", 0, AF_INET, "1.2.3.4", 80, 0},
    {"01.2.3.4", 0, AF_INET, "1.2.3.4", 0, 0},
    // Port out of range, zero, negative, empty, hex, overflowing.
    {"1.2.3.4:0", -1, 0, nullptr, 0, 0},
    {"1.2.3.4:65536", -1, 0, nullptr, 0, 0},
    {"1.2.3.4:-1", -1, 0, nullptr, 0, 0},
    {"1.2.3.4:", -1, 0, nullptr, 0, 0},
    {"1.2.3.4:x", -1, 0, nullptr, 0, 0},
    {"1.2.3.4:0x50", -1, 0, nullptr, 0, 0},
    {"1.2.3.4:99999999999999999999", -1, 0, nullptr, 0, 0},
    // Malformed addresses.
    {"", -1, 0, nullptr, 0, 0},
    {":80", -1, 0, nullptr, 0, 0},
    {"1.2.3", -1, 0, nullptr, 0, 0},
    {"1.2.3.256", -1, 0, nullptr, 0, 0},
    {"1.2.3.4 ", -1, 0, nullptr, 0, 0},
    {"localhost:80", -1, 0, nullptr, 0, 0},
    {"1.2.3.4:80:90", -1, 0, nullptr, 0, 0},
    {"[1.2.3.4]:80", -1, 0, nullptr, 0, 0},
    // IPv6, bracketed or bare.
    {"[::1]", 0, AF_INET6, "::1", 0, 0},
    {"[::1]:80", 0, AF_INET6, "::1", 80, 0},
    {"[::1]:00080", 0, AF_INET6, "::1", 80, 0},
    {"[ffff::1]:65535", 0, AF_INET6, "ffff::1", 65535, 0},
    {"[::ffff:1.2.3.4]:8", 0, AF_INET6, "::ffff:1.2.3.4", 8, 0},
    {"::1", 0, AF_INET6, "::1", 0, 0},
    {"1:2::1", 0, AF_INET6, "1:2::1", 0, 0},
    // Two colons without brackets: the whole string is an address, never "addr:port".
    {"::1:80", 0, AF_INET6, "::0.1.0.128", 0, 0},
    // Whatever follows "]" other than ":port" is ignored.
    {"[::1]x", 0, AF_INET6, "::1", 0, 0},
    {"[::1]:8]", 0, AF_INET6, "::1", 8, 0},
    {"[::1", -1, 0, nullptr, 0, 0},
    {"[]", -1, 0, nullptr, 0, 0},
    {"[]:80", -1, 0, nullptr, 0, 0},
    {"[::1]:", -1, 0, nullptr, 0, 0},
    {"[::1]:0", -1, 0, nullptr, 0, 0},
    {"[::1]:65536", -1, 0, nullptr, 0, 0},
    {"[::1]:-1", -1, 0, nullptr, 0, 0},
    {"::1 ", -1, 0, nullptr, 0, 0},
    {"1::2::3", -1, 0, nullptr, 0, 0},
    // Scope ids: numeric (strtoul, so blanks and a wrapped -1 pass), empty, or junk.
    {"[fe80::1%1]:80", 0, AF_INET6, "fe80::1", 80, 1},
    {"fe80::1%2", 0, AF_INET6, "fe80::1", 0, 2},
    {"[fe80::1%]:80", 0, AF_INET6, "fe80::1", 80, 0},
    {"[fe80::1% 5]:80", 0, AF_INET6, "fe80::1", 80, 5},
    {"[fe80::1%-1]:80", 0, AF_INET6, "fe80::1", 80, 4294967295u},
    {"[fe80::1%xyz]:80", -1, 0, nullptr, 0, 0},
    {"[fe80::1%12abc]:80", -1, 0, nullptr, 0, 0},
};

class ParseSockaddrPortTable : public ::testing::TestWithParam<SockaddrCase> {};

TEST_P(ParseSockaddrPortTable, ResultAddressPortAndLengthAsLibevent) {
    const SockaddrCase &c = GetParam();
    sockaddr_storage ss;
    std::memset(&ss, 0xab, sizeof ss);
    int len = sizeof ss;
    int r = evutil_parse_sockaddr_port(c.input, reinterpret_cast<sockaddr *>(&ss), &len);
    ASSERT_EQ(r, c.result) << "input \"" << c.input << "\"";
    if (r != 0) {
        // Failure leaves both the length and the output untouched.
        EXPECT_EQ(len, (int)sizeof ss);
        EXPECT_EQ(reinterpret_cast<unsigned char *>(&ss)[0], 0xab);
        return;
    }
    ASSERT_EQ(ss.ss_family, c.family);
    char text[INET6_ADDRSTRLEN] = "";
    if (c.family == AF_INET) {
        auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
        EXPECT_EQ(len, (int)sizeof(sockaddr_in));
        inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
        EXPECT_EQ(ntohs(sin->sin_port), c.port);
    } else {
        auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
        EXPECT_EQ(len, (int)sizeof(sockaddr_in6));
        inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
        EXPECT_EQ(ntohs(sin6->sin6_port), c.port);
        EXPECT_EQ(sin6->sin6_scope_id, c.scope);
        EXPECT_EQ(sin6->sin6_flowinfo, 0u);
    }
    EXPECT_STREQ(text, c.addr);
    // The whole room the caller offered is cleared before the address is written.
    auto *bytes = reinterpret_cast<unsigned char *>(&ss);
    for (size_t i = (size_t)len; i < sizeof ss; ++i) ASSERT_EQ(bytes[i], 0) << "byte " << i;
}

INSTANTIATE_TEST_SUITE_P(Cases, ParseSockaddrPortTable, ::testing::ValuesIn(kSockaddrCases),
                         param_name<SockaddrCase>);

int parse_with_room(const char *s, int room, sockaddr_storage *ss, int *len) {
    std::memset(ss, 0xab, sizeof *ss);
    *len = room;
    return evutil_parse_sockaddr_port(s, reinterpret_cast<sockaddr *>(ss), len);
}

TEST(ParseSockaddrPort, FailsWhenOutputIsTooSmallAndLeavesLengthAlone) {
    sockaddr_storage ss;
    int len;
    EXPECT_EQ(parse_with_room("1.2.3.4:80", sizeof(sockaddr_in), &ss, &len), 0);
    EXPECT_EQ(len, (int)sizeof(sockaddr_in));
    EXPECT_EQ(parse_with_room("1.2.3.4:80", sizeof(sockaddr_in) - 1, &ss, &len), -1);
    EXPECT_EQ(len, (int)sizeof(sockaddr_in) - 1);
    EXPECT_EQ(reinterpret_cast<unsigned char *>(&ss)[0], 0xab);
    EXPECT_EQ(parse_with_room("[::1]:80", sizeof(sockaddr_in6), &ss, &len), 0);
    EXPECT_EQ(len, (int)sizeof(sockaddr_in6));
    EXPECT_EQ(parse_with_room("[::1]:80", sizeof(sockaddr_in6) - 1, &ss, &len), -1);
    EXPECT_EQ(parse_with_room("1.2.3.4:80", 0, &ss, &len), -1);
    EXPECT_EQ(parse_with_room("1.2.3.4:80", -1, &ss, &len), -1);
    EXPECT_EQ(len, -1);
}

// libevent reads the port with atoi, so a number that wraps modulo 2^32 into 1..65535 is
// accepted as that port; reevent rejects any port outside 1..65535 as written.
TEST(ParseSockaddrPort, PortThatWrapsModulo32Bits) {
    sockaddr_storage ss;
    int len;
    for (const char *s : {"1.2.3.4:4294967376", "1.2.3.4:-4294967216", "[::1]:4294967376"}) {
        int r = parse_with_room(s, sizeof ss, &ss, &len);
        if (conf::kStrictSockaddrPort) {
            EXPECT_EQ(r, -1) << s;
        } else {
            ASSERT_EQ(r, 0) << s;
            EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port), 80) << s;
        }
    }
}

TEST(ParseSockaddrPort, ScopeByInterfaceName) {
    unsigned lo = if_nametoindex("lo");
    if (lo == 0) GTEST_SKIP() << "no loopback interface";
    sockaddr_storage ss;
    int len;
    ASSERT_EQ(parse_with_room("[fe80::1%lo]:80", sizeof ss, &ss, &len), 0);
    EXPECT_EQ(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_scope_id, lo);
}

TEST(ParseSockaddrPort, OverlongInputIsRejectedWithoutOverflow) {
    std::string bracketed = "[" + std::string(200, '1') + "]:80";
    std::string v4(150, '1');  // built in place: GCC 12 warns falsely on string(150) + ":80"
    v4 += ":80";
    std::string v6 = std::string(5000, ':');
    sockaddr_storage ss;
    int len;
    EXPECT_EQ(parse_with_room(bracketed.c_str(), sizeof ss, &ss, &len), -1);
    EXPECT_EQ(parse_with_room(v4.c_str(), sizeof ss, &ss, &len), -1);
    EXPECT_EQ(parse_with_room(v6.c_str(), sizeof ss, &ss, &len), -1);
    // A long but valid form (zero-padded port) still parses.
    std::string padded = "1.2.3.4:" + std::string(100, '0') + "80";
    EXPECT_EQ(parse_with_room(padded.c_str(), sizeof ss, &ss, &len), 0);
    EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port), 80);
}

// ---- inet_pton / inet_pton_scope ----------------------------------------------------------

struct PtonCase {
    int af;
    const char *input;
    int pton;    // evutil_inet_pton result
    int scoped;  // evutil_inet_pton_scope result
    unsigned index;
};

const PtonCase kPtonCases[] = {
    {AF_INET, "1.2.3.4", 1, 1, 0},
    {AF_INET, "01.2.3.4", 1, 1, 0},
    {AF_INET, " 1.2.3.4", 1, 1, 0},
    {AF_INET, "1.2.3.4 ", 0, 0, 0},
    {AF_INET, "1.2.3.256", 0, 0, 0},
    {AF_INET, "1.2.3", 0, 0, 0},
    {AF_INET, "", 0, 0, 0},
    {AF_INET, "::1", 0, 0, 0},
    {AF_INET, "1.2.3.4%1", 0, 0, 0},
    // libevent reads each dotted field like scanf's %u: blanks and a sign before each one.
    {AF_INET, "1. 2. 3. 4", 1, 1, 0},
    {AF_INET, "+1.2.3.4", 1, 1, 0},
    {AF_INET, "-0.2.3.4", 1, 1, 0},
    {AF_INET, "-1.2.3.4", 0, 0, 0},
    {AF_INET, "1 .2.3.4", 0, 0, 0},
    {AF_INET, "1.2.3.4.5", 0, 0, 0},
    {AF_INET, "1.2.3.4\n", 0, 0, 0},
    {AF_INET, "0x1.2.3.4", 0, 0, 0},
    {AF_INET6, "::1", 1, 1, 0},
    {AF_INET6, "::ffff:1.2.3.4", 1, 1, 0},
    {AF_INET6, "1.2.3.4", 0, 0, 0},
    {AF_INET6, "", 0, 0, 0},
    {AF_INET6, ":::", 0, 0, 0},
    {AF_INET6, "1::2::3", 0, 0, 0},
    // IPv6 words are read like strtol base 16: a "0x" prefix counts toward the 4 characters.
    {AF_INET6, "0x1::2", 1, 1, 0},
    {AF_INET6, "0x123::2", 0, 0, 0},
    {AF_INET6, "00001::", 0, 0, 0},
    {AF_INET6, "::ffff1.2.3.4", 0, 0, 0},
    {AF_INET6, "::ffff: 1.2.3.4", 0, 0, 0},
    {AF_INET6, "::1. 2.3.4", 1, 1, 0},
    {AF_INET6, "1:2:3:4:5:6:7::", 1, 1, 0},
    {AF_INET6, "1:2:3:4:5:6:7:8:9", 0, 0, 0},
    {AF_INET6, "::1:2:3:4:5:6:7:8", 0, 0, 0},
    {AF_INET6, ":1::", 0, 0, 0},
    {AF_INET6, "1:", 0, 0, 0},
    {AF_INET6, "1:::2", 0, 0, 0},
    {AF_INET6, ".1::", 0, 0, 0},
    {AF_INET6, "fe80::1%1", 0, 1, 1},
    // Plain pton knows no scopes; the _scope variant splits at '%'.
    {AF_INET6, "::1%1", 0, 1, 1},
    {AF_INET6, "::1%", 0, 1, 0},
    {AF_INET6, "::1% 7", 0, 1, 7},
    {AF_INET6, "::1%-1", 0, 1, 4294967295u},
    {AF_INET6, "::1%4294967296", 0, 1, 0},
    {AF_INET6, "::1%abc", 0, 0, 0},
    {AF_INET6, "::1%12abc", 0, 0, 0},
    // The scope is stored even when the address part then fails.
    {AF_INET6, "1.2.3.4%1", 0, 0, 1},
    {12345, "1.2.3.4", -1, -1, 0},
};

class InetPtonTable : public ::testing::TestWithParam<PtonCase> {};

TEST_P(InetPtonTable, ResultsAsLibevent) {
    const PtonCase &c = GetParam();
    unsigned char dst[16];
    EXPECT_EQ(evutil_inet_pton(c.af, c.input, dst), c.pton) << c.input;
    unsigned index = 777;
    EXPECT_EQ(evutil_inet_pton_scope(c.af, c.input, dst, &index), c.scoped) << c.input;
    EXPECT_EQ(index, c.index) << c.input;
}

INSTANTIATE_TEST_SUITE_P(Cases, InetPtonTable, ::testing::ValuesIn(kPtonCases),
                         param_name<PtonCase>);

TEST(InetPton, WritesNetworkOrderBytes) {
    unsigned char v4[4];
    ASSERT_EQ(evutil_inet_pton(AF_INET, "10.20.30.40", v4), 1);
    EXPECT_EQ(v4[0], 10);
    EXPECT_EQ(v4[3], 40);
    unsigned char v6[16];
    unsigned index = 9;
    ASSERT_EQ(evutil_inet_pton_scope(AF_INET6, "fe80::abcd%3", v6, &index), 1);
    EXPECT_EQ(v6[0], 0xfe);
    EXPECT_EQ(v6[1], 0x80);
    EXPECT_EQ(v6[14], 0xab);
    EXPECT_EQ(v6[15], 0xcd);
    EXPECT_EQ(index, 3u);
}

TEST(InetPton, ScopeByInterfaceName) {
    unsigned lo = if_nametoindex("lo");
    if (lo == 0) GTEST_SKIP() << "no loopback interface";
    unsigned char v6[16];
    unsigned index = 0;
    EXPECT_EQ(evutil_inet_pton_scope(AF_INET6, "fe80::1%lo", v6, &index), 1);
    EXPECT_EQ(index, lo);
}

TEST(InetNtop, FormatsAndRefusesSmallBuffers) {
    char buf[64];
    const unsigned char v4[4] = {1, 2, 3, 4};
    EXPECT_STREQ(evutil_inet_ntop(AF_INET, v4, buf, sizeof buf), "1.2.3.4");
    EXPECT_EQ(evutil_inet_ntop(AF_INET, v4, buf, 8), buf);
    EXPECT_EQ(evutil_inet_ntop(AF_INET, v4, buf, 7), nullptr);
    const unsigned char mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4};
    EXPECT_STREQ(evutil_inet_ntop(AF_INET6, mapped, buf, sizeof buf), "::ffff:1.2.3.4");
    const unsigned char any[16] = {};
    EXPECT_STREQ(evutil_inet_ntop(AF_INET6, any, buf, sizeof buf), "::");
    const unsigned char v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    EXPECT_STREQ(evutil_inet_ntop(AF_INET6, v6, buf, sizeof buf), "2001:db8::1");
    EXPECT_EQ(evutil_inet_ntop(99, v4, buf, sizeof buf), nullptr);
    // IPv4-compatible addresses are dotted only when the low word is non-zero.
    const unsigned char compat[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0};
    EXPECT_STREQ(evutil_inet_ntop(AF_INET6, compat, buf, sizeof buf), "::1:0");
    const unsigned char compat2[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};
    EXPECT_STREQ(evutil_inet_ntop(AF_INET6, compat2, buf, sizeof buf), "::0.1.0.1");
    const unsigned char low[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    EXPECT_STREQ(evutil_inet_ntop(AF_INET6, low, buf, sizeof buf), "::ffff");
    const unsigned char zmap[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0};
    EXPECT_STREQ(evutil_inet_ntop(AF_INET6, zmap, buf, sizeof buf), "::ffff:0.0.0.0");
}

TEST(InetNtop, Ipv6BufferOneShortOfTerminator) {
    // "::1" needs 4 bytes. libevent returns a truncated "::" for 3; reevent returns NULL.
    const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    char buf[8];
    EXPECT_EQ(evutil_inet_ntop(AF_INET6, one, buf, 4), buf);
    EXPECT_STREQ(buf, "::1");
    const char *r = evutil_inet_ntop(AF_INET6, one, buf, 3);
    if (conf::kStrictInetNtopLength) {
        EXPECT_EQ(r, nullptr);
    } else {
        EXPECT_EQ(r, buf);
        EXPECT_STREQ(buf, "::");
    }
    EXPECT_EQ(evutil_inet_ntop(AF_INET6, one, buf, 2), nullptr);
}

TEST(InetNtop, RoundTripsThroughPton) {
    const char *inputs[] = {"0.0.0.0", "255.255.255.255", "127.0.0.1", "::", "::1",
                            "fe80::1:2:3:4", "1:2:3:4:5:6:7:8", "::ffff:10.0.0.1"};
    for (const char *s : inputs) {
        unsigned char bin[16];
        int af = std::strchr(s, ':') ? AF_INET6 : AF_INET;
        ASSERT_EQ(evutil_inet_pton(af, s, bin), 1) << s;
        char out[64];
        ASSERT_NE(evutil_inet_ntop(af, bin, out, sizeof out), nullptr) << s;
        EXPECT_STREQ(out, s);
    }
}

// ---- strtoll ---------------------------------------------------------------------------

struct StrtollCase {
    const char *input;
    int base;
    long long value;
    int consumed;  // characters consumed (endptr - input)
    int err;       // errno after the call (0 or ERANGE)
};

const StrtollCase kStrtollCases[] = {
    {"0", 10, 0, 1, 0},
    {"123", 10, 123, 3, 0},
    {"  -42xyz", 10, -42, 5, 0},
    {"+7", 10, 7, 2, 0},
    {"0x1f", 16, 31, 4, 0},
    {"0x1f", 0, 31, 4, 0},
    {"017", 0, 15, 3, 0},
    {"z", 36, 35, 1, 0},
    {"", 10, 0, 0, 0},
    {"abc", 10, 0, 0, 0},
    {"-", 10, 0, 0, 0},
    {"9223372036854775807", 10, INT64_MAX, 19, 0},
    {"-9223372036854775808", 10, INT64_MIN, 20, 0},
    {"9223372036854775808", 10, INT64_MAX, 19, ERANGE},
    {"-9223372036854775809", 10, INT64_MIN, 20, ERANGE},
    {"99999999999999999999999", 10, INT64_MAX, 23, ERANGE},
};

class StrtollTable : public ::testing::TestWithParam<StrtollCase> {};

TEST_P(StrtollTable, ValueEndAndErrnoAsLibevent) {
    const StrtollCase &c = GetParam();
    char *end = nullptr;
    errno = 0;
    ev_int64_t v = evutil_strtoll(c.input, &end, c.base);
    int err = errno;
    EXPECT_EQ(v, c.value) << c.input;
    EXPECT_EQ(end - c.input, c.consumed) << c.input;
    EXPECT_EQ(err, c.err) << c.input;
}

INSTANTIATE_TEST_SUITE_P(Cases, StrtollTable, ::testing::ValuesIn(kStrtollCases),
                         param_name<StrtollCase>);

TEST(Strtoll, NullEndPointerIsAllowed) {
    EXPECT_EQ(evutil_strtoll("-5", nullptr, 10), -5);
}

}  // namespace
