// evconnlistener used from a second thread while the loop runs (LEV_OPT_THREADSAFE): enable,
// disable, set_cb and free race with accepting, on every backend.
#include "listener_support.h"

#include <event2/thread.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "backend_fixture.h"
#include "differences.h"

namespace {

using conf::connect_loopback;
using conf::local_port;

struct Counter {
    std::atomic<int> accepted{0};
    std::mutex m;
    std::vector<int> fds;
    ~Counter() {
        for (int fd : fds) close(fd);
    }
};

void count_accept(evconnlistener *, evutil_socket_t fd, sockaddr *, int, void *arg) {
    auto *c = static_cast<Counter *>(arg);
    {
        std::lock_guard<std::mutex> g(c->m);
        c->fds.push_back(fd);
    }
    c->accepted.fetch_add(1);
}

class ListenerThreadTest : public conf::BackendTest {
protected:
    void SetUp() override {
        evthread_use_pthreads();  // libevent needs it for LEV_OPT_THREADSAFE; harmless on reevent
        BackendTest::SetUp();
    }

    evconnlistener *bind_loopback(Counter *c) {
        sockaddr_in sin = conf::loopback4();
        return evconnlistener_new_bind(base(), count_accept, c,
                                       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_THREADSAFE, 256,
                                       reinterpret_cast<sockaddr *>(&sin), sizeof sin);
    }

    // Runs the loop in a thread until stop_loop().
    void start_loop() {
        loop_ = std::thread([this] { event_base_loop(base(), EVLOOP_NO_EXIT_ON_EMPTY); });
    }
    void stop_loop() {
        event_base_loopbreak(base());
        loop_.join();
    }

    std::thread loop_;
};

bool wait_for(const std::function<bool()> &done, int ms) {
    double end = conf::now_ms() + ms;
    while (!done()) {
        if (conf::now_ms() > end) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

TEST_P(ListenerThreadTest, EnableDisableFromAnotherThreadLosesNoConnection) {
    if (!conf::kListenerCrossThreadDisableSafe)
        GTEST_SKIP() << "can deadlock libevent 2.1.12 (disable waits for the accept callback "
                        "while holding the lock that callback needs)";
    Counter c;
    evconnlistener *lev = bind_loopback(&c);
    ASSERT_NE(lev, nullptr);
    int port = local_port(evconnlistener_get_fd(lev));
    start_loop();
    std::atomic<bool> stop{false};
    std::thread toggler([&] {
        while (!stop.load()) {
            evconnlistener_disable(lev);
            std::this_thread::yield();
            evconnlistener_enable(lev);
        }
    });
    std::vector<int> clients;
    for (int i = 0; i < 100; ++i) clients.push_back(connect_loopback(port));
    stop = true;
    toggler.join();
    evconnlistener_enable(lev);
    EXPECT_TRUE(wait_for([&] { return c.accepted.load() == 100; }, 5000)) << c.accepted.load();
    stop_loop();
    evconnlistener_free(lev);
    for (int fd : clients) {
        EXPECT_GE(fd, 0);
        close(fd);
    }
}

TEST_P(ListenerThreadTest, FreeFromAnotherThreadWhileTheLoopRuns) {
    Counter c;
    evconnlistener *lev = bind_loopback(&c);
    ASSERT_NE(lev, nullptr);
    int port = local_port(evconnlistener_get_fd(lev));
    start_loop();
    std::vector<int> clients;
    for (int i = 0; i < 10; ++i) clients.push_back(connect_loopback(port));
    EXPECT_TRUE(wait_for([&] { return c.accepted.load() == 10; }, 5000));
    evconnlistener_free(lev);
    int after = c.accepted.load();
    // poll()/select() pin a file they sleep on until they return, so the closed socket
    // disappears only once the loop thread has woken up (free wakes it): give it a moment.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(connect_loopback(port), -1) << "socket closed by LEV_OPT_CLOSE_ON_FREE";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(c.accepted.load(), after) << "no callback after free";
    stop_loop();
    for (int fd : clients) close(fd);
}

TEST_P(ListenerThreadTest, SetCallbackFromAnotherThreadStartsAccepting) {
    Counter c;
    sockaddr_in sin = conf::loopback4();
    evconnlistener *lev = evconnlistener_new_bind(base(), nullptr, nullptr,
                                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_THREADSAFE, 16,
                                                  reinterpret_cast<sockaddr *>(&sin), sizeof sin);
    ASSERT_NE(lev, nullptr);
    int port = local_port(evconnlistener_get_fd(lev));
    start_loop();
    int client = connect_loopback(port);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_EQ(c.accepted.load(), 0);
    evconnlistener_set_cb(lev, count_accept, &c);
    EXPECT_TRUE(wait_for([&] { return c.accepted.load() == 1; }, 5000));
    stop_loop();
    evconnlistener_free(lev);
    close(client);
}

TEST_P(ListenerThreadTest, ReuseablePortSpreadsConnectionsOverOneListenerPerThread) {
    // The multi-threaded accept pattern: one base and one listener per thread, all bound to
    // the same port with LEV_OPT_REUSEABLE_PORT; the kernel spreads connections over them.
    constexpr int kThreads = 3, kConns = 150;
    Counter counters[kThreads];
    event_base *bases[kThreads] = {base(), nullptr, nullptr};
    for (int i = 1; i < kThreads; ++i) {
        bases[i] = conf::new_base_on(GetParam());
        ASSERT_NE(bases[i], nullptr);
    }
    evconnlistener *levs[kThreads];
    int port = 0;
    for (int i = 0; i < kThreads; ++i) {
        sockaddr_in sin = conf::loopback4(port);
        levs[i] = evconnlistener_new_bind(bases[i], count_accept, &counters[i],
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE_PORT |
                                              LEV_OPT_THREADSAFE,
                                          128, reinterpret_cast<sockaddr *>(&sin), sizeof sin);
        ASSERT_NE(levs[i], nullptr) << i;
        port = local_port(evconnlistener_get_fd(levs[i]));
    }
    std::vector<std::thread> loops;
    for (int i = 0; i < kThreads; ++i)
        loops.emplace_back([b = bases[i]] { event_base_loop(b, EVLOOP_NO_EXIT_ON_EMPTY); });
    std::vector<int> clients;
    for (int i = 0; i < kConns; ++i) clients.push_back(connect_loopback(port));
    auto total = [&] {
        int n = 0;
        for (auto &c : counters) n += c.accepted.load();
        return n;
    };
    EXPECT_TRUE(wait_for([&] { return total() == kConns; }, 5000)) << total();
    for (int i = 0; i < kThreads; ++i) {
        EXPECT_GT(counters[i].accepted.load(), 0) << "listener " << i << " got nothing";
        event_base_loopbreak(bases[i]);
    }
    for (auto &t : loops) t.join();
    for (int i = 0; i < kThreads; ++i) evconnlistener_free(levs[i]);
    for (int i = 1; i < kThreads; ++i) event_base_free(bases[i]);
    for (int fd : clients) close(fd);
}

CONF_INSTANTIATE_BACKENDS(ListenerThreadTest);

}  // namespace
