// Signal events: evsignal_* API, delivery in loop context, call counts, several events and
// several bases, and what the library leaves behind in the process's signal dispositions.
#include <event2/event.h>
#include <event2/event_struct.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <cerrno>
#include <vector>

#include "backend_fixture.h"
#include "differences.h"
#include "helpers.h"
#include "signal_support.h"

namespace {

std::atomic<bool> g_in_raise{false};

// Raises sig and notes that we were inside raise(); a callback that runs while this is true
// would be running in the handler, not in the loop.
void raise_marked(int sig) {
    g_in_raise = true;
    raise(sig);
    g_in_raise = false;
}

struct Seen {
    int calls = 0;
    int last_fd = -1;
    short last_what = 0;
    bool ran_in_handler = false;
    event_base *break_base = nullptr;
};

void on_sig(evutil_socket_t fd, short what, void *arg) {
    auto *s = static_cast<Seen *>(arg);
    ++s->calls;
    s->last_fd = static_cast<int>(fd);
    s->last_what = what;
    if (g_in_raise) s->ran_in_handler = true;
    if (s->break_base) event_base_loopbreak(s->break_base);
}

class SignalTest : public conf::BackendTest {
protected:
    void SetUp() override {
        // The "program" owns SIGUSR1/SIGUSR2 with its own handler, so a signal that reaches
        // it after the library let go is counted instead of killing the test.
        conf::set_handler(SIGUSR1, conf::program_handler);
        conf::set_handler(SIGUSR2, conf::program_handler);
        conf::g_program_handler_calls = 0;
        conf::BackendTest::SetUp();
    }
    void TearDown() override {
        conf::BackendTest::TearDown();
        conf::set_handler(SIGUSR1, SIG_DFL);
        conf::set_handler(SIGUSR2, SIG_DFL);
    }
};

TEST_P(SignalTest, EvsignalNewCallsBackInLoopWithSignalNumber) {
    Seen s;
    event *ev = evsignal_new(base(), SIGUSR1, on_sig, &s);
    ASSERT_NE(ev, nullptr);
    ASSERT_EQ(evsignal_add(ev, nullptr), 0);
    raise_marked(SIGUSR1);
    EXPECT_EQ(s.calls, 0) << "callback ran inside the signal handler";
    ASSERT_TRUE(conf::loop_until(base(), [&] { return s.calls > 0; }));
    EXPECT_EQ(s.calls, 1);
    EXPECT_EQ(s.last_fd, SIGUSR1);
    EXPECT_EQ(s.last_what, EV_SIGNAL);
    EXPECT_FALSE(s.ran_in_handler);
    EXPECT_EQ(conf::g_program_handler_calls.load(), 0);
    event_free(ev);
}

TEST_P(SignalTest, EvsignalPendingFollowsAddAndDel) {
    Seen s;
    event *ev = evsignal_new(base(), SIGUSR1, on_sig, &s);
    ASSERT_NE(ev, nullptr);
    EXPECT_FALSE(evsignal_pending(ev, nullptr));
    ASSERT_EQ(evsignal_add(ev, nullptr), 0);
    EXPECT_TRUE(evsignal_pending(ev, nullptr));
    EXPECT_EQ(event_pending(ev, EV_SIGNAL, nullptr), EV_SIGNAL);
    EXPECT_EQ(event_get_signal(ev), SIGUSR1);
    EXPECT_EQ(event_get_events(ev), EV_SIGNAL | EV_PERSIST);
    ASSERT_EQ(evsignal_del(ev), 0);
    EXPECT_FALSE(evsignal_pending(ev, nullptr));
    event_free(ev);
}

TEST_P(SignalTest, EvsignalAssignUsesCallerOwnedEvent) {
    Seen s;
    event ev;
    ASSERT_EQ(evsignal_assign(&ev, base(), SIGUSR2, on_sig, &s), 0);
    ASSERT_EQ(evsignal_add(&ev, nullptr), 0);
    raise(SIGUSR2);
    ASSERT_TRUE(conf::loop_until(base(), [&] { return s.calls > 0; }));
    EXPECT_EQ(s.last_fd, SIGUSR2);
    ASSERT_EQ(evsignal_del(&ev), 0);
}

TEST_P(SignalTest, PersistentSignalEventFiresEveryTime) {
    Seen s;
    event *ev = event_new(base(), SIGUSR1, EV_SIGNAL | EV_PERSIST, on_sig, &s);
    ASSERT_NE(ev, nullptr);
    ASSERT_EQ(event_add(ev, nullptr), 0);
    for (int i = 1; i <= 3; ++i) {
        raise(SIGUSR1);
        ASSERT_TRUE(conf::loop_until(base(), [&] { return s.calls >= i; }));
        EXPECT_EQ(s.calls, i);
        EXPECT_TRUE(event_pending(ev, EV_SIGNAL, nullptr));
    }
    event_free(ev);
}

TEST_P(SignalTest, NonPersistentSignalEventFiresOnceThenIsNotPending) {
    Seen s;
    event *ev = event_new(base(), SIGUSR1, EV_SIGNAL, on_sig, &s);
    ASSERT_NE(ev, nullptr);
    ASSERT_EQ(event_add(ev, nullptr), 0);
    raise(SIGUSR1);
    ASSERT_TRUE(conf::loop_until(base(), [&] { return s.calls > 0; }));
    EXPECT_FALSE(event_pending(ev, EV_SIGNAL, nullptr));
    // The library let go of the signal: the program's handler is back and gets it.
    EXPECT_EQ(conf::current_handler(SIGUSR1), &conf::program_handler);
    raise(SIGUSR1);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(s.calls, 1);
    EXPECT_EQ(conf::g_program_handler_calls.load(), 1);
    event_free(ev);
}

TEST_P(SignalTest, SeveralEventsOnOneSignalAllRun) {
    Seen s[3];
    event *ev[3];
    for (int i = 0; i < 3; ++i) {
        ev[i] = evsignal_new(base(), SIGUSR1, on_sig, &s[i]);
        ASSERT_NE(ev[i], nullptr);
        ASSERT_EQ(evsignal_add(ev[i], nullptr), 0);
    }
    raise(SIGUSR1);
    ASSERT_TRUE(conf::loop_until(base(), [&] {
        return s[0].calls > 0 && s[1].calls > 0 && s[2].calls > 0;
    }));
    for (auto &x : s) EXPECT_EQ(x.calls, 1);
    // Deleting one leaves the others working.
    evsignal_del(ev[1]);
    raise(SIGUSR1);
    ASSERT_TRUE(conf::loop_until(base(), [&] { return s[0].calls > 1 && s[2].calls > 1; }));
    EXPECT_EQ(s[1].calls, 1);
    for (auto *e : ev) event_free(e);
}

TEST_P(SignalTest, SignalRaisedSeveralTimesBeforeLoopCallsBackThatManyTimes) {
    Seen s;
    event *ev = evsignal_new(base(), SIGUSR1, on_sig, &s);
    ASSERT_NE(ev, nullptr);
    ASSERT_EQ(evsignal_add(ev, nullptr), 0);
    raise(SIGUSR1);
    raise(SIGUSR1);
    raise(SIGUSR1);
    ASSERT_TRUE(conf::loop_until(base(), [&] { return s.calls >= 3; }));
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(s.calls, 3);
    event_free(ev);
}

TEST_P(SignalTest, NonPersistentEventRaisedTwiceBeforeLoopStillRunsForEachArrival) {
    // A non-persistent signal event is deleted when activated, but the call count collected
    // for it is still honoured: the callback runs once per arrival.
    Seen s;
    event *ev = event_new(base(), SIGUSR1, EV_SIGNAL, on_sig, &s);
    ASSERT_NE(ev, nullptr);
    ASSERT_EQ(event_add(ev, nullptr), 0);
    raise(SIGUSR1);
    raise(SIGUSR1);
    ASSERT_TRUE(conf::loop_until(base(), [&] { return s.calls >= 2; }));
    EXPECT_EQ(s.calls, 2);
    event_free(ev);
}

void raise_again_once(evutil_socket_t, short, void *arg) {
    auto *s = static_cast<Seen *>(arg);
    if (++s->calls == 1) {
        // Arrives while a callback is running: must be delivered later, not lost.
        raise(SIGUSR1);
        raise(SIGUSR2);
    }
}

TEST_P(SignalTest, SignalsArrivingWhileCallbacksRunAreNotLost) {
    Seen s1, s2;
    event *e1 = evsignal_new(base(), SIGUSR1, raise_again_once, &s1);
    event *e2 = evsignal_new(base(), SIGUSR2, on_sig, &s2);
    ASSERT_EQ(evsignal_add(e1, nullptr), 0);
    ASSERT_EQ(evsignal_add(e2, nullptr), 0);
    raise(SIGUSR1);
    ASSERT_TRUE(conf::loop_until(base(), [&] { return s1.calls >= 2 && s2.calls >= 1; }));
    EXPECT_EQ(s1.calls, 2);
    EXPECT_EQ(s2.calls, 1);
    event_free(e1);
    event_free(e2);
}

TEST_P(SignalTest, PreviousHandlerRestoredWhenLastEventRemoved) {
    Seen s;
    event *a = evsignal_new(base(), SIGUSR1, on_sig, &s);
    event *b = evsignal_new(base(), SIGUSR1, on_sig, &s);
    ASSERT_EQ(evsignal_add(a, nullptr), 0);
    EXPECT_NE(conf::current_handler(SIGUSR1), &conf::program_handler);
    ASSERT_EQ(evsignal_add(b, nullptr), 0);
    evsignal_del(a);
    EXPECT_NE(conf::current_handler(SIGUSR1), &conf::program_handler)
        << "handler restored while an event still watches the signal";
    evsignal_del(b);
    EXPECT_EQ(conf::current_handler(SIGUSR1), &conf::program_handler);
    raise(SIGUSR1);
    EXPECT_EQ(conf::g_program_handler_calls.load(), 1);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(s.calls, 0);
    event_free(a);
    event_free(b);
}

TEST_P(SignalTest, PreviousHandlerRestoredWhenBaseFreedWithPendingSignalEvents) {
    event_base *b = conf::new_base_on(GetParam());
    ASSERT_NE(b, nullptr);
    Seen s;
    // Caller-owned events: after event_base_free they are just memory (event_free on them
    // would touch the freed base, in libevent as well).
    event ev, ev2;
    ASSERT_EQ(evsignal_assign(&ev, b, SIGUSR1, on_sig, &s), 0);
    ASSERT_EQ(evsignal_assign(&ev2, b, SIGUSR2, on_sig, &s), 0);
    ASSERT_EQ(evsignal_add(&ev, nullptr), 0);
    ASSERT_EQ(evsignal_add(&ev2, nullptr), 0);
    raise(SIGUSR1);  // caught and pending in the base, never dispatched
    EXPECT_EQ(conf::g_program_handler_calls.load(), 0);
    event_base_free(b);
    EXPECT_EQ(conf::current_handler(SIGUSR1), &conf::program_handler);
    EXPECT_EQ(conf::current_handler(SIGUSR2), &conf::program_handler);
    EXPECT_EQ(s.calls, 0);
}

TEST_P(SignalTest, DefaultDispositionRestoredWhenNoProgramHandler) {
    conf::set_handler(SIGUSR2, SIG_IGN);
    Seen s;
    event *ev = evsignal_new(base(), SIGUSR2, on_sig, &s);
    ASSERT_EQ(evsignal_add(ev, nullptr), 0);
    EXPECT_NE(conf::current_handler(SIGUSR2), SIG_IGN);
    event_free(ev);
    EXPECT_EQ(conf::current_handler(SIGUSR2), SIG_IGN);
}

struct ChildWatch {
    int reaped = 0;
    int status = -1;
    pid_t pid = -1;
};

void on_sigchld(evutil_socket_t, short, void *arg) {
    auto *w = static_cast<ChildWatch *>(arg);
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
        if (p == w->pid) w->status = st;
        ++w->reaped;
    }
}

