// <event2/dns.h> configuration: nameserver addresses (ip_add forms, sockaddr_add, count,
// get_nameserver_addr), resolv.conf files (nameserver, search, domain, options; missing
// files and the 127.0.0.1 default), evdns_base_set_option, and the options' effects seen
// through a fake server.
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>
#include <vector>

#include "differences.h"
#include "dns_fake_server.h"
#include "dns_test_util.h"

namespace {

using dnstest::on_result;
using dnstest::Result;
using dnstest::run_until;
using dnstest::TempFile;

// "ip:port" of the idx-th nameserver, or "" if there is none.
std::string nameserver(evdns_base *dns, int idx) {
    sockaddr_storage ss{};
    int n = evdns_base_get_nameserver_addr(dns, idx, reinterpret_cast<sockaddr *>(&ss), sizeof ss);
    if (n < 0) return "";
    char buf[128];
    char ip[64];
    if (ss.ss_family == AF_INET) {
        auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
        EXPECT_EQ(n, static_cast<int>(sizeof(sockaddr_in)));
        evutil_inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
        snprintf(buf, sizeof buf, "%s:%d", ip, ntohs(sin->sin_port));
    } else {
        auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
        EXPECT_EQ(n, static_cast<int>(sizeof(sockaddr_in6)));
        evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
        snprintf(buf, sizeof buf, "[%s]:%d", ip, ntohs(sin6->sin6_port));
    }
    return buf;
}

using DnsConfig = dnstest::ResolverTest;

TEST_F(DnsConfig, NewBaseWithoutFlagsHasNoNameservers) {
    EXPECT_EQ(evdns_base_count_nameservers(dns), 0);
    EXPECT_EQ(nameserver(dns, 0), "");
}

TEST_F(DnsConfig, IpAddAcceptsAddressesWithAndWithoutPorts) {
    EXPECT_EQ(evdns_base_nameserver_ip_add(dns, "127.0.0.1"), 0);
    EXPECT_EQ(evdns_base_nameserver_ip_add(dns, "127.0.0.2:5353"), 0);
    EXPECT_EQ(evdns_base_nameserver_ip_add(dns, "::1"), 0);
    EXPECT_EQ(evdns_base_nameserver_ip_add(dns, "[::1]:5300"), 0);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 4);
    // The first one stays first; each later one goes right after it.
    EXPECT_EQ(nameserver(dns, 0), "127.0.0.1:53");
    EXPECT_EQ(nameserver(dns, 1), "[::1]:5300");
    EXPECT_EQ(nameserver(dns, 2), "[::1]:53");
    EXPECT_EQ(nameserver(dns, 3), "127.0.0.2:5353");
    EXPECT_EQ(nameserver(dns, 4), "");
}

// Adding a nameserver only makes its (unconnected) UDP socket: an address the socket could
// not be connect()ed to (the IPv4 broadcast address, without SO_BROADCAST) is still added;
// only sending to it fails later. Programs keep a resolv.conf nameserver that has no route
// yet (tmate's evdns_base_new(base, 1) in a network without one).
TEST_F(DnsConfig, IpAddAcceptsAnAddressASocketCannotConnectTo) {
    EXPECT_EQ(evdns_base_nameserver_ip_add(dns, "255.255.255.255"), 0);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 1);
    EXPECT_EQ(nameserver(dns, 0), "255.255.255.255:53");
}

TEST_F(DnsConfig, IpAddRejectsJunkAndDuplicates) {
    EXPECT_EQ(evdns_base_nameserver_ip_add(dns, "not an address"), 4);
    EXPECT_EQ(evdns_base_nameserver_ip_add(dns, "1.2.3"), 4);
    EXPECT_EQ(evdns_base_nameserver_ip_add(dns, ""), 4);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 0);
    EXPECT_EQ(evdns_base_nameserver_ip_add(dns, "127.0.0.1:53"), 0);
    EXPECT_EQ(evdns_base_nameserver_ip_add(dns, "127.0.0.1"), 3);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 1);
}

TEST_F(DnsConfig, NameserverAddAndSockaddrAdd) {
    EXPECT_EQ(evdns_base_nameserver_add(dns, htonl(0x7f000003)), 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(1053);
    sin.sin_addr.s_addr = htonl(0x7f000004);
    EXPECT_EQ(evdns_base_nameserver_sockaddr_add(dns, reinterpret_cast<sockaddr *>(&sin), sizeof sin, 0), 0);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 2);
    EXPECT_EQ(nameserver(dns, 0), "127.0.0.3:53");
    EXPECT_EQ(nameserver(dns, 1), "127.0.0.4:1053");
}

