// <event2/dns.h> client resolver: evdns_base_resolve_* against a fake DNS server on
// 127.0.0.1 (dns_fake_server.h), answers, errors, timeouts and retransmits, search domains,
// cancel and evdns_base_free with requests in flight, nameserver configuration.
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdlib>
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

class DnsClient : public dnstest::FakeServerTest {
protected:
    void SetUp() override {
        FakeServerTest::SetUp();
        if (HasFatalFailure()) return;
        server.set("www.example.test", {0, false, false,
                                        {dnsfake::a("10.0.0.1", 300), dnsfake::a("10.0.0.2", 120),
                                         dnsfake::aaaa("2001:db8::1", 60)}});
        server.set("1.0.0.10.in-addr.arpa", {0, false, false, {dnsfake::ptr("host.example.test", 77)}});
        server.set("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
                   {0, false, false, {dnsfake::ptr("six.example.test", 78)}});
        server.set("fail.test", {2, false, false, {}});
        server.set("refused.test", {5, false, false, {}});
        server.set("quiet.test", {0, true, false, {}});
        server.set("trunc.test", {0, false, true, {}});
        server.set("empty.test", {0, false, false, {}});
    }
    void short_timeouts(const char *attempts = "2") {
        ASSERT_EQ(evdns_base_set_option(dns, "timeout:", "0.2"), 0);
        ASSERT_EQ(evdns_base_set_option(dns, "attempts:", attempts), 0);
    }

};

TEST_F(DnsClient, ResolveIpv4GivesAllAddressesAndTheSmallestTtl) {
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r), nullptr);
    EXPECT_EQ(r.calls, 0);  // never answered from inside the call
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(r.type, DNS_IPv4_A);
    EXPECT_EQ(r.count, 2);
    EXPECT_EQ(r.ttl, 120);
    EXPECT_EQ(r.addrs, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
}

TEST_F(DnsClient, ResolveIpv6) {
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv6(dns, "www.example.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(r.type, DNS_IPv6_AAAA);
    EXPECT_EQ(r.count, 1);
    EXPECT_EQ(r.ttl, 60);
    EXPECT_EQ(r.addrs, (std::vector<std::string>{"2001:db8::1"}));
}

TEST_F(DnsClient, ReverseLookups) {
    Result r4, r6;
    in_addr in4{};
    inet_pton(AF_INET, "10.0.0.1", &in4);
    in6_addr in6{};
    inet_pton(AF_INET6, "2001:db8::1", &in6);
    ASSERT_NE(evdns_base_resolve_reverse(dns, &in4, 0, on_result, &r4), nullptr);
    ASSERT_NE(evdns_base_resolve_reverse_ipv6(dns, &in6, 0, on_result, &r6), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r4.calls > 0 && r6.calls > 0; }));
    EXPECT_EQ(r4.result, DNS_ERR_NONE);
    EXPECT_EQ(r4.type, DNS_PTR);
    EXPECT_EQ(r4.count, 1);
    EXPECT_EQ(r4.ttl, 77);
    EXPECT_EQ(r4.addrs, (std::vector<std::string>{"host.example.test"}));
    EXPECT_EQ(r6.result, DNS_ERR_NONE);
    EXPECT_EQ(r6.type, DNS_PTR);
    EXPECT_EQ(r6.addrs, (std::vector<std::string>{"six.example.test"}));
}

TEST_F(DnsClient, NxdomainIsNotExist) {
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "nothing.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NOTEXIST);
    EXPECT_EQ(r.type, 0);
    EXPECT_EQ(r.count, 0);
    EXPECT_TRUE(r.addrs_null);
    EXPECT_EQ(server.count("nothing.test"), 1);
}

TEST_F(DnsClient, NoRecordsOfTheTypeIsNodata) {
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "empty.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NODATA);
    EXPECT_EQ(r.count, 0);
    EXPECT_TRUE(r.addrs_null);
}