TEST_P(SignalTest, SigchldCallbackReapsExitedChild) {
    ChildWatch w;
    event *ev = evsignal_new(base(), SIGCHLD, on_sigchld, &w);
    ASSERT_EQ(evsignal_add(ev, nullptr), 0);
    w.pid = fork();
    ASSERT_GE(w.pid, 0);
    if (w.pid == 0) _exit(7);
    ASSERT_TRUE(conf::loop_until(base(), [&] { return w.reaped > 0; }, 5000));
    ASSERT_TRUE(WIFEXITED(w.status));
    EXPECT_EQ(WEXITSTATUS(w.status), 7);
    event_free(ev);
    EXPECT_EQ(conf::current_handler(SIGCHLD), SIG_DFL);
}

TEST_P(SignalTest, SigpipeLeftAsTheProgramSetIt) {
    // main() ignores SIGPIPE; the library must neither change nor rely on that.
    ASSERT_EQ(conf::current_handler(SIGPIPE), SIG_IGN);
    Seen s;
    event *ev = evsignal_new(base(), SIGUSR1, on_sig, &s);
    ASSERT_EQ(evsignal_add(ev, nullptr), 0);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(conf::current_handler(SIGPIPE), SIG_IGN);
    conf::SocketPair sp;
    sp.close(1);
    char c = 'x';
    EXPECT_EQ(send(sp[0], &c, 1, 0), -1);
    EXPECT_EQ(errno, EPIPE);
    event_free(ev);
    EXPECT_EQ(conf::current_handler(SIGPIPE), SIG_IGN);

    // A program that handles SIGPIPE itself keeps its handler across base life cycles.
    conf::set_handler(SIGPIPE, conf::program_handler);
    event_base *b = conf::new_base_on(GetParam());
    ASSERT_NE(b, nullptr);
    event_base_loop(b, EVLOOP_NONBLOCK);
    EXPECT_EQ(conf::current_handler(SIGPIPE), &conf::program_handler);
    event_base_free(b);
    EXPECT_EQ(conf::current_handler(SIGPIPE), &conf::program_handler);
    conf::set_handler(SIGPIPE, SIG_IGN);
}

