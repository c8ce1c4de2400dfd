// Cross-thread use of one base: event_add/del/active, loopbreak and loopexit from another
// thread wake a loop that is blocked; event_del from another thread waits for a running
// callback unless EV_FINALIZE or event_del_noblock says not to; finalizers run in the loop.
//
// evthread_use_pthreads() is called before any base exists (both libraries accept it; on
// libevent it is what makes a base thread-safe at all).
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <gtest/gtest.h>

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "backend_fixture.h"
#include "helpers.h"

namespace {

const int g_threads_ready = evthread_use_pthreads();

using namespace std::chrono_literals;

// Generous for sanitizer builds, far below the 10 s the loop would otherwise sleep.
constexpr double kWakeMs = 1000;
const timeval kOneMs = conf::tv_ms(1);

class ThreadTest : public conf::BackendTest {
protected:
    void SetUp() override {
        ASSERT_EQ(g_threads_ready, 0);
        conf::BackendTest::SetUp();
        // Keeps the loop blocked in the backend for 10 s unless something wakes it.
        idle_ = event_new(base(), -1, EV_PERSIST, [](evutil_socket_t, short, void *) {}, nullptr);
        timeval tv = conf::tv_ms(10000);
        event_add(idle_, &tv);
        // Hard bound on every loop in this suite.
        guard_ = event_new(base(), -1, 0, [](evutil_socket_t, short, void *b) {
            event_base_loopbreak(static_cast<event_base *>(b));
        }, base());
        timeval g = conf::tv_ms(8000);
        event_add(guard_, &g);
    }
    void TearDown() override {
        if (worker_.joinable()) worker_.join();
        if (idle_) event_free(idle_);
        if (guard_) event_free(guard_);
        conf::BackendTest::TearDown();
    }
    // Starts fn on another thread once the loop is running (a few ms later).
    template <class Fn>
    void from_other_thread(Fn fn) {
        worker_ = std::thread([this, fn] {
            std::this_thread::sleep_for(30ms);
            start_ms_ = conf::now_ms();
            fn();
        });
    }
    double elapsed_since_start() const { return conf::now_ms() - start_ms_.load(); }

