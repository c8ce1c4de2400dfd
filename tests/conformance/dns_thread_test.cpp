// One evdns_base used from several threads while its event_base's loop runs in another:
// with evthread_use_pthreads() called before the bases are made, the resolver may be asked,
// cancelled and reconfigured from any thread, and every answer reaches its own callback
// exactly once. (An executable of its own: evthread_use_pthreads is process-wide.)
//
// Where a window has to be forced, the asking thread runs on the loop thread's CPU under
// SCHED_IDLE (as in thread_race_test.cpp): the loop thread, woken by the answer, preempts
// it at once and runs the answer's callbacks before the asking call has returned.
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <event2/util.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backend_fixture.h"
#include "cross_thread.h"
#include "differences.h"
#include "dns_fake_server.h"
#include "helpers.h"

namespace {

using namespace xthread;

// One lookup and what its callback saw.
struct Lookup {
    std::string name;
    std::string want4;  // the A record the fake server gives for name
    std::string want6;  // ... and the AAAA record (evdns_getaddrinfo)
    std::atomic<int> calls{0};
    std::atomic<int> wrong{0};  // calls with another outcome than expected
    std::atomic<int> result{-1};
    evdns_request *req = nullptr;
    evdns_getaddrinfo_request *gai = nullptr;
};

std::string ntop4(const void *a) {
    char buf[INET_ADDRSTRLEN];
    return inet_ntop(AF_INET, a, buf, sizeof buf);
}
std::string ntop6(const void *a) {
    char buf[INET6_ADDRSTRLEN];
    return inet_ntop(AF_INET6, a, buf, sizeof buf);
}

// An A answer: one address, the one this lookup's name has.
void on_a(int result, char type, int count, int, void *addresses, void *arg) {
    auto *l = static_cast<Lookup *>(arg);
    l->result = result;
    if (result != DNS_ERR_NONE || type != DNS_IPv4_A || count != 1 || ntop4(addresses) != l->want4)
        l->wrong.fetch_add(1);
    l->calls.fetch_add(1);
}

// A lookup that is expected to be cancelled.
void on_cancelled(int result, char, int, int, void *, void *arg) {
    auto *l = static_cast<Lookup *>(arg);
    l->result = result;
    if (result != DNS_ERR_CANCEL) l->wrong.fetch_add(1);
    l->calls.fetch_add(1);
}

// evdns_getaddrinfo with AF_UNSPEC and SOCK_STREAM: the IPv4 entry first, then the IPv6 one.
void on_gai(int result, evutil_addrinfo *res, void *arg) {
    auto *l = static_cast<Lookup *>(arg);
    l->result = result;
    bool ok = result == 0 && res && res->ai_family == AF_INET &&
              ntop4(&reinterpret_cast<sockaddr_in *>(res->ai_addr)->sin_addr) == l->want4 && res->ai_next &&
              res->ai_next->ai_family == AF_INET6 &&
              ntop6(&reinterpret_cast<sockaddr_in6 *>(res->ai_next->ai_addr)->sin6_addr) == l->want6 &&
              !res->ai_next->ai_next;
    if (!ok) l->wrong.fetch_add(1);
    if (res) evutil_freeaddrinfo(res);
    l->calls.fetch_add(1);
}

void on_gai_cancelled(int result, evutil_addrinfo *res, void *arg) {
    auto *l = static_cast<Lookup *>(arg);
    l->result = result;
    if (result != EVUTIL_EAI_CANCEL || res) l->wrong.fetch_add(1);
    if (res) evutil_freeaddrinfo(res);
    l->calls.fetch_add(1);
}

class DnsThreads : public conf::BackendTest {
protected:
    void SetUp() override {
        // Before any base: libevent allocates an evdns_base's lock only when locking is on.
        ASSERT_EQ(evthread_use_pthreads(), 0);
        conf::BackendTest::SetUp();
        if (HasFatalFailure()) return;
        dns = evdns_base_new(base(), 0);
        ASSERT_NE(dns, nullptr);
        ASSERT_EQ(evdns_base_nameserver_ip_add(dns, server.address().c_str()), 0);
        start_loop();
    }
    void TearDown() override {
        stop_loop();
        if (dns) evdns_base_free(dns, 0);
        // A last turn of the loop for what the free left to run.
        if (base()) event_base_loop(base(), EVLOOP_NONBLOCK);
        conf::BackendTest::TearDown();
    }
    void start_loop() { loop_.start(base()); }
    void stop_loop() { loop_.stop(); }
    // n lookups named <prefix><i>.test, each with its own A and AAAA record on the server.
    std::vector<std::unique_ptr<Lookup>> make_lookups(const std::string &prefix, int n, bool silent = false) {
        std::vector<std::unique_ptr<Lookup>> v;
        for (int i = 0; i < n; ++i) {
            auto l = std::make_unique<Lookup>();
            l->name = prefix + std::to_string(i) + ".test";
            l->want4 = "10." + std::to_string(serial_ / 250) + "." + std::to_string(serial_ % 250) + ".7";
            l->want6 = "2001:db8::" + std::to_string(serial_ + 1);
            ++serial_;
            dnsfake::Behaviour b;
            if (silent)
                b.silent = true;
            else
                b.answers = {dnsfake::a(l->want4.c_str()), dnsfake::aaaa(l->want6.c_str())};
            server.set(l->name, b);
            v.push_back(std::move(l));
        }
        return v;
    }
    // Thread t resolves the A records of per[t]'s names, one thread per list; then every
    // callback must have run once with its own answer.
    void resolve_from_threads(std::vector<std::vector<std::unique_ptr<Lookup>>> &per) {
        std::vector<std::thread> threads;
        for (auto &list : per)
            threads.emplace_back([&] {
                for (auto &l : list) {
                    l->req = evdns_base_resolve_ipv4(dns, l->name.c_str(), DNS_QUERY_NO_SEARCH,
                                                     on_a, l.get());
                    if (!l->req) l->wrong.fetch_add(1);
                }
            });
        for (auto &th : threads) th.join();
        for (auto &v : per) expect_once_each(v);
    }
    static bool all_called(const std::vector<std::unique_ptr<Lookup>> &v) {
        for (auto &l : v)
            if (l->calls.load() < 1) return false;
        return true;
    }
    // Every lookup's callback ran exactly once with what was expected (given a moment to
    // show a second call).
    static void expect_once_each(const std::vector<std::unique_ptr<Lookup>> &v) {
        EXPECT_TRUE(wait_for([&] { return all_called(v); }, 8000));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        for (auto &l : v) {
            EXPECT_EQ(l->calls.load(), 1) << l->name;
            EXPECT_EQ(l->wrong.load(), 0) << l->name << " result " << l->result.load();
        }
    }