TEST_P(SignalTest, ActiveBySignalRunsEventsOfThatSignalOnly) {
    Seen s1, s2;
    event *e1 = evsignal_new(base(), SIGUSR1, on_sig, &s1);
    event *e2 = evsignal_new(base(), SIGUSR2, on_sig, &s2);
    ASSERT_EQ(evsignal_add(e1, nullptr), 0);
    ASSERT_EQ(evsignal_add(e2, nullptr), 0);
    event_base_active_by_signal(base(), SIGUSR1);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(s1.calls, 1);
    EXPECT_EQ(s1.last_what, EV_SIGNAL);
    EXPECT_EQ(s2.calls, 0);
    EXPECT_EQ(conf::g_program_handler_calls.load(), 0);
    event_free(e1);
    event_free(e2);
}

TEST_P(SignalTest, UncatchableSignalCannotBeAdded) {
    Seen s;
    event *ev = evsignal_new(base(), SIGKILL, on_sig, &s);
    ASSERT_NE(ev, nullptr);
    EXPECT_EQ(evsignal_add(ev, nullptr), -1);
    EXPECT_FALSE(evsignal_pending(ev, nullptr));
    event_free(ev);
}

TEST_P(SignalTest, SignalCombinedWithReadOrWriteIsRejected) {
    Seen s;
    EXPECT_EQ(event_new(base(), SIGUSR1, EV_SIGNAL | EV_READ, on_sig, &s), nullptr);
    EXPECT_EQ(event_new(base(), SIGUSR1, EV_SIGNAL | EV_WRITE, on_sig, &s), nullptr);
}

