// event_base: creation, methods and features, counts, cached time, priorities.
#include <cstring>

#include <csignal>
#include <cstdlib>
#include <string>

#include "event_test_util.h"

#include <event2/buffer.h>
#include <event2/util.h>
#include <sys/socket.h>

using namespace conf::ev;

TEST(EventBase, NewAndFreeWithNoEvents) {
    event_base *b = event_base_new();
    ASSERT_NE(b, nullptr);
    EXPECT_NE(event_base_get_method(b), nullptr);
    EXPECT_EQ(event_base_get_npriorities(b), 1);
    event_base_free(b);
}

TEST(EventBase, SupportedMethodsListEpollPollSelectInOrder) {
    const char **m = event_get_supported_methods();
    ASSERT_NE(m, nullptr);
    std::vector<std::string> names;
    for (; *m; ++m) names.push_back(*m);
    ASSERT_GE(names.size(), 3u);
    EXPECT_EQ(names[0], "epoll");
    auto pos = [&](const char *n) { return std::find(names.begin(), names.end(), n) - names.begin(); };
    EXPECT_LT(pos("epoll"), pos("poll"));
    EXPECT_LT(pos("poll"), pos("select"));
}

TEST(EventBase, DefaultMethodIsEpollWithItsFeatures) {
    event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
    event_base *b = event_base_new_with_config(cfg);
    event_config_free(cfg);
    ASSERT_NE(b, nullptr);
    EXPECT_STREQ(event_base_get_method(b), "epoll");
    int f = event_base_get_features(b);
    EXPECT_TRUE(f & EV_FEATURE_ET);
    EXPECT_TRUE(f & EV_FEATURE_O1);
    EXPECT_TRUE(f & EV_FEATURE_EARLY_CLOSE);
    EXPECT_FALSE(f & EV_FEATURE_FDS);
    event_base_free(b);
}

TEST(EventBase, PollAndSelectSupportAnyFd) {
    for (auto &be : conf::kBackends) {
        if (std::strcmp(be.method, "epoll") == 0) continue;
        event_base *b = conf::new_base_on(be);
        ASSERT_NE(b, nullptr);
        EXPECT_TRUE(event_base_get_features(b) & EV_FEATURE_FDS) << be.label;
        EXPECT_FALSE(event_base_get_features(b) & EV_FEATURE_ET) << be.label;
        event_base_free(b);
    }
}

TEST(EventBase, GettimeofdayCachedIsCloseToNow) {
    event_base *b = event_base_new();
    timeval a, c;
    ASSERT_EQ(event_base_gettimeofday_cached(b, &a), 0);
    gettimeofday(&c, nullptr);
    EXPECT_LE(std::abs((c.tv_sec - a.tv_sec) * 1000000L + (c.tv_usec - a.tv_usec)), 100000L);
    EXPECT_EQ(event_base_update_cache_time(b), 0);
    event_base_free(b);
}

static void cached_time_cb(evutil_socket_t, short, void *arg) {
    auto *b = static_cast<event_base *>(arg);
    timeval t1, t2;
    event_base_gettimeofday_cached(b, &t1);
    usleep(3000);
    event_base_gettimeofday_cached(b, &t2);
    // Cached: the loop's time does not move while callbacks run...
    EXPECT_TRUE(t1.tv_sec == t2.tv_sec && t1.tv_usec == t2.tv_usec);
    EXPECT_EQ(event_base_update_cache_time(b), 0);
}

TEST(EventBase, TimeIsCachedDuringCallbacks) {
    event_base *b = event_base_new();
    event *t = evtimer_new(b, cached_time_cb, b);
    timeval tv = conf::tv_ms(1);
    event_add(t, &tv);
    event_base_dispatch(b);
    event_free(t);
    event_base_free(b);
}

TEST(EventBase, GettimeMonotonicAdvances) {
    event_base *b = event_base_new();
    timeval a, c;
    ASSERT_EQ(event_gettime_monotonic(b, &a), 0);
    usleep(12000);  // libevent's coarse clock ticks every ~4 ms
    ASSERT_EQ(event_gettime_monotonic(b, &c), 0);
    EXPECT_GT((c.tv_sec - a.tv_sec) * 1000000L + (c.tv_usec - a.tv_usec), 5000L);
    EXPECT_EQ(event_gettime_monotonic(nullptr, &a), -1);
    event_base_free(b);
}

