// <event2/dns.h> server side: a server port on a UDP socket of 127.0.0.1, its callback
// building replies (A, AAAA, PTR, CNAME, any record), responding, dropping, flags, and the
// requester's address. Clients are libevent's own resolver (evdns_base_resolve_*) and a
// raw UDP socket that checks the reply's bytes.
#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <event2/event.h>
#include <event2/util.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "differences.h"
#include "dns_fake_server.h"
#include "dns_test_util.h"

namespace {

using dnstest::on_result;
using dnstest::Result;
using dnstest::run_until;
using V = std::vector<std::string>;

// What the server callback saw of one request.
struct Seen {
    int flags;
    std::vector<std::string> questions;  // "name type class"
    std::string from;
};

class DnsServer : public ::testing::Test {
protected:
    void SetUp() override {
        base = event_base_new();
        sockaddr_in sin;
        fd = conf::loopback_socket(SOCK_DGRAM, &sin);
        ASSERT_GE(fd, 0);
        port_no = ntohs(sin.sin_port);
        evutil_make_socket_nonblocking(fd);
        port = evdns_add_server_port_with_base(base, fd, 0, &DnsServer::on_request, this);
        ASSERT_NE(port, nullptr);
        dns = evdns_base_new(base, 0);
        ASSERT_EQ(evdns_base_nameserver_ip_add(dns, ("127.0.0.1:" + std::to_string(port_no)).c_str()), 0);
    }
    void TearDown() override {
        evdns_base_free(dns, 0);
        if (port) evdns_close_server_port(port);
        event_base_free(base);  // (the port owned fd and closed it)
    }

    static void on_request(evdns_server_request *req, void *arg) {
        auto *self = static_cast<DnsServer *>(arg);
        Seen s;
        s.flags = req->flags;
        for (int i = 0; i < req->nquestions; ++i) {
            evdns_server_question *q = req->questions[i];
            // libevent's resolver mixes the case of names (0x20): compare in lower case.
            s.questions.push_back(dnsfake::lower(q->name) + " " + std::to_string(q->type) + " " +
                                  std::to_string(q->dns_question_class));
        }
        sockaddr_storage ss{};
        int n = evdns_server_request_get_requesting_addr(req, reinterpret_cast<sockaddr *>(&ss), sizeof ss);
        if (n == static_cast<int>(sizeof(sockaddr_in))) {
            char ip[64];
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in *>(&ss)->sin_addr, ip, sizeof ip);
            s.from = ip;
        }
        self->seen.push_back(s);
        if (self->handler) self->handler(req);
    }

    // Sends raw bytes to the port and waits (running the loop) for the reply bytes.
    std::string raw_exchange(const std::string &query, int wait_ms = 2000) {
        int c = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(static_cast<uint16_t>(port_no));
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sendto(c, query.data(), query.size(), 0, reinterpret_cast<sockaddr *>(&to), sizeof to);
        std::string reply;
        run_until(base, [&] {
            char buf[2048];
            ssize_t n = recv(c, buf, sizeof buf, MSG_DONTWAIT);
            if (n > 0) reply.assign(buf, static_cast<size_t>(n));
            return n > 0;
        }, wait_ms);
        close(c);
        return reply;
    }

    event_base *base = nullptr;
    evdns_base *dns = nullptr;
    evdns_server_port *port = nullptr;
    int fd = -1;
    int port_no = 0;
    std::vector<Seen> seen;
    std::function<void(evdns_server_request *)> handler;
};

// A query: id 0x1234, RD, one question.
std::string query(const std::string &name, uint16_t type, uint16_t flags = 0x0100) {
    std::string q("\x12\x34", 2);
    q.push_back(static_cast<char>(flags >> 8));
    q.push_back(static_cast<char>(flags & 0xff));
    q += std::string("\x00\x01\x00\x00\x00\x00\x00\x00", 8);
    q += dnsfake::encode_name(name);
    q.push_back(static_cast<char>(type >> 8));
    q.push_back(static_cast<char>(type & 0xff));
    q += std::string("\x00\x01", 2);
    return q;
}

std::string hex(const std::string &s) {
    std::string out;
    char b[4];
    for (unsigned char c : s) {
        snprintf(b, sizeof b, "%02x", c);
        out += b;
    }
    return out;
}

