// event_active and deletion of active events (user-needs B.2, B.5).
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

CONF_INSTANTIATE_BACKENDS(EventActive);
