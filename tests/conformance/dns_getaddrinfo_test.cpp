// evdns_getaddrinfo: numeric hosts and host entries (evdns_base_load_hosts) answered from
// inside the call, names sent to a fake server as A and AAAA queries, hints (family,
// socktype, protocol, AI_NUMERICHOST), services, errors and cancel.
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <string>
#include <vector>

#include "dns_fake_server.h"
#include "dns_test_util.h"

namespace {

using dnstest::run_until;
using dnstest::TempFile;

// What the callback got: "family addr port socktype protocol" per entry.
struct Gai {
    int calls = 0;
    int err = 1;
    std::vector<std::string> entries;
};

void on_gai(int result, evutil_addrinfo *res, void *arg) {
    auto *g = static_cast<Gai *>(arg);
    g->calls++;
    g->err = result;
    for (evutil_addrinfo *ai = res; ai; ai = ai->ai_next) {
        char ip[INET6_ADDRSTRLEN] = "?";
        int port = 0;
        if (ai->ai_family == AF_INET) {
            auto *sin = reinterpret_cast<sockaddr_in *>(ai->ai_addr);
            evutil_inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
            port = ntohs(sin->sin_port);
            EXPECT_EQ(ai->ai_addrlen, sizeof(sockaddr_in));
        } else if (ai->ai_family == AF_INET6) {
            auto *sin6 = reinterpret_cast<sockaddr_in6 *>(ai->ai_addr);
            evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
            port = ntohs(sin6->sin6_port);
            EXPECT_EQ(ai->ai_addrlen, sizeof(sockaddr_in6));
        }
        g->entries.push_back(std::string(ip) + " " + std::to_string(port) + " " +
                             (ai->ai_socktype == SOCK_STREAM ? "tcp" : ai->ai_socktype == SOCK_DGRAM ? "udp" : "?") +
                             "/" + std::to_string(ai->ai_protocol));
    }
    if (res) evutil_freeaddrinfo(res);
}

evutil_addrinfo hints_for(int family, int socktype = 0, int flags = 0) {
    evutil_addrinfo h{};
    h.ai_family = family;
    h.ai_socktype = socktype;
    h.ai_flags = flags;
    return h;
}

using V = std::vector<std::string>;

class DnsGetaddrinfo : public dnstest::FakeServerTest {
protected:
    void SetUp() override {
        FakeServerTest::SetUp();
        if (HasFatalFailure()) return;
        server.set("both.test", {0, false, false, {dnsfake::a("10.0.0.1"), dnsfake::aaaa("2001:db8::5")}});
        server.set("v4only.test", {0, false, false, {dnsfake::a("10.0.0.4")}});
        server.set("quiet.test", {0, true, false, {}});
    }
};

TEST_F(DnsGetaddrinfo, NumericHostIsAnsweredInsideTheCall) {
    Gai g;
    evutil_addrinfo h = hints_for(AF_UNSPEC, SOCK_STREAM);
    EXPECT_EQ(evdns_getaddrinfo(dns, "192.0.2.7", "80", &h, on_gai, &g), nullptr);
    EXPECT_EQ(g.calls, 1);
    EXPECT_EQ(g.err, 0);
    EXPECT_EQ(g.entries, (V{"192.0.2.7 80 tcp/6"}));
    Gai g6;
    EXPECT_EQ(evdns_getaddrinfo(dns, "2001:db8::9", "443", &h, on_gai, &g6), nullptr);
    EXPECT_EQ(g6.entries, (V{"2001:db8::9 443 tcp/6"}));
    EXPECT_EQ(server.total(), 0);
}

TEST_F(DnsGetaddrinfo, NoSocktypeGivesStreamAndDatagram) {
    Gai g;
    evutil_addrinfo h = hints_for(AF_INET);
    EXPECT_EQ(evdns_getaddrinfo(dns, "192.0.2.7", "53", &h, on_gai, &g), nullptr);
    EXPECT_EQ(g.entries, (V{"192.0.2.7 53 tcp/6", "192.0.2.7 53 udp/17"}));
}

TEST_F(DnsGetaddrinfo, NullHintsAndNullService) {
    Gai g;
    EXPECT_EQ(evdns_getaddrinfo(dns, "192.0.2.7", nullptr, nullptr, on_gai, &g), nullptr);
    EXPECT_EQ(g.entries, (V{"192.0.2.7 0 tcp/6", "192.0.2.7 0 udp/17"}));
}

TEST_F(DnsGetaddrinfo, ServiceNames) {
    Gai g;
    evutil_addrinfo h = hints_for(AF_INET, SOCK_STREAM);
    EXPECT_EQ(evdns_getaddrinfo(dns, "192.0.2.7", "http", &h, on_gai, &g), nullptr);
    EXPECT_EQ(g.err, 0);
    EXPECT_EQ(g.entries, (V{"192.0.2.7 80 tcp/6"}));
}

TEST_F(DnsGetaddrinfo, NoNodeGivesLoopbackOrWildcard) {
    Gai g, gp;
    evutil_addrinfo h = hints_for(AF_UNSPEC, SOCK_STREAM);
    EXPECT_EQ(evdns_getaddrinfo(dns, nullptr, "8080", &h, on_gai, &g), nullptr);
    EXPECT_EQ(g.err, 0);
    EXPECT_EQ(g.entries, (V{"127.0.0.1 8080 tcp/6", "::1 8080 tcp/6"}));
    evutil_addrinfo hp = hints_for(AF_INET, SOCK_STREAM, EVUTIL_AI_PASSIVE);
    EXPECT_EQ(evdns_getaddrinfo(dns, nullptr, "8080", &hp, on_gai, &gp), nullptr);
    EXPECT_EQ(gp.entries, (V{"0.0.0.0 8080 tcp/6"}));
}

TEST_F(DnsGetaddrinfo, ErrorsFoundAtOnce) {
    Gai none, fam, numeric;
    EXPECT_EQ(evdns_getaddrinfo(dns, nullptr, nullptr, nullptr, on_gai, &none), nullptr);
    EXPECT_EQ(none.err, EVUTIL_EAI_NONAME);
    evutil_addrinfo hbad = hints_for(AF_UNIX, SOCK_STREAM);
    EXPECT_EQ(evdns_getaddrinfo(dns, "192.0.2.7", "80", &hbad, on_gai, &fam), nullptr);
    EXPECT_EQ(fam.calls, 1);
    EXPECT_EQ(fam.err, EVUTIL_EAI_FAMILY);
    evutil_addrinfo hn = hints_for(AF_UNSPEC, SOCK_STREAM, EVUTIL_AI_NUMERICHOST);
    EXPECT_EQ(evdns_getaddrinfo(dns, "both.test", "80", &hn, on_gai, &numeric), nullptr);
    EXPECT_EQ(numeric.err, EVUTIL_EAI_NONAME);
    EXPECT_EQ(server.total(), 0);
}

TEST_F(DnsGetaddrinfo, NumericHostOfTheOtherFamily) {
    Gai fam;
    evutil_addrinfo h6 = hints_for(AF_INET6, SOCK_STREAM);
    evdns_getaddrinfo_request *req = evdns_getaddrinfo(dns, "192.0.2.7", "80", &h6, on_gai, &fam);
    // Not answered at once: the text is asked for as a name (AAAA), which does not exist.
    EXPECT_NE(req, nullptr);
    EXPECT_EQ(fam.calls, 0);
    ASSERT_TRUE(run_until(base, [&] { return fam.calls > 0; }));
    EXPECT_EQ(fam.err, EVUTIL_EAI_NONAME);
    EXPECT_EQ(server.asked(), (V{"192.0.2.7"}));
}

TEST_F(DnsGetaddrinfo, NameAskedAsAAndAaaa) {
    Gai g;
    evutil_addrinfo h = hints_for(AF_UNSPEC, SOCK_STREAM);
    EXPECT_NE(evdns_getaddrinfo(dns, "both.test", "80", &h, on_gai, &g), nullptr);
    EXPECT_EQ(g.calls, 0);
    ASSERT_TRUE(run_until(base, [&] { return g.calls > 0; }));
    EXPECT_EQ(g.err, 0);
    EXPECT_EQ(g.entries, (V{"10.0.0.1 80 tcp/6", "2001:db8::5 80 tcp/6"}));
    EXPECT_EQ(server.count("both.test"), 2);
}

TEST_F(DnsGetaddrinfo, FamilyHintAsksOneType) {
    Gai g;
    evutil_addrinfo h = hints_for(AF_INET6, SOCK_DGRAM);
    EXPECT_NE(evdns_getaddrinfo(dns, "both.test", "53", &h, on_gai, &g), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return g.calls > 0; }));
    EXPECT_EQ(g.entries, (V{"2001:db8::5 53 udp/17"}));
    EXPECT_EQ(server.count("both.test"), 1);
}

