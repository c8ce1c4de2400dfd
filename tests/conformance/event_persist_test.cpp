// EV_PERSIST: the event stays pending after its callback, and its timeout restarts whenever
// the callback runs, for any reason (user-needs B.3).
#include <string>
#include <vector>

#include "event_test_util.h"

using namespace conf::ev;

class EventPersist : public conf::BackendTest {};

namespace {
struct Ticks {
    std::vector<double> at;
    std::vector<short> what;
};
void tick_cb(evutil_socket_t fd, short what, void *arg) {
    auto *t = static_cast<Ticks *>(arg);
    t->at.push_back(conf::now_ms());
    t->what.push_back(what);
    if (what & EV_READ) conf::ev::drain(fd);
}
}  // namespace

TEST_P(EventPersist, PersistentTimerRepeatsWithoutDrift) {
    Ticks t;
    event *ev = event_new(base(), -1, EV_PERSIST, tick_cb, &t);
    timeval tv = conf::tv_ms(10);
    double start = conf::now_ms();
    event_add(ev, &tv);
    ASSERT_TRUE(run_until(base(), [&] { return t.at.size() >= 5; }));
    event_del(ev);
    for (short w : t.what) EXPECT_EQ(w, EV_TIMEOUT);
    // Five periods: about 50 ms, not 5 x (10 ms + callback + wake-up latency) drifting away.
    EXPECT_GE(t.at[4] - start, 45.0);  // libevent's coarse clock can be ~4 ms early
    EXPECT_TRUE(event_pending(ev, EV_TIMEOUT, nullptr) == 0);
    event_free(ev);
}

TEST_P(EventPersist, TimeoutRestartsWhenReadCallbackRuns) {
    conf::SocketPair sp;
    Ticks t;
    event *ev = event_new(base(), sp[0], EV_READ | EV_PERSIST, tick_cb, &t);
    timeval tv = conf::tv_ms(60);
    event_add(ev, &tv);
    // Keep it readable every 20 ms for a while: the 60 ms timeout never expires.
    double start = conf::now_ms();
    while (conf::now_ms() - start < 150) {
        write_byte(sp[1]);
        timeval step = conf::tv_ms(20);
        event_base_loopexit(base(), &step);
        event_base_dispatch(base());
    }
    for (short w : t.what) EXPECT_EQ(w, EV_READ);
    EXPECT_TRUE(event_pending(ev, EV_TIMEOUT, nullptr));
    // Then silence: the timeout fires, counted from the last read.
    size_t n = t.at.size();
    ASSERT_TRUE(run_until(base(), [&] { return t.at.size() > n; }));
    EXPECT_EQ(t.what.back(), EV_TIMEOUT);
    EXPECT_GE(t.at.back() - t.at[n - 1], 50.0);  // cached loop time: a few ms of slack
    event_free(ev);
}

TEST_P(EventPersist, ManualActivationRestartsTheTimeout) {
    // user-needs B.3 / libevent #872: a manual event_active counts as a run.
    Ticks t;
    event *ev = event_new(base(), -1, EV_PERSIST, tick_cb, &t);
    // Wide margins: a 20 ms sleep here was outlasted by preemption on a loaded machine
    // (the timeout then came due before the activation).
    timeval tv = conf::tv_ms(300);
    event_add(ev, &tv);
    usleep(100000);
    event_active(ev, EV_READ, 1);
    double activated = conf::now_ms();
    event_base_loop(base(), EVLOOP_ONCE);
    ASSERT_EQ(t.what.size(), 1u);
    EXPECT_EQ(t.what[0], EV_READ);
    ASSERT_TRUE(run_until(base(), [&] { return t.at.size() == 2; }));
    EXPECT_EQ(t.what[1], EV_TIMEOUT);
    // Without the restart it would fire ~200 ms after activation, with it ~300 ms; libevent
    // reads a coarse monotonic clock (jiffies, up to ~4 ms behind) and the loop caches it.
    EXPECT_GE(t.at[1] - activated, 260.0);
    event_free(ev);
}

TEST_P(EventPersist, ZeroTimeoutIsNotRearmed) {
    // libevent_obsolete#168: with a {0,0} timeout the persist closure has nothing to re-arm.
    Ticks t;
    event *ev = event_new(base(), -1, EV_PERSIST, tick_cb, &t);
    timeval zero = {0, 0};
    event_add(ev, &zero);
    event_base_loop(base(), EVLOOP_ONCE);
    EXPECT_EQ(t.at.size(), 1u);
    EXPECT_FALSE(event_pending(ev, EV_TIMEOUT, nullptr));
    EXPECT_EQ(event_base_loop(base(), EVLOOP_NONBLOCK), 1);
    event_free(ev);
}

