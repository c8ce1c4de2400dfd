// event_enable_debug_mode (user-needs B.14): use of a never-assigned event, re-assigning or
// unassigning an added event are fatal, as in libevent. Each case runs in a fresh process
// (death-test style "threadsafe"), because debug mode must be enabled before any base exists.
#include <sys/socket.h>

#include <csignal>

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

// Debug mode refuses (-1 with a warning, not fatal) an fd watched both edge- and
// level-triggered; libevent checks it only in debug mode. Exit codes name the failing step.
void mix_edge_and_level() {
    event_enable_debug_mode();
    event_base *b = event_base_new();
    if (!(event_base_get_features(b) & EV_FEATURE_ET)) _exit(7);  // nothing to check
    evutil_socket_t fds[2];
    if (evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) _exit(1);
    evutil_make_socket_nonblocking(fds[0]);  // debug mode insists on it
    event *et = event_new(b, fds[0], EV_READ | EV_ET, noop_cb, nullptr);
    event *lt = event_new(b, fds[0], EV_WRITE, noop_cb, nullptr);
    if (event_add(et, nullptr) != 0) _exit(2);
    if (event_add(lt, nullptr) != -1) _exit(3);
    event_free(lt);
    event_free(et);
    event_base_free(b);
    _exit(7);
}

// Debug mode asserts that an I/O event's fd is non-blocking when the event is assigned.
void assign_blocking_fd() {
    event_enable_debug_mode();
    event_base *b = event_base_new();
    evutil_socket_t fds[2];
    if (evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) _exit(1);
    event *sig = evsignal_new(b, SIGUSR2, noop_cb, nullptr);  // signals are not checked
    if (!sig) _exit(2);
    event_free(sig);
    event *ev = event_new(b, fds[0], EV_READ, noop_cb, nullptr);  // blocking: fatal here
    (void)ev;
    _exit(3);
}

// The finalizer may reuse its event at once: by the time it runs, debug mode has already
// forgotten the old one, so event_assign + event_add in the finalizer are legal.
int g_reuse_fired = 0;
void reuse_fired_cb(evutil_socket_t, short, void *) { ++g_reuse_fired; }
void reassign_in_finalizer(event *ev, void *arg) {
    auto *b = static_cast<event_base *>(arg);
    event_assign(ev, b, -1, 0, reuse_fired_cb, nullptr);
    timeval tv = conf::tv_ms(1);
    if (event_add(ev, &tv) != 0) _exit(4);
}

void finalizer_reuses_its_event() {
    event_enable_debug_mode();
    event_base *b = event_base_new();
    event ev;
    event_assign(&ev, b, -1, 0, noop_cb, b);
    timeval tv = secs(10);
    event_add(&ev, &tv);
    if (event_finalize(0, &ev, reassign_in_finalizer) != 0) _exit(1);
    event_base_dispatch(b);  // runs the finalizer, then the re-added timer
    if (g_reuse_fired != 1) _exit(2);
    event_debug_unassign(&ev);
    event_base_free(b);
    _exit(7);
}
// A finalized event is torn down for debug mode before its finalizer runs, yet event_free
// on it stays legal (libevent keeps event_free's "is set up" check disabled for exactly
// this): from inside the finalizer, and after the loop ran it.
int g_finalized = 0;
void free_in_finalizer(event *ev, void *) {
    ++g_finalized;
    event_free(ev);
}
void count_finalizer(event *, void *) { ++g_finalized; }

void finalized_events_may_be_freed() {
    event_enable_debug_mode();
    event_base *b = event_base_new();
    event *a = event_new(b, -1, 0, noop_cb, nullptr);
    event *c = event_new(b, -1, EV_PERSIST, noop_cb, nullptr);
    timeval tv = secs(10);
    event_add(a, &tv);
    if (event_finalize(0, a, free_in_finalizer) != 0) _exit(1);
    if (event_finalize(0, c, count_finalizer) != 0) _exit(2);
    event_base_dispatch(b);
    if (g_finalized != 2) _exit(3);
    event_free(c);
    event_base_free(b);
    _exit(7);
}