TEST_P(SignalTest, OutOfRangeSignalNumberIsAnError) {
    if (!conf::kBadSignumAddFails) GTEST_SKIP() << "libevent 2.1 aborts on this";
    Seen s;
    for (int sig : {NSIG, NSIG + 10, 100000}) {
        event *ev = event_new(base(), sig, EV_SIGNAL, on_sig, &s);
        if (!ev) continue;  // refusing at event_new is fine too
        EXPECT_EQ(event_add(ev, nullptr), -1) << sig;
        event_free(ev);
    }
}

TEST_P(SignalTest, SeveralBasesWatchingOneSignal) {
    event_base *other = conf::new_base_on(GetParam());
    ASSERT_NE(other, nullptr);
    Seen s_main, s_other, s_unrelated;
    event *em = evsignal_new(base(), SIGUSR1, on_sig, &s_main);
    event *eo = evsignal_new(other, SIGUSR1, on_sig, &s_other);
    event *eu = evsignal_new(other, SIGUSR2, on_sig, &s_unrelated);
    ASSERT_EQ(evsignal_add(em, nullptr), 0);
    {
        conf::LogCapture quiet;  // libevent warns that only one base can have signals
        ASSERT_EQ(evsignal_add(eo, nullptr), 0);
        ASSERT_EQ(evsignal_add(eu, nullptr), 0);
    }
    raise(SIGUSR1);
    auto got = [&] { return s_main.calls + s_other.calls; };
    ASSERT_TRUE(conf::loop_until(base(), [&] {
        event_base_loop(other, EVLOOP_NONBLOCK);
        return conf::kSignalsOnEveryBase ? (s_main.calls > 0 && s_other.calls > 0) : got() > 0;
    }));
    event_base_loop(base(), EVLOOP_NONBLOCK);
    event_base_loop(other, EVLOOP_NONBLOCK);
    if (conf::kSignalsOnEveryBase) {
        EXPECT_EQ(s_main.calls, 1);
        EXPECT_EQ(s_other.calls, 1);
    } else {
        EXPECT_EQ(got(), 1) << "libevent 2.1 delivers to exactly one base";
    }
    // Never to a base without an event for that signal.
    EXPECT_EQ(s_unrelated.calls, 0);
    event_free(em);
    event_free(eo);
    event_free(eu);
    event_base_free(other);
}