TEST(EventBase, CountsAddedAndActiveEvents) {
    event_base *b = event_base_new();
    conf::SocketPair sp;
    event *r = event_new(b, sp[0], EV_READ, record_cb, nullptr);
    event *t = evtimer_new(b, record_cb, nullptr);
    EXPECT_EQ(event_base_get_num_events(b, EVENT_BASE_COUNT_ADDED), 0);
    event_add(r, nullptr);
    timeval tv = conf::tv_ms(1000);
    event_add(t, &tv);
    EXPECT_EQ(event_base_get_num_events(b, EVENT_BASE_COUNT_ADDED), 2);
    EXPECT_EQ(event_base_get_num_events(b, EVENT_BASE_COUNT_ACTIVE), 0);
    event_active(t, EV_TIMEOUT, 1);
    EXPECT_EQ(event_base_get_num_events(b, EVENT_BASE_COUNT_ACTIVE), 1);
    EXPECT_EQ(event_base_get_num_events(b, EVENT_BASE_COUNT_VIRTUAL), 0);
    EXPECT_GE(event_base_get_max_events(b, EVENT_BASE_COUNT_ADDED, 0), 2);
    event_del(r);
    event_del(t);
    EXPECT_EQ(event_base_get_num_events(b, EVENT_BASE_COUNT_ADDED), 0);
    EXPECT_EQ(event_base_get_num_events(b, EVENT_BASE_COUNT_ACTIVE), 0);
    event_base_get_max_events(b, EVENT_BASE_COUNT_ADDED, 1);
    EXPECT_EQ(event_base_get_max_events(b, EVENT_BASE_COUNT_ADDED, 0), 0);
    event_free(r);
    event_free(t);
    event_base_free(b);
}

TEST(EventBase, PriorityInitLimits) {
    event_base *b = event_base_new();
    EXPECT_EQ(event_base_priority_init(b, 0), -1);
    EXPECT_EQ(event_base_priority_init(b, EVENT_MAX_PRIORITIES), -1);
    EXPECT_EQ(event_base_priority_init(b, EVENT_MAX_PRIORITIES - 1), 0);
    EXPECT_EQ(event_base_get_npriorities(b), EVENT_MAX_PRIORITIES - 1);
    EXPECT_EQ(event_base_priority_init(b, 3), 0);
    EXPECT_EQ(event_base_get_npriorities(b), 3);
    // New events get the middle priority.
    event *e = evtimer_new(b, record_cb, nullptr);
    EXPECT_EQ(event_get_priority(e), 1);
    // Not while something is active.
    event_active(e, EV_TIMEOUT, 1);
    EXPECT_EQ(event_base_priority_init(b, 5), -1);
    event_free(e);
    event_base_free(b);
}

TEST(EventBase, EventBaseSetMovesAnUnaddedEvent) {
    event_base *b1 = event_base_new();
    event_base *b2 = event_base_new();
    event_base_priority_init(b2, 5);
    event ev;
    event_assign(&ev, b1, -1, 0, record_cb, nullptr);
    EXPECT_EQ(event_base_set(b2, &ev), 0);
    EXPECT_EQ(event_get_base(&ev), b2);
    EXPECT_EQ(event_get_priority(&ev), 2);
    timeval tv = conf::tv_ms(1000);
    event_add(&ev, &tv);
    EXPECT_EQ(event_base_set(b1, &ev), -1);  // pending: refused
    event_del(&ev);
    event_base_free(b1);
    event_base_free(b2);
}

TEST(EventBase, FreeDoesNotCloseFdsOrFreeEvents) {
    event_base *b = event_base_new();
    conf::SocketPair sp;
    event *ev = event_new(b, sp[0], EV_READ | EV_PERSIST, record_cb, nullptr);
    event_add(ev, nullptr);
    event_base_free(b);
    // The fd is still open and the event memory still ours.
    EXPECT_EQ(::write(sp[1], "x", 1), 1);
    EXPECT_EQ(event_get_fd(ev), sp[0]);
    free(ev);  // libc malloc is the default allocator on both libraries
}