TEST_F(DnsServer, AnswersAQueriesFromTheResolver) {
    handler = [](evdns_server_request *req) {
        uint32_t a = htonl(0x0a000001);
        EXPECT_EQ(evdns_server_request_add_a_reply(req, req->questions[0]->name, 1, &a, 123), 0);
        EXPECT_EQ(evdns_server_request_respond(req, 0), 0);
    };
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NONE);
    EXPECT_EQ(r.addrs, (V{"10.0.0.1"}));
    EXPECT_EQ(r.ttl, 123);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].questions, (V{"www.example.test 1 1"}));
    EXPECT_EQ(seen[0].from, "127.0.0.1");
}

TEST_F(DnsServer, AaaaPtrAndCname) {
    handler = [](evdns_server_request *req) {
        evdns_server_question *q = req->questions[0];
        if (q->type == EVDNS_TYPE_AAAA) {
            in6_addr a{};
            inet_pton(AF_INET6, "2001:db8::7", &a);
            EXPECT_EQ(evdns_server_request_add_cname_reply(req, q->name, "real.example.test", 50), 0);
            EXPECT_EQ(evdns_server_request_add_aaaa_reply(req, "real.example.test", 1, &a, 60), 0);
        } else if (q->type == EVDNS_TYPE_PTR) {
            in_addr in{};
            inet_pton(AF_INET, "10.0.0.1", &in);
            EXPECT_EQ(evdns_server_request_add_ptr_reply(req, &in, nullptr, "host.example.test", 70), 0);
        }
        EXPECT_EQ(evdns_server_request_respond(req, 0), 0);
    };
    Result r6, rp;
    ASSERT_NE(evdns_base_resolve_ipv6(dns, "alias.example.test", 0, on_result, &r6), nullptr);
    in_addr in{};
    inet_pton(AF_INET, "10.0.0.1", &in);
    ASSERT_NE(evdns_base_resolve_reverse(dns, &in, 0, on_result, &rp), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r6.calls > 0 && rp.calls > 0; }));
    EXPECT_EQ(r6.result, DNS_ERR_NONE);
    EXPECT_EQ(r6.addrs, (V{"2001:db8::7"}));
    EXPECT_EQ(rp.result, DNS_ERR_NONE);
    EXPECT_EQ(rp.addrs, (V{"host.example.test"}));
    EXPECT_EQ(rp.ttl, 70);
}

TEST_F(DnsServer, ErrorCodeIsTheReplyCode) {
    handler = [](evdns_server_request *req) { EXPECT_EQ(evdns_server_request_respond(req, DNS_ERR_NOTEXIST), 0); };
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "nothing.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_NOTEXIST);
}

TEST_F(DnsServer, DropSendsNothing) {
    handler = [](evdns_server_request *req) { EXPECT_EQ(evdns_server_request_drop(req), 0); };
    ASSERT_EQ(evdns_base_set_option(dns, "timeout:", "0.2"), 0);
    ASSERT_EQ(evdns_base_set_option(dns, "attempts:", "2"), 0);
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "www.example.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.result, DNS_ERR_TIMEOUT);
    EXPECT_EQ(seen.size(), 2u);
}

TEST_F(DnsServer, RawReplyBytes) {
    handler = [](evdns_server_request *req) {
        uint32_t a = htonl(0x0a000002);
        EXPECT_EQ(evdns_server_request_add_a_reply(req, "w.test", 1, &a, 0x01020304), 0);
        EXPECT_EQ(evdns_server_request_respond(req, 0), 0);
    };
    std::string reply = raw_exchange(query("w.test", 1));
    // id, QR|RD, 1 question, 1 answer; the question; the answer named by a pointer to it.
    EXPECT_EQ(hex(reply), std::string("123481000001000100000000017704746573740000010001") +
                              "c00c000100010102030400040a000002");
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].flags, 0x100);  // the query's header flags word
}

TEST_F(DnsServer, SetFlagsAndRcode) {
    handler = [](evdns_server_request *req) {
        evdns_server_request_set_flags(req, EVDNS_FLAGS_AA);
        EXPECT_EQ(evdns_server_request_respond(req, DNS_ERR_REFUSED), 0);
    };
    std::string reply = raw_exchange(query("w.test", 1, 0x0000));
    EXPECT_EQ(hex(reply), "123484050001000000000000017704746573740000010001");
}

