// event_reinit after fork(): the child rebuilds what it must not share with the parent
// (backend instance, signal pipe, wake-up fd) and keeps every event registered before the
// fork; the parent is unaffected. Children run with bounded waits and report through exit
// codes (each failing check has its own code).
#include <event2/event.h>
#include <event2/thread.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cstring>
#include <string>
#include <vector>

#include "backend_fixture.h"
#include "helpers.h"
#include "signal_support.h"

namespace {

// A threaded program (the wake-up test needs it on libevent).
const int g_threads_ready = evthread_use_pthreads();

struct Counters {
    int reads = 0;
    int timers = 0;
    int signals = 0;
};

void on_read(evutil_socket_t fd, short, void *arg) {
    char buf[64];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    ++static_cast<Counters *>(arg)->reads;
}
void on_timer(evutil_socket_t, short, void *arg) { ++static_cast<Counters *>(arg)->timers; }
void on_signal(evutil_socket_t, short, void *arg) { ++static_cast<Counters *>(arg)->signals; }

class ForkTest : public conf::BackendTest {
protected:
    void SetUp() override {
        ASSERT_EQ(g_threads_ready, 0);
        conf::set_handler(SIGUSR1, conf::program_handler);
        conf::BackendTest::SetUp();
    }
    void TearDown() override {
        for (event *e : {rd_, tm_, sg_})
            if (e) event_free(e);
        conf::BackendTest::TearDown();
        conf::set_handler(SIGUSR1, SIG_DFL);
    }
    // A persistent read event on sp_[0], a persistent 10 ms timer and a SIGUSR1 event, all
    // added before the fork.
    void add_events(Counters *c) {
        rd_ = event_new(base(), sp_[0], EV_READ | EV_PERSIST, on_read, c);
        tm_ = event_new(base(), -1, EV_PERSIST, on_timer, c);
        sg_ = evsignal_new(base(), SIGUSR1, on_signal, c);
        ASSERT_EQ(event_add(rd_, nullptr), 0);
        timeval tv = conf::tv_ms(10);
        ASSERT_EQ(event_add(tm_, &tv), 0);
        ASSERT_EQ(evsignal_add(sg_, nullptr), 0);
        event_base_loop(base(), EVLOOP_NONBLOCK);  // the backend really has them now
    }
    // Exercises all three kinds; 0 if every one fires, else a code saying which did not.
    int exercise(Counters *c) {
        *c = Counters{};
        char x = 'x';
        if (write(sp_[1], &x, 1) != 1) return 20;
        raise(SIGUSR1);
        bool ok = conf::loop_until(base(), [&] {
            return c->reads > 0 && c->timers > 0 && c->signals > 0;
        });
        if (ok) return 0;
        return 30 + (c->reads > 0 ? 0 : 1) + (c->timers > 0 ? 0 : 2) + (c->signals > 0 ? 0 : 4);
    }

    conf::SocketPair sp_;
    event *rd_ = nullptr, *tm_ = nullptr, *sg_ = nullptr;
};

TEST_P(ForkTest, ChildKeepsIoTimersAndSignalsAfterReinit) {
    Counters c;
    add_events(&c);
    int code = conf::run_in_child([&] {
        if (event_reinit(base()) != 0) return 10;
        return exercise(&c);
    });
    EXPECT_EQ(code, 0) << "10: reinit failed; 31..37: bit 1 read, 2 timer, 4 signal missing";
    // The parent is unaffected.
    EXPECT_EQ(exercise(&c), 0);
    EXPECT_EQ(conf::g_program_handler_calls.load(), 0);
}

TEST_P(ForkTest, ChildChangesDoNotReachTheParentBackend) {
    // With a shared epoll instance, the child's event_del would remove the parent's fd too.
    Counters c;
    add_events(&c);
    int code = conf::run_in_child([&] {
        if (event_reinit(base()) != 0) return 10;
        if (event_del(rd_) != 0) return 11;
        if (event_del(tm_) != 0) return 12;
        event_base_loop(base(), EVLOOP_NONBLOCK);
        return 0;
    });
    ASSERT_EQ(code, 0);
    EXPECT_EQ(exercise(&c), 0);
}

TEST_P(ForkTest, SignalInChildDoesNotReachParent) {
    Counters c;
    add_events(&c);
    int code = conf::run_in_child([&] {
        if (event_reinit(base()) != 0) return 10;
        raise(SIGUSR1);
        Counters *cc = &c;
        *cc = Counters{};
        if (!conf::loop_until(base(), [&] { return cc->signals > 0; })) return 11;
        return 0;
    });
    ASSERT_EQ(code, 0);
    c = Counters{};
    for (int i = 0; i < 3; ++i) event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(c.signals, 0);
}

// fds of this process that refer to kernel objects a backend uses.
std::string fd_target(int fd) {
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n < 0) return "";
    buf[n] = '\0';
    return buf;
}

// fds the process had before any test ran (inherited from the harness): not the library's.
const std::vector<bool> g_preexisting_fds = [] {
    std::vector<bool> v(1024);
    for (int fd = 0; fd < 1024; ++fd) v[fd] = fcntl(fd, F_GETFD) >= 0;
    return v;
}();

bool is_backend_kind(const std::string &t) {
    return t.find("eventpoll") != std::string::npos || t.find("eventfd") != std::string::npos ||
           t.find("timerfd") != std::string::npos || t.rfind("pipe:", 0) == 0 ||
           t.rfind("socket:", 0) == 0;
}

