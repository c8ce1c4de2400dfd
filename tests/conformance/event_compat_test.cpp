// The 1.x API (event_compat.h): event_init sets the current base; event_set before any
// event_init leaves ev_base NULL; the timeout_* / signal_* / evtimer_set macros.
#include <event2/event_compat.h>

#include "event_test_util.h"

using namespace conf::ev;

TEST(EventCompat, SetBeforeInitHasNoBase) {
    // Runs first in this file's order only by name; it does not depend on it: a fresh process
    // would have no current base, here we only check the field follows event_init.
    event ev;
    event_set(&ev, -1, 0, record_cb, nullptr);
    event_base *b = event_init();
    ASSERT_NE(b, nullptr);
    event ev2;
    event_set(&ev2, -1, 0, record_cb, nullptr);
    EXPECT_EQ(ev2.ev_base, b);
    EXPECT_EQ(event_base_set(b, &ev), 0);
    EXPECT_EQ(ev.ev_base, b);
    event_base_free(b);
}

TEST(EventCompat, InitDispatchLoopexitOnce) {
    event_base *b = event_init();
    ASSERT_NE(b, nullptr);
    EXPECT_STREQ(event_get_method(), event_base_get_method(b));
    Recorder rec;
    Tagged t{&rec, 1};
    event ev;
    timeout_set(&ev, record_cb, &t);
    EXPECT_TRUE(timeout_initialized(&ev));
    timeval tv = conf::tv_ms(2);
    timeout_add(&ev, &tv);
    EXPECT_TRUE(timeout_pending(&ev, nullptr));
    timeval tv2 = conf::tv_ms(1);
    ASSERT_EQ(event_once(-1, EV_TIMEOUT, record_cb, &t, &tv2), 0);
    EXPECT_EQ(event_dispatch(), 1);
    EXPECT_EQ(rec.calls.size(), 2u);
    timeout_del(&ev);
    timeval tv3 = conf::tv_ms(5);
    event_loopexit(&tv3);
    EXPECT_EQ(event_loop(EVLOOP_NO_EXIT_ON_EMPTY), 0);
    EXPECT_EQ(event_loopbreak(), 0);
    EXPECT_EQ(event_priority_init(4), 0);
    EXPECT_EQ(event_base_get_npriorities(b), 4);
    event_base_free(b);
}

TEST(EventCompat, EventSetIoWithCurrentBase) {
    event_base *b = event_init();
    conf::SocketPair sp;
    Recorder rec;
    Tagged t{&rec, 1};
    event ev;
    event_set(&ev, sp[0], EV_READ, record_cb, &t);
    EXPECT_EQ(EVENT_FD(&ev), sp[0]);
    ASSERT_EQ(event_add(&ev, nullptr), 0);
    write_byte(sp[1]);
    EXPECT_EQ(event_loop(EVLOOP_ONCE), 0);
    EXPECT_EQ(rec.calls.size(), 1u);
    event_base_free(b);
}

TEST(EventCompat, SignalMacrosExpandToSignalEvents) {
    event_base *b = event_init();
    event ev;
    signal_set(&ev, SIGUSR2, record_cb, nullptr);
    EXPECT_EQ(event_get_events(&ev), EV_SIGNAL | EV_PERSIST);
    EXPECT_EQ(EVENT_SIGNAL(&ev), SIGUSR2);
    EXPECT_TRUE(signal_initialized(&ev));
    evsignal_set(&ev, SIGUSR1, record_cb, nullptr);
    EXPECT_EQ(event_get_signal(&ev), SIGUSR1);
    event_base_free(b);
}