// A negative answer's callback gets the negative caching time of the authority SOA: the
// smaller of the record's ttl and its minimum field; 0 without an SOA.
TEST_F(DnsClient, NegativeAnswersGiveTheSoaCachingTime) {
    dnsfake::Behaviour nx{3, false, false, {}};
    nx.soa_ttl = 42;
    server.set("gone.test", nx);
    dnsfake::Behaviour nodata{0, false, false, {}};
    nodata.soa_ttl = 900;
    nodata.soa_minimum = 61;
    server.set("nodata-soa.test", nodata);
    Result gone, empty_soa, empty;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "gone.test", DNS_QUERY_NO_SEARCH, on_result, &gone), nullptr);
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "nodata-soa.test", DNS_QUERY_NO_SEARCH, on_result, &empty_soa), nullptr);
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "empty.test", DNS_QUERY_NO_SEARCH, on_result, &empty), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return gone.calls && empty_soa.calls && empty.calls; }));
    EXPECT_EQ(gone.result, DNS_ERR_NOTEXIST);
    EXPECT_EQ(gone.ttl, 42);
    EXPECT_EQ(empty_soa.result, DNS_ERR_NODATA);
    EXPECT_EQ(empty_soa.ttl, 61);
    EXPECT_EQ(empty.result, DNS_ERR_NODATA);
    EXPECT_EQ(empty.ttl, 0);
}

// With search domains an empty name has no candidates: the resolve call fails (NULL, no
// callback). Without search it is an ordinary query.
TEST_F(DnsClient, AnEmptyNameIsRefusedWhenSearching) {
    evdns_base_search_add(dns, "example.test");
    Result r;
    EXPECT_EQ(evdns_base_resolve_ipv4(dns, "", 0, on_result, &r), nullptr);
    Result plain;
    EXPECT_NE(evdns_base_resolve_ipv4(dns, "", DNS_QUERY_NO_SEARCH, on_result, &plain), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return plain.calls > 0; }));
    EXPECT_EQ(r.calls, 0);
}

TEST_F(DnsClient, SilenceTimesOutAfterTheConfiguredAttempts) {
    short_timeouts("3");
    Result r;
    double t0 = conf::now_ms();
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "quiet.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }, 5000));
    double took = conf::now_ms() - t0;
    EXPECT_EQ(r.result, DNS_ERR_TIMEOUT);
    EXPECT_EQ(r.count, 0);
    EXPECT_EQ(server.count("quiet.test"), 3);
    EXPECT_GE(took, 550);
    EXPECT_LT(took, 3000);
}

// A reply counts when it comes from the nameserver's IP address, from whatever port: the
// same answer sent from another port of 127.0.0.1 is taken; sent from 127.0.0.2 it is
// dropped and the request times out.
TEST_F(DnsClient, AReplyFromAnotherPortOfTheNameserverIsTaken) {
    dnsfake::Behaviour b{0, false, false, {dnsfake::a("10.0.0.9", 300)}};
    b.from_other_port = true;
    server.set("otherport.test", b);
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "otherport.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }, 5000));
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(r.addrs, (std::vector<std::string>{"10.0.0.9"}));
    EXPECT_EQ(server.count("otherport.test"), 1);
}

TEST_F(DnsClient, AReplyFromAnotherAddressIsIgnored) {
    short_timeouts("2");
    dnsfake::Behaviour b{0, false, false, {dnsfake::a("10.0.0.9", 300)}};
    b.from_other_address = true;
    server.set("elsewhere.test", b);
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "elsewhere.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }, 5000));
    EXPECT_EQ(r.result, DNS_ERR_TIMEOUT);
    EXPECT_EQ(server.count("elsewhere.test"), 2);
    // The same server still answers from its own address and port.
    Result ok;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &ok), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return ok.calls > 0; }, 5000));
    EXPECT_EQ(ok.result, DNS_ERR_NONE);
}

TEST_F(DnsClient, ServfailIsRetriedLikeATimeout) {
    short_timeouts("2");
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "fail.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }, 5000));
    EXPECT_EQ(r.result, DNS_ERR_TIMEOUT);
    EXPECT_EQ(server.count("fail.test"), 2);
}

TEST_F(DnsClient, RefusedIsReported) {
    short_timeouts("2");
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "refused.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }, 5000));
    EXPECT_EQ(r.result, DNS_ERR_REFUSED);
}

TEST_F(DnsClient, TruncatedReplyIsReported) {
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "trunc.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_TRUNCATED);
    EXPECT_EQ(r.count, 0);
}

