// What the cross-thread tests share (thread_race_test.cpp, dns_thread_test.cpp): a loop
// running in its own thread, and the scheduler trick that forces a race window open. A
// thread pinned to the loop thread's CPU under SCHED_IDLE is preempted the moment the loop
// thread wakes, so whatever the loop can do inside a window it does before that thread
// runs on.
#pragma once

#include <event2/event.h>
#include <gtest/gtest.h>

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "helpers.h"

namespace xthread {

// The CPU the loop thread and the preemptible threads share (set by LoopThread::start).
inline int g_cpu = 0;

// Set when the system refused the pinning or SCHED_IDLE: the tests still run, but their
// window is as narrow as in a real program, so a broken library may pass them. Said once
// per program on stderr, so a green run on such a machine does not read as proof.
inline std::atomic<const char *> g_unforced{nullptr};

inline void note_unforced(const char *what) {
    const char *expected = nullptr;
    if (g_unforced.compare_exchange_strong(expected, what))
        std::fprintf(stderr,
                     "[   NOTE   ] %s refused here: the race windows are not forced, these "
                     "tests prove less on this machine\n",
                     what);
}

inline void pin_to_shared_cpu() {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(g_cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
        note_unforced("pinning to one CPU (pthread_setaffinity_np)");
}

// The calling thread yields to any other thread of its CPU that wakes up.
inline bool become_idle_class() {
    sched_param p{};
    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &p) == 0) return true;
    note_unforced("SCHED_IDLE (pthread_setschedparam)");
    return false;
}

template <class Pred>
bool wait_for(Pred done, double ms = 5000) {
    const double until = conf::now_ms() + ms;
    while (!done()) {
        if (conf::now_ms() > until) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// base's loop (EVLOOP_NO_EXIT_ON_EMPTY) in a thread pinned to the caller's CPU.
class LoopThread {
public:
    // Returns once the loop runs (a loopbreak before that would be forgotten when the loop
    // starts).
    void start(event_base *base) {
        const int cpu = sched_getcpu();
        g_cpu = cpu >= 0 ? cpu : 0;
        base_ = base;
        thread_ = std::thread([base] {
            pin_to_shared_cpu();
            event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
        });
        std::atomic<bool> ran{false};
        event *probe = event_new(base, -1, 0, [](evutil_socket_t, short, void *a) {
            static_cast<std::atomic<bool> *>(a)->store(true);
        }, &ran);
        event_active(probe, EV_READ, 1);
        EXPECT_TRUE(wait_for([&] { return ran.load(); }));
        event_free(probe);
    }
    // Stops the loop thread (before freeing what it might still touch).
    void stop() {
        if (!thread_.joinable()) return;
        event_base_loopbreak(base_);
        thread_.join();
    }
    bool running() const { return thread_.joinable(); }
    ~LoopThread() { stop(); }

private:
    event_base *base_ = nullptr;
    std::thread thread_;
};

}  // namespace xthread
