// core::Lock (src/core/lock.h): the futex-word recursive mutex and the biased variant used by
// event_base (plain loads/stores for the creating thread until another thread revokes the
// bias). Mutual exclusion must hold across the revocation, in every order.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <ctime>
#include <thread>
#include <vector>

#include "core/lock.h"

namespace {

using reevent::core::Cond;
using reevent::core::Lock;
using reevent::core::LockGuard;

// A counter only ever changed under the lock, with a non-atomic read-modify-write spread
// over two statements, so a missing exclusion loses updates.
struct Counter {
    volatile long value = 0;
    void bump() {
        long v = value;
        value = v + 1;
    }
};

void hammer(Lock &l, Counter &c, int n) {
    for (int i = 0; i < n; ++i) {
        LockGuard g(l);
        LockGuard again(l);  // recursive
        c.bump();
    }
}

TEST(CoreLock, PlainLockExcludesAcrossThreads) {
    Lock l;
    Counter c;
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) ts.emplace_back([&] { hammer(l, c, 50000); });
    for (auto &t : ts) t.join();
    EXPECT_EQ(c.value, 4 * 50000);
}

TEST(CoreLock, BiasedLockExcludesWhileOwnerAndOthersRace) {
    // The creating thread keeps using the lock (biased) while other threads arrive and
    // revoke the bias in the middle of its run.
    for (int round = 0; round < 20; ++round) {
        Lock l(Lock::kBiased);
        Counter c;
        std::atomic<bool> go{false};
        std::vector<std::thread> ts;
        for (int t = 0; t < 3; ++t)
            ts.emplace_back([&] {
                while (!go.load()) std::this_thread::yield();
                hammer(l, c, 20000);
            });
        hammer(l, c, 1000);  // biased, nobody else yet
        go.store(true);
        hammer(l, c, 40000);  // revoked somewhere in here
        for (auto &t : ts) t.join();
        EXPECT_EQ(c.value, 1000 + 40000 + 3 * 20000);
    }
}