TEST_P(ForkTest, ChildBackendSharesNoFdWithParent) {
    Counters c;
    add_events(&c);
    const pid_t parent = getpid();
    int code = conf::run_in_child([&] {
        // Before reinit every fd is shared; remember what is open now.
        bool before[1024] = {};
        for (int fd = 0; fd < 1024; ++fd) before[fd] = fcntl(fd, F_GETFD) >= 0;
        if (event_reinit(base()) != 0) return 10;
        if (exercise(&c) != 0) return 11;
        // Every backend-kind fd the child has now must be a file the parent does not hold:
        // kcmp says whether two fds name the same open file description.
        for (int fd = 0; fd < 1024; ++fd) {
            if (g_preexisting_fds[fd] || fcntl(fd, F_GETFD) < 0) continue;
            const std::string t = fd_target(fd);
            if (!is_backend_kind(t) || fd == sp_[0] || fd == sp_[1]) continue;
            if (before[fd]) {
                // Still open from before: fine only if it is not shared (e.g. reused number).
                long r = syscall(SYS_kcmp, parent, getpid(), 0 /*KCMP_FILE*/, fd, fd);
                if (r < 0) return 12;  // kcmp unavailable: cannot tell
                if (r == 0 && t.find("eventpoll") != std::string::npos) return 13;
                if (r == 0 && t.find("eventfd") != std::string::npos) return 14;
                if (r == 0 && t.rfind("pipe:", 0) == 0) return 15;
            }
        }
        return 0;
    });
    if (code == 12) GTEST_SKIP() << "kcmp(2) not permitted here";
    EXPECT_EQ(code, 0) << "13: epoll, 14: eventfd, 15: pipe shared with the parent";
}

TEST_P(ForkTest, ProcessThatForksTwiceStillWorks) {
    Counters c;
    add_events(&c);
    int code = conf::run_in_child([&] {
        if (event_reinit(base()) != 0) return 10;
        setsid();
        // The daemon: forked again, reinit again.
        return conf::run_in_child([&] {
            if (event_reinit(base()) != 0) return 40;
            return exercise(&c);
        }, 8000);
    });
    EXPECT_EQ(code, 0);
    EXPECT_EQ(exercise(&c), 0);
}

TEST_P(ForkTest, ReinitWithoutForkKeepsEventsWorking) {
    Counters c;
    add_events(&c);
    ASSERT_EQ(event_reinit(base()), 0);
    EXPECT_EQ(exercise(&c), 0);
    ASSERT_EQ(event_reinit(base()), 0);
    EXPECT_EQ(exercise(&c), 0);
}

TEST_P(ForkTest, ChildWithoutEventsReinitsCleanly) {
    int code = conf::run_in_child([&] {
        if (event_reinit(base()) != 0) return 10;
        Counters c;
        event *t = evtimer_new(base(), on_timer, &c);
        timeval tv = conf::tv_ms(5);
        evtimer_add(t, &tv);
        bool ok = conf::loop_until(base(), [&] { return c.timers > 0; });
        event_free(t);
        return ok ? 0 : 11;
    });
    EXPECT_EQ(code, 0);
}

TEST_P(ForkTest, ParentCrossThreadWakeupSurvivesChildReinit) {
    // The child's reinit must not unregister the parent's wake-up fd from a shared backend.
    Counters c;
    add_events(&c);
    ASSERT_EQ(conf::run_in_child([&] { return event_reinit(base()) == 0 ? 0 : 10; }), 0);
    std::atomic<int> ran{0};
    event *ev = event_new(base(), -1, 0, [](evutil_socket_t, short, void *arg) {
        static_cast<std::atomic<int> *>(arg)->fetch_add(1);
    }, &ran);
    event_del(tm_);  // nothing else may wake the loop
    std::thread t([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        event_active(ev, EV_READ, 0);
    });
    timeval limit = conf::tv_ms(3000);
    event_base_loopexit(base(), &limit);
    const double t0 = conf::now_ms();
    event_base_loop(base(), EVLOOP_ONCE);
    t.join();
    EXPECT_EQ(ran.load(), 1);
    EXPECT_LT(conf::now_ms() - t0, 1500);
    event_free(ev);
}

TEST_P(ForkTest, ReinitReportsAnEventThatCannotBeReAdded) {
    // Only a backend that re-registers every fd on reinit (plain epoll) can notice.
    if (!is_epoll() || (GetParam().flags & EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST))
        GTEST_SKIP() << "only plain epoll re-adds fds during event_reinit";
    int fd = sp_.release(0);
    Counters c;
    event *ev = event_new(base(), fd, EV_READ | EV_PERSIST, on_read, &c);
    ASSERT_EQ(event_add(ev, nullptr), 0);
    close(fd);  // the program's mistake: the event still names a closed fd
    int code = conf::run_in_child([&] {
        conf::LogCapture log;
        if (event_reinit(base()) != -1) return 10;
        if (!log.contains("fd " + std::to_string(fd))) return 11;  // says which one
        return 0;
    });
    EXPECT_EQ(code, 0) << "10: reinit did not fail; 11: the log does not name fd " << fd;
    event_free(ev);
}

CONF_INSTANTIATE_BACKENDS(ForkTest);

}  // namespace
