// evutil_getaddrinfo / evutil_freeaddrinfo / evutil_gai_strerror on numeric hosts and
// loopback only (no network, no DNS).
#include <event2/util.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace {

struct Entry {
    int family, socktype, protocol;
    std::string addr;
    int port;
};

std::vector<Entry> entries(const evutil_addrinfo *ai) {
    std::vector<Entry> out;
    for (; ai; ai = ai->ai_next) {
        Entry e{ai->ai_family, ai->ai_socktype, ai->ai_protocol, "", -1};
        char text[INET6_ADDRSTRLEN] = "";
        if (ai->ai_family == AF_INET) {
            auto *sin = reinterpret_cast<const sockaddr_in *>(ai->ai_addr);
            EXPECT_EQ(ai->ai_addrlen, sizeof(sockaddr_in));
            inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
            e.port = ntohs(sin->sin_port);
        } else if (ai->ai_family == AF_INET6) {
            auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(ai->ai_addr);
            EXPECT_EQ(ai->ai_addrlen, sizeof(sockaddr_in6));
            inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
            e.port = ntohs(sin6->sin6_port);
        }
        e.addr = text;
        out.push_back(e);
    }
    return out;
}

evutil_addrinfo hints(int family, int socktype, int flags) {
    evutil_addrinfo h;
    std::memset(&h, 0, sizeof h);
    h.ai_family = family;
    h.ai_socktype = socktype;
    h.ai_flags = flags;
    return h;
}

TEST(Getaddrinfo, NumericV4WithNullHintsGivesEverySocketType) {
    evutil_addrinfo *res = nullptr;
    ASSERT_EQ(evutil_getaddrinfo("1.2.3.4", nullptr, nullptr, &res), 0);
    auto e = entries(res);
    // Null hints are all-zero hints (no implicit AI_ADDRCONFIG or AI_V4MAPPED).
    ASSERT_EQ(e.size(), 3u);
    std::set<int> types;
    for (auto &x : e) {
        EXPECT_EQ(x.family, AF_INET);
        EXPECT_EQ(x.addr, "1.2.3.4");
        EXPECT_EQ(x.port, 0);
        types.insert(x.socktype);
    }
    EXPECT_EQ(types, (std::set<int>{SOCK_STREAM, SOCK_DGRAM, SOCK_RAW}));
    for (const evutil_addrinfo *a = res; a; a = a->ai_next) {
        if (a->ai_socktype == SOCK_STREAM) {
            EXPECT_EQ(a->ai_protocol, IPPROTO_TCP);
        } else if (a->ai_socktype == SOCK_DGRAM) {
            EXPECT_EQ(a->ai_protocol, IPPROTO_UDP);
        }
    }
    evutil_freeaddrinfo(res);
}

TEST(Getaddrinfo, NumericV6AndPortForStream) {
    evutil_addrinfo h = hints(AF_UNSPEC, SOCK_STREAM, 0);
    evutil_addrinfo *res = nullptr;
    ASSERT_EQ(evutil_getaddrinfo("::1", "8080", &h, &res), 0);
    auto e = entries(res);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].family, AF_INET6);
    EXPECT_EQ(e[0].addr, "::1");
    EXPECT_EQ(e[0].port, 8080);
    EXPECT_EQ(e[0].protocol, IPPROTO_TCP);
    evutil_freeaddrinfo(res);
}

TEST(Getaddrinfo, NullNodeWithPassiveGivesWildcards) {
    evutil_addrinfo h = hints(AF_UNSPEC, SOCK_STREAM, EVUTIL_AI_PASSIVE);
    evutil_addrinfo *res = nullptr;
    ASSERT_EQ(evutil_getaddrinfo(nullptr, "8080", &h, &res), 0);
    std::set<std::string> addrs;
    for (auto &x : entries(res)) {
        addrs.insert(x.addr);
        EXPECT_EQ(x.port, 8080);
    }
    EXPECT_TRUE(addrs.count("0.0.0.0"));
    evutil_freeaddrinfo(res);
}

