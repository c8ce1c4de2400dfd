// A locked evbuffer used from several threads at once: every add is atomic and no byte is
// lost or duplicated. Needs evthread_use_pthreads() on libevent (reevent locks anyway).
#include "buffer_test_util.h"

#include <event2/thread.h>

#include <atomic>
#include <thread>
#include <vector>

using buftest::make;

TEST(BufferThreads, ConcurrentAddsAndRemovesKeepEveryByteInOrder) {
    ASSERT_EQ(evthread_use_pthreads(), 0);
    auto b = make();
    ASSERT_EQ(evbuffer_enable_locking(b.get(), nullptr), 0);
    constexpr int kWriters = 3, kPerWriter = 20000;
    constexpr size_t kTotal = size_t(kWriters) * kPerWriter * 4;
    std::vector<std::thread> writers;
    for (int t = 0; t < kWriters; ++t)
        writers.emplace_back([&] {
            for (int i = 0; i < kPerWriter; ++i) ASSERT_EQ(evbuffer_add(b.get(), "abcd", 4), 0);
        });
    std::string got;
    got.reserve(kTotal);
    char chunk[97];
    for (int spins = 0; got.size() < kTotal && spins < 50000000; ++spins) {
        int n = evbuffer_remove(b.get(), chunk, sizeof chunk);
        ASSERT_GE(n, 0);
        got.append(chunk, size_t(n));
    }
    for (auto &w : writers) w.join();
    ASSERT_EQ(got.size(), kTotal);
    for (size_t i = 0; i < got.size(); i += 4) ASSERT_EQ(got.compare(i, 4, "abcd"), 0) << i;
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
}

TEST(BufferThreads, LockHeldAcrossCallsExcludesOtherThreads) {
    ASSERT_EQ(evthread_use_pthreads(), 0);
    auto b = make();
    ASSERT_EQ(evbuffer_enable_locking(b.get(), nullptr), 0);
    std::atomic<bool> added{false};
    evbuffer_lock(b.get());
    std::thread t([&] {
        evbuffer_add(b.get(), "x", 1);
        added = true;
    });
    // While we hold the lock the other thread cannot have added.
    for (int i = 0; i < 1000; ++i) std::this_thread::yield();
    EXPECT_FALSE(added.load());
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
    evbuffer_unlock(b.get());
    t.join();
    EXPECT_TRUE(added.load());
    EXPECT_EQ(evbuffer_get_length(b.get()), 1u);
}