// Of a query's flags only RD (0x0100) and CD (0x0010) reach the callback and the reply
// (found by fuzzing the server port: tests/fuzz/dns_server_fuzz.cpp).
TEST_F(DnsServer, OnlyRdAndCdOfTheQueryFlagsAreKept) {
    handler = [](evdns_server_request *req) { EXPECT_EQ(evdns_server_request_respond(req, 0), 0); };
    const std::pair<uint16_t, const char *> kCases[] = {
        {0x01ff, "8110"}, {0x7900, "8100"}, {0x0700, "8100"}, {0x0080, "8000"}, {0x0030, "8010"},
        {0x000f, "8000"}};
    for (const auto &[query_flags, reply_flags] : kCases) {
        SCOPED_TRACE(query_flags);
        seen.clear();
        std::string reply = raw_exchange(query("w.test", 1, query_flags));
        ASSERT_GE(reply.size(), 4u);
        EXPECT_EQ(hex(reply.substr(2, 2)), reply_flags);
        ASSERT_EQ(seen.size(), 1u);
        EXPECT_EQ(seen[0].flags, query_flags & 0x0110);
    }
}

// Names are compressed as whole suffixes compared byte for byte, a final dot included: the
// empty suffix after a final dot is shared as well (found by tests/fuzz/dns_server_fuzz.cpp).
TEST_F(DnsServer, NamesWithAFinalDotAreCompressedAsLibeventDoes) {
    handler = [](evdns_server_request *req) {
        EXPECT_EQ(evdns_server_request_add_cname_reply(req, "w.test", "alias.example.", 60), 0);
        EXPECT_EQ(evdns_server_request_add_cname_reply(req, "alias.example.", "x.", 60), 0);
        EXPECT_EQ(evdns_server_request_add_cname_reply(req, "W.test", "w.test.", 60), 0);
        EXPECT_EQ(evdns_server_request_respond(req, 0), 0);
    };
    std::string reply = raw_exchange(query("w.test", 5));
    // "alias.example." ends with a zero byte that "x." then points to; "W.test" is not
    // "w.test" (case counts) but shares "test".
    EXPECT_EQ(hex(reply), std::string("123481000001000300000000017704746573740000050001") +
                              "c00c000500010000003c000f05616c696173076578616d706c6500" +
                              "c024000500010000003c00040178c032" +
                              "0157c00e000500010000003c000901770474657374c032");
}

TEST_F(DnsServer, GenericReplyInEachSection) {
    handler = [](evdns_server_request *req) {
        EXPECT_EQ(evdns_server_request_add_reply(req, EVDNS_ANSWER_SECTION, "w.test", EVDNS_TYPE_TXT, EVDNS_CLASS_INET,
                                                 10, 4, 0, "\x03" "abc"), 0);
        EXPECT_EQ(evdns_server_request_add_reply(req, EVDNS_AUTHORITY_SECTION, "test", EVDNS_TYPE_NS, EVDNS_CLASS_INET,
                                                 20, -1, 1, "ns.test"), 0);
        EXPECT_EQ(evdns_server_request_add_reply(req, EVDNS_ADDITIONAL_SECTION, "ns.test", EVDNS_TYPE_A,
                                                 EVDNS_CLASS_INET, 30, 4, 0, "\x0a\x00\x00\x09"), 0);
        EXPECT_EQ(evdns_server_request_respond(req, 0), 0);
    };
    std::string reply = raw_exchange(query("w.test", 16));
    // Names in records and in rdata share suffixes already written ("test", "ns.test").
    EXPECT_EQ(hex(reply), std::string("123481000001000100010001017704746573740000100001") +
                              "c00c001000010000000a000403616263" + "c00e00020001000000140005026e73c00e" +
                              "c034000100010000001e00040a000009");
}

TEST_F(DnsServer, ManyAnswersAreTruncated) {
    handler = [](evdns_server_request *req) {
        for (int i = 0; i < 100; ++i) {
            uint32_t a = htonl(0x0a000000 + static_cast<uint32_t>(i));
            EXPECT_EQ(evdns_server_request_add_a_reply(req, req->questions[0]->name, 1, &a, 10), 0);
        }
        EXPECT_EQ(evdns_server_request_respond(req, 0), 0);
    };
    std::string reply = raw_exchange(query("many.test", 1));
    ASSERT_GE(reply.size(), 12u);
    EXPECT_EQ(hex(reply.substr(2, 2)), "8300");  // QR|TC|RD
    if (conf::kDnsServerCutsWholeRecords) {
        // 12 + 15 (question) + 30 * 16 (answers named by pointer) = 507 bytes.
        EXPECT_EQ(reply.size(), 507u);
        EXPECT_EQ(hex(reply.substr(4, 8)), "0001001e00000000");
    } else {
        EXPECT_EQ(reply.size(), 512u);
        EXPECT_EQ(hex(reply.substr(4, 8)), "0001006400000000");
    }
}