TEST(Getaddrinfo, NullNodeWithoutPassiveGivesLoopback) {
    evutil_addrinfo h = hints(AF_INET, SOCK_STREAM, 0);
    evutil_addrinfo *res = nullptr;
    ASSERT_EQ(evutil_getaddrinfo(nullptr, "80", &h, &res), 0);
    auto e = entries(res);
    ASSERT_EQ(e.size(), 1u);
    EXPECT_EQ(e[0].addr, "127.0.0.1");
    EXPECT_EQ(e[0].port, 80);
    evutil_freeaddrinfo(res);
}

TEST(Getaddrinfo, NullNodeAndServiceIsNoname) {
    evutil_addrinfo *res = nullptr;
    EXPECT_EQ(evutil_getaddrinfo(nullptr, nullptr, nullptr, &res), EVUTIL_EAI_NONAME);
    EXPECT_EQ(res, nullptr);
}

TEST(Getaddrinfo, NumericHostFlagRefusesNames) {
    evutil_addrinfo h = hints(AF_UNSPEC, SOCK_STREAM, EVUTIL_AI_NUMERICHOST);
    evutil_addrinfo *res = nullptr;
    EXPECT_EQ(evutil_getaddrinfo("localhost", "80", &h, &res), EVUTIL_EAI_NONAME);
    EXPECT_EQ(evutil_getaddrinfo("127.0.0.1", "80", &h, &res), 0);
    evutil_freeaddrinfo(res);
}

TEST(Getaddrinfo, NumericServiceFlagRefusesNames) {
    evutil_addrinfo h = hints(AF_INET, SOCK_STREAM, EVUTIL_AI_NUMERICSERV);
    evutil_addrinfo *res = nullptr;
    EXPECT_EQ(evutil_getaddrinfo("127.0.0.1", "http", &h, &res), EVUTIL_EAI_NONAME);
    ASSERT_EQ(evutil_getaddrinfo("127.0.0.1", "443", &h, &res), 0);
    EXPECT_EQ(entries(res)[0].port, 443);
    evutil_freeaddrinfo(res);
}

TEST(Getaddrinfo, AddrconfigStillResolvesLoopbackLiterals) {
    evutil_addrinfo h = hints(AF_UNSPEC, SOCK_STREAM, EVUTIL_AI_ADDRCONFIG);
    evutil_addrinfo *res = nullptr;
    ASSERT_EQ(evutil_getaddrinfo("127.0.0.1", "80", &h, &res), 0);
    EXPECT_EQ(entries(res)[0].addr, "127.0.0.1");
    evutil_freeaddrinfo(res);
}

TEST(Getaddrinfo, FamilyMismatchAndBadHints) {
    evutil_addrinfo *res = nullptr;
    evutil_addrinfo h = hints(AF_INET6, SOCK_STREAM, EVUTIL_AI_NUMERICHOST);
    EXPECT_NE(evutil_getaddrinfo("1.2.3.4", "80", &h, &res), 0);
    h = hints(12345, 0, 0);
    EXPECT_EQ(evutil_getaddrinfo("1.2.3.4", "80", &h, &res), EVUTIL_EAI_FAMILY);
    h = hints(AF_UNSPEC, 0, 0x4000);
    EXPECT_EQ(evutil_getaddrinfo("1.2.3.4", "80", &h, &res), EVUTIL_EAI_BADFLAGS);
    EXPECT_EQ(res, nullptr);
}

TEST(Getaddrinfo, LibeventPrivateFlagBitIsIgnored) {
    // 0x80000000 marks lists libevent allocated itself; it is stripped from callers' hints.
    evutil_addrinfo h = hints(AF_INET, SOCK_STREAM, static_cast<int>(0x80000000u));
    evutil_addrinfo *res = nullptr;
    ASSERT_EQ(evutil_getaddrinfo("1.2.3.4", "80", &h, &res), 0);
    EXPECT_EQ(entries(res).size(), 1u);
    evutil_freeaddrinfo(res);
}