TEST_F(DnsClient, SearchDomainsAreTriedForShortNames) {
    server.set("www.example.test", {0, false, false, {dnsfake::a("10.0.0.9", 30)}});
    // The last domain added is tried first.
    evdns_base_search_add(dns, "example.test");
    evdns_base_search_add(dns, "other.test");
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(r.addrs, (std::vector<std::string>{"10.0.0.9"}));
    EXPECT_EQ(server.asked(), (std::vector<std::string>{"www.other.test", "www.example.test"}));
}

TEST_F(DnsClient, SearchTriesTheNameItselfLastAndFailsWithItsError) {
    evdns_base_search_add(dns, "example.test");
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "missing", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NOTEXIST);
    EXPECT_EQ(server.asked(), (std::vector<std::string>{"missing.example.test", "missing"}));
}

TEST_F(DnsClient, NamesWithEnoughDotsAreTriedAsIsFirst) {
    evdns_base_search_add(dns, "example.test");
    evdns_base_search_ndots_set(dns, 1);
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "a.b", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(server.asked(), (std::vector<std::string>{"a.b", "a.b.example.test"}));
}

// A name with a final dot is asked without it, and a search domain is appended to it
// without doubling the dot.
TEST_F(DnsClient, AFinalDotIsNotPartOfTheName) {
    server.set("host.c.test", {0, false, false, {dnsfake::a("10.0.0.9")}});
    short_timeouts("1");
    Result plain, searched;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test.", DNS_QUERY_NO_SEARCH, on_result, &plain), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return plain.calls > 0; }));
    evdns_base_search_add(dns, "c.test");
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "host.", 0, on_result, &searched), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return searched.calls > 0; }));
    EXPECT_EQ(plain.result, DNS_ERR_NONE);
    EXPECT_EQ(searched.result, DNS_ERR_NONE);
    EXPECT_EQ(server.asked(), (std::vector<std::string>{"www.example.test", "host", "host.c.test"}));
}

TEST_F(DnsClient, NoSearchFlagAndClearedSearchAskOnlyTheName) {
    evdns_base_search_add(dns, "example.test");
    Result r1, r2;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www", DNS_QUERY_NO_SEARCH, on_result, &r1), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r1.calls > 0; }));
    evdns_base_search_clear(dns);
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www", 0, on_result, &r2), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r2.calls > 0; }));
    EXPECT_EQ(r1.result, DNS_ERR_NOTEXIST);
    EXPECT_EQ(r2.result, DNS_ERR_NOTEXIST);
    EXPECT_EQ(server.asked(), (std::vector<std::string>{"www", "www"}));
}

TEST_F(DnsClient, CancelRunsTheCallbackWithCancel) {
    Result r;
    evdns_request *req = evdns_base_resolve_ipv4(dns, "quiet.test", 0, on_result, &r);
    ASSERT_NE(req, nullptr);
    ASSERT_TRUE(run_until(base, [&] { return server.count("quiet.test") > 0; }));
    evdns_cancel_request(dns, req);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_CANCEL);
    EXPECT_EQ(r.count, 0);
    // No second call later.
    run_until(base, [] { return false; }, 100);
    EXPECT_EQ(r.calls, 1);
}

TEST_F(DnsClient, FreeWithFailRequestsReportsShutdown) {
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "quiet.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return server.count("quiet.test") > 0; }));
    evdns_base_free(dns, 1);
    dns = nullptr;
    run_until(base, [&] { return r.calls > 0; }, 300);
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.result, DNS_ERR_SHUTDOWN);
}

TEST_F(DnsClient, FreeWithoutFailRequestsIsSilent) {
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "quiet.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return server.count("quiet.test") > 0; }));
    evdns_base_free(dns, 0);
    dns = nullptr;
    run_until(base, [] { return false; }, 200);
    EXPECT_EQ(r.calls, 0);
}

TEST_F(DnsClient, ManyRequestsInFlightAllComplete) {
    std::vector<Result> rs(40);
    for (auto &r : rs) ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] {
        for (auto &r : rs)
            if (r.calls == 0) return false;
        return true;
    }));
    for (auto &r : rs) EXPECT_EQ(r.count, 2);
}

