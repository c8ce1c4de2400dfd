// <event2/dns_compat.h> and <evdns.h>: the 1.x calls on the global resolver that
// evdns_init makes on event_init's base, and evdns_shutdown.
#include <evdns.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <string>

#include "dns_fake_server.h"
#include "dns_test_util.h"

namespace {

using dnstest::Result;
using dnstest::run_until;

void on_result(int result, char type, int count, int ttl, void *addresses, void *arg) {
    auto *r = static_cast<Result *>(arg);
    r->calls++;
    r->result = result;
    r->type = type;
    r->count = count;
}

TEST(DnsCompat, GlobalResolverOnTheCurrentBase) {
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

    Result r4, rp, rq;
    EXPECT_EQ(evdns_resolve_ipv4("www.example.test", 0, on_result, &r4), 0);
    EXPECT_EQ(evdns_resolve_reverse(&loop, 0, on_result, &rp), 0);
    ASSERT_TRUE(run_until(base, [&] { return r4.calls > 0 && rp.calls > 0; }));
    EXPECT_EQ(r4.result, DNS_ERR_NONE);
    EXPECT_EQ(r4.type, DNS_IPv4_A);
    EXPECT_EQ(rp.result, DNS_ERR_NONE);
    EXPECT_EQ(rp.type, DNS_PTR);

    // Shutting down with a request in flight: SHUTDOWN from the loop.
    EXPECT_EQ(evdns_resolve_ipv6("quiet.test", 0, on_result, &rq), 0);
    ASSERT_TRUE(run_until(base, [&] { return server.count("quiet.test") > 0; }));
    evdns_shutdown(1);
    EXPECT_EQ(evdns_get_global_base(), nullptr);
    run_until(base, [&] { return rq.calls > 0; }, 300);
    EXPECT_EQ(rq.calls, 1);
    EXPECT_EQ(rq.result, DNS_ERR_SHUTDOWN);
    evdns_shutdown(0);  // nothing left: harmless
    event_base_free(base);
}

}  // namespace
