// event_active and deletion of active events (user-needs B.2, B.5).
#include <chrono>
#include <thread>

#include "event_test_util.h"

using namespace conf::ev;

class EventActive : public conf::BackendTest {};

TEST_P(EventActive, ActiveOnNonPendingEventRunsOnceAndStaysNonPending) {
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = evtimer_new(base(), record_cb, &t);
    event_active(ev, EV_WRITE, 1);
    EXPECT_EQ(event_pending(ev, EV_WRITE, nullptr), EV_WRITE);  // active counts as pending
    event_base_loop(base(), EVLOOP_ONCE);
    ASSERT_EQ(rec.calls.size(), 1u);
    EXPECT_EQ(rec.calls[0].second, EV_WRITE);
    EXPECT_EQ(event_pending(ev, EV_READ | EV_WRITE | EV_TIMEOUT, nullptr), 0);
    EXPECT_EQ(event_base_loop(base(), EVLOOP_NONBLOCK), 1);
    event_free(ev);
}

TEST_P(EventActive, ActivatingTwiceMergesTheFlags) {
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = evtimer_new(base(), record_cb, &t);
    event_active(ev, EV_READ, 1);
    event_active(ev, EV_WRITE, 1);
    event_base_loop(base(), EVLOOP_ONCE);
    ASSERT_EQ(rec.calls.size(), 1u);
    EXPECT_EQ(rec.calls[0].second, EV_READ | EV_WRITE);
    event_free(ev);
}

TEST_P(EventActive, TimeoutFlagIsOredWithActiveFlags) {
    // libevent #1530: a timeout firing on an event that is already active adds EV_TIMEOUT.
    conf::SocketPair sp;
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = event_new(base(), sp[0], EV_READ, record_cb, &t);
    timeval tv = {0, 1};
    event_add(ev, &tv);
    event_active(ev, EV_READ, 1);
    usleep(2000);
    event_base_loop(base(), EVLOOP_ONCE);
    ASSERT_EQ(rec.calls.size(), 1u);
    if (conf::kTimeoutKeepsActiveFlags) {
        EXPECT_EQ(rec.calls[0].second, EV_READ | EV_TIMEOUT);
    }
    event_free(ev);
}

TEST_P(EventActive, DeleteAfterActivationCancelsTheCallback) {
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = evtimer_new(base(), record_cb, &t);
    event_active(ev, EV_TIMEOUT, 1);
    event_del(ev);
    EXPECT_EQ(event_base_loop(base(), EVLOOP_NONBLOCK), 1);
    EXPECT_EQ(rec.calls.size(), 0u);
    event_free(ev);
}

TEST_P(EventActive, UserTriggeredEvent) {
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = evuser_new(base(), record_cb, &t);
    evuser_trigger(ev);
    event_base_loop(base(), EVLOOP_ONCE);
    ASSERT_EQ(rec.calls.size(), 1u);
    EXPECT_EQ(rec.calls[0].second, 0);
    evuser_del(ev);
    event_free(ev);
}

TEST_P(EventActive, RunningEventIsVisibleOnlyInsideItsCallback) {
    struct Ctx {
        event_base *b;
        event *seen;
        event *self;
    } ctx{base(), nullptr, nullptr};
    ctx.self = evtimer_new(
        base(), [](evutil_socket_t, short, void *a) {
            auto *c = static_cast<Ctx *>(a);
            c->seen = event_base_get_running_event(c->b);
        },
        &ctx);
    // libevent dereferences NULL when asked outside a callback.
    if (conf::kIsReevent) {
        EXPECT_EQ(event_base_get_running_event(base()), nullptr);
    }
    event_active(ctx.self, EV_TIMEOUT, 1);
    event_base_loop(base(), EVLOOP_ONCE);
    EXPECT_EQ(ctx.seen, ctx.self);
    event_free(ctx.self);
}

// reevent's bases are locked without evthread_use_pthreads, so another thread may activate
// an event while the loop sleeps: the loop wakes at once on every method (on default epoll
// through a wake-up fd opened by that first wake-up). libevent needs lock callbacks for this.
TEST_P(EventActive, AnotherThreadWakesTheLoopWithoutLockCallbacks) {
    if (!conf::kLockedWithoutLockCallbacks) GTEST_SKIP() << "libevent needs evthread_use_pthreads";
    Recorder rec;
    Tagged t{&rec, 5};
    event *ev = event_new(base(), -1, 0, record_cb, &t);
    event *far = evtimer_new(base(), record_cb, nullptr);
    timeval ten = conf::tv_ms(10000);
    event_add(far, &ten);  // keeps the loop waiting
    struct Ctx {
        event_base *base;
        Recorder *rec;
    } ctx{base(), &rec};
    event *stop = event_new(base(), -1, 0, [](evutil_socket_t, short, void *p) {
        event_base_loopbreak(static_cast<Ctx *>(p)->base);
    }, &ctx);
    double start = conf::now_ms();
    std::thread other([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        event_active(ev, EV_READ, 1);
        event_active(stop, EV_TIMEOUT, 1);
    });
    event_base_dispatch(base());
    other.join();
    EXPECT_EQ(rec.count(5), 1);
    EXPECT_LT(conf::now_ms() - start, 3000.0);
    // Once opened, later wake-ups use the same fd.
    int fds = conf::count_open_fds();
    start = conf::now_ms();
    std::thread again([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        event_active(stop, EV_TIMEOUT, 1);
    });
    event_base_dispatch(base());
    again.join();
    EXPECT_LT(conf::now_ms() - start, 3000.0);
    EXPECT_EQ(conf::count_open_fds(), fds);
    event_free(ev);
    event_free(far);
    event_free(stop);
}

CONF_INSTANTIATE_BACKENDS(EventActive);