// A server marked down gets, after initial-probe-timeout, a query of its own (an A query for
// google.com); any answer, even NXDOMAIN, brings it back up and the probing stops.
TEST_F(DnsClient, ADownNameserverIsProbedUntilItAnswers) {
    ASSERT_EQ(evdns_base_set_option(dns, "timeout:", "0.2"), 0);
    ASSERT_EQ(evdns_base_set_option(dns, "attempts:", "2"), 0);
    ASSERT_EQ(evdns_base_set_option(dns, "max-timeouts:", "1"), 0);
    ASSERT_EQ(evdns_base_set_option(dns, "initial-probe-timeout:", "0.3"), 0);
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "quiet.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_TIMEOUT);
    EXPECT_EQ(server.count("google.com"), 0);
    ASSERT_TRUE(run_until(base, [&] { return server.count("google.com") > 0; }, 3000));
    // Answered (NXDOMAIN from the fake server): no further probe.
    run_until(base, [] { return false; }, 800);
    EXPECT_EQ(server.count("google.com"), 1);
    Result ok;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &ok), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return ok.calls > 0; }));
    EXPECT_EQ(ok.result, DNS_ERR_NONE);
}

TEST_F(DnsClient, ADownNameserverIsSkippedForTheNextOne) {
    // A second server that never answers anything: requests that time out on it move on.
    dnsfake::Server silent;
    silent.set("www.example.test", {0, true, false, {}});
    evdns_base_free(dns, 0);
    dns = evdns_base_new(base, 0);
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns, silent.address().c_str()), 0);
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns, server.address().c_str()), 0);
    short_timeouts("3");
    std::vector<Result> rs(4);
    for (auto &r : rs) ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] {
        for (auto &r : rs)
            if (r.calls == 0) return false;
        return true;
    }, 5000));
    int ok = 0;
    for (auto &r : rs) {
        EXPECT_TRUE(r.result == DNS_ERR_NONE || r.result == DNS_ERR_TIMEOUT) << r.result;
        ok += r.result == DNS_ERR_NONE;
    }
    EXPECT_GE(ok, 2);
    EXPECT_GE(silent.total(), 1);
    // The silent server is now marked down: new requests all go to the one that answers.
    int silent_before = silent.total();
    std::vector<Result> more(4);
    for (auto &r : more) ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] {
        for (auto &r : more)
            if (r.calls == 0) return false;
        return true;
    }, 5000));
    for (auto &r : more) EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(silent.total(), silent_before);
}

TEST_F(DnsClient, WithoutNameserversRequestsWaitForResume) {
    evdns_base_free(dns, 0);
    dns = evdns_base_new(base, 0);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 0);
    Result r;
    evdns_request *req = evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r);
    // Queued: nothing is sent or answered until a nameserver is added and the base resumed.
    EXPECT_NE(req, nullptr);
    run_until(base, [] { return false; }, 100);
    EXPECT_EQ(r.calls, 0);
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns, server.address().c_str()), 0);
    run_until(base, [] { return false; }, 100);
    EXPECT_EQ(r.calls, 0);
    EXPECT_EQ(server.total(), 0);
    ASSERT_EQ(evdns_base_resume(dns), 0);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NONE);
}

TEST_F(DnsClient, SuspendedRequestsRunAfterResume) {
    ASSERT_EQ(evdns_base_clear_nameservers_and_suspend(dns), 0);
    EXPECT_EQ(evdns_base_count_nameservers(dns), 0);
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r), nullptr);
    run_until(base, [] { return false; }, 100);
    EXPECT_EQ(r.calls, 0);
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns, server.address().c_str()), 0);
    ASSERT_EQ(evdns_base_resume(dns), 0);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(r.count, 2);
}

TEST_F(DnsClient, InFlightRequestsAreReissuedAfterSuspendAndResume) {
    server.set("late.test", {0, true, false, {}});
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "late.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return server.count("late.test") > 0; }));
    ASSERT_EQ(evdns_base_clear_nameservers_and_suspend(dns), 0);
    server.set("late.test", {0, false, false, {dnsfake::a("10.1.1.1")}});
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns, server.address().c_str()), 0);
    ASSERT_EQ(evdns_base_resume(dns), 0);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(r.addrs, (std::vector<std::string>{"10.1.1.1"}));
    EXPECT_EQ(server.count("late.test"), 2);
}