    dnsfake::Server server;
    evdns_base *dns = nullptr;
    LoopThread loop_;
    int serial_ = 1;
};

// Several threads resolve names through one evdns_base whose loop runs in another thread:
// each answer reaches the callback of its own name, once.
TEST_P(DnsThreads, ResolveFromSeveralThreadsAnswersEachOnce) {
    constexpr int kThreads = 4, kEach = 40;
    std::vector<std::vector<std::unique_ptr<Lookup>>> per(kThreads);
    for (int t = 0; t < kThreads; ++t) per[t] = make_lookups("r" + std::to_string(t) + "-", kEach);
    resolve_from_threads(per);
}

// The same with evdns_getaddrinfo (an A and an AAAA query merged), each asking thread on
// the loop's CPU under SCHED_IDLE, so the loop runs the answers while the call that sent
// the queries has not returned yet: each lookup still completes once, with both families.
TEST_P(DnsThreads, GetaddrinfoFromSeveralThreadsCompletesEachOnce) {
    constexpr int kThreads = 3, kEach = 24;
    std::vector<std::vector<std::unique_ptr<Lookup>>> per(kThreads);
    for (int t = 0; t < kThreads; ++t) per[t] = make_lookups("g" + std::to_string(t) + "-", kEach);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            pin_to_shared_cpu();
            become_idle_class();
            evutil_addrinfo hints{};
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = SOCK_STREAM;
            for (auto &l : per[t]) {
                (void)evdns_getaddrinfo(dns, l->name.c_str(), "80", &hints, on_gai, l.get());
                // Let the answers come in before the next lookup (one window each).
                wait_for([&] { return l->calls.load() > 0; }, 2000);
            }
        });
    for (auto &th : threads) th.join();
    for (auto &v : per) expect_once_each(v);
}

