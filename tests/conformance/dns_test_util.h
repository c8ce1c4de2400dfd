// Shared helpers of the evdns conformance tests: fixtures with a base and a resolver (and a
// fake server as its nameserver), running a loop until something happened, the results a
// resolve callback saw, and temporary files for resolv.conf/hosts parsing.
#pragma once

#include <event2/dns.h>
#include <event2/event.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdint>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dns_fake_server.h"
#include "helpers.h"

namespace dnstest {

// What an evdns_callback_type callback was given (addresses as text).
struct Result {
    int calls = 0;
    int result = -1;
    int type = -1;
    int count = -1;
    int ttl = -1;
    bool addrs_null = false;
    std::vector<std::string> addrs;
};

// An evdns_callback_type for a Result at arg: counts the call, keeps what it was given,
// and the addresses of a successful A, AAAA or PTR answer as text.
inline void on_result(int result, char type, int count, int ttl, void *addresses, void *arg) {
    auto *r = static_cast<Result *>(arg);
    r->calls++;
    r->result = result;
    r->type = type;
    r->count = count;
    r->ttl = ttl;
    r->addrs_null = addresses == nullptr;
    if (result == DNS_ERR_NONE && addresses) {
        char buf[INET6_ADDRSTRLEN];
        for (int i = 0; i < count; ++i) {
            if (type == DNS_IPv4_A) {
                r->addrs.push_back(inet_ntop(AF_INET, static_cast<uint32_t *>(addresses) + i, buf, sizeof buf));
            } else if (type == DNS_IPv6_AAAA) {
                r->addrs.push_back(inet_ntop(AF_INET6, static_cast<in6_addr *>(addresses) + i, buf, sizeof buf));
            } else if (type == DNS_PTR) {
                r->addrs.push_back(*static_cast<char **>(addresses));
            }
        }
    }
}

// A fixture's base and a resolver on it with no nameserver yet. TearDown frees both; a test
// that frees the resolver itself sets dns to nullptr.
class ResolverTest : public ::testing::Test {
protected:
    void SetUp() override {
        base = event_base_new();
        ASSERT_NE(base, nullptr);
        dns = evdns_base_new(base, 0);
        ASSERT_NE(dns, nullptr);
    }
    void TearDown() override {
        if (dns) evdns_base_free(dns, 0);
        event_base_free(base);
    }
    event_base *base = nullptr;
    evdns_base *dns = nullptr;
};

// A ResolverTest whose resolver has one nameserver: `server`, a fake DNS server on 127.0.0.1.
class FakeServerTest : public ResolverTest {
protected:
    void SetUp() override {
        ResolverTest::SetUp();
        if (HasFatalFailure()) return;
        ASSERT_EQ(evdns_base_nameserver_ip_add(dns, server.address().c_str()), 0);
    }
    dnsfake::Server server;
};

// Runs base's loop in short steps until done() holds or ms have passed; true if done().
template <class Pred>
bool run_until(event_base *base, Pred done, int ms = 3000) {
    double end = conf::now_ms() + ms;
    while (!done()) {
        if (conf::now_ms() > end) return false;
        timeval tv = conf::tv_ms(10);
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    return true;
}

// A file with the given text, removed on destruction.
class TempFile {
public:
    explicit TempFile(const std::string &text) {
        char name[] = "/tmp/evdns-test-XXXXXX";
        int fd = mkstemp(name);
        path_ = name;
        if (fd >= 0) {
            if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) path_.clear();
            close(fd);
        }
    }
    ~TempFile() {
        if (!path_.empty()) unlink(path_.c_str());
    }
    TempFile(const TempFile &) = delete;
    TempFile &operator=(const TempFile &) = delete;
    const char *path() const { return path_.c_str(); }

private:
    std::string path_;
};

}  // namespace dnstest