TEST_F(DnsGetaddrinfo, OneFamilyMissingStillSucceeds) {
    Gai g;
    evutil_addrinfo h = hints_for(AF_UNSPEC, SOCK_STREAM);
    EXPECT_NE(evdns_getaddrinfo(dns, "v4only.test", "80", &h, on_gai, &g), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return g.calls > 0; }));
    EXPECT_EQ(g.err, 0);
    EXPECT_EQ(g.entries, (V{"10.0.0.4 80 tcp/6"}));
}

// AI_CANONNAME on a name the nameservers answered: the canonical name is the CNAME target
// the answer went through; without a CNAME there is none (NULL).
TEST_F(DnsGetaddrinfo, CanonnameIsTheCnameTarget) {
    dnsfake::Behaviour alias{0, false, false, {dnsfake::a("10.0.0.7")}};
    alias.cname = "real-host.test";
    server.set("alias.test", alias);
    evutil_addrinfo h = hints_for(AF_INET, SOCK_STREAM, EVUTIL_AI_CANONNAME);
    std::string canon, plain;
    auto keep = [](int result, evutil_addrinfo *res, void *arg) {
        auto *out = static_cast<std::string *>(arg);
        *out = result == 0 && res && res->ai_canonname ? res->ai_canonname : "(none)";
        if (res) evutil_freeaddrinfo(res);
    };
    EXPECT_NE(evdns_getaddrinfo(dns, "alias.test", "80", &h, keep, &canon), nullptr);
    EXPECT_NE(evdns_getaddrinfo(dns, "v4only.test", "80", &h, keep, &plain), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return !canon.empty() && !plain.empty(); }));
    EXPECT_EQ(canon, "real-host.test");
    EXPECT_EQ(plain, "(none)");
}