// Requests sent from one thread are cancelled from another while the loop runs in a third:
// each callback runs once, with DNS_ERR_CANCEL (EVUTIL_EAI_CANCEL for evdns_getaddrinfo).
TEST_P(DnsThreads, CancelFromAnotherThreadReportsCancelOnce) {
    if (!conf::kDnsCancelFromAnyThread) GTEST_SKIP() << "libevent 2.1 can abort here (differences.h)";
    auto plain = make_lookups("c-", 32, true);
    auto gai = make_lookups("cg-", 16, true);
    std::thread asker([&] {
        for (auto &l : plain) l->req = evdns_base_resolve_ipv4(dns, l->name.c_str(), 0, on_cancelled, l.get());
        evutil_addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        for (auto &l : gai) l->gai = evdns_getaddrinfo(dns, l->name.c_str(), "80", &hints, on_gai_cancelled, l.get());
    });
    asker.join();
    for (auto &l : plain) ASSERT_NE(l->req, nullptr);
    for (auto &l : gai) ASSERT_NE(l->gai, nullptr);
    // The queries are out (the server saw them) before they are cancelled.
    EXPECT_TRUE(wait_for([&] { return server.total() >= static_cast<int>(plain.size() + 2 * gai.size()); }));
    std::thread canceller([&] {
        for (auto &l : plain) evdns_cancel_request(dns, l->req);
        for (auto &l : gai) evdns_getaddrinfo_cancel(l->gai);
    });
    canceller.join();
    expect_once_each(plain);
    expect_once_each(gai);
}

// A nameserver added from another thread while the loop runs serves the requests made
// after it (and, after evdns_base_resume, those that waited for one).
TEST_P(DnsThreads, NameserverAddedFromAnotherThreadWhileTheLoopRuns) {
    evdns_base *second = evdns_base_new(base(), 0);
    ASSERT_NE(second, nullptr);
    auto waited = make_lookups("w-", 4);
    auto later = make_lookups("l-", 4);
    std::thread th([&] {
        for (auto &l : waited) l->req = evdns_base_resolve_ipv4(second, l->name.c_str(), 0, on_a, l.get());
        EXPECT_EQ(evdns_base_nameserver_ip_add(second, server.address().c_str()), 0);
        EXPECT_EQ(evdns_base_count_nameservers(second), 1);
        for (auto &l : later) l->req = evdns_base_resolve_ipv4(second, l->name.c_str(), 0, on_a, l.get());
        EXPECT_EQ(evdns_base_resume(second), 0);
    });
    th.join();
    expect_once_each(later);
    expect_once_each(waited);
    stop_loop();
    evdns_base_free(second, 0);
}

// Callbacks run without the resolver's lock held: a callback that resolves again, starts an
// evdns_getaddrinfo and cancels another request of the same evdns_base does not deadlock,
// and all of it completes.
struct Chain {
    evdns_base *dns;
    Lookup *next_a;
    Lookup *next_gai;
    Lookup *to_cancel;
    std::atomic<int> calls{0};
};

void on_chain(int result, char, int, int, void *, void *arg) {
    auto *c = static_cast<Chain *>(arg);
    if (result == DNS_ERR_NONE) {
        c->next_a->req = evdns_base_resolve_ipv4(c->dns, c->next_a->name.c_str(), 0, on_a, c->next_a);
        evutil_addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        c->next_gai->gai = evdns_getaddrinfo(c->dns, c->next_gai->name.c_str(), "80", &hints, on_gai, c->next_gai);
        evdns_cancel_request(c->dns, c->to_cancel->req);
        evdns_base_search_add(c->dns, "example.test");
        evdns_base_search_clear(c->dns);
    }
    c->calls.fetch_add(1);
}

TEST_P(DnsThreads, CallbacksMayCallTheResolverAgain) {
    auto first = make_lookups("f-", 1);
    auto next = make_lookups("n-", 2);
    auto silent = make_lookups("s-", 1, true);
    Chain chain{dns, next[0].get(), next[1].get(), silent[0].get()};
    std::thread th([&] {
        silent[0]->req = evdns_base_resolve_ipv4(dns, silent[0]->name.c_str(), 0, on_cancelled, silent[0].get());
        evdns_base_resolve_ipv4(dns, first[0]->name.c_str(), 0, on_chain, &chain);
    });
    th.join();
    EXPECT_TRUE(wait_for([&] { return chain.calls.load() == 1; }));
    expect_once_each(silent);
    EXPECT_TRUE(wait_for([&] { return next[0]->calls.load() == 1 && next[1]->calls.load() == 1; }));
    EXPECT_EQ(next[0]->wrong.load(), 0);
    EXPECT_EQ(next[1]->wrong.load(), 0);
}

