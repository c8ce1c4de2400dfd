// Bad input (issue section 5): each case gets an error return (and a log message where
// libevent logs one), and the base keeps working. Cases where libevent crashes or leaves the
// result undefined run on reevent only (conf::kIsReevent).
#include <climits>
#include <csignal>

#include "event_test_util.h"

using namespace conf::ev;

class EventBadInput : public conf::BackendTest {
protected:
    // The base still dispatches a timer after the bad call.
    void expect_base_works() {
        Recorder rec;
        Tagged t{&rec, 99};
        event *ok = evtimer_new(base(), record_cb, &t);
        timeval tv = conf::tv_ms(1);
        event_add(ok, &tv);
        ASSERT_TRUE(run_until(base(), [&] { return rec.count(99) == 1; }));
        event_free(ok);
    }
};

TEST_P(EventBadInput, AddWithoutBaseFailsAndLogs) {
    conf::LogCapture logs;
    event ev;
    event_assign(&ev, base(), -1, 0, record_cb, nullptr);
    ev.ev_base = nullptr;
    timeval tv = conf::tv_ms(1);
    EXPECT_EQ(event_add(&ev, &tv), -1);
    EXPECT_EQ(event_del(&ev), -1);
    EXPECT_TRUE(logs.contains("event has no event_base set"));
    expect_base_works();
}

TEST_P(EventBadInput, NeverAssignedZeroedEventIsRefused) {
    event ev;
    memset(&ev, 0, sizeof ev);
    EXPECT_EQ(event_add(&ev, nullptr), -1);
    EXPECT_EQ(event_del(&ev), -1);
    EXPECT_EQ(event_pending(&ev, EV_READ | EV_TIMEOUT, nullptr), 0);
    expect_base_works();
}

TEST_P(EventBadInput, SignalCombinedWithIoIsRefused) {
    conf::LogCapture logs;
    event ev;
    EXPECT_EQ(event_assign(&ev, base(), SIGUSR1, EV_SIGNAL | EV_READ, record_cb, nullptr), -1);
    EXPECT_EQ(event_new(base(), SIGUSR1, EV_SIGNAL | EV_WRITE, record_cb, nullptr), nullptr);
    EXPECT_TRUE(logs.contains("EV_SIGNAL is not compatible"));
    expect_base_works();
}

TEST_P(EventBadInput, ClosedFdFailsOnImmediateEpollAndNeverHangsElsewhere) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    close(fds[0]);
    close(fds[1]);
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = event_new(base(), fds[0], EV_READ, record_cb, &t);
    int r = event_add(ev, nullptr);
    if (strcmp(GetParam().label, "epoll") == 0)
        EXPECT_EQ(r, -1);  // epoll_ctl refuses at once
    else
        EXPECT_EQ(r, 0);   // found out later (changelist, poll, select)
    if (r == 0) {
        // The loop must not fail or spin forever; with poll/select the bad fd is reported.
        event_base_loop(base(), EVLOOP_NONBLOCK);
        event_del(ev);
    }
    event_free(ev);
    expect_base_works();
}

TEST_P(EventBadInput, NegativeFdIoEventIsAcceptedButNeverFires) {
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = event_new(base(), -1, EV_READ, record_cb, &t);
    EXPECT_EQ(event_add(ev, nullptr), 0);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(rec.calls.size(), 0u);
    EXPECT_EQ(event_del(ev), 0);
    event_free(ev);
    expect_base_works();
}

TEST_P(EventBadInput, NegativeTimeoutFiresImmediately) {
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = evtimer_new(base(), record_cb, &t);
    timeval neg = {-5, 0};
    EXPECT_EQ(event_add(ev, &neg), 0);
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() == 1; }, 500));
    event_free(ev);
    expect_base_works();
}

TEST_P(EventBadInput, EnormousTimeoutNeverFiresAndDoesNotBreakOtherTimers) {
    if (!conf::kIsReevent) GTEST_SKIP() << "libevent overflows the deadline (undefined)";
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = evtimer_new(base(), record_cb, &t);
    timeval huge = {LONG_MAX, 999999};
    EXPECT_EQ(event_add(ev, &huge), 0);
    EXPECT_TRUE(evtimer_pending(ev, nullptr));
    expect_base_works();
    EXPECT_EQ(rec.calls.size(), 0u);
    event_free(ev);
}

