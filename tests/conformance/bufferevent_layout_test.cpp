// struct bufferevent is ABI: old programs read and write its public fields. These tests pin
// the 2.1.12 layout and prove the library really uses the public slots.
#include "bufferevent_test_helpers.h"

// libevent's bufferevent_compat.h lacks extern "C" (ours has it); wrapping works for both.
extern "C" {
#include <event2/bufferevent_compat.h>
}
#include <event2/bufferevent_struct.h>
#include <event2/event_compat.h>

#include <cstddef>

namespace {

static_assert(sizeof(struct bufferevent) == 392, "struct bufferevent is 392 bytes on LP64");
static_assert(offsetof(struct bufferevent, ev_base) == 0);
static_assert(offsetof(struct bufferevent, be_ops) == 8);
static_assert(offsetof(struct bufferevent, ev_read) == 16);
static_assert(offsetof(struct bufferevent, ev_write) == 144);
static_assert(offsetof(struct bufferevent, input) == 272);
static_assert(offsetof(struct bufferevent, output) == 280);
static_assert(offsetof(struct bufferevent, wm_read) == 288);
static_assert(offsetof(struct bufferevent, wm_write) == 304);
static_assert(offsetof(struct bufferevent, readcb) == 320);
static_assert(offsetof(struct bufferevent, writecb) == 328);
static_assert(offsetof(struct bufferevent, errorcb) == 336);
static_assert(offsetof(struct bufferevent, cbarg) == 344);
static_assert(offsetof(struct bufferevent, timeout_read) == 352);
static_assert(offsetof(struct bufferevent, timeout_write) == 368);
static_assert(offsetof(struct bufferevent, enabled) == 384);
static_assert(sizeof(struct event_watermark) == 16);

static_assert(BEV_EVENT_READING == 0x01 && BEV_EVENT_WRITING == 0x02 && BEV_EVENT_EOF == 0x10 &&
              BEV_EVENT_ERROR == 0x20 && BEV_EVENT_TIMEOUT == 0x40 && BEV_EVENT_CONNECTED == 0x80);
static_assert(BEV_OPT_CLOSE_ON_FREE == 1 && BEV_OPT_THREADSAFE == 2 &&
              BEV_OPT_DEFER_CALLBACKS == 4 && BEV_OPT_UNLOCK_CALLBACKS == 8);
static_assert(BEV_NORMAL == 0 && BEV_FLUSH == 1 && BEV_FINISHED == 2);
static_assert(BEV_TRIG_IGNORE_WATERMARKS == 0x10000 && BEV_TRIG_DEFER_CALLBACKS == 4);
static_assert(BEV_OK == 0 && BEV_NEED_MORE == 1 && BEV_ERROR == 2);
static_assert(EV_RATE_LIMIT_MAX == EV_SSIZE_MAX);
static_assert(EVBUFFER_READ == 1 && EVBUFFER_WRITE == 2 && EVBUFFER_EOF == 0x10 &&
              EVBUFFER_ERROR == 0x20 && EVBUFFER_TIMEOUT == 0x40);
static_assert(sizeof(enum bufferevent_options) == 4 && sizeof(enum bufferevent_flush_mode) == 4);

class BevLayout : public conf::BackendTest {};

TEST_P(BevLayout, PublicFieldsHoldTheLiveState) {
    conf::SocketPair sp;
    bufferevent *bev = bufferevent_socket_new(base(), sp[0], 0);
    ASSERT_NE(bev, nullptr);
    EXPECT_EQ(bev->ev_base, base());
    EXPECT_EQ(bev->input, bufferevent_get_input(bev));
    EXPECT_EQ(bev->output, bufferevent_get_output(bev));
    EXPECT_EQ(bev->enabled, EV_WRITE);  // a new socket bufferevent writes, does not read
    EXPECT_EQ(event_get_fd(&bev->ev_read), sp[0]);
    EXPECT_EQ(event_get_fd(&bev->ev_write), sp[0]);
    EXPECT_EQ(event_get_base(&bev->ev_read), base());
    bufferevent_enable(bev, EV_READ);
    EXPECT_EQ(bev->enabled, EV_READ | EV_WRITE);
    EXPECT_TRUE(event_pending(&bev->ev_read, EV_READ, nullptr));
    bufferevent_setwatermark(bev, EV_WRITE, 10, 100);
    EXPECT_EQ(bev->wm_write.low, 10u);
    EXPECT_EQ(bev->wm_write.high, 100u);
    bufferevent_setwatermark(bev, EV_READ, 3, 0);
    EXPECT_EQ(bev->wm_read.low, 3u);
    timeval tr = conf::tv_ms(1500), tw = conf::tv_ms(2500);
    bufferevent_set_timeouts(bev, &tr, &tw);
    EXPECT_EQ(bev->timeout_read.tv_sec, 1);
    EXPECT_EQ(bev->timeout_read.tv_usec, 500000);
    EXPECT_EQ(bev->timeout_write.tv_sec, 2);
    int tag = 0;
    bufferevent_setcb(bev, bevtest::Recorder::read_cb, nullptr, bevtest::Recorder::event_cb, &tag);
    EXPECT_EQ(bev->readcb, &bevtest::Recorder::read_cb);
    EXPECT_EQ(bev->writecb, nullptr);
    EXPECT_EQ(bev->errorcb, &bevtest::Recorder::event_cb);
    EXPECT_EQ(bev->cbarg, &tag);
    bufferevent_free(bev);
}

// redsocks overwrites bev->readcb / writecb and calls writecb itself.
struct SlotProbe {
    int reads = 0;
    int writes = 0;
};
void slot_read(bufferevent *bev, void *p) {
    ++static_cast<SlotProbe *>(p)->reads;
    evbuffer_drain(bev->input, evbuffer_get_length(bev->input));
}
void slot_write(bufferevent *, void *p) { ++static_cast<SlotProbe *>(p)->writes; }

TEST_P(BevLayout, LibraryCallsCallbacksWrittenIntoThePublicSlots) {
    conf::SocketPair sp;
    bufferevent *bev = bufferevent_socket_new(base(), sp[0], 0);
    ASSERT_NE(bev, nullptr);
    SlotProbe probe;
    bev->readcb = slot_read;   // no bufferevent_setcb at all
    bev->writecb = slot_write;
    bev->cbarg = &probe;
    bufferevent_enable(bev, EV_READ);
    ASSERT_EQ(write(sp[1], "abc", 3), 3);
    ASSERT_TRUE(bevtest::run_until(base(), [&] { return probe.reads > 0; }));
    evbuffer_add(bev->output, "xyz", 3);
    ASSERT_TRUE(bevtest::run_until(base(), [&] { return probe.writes > 0; }));
    char buf[8];
    EXPECT_EQ(read(sp[1], buf, sizeof buf), 3);
    bev->writecb(bev, bev->cbarg);  // calling it directly is just a call
    EXPECT_EQ(probe.writes, 2);
    bufferevent_free(bev);
}

TEST_P(BevLayout, DefaultsOfANewSocketBufferevent) {
    bufferevent *bev = bufferevent_socket_new(base(), -1, 0);
    ASSERT_NE(bev, nullptr);
    EXPECT_EQ(bufferevent_getfd(bev), -1);
    EXPECT_EQ(bufferevent_get_base(bev), base());
    EXPECT_EQ(bufferevent_get_underlying(bev), nullptr);
    EXPECT_EQ(bufferevent_get_enabled(bev), EV_WRITE);
    size_t lo = 1, hi = 1;
    EXPECT_EQ(bufferevent_getwatermark(bev, EV_READ, &lo, &hi), 0);
    EXPECT_EQ(lo, 0u);
    EXPECT_EQ(hi, 0u);
    EXPECT_EQ(bufferevent_getwatermark(bev, EV_WRITE, &lo, &hi), 0);
    EXPECT_EQ(lo, 0u);
    EXPECT_EQ(hi, 0u);
    EXPECT_EQ(bufferevent_getwatermark(bev, EV_READ | EV_WRITE, &lo, &hi), -1);
    EXPECT_EQ(bufferevent_getwatermark(bev, 0, &lo, &hi), -1);
    EXPECT_EQ(bufferevent_get_max_single_read(bev), 16384);
    EXPECT_EQ(bufferevent_get_max_single_write(bev), 16384);
    EXPECT_EQ(bufferevent_get_read_limit(bev), EV_SSIZE_MAX);
    EXPECT_EQ(bufferevent_get_write_limit(bev), EV_SSIZE_MAX);
    EXPECT_EQ(bufferevent_get_max_to_read(bev), 16384);
    EXPECT_EQ(bufferevent_get_max_to_write(bev), 16384);
    EXPECT_EQ(bufferevent_get_token_bucket_cfg(bev), nullptr);
    EXPECT_EQ(bufferevent_socket_get_dns_error(bev), 0);
    bufferevent_data_cb r = bevtest::Recorder::read_cb, w = r;
    bufferevent_event_cb e = bevtest::Recorder::event_cb;
    void *arg = &r;
    bufferevent_getcb(bev, &r, &w, &e, &arg);
    EXPECT_EQ(r, nullptr);
    EXPECT_EQ(w, nullptr);
    EXPECT_EQ(e, nullptr);
    EXPECT_EQ(arg, nullptr);
    bufferevent_getcb(bev, nullptr, nullptr, nullptr, nullptr);  // all optional
    bufferevent_free(bev);
}

TEST_P(BevLayout, MaxSingleReadWriteSetAndReset) {
    bufferevent *bev = bufferevent_socket_new(base(), -1, 0);
    ASSERT_NE(bev, nullptr);
    EXPECT_EQ(bufferevent_set_max_single_read(bev, 100), 0);
    EXPECT_EQ(bufferevent_get_max_single_read(bev), 100);
    EXPECT_EQ(bufferevent_get_max_to_read(bev), 100);
    EXPECT_EQ(bufferevent_set_max_single_write(bev, 200), 0);
    EXPECT_EQ(bufferevent_get_max_single_write(bev), 200);
    EXPECT_EQ(bufferevent_get_max_to_write(bev), 200);
    EXPECT_EQ(bufferevent_set_max_single_read(bev, 0), 0);
    EXPECT_EQ(bufferevent_get_max_single_read(bev), 16384);
    EXPECT_EQ(bufferevent_set_max_single_write(bev, 0), 0);
    EXPECT_EQ(bufferevent_get_max_single_write(bev), 16384);
    bufferevent_free(bev);
}

TEST_P(BevLayout, SetfdAndGetfd) {
    conf::SocketPair sp;
    bufferevent *bev = bufferevent_socket_new(base(), -1, 0);
    ASSERT_NE(bev, nullptr);
    EXPECT_EQ(bufferevent_setfd(bev, sp[0]), 0);
    EXPECT_EQ(bufferevent_getfd(bev), sp[0]);
    EXPECT_EQ(event_get_fd(&bev->ev_read), sp[0]);
    bevtest::Recorder rec;
    rec.attach(bev);
    bufferevent_enable(bev, EV_READ);
    ASSERT_EQ(write(sp[1], "hi", 2), 2);
    ASSERT_TRUE(bevtest::run_until(base(), [&] { return rec.data == "hi"; }));
    EXPECT_EQ(bufferevent_setfd(bev, sp[1]), 0);  // the old fd is not closed
    EXPECT_EQ(bufferevent_getfd(bev), sp[1]);
    EXPECT_EQ(bufferevent_get_enabled(bev), EV_READ | EV_WRITE);
    ASSERT_EQ(write(sp[0], "yo", 2), 2);
    ASSERT_TRUE(bevtest::run_until(base(), [&] { return rec.data == "hiyo"; }));
    bufferevent_free(bev);
    EXPECT_EQ(fcntl(sp[0], F_GETFD), 0);
}

TEST_P(BevLayout, PriorityIsSetOnTheSocketEvents) {
    ASSERT_EQ(event_base_priority_init(base(), 4), 0);
    conf::SocketPair sp;
    bufferevent *bev = bufferevent_socket_new(base(), sp[0], 0);
    ASSERT_NE(bev, nullptr);
    EXPECT_EQ(bufferevent_priority_set(bev, 3), 0);
    EXPECT_EQ(bufferevent_get_priority(bev), 3);
    EXPECT_EQ(event_get_priority(&bev->ev_read), 3);
    EXPECT_EQ(event_get_priority(&bev->ev_write), 3);
    EXPECT_EQ(bufferevent_priority_set(bev, 9), -1);  // out of range
    conf::SocketPair other;
    ASSERT_EQ(bufferevent_setfd(bev, other[0]), 0);
    EXPECT_EQ(bufferevent_get_priority(bev), conf::kBevSetfdKeepsPriority ? 3 : 2);
    bufferevent_free(bev);
}

TEST_P(BevLayout, BaseSetMovesASocketBufferevent) {
    event_base *other = conf::new_base_on(GetParam());
    ASSERT_NE(other, nullptr);
    conf::SocketPair sp;
    bufferevent *bev = bufferevent_socket_new(base(), sp[0], 0);
    ASSERT_NE(bev, nullptr);
    EXPECT_EQ(bufferevent_base_set(other, bev), 0);
    EXPECT_EQ(bufferevent_get_base(bev), other);
    EXPECT_EQ(event_get_base(&bev->ev_read), other);
    bevtest::Recorder rec;
    rec.attach(bev);
    bufferevent_enable(bev, EV_READ);
    ASSERT_EQ(write(sp[1], "x", 1), 1);
    ASSERT_TRUE(bevtest::run_until(other, [&] { return rec.data == "x"; }));
    bufferevent_free(bev);
    event_base_free(other);
}

TEST_P(BevLayout, CompatBuffereventNewUsesTheCurrentBase) {
    // event_init() makes a global base; bufferevent_new() and bufferevent_settimeout() are
    // the 1.x entry points tmux and redsocks use.
    event_base *global = event_init();
    ASSERT_NE(global, nullptr);
    conf::SocketPair sp;
    bevtest::Recorder rec;
    bufferevent *bev = bufferevent_new(sp[0], bevtest::Recorder::read_cb,
                                       bevtest::Recorder::write_cb,
                                       bevtest::Recorder::event_cb, &rec);
    ASSERT_NE(bev, nullptr);
    EXPECT_EQ(bufferevent_getfd(bev), sp[0]);
    EXPECT_EQ(event_get_base(&bev->ev_read), global);
    bufferevent_settimeout(bev, 5, 7);
    EXPECT_EQ(bev->timeout_read.tv_sec, 5);
    EXPECT_EQ(bev->timeout_write.tv_sec, 7);
    bufferevent_settimeout(bev, 0, 0);
    EXPECT_EQ(bev->timeout_read.tv_sec, 0);
    bufferevent_enable(bev, EV_READ);
    ASSERT_EQ(write(sp[1], "old", 3), 3);
    ASSERT_TRUE(bevtest::run_until(global, [&] { return rec.data == "old"; }));
    EXPECT_EQ(EVBUFFER_INPUT(bev), bev->input);
    EXPECT_EQ(EVBUFFER_OUTPUT(bev), bev->output);
    bufferevent_free(bev);
    event_base_free(global);
}

TEST_P(BevLayout, LockAndUnlockNest) {
    evthread_use_pthreads();  // libevent refuses THREADSAFE without it
    bufferevent *bev = bufferevent_socket_new(base(), -1, BEV_OPT_THREADSAFE);
    ASSERT_NE(bev, nullptr);
    bufferevent_lock(bev);
    bufferevent_lock(bev);
    bufferevent_unlock(bev);
    bufferevent_unlock(bev);
    bufferevent_free(bev);
    bufferevent *plain = bufferevent_socket_new(base(), -1, 0);
    bufferevent_lock(plain);  // a no-op without THREADSAFE
    bufferevent_unlock(plain);
    bufferevent_free(plain);
}

TEST_P(BevLayout, IncrefKeepsItAliveDecrefFrees) {
    bufferevent *bev = bufferevent_socket_new(base(), -1, 0);
    ASSERT_NE(bev, nullptr);
    bufferevent_incref(bev);
    EXPECT_EQ(bufferevent_decref(bev), 0);
    bufferevent_incref(bev);
    bufferevent_free(bev);  // drops the creator's reference only
    EXPECT_EQ(bufferevent_get_enabled(bev), EV_WRITE);
    EXPECT_EQ(bufferevent_decref(bev), 1);  // the last one frees
}

CONF_INSTANTIATE_BACKENDS(BevLayout);

}  // namespace