TEST(DnsErrors, ErrToStringNamesEveryCode) {
    EXPECT_STREQ(evdns_err_to_string(DNS_ERR_NONE), "no error");
    EXPECT_STREQ(evdns_err_to_string(DNS_ERR_FORMAT), "misformatted query");
    EXPECT_STREQ(evdns_err_to_string(DNS_ERR_SERVERFAILED), "server failed");
    EXPECT_STREQ(evdns_err_to_string(DNS_ERR_NOTEXIST), "name does not exist");
    EXPECT_STREQ(evdns_err_to_string(DNS_ERR_NOTIMPL), "query not implemented");
    EXPECT_STREQ(evdns_err_to_string(DNS_ERR_REFUSED), "refused");
    EXPECT_STREQ(evdns_err_to_string(DNS_ERR_TRUNCATED), "reply truncated or ill-formed");
    EXPECT_STREQ(evdns_err_to_string(DNS_ERR_UNKNOWN), "unknown");
    EXPECT_STREQ(evdns_err_to_string(DNS_ERR_TIMEOUT), "request timed out");
    EXPECT_STREQ(evdns_err_to_string(DNS_ERR_SHUTDOWN), "dns subsystem shut down");
    EXPECT_STREQ(evdns_err_to_string(DNS_ERR_CANCEL), "dns request canceled");
    EXPECT_STREQ(evdns_err_to_string(DNS_ERR_NODATA), "no records in the reply");
    EXPECT_STREQ(evdns_err_to_string(1234), "[Unknown error code]");
}

}  // namespace

namespace {

std::vector<std::pair<int, std::string>> g_logged;
void on_log(int is_warning, const char *msg) { g_logged.emplace_back(is_warning, msg); }

TEST_F(DnsClient, ShutdownCallbacksComeFromTheLoopAfterFree) {
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "quiet.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return server.count("quiet.test") > 0; }));
    evdns_base_free(dns, 1);
    dns = nullptr;
    EXPECT_EQ(r.calls, 0);  // the SHUTDOWN callbacks come from the loop, after the free
    run_until(base, [&] { return r.calls > 0; }, 300);
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.result, DNS_ERR_SHUTDOWN);
}

TEST_F(DnsClient, AnswerReceivedBeforeFreeStillReachesItsCallback) {
    Result r1, r2;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r1), nullptr);
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "quiet.test", 0, on_result, &r2), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r1.calls > 0 && server.count("quiet.test") > 0; }));
    evdns_base_free(dns, 0);
    dns = nullptr;
    run_until(base, [] { return false; }, 100);
    EXPECT_EQ(r1.calls, 1);
    EXPECT_EQ(r1.result, DNS_ERR_NONE);
    EXPECT_EQ(r2.calls, 0);
}

TEST_F(DnsClient, NodataMovesToTheNextSearchDomain) {
    server.set("www.b.test", {0, false, false, {dnsfake::a("10.3.3.3")}});
    server.set("www.a.test", {0, false, false, {dnsfake::aaaa("2001:db8::3")}});
    evdns_base_search_add(dns, "b.test");
    evdns_base_search_add(dns, "a.test");
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(r.addrs, (std::vector<std::string>{"10.3.3.3"}));
    EXPECT_EQ(server.asked(), (std::vector<std::string>{"www.a.test", "www.b.test"}));
}

TEST_F(DnsClient, LogFunctionGetsNameserverFailures) {
    g_logged.clear();
    evdns_set_log_fn(on_log);
    short_timeouts("1");
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "quiet.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    evdns_set_log_fn(nullptr);
    bool failed = false;
    for (auto &m : g_logged)
        if (m.second.find("has failed") != std::string::npos) failed = m.first == 0;
    EXPECT_TRUE(failed);
}

TEST(DnsBase, DisableWhenInactiveLetsTheLoopExit) {
    dnsfake::Server server;
    server.set("www.example.test", {0, false, false, {dnsfake::a("10.0.0.1")}});
    event_base *base = event_base_new();
    evdns_base *dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns, server.address().c_str()), 0);
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r), nullptr);
    // Once the answer is in, nothing is left pending: the loop ends by itself (1: no events).
    EXPECT_EQ(event_base_dispatch(base), 1);
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    evdns_base_free(dns, 0);
    event_base_free(base);
}