TEST_P(EventPersist, DeleteInsideCallbackStopsIt) {
    Ticks t;
    struct Ctx {
        Ticks *t;
        event *ev;
    } ctx{&t, nullptr};
    ctx.ev = event_new(
        base(), -1, EV_PERSIST,
        [](evutil_socket_t, short w, void *a) {
            auto *c = static_cast<Ctx *>(a);
            c->t->what.push_back(w);
            event_del(c->ev);
        },
        &ctx);
    timeval tv = conf::tv_ms(2);
    event_add(ctx.ev, &tv);
    EXPECT_EQ(event_base_dispatch(base()), 1);
    EXPECT_EQ(t.what.size(), 1u);
    event_free(ctx.ev);
}

// A round where one fd is ready and its only event is a plain persistent one (reevent runs
// it without queueing it): inside the callback the event is pending, not active, and the
// running event; the counts' maxima still saw it both added and active.
TEST_P(EventPersist, SoleReadyPersistentEventKeepsCountsAndState) {
    conf::SocketPair sp;
    struct Seen {
        event_base *b;
        event *ev;
        int calls = 0;
        short what = 0;
        int pending = -1, active = -1, added = -1;
        bool running = false;
    } seen{base(), nullptr};
    seen.ev = event_new(
        base(), sp[0], EV_READ | EV_PERSIST,
        [](evutil_socket_t fd, short w, void *a) {
            auto *s = static_cast<Seen *>(a);
            ++s->calls;
            s->what = w;
            s->pending = event_pending(s->ev, EV_READ, nullptr) != 0;
            s->active = event_base_get_num_events(s->b, EVENT_BASE_COUNT_ACTIVE);
            s->added = event_base_get_num_events(s->b, EVENT_BASE_COUNT_ADDED);
            s->running = event_base_get_running_event(s->b) == s->ev;
            conf::ev::drain(fd);
        },
        &seen);
    ASSERT_EQ(event_add(seen.ev, nullptr), 0);
    event_base_get_max_events(base(), EVENT_BASE_COUNT_ADDED, 1);
    event_base_get_max_events(base(), EVENT_BASE_COUNT_ACTIVE, 1);
    write_byte(sp[1]);
    EXPECT_EQ(event_base_loop(base(), EVLOOP_ONCE), 0);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.what, EV_READ);
    EXPECT_EQ(seen.pending, 1);
    EXPECT_EQ(seen.active, 0);
    EXPECT_EQ(seen.added, 1);
    EXPECT_TRUE(seen.running);
    EXPECT_EQ(event_base_get_max_events(base(), EVENT_BASE_COUNT_ACTIVE, 0), 1);
    EXPECT_EQ(event_base_get_max_events(base(), EVENT_BASE_COUNT_ADDED, 0), 2);
    // (event_base_get_running_event outside a callback crashes libevent 2.1.12: not asked.)
    EXPECT_TRUE(event_pending(seen.ev, EV_READ, nullptr));
    // Again, and nothing left active afterwards.
    write_byte(sp[1]);
    EXPECT_EQ(event_base_loop(base(), EVLOOP_ONCE), 0);
    EXPECT_EQ(seen.calls, 2);
    EXPECT_EQ(event_base_get_num_events(base(), EVENT_BASE_COUNT_ACTIVE), 0);
    event_free(seen.ev);
}

// That round's callback activates another event of its priority and makes a third fd
// readable: with EVLOOP_ONCE the activated event runs in the same pass, and the loop returns
// before it polls again (the new readiness waits for the next call).
TEST_P(EventPersist, EventActivatedBySoleReadyEventRunsInTheSameOnceRound) {
    conf::SocketPair a, c;
    struct Ctx {
        event *b = nullptr;
        int peer_c = -1;
        std::vector<char> order;
    } ctx;
    ctx.peer_c = c[1];
    event *ea = event_new(
        base(), a[0], EV_READ | EV_PERSIST,
        [](evutil_socket_t fd, short, void *arg) {
            auto *x = static_cast<Ctx *>(arg);
            x->order.push_back('a');
            conf::ev::drain(fd);
            event_active(x->b, EV_TIMEOUT, 1);
            write_byte(x->peer_c);
        },
        &ctx);
    ctx.b = event_new(
        base(), -1, 0, [](evutil_socket_t, short, void *arg) { static_cast<Ctx *>(arg)->order.push_back('b'); },
        &ctx);
    event *ec = event_new(
        base(), c[0], EV_READ | EV_PERSIST,
        [](evutil_socket_t fd, short, void *arg) {
            static_cast<Ctx *>(arg)->order.push_back('c');
            conf::ev::drain(fd);
        },
        &ctx);
    ASSERT_EQ(event_add(ea, nullptr), 0);
    ASSERT_EQ(event_add(ec, nullptr), 0);
    write_byte(a[1]);
    EXPECT_EQ(event_base_loop(base(), EVLOOP_ONCE), 0);
    EXPECT_EQ(std::string(ctx.order.begin(), ctx.order.end()), "ab");
    EXPECT_EQ(event_base_loop(base(), EVLOOP_ONCE), 0);
    EXPECT_EQ(std::string(ctx.order.begin(), ctx.order.end()), "abc");
    event_free(ea);
    event_free(ctx.b);
    event_free(ec);
}

CONF_INSTANTIATE_BACKENDS(EventPersist);
