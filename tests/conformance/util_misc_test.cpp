// util.h secure random numbers and monotonic timers.
#include <event2/util.h>
#include <gtest/gtest.h>

#include <ctime>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

namespace {

TEST(SecureRng, InitSucceedsAndBytesLookRandom) {
    EXPECT_EQ(evutil_secure_rng_init(), 0);
    std::set<std::vector<unsigned char>> seen;
    for (int i = 0; i < 64; ++i) {
        std::vector<unsigned char> buf(16, 0);
        evutil_secure_rng_get_bytes(buf.data(), buf.size());
        seen.insert(buf);
    }
    EXPECT_EQ(seen.size(), 64u);
}

TEST(SecureRng, LargeAndEmptyRequests) {
    std::vector<unsigned char> big(1 << 20, 0);
    evutil_secure_rng_get_bytes(big.data(), big.size());
    size_t counts[256] = {};
    for (unsigned char c : big) ++counts[c];
    // Each byte value should appear about 4096 times; a stuck or zeroed stream fails.
    for (size_t c : counts) {
        EXPECT_GT(c, 3000u);
        EXPECT_LT(c, 5200u);
    }
    unsigned char sentinel = 0x5a;
    evutil_secure_rng_get_bytes(&sentinel, 0);
    EXPECT_EQ(sentinel, 0x5a);
}

TEST(SecureRng, AddBytesIsAcceptedAndChangesNothingVisible) {
    const char seed[] = "some entropy from the application";
    evutil_secure_rng_add_bytes(seed, sizeof seed);
    evutil_secure_rng_add_bytes(seed, 0);
    unsigned char a[16], b[16];
    evutil_secure_rng_get_bytes(a, sizeof a);
    evutil_secure_rng_get_bytes(b, sizeof b);
    EXPECT_NE(std::memcmp(a, b, sizeof a), 0);
}

TEST(SecureRng, UrandomDeviceFileIsNotConfigurable) {
    // Built on the system arc4random (as Debian's libevent is): there is no device to choose.
    char path[] = "/dev/urandom";
    EXPECT_EQ(evutil_secure_rng_set_urandom_device_file(path), -1);
    EXPECT_EQ(evutil_secure_rng_init(), 0);
}

TEST(SecureRng, ConcurrentCallersDoNotCrash) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([] {
            unsigned char buf[64];
            for (int i = 0; i < 2000; ++i) evutil_secure_rng_get_bytes(buf, sizeof buf);
        });
    for (auto &t : threads) t.join();
}

double tv_seconds(const timeval &tv) { return tv.tv_sec + tv.tv_usec / 1e6; }

class MonotonicTimer : public ::testing::TestWithParam<int> {};

TEST_P(MonotonicTimer, NeverGoesBackwardsAndTracksElapsedTime) {
    evutil_monotonic_timer *t = evutil_monotonic_timer_new();
    ASSERT_NE(t, nullptr);
    ASSERT_EQ(evutil_configure_monotonic_time(t, GetParam()), 0);
    timeval first, prev, cur;
    ASSERT_EQ(evutil_gettime_monotonic(t, &first), 0);
    prev = first;
    for (int i = 0; i < 1000; ++i) {
        ASSERT_EQ(evutil_gettime_monotonic(t, &cur), 0);
        ASSERT_FALSE(evutil_timercmp(&cur, &prev, <));
        ASSERT_GE(cur.tv_usec, 0);
        ASSERT_LT(cur.tv_usec, 1000000);
        prev = cur;
    }
    timespec ts{0, 30 * 1000 * 1000};
    nanosleep(&ts, nullptr);
    ASSERT_EQ(evutil_gettime_monotonic(t, &cur), 0);
    double elapsed = tv_seconds(cur) - tv_seconds(first);
    // Coarse clocks tick every few ms: allow one tick either side of the 30 ms sleep.
    EXPECT_GT(elapsed, 0.020);
    EXPECT_LT(elapsed, 1.0);
    evutil_monotonic_timer_free(t);
}

INSTANTIATE_TEST_SUITE_P(Flags, MonotonicTimer,
                         ::testing::Values(0, EV_MONOT_PRECISE, EV_MONOT_FALLBACK,
                                           EV_MONOT_PRECISE | EV_MONOT_FALLBACK));

TEST(MonotonicTimerApi, PreciseClockMatchesClockMonotonic) {
    evutil_monotonic_timer *t = evutil_monotonic_timer_new();
    ASSERT_EQ(evutil_configure_monotonic_time(t, EV_MONOT_PRECISE), 0);
    timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    timeval got;
    ASSERT_EQ(evutil_gettime_monotonic(t, &got), 0);
    clock_gettime(CLOCK_MONOTONIC, &after);
    double b = before.tv_sec + before.tv_nsec / 1e9, a = after.tv_sec + after.tv_nsec / 1e9;
    EXPECT_GE(tv_seconds(got), b - 1e-6);
    EXPECT_LE(tv_seconds(got), a + 1e-6);
    evutil_monotonic_timer_free(t);
}

TEST(MonotonicTimerApi, UnknownFlagBitsAreIgnoredAndFreeNullIsSafe) {
    evutil_monotonic_timer *t = evutil_monotonic_timer_new();
    EXPECT_EQ(evutil_configure_monotonic_time(t, 0x40), 0);
    timeval tv;
    EXPECT_EQ(evutil_gettime_monotonic(t, &tv), 0);
    evutil_monotonic_timer_free(t);
    evutil_monotonic_timer_free(nullptr);
}

TEST(MonotonicTimerApi, ManyTimersAreIndependent) {
    std::vector<evutil_monotonic_timer *> timers;
    for (int i = 0; i < 100; ++i) {
        timers.push_back(evutil_monotonic_timer_new());
        ASSERT_NE(timers.back(), nullptr);
        ASSERT_EQ(evutil_configure_monotonic_time(timers.back(), i % 3), 0);
    }
    for (auto *t : timers) evutil_monotonic_timer_free(t);
}

}  // namespace