TEST_F(DnsConfig, SockaddrAddOfANonIpAddress) {
    sockaddr_in sin{};
    sin.sin_family = AF_UNIX;
    int rc = evdns_base_nameserver_sockaddr_add(dns, reinterpret_cast<sockaddr *>(&sin), sizeof sin, 0);
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    int rc_short = evdns_base_nameserver_sockaddr_add(dns, reinterpret_cast<sockaddr *>(&v4), 4, 0);
    if (conf::kDnsRefusesNonIpNameservers) {
        EXPECT_EQ(rc, 2);
        EXPECT_EQ(rc_short, 2);
        EXPECT_EQ(evdns_base_count_nameservers(dns), 0);
    } else {
        EXPECT_EQ(rc, 0);
        EXPECT_EQ(rc_short, 0);
        EXPECT_EQ(evdns_base_count_nameservers(dns), 2);
    }
}

TEST_F(DnsConfig, GetNameserverAddrWithASmallBufferGivesTheLengthOnly) {
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns, "::1"), 0);
    sockaddr_in small{};
    std::memset(&small, 0x5a, sizeof small);
    int n = evdns_base_get_nameserver_addr(dns, 0, reinterpret_cast<sockaddr *>(&small), sizeof small);
    EXPECT_EQ(n, static_cast<int>(sizeof(sockaddr_in6)));
    EXPECT_EQ(reinterpret_cast<unsigned char *>(&small)[0], 0x5a);
    EXPECT_EQ(evdns_base_get_nameserver_addr(dns, 1, reinterpret_cast<sockaddr *>(&small), sizeof small), -1);
    // A negative index counts as 0.
    EXPECT_EQ(evdns_base_get_nameserver_addr(dns, -1, reinterpret_cast<sockaddr *>(&small), sizeof small),
              static_cast<int>(sizeof(sockaddr_in6)));
}

TEST_F(DnsConfig, ClearNameserversAndSuspendEmptiesTheList) {
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns, "127.0.0.1"), 0);
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns, "127.0.0.2"), 0);
    EXPECT_EQ(evdns_base_clear_nameservers_and_suspend(dns), 0);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 0);
    EXPECT_EQ(evdns_base_resume(dns), 0);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 0);
}

TEST_F(DnsConfig, ResolvConfNameservers) {
    TempFile f("# comment\nnameserver 127.0.0.5\nnameserver   127.0.0.6:5353 \n\nnameserver ::1\n");
    EXPECT_EQ(evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL, f.path()), 0);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 3);
    EXPECT_EQ(nameserver(dns, 0), "127.0.0.5:53");
    EXPECT_EQ(nameserver(dns, 1), "[::1]:53");
    EXPECT_EQ(nameserver(dns, 2), "127.0.0.6:5353");
}

TEST_F(DnsConfig, ResolvConfWithoutNameserversAddsTheDefault) {
    TempFile f("search example.test\n");
    EXPECT_EQ(evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL, f.path()), 6);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 1);
    EXPECT_EQ(nameserver(dns, 0), "127.0.0.1:53");
}

TEST_F(DnsConfig, ResolvConfNoDefaultLeavesNoNameserver) {
    TempFile f("search example.test\n");
    // 6 only reports the default added: without one, the parse itself succeeded.
    EXPECT_EQ(evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL | DNS_OPTION_NAMESERVERS_NO_DEFAULT, f.path()), 0);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 0);
}

TEST_F(DnsConfig, MissingResolvConfReturnsOneAndAddsTheDefault) {
    EXPECT_EQ(evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL, "/nonexistent/resolv.conf"), 1);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 1);
    EXPECT_EQ(nameserver(dns, 0), "127.0.0.1:53");
}

TEST_F(DnsConfig, MissingResolvConfWithNoDefault) {
    EXPECT_EQ(evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL | DNS_OPTION_NAMESERVERS_NO_DEFAULT,
                                           "/nonexistent/resolv.conf"), 1);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 0);
}

TEST_F(DnsConfig, ResolvConfNameserversIgnoredWithoutTheFlag) {
    TempFile f("nameserver 127.0.0.5\n");
    EXPECT_EQ(evdns_base_resolv_conf_parse(dns, DNS_OPTION_SEARCH | DNS_OPTION_MISC, f.path()), 0);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 0);
}

