// bufferevent_socket_connect_hostname with an evdns_base: the name is looked up through the
// resolver (here pointed at the fake server) instead of the system's blocking getaddrinfo;
// an unknown name ends in BEV_EVENT_ERROR with the getaddrinfo-style code in
// bufferevent_socket_get_dns_error.
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns_fake_server.h"
#include "dns_test_util.h"

namespace {

using dnstest::run_until;

struct Seen {
    int calls = 0;
    short what = 0;
};

void on_event(bufferevent *, short what, void *arg) {
    auto *s = static_cast<Seen *>(arg);
    s->calls++;
    s->what = what;
}

class DnsBufferevent : public dnstest::FakeServerTest {
protected:
    void SetUp() override {
        FakeServerTest::SetUp();
        if (HasFatalFailure()) return;
        // A listening socket on 127.0.0.1, the address the fake server gives for the name.
        sockaddr_in sin;
        lfd = conf::loopback_socket(SOCK_STREAM, &sin);
        ASSERT_GE(lfd, 0);
        ASSERT_EQ(listen(lfd, 4), 0);
        port = ntohs(sin.sin_port);
        server.set("service.test", {0, false, false, {dnsfake::a("127.0.0.1")}});
    }
    void TearDown() override {
        if (lfd >= 0) close(lfd);
        FakeServerTest::TearDown();
    }
    int lfd = -1;
    int port = 0;
};

TEST_F(DnsBufferevent, ConnectsToTheAddressTheResolverGives) {
    bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(bev, nullptr);
    Seen seen;
    bufferevent_setcb(bev, nullptr, nullptr, on_event, &seen);
    ASSERT_EQ(bufferevent_socket_connect_hostname(bev, dns, AF_INET, "service.test", port), 0);
    ASSERT_TRUE(run_until(base, [&] { return seen.calls > 0; }));
    EXPECT_EQ(seen.what, BEV_EVENT_CONNECTED);
    EXPECT_EQ(bufferevent_socket_get_dns_error(bev), 0);
    EXPECT_EQ(server.count("service.test"), 1);  // asked through evdns (A only: AF_INET)
    bufferevent_free(bev);
}

TEST_F(DnsBufferevent, AnUnknownNameIsADnsError) {
    bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(bev, nullptr);
    Seen seen;
    bufferevent_setcb(bev, nullptr, nullptr, on_event, &seen);
    ASSERT_EQ(bufferevent_socket_connect_hostname(bev, dns, AF_INET, "nowhere.test", port), 0);
    EXPECT_EQ(seen.calls, 0);  // the answer comes from the loop
    ASSERT_TRUE(run_until(base, [&] { return seen.calls > 0; }));
    EXPECT_EQ(seen.what, BEV_EVENT_ERROR);
    EXPECT_EQ(bufferevent_socket_get_dns_error(bev), EVUTIL_EAI_NONAME);
    EXPECT_GE(server.count("nowhere.test"), 1);
    bufferevent_free(bev);
}

TEST_F(DnsBufferevent, ANumericHostConnectsWithoutAQuery) {
    bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(bev, nullptr);
    Seen seen;
    bufferevent_setcb(bev, nullptr, nullptr, on_event, &seen);
    ASSERT_EQ(bufferevent_socket_connect_hostname(bev, dns, AF_UNSPEC, "127.0.0.1", port), 0);
    ASSERT_TRUE(run_until(base, [&] { return seen.calls > 0; }));
    EXPECT_EQ(seen.what, BEV_EVENT_CONNECTED);
    EXPECT_EQ(server.total(), 0);
    bufferevent_free(bev);
}

}  // namespace
