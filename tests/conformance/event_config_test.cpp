// event_config: avoided methods, required features, flags, dispatch limits.
#include <cstdlib>
#include <cstring>
#include <string>

#include "event_test_util.h"

using namespace conf::ev;

namespace {
// The method of a base made from cfg (freed again); "(no base)" when there is none.
std::string method_with(const event_config *cfg) {
    event_base *b = event_base_new_with_config(cfg);
    if (!b) return "(no base)";
    std::string method = event_base_get_method(b);
    event_base_free(b);
    return method;
}
}  // namespace

TEST(EventConfig, AvoidMethodSkipsIt) {
    event_config *cfg = event_config_new();
    ASSERT_EQ(event_config_avoid_method(cfg, "epoll"), 0);
    event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
    EXPECT_EQ(method_with(cfg), "poll");
    event_config_avoid_method(cfg, "poll");
    EXPECT_EQ(method_with(cfg), "select");
    event_config_avoid_method(cfg, "select");
    EXPECT_EQ(event_base_new_with_config(cfg), nullptr);
    event_config_free(cfg);
}

// With every method avoided there is no base, and the one warning names the public entry
// point (event_base_new goes through it too).
TEST(EventConfig, NoMethodLeftWarnsOnceNamingTheConstructor) {
    conf::LogCapture logs;
    event_config *cfg = event_config_new();
    for (const char *m : {"epoll", "poll", "select"}) event_config_avoid_method(cfg, m);
    EXPECT_EQ(event_base_new_with_config(cfg), nullptr);
    event_config_free(cfg);
    ASSERT_EQ(logs.messages().size(), 1u);
    EXPECT_EQ(logs.messages()[0].first, EVENT_LOG_WARN);
    EXPECT_EQ(logs.messages()[0].second, "event_base_new_with_config: no event mechanism available");
}

TEST(EventConfig, RequireFeaturesPicksAMethodThatHasThem) {
    event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
    ASSERT_EQ(event_config_require_features(cfg, EV_FEATURE_FDS), 0);
    EXPECT_EQ(method_with(cfg), "poll");
    event_config_require_features(cfg, EV_FEATURE_ET | EV_FEATURE_FDS);
    EXPECT_EQ(event_base_new_with_config(cfg), nullptr);
    event_config_require_features(cfg, EV_FEATURE_ET);
    EXPECT_EQ(method_with(cfg), "epoll");
    event_config_free(cfg);
}

// A timer of `ms` on b (made by evtimer_new, and with `reassign` event_assign'ed again
// before it is added) runs once; then the loop, with nothing left, returns 1.
void expect_a_timer_runs_once(event_base *b, int ms, bool reassign = false) {
    Recorder rec;
    Tagged tag{&rec, 1};
    event *t = evtimer_new(b, record_cb, reassign ? nullptr : &tag);
    if (reassign) event_assign(t, b, -1, 0, record_cb, &tag);
    timeval tv = conf::tv_ms(ms);
    event_add(t, &tv);
    EXPECT_EQ(event_base_dispatch(b), 1);
    EXPECT_EQ(rec.calls.size(), 1u);
    event_free(t);
}

TEST(EventConfig, AllFlagsAccepted) {
    for (int flag : {EVENT_BASE_FLAG_NOLOCK, EVENT_BASE_FLAG_IGNORE_ENV, EVENT_BASE_FLAG_STARTUP_IOCP,
                     EVENT_BASE_FLAG_NO_CACHE_TIME, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST,
                     EVENT_BASE_FLAG_PRECISE_TIMER}) {
        event_config *cfg = event_config_new();
        EXPECT_EQ(event_config_set_flag(cfg, flag), 0);
        EXPECT_EQ(event_config_set_num_cpus_hint(cfg, 4), 0);
        event_base *b = event_base_new_with_config(cfg);
        ASSERT_NE(b, nullptr) << flag;
        expect_a_timer_runs_once(b, 2, true);
        event_base_free(b);
        event_config_free(cfg);
    }
}

TEST(EventConfig, ChangelistFlavourIsReportedAndAvoidedAsEpoll) {
    event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST | EVENT_BASE_FLAG_IGNORE_ENV);
    EXPECT_EQ(method_with(cfg), "epoll (with changelist)");
    event_config_avoid_method(cfg, "epoll");
    EXPECT_EQ(method_with(cfg), "poll");
    event_config_free(cfg);
}

TEST(EventConfig, EnvironmentDisablesMethodsUnlessIgnored) {
    setenv("EVENT_NOEPOLL", "1", 1);
    event_base *b = event_base_new();
    ASSERT_NE(b, nullptr);
    EXPECT_STREQ(event_base_get_method(b), "poll");
    event_base_free(b);
    event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
    EXPECT_EQ(method_with(cfg), "epoll");
    event_config_free(cfg);
    setenv("EVENT_NOPOLL", "1", 1);
    b = event_base_new();
    EXPECT_STREQ(event_base_get_method(b), "select");
    event_base_free(b);
    unsetenv("EVENT_NOEPOLL");
    unsetenv("EVENT_NOPOLL");
}

TEST(EventConfig, ShowMethodLogsTheChoice) {
    conf::LogCapture logs;
    setenv("EVENT_SHOW_METHOD", "1", 1);
    event_base *b = event_base_new();
    unsetenv("EVENT_SHOW_METHOD");
    EXPECT_TRUE(logs.contains("libevent using: epoll"));
    event_base_free(b);
}

TEST(EventConfig, MaxDispatchIntervalArguments) {
    event_config *cfg = event_config_new();
    timeval tv = conf::tv_ms(10);
    EXPECT_EQ(event_config_set_max_dispatch_interval(cfg, &tv, 5, 1), 0);
    EXPECT_EQ(event_config_set_max_dispatch_interval(cfg, nullptr, -1, 0), 0);
    event_base *b = event_base_new_with_config(cfg);
    ASSERT_NE(b, nullptr);
    event_base_free(b);
    event_config_free(cfg);
}

TEST(EventConfig, NoLockBaseWorks) {
    event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    event_base *b = event_base_new_with_config(cfg);
    ASSERT_NE(b, nullptr);
    expect_a_timer_runs_once(b, 1);
    event_base_free(b);
    event_config_free(cfg);
}