TEST_P(EventBadInput, BadSignalNumbersAreRefused) {
    if (!conf::kIsReevent) GTEST_SKIP() << "libevent aborts on some of these";
    event *ev = evsignal_new(base(), NSIG + 5, record_cb, nullptr);
    ASSERT_NE(ev, nullptr);
    EXPECT_EQ(event_add(ev, nullptr), -1);
    event_free(ev);
    ev = evsignal_new(base(), -3, record_cb, nullptr);
    EXPECT_EQ(event_add(ev, nullptr), -1);
    event_free(ev);
    expect_base_works();
}

TEST_P(EventBadInput, NullPointersAreErrorsNotCrashes) {
    if (!conf::kIsReevent) GTEST_SKIP() << "libevent dereferences NULL here";
    EXPECT_EQ(event_add(nullptr, nullptr), -1);
    EXPECT_EQ(event_del(nullptr), -1);
    EXPECT_EQ(event_pending(nullptr, EV_READ, nullptr), 0);
    event_active(nullptr, EV_READ, 1);
    EXPECT_EQ(event_base_loop(nullptr, 0), -1);
    EXPECT_EQ(event_base_dispatch(nullptr), -1);
    EXPECT_EQ(event_base_loopexit(nullptr, nullptr), -1);
    EXPECT_EQ(event_base_loopbreak(nullptr), -1);
    EXPECT_EQ(event_base_once(nullptr, -1, EV_TIMEOUT, record_cb, nullptr, nullptr), -1);
    EXPECT_EQ(event_base_once(base(), -1, EV_TIMEOUT, nullptr, nullptr, nullptr), -1);
    EXPECT_EQ(event_assign(nullptr, base(), -1, 0, record_cb, nullptr), -1);
    EXPECT_EQ(event_base_set(nullptr, nullptr), -1);
    EXPECT_EQ(event_priority_set(nullptr, 0), -1);
    EXPECT_EQ(event_base_get_method(nullptr), nullptr);
    EXPECT_EQ(event_base_init_common_timeout(base(), nullptr), nullptr);
    EXPECT_EQ(event_reinit(nullptr), -1);
    EXPECT_EQ(event_config_avoid_method(nullptr, "poll"), -1);
    EXPECT_EQ(event_config_set_flag(nullptr, 0), -1);
    event_free(nullptr);
    event_config_free(nullptr);
    expect_base_works();
}

TEST_P(EventBadInput, NonsenseFlagsAreHarmless) {
    Recorder rec;
    Tagged t{&rec, 1};
    // Unknown bits in events are kept but do nothing; unknown loop flags are ignored.
    event *ev = event_new(base(), -1, static_cast<short>(0x0100), record_cb, &t);
    ASSERT_NE(ev, nullptr);
    timeval tv = conf::tv_ms(1);
    EXPECT_EQ(event_add(ev, &tv), 0);
    EXPECT_EQ(event_base_loop(base(), 0x100), 1);
    EXPECT_EQ(rec.calls.size(), 1u);
    event_free(ev);
    expect_base_works();
}

TEST_P(EventBadInput, EventOfAnotherBaseStaysOnItsOwnBase) {
    event_base *other = conf::new_base_on(GetParam());
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = evtimer_new(other, record_cb, &t);
    timeval tv = conf::tv_ms(1);
    event_add(ev, &tv);
    EXPECT_EQ(event_base_set(base(), ev), -1);  // pending on another base: refused
    EXPECT_EQ(event_base_loop(base(), EVLOOP_NONBLOCK), 1);
    EXPECT_EQ(rec.calls.size(), 0u);
    event_base_dispatch(other);
    EXPECT_EQ(rec.calls.size(), 1u);
    event_free(ev);
    event_base_free(other);
    expect_base_works();
}

TEST_P(EventBadInput, TooManyCommonTimeoutsIsAnError) {
    const timeval *last = nullptr;
    int ok = 0;
    for (int i = 0; i < 300; ++i) {
        timeval d = {0, i + 1};
        last = event_base_init_common_timeout(base(), &d);
        if (!last) break;
        ++ok;
    }
    EXPECT_EQ(ok, 256);
    EXPECT_EQ(last, nullptr);
    expect_base_works();
}

CONF_INSTANTIATE_BACKENDS(EventBadInput);