TEST_F(DnsConfig, SetOptionAcceptsKnownOptionsWithOrWithoutColon) {
    EXPECT_EQ(evdns_base_set_option(dns, "ndots", "2"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "ndots:", "3"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "timeout", "1.5"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "timeout:", "3"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "attempts:", "2"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "max-timeouts:", "5"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "max-inflight:", "10"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "initial-probe-timeout", "4"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "getaddrinfo-allow-skew", "1"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "randomize-case:", "0"), 0);
}

TEST_F(DnsConfig, SetOptionRejectsBadValues) {
    EXPECT_EQ(evdns_base_set_option(dns, "ndots:", "x"), -1);
    EXPECT_EQ(evdns_base_set_option(dns, "timeout:", "soon"), -1);
    EXPECT_EQ(evdns_base_set_option(dns, "attempts:", "2x"), -1);
    EXPECT_EQ(evdns_base_set_option(dns, "timeout:", "-1"), -1);
}

TEST_F(DnsConfig, SetOptionEdgeValues) {
    // Integers are strtol'ed whole ("" is 0); attempts are clamped, not refused.
    EXPECT_EQ(evdns_base_set_option(dns, "attempts:", ""), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "attempts:", "0"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "attempts:", "1000"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "ndots:", "-1"), -1);
    EXPECT_EQ(evdns_base_set_option(dns, "randomize-case:", "x"), -1);
    // A timeout must be positive.
    EXPECT_EQ(evdns_base_set_option(dns, "timeout:", ""), -1);
    EXPECT_EQ(evdns_base_set_option(dns, "timeout:", "0"), -1);
    EXPECT_EQ(evdns_base_set_option(dns, "bind-to", "127.0.0.1"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "so-rcvbuf", "100000"), 0);
    EXPECT_EQ(evdns_base_set_option(dns, "so-sndbuf:", "100000"), 0);
}

TEST_F(DnsConfig, SetOptionIgnoresUnknownNames) {
    EXPECT_EQ(evdns_base_set_option(dns, "no-such-option", "1"), 0);
}

// Options and search lines of a resolv.conf, seen through what a fake server is asked.
class DnsResolvConfEffects : public dnstest::ResolverTest {
protected:
    void SetUp() override {
        ResolverTest::SetUp();
        server.set("quiet.test", {0, true, false, {}});
        server.set("www.b.test", {0, false, false, {dnsfake::a("10.2.2.2")}});
    }
    void parse(const std::string &text, int flags = DNS_OPTIONS_ALL) {
        TempFile f("nameserver " + server.address() + "\n" + text);
        ASSERT_EQ(evdns_base_resolv_conf_parse(dns, flags, f.path()), 0);
    }
    dnsfake::Server server;
};

TEST_F(DnsResolvConfEffects, TimeoutAndAttempts) {
    parse("options timeout:0.2 attempts:2\n");
    Result r;
    double t0 = conf::now_ms();
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "quiet.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }, 5000));
    EXPECT_EQ(r.result, DNS_ERR_TIMEOUT);
    EXPECT_EQ(server.count("quiet.test"), 2);
    EXPECT_LT(conf::now_ms() - t0, 2000);
}

TEST_F(DnsResolvConfEffects, SearchLineIsTriedInFileOrder) {
    parse("search a.test b.test\n");
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(server.asked(), (std::vector<std::string>{"www.a.test", "www.b.test"}));
}

TEST_F(DnsResolvConfEffects, DomainLineIsOneSearchDomain) {
    parse("domain b.test\n");
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(server.asked(), (std::vector<std::string>{"www.b.test"}));
}

TEST_F(DnsResolvConfEffects, NdotsOption) {
    parse("search b.test\noptions ndots:3\n");
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "x.y", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(server.asked(), (std::vector<std::string>{"x.y.b.test", "x.y"}));
}

TEST_F(DnsResolvConfEffects, SearchIgnoredWithoutTheFlag) {
    parse("search b.test\n", DNS_OPTION_NAMESERVERS);
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NOTEXIST);
    EXPECT_EQ(server.asked(), (std::vector<std::string>{"www"}));
}

TEST_F(DnsResolvConfEffects, OptionsIgnoredWithoutMisc) {
    parse("options timeout:0.2 attempts:1\n", DNS_OPTION_NAMESERVERS);
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "quiet.test", 0, on_result, &r), nullptr);
    // The default timeout (5 s) is still in force: no answer within a second.
    run_until(base, [] { return false; }, 1000);
    EXPECT_EQ(r.calls, 0);
    EXPECT_EQ(server.count("quiet.test"), 1);
}

}  // namespace