TEST(Getaddrinfo, CanonnameOfNumericHostIsTheLiteral) {
    evutil_addrinfo h = hints(AF_INET, SOCK_STREAM, EVUTIL_AI_CANONNAME);
    evutil_addrinfo *res = nullptr;
    ASSERT_EQ(evutil_getaddrinfo("1.2.3.4", "80", &h, &res), 0);
    ASSERT_NE(res->ai_canonname, nullptr);
    EXPECT_STREQ(res->ai_canonname, "1.2.3.4");
    evutil_freeaddrinfo(res);
}

TEST(Getaddrinfo, LocalhostResolvesToLoopback) {
    evutil_addrinfo h = hints(AF_INET, SOCK_STREAM, 0);
    evutil_addrinfo *res = nullptr;
    ASSERT_EQ(evutil_getaddrinfo("localhost", "80", &h, &res), 0);
    EXPECT_EQ(entries(res)[0].addr, "127.0.0.1");
    evutil_freeaddrinfo(res);
}

TEST(Getaddrinfo, ConstantsAreGlibcValues) {
    EXPECT_EQ(EVUTIL_AI_PASSIVE, AI_PASSIVE);
    EXPECT_EQ(EVUTIL_AI_CANONNAME, AI_CANONNAME);
    EXPECT_EQ(EVUTIL_AI_NUMERICHOST, AI_NUMERICHOST);
    EXPECT_EQ(EVUTIL_AI_NUMERICSERV, AI_NUMERICSERV);
    EXPECT_EQ(EVUTIL_AI_V4MAPPED, AI_V4MAPPED);
    EXPECT_EQ(EVUTIL_AI_ALL, AI_ALL);
    EXPECT_EQ(EVUTIL_AI_ADDRCONFIG, AI_ADDRCONFIG);
    EXPECT_EQ(EVUTIL_EAI_NONAME, -2);
    EXPECT_EQ(EVUTIL_EAI_FAMILY, -6);
    EXPECT_EQ(EVUTIL_EAI_CANCEL, -90001);
    EXPECT_EQ(sizeof(struct evutil_addrinfo), 48u);
}

TEST(GaiStrerror, MessagesAsLibevent) {
    EXPECT_STREQ(evutil_gai_strerror(0), "No error");
    EXPECT_STREQ(evutil_gai_strerror(EVUTIL_EAI_CANCEL), "Request canceled");
    EXPECT_STREQ(evutil_gai_strerror(EVUTIL_EAI_ADDRFAMILY),
                 "address family for nodename not supported");
    EXPECT_STREQ(evutil_gai_strerror(EVUTIL_EAI_AGAIN), "temporary failure in name resolution");
    EXPECT_STREQ(evutil_gai_strerror(EVUTIL_EAI_BADFLAGS), "invalid value for ai_flags");
    EXPECT_STREQ(evutil_gai_strerror(EVUTIL_EAI_FAIL),
                 "non-recoverable failure in name resolution");
    EXPECT_STREQ(evutil_gai_strerror(EVUTIL_EAI_FAMILY), "ai_family not supported");
    EXPECT_STREQ(evutil_gai_strerror(EVUTIL_EAI_MEMORY), "memory allocation failure");
    EXPECT_STREQ(evutil_gai_strerror(EVUTIL_EAI_NODATA), "no address associated with nodename");
    EXPECT_STREQ(evutil_gai_strerror(EVUTIL_EAI_NONAME),
                 "nodename nor servname provided, or not known");
    EXPECT_STREQ(evutil_gai_strerror(EVUTIL_EAI_SERVICE),
                 "servname not supported for ai_socktype");
    EXPECT_STREQ(evutil_gai_strerror(EVUTIL_EAI_SOCKTYPE), "ai_socktype not supported");
    EXPECT_STREQ(evutil_gai_strerror(EVUTIL_EAI_SYSTEM), "system error");
    // Anything else is the C library's text.
    for (int code : {-12, -100, -101, -104, 1, 5, -901, 12345})
        EXPECT_STREQ(evutil_gai_strerror(code), gai_strerror(code)) << code;
}

}  // namespace
