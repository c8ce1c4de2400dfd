// A NULL event_base after event_init(), as libevent 1.x-style programs pass it: events
// assigned or made on NULL belong to the current base (event_init's) and run there, on
// every backend. event_base_once takes no NULL (-1, nothing scheduled); event_once is its
// current-base form. Without event_init libevent crashes on most of these, so that case is
// not tested (reevent refuses with a warning).
#include <event2/event_compat.h>

#include "event_test_util.h"
#include "current_base_fixture.h"

using namespace conf::ev;

namespace {

class EventNullBase : public conf::CurrentBaseTest {};

TEST_P(EventNullBase, EventAssignTakesTheCurrentBase) {
    Recorder rec;
    Tagged t{&rec, 1};
    event ev;
    ASSERT_EQ(event_assign(&ev, nullptr, -1, 0, record_cb, &t), 0);
    EXPECT_EQ(event_get_base(&ev), base());
    timeval tv = conf::tv_ms(1);
    ASSERT_EQ(event_add(&ev, &tv), 0);
    EXPECT_EQ(event_base_dispatch(base()), 1);  // ran there, then nothing left
    ASSERT_EQ(rec.calls.size(), 1u);
    EXPECT_EQ(rec.calls[0].second, EV_TIMEOUT);
}

TEST_P(EventNullBase, EventNewReadsOnTheCurrentBase) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged t{&rec, 2};
    event *ev = event_new(nullptr, sp[0], EV_READ | EV_PERSIST, record_cb, &t);
    ASSERT_NE(ev, nullptr);
    EXPECT_EQ(event_get_base(ev), base());
    ASSERT_EQ(event_add(ev, nullptr), 0);
    write_byte(sp[1]);
    ASSERT_TRUE(run_until(base(), [&] { return !rec.calls.empty(); }));
    EXPECT_EQ(rec.calls[0].second, EV_READ);
    event_free(ev);
}

TEST_P(EventNullBase, EventSetAndEventDispatch) {
    Recorder rec;
    Tagged t{&rec, 3};
    event ev;
    event_set(&ev, -1, 0, record_cb, &t);
    EXPECT_EQ(ev.ev_base, base());
    timeval tv = conf::tv_ms(1);
    ASSERT_EQ(event_add(&ev, &tv), 0);
    EXPECT_EQ(event_dispatch(), 1);
    EXPECT_EQ(rec.calls.size(), 1u);
}

TEST_P(EventNullBase, EvtimerAssignAndNew) {
    Recorder rec;
    Tagged a{&rec, 1}, b{&rec, 2};
    event ev;
    ASSERT_EQ(evtimer_assign(&ev, nullptr, record_cb, &a), 0);
    event *ev2 = evtimer_new(nullptr, record_cb, &b);
    ASSERT_NE(ev2, nullptr);
    EXPECT_EQ(event_get_base(&ev), base());
    EXPECT_EQ(event_get_base(ev2), base());
    timeval t1 = conf::tv_ms(1), t2 = conf::tv_ms(3);
    ASSERT_EQ(evtimer_add(&ev, &t1), 0);
    ASSERT_EQ(evtimer_add(ev2, &t2), 0);
    EXPECT_TRUE(evtimer_pending(ev2, nullptr));
    EXPECT_EQ(event_base_dispatch(base()), 1);
    ASSERT_EQ(rec.calls.size(), 2u);
    EXPECT_EQ(rec.calls[0].first, 1);
    EXPECT_EQ(rec.calls[1].first, 2);
    event_free(ev2);
}

TEST_P(EventNullBase, EventBaseOnceRefusesNullEventOnceUsesTheCurrentBase) {
    Recorder rec;
    Tagged a{&rec, 1}, b{&rec, 2};
    timeval tv = conf::tv_ms(1);
    {
        conf::LogCapture quiet;  // reevent warns about the NULL base
        EXPECT_EQ(event_base_once(nullptr, -1, EV_TIMEOUT, record_cb, &a, &tv), -1);
    }
    EXPECT_EQ(event_base_dispatch(base()), 1);  // nothing was scheduled
    EXPECT_TRUE(rec.calls.empty());
    ASSERT_EQ(event_once(-1, EV_TIMEOUT, record_cb, &b, &tv), 0);
    EXPECT_EQ(event_base_dispatch(base()), 1);
    ASSERT_EQ(rec.calls.size(), 1u);
    EXPECT_EQ(rec.calls[0].first, 2);
}

CONF_INSTANTIATE_BACKENDS(EventNullBase);

}  // namespace
