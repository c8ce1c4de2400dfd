// event_base_once (user-needs B.11): runs once, memory owned by the library (freed after
// the callback or by event_base_free), no EV_SIGNAL / EV_PERSIST.
#include "event_test_util.h"

using namespace conf::ev;

class EventOnce : public conf::BackendTest {};

TEST_P(EventOnce, TimeoutOnceRunsOnce) {
    Recorder rec;
    Tagged t{&rec, 1};
    timeval tv = conf::tv_ms(5);
    ASSERT_EQ(event_base_once(base(), -1, EV_TIMEOUT, record_cb, &t, &tv), 0);
    EXPECT_EQ(event_base_dispatch(base()), 1);
    ASSERT_EQ(rec.calls.size(), 1u);
    EXPECT_EQ(rec.calls[0].second, EV_TIMEOUT);
}

TEST_P(EventOnce, NullTimeoutRunsOnNextIteration) {
    Recorder rec;
    Tagged t{&rec, 1};
    ASSERT_EQ(event_base_once(base(), -1, EV_TIMEOUT, record_cb, &t, nullptr), 0);
    event_base_loop(base(), EVLOOP_ONCE);
    EXPECT_EQ(rec.calls.size(), 1u);
}

TEST_P(EventOnce, ReadOnceFiresWhenReadable) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged t{&rec, 1};
    ASSERT_EQ(event_base_once(base(), sp[0], EV_READ, record_cb, &t, nullptr), 0);
    write_byte(sp[1]);
    EXPECT_EQ(event_base_dispatch(base()), 1);
    ASSERT_EQ(rec.calls.size(), 1u);
    EXPECT_EQ(rec.calls[0].second, EV_READ);
}

TEST_P(EventOnce, SignalOrPersistIsRefused) {
    EXPECT_EQ(event_base_once(base(), SIGUSR1, EV_SIGNAL, record_cb, nullptr, nullptr), -1);
    EXPECT_EQ(event_base_once(base(), -1, EV_TIMEOUT | EV_PERSIST, record_cb, nullptr, nullptr), -1);
    EXPECT_EQ(event_base_once(base(), -1, 0, record_cb, nullptr, nullptr), -1);
}

TEST_P(EventOnce, UnfiredOnceIsFreedWithTheBase) {
    event_base *b = conf::new_base_on(GetParam());
    timeval tv = conf::tv_ms(100000);
    ASSERT_EQ(event_base_once(b, -1, EV_TIMEOUT, record_cb, nullptr, &tv), 0);
    event_base_free(b);  // LeakSanitizer would complain otherwise
}

CONF_INSTANTIATE_BACKENDS(EventOnce);