// libevent_global_shutdown turns debug mode off and forgets every event it knew (libevent's
// regress dns/leak_* cases enable it, shut down and enable it again in one process): enabling
// it again is not "called twice", and an event assigned before the shutdown may still be
// added, run and deleted afterwards.
void enable_again_after_global_shutdown() {
    event_enable_debug_mode();
    libevent_global_shutdown();
    correct_use();  // enables it again (fatal "called twice" if the shutdown left it on); exits 7
}

int g_after_shutdown_fired = 0;
void after_shutdown_cb(evutil_socket_t, short, void *) { ++g_after_shutdown_fired; }

void global_shutdown_turns_debug_mode_off() {
    event_enable_debug_mode();
    event_base *b = event_base_new();
    event ev;
    event_assign(&ev, b, -1, 0, after_shutdown_cb, nullptr);
    libevent_global_shutdown();
    timeval tv = conf::tv_ms(1);
    if (event_add(&ev, &tv) != 0) _exit(1);  // not "never-assigned": debug mode is off
    event_base_dispatch(b);
    if (g_after_shutdown_fired != 1) _exit(2);
    event_assign(&ev, b, -1, 0, after_shutdown_cb, nullptr);
    if (event_add(&ev, &tv) != 0 || event_del(&ev) != 0) _exit(3);
    event_base_free(b);
    _exit(7);
}

// Each scenario runs in a child of its own (debug mode must come before any base there):
// it dies, exits with `code`, or is killed by `sig`.
void expect_dies(void (*scenario)()) {
    threadsafe();
    EXPECT_DEATH(scenario(), "");
}
void expect_exit(void (*scenario)(), int code) {
    threadsafe();
    EXPECT_EXIT(scenario(), ::testing::ExitedWithCode(code), "");
}
void expect_signal(void (*scenario)(), int sig) {
    threadsafe();
    EXPECT_EXIT(scenario(), ::testing::KilledBySignal(sig), "");
}
}  // namespace

TEST(EventDebugDeathTest, FinalizedEventsMayBeFreed) {
    expect_exit(&finalized_events_may_be_freed, 7);
}

TEST(EventDebugDeathTest, AddOfNeverAssignedEventIsFatal) { expect_dies(&add_never_assigned); }

TEST(EventDebugDeathTest, ReassignOfAddedEventIsFatal) { expect_dies(&reassign_added); }

TEST(EventDebugDeathTest, UnassignOfAddedEventIsFatal) { expect_dies(&unassign_added); }

TEST(EventDebugDeathTest, EnablingAfterCreatingABaseIsFatal) { expect_dies(&enable_too_late); }

TEST(EventDebugDeathTest, FatalErrorsCallTheFatalCallback) {
    expect_exit(&fatal_goes_to_the_fatal_callback, 42);
}

TEST(EventDebugDeathTest, CorrectUseSurvivesDebugMode) { expect_exit(&correct_use, 7); }

TEST(EventDebugDeathTest, MixingEdgeAndLevelIsRefusedInDebugMode) {
    expect_exit(&mix_edge_and_level, 7);
}

TEST(EventDebugDeathTest, IoEventOnBlockingFdIsFatal) {
    expect_signal(&assign_blocking_fd, SIGABRT);
}

TEST(EventDebugDeathTest, FinalizerMayReassignAndAddItsEvent) {
    expect_exit(&finalizer_reuses_its_event, 7);
}

TEST(EventDebugDeathTest, EnablingAgainAfterGlobalShutdownIsAllowed) {
    expect_exit(&enable_again_after_global_shutdown, 7);
}

TEST(EventDebugDeathTest, GlobalShutdownTurnsDebugModeOff) {
    expect_exit(&global_shutdown_turns_debug_mode_off, 7);
}

TEST(EventDebug, UnassignClearsTheInitFlagWithoutDebugMode) {
    event_base *b = event_base_new();
    event ev;
    event_assign(&ev, b, -1, 0, record_cb, nullptr);
    event_debug_unassign(&ev);
    EXPECT_FALSE(event_initialized(&ev));
    event_base_free(b);
}