TEST_P(SignalTest, SecondBaseKeepsSignalAfterFirstBaseIsFreed) {
    if (!conf::kSignalsOnEveryBase) GTEST_SKIP() << "libevent 2.1: one signal base at a time";
    event_base *first = conf::new_base_on(GetParam());
    ASSERT_NE(first, nullptr);
    Seen s_first, s_second;
    event ef;  // caller-owned: outlives its base
    ASSERT_EQ(evsignal_assign(&ef, first, SIGUSR1, on_sig, &s_first), 0);
    event *es = evsignal_new(base(), SIGUSR1, on_sig, &s_second);
    ASSERT_EQ(evsignal_add(&ef, nullptr), 0);
    ASSERT_EQ(evsignal_add(es, nullptr), 0);
    event_base_free(first);
    EXPECT_NE(conf::current_handler(SIGUSR1), &conf::program_handler);
    raise(SIGUSR1);
    ASSERT_TRUE(conf::loop_until(base(), [&] { return s_second.calls > 0; }));
    EXPECT_EQ(conf::g_program_handler_calls.load(), 0);
    event_free(es);
    EXPECT_EQ(conf::current_handler(SIGUSR1), &conf::program_handler);
}

TEST_P(SignalTest, CallbackMayFreeItsOwnSignalEvent) {
    struct Self {
        event *ev = nullptr;
        int calls = 0;
    } self;
    self.ev = evsignal_new(base(), SIGUSR1, [](evutil_socket_t, short, void *arg) {
        auto *me = static_cast<Self *>(arg);
        ++me->calls;
        event_free(me->ev);
        me->ev = nullptr;
    }, &self);
    ASSERT_EQ(evsignal_add(self.ev, nullptr), 0);
    raise(SIGUSR1);
    raise(SIGUSR1);
    ASSERT_TRUE(conf::loop_until(base(), [&] { return self.calls > 0; }));
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(self.calls, 1) << "callback ran again after its event was freed";
    EXPECT_EQ(conf::current_handler(SIGUSR1), &conf::program_handler);
}

TEST_P(SignalTest, SignalFromAnotherThreadWakesBlockedLoop) {
    Seen s;
    s.break_base = base();
    event *ev = evsignal_new(base(), SIGUSR1, on_sig, &s);
    ASSERT_EQ(evsignal_add(ev, nullptr), 0);
    event *guard = evtimer_new(base(), [](evutil_socket_t, short, void *b) {
        event_base_loopbreak(static_cast<event_base *>(b));
    }, base());
    timeval tv = conf::tv_ms(5000);
    evtimer_add(guard, &tv);
    std::thread t([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
        kill(getpid(), SIGUSR1);  // process-directed: any thread may take it
    });
    const double t0 = conf::now_ms();
    event_base_dispatch(base());
    t.join();
    EXPECT_EQ(s.calls, 1);
    EXPECT_LT(conf::now_ms() - t0, 2000);
    event_free(guard);
    event_free(ev);
}