// Options, the search list and host entries changed from one thread while others resolve
// (without search) through the same base: every lookup still completes once, correctly.
TEST_P(DnsThreads, SettingsChangeFromAnotherThreadWhileResolving) {
    constexpr int kThreads = 2, kEach = 30;
    std::vector<std::vector<std::unique_ptr<Lookup>>> per(kThreads);
    for (int t = 0; t < kThreads; ++t) per[t] = make_lookups("o" + std::to_string(t) + "-", kEach);
    std::atomic<bool> done{false};
    std::thread fiddler([&] {
        for (int i = 0; !done.load(); ++i) {
            evdns_base_search_add(dns, ("d" + std::to_string(i % 7) + ".test").c_str());
            evdns_base_search_ndots_set(dns, 1 + i % 3);
            evdns_base_set_option(dns, "timeout:", i % 2 ? "4" : "5");
            evdns_base_set_option(dns, "max-inflight:", i % 2 ? "32" : "64");
            if (i % 5 == 4) evdns_base_search_clear(dns);
            sockaddr_storage ss{};
            evdns_base_get_nameserver_addr(dns, 0, reinterpret_cast<sockaddr *>(&ss), sizeof ss);
            (void)evdns_base_count_nameservers(dns);
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    resolve_from_threads(per);
    done = true;
    fiddler.join();
}

// User callbacks run without the resolver's lock: from inside one (a lookup's, in the loop
// thread, and an at-once evdns_getaddrinfo answer, inside the call) another thread can use
// the same evdns_base and finish before the callback returns.
struct OtherThreadProbe {
    evdns_base *dns;
    Lookup *extra;
    std::atomic<int> finished_in_time{0};
    std::atomic<int> calls{0};
    std::thread th;
};

void use_from_another_thread(OtherThreadProbe *p) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    p->th = std::thread([p, done] {
        (void)evdns_base_count_nameservers(p->dns);
        if (p->extra && !p->extra->req)
            p->extra->req = evdns_base_resolve_ipv4(p->dns, p->extra->name.c_str(), 0, on_a, p->extra);
        done->store(true);
    });
    if (wait_for([&] { return done->load(); }, 3000)) p->finished_in_time.fetch_add(1);
    p->calls.fetch_add(1);
}

void on_probe_a(int, char, int, int, void *, void *arg) { use_from_another_thread(static_cast<OtherThreadProbe *>(arg)); }
void on_probe_gai(int result, evutil_addrinfo *res, void *arg) {
    if (res) evutil_freeaddrinfo(res);
    use_from_another_thread(static_cast<OtherThreadProbe *>(arg));
}

TEST_P(DnsThreads, CallbacksRunWithoutTheResolverLock) {
    auto first = make_lookups("u-", 1);
    auto extra = make_lookups("x-", 1);
    OtherThreadProbe in_loop{dns, extra[0].get()};
    ASSERT_NE(evdns_base_resolve_ipv4(dns, first[0]->name.c_str(), 0, on_probe_a, &in_loop), nullptr);
    EXPECT_TRUE(wait_for([&] { return in_loop.calls.load() == 1; }));
    if (in_loop.th.joinable()) in_loop.th.join();
    EXPECT_EQ(in_loop.finished_in_time.load(), 1);
    expect_once_each(extra);

    OtherThreadProbe at_once{dns, nullptr};
    evutil_addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    std::thread asker([&] { EXPECT_EQ(evdns_getaddrinfo(dns, "127.0.0.1", "80", &hints, on_probe_gai, &at_once), nullptr); });
    asker.join();
    if (at_once.th.joinable()) at_once.th.join();
    EXPECT_EQ(at_once.calls.load(), 1);
    EXPECT_EQ(at_once.finished_in_time.load(), 1);
}

// The nameserver list is cleared (suspending the resolver), given back and resumed from
// one thread while others resolve and answers come in: every lookup completes once, with
// its own answer (requests in flight at a clear are sent again after the resume).
TEST_P(DnsThreads, NameserversClearedAndResumedFromAnotherThreadWhileAnswering) {
    if (!conf::kDnsClearNameserversFromAnyThread) GTEST_SKIP() << "libevent 2.1 can crash here (differences.h)";
    constexpr int kThreads = 2, kEach = 40;
    std::vector<std::vector<std::unique_ptr<Lookup>>> per(kThreads);
    for (int t = 0; t < kThreads; ++t) per[t] = make_lookups("k" + std::to_string(t) + "-", kEach);
    std::atomic<bool> done{false};
    std::thread switcher([&] {
        while (!done.load()) {
            evdns_base_clear_nameservers_and_suspend(dns);
            evdns_base_nameserver_ip_add(dns, server.address().c_str());
            evdns_base_resume(dns);
            std::this_thread::sleep_for(std::chrono::microseconds(300));
        }
    });
    resolve_from_threads(per);
    done = true;
    switcher.join();
}

CONF_INSTANTIATE_BACKENDS(DnsThreads);

}  // namespace
