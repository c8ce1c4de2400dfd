// reevent's DNS message code (src/dns/wire.*) and server port on malformed input: queries
// are built as RFC 1035 says, replies are read within their bounds whatever the bytes
// (cut, mutated, pointer loops), and a server port survives random datagrams. Run under
// ASan by the asan preset.
#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <event2/event.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../conformance/support/helpers.h"
#include "dns/wire.h"

namespace {

using namespace reevent::dns;

TEST(DnsWire, QueryIsHeaderThenOneQuestion) {
    unsigned char out[kMaxUdp];
    size_t n = build_query(0xbeef, "www.example.test", kTypeAaaa, out);
    const unsigned char want[] = {0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                  3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
                                  4, 't', 'e', 's', 't', 0, 0, 28, 0, 1};
    ASSERT_EQ(n, sizeof want);
    EXPECT_EQ(std::memcmp(out, want, n), 0);
}

TEST(DnsWire, UnencodableNamesAreRefused) {
    unsigned char out[kMaxUdp];
    EXPECT_EQ(build_query(1, "a..b", kTypeA, out), 0u);
    EXPECT_EQ(build_query(1, std::string(64, 'x').c_str(), kTypeA, out), 0u);
    std::string long_name;
    for (int i = 0; i < 50; ++i) long_name += "abcdef.";
    long_name += "x";
    EXPECT_EQ(build_query(1, long_name.c_str(), kTypeA, out), 0u);
    EXPECT_GT(build_query(1, std::string(63, 'x').c_str(), kTypeA, out), 0u);
}

// A reply to "a.test" A with three answers, the first two named by pointer.
std::vector<unsigned char> sample_reply() {
    std::vector<unsigned char> m = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0,
                                    1, 'a', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
    for (int i = 0; i < 2; ++i) {
        const unsigned char rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, static_cast<unsigned char>(60 + i), 0, 4,
                                    10, 0, 0, static_cast<unsigned char>(i + 1)};
        m.insert(m.end(), rr, rr + sizeof rr);
    }
    const unsigned char rr3[] = {1, 'b', 0xc0, 0x0e, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 0, 0, 3};
    m.insert(m.end(), rr3, rr3 + sizeof rr3);
    return m;
}

TEST(DnsWire, ReplyRecordsAndSmallestTtl) {
    auto m = sample_reply();
    Reply r;
    ASSERT_TRUE(parse_reply(m.data(), m.size(), 0, r));
    EXPECT_EQ(r.id, 0x1234);
    EXPECT_STREQ(r.question, "a.test");
    EXPECT_EQ(r.qtype, kTypeA);
    EXPECT_EQ(r.count, 3);
    EXPECT_EQ(r.ttl, 30u);
    EXPECT_EQ(ntohl(r.a[2]), 0x0a000003u);
    size_t pos = m.size() - 18;
    char name[kMaxName + 1];
    ASSERT_TRUE(read_name(m.data(), m.size(), &pos, name, sizeof name));
    EXPECT_STREQ(name, "b.test");
}

TEST(DnsWire, PointerLoopsAndCutMessagesAreRefused) {
    const unsigned char loop[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1};
    Reply r;
    EXPECT_FALSE(parse_reply(loop, sizeof loop, 0, r));
    auto m = sample_reply();
    for (size_t cut = 0; cut < m.size(); ++cut) {
        Reply part;
        EXPECT_FALSE(parse_reply(m.data(), cut, 0, part)) << cut;
    }
}

TEST(DnsWire, MutatedRepliesAreReadWithinBounds) {
    auto m = sample_reply();
    std::mt19937 rng(12345);
    int accepted = 0;
    for (int i = 0; i < 200000; ++i) {
        std::vector<unsigned char> x = m;
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) x[rng() % x.size()] = static_cast<unsigned char>(rng());
        x.resize(rng() % (x.size() + 1));
        // An exact-size heap copy, so ASan sees any read past the end.
        std::vector<unsigned char> exact(x);
        Reply r;
        accepted += parse_reply(exact.data(), exact.size(), 0, r);
        EXPECT_LE(r.count, kMaxAddrs);
    }
    EXPECT_GT(accepted, 0);
}

// A server port fed random datagrams keeps answering well-formed queries.
TEST(DnsServerPort, SurvivesRandomDatagrams) {
    event_base *base = event_base_new();
    sockaddr_in sin;
    int fd = conf::loopback_socket(SOCK_DGRAM, &sin);
    ASSERT_GE(fd, 0);
    evutil_make_socket_nonblocking(fd);
    int requests = 0;
    evdns_server_port *port = evdns_add_server_port_with_base(
        base, fd, 0,
        [](evdns_server_request *req, void *arg) {
            ++*static_cast<int *>(arg);
            for (int i = 0; i < req->nquestions; ++i) (void)std::strlen(req->questions[i]->name);
            uint32_t a = htonl(0x0a000001);
            evdns_server_request_add_a_reply(req, "x.test", 1, &a, 1);
            evdns_server_request_respond(req, 0);
        },
        &requests);
    ASSERT_NE(port, nullptr);
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    std::mt19937 rng(777);
    unsigned char q[kMaxUdp];
    size_t qn = build_query(0x4242, "x.test", kTypeA, q);
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < 40; ++i) {
            unsigned char pkt[600];
            size_t n = rng() % sizeof pkt;
            if (rng() % 2) {
                std::memcpy(pkt, q, qn);  // a mutated query
                n = rng() % (qn + 8);
                for (int f = 0; f < 3; ++f) pkt[rng() % qn] = static_cast<unsigned char>(rng());
            } else {
                for (size_t k = 0; k < n; ++k) pkt[k] = static_cast<unsigned char>(rng());
            }
            sendto(c, pkt, n, 0, reinterpret_cast<sockaddr *>(&sin), sizeof sin);
        }
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    // Drain, then a clean query gets its answer.
    char buf[600];
    for (int i = 0; i < 20; ++i) event_base_loop(base, EVLOOP_NONBLOCK);
    while (recv(c, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
    sendto(c, q, qn, 0, reinterpret_cast<sockaddr *>(&sin), sizeof sin);
    ssize_t got = -1;
    for (int i = 0; i < 200 && got <= 0; ++i) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        got = recv(c, buf, sizeof buf, MSG_DONTWAIT);
        if (got <= 0) usleep(1000);
    }
    EXPECT_GT(got, 12);
    EXPECT_EQ(static_cast<unsigned char>(buf[0]), 0x42);
    EXPECT_GT(requests, 0);
    close(c);
    evdns_close_server_port(port);
    event_base_free(base);
}

}  // namespace