TEST_P(SignalTest, BasesComeAndGoWhileSignalsArrive) {
    // Signals keep arriving from another thread while bases watching them are created and
    // freed: nothing breaks, and at the end the program's handler is in place.
    std::atomic<bool> stop{false};
    std::thread storm([&] {
        while (!stop) {
            kill(getpid(), SIGUSR1);
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
    });
    int delivered = 0;
    const double end = conf::now_ms() + 100;
    for (int i = 0; i < 100 || conf::now_ms() < end; ++i) {
        event_base *b = conf::new_base_on(GetParam());
        ASSERT_NE(b, nullptr);
        Seen s;
        event ev;  // caller-owned: may stay pending when its base is freed
        ASSERT_EQ(evsignal_assign(&ev, b, SIGUSR1, on_sig, &s), 0);
        ASSERT_EQ(evsignal_add(&ev, nullptr), 0);
        event_base_loop(b, EVLOOP_NONBLOCK);
        delivered += s.calls;
        if (i % 2) evsignal_del(&ev);  // half deleted before the base is freed
        event_base_free(b);
    }
    stop = true;
    storm.join();
    EXPECT_EQ(conf::current_handler(SIGUSR1), &conf::program_handler);
    EXPECT_GE(delivered + conf::g_program_handler_calls.load(), 1);
}

TEST_P(SignalTest, SignalHandledOnAnotherThreadWakesTheLoopThread) {
    // The loop runs on a worker thread; the signal is taken by this thread's handler.
    std::atomic<int> calls{0};
    event *ev = evsignal_new(base(), SIGUSR1, [](evutil_socket_t, short, void *arg) {
        static_cast<std::atomic<int> *>(arg)->fetch_add(1);
    }, &calls);
    ASSERT_EQ(evsignal_add(ev, nullptr), 0);
    std::atomic<bool> ok{false};
    std::thread loop([&] {
        ok = conf::loop_until(base(), [&] { return calls.load() > 0; }, 3000);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    raise(SIGUSR1);
    loop.join();
    EXPECT_TRUE(ok.load());
    EXPECT_EQ(calls.load(), 1);
    event_free(ev);
}

TEST_P(SignalTest, SignalReachesBasesLoopingInSeveralThreads) {
    constexpr int kBases = 3;
    event_base *bases[kBases];
    event *evs[kBases];
    std::atomic<int> calls[kBases];
    conf::LogCapture quiet;  // libevent warns about more than one signal base
    for (int i = 0; i < kBases; ++i) {
        calls[i] = 0;
        bases[i] = conf::new_base_on(GetParam());
        ASSERT_NE(bases[i], nullptr);
        evs[i] = evsignal_new(bases[i], SIGUSR2, [](evutil_socket_t, short, void *arg) {
            static_cast<std::atomic<int> *>(arg)->fetch_add(1);
        }, &calls[i]);
        ASSERT_EQ(evsignal_add(evs[i], nullptr), 0);
    }
    std::atomic<bool> raised{false};
    std::vector<std::thread> loops;
    for (int i = 0; i < kBases; ++i)
        loops.emplace_back([&, i] {
            // libevent: only one base hears it, so the others give up after a short wait.
            const long ms = conf::kSignalsOnEveryBase ? 3000 : 300;
            while (!raised) std::this_thread::yield();
            conf::loop_until(bases[i], [&] { return calls[i].load() > 0; }, ms);
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    raise(SIGUSR2);
    raised = true;
    for (auto &t : loops) t.join();
    int total = 0;
    for (int i = 0; i < kBases; ++i) {
        total += calls[i].load();
        if (conf::kSignalsOnEveryBase) {
            EXPECT_EQ(calls[i].load(), 1) << "base " << i;
        }
    }
    if (!conf::kSignalsOnEveryBase) {
        EXPECT_EQ(total, 1);
    }
    for (int i = 0; i < kBases; ++i) {
        event_free(evs[i]);
        event_base_free(bases[i]);
    }
    if (conf::kHandlerRestoredAfterSeveralBases) {
        EXPECT_EQ(conf::current_handler(SIGUSR2), &conf::program_handler);
    }
}

CONF_INSTANTIATE_BACKENDS(SignalTest);

}  // namespace