TEST_F(DnsGetaddrinfo, UnknownNameIsNoname) {
    Gai g;
    evutil_addrinfo h = hints_for(AF_UNSPEC, SOCK_STREAM);
    EXPECT_NE(evdns_getaddrinfo(dns, "nothing.test", "80", &h, on_gai, &g), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return g.calls > 0; }));
    EXPECT_EQ(g.err, EVUTIL_EAI_NONAME);
    EXPECT_TRUE(g.entries.empty());
}

TEST_F(DnsGetaddrinfo, TimeoutIsFail) {
    ASSERT_EQ(evdns_base_set_option(dns, "timeout:", "0.2"), 0);
    ASSERT_EQ(evdns_base_set_option(dns, "attempts:", "1"), 0);
    Gai g;
    evutil_addrinfo h = hints_for(AF_INET, SOCK_STREAM);
    EXPECT_NE(evdns_getaddrinfo(dns, "quiet.test", "80", &h, on_gai, &g), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return g.calls > 0; }));
    EXPECT_EQ(g.err, EVUTIL_EAI_FAIL);
}

TEST_F(DnsGetaddrinfo, CancelGivesCancel) {
    Gai g;
    evutil_addrinfo h = hints_for(AF_UNSPEC, SOCK_STREAM);
    evdns_getaddrinfo_request *req = evdns_getaddrinfo(dns, "quiet.test", "80", &h, on_gai, &g);
    ASSERT_NE(req, nullptr);
    ASSERT_TRUE(run_until(base, [&] { return server.count("quiet.test") == 2; }));
    evdns_getaddrinfo_cancel(req);
    EXPECT_EQ(g.calls, 0);  // reported from the loop
    ASSERT_TRUE(run_until(base, [&] { return g.calls > 0; }));
    EXPECT_EQ(g.err, EVUTIL_EAI_CANCEL);
    run_until(base, [] { return false; }, 100);
    EXPECT_EQ(g.calls, 1);
}

