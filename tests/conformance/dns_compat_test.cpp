// <event2/dns_compat.h> and <evdns.h>: the 1.x calls on the global resolver that
// evdns_init makes on event_init's base, and evdns_shutdown.
#include <evdns.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <string>

#include "dns_fake_server.h"
#include "dns_test_util.h"

namespace {

using dnstest::on_result;
using dnstest::Result;
using dnstest::run_until;

TEST(DnsCompat, GlobalResolverAndServerPortOnTheCurrentBase) {
    dnsfake::Server server;
    server.set("www.example.test", {0, false, false, {dnsfake::a("10.0.0.1")}});
    server.set("quiet.test", {0, true, false, {}});
    in_addr loop{};
    inet_pton(AF_INET, "10.0.0.1", &loop);
    server.set("1.0.0.10.in-addr.arpa", {0, false, false, {dnsfake::ptr("host.test")}});

    event_base *base = static_cast<event_base *>(event_init());
    ASSERT_NE(base, nullptr);
    EXPECT_EQ(evdns_get_global_base(), nullptr);
    ASSERT_EQ(evdns_init(), 0);
    ASSERT_NE(evdns_get_global_base(), nullptr);
    EXPECT_GE(evdns_count_nameservers(), 1);  // from /etc/resolv.conf, or the default
    EXPECT_EQ(evdns_clear_nameservers_and_suspend(), 0);
    EXPECT_EQ(evdns_count_nameservers(), 0);
    EXPECT_EQ(evdns_nameserver_ip_add(server.address().c_str()), 0);
    EXPECT_EQ(evdns_count_nameservers(), 1);
    EXPECT_EQ(evdns_resume(), 0);
    EXPECT_EQ(evdns_set_option("timeout:", "2", 0), 0);
    evdns_search_clear();
    evdns_search_ndots_set(1);

    Result r4, rp, rp6, rs, rq;
    in6_addr six{};
    inet_pton(AF_INET6, "2001:db8::1", &six);
    EXPECT_EQ(evdns_resolve_ipv4("www.example.test", 0, on_result, &r4), 0);
    EXPECT_EQ(evdns_resolve_reverse(&loop, 0, on_result, &rp), 0);
    EXPECT_EQ(evdns_resolve_reverse_ipv6(&six, 0, on_result, &rp6), 0);
    ASSERT_TRUE(run_until(base, [&] { return r4.calls > 0 && rp.calls > 0 && rp6.calls > 0; }));
    EXPECT_EQ(r4.result, DNS_ERR_NONE);
    EXPECT_EQ(r4.type, DNS_IPv4_A);
    EXPECT_EQ(rp.result, DNS_ERR_NONE);
    EXPECT_EQ(rp.type, DNS_PTR);
    EXPECT_EQ(rp6.result, DNS_ERR_NOTEXIST);
    EXPECT_EQ(server.count("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"), 1);

    evdns_search_add("example.test");
    EXPECT_EQ(evdns_resolve_ipv4("www", 0, on_result, &rs), 0);
    ASSERT_TRUE(run_until(base, [&] { return rs.calls > 0; }));
    EXPECT_EQ(rs.result, DNS_ERR_NONE);
    evdns_search_clear();

    // More nameservers, from a resolv.conf and by address, then back to the fake one.
    {
        dnstest::TempFile conf("nameserver 127.0.0.7\n");
        EXPECT_EQ(evdns_resolv_conf_parse(DNS_OPTION_NAMESERVERS, conf.path()), 0);
    }
    EXPECT_EQ(evdns_count_nameservers(), 2);
    EXPECT_EQ(evdns_nameserver_add(htonl(0x7f000008)), 0);
    EXPECT_EQ(evdns_count_nameservers(), 3);
    EXPECT_EQ(evdns_clear_nameservers_and_suspend(), 0);
    EXPECT_EQ(evdns_nameserver_ip_add(server.address().c_str()), 0);
    EXPECT_EQ(evdns_resume(), 0);

    // Shutting down with a request in flight: SHUTDOWN from the loop.
    EXPECT_EQ(evdns_resolve_ipv6("quiet.test", 0, on_result, &rq), 0);
    ASSERT_TRUE(run_until(base, [&] { return server.count("quiet.test") > 0; }));
    evdns_shutdown(1);
    EXPECT_EQ(evdns_get_global_base(), nullptr);
    run_until(base, [&] { return rq.calls > 0; }, 300);
    EXPECT_EQ(rq.calls, 1);
    EXPECT_EQ(rq.result, DNS_ERR_SHUTDOWN);
    evdns_shutdown(0);  // nothing left: harmless

    // A server port on the current base answers a resolver on the same base.
    sockaddr_in sin;
    int fd = conf::loopback_socket(SOCK_DGRAM, &sin);
    ASSERT_GE(fd, 0);
    evutil_make_socket_nonblocking(fd);
    int served = 0;
    evdns_server_port *port = evdns_add_server_port(fd, 0, [](evdns_server_request *req, void *arg) {
        ++*static_cast<int *>(arg);
        evdns_server_request_respond(req, DNS_ERR_NOTEXIST);
    }, &served);
    ASSERT_NE(port, nullptr);
    evdns_base *dns = evdns_base_new(base, 0);
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns, ("127.0.0.1:" + std::to_string(ntohs(sin.sin_port))).c_str()), 0);
    Result rn;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "x.test", 0, on_result, &rn), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return rn.calls > 0; }));
    EXPECT_EQ(rn.result, DNS_ERR_NOTEXIST);
    EXPECT_EQ(served, 1);
    evdns_base_free(dns, 0);
    evdns_close_server_port(port);
    event_base_free(base);
}

// evdns_base_new(NULL, ...) after event_init: the resolver's events are the current base's.
TEST(DnsCompat, BaseNewWithANullBaseResolvesOnTheCurrentBase) {
    dnsfake::Server server;
    server.set("www.example.test", {0, false, false, {dnsfake::a("10.0.0.1")}});
    event_base *base = event_init();
    ASSERT_NE(base, nullptr);
    evdns_base *dns = evdns_base_new(nullptr, 0);
    ASSERT_NE(dns, nullptr);
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns, server.address().c_str()), 0);
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(r.type, DNS_IPv4_A);
    EXPECT_EQ(r.count, 1);
    evdns_base_free(dns, 0);
    event_base_free(base);
}

// With no event_init at all the resolver is made but a nameserver cannot be added (code 2:
// its socket has no loop to be watched by).
TEST(DnsCompat, BaseNewWithANullBaseAndNoEventInit) {
    evdns_base *dns = evdns_base_new(nullptr, 0);
    ASSERT_NE(dns, nullptr);
    {
        conf::LogCapture quiet;
        EXPECT_EQ(evdns_base_nameserver_ip_add(dns, "127.0.0.1:53"), 2);
    }
    EXPECT_EQ(evdns_base_count_nameservers(dns), 0);
    evdns_base_free(dns, 0);
}

}  // namespace