    event *idle_ = nullptr;
    event *guard_ = nullptr;
    std::thread worker_;
    std::atomic<double> start_ms_{0};
};

struct Flag {
    explicit Flag(event_base *b) : base(b) {}
    std::atomic<int> calls{0};
    std::atomic<double> at_ms{0};
    event_base *base;
    pthread_t thread{};
};

void on_fire_break(evutil_socket_t, short, void *arg) {
    auto *f = static_cast<Flag *>(arg);
    f->at_ms = conf::now_ms();
    f->thread = pthread_self();
    f->calls.fetch_add(1);
    event_base_loopbreak(f->base);
}

// Runs the loop until on_fire_break stops it and checks it ran once, soon after the other
// thread acted (start_ms: when it did).
void expect_one_prompt_call(event_base *base, const Flag &f, const std::atomic<double> &start_ms) {
    event_base_dispatch(base);
    EXPECT_EQ(f.calls.load(), 1);
    EXPECT_LT(f.at_ms - start_ms, kWakeMs);
}

TEST_P(ThreadTest, EventActiveFromOtherThreadWakesLoopAtOnce) {
    Flag f{base()};
    event *ev = event_new(base(), -1, 0, on_fire_break, &f);
    from_other_thread([&] { event_active(ev, EV_READ, 0); });
    expect_one_prompt_call(base(), f, start_ms_);
    EXPECT_TRUE(pthread_equal(f.thread, pthread_self()));
    event_free(ev);
}

TEST_P(ThreadTest, EventAddFromOtherThreadWakesLoopAtOnce) {
    Flag f{base()};
    event *ev = evtimer_new(base(), on_fire_break, &f);
    from_other_thread([&] { event_add(ev, &kOneMs); });
    expect_one_prompt_call(base(), f, start_ms_);
    event_free(ev);
}

TEST_P(ThreadTest, EventAddOfPendingTimerFromOtherThreadWakesLoopAtOnce) {
    Flag f{base()};
    event *ev = evtimer_new(base(), on_fire_break, &f);
    timeval far = conf::tv_ms(5000);
    ASSERT_EQ(event_add(ev, &far), 0);  // pending: the re-add below moves it
    from_other_thread([&] { event_add(ev, &kOneMs); });
    expect_one_prompt_call(base(), f, start_ms_);
    event_free(ev);
}

TEST_P(ThreadTest, EventAddOfCommonTimeoutFromOtherThreadWakesLoop) {
    Flag f{base()};
    timeval d = conf::tv_ms(1);
    const timeval *common = event_base_init_common_timeout(base(), &d);
    ASSERT_NE(common, nullptr);
    event *ev = evtimer_new(base(), on_fire_break, &f);
    from_other_thread([&] { event_add(ev, common); });
    expect_one_prompt_call(base(), f, start_ms_);
    event_free(ev);
}

TEST_P(ThreadTest, EventAddOfReadEventFromOtherThreadWakesLoop) {
    Flag f{base()};
    conf::SocketPair sp;
    char x = 'x';
    ASSERT_EQ(write(sp[1], &x, 1), 1);
    event *ev = event_new(base(), sp[0], EV_READ, on_fire_break, &f);
    from_other_thread([&] { event_add(ev, nullptr); });
    expect_one_prompt_call(base(), f, start_ms_);
    event_free(ev);
}

TEST_P(ThreadTest, EventDelOfLastEventFromOtherThreadEndsLoop) {
    // The loop waits on one read event that never fires; deleting it from another thread
    // leaves nothing to wait for, so the loop returns 1 at once. (A deleted timer need not
    // wake the loop: libevent lets the loop wake early instead.)
    conf::SocketPair sp;
    event *rd = event_new(base(), sp[0], EV_READ | EV_PERSIST, [](evutil_socket_t, short, void *) {},
                          nullptr);
    ASSERT_EQ(event_add(rd, nullptr), 0);
    event_del(idle_);
    event_del(guard_);
    from_other_thread([&] { event_del(rd); });
    const double t0 = conf::now_ms();
    EXPECT_EQ(event_base_dispatch(base()), 1);
    EXPECT_LT(conf::now_ms() - t0, 30 + kWakeMs);
    event_free(rd);
}

TEST_P(ThreadTest, LoopbreakFromOtherThreadWakesLoopAtOnce) {
    from_other_thread([&] { event_base_loopbreak(base()); });
    EXPECT_EQ(event_base_dispatch(base()), 0);
    EXPECT_LT(elapsed_since_start(), kWakeMs);
    EXPECT_TRUE(event_base_got_break(base()));
}

TEST_P(ThreadTest, LoopexitFromOtherThreadWakesLoopAtOnce) {
    from_other_thread([&] { event_base_loopexit(base(), nullptr); });
    EXPECT_EQ(event_base_dispatch(base()), 0);
    EXPECT_LT(elapsed_since_start(), kWakeMs);
    EXPECT_TRUE(event_base_got_exit(base()));
}

TEST_P(ThreadTest, MakeBaseNotifiableSucceeds) {
    EXPECT_EQ(evthread_make_base_notifiable(base()), 0);
    EXPECT_EQ(evthread_make_base_notifiable(base()), 0);
    Flag f{base()};
    event *ev = event_new(base(), -1, 0, on_fire_break, &f);
    from_other_thread([&] { event_active(ev, EV_TIMEOUT, 0); });
    event_base_dispatch(base());
    EXPECT_EQ(f.calls.load(), 1);
    event_free(ev);
}

// ---- event_del against a running callback ----------------------------------------------

struct Slow {
    std::atomic<bool> running{false};
    std::atomic<bool> done{false};
    std::atomic<int> calls{0};
};

void slow_callback(evutil_socket_t, short, void *arg) {
    auto *s = static_cast<Slow *>(arg);
    s->calls.fetch_add(1);
    s->running = true;
    std::this_thread::sleep_for(150ms);
    s->done = true;
}

bool wait_for(const std::atomic<bool> &b, double ms = 3000) {
    const double end = conf::now_ms() + ms;
    while (!b.load()) {
        if (conf::now_ms() > end) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

// Makes ev (its callback: slow_callback with state s) active and waits until the callback
// runs on the loop thread.
bool activate_and_wait_running(event *ev, const Slow &s) {
    event_active(ev, EV_READ, 0);
    return wait_for(s.running);
}

// Runs the loop on a helper thread until `stop`; the test thread plays "another thread".
class LoopThread {
public:
    explicit LoopThread(event_base *b) : base_(b) {
        t_ = std::thread([this] {
            while (!stop_) {
                timeval tv = conf::tv_ms(10);
                event_base_loopexit(base_, &tv);
                event_base_loop(base_, EVLOOP_ONCE);
            }
        });
    }
    ~LoopThread() {
        stop_ = true;
        event_base_loopbreak(base_);
        t_.join();
    }

private:
    event_base *base_;
    std::atomic<bool> stop_{false};
    std::thread t_;
};

// An EV_PERSIST event (plus `flags`) running slow_callback is made active on a loop thread;
// once its callback runs, del(ev) is called from this thread and must return 0 only after
// the callback has finished. The event is freed while the loop thread still runs.
void expect_del_waits(event_base *base, short flags, int (*del)(event *)) {
    Slow s;
    event *ev = event_new(base, -1, EV_PERSIST | flags, slow_callback, &s);
    LoopThread loop(base);
    ASSERT_TRUE(activate_and_wait_running(ev, s));
    EXPECT_EQ(del(ev), 0);
    EXPECT_TRUE(s.done.load()) << "event_del returned while the callback was still running";
    event_free(ev);
}

// As above, but del(ev) must return 0 at once, while the callback still runs (`why_not`:
// the failure message). The event is freed after the callback and the loop thread end.
void expect_del_does_not_wait(event_base *base, short flags, int (*del)(event *),
                              const char *why_not) {
    Slow s;
    event *ev = event_new(base, -1, EV_PERSIST | flags, slow_callback, &s);
    {
        LoopThread loop(base);
        ASSERT_TRUE(activate_and_wait_running(ev, s));
        EXPECT_EQ(del(ev), 0);
        EXPECT_FALSE(s.done.load()) << why_not;
        ASSERT_TRUE(wait_for(s.done));
    }
    event_free(ev);
}

TEST_P(ThreadTest, EventDelFromOtherThreadWaitsForRunningCallback) {
    expect_del_waits(base(), 0, event_del);
}

// A persistent timer is pending again (re-armed) while its callback runs: event_del from
// another thread still waits for the callback.
TEST_P(ThreadTest, EventDelOfRunningPersistentTimerFromOtherThreadWaits) {
    Slow s;
    event *ev = event_new(base(), -1, EV_PERSIST, slow_callback, &s);
    timeval tv = conf::tv_ms(1);
    ASSERT_EQ(event_add(ev, &tv), 0);
    LoopThread loop(base());
    ASSERT_TRUE(wait_for(s.running));
    EXPECT_TRUE(evtimer_pending(ev, nullptr));
    EXPECT_EQ(event_del(ev), 0);
    EXPECT_TRUE(s.done.load()) << "event_del returned while the callback was still running";
    EXPECT_FALSE(evtimer_pending(ev, nullptr));
    event_free(ev);
}

TEST_P(ThreadTest, EventFreeFromOtherThreadWaitsForRunningCallback) {
    Slow s;
    event *ev = event_new(base(), -1, EV_PERSIST, slow_callback, &s);
    LoopThread loop(base());
    ASSERT_TRUE(activate_and_wait_running(ev, s));
    event_free(ev);
    EXPECT_TRUE(s.done.load());
}

TEST_P(ThreadTest, EventDelNoblockDoesNotWait) {
    expect_del_does_not_wait(base(), 0, event_del_noblock,
                             "event_del_noblock waited for the callback");
}

TEST_P(ThreadTest, EventDelOfFinalizeEventDoesNotWait) {
    expect_del_does_not_wait(base(), EV_FINALIZE, event_del,
                             "event_del waited although the event has EV_FINALIZE");
}

TEST_P(ThreadTest, EventDelBlockWaitsEvenWithFinalize) {
    expect_del_waits(base(), EV_FINALIZE, event_del_block);
}

TEST_P(ThreadTest, DeletedEventDoesNotRunAgainAfterEventDelReturns) {
    Slow s;
    event *ev = event_new(base(), -1, EV_PERSIST, slow_callback, &s);
    LoopThread loop(base());
    ASSERT_TRUE(activate_and_wait_running(ev, s));
    event_active(ev, EV_READ, 0);  // queued again while running
    event_del(ev);
    const int calls = s.calls.load();
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(s.calls.load(), calls);
    event_free(ev);
}

struct SelfDel {
    event *ev = nullptr;
    event *other = nullptr;
    std::atomic<int> calls{0};
};

TEST_P(ThreadTest, EventDelFromLoopThreadNeverWaits) {
    SelfDel sd;
    sd.ev = event_new(base(), -1, EV_PERSIST, [](evutil_socket_t, short, void *arg) {
        auto *me = static_cast<SelfDel *>(arg);
        me->calls.fetch_add(1);
        event_del(me->ev);    // itself, while running
        event_del_block(me->ev);
        event_del(me->other);  // another event of the same base
    }, &sd);
    sd.other = evtimer_new(base(), [](evutil_socket_t, short, void *) {}, nullptr);
    timeval tv = conf::tv_ms(5000);
    event_add(sd.other, &tv);
    event_add(sd.ev, &tv);
    event_active(sd.ev, EV_READ, 0);
    const double t0 = conf::now_ms();
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_LT(conf::now_ms() - t0, 1000);
    EXPECT_EQ(sd.calls.load(), 1);
    EXPECT_FALSE(event_pending(sd.ev, EV_TIMEOUT, nullptr));
    EXPECT_FALSE(event_pending(sd.other, EV_TIMEOUT, nullptr));
    event_free(sd.ev);
    event_free(sd.other);
}

// ---- finalizers ------------------------------------------------------------------------

struct Fin {
    std::atomic<int> calls{0};
    std::atomic<int> finalized{0};
    pthread_t thread{};
    event_base *base = nullptr;
};

void fin_cb(event *, void *arg) {
    auto *f = static_cast<Fin *>(arg);
    f->thread = pthread_self();
    f->finalized.fetch_add(1);
    if (f->base) event_base_loopbreak(f->base);
}

void count_cb(evutil_socket_t, short, void *arg) { static_cast<Fin *>(arg)->calls.fetch_add(1); }

TEST_P(ThreadTest, EventFinalizeFromOtherThreadRunsFinalizerInLoop) {
    Fin f;
    f.base = base();
    event *ev = event_new(base(), -1, EV_PERSIST, count_cb, &f);
    timeval tv = conf::tv_ms(5000);
    event_add(ev, &tv);
    from_other_thread([&] { EXPECT_EQ(event_finalize(0, ev, fin_cb), 0); });
    event_base_dispatch(base());
    EXPECT_EQ(f.finalized.load(), 1);
    EXPECT_TRUE(pthread_equal(f.thread, pthread_self())) << "finalizer ran outside the loop";
    EXPECT_EQ(f.calls.load(), 0);
    event_free(ev);
}

TEST_P(ThreadTest, EventFreeFinalizeRunsFinalizerThenFrees) {
    Fin f;
    f.base = base();
    event *ev = event_new(base(), -1, EV_PERSIST, count_cb, &f);
    event_active(ev, EV_READ, 0);  // the pending activation is cancelled by finalizing
    EXPECT_EQ(event_free_finalize(0, ev, fin_cb), 0);
    event_base_dispatch(base());
    EXPECT_EQ(f.finalized.load(), 1);
    EXPECT_EQ(f.calls.load(), 0);
}

TEST_P(ThreadTest, FinalizedEventCannotBeAddedOrActivated) {
    Fin f;
    event *ev = event_new(base(), -1, EV_PERSIST, count_cb, &f);
    ASSERT_EQ(event_finalize(0, ev, fin_cb), 0);
    timeval tv = conf::tv_ms(1);
    event_add(ev, &tv);
    event_active(ev, EV_READ, 0);
    for (int i = 0; i < 3; ++i) event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(f.calls.load(), 0);
    EXPECT_EQ(f.finalized.load(), 1);
    event_free(ev);
}

// On a base of its own, one event's finalizer (fin_cb) is pending when free_base frees the
// base; by then the finalizer must have run `want` times.
void expect_finalizer_runs_on_free(const conf::Backend &backend,
                                   void (*free_base)(event_base *), int want) {
    event_base *b = conf::new_base_on(backend);
    ASSERT_NE(b, nullptr);
    Fin f;
    event ev;
    ASSERT_EQ(event_assign(&ev, b, -1, 0, count_cb, &f), 0);
    ASSERT_EQ(event_finalize(0, &ev, fin_cb), 0);
    EXPECT_EQ(f.finalized.load(), 0);
    free_base(b);
    EXPECT_EQ(f.finalized.load(), want);
}

TEST_P(ThreadTest, BaseFreeRunsPendingFinalizers) {
    expect_finalizer_runs_on_free(GetParam(), event_base_free, 1);
}

TEST_P(ThreadTest, BaseFreeNofinalizeSkipsPendingFinalizers) {
    expect_finalizer_runs_on_free(GetParam(), event_base_free_nofinalize, 0);
}

CONF_INSTANTIATE_BACKENDS(ThreadTest);

}  // namespace
