// struct event is ABI: 128 bytes, fields at the 2.1.12 offsets, and the EVLIST_* bits in
// evcb_flags tell the state (programs embed it and some read its fields).
#include <cstddef>

#include "event_test_util.h"

using namespace conf::ev;

TEST(EventStruct, LayoutIs128BytesWithTheLibeventOffsets) {
    EXPECT_EQ(sizeof(struct event), 128u);
    EXPECT_EQ(event_get_struct_event_size(), sizeof(struct event));
    EXPECT_EQ(offsetof(struct event, ev_evcallback.evcb_flags), 16u);
    EXPECT_EQ(offsetof(struct event, ev_evcallback.evcb_pri), 18u);
    EXPECT_EQ(offsetof(struct event, ev_evcallback.evcb_closure), 19u);
    EXPECT_EQ(offsetof(struct event, ev_evcallback.evcb_arg), 32u);
    EXPECT_EQ(offsetof(struct event, ev_timeout_pos), 40u);
    EXPECT_EQ(offsetof(struct event, ev_fd), 56u);
    EXPECT_EQ(offsetof(struct event, ev_base), 64u);
    EXPECT_EQ(offsetof(struct event, ev_.ev_io.ev_timeout), 88u);
    EXPECT_EQ(offsetof(struct event, ev_.ev_signal.ev_ncalls), 88u);
    EXPECT_EQ(offsetof(struct event, ev_.ev_signal.ev_pncalls), 96u);
    EXPECT_EQ(offsetof(struct event, ev_events), 104u);
    EXPECT_EQ(offsetof(struct event, ev_res), 106u);
    EXPECT_EQ(offsetof(struct event, ev_timeout), 112u);
}

TEST(EventStruct, VersionIsLibevent2112) {
    EXPECT_STREQ(event_get_version(), "2.1.12-stable");
    EXPECT_EQ(event_get_version_number(), 0x02010c00u);
    EXPECT_STREQ(LIBEVENT_VERSION, "2.1.12-stable");
    EXPECT_EQ(LIBEVENT_VERSION_NUMBER, 0x02010c00);
}

TEST(EventStruct, FlagsAfterAssignAddDel) {
    event_base *b = event_base_new();
    conf::SocketPair sp;
    event ev;
    ASSERT_EQ(event_assign(&ev, b, sp[0], EV_READ, record_cb, nullptr), 0);
    EXPECT_EQ(flags_of(&ev), EVLIST_INIT);
    EXPECT_EQ(ev.ev_fd, sp[0]);
    EXPECT_EQ(ev.ev_base, b);
    EXPECT_EQ(ev.ev_events, EV_READ);
    timeval tv = conf::tv_ms(1000);
    ASSERT_EQ(event_add(&ev, &tv), 0);
    EXPECT_EQ(flags_of(&ev), EVLIST_INIT | EVLIST_INSERTED | EVLIST_TIMEOUT);
    ASSERT_EQ(event_del(&ev), 0);
    EXPECT_EQ(flags_of(&ev), EVLIST_INIT);
    ASSERT_EQ(event_add(&ev, nullptr), 0);
    EXPECT_EQ(flags_of(&ev), EVLIST_INIT | EVLIST_INSERTED);
    event_del(&ev);
    event_base_free(b);
}

TEST(EventStruct, InitializedTestsTheInitBit) {
    event ev;
    memset(&ev, 0, sizeof ev);
    EXPECT_FALSE(event_initialized(&ev));
    event_base *b = event_base_new();
    evtimer_assign(&ev, b, record_cb, nullptr);
    EXPECT_TRUE(event_initialized(&ev));
    EXPECT_TRUE(evtimer_initialized(&ev));
    event_base_free(b);
}

TEST(EventStruct, FieldsWrittenBetweenDelAndAddAreUsed) {
    // unbound writes ev_fd and ev_events directly between event_del and event_add.
    event_base *b = event_base_new();
    conf::SocketPair a, c;
    Recorder rec;
    Tagged t{&rec, 1};
    event ev;
    event_assign(&ev, b, a[0], EV_READ | EV_PERSIST, record_cb, &t);
    event_add(&ev, nullptr);
    event_del(&ev);
    ev.ev_fd = c[0];
    ev.ev_events = EV_READ | EV_PERSIST;
    ASSERT_EQ(event_add(&ev, nullptr), 0);
    write_byte(a[1]);
    event_base_loop(b, EVLOOP_NONBLOCK);
    EXPECT_EQ(rec.calls.size(), 0u);
    write_byte(c[1]);
    ASSERT_TRUE(run_until(b, [&] { return rec.calls.size() == 1; }));
    event_del(&ev);
    event_base_free(b);
}

TEST(EventStruct, GettersReturnTheAssignment) {
    event_base *b = event_base_new();
    int arg = 0;
    event *ev = event_new(b, 7, EV_WRITE | EV_PERSIST, record_cb, &arg);
    ASSERT_NE(ev, nullptr);
    EXPECT_EQ(event_get_fd(ev), 7);
    EXPECT_EQ(event_get_base(ev), b);
    EXPECT_EQ(event_get_events(ev), EV_WRITE | EV_PERSIST);
    EXPECT_EQ(event_get_callback(ev), &record_cb);
    EXPECT_EQ(event_get_callback_arg(ev), &arg);
    EXPECT_EQ(event_get_priority(ev), 0);
    event_base *ob = nullptr;
    evutil_socket_t fd = 0;
    short evs = 0;
    event_callback_fn cb = nullptr;
    void *a = nullptr;
    event_get_assignment(ev, &ob, &fd, &evs, &cb, &a);
    EXPECT_EQ(ob, b);
    EXPECT_EQ(fd, 7);
    EXPECT_EQ(evs, EV_WRITE | EV_PERSIST);
    EXPECT_EQ(cb, &record_cb);
    EXPECT_EQ(a, &arg);
    event_get_assignment(ev, nullptr, nullptr, nullptr, nullptr, nullptr);
    event_free(ev);
    event_base_free(b);
}

static void self_cb(evutil_socket_t, short, void *) {}

TEST(EventStruct, SelfCbargPassesTheEventItself) {
    event_base *b = event_base_new();
    event *ev = evtimer_new(b, self_cb, event_self_cbarg());
    ASSERT_NE(ev, nullptr);
    EXPECT_EQ(event_get_callback_arg(ev), ev);
    event_free(ev);
    event_base_free(b);
}
