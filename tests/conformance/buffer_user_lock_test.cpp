// evbuffer_enable_locking with a lock the program allocated through its own
// evthread_set_lock_callbacks: the buffer locks and unlocks it through those callbacks,
// balanced. Its own executable, because lock callbacks can be installed only once.
#include "buffer_test_util.h"
#include "helpers.h"

#include <event2/thread.h>

#include <pthread.h>

#include <atomic>
#include <thread>

using buftest::make;

namespace {
std::atomic<int> g_locks{0}, g_unlocks{0};

void *lock_alloc(unsigned) {
    auto *m = new pthread_mutex_t;
    conf::init_recursive_mutex(m);
    return m;
}
void lock_free(void *l, unsigned) {
    pthread_mutex_destroy(static_cast<pthread_mutex_t *>(l));
    delete static_cast<pthread_mutex_t *>(l);
}
int lock_lock(unsigned, void *l) {
    ++g_locks;
    return pthread_mutex_lock(static_cast<pthread_mutex_t *>(l));
}
int lock_unlock(unsigned, void *l) {
    ++g_unlocks;
    return pthread_mutex_unlock(static_cast<pthread_mutex_t *>(l));
}

bool install() {
    static const evthread_lock_callbacks cbs = {EVTHREAD_LOCK_API_VERSION,
                                                EVTHREAD_LOCKTYPE_RECURSIVE, lock_alloc,
                                                lock_free, lock_lock, lock_unlock};
    static bool ok = evthread_set_lock_callbacks(&cbs) == 0;
    return ok;
}
}  // namespace

TEST(BufferUserLock, OperationsGoThroughTheUsersLockCallbacks) {
    ASSERT_TRUE(install());
    void *mine = lock_alloc(EVTHREAD_LOCKTYPE_RECURSIVE);
    {
        auto b = make();
        ASSERT_EQ(evbuffer_enable_locking(b.get(), mine), 0);
        int l0 = g_locks, u0 = g_unlocks;
        evbuffer_add(b.get(), "abc", 3);
        char out[3];
        evbuffer_remove(b.get(), out, 3);
        EXPECT_GT(g_locks - l0, 0);
        EXPECT_EQ(g_locks - l0, g_unlocks - u0);
        // evbuffer_lock takes the same user lock.
        l0 = g_locks;
        evbuffer_lock(b.get());
        EXPECT_EQ(g_locks - l0, 1);
        evbuffer_unlock(b.get());
    }
    lock_free(mine, EVTHREAD_LOCKTYPE_RECURSIVE);
}

TEST(BufferUserLock, UserLockSerializesThreads) {
    ASSERT_TRUE(install());
    void *mine = lock_alloc(EVTHREAD_LOCKTYPE_RECURSIVE);
    {
        auto b = make();
        ASSERT_EQ(evbuffer_enable_locking(b.get(), mine), 0);
        std::thread t1([&] { for (int i = 0; i < 20000; ++i) evbuffer_add(b.get(), "ab", 2); });
        std::thread t2([&] { for (int i = 0; i < 20000; ++i) evbuffer_add(b.get(), "ab", 2); });
        t1.join();
        t2.join();
        EXPECT_EQ(evbuffer_get_length(b.get()), 80000u);
        std::string all = buftest::contents(b.get());
        for (size_t i = 0; i < all.size(); i += 2) ASSERT_EQ(all.compare(i, 2, "ab"), 0);
    }
    lock_free(mine, EVTHREAD_LOCKTYPE_RECURSIVE);
}
