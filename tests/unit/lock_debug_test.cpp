// Unit tests of lock debugging (core::Lock and user locks through core::evthread): misuse
// is fatal once evthread_enable_lock_debugging() ran, correct use is not. Each test turns
// debugging on inside a death-test child or accepts that it stays on (it cannot be undone).
#include "core/evthread.h"
#include "core/lock.h"

#include "../conformance/support/helpers.h"

#include <event2/thread.h>
#include <gtest/gtest.h>

#include <pthread.h>

#include <thread>

using reevent::core::Lock;
namespace evthread = reevent::core::evthread;

namespace {

class LockDebugTest : public ::testing::Test {
protected:
    void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(LockDebugTest, LocksCreatedBeforeDebuggingAreNotChecked) {
    // Runs first in this file's order only when debugging is still off.
    if (evthread::lock_debugging_enabled()) GTEST_SKIP();
    Lock l;
    EXPECT_FALSE(l.debugging());
    EXPECT_TRUE(l.held());  // nothing to check against
    l.lock();
    l.unlock();
}

TEST_F(LockDebugTest, CorrectRecursiveUseIsFine) {
    evthread::enable_lock_debugging();
    Lock l;
    ASSERT_TRUE(l.debugging());
    EXPECT_FALSE(l.held());
    l.lock();
    l.lock();
    EXPECT_TRUE(l.held());
    l.unlock();
    EXPECT_TRUE(l.held());
    l.unlock();
    EXPECT_FALSE(l.held());
    ASSERT_TRUE(l.try_lock());
    EXPECT_TRUE(l.held());
    l.unlock();
}

TEST_F(LockDebugTest, HeldIsPerThread) {
    evthread::enable_lock_debugging();
    Lock l;
    l.lock();
    bool other_sees_held = true;
    std::thread t([&] { other_sees_held = l.held(); });
    t.join();
    EXPECT_FALSE(other_sees_held);
    l.unlock();
}

TEST_F(LockDebugTest, UnlockingAnUnheldLockIsFatal) {
    EXPECT_DEATH({
        evthread::enable_lock_debugging();
        Lock l;
        l.unlock();
    }, "");
}

TEST_F(LockDebugTest, UnlockingMoreOftenThanLockingIsFatal) {
    EXPECT_DEATH({
        evthread::enable_lock_debugging();
        Lock l;
        l.lock();
        l.lock();
        l.unlock();
        l.unlock();
        l.unlock();
    }, "");
}

TEST_F(LockDebugTest, UnlockingFromANonHolderIsFatal) {
    EXPECT_DEATH({
        evthread::enable_lock_debugging();
        Lock l;
        l.lock();
        std::thread t([&] { l.unlock(); });
        t.join();
    }, "");
}

TEST_F(LockDebugTest, DestroyingAHeldLockIsFatal) {
    EXPECT_DEATH({
        evthread::enable_lock_debugging();
        Lock *l = new Lock;
        l->lock();
        delete l;
    }, "");
}

void wait_holding_twice() {
    evthread::enable_lock_debugging();
    Lock l;
    reevent::core::Cond c;
    l.lock();
    l.lock();
    timespec ts = {};
    l.wait(&c, &ts);
}

TEST_F(LockDebugTest, WaitingWithTheLockHeldTwiceIsFatal) {
    EXPECT_DEATH(wait_holding_twice(), "");
}

TEST_F(LockDebugTest, WaitKeepsBookkeepingRight) {
    evthread::enable_lock_debugging();
    Lock l;
    reevent::core::Cond c;
    bool ready = false;
    std::thread t([&] {
        l.lock();  // only possible while the waiter has released it
        ready = true;
        c.notify_all();
        l.unlock();
    });
    l.lock();
    while (!ready) l.wait(&c);
    EXPECT_TRUE(l.held());
    l.unlock();
    t.join();
    EXPECT_FALSE(l.held());
}

// User locks: the program's own lock API, checked through the side table.
void *u_alloc(unsigned) {
    auto *m = new pthread_mutex_t;
    conf::init_recursive_mutex(m);
    return m;
}
void u_free(void *l, unsigned) { delete static_cast<pthread_mutex_t *>(l); }
int u_lock(unsigned, void *l) { return pthread_mutex_lock(static_cast<pthread_mutex_t *>(l)); }
int u_unlock(unsigned, void *l) { return pthread_mutex_unlock(static_cast<pthread_mutex_t *>(l)); }
const evthread_lock_callbacks kUser = {EVTHREAD_LOCK_API_VERSION, EVTHREAD_LOCKTYPE_RECURSIVE,
                                       u_alloc, u_free, u_lock, u_unlock};

TEST_F(LockDebugTest, UserLockMisuseIsFatalAndCorrectUseIsNot) {
    ASSERT_EQ(evthread::set_lock_callbacks(&kUser), 0);
    evthread::enable_lock_debugging();
    void *lk = u_alloc(EVTHREAD_LOCKTYPE_RECURSIVE);
    EXPECT_EQ(evthread::user_lock(0, lk), 0);
    EXPECT_EQ(evthread::user_lock(0, lk), 0);
    EXPECT_EQ(evthread::user_unlock(0, lk), 0);
    EXPECT_EQ(evthread::user_unlock(0, lk), 0);
    EXPECT_DEATH(evthread::user_unlock(0, lk), "");
    u_free(lk, 0);
}

}  // namespace