// A default epoll base opens what libevent's does, in the same order: the epoll fd and the
// signal pipe (two fds), so a program's own fds get the numbers they get on libevent (and
// whatever it prints or passes around by number matches). A signal event later opens
// nothing more; without lock callbacks installed there is no wake-up fd.
TEST(EventBase, DefaultEpollBaseOpensTheEpollFdAndTheSignalPipe) {
    int before = conf::count_open_fds();
    event_base *b = event_base_new();
    ASSERT_NE(b, nullptr);
    if (std::string(event_base_get_method(b)) != "epoll") {
        event_base_free(b);
        GTEST_SKIP() << "the environment chose another method";
    }
    EXPECT_EQ(conf::count_open_fds(), before + 3);
    int first_free = dup(0);
    close(first_free);
    event *sig = evsignal_new(b, SIGUSR1, record_cb, nullptr);
    ASSERT_EQ(event_add(sig, nullptr), 0);
    EXPECT_EQ(conf::count_open_fds(), before + 3);
    int still_free = dup(0);
    EXPECT_EQ(still_free, first_free);
    close(still_free);
    event_free(sig);
    event_base_free(b);
    EXPECT_EQ(conf::count_open_fds(), before);
}

// With EVENT_BASE_FLAG_PRECISE_TIMER libevent's epoll also holds a timerfd, opened between
// the epoll fd and the signal pipe: one fd more, in that place.
TEST(EventBase, PreciseTimerEpollBaseHoldsOneFdMore) {
    int before = conf::count_open_fds();
    event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    event_base *b = event_base_new_with_config(cfg);
    event_config_free(cfg);
    ASSERT_NE(b, nullptr);
    if (std::string(event_base_get_method(b)) != "epoll") {
        event_base_free(b);
        GTEST_SKIP() << "the environment chose another method";
    }
    EXPECT_EQ(conf::count_open_fds(), before + 4);
    event_base_free(b);
    EXPECT_EQ(conf::count_open_fds(), before);
}

TEST(EventBase, NoFdLeakAfterFree) {
    int before = conf::count_open_fds();
    for (int i = 0; i < 5; ++i) {
        for (auto &be : conf::kBackends) {
            event_base *b = conf::new_base_on(be);
            ASSERT_NE(b, nullptr);
            event_base_free(b);
        }
    }
    EXPECT_EQ(conf::count_open_fds(), before);
}

// After everything is freed, libevent_global_shutdown leaves no allocation of the library's
// behind (the promise programs use to be leak-clean at exit), including buffer blocks the
// library may have kept for reuse. Counted through event_set_mem_functions in a fresh
// process, since the hooks must be set before the first allocation.
namespace {
long g_live_allocs = 0;
void *live_malloc(size_t n) {
    void *p = std::malloc(n);
    if (p) ++g_live_allocs;
    return p;
}
void *live_realloc(void *p, size_t n) {
    void *q = std::realloc(p, n);
    if (!p && q) ++g_live_allocs;
    return q;
}
void live_free(void *p) {
    if (p) --g_live_allocs;
    std::free(p);
}
[[noreturn]] void shutdown_child() {
    event_set_mem_functions(live_malloc, live_realloc, live_free);
    event_base *b = event_base_new();
    int sv[2];
    if (!b || evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) std::exit(2);
    evutil_make_socket_nonblocking(sv[0]);
    evutil_make_socket_nonblocking(sv[1]);
    // Move 256 KiB through buffers and a socket, so buffer blocks come and go.
    std::string chunk(4096, 'x');
    evbuffer *out = evbuffer_new(), *in = evbuffer_new();
    for (int round = 0; round < 64; ++round) {
        evbuffer_add(out, chunk.data(), chunk.size());
        while (evbuffer_get_length(out) > 0) {
            if (evbuffer_write(out, sv[0]) <= 0) break;
            while (evbuffer_read(in, sv[1], -1) > 0) {
            }
        }
        evbuffer_drain(in, evbuffer_get_length(in));
    }
    evbuffer_free(out);
    evbuffer_free(in);
    event *ev = event_new(b, sv[1], EV_READ | EV_PERSIST, [](evutil_socket_t, short, void *) {}, nullptr);
    event_add(ev, nullptr);
    event_base_loop(b, EVLOOP_NONBLOCK);
    event_free(ev);
    event_base_free(b);
    evutil_closesocket(sv[0]);
    evutil_closesocket(sv[1]);
    libevent_global_shutdown();
    std::exit(g_live_allocs == 0 ? 0 : 1);
}
}  // namespace

TEST(EventBase, GlobalShutdownLeavesNoAllocationBehind) {
    EXPECT_EXIT(shutdown_child(), ::testing::ExitedWithCode(0), "");
}