TEST_F(DnsServer, MalformedAndResponsePacketsAreIgnored) {
    handler = [](evdns_server_request *req) { evdns_server_request_respond(req, 0); };
    if (conf::kDnsServerIgnoresShortPackets) {
        EXPECT_EQ(raw_exchange(std::string("\x12\x34\x01", 3), 300), "");
    }
    EXPECT_EQ(raw_exchange(query("w.test", 1).substr(0, 20), 300), "");  // question cut short
    EXPECT_EQ(raw_exchange(query("w.test", 1, 0x8100), 300), "");         // a response, not a query
    // No question (found by fuzzing): a 12-byte header alone, and one that counts answers.
    EXPECT_EQ(raw_exchange(std::string("\x12\x34\x01\x00\0\0\0\0\0\0\0\0", 12), 300), "");
    EXPECT_EQ(raw_exchange(std::string("\x12\x34\x01\x00\0\0\0\x01\0\0\0\0", 12), 300), "");
    EXPECT_TRUE(seen.empty());
    std::string ok = raw_exchange(query("w.test", 1));
    EXPECT_NE(ok, "");
}

TEST_F(DnsServer, TwoQuestions) {
    handler = [](evdns_server_request *req) { evdns_server_request_respond(req, 0); };
    std::string q = query("a.test", 1);
    q[5] = 2;
    q += dnsfake::encode_name("b.test") + std::string("\x00\x1c\x00\x01", 4);
    std::string reply = raw_exchange(q);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].questions, (V{"a.test 1 1", "b.test 28 1"}));
    EXPECT_EQ(hex(reply), "1234810000020000000000000161047465737400000100010162c00e001c0001");
}

TEST_F(DnsServer, RequestingAddrNeedsRoom) {
    int got = 0;
    handler = [&](evdns_server_request *req) {
        sockaddr_in small{};
        got = evdns_server_request_get_requesting_addr(req, reinterpret_cast<sockaddr *>(&small), 4);
        evdns_server_request_respond(req, 0);
    };
    raw_exchange(query("w.test", 1));
    EXPECT_EQ(got, -1);
}

TEST_F(DnsServer, CloseWithARequestOutstanding) {
    evdns_server_request *held = nullptr;
    handler = [&](evdns_server_request *req) { held = req; };
    int c = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port_no));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string q = query("w.test", 1);
    sendto(c, q.data(), q.size(), 0, reinterpret_cast<sockaddr *>(&to), sizeof to);
    ASSERT_TRUE(run_until(base, [&] { return held != nullptr; }));
    evdns_close_server_port(port);
    port = nullptr;
    // The outstanding request keeps the port, and its socket, until it is answered.
    EXPECT_NE(fcntl(fd, F_GETFD), -1);
    EXPECT_EQ(evdns_server_request_respond(held, 0), 0);
    char buf[600];
    run_until(base, [] { return false; }, 50);
    EXPECT_EQ(recv(c, buf, sizeof buf, MSG_DONTWAIT), 24);
    EXPECT_EQ(fcntl(fd, F_GETFD), -1);
    close(c);
}

TEST_F(DnsServer, CloseClosesTheSocket) {
    evdns_close_server_port(port);
    port = nullptr;
    EXPECT_EQ(fcntl(fd, F_GETFD), -1);
}

TEST_F(DnsServer, RepliesAfterTheCallbackReturned) {
    std::vector<evdns_server_request *> held;
    handler = [&](evdns_server_request *req) { held.push_back(req); };
    Result r;
    ASSERT_NE(evdns_base_resolve_ipv4(dns, "later.test", 0, on_result, &r), nullptr);
    ASSERT_TRUE(run_until(base, [&] { return !held.empty(); }));
    uint32_t a = htonl(0x0a000003);
    EXPECT_EQ(evdns_server_request_add_a_reply(held[0], held[0]->questions[0]->name, 1, &a, 5), 0);
    EXPECT_EQ(evdns_server_request_respond(held[0], 0), 0);
    ASSERT_TRUE(run_until(base, [&] { return r.calls > 0; }));
    EXPECT_EQ(r.addrs, (V{"10.0.0.3"}));
}

}  // namespace
