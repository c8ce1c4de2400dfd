// The lock used by event_base, evbuffer and bufferevent.
//
// reevent locks by default (libevent only locks after evthread_use_pthreads(), a famous
// trap); EVENT_BASE_FLAG_NOLOCK opts a base out. Lock order, outermost first:
// event_base -> bufferevent -> evbuffer. User callbacks run with no reevent lock held.
//
// A recursive pthread mutex. A Lock created after evthread_enable_lock_debugging() also
// records its owner and depth and makes misuse fatal (as libevent's debug locks do):
// unlocking a lock the calling thread does not hold, and waiting on a condition while the
// lock is held more than once (the wait would release only one level and deadlock). Code
// that waits on a condition must use Lock::wait, not pthread_cond_wait(native()), so the
// bookkeeping stays right. Without debugging the cost is one predictable branch.
#pragma once

#include <pthread.h>
#include <time.h>

#include <atomic>

#include "core/evthread.h"

namespace reevent::core {

class Lock {
public:
    Lock() noexcept : debug_(evthread::lock_debugging_enabled()) {
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
        pthread_mutex_init(&m_, &attr);
        pthread_mutexattr_destroy(&attr);
    }
    ~Lock() {
        if (debug_) debug_check_free();
        pthread_mutex_destroy(&m_);
    }
    Lock(const Lock &) = delete;
    Lock &operator=(const Lock &) = delete;

    void lock() noexcept {
        pthread_mutex_lock(&m_);
        if (debug_) debug_note_locked();
    }
    void unlock() noexcept {
        if (debug_) debug_note_unlocking();
        pthread_mutex_unlock(&m_);
    }
    bool try_lock() noexcept {
        if (pthread_mutex_trylock(&m_) != 0) return false;
        if (debug_) debug_note_locked();
        return true;
    }
    // Waits on cond (the lock must be held exactly once; it is released while waiting and
    // held again on return). abstime: CLOCK_REALTIME deadline, or nullptr to wait forever.
    // 0, or ETIMEDOUT.
    int wait(pthread_cond_t *cond, const timespec *abstime = nullptr) noexcept;

    // With debugging: whether the calling thread holds the lock. Without: always true
    // (there is nothing to check against), so REEVENT_ASSERT(l.held()) is always safe.
    bool held() const noexcept;
    bool debugging() const noexcept { return debug_; }
    pthread_mutex_t *native() noexcept { return &m_; }

private:
    void debug_note_locked() noexcept;
    void debug_note_unlocking() noexcept;
    void debug_check_free() noexcept;

    pthread_mutex_t m_;
    const bool debug_;
    // Debug bookkeeping: written by the holder, read by anyone checking for misuse.
    std::atomic<unsigned long> owner_{0};
    std::atomic<int> depth_{0};
};

// Scoped lock that tolerates a null lock (objects created without locking).
class LockGuard {
public:
    explicit LockGuard(Lock *l) noexcept : l_(l) { if (l_) l_->lock(); }
    explicit LockGuard(Lock &l) noexcept : l_(&l) { l_->lock(); }
    ~LockGuard() { if (l_) l_->unlock(); }
    LockGuard(const LockGuard &) = delete;
    LockGuard &operator=(const LockGuard &) = delete;

private:
    Lock *l_;
};

}  // namespace reevent::core
