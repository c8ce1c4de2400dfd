// event_enable_debug_mode (user-needs B.14): use of a never-assigned event, re-assigning or
// unassigning an added event are fatal, as in libevent. Each case runs in a fresh process
// (death-test style "threadsafe"), because debug mode must be enabled before any base exists.
#include "event_test_util.h"

using namespace conf::ev;

namespace {
void noop_cb(evutil_socket_t, short, void *) {}

void threadsafe() { GTEST_FLAG_SET(death_test_style, "threadsafe"); }

timeval secs(int s) {
    timeval tv;
    tv.tv_sec = s;
    tv.tv_usec = 0;
    return tv;
}

void add_never_assigned() {
    event_enable_debug_mode();
    event_base *b = event_base_new();
    event ev;
    memset(&ev, 0, sizeof ev);
    ev.ev_base = b;
    timeval tv = secs(1);
    event_add(&ev, &tv);
}

void reassign_added() {
    event_enable_debug_mode();
    event_base *b = event_base_new();
    event ev;
    event_assign(&ev, b, -1, 0, record_cb, nullptr);
    timeval tv = secs(10);
    event_add(&ev, &tv);
    event_assign(&ev, b, -1, 0, record_cb, nullptr);
}

void unassign_added() {
    event_enable_debug_mode();
    event_base *b = event_base_new();
    event ev;
    event_assign(&ev, b, -1, 0, record_cb, nullptr);
    timeval tv = secs(10);
    event_add(&ev, &tv);
    event_debug_unassign(&ev);
}

void enable_too_late() {
    event_base *b = event_base_new();
    (void)b;
    event_enable_debug_mode();
}

void exit_42(int) { _exit(42); }

void fatal_goes_to_the_fatal_callback() {
    event_set_fatal_callback(exit_42);
    reassign_added();
}

void correct_use() {
    event_enable_debug_mode();
    event_base *b = event_base_new();
    event ev;
    event_assign(&ev, b, -1, 0, noop_cb, nullptr);
    timeval tv = conf::tv_ms(1);
    event_add(&ev, &tv);
    event_base_dispatch(b);
    event_assign(&ev, b, -1, 0, noop_cb, nullptr);  // not added any more: fine
    event *e2 = evtimer_new(b, noop_cb, nullptr);
    event_add(e2, &tv);
    event_free(e2);  // freeing a pending event deletes it first
    event_debug_unassign(&ev);
    event_base_free(b);
    _exit(7);
}
}  // namespace

TEST(EventDebugDeathTest, AddOfNeverAssignedEventIsFatal) {
    threadsafe();
    EXPECT_DEATH(add_never_assigned(), "");
}

TEST(EventDebugDeathTest, ReassignOfAddedEventIsFatal) {
    threadsafe();
    EXPECT_DEATH(reassign_added(), "");
}

TEST(EventDebugDeathTest, UnassignOfAddedEventIsFatal) {
    threadsafe();
    EXPECT_DEATH(unassign_added(), "");
}

TEST(EventDebugDeathTest, EnablingAfterCreatingABaseIsFatal) {
    threadsafe();
    EXPECT_DEATH(enable_too_late(), "");
}

TEST(EventDebugDeathTest, FatalErrorsCallTheFatalCallback) {
    threadsafe();
    EXPECT_EXIT(fatal_goes_to_the_fatal_callback(), ::testing::ExitedWithCode(42), "");
}

TEST(EventDebugDeathTest, CorrectUseSurvivesDebugMode) {
    threadsafe();
    EXPECT_EXIT(correct_use(), ::testing::ExitedWithCode(7), "");
}

TEST(EventDebug, UnassignClearsTheInitFlagWithoutDebugMode) {
    event_base *b = event_base_new();
    event ev;
    event_assign(&ev, b, -1, 0, record_cb, nullptr);
    event_debug_unassign(&ev);
    EXPECT_FALSE(event_initialized(&ev));
    event_base_free(b);
}