TEST_F(DnsGetaddrinfo, HostsFileEntriesAreAnsweredInsideTheCall) {
    TempFile hosts("# hosts\n192.0.2.10  alpha.test alpha\n2001:db8::10 alpha.test\n192.0.2.11\tbeta.test # c\n");
    ASSERT_EQ(evdns_base_load_hosts(dns, hosts.path()), 0);
    Gai g, g4, alias, b;
    evutil_addrinfo h = hints_for(AF_UNSPEC, SOCK_STREAM);
    EXPECT_EQ(evdns_getaddrinfo(dns, "alpha.test", "80", &h, on_gai, &g), nullptr);
    EXPECT_EQ(g.err, 0);
    EXPECT_EQ(g.entries, (V{"192.0.2.10 80 tcp/6", "2001:db8::10 80 tcp/6"}));
    evutil_addrinfo h4 = hints_for(AF_INET, SOCK_STREAM);
    EXPECT_EQ(evdns_getaddrinfo(dns, "ALPHA.test", "80", &h4, on_gai, &g4), nullptr);
    EXPECT_EQ(g4.entries, (V{"192.0.2.10 80 tcp/6"}));
    EXPECT_EQ(evdns_getaddrinfo(dns, "alpha", "80", &h4, on_gai, &alias), nullptr);
    EXPECT_EQ(alias.entries, (V{"192.0.2.10 80 tcp/6"}));
    EXPECT_EQ(evdns_getaddrinfo(dns, "beta.test", "80", &h4, on_gai, &b), nullptr);
    EXPECT_EQ(b.entries, (V{"192.0.2.11 80 tcp/6"}));
    EXPECT_EQ(server.total(), 0);
}

TEST_F(DnsGetaddrinfo, MissingHostsFileAddsLocalhost) {
    EXPECT_EQ(evdns_base_load_hosts(dns, "/nonexistent/hosts"), -1);
    Gai g;
    evutil_addrinfo h = hints_for(AF_UNSPEC, SOCK_STREAM);
    EXPECT_EQ(evdns_getaddrinfo(dns, "localhost", "80", &h, on_gai, &g), nullptr);
    EXPECT_EQ(g.err, 0);
    EXPECT_EQ(g.entries, (V{"127.0.0.1 80 tcp/6", "::1 80 tcp/6"}));
}

TEST_F(DnsGetaddrinfo, ClearHostAddressesForgetsEntries) {
    TempFile hosts("192.0.2.10 alpha.test\n");
    ASSERT_EQ(evdns_base_load_hosts(dns, hosts.path()), 0);
    evdns_base_clear_host_addresses(dns);
    Gai g;
    evutil_addrinfo h = hints_for(AF_INET, SOCK_STREAM);
    EXPECT_NE(evdns_getaddrinfo(dns, "alpha.test", "80", &h, on_gai, &g), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return g.calls > 0; }));
    EXPECT_EQ(g.err, EVUTIL_EAI_NONAME);
    EXPECT_EQ(server.count("alpha.test"), 1);
}

}  // namespace