TEST(DnsBase, InitializeNameserversReadsTheSystemResolvConf) {
    event_base *base = event_base_new();
    evdns_base *dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    ASSERT_NE(dns, nullptr);
    // The file's nameservers, or the 127.0.0.1 default: never none.
    EXPECT_GE(evdns_base_count_nameservers(dns), 1);
    evdns_base_free(dns, 0);
    // Without the default the base is made too, whatever the file holds.
    dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS | EVDNS_BASE_NAMESERVERS_NO_DEFAULT);
    EXPECT_NE(dns, nullptr);
    if (dns) evdns_base_free(dns, 0);
    event_base_free(base);
}

}  // namespace

namespace {

int g_id_fn_calls = 0;
ev_uint16_t counting_id_fn() {
    ++g_id_fn_calls;
    return 7;
}
void counting_bytes_fn(char *buf, size_t n) {
    ++g_id_fn_calls;
    memset(buf, 0, n);
}

TEST_F(DnsClient, TransactionIdAndRandomBytesHooksHaveNoEffect) {
    evdns_set_transaction_id_fn(counting_id_fn);
    evdns_set_random_bytes_fn(counting_bytes_fn);
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(g_id_fn_calls, 0);
    evdns_set_transaction_id_fn(nullptr);
    evdns_set_random_bytes_fn(nullptr);
}

}  // namespace

namespace {

// Every allocation of the resolver goes through event_set_mem_functions' hooks, and the
// lists evdns_getaddrinfo hands out are released through the free hook by
// evutil_freeaddrinfo.
int g_allocs = 0, g_frees = 0;
void *g_watched = nullptr;
bool g_watched_freed = false;
void *count_malloc(size_t n) {
    ++g_allocs;
    return std::malloc(n);
}
void *count_realloc(void *p, size_t n) {
    ++g_allocs;
    return std::realloc(p, n);
}
void count_free(void *p) {
    if (p) ++g_frees;
    if (p && p == g_watched) g_watched_freed = true;
    std::free(p);
}

TEST(DnsMemory, ResolverAllocatesThroughTheMemHooks) {
    // Hooks must be set before anything is allocated: a death test runs in a fresh process.
    EXPECT_EXIT(
        {
            event_set_mem_functions(count_malloc, count_realloc, count_free);
            bool ok = true;
            {
                dnsfake::Server server;
                server.set("www.example.test", {0, false, false, {dnsfake::a("10.0.0.1")}});
                event_base *base = event_base_new();
                int before = g_allocs;
                evdns_base *dns = evdns_base_new(base, 0);
                ok = ok && evdns_base_nameserver_ip_add(dns, server.address().c_str()) == 0;
                Result r;
                ok = ok && evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r);
                ok = ok && run_until(base, [&] { return r.calls > 0; }) && r.result == DNS_ERR_NONE;
                ok = ok && g_allocs - before >= 4;
                evutil_addrinfo *got = nullptr;
                evdns_getaddrinfo(dns, "192.0.2.1", "80", nullptr,
                                  [](int, evutil_addrinfo *res, void *arg) {
                                      *static_cast<evutil_addrinfo **>(arg) = res;
                                  }, &got);
                ok = ok && got;
                g_watched = got;
                evutil_freeaddrinfo(got);
                ok = ok && g_watched_freed;
                int frees_before = g_frees;
                evdns_base_free(dns, 0);
                ok = ok && g_frees > frees_before;
                event_base_free(base);
            }
            std::exit(ok ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
}

}  // namespace

namespace {

TEST_F(DnsClient, WithoutALogFunctionMessagesGoToTheGeneralLog) {
    short_timeouts("1");
    conf::LogCapture logs;
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "quiet.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_TRUE(logs.contains("has failed"));
}

}  // namespace

namespace {

TEST_F(DnsClient, ANewRequestIsSentWhileOlderOnesWaitForResume) {
    evdns_base_free(dns, 0);
    dns = evdns_base_new(base, 0);
    Result old_r, new_r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &old_r), nullptr);
    ASSERT_EQ(evdns_base_nameserver_ip_add(dns, server.address().c_str()), 0);
    ASSERT_NE(evdns_base_resolve_ipv6(dns, "www.example.test", 0, on_result, &new_r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return new_r.calls > 0; }));
    EXPECT_EQ(new_r.result, DNS_ERR_NONE);
    // A finished request lets the waiting ones go.
    ASSERT_TRUE(run_until(base, [&] { return old_r.calls > 0; }));
    EXPECT_EQ(old_r.result, DNS_ERR_NONE);
}

}  // namespace