TEST(CoreLock, RevokerWaitsForTheOwnerToLeaveItsCriticalSection) {
    Lock l(Lock::kBiased);
    Counter c;
    std::atomic<bool> other_in{false};
    l.lock();  // biased hold
    l.lock();
    std::thread t([&] {
        l.lock();
        other_in.store(true);
        c.bump();
        l.unlock();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(other_in.load());  // still held by the owner
    c.bump();
    l.unlock();
    EXPECT_FALSE(other_in.load());
    l.unlock();
    t.join();
    EXPECT_TRUE(other_in.load());
    EXPECT_EQ(c.value, 2);
    // After the revocation the owner goes through the futex word like everyone else.
    hammer(l, c, 10);
    EXPECT_EQ(c.value, 12);
}

TEST(CoreLock, OwnerReentersWhileARevokerWaits) {
    // The biased depth lives in the word the revoker watches: re-entry and partial
    // unlocks by the owner while a revocation is pending keep the other thread out until
    // the last unlock, and the owner's next lock goes through the futex word.
    Lock l(Lock::kBiased);
    std::atomic<bool> started{false}, other_in{false};
    l.lock();
    std::thread t([&] {
        started.store(true);
        l.lock();  // revokes, then waits for the owner to leave
        other_in.store(true);
        l.unlock();
    });
    while (!started.load()) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    l.lock();  // re-entry during the revocation
    l.lock();
    l.unlock();
    l.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    EXPECT_FALSE(other_in.load());  // still held once
    l.unlock();
    t.join();
    EXPECT_TRUE(other_in.load());
    Counter c;
    hammer(l, c, 10);
    EXPECT_EQ(c.value, 10);
}

// The event loop's hold (src/core/loop.cpp, LoopLock): lock_biased_once() at entry, then
// release_biased()/reacquire_biased() around each wait and callback while that said true,
// and the general unlock()/lock() once reacquire_biased() reports a revocation.
struct LoopHold {
    Lock &l;
    bool biased;
    explicit LoopHold(Lock &lock) : l(lock), biased(lock.lock_biased_once()) {}
    void release() {
        if (biased)
            l.release_biased();
        else
            l.unlock();
    }
    void reacquire() {
        if (biased) {
            if (l.reacquire_biased()) return;
            biased = false;
        }
        l.lock();
    }
};

TEST(CoreLock, LoopHoldIsBiasedOnlyWhenHeldOnceByTheOwner) {
    Lock l(Lock::kBiased);
    {
        LoopHold h(l);
#if !defined(__SANITIZE_THREAD__)
        EXPECT_TRUE(h.biased);  // (TSan builds never bias a lock)
#endif
        l.lock();  // re-entry from inside (a nested public call)
        l.unlock();
        h.release();
        h.reacquire();
        l.lock();
        {
            LoopHold inner(l);  // held twice: not "biased once"
            EXPECT_FALSE(inner.biased);
            inner.release();
        }
        l.unlock();
        h.release();
    }
    Lock plain;
    LoopHold p(plain);
    EXPECT_FALSE(p.biased);
    p.release();
    EXPECT_TRUE(plain.try_lock());  // really released
    plain.unlock();
}

TEST(CoreLock, LoopHoldExcludesOthersAcrossARevocation) {
    // The owner loops like event_base_loop (hold, drop around "waits", take back) while
    // other threads arrive, revoke the bias and hammer the lock.
    for (int round = 0; round < 20; ++round) {
        Lock l(Lock::kBiased);
        Counter c;
        std::atomic<bool> go{false};
        std::vector<std::thread> ts;
        for (int t = 0; t < 2; ++t)
            ts.emplace_back([&] {
                while (!go.load()) std::this_thread::yield();
                hammer(l, c, 20000);
            });
        LoopHold h(l);
        for (int i = 0; i < 40000; ++i) {
            if (i == 100) go.store(true);
            c.bump();
            h.release();
            h.reacquire();
            c.bump();
        }
        h.release();
        for (auto &t : ts) t.join();
        EXPECT_EQ(c.value, 2 * 40000 + 2 * 20000);
        EXPECT_TRUE(l.try_lock());
        l.unlock();
    }
}

TEST(CoreLock, TryLockFailsWhileAnotherThreadHoldsIt) {
    Lock l(Lock::kBiased);
    std::atomic<int> stage{0};
    std::thread t([&] {
        l.lock();
        stage.store(1);
        while (stage.load() != 2) std::this_thread::yield();
        l.unlock();
        stage.store(3);
    });
    while (stage.load() != 1) std::this_thread::yield();
    EXPECT_FALSE(l.try_lock());
    stage.store(2);
    while (stage.load() != 3) std::this_thread::yield();
    EXPECT_TRUE(l.try_lock());
    EXPECT_TRUE(l.try_lock());  // recursive
    l.unlock();
    l.unlock();
    t.join();
}

TEST(CoreLock, BiasedOwnerWaitsOnACondition) {
    Lock l(Lock::kBiased);
    Cond cond;
    bool ready = false;
    l.lock();
    std::thread t([&] {
        LockGuard g(l);  // only possible while the owner waits
        ready = true;
        cond.notify_all();
    });
    while (!ready) l.wait(&cond);
    EXPECT_TRUE(ready);
    l.unlock();
    t.join();
}

TEST(CoreLock, TimedWaitTimesOut) {
    Lock l;
    Cond cond;
    LockGuard g(l);
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    timespec until = now;
    until.tv_nsec += 20 * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_nsec -= 1000000000;
        ++until.tv_sec;
    }
    int r = 0;
    for (int i = 0; i < 100 && r == 0; ++i) r = l.wait(&cond, &until);  // spurious wake-ups
    EXPECT_EQ(r, ETIMEDOUT);
}

}  // namespace
