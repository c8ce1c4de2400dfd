// The lock used by event_base, evbuffer and bufferevent.
//
// reevent locks by default (libevent only locks after evthread_use_pthreads(), a famous
// trap); EVENT_BASE_FLAG_NOLOCK opts a base out. Lock order, outermost first:
// event_base -> bufferevent -> evbuffer. User callbacks run with no reevent lock held.
//
// This is the minimal recursive pthread mutex the other areas build on; the
// signals/fork/threads work may route it through evthread_set_lock_callbacks and lock
// debugging without changing this interface.
#pragma once

#include <pthread.h>

namespace reevent::core {

class Lock {
public:
    Lock() noexcept {
        pthread_mutexattr_t attr;
        pthread_mutexattr_init(&attr);
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
        pthread_mutex_init(&m_, &attr);
        pthread_mutexattr_destroy(&attr);
    }
    ~Lock() { pthread_mutex_destroy(&m_); }
    Lock(const Lock &) = delete;
    Lock &operator=(const Lock &) = delete;

    void lock() noexcept { pthread_mutex_lock(&m_); }
    void unlock() noexcept { pthread_mutex_unlock(&m_); }
    bool try_lock() noexcept { return pthread_mutex_trylock(&m_) == 0; }
    pthread_mutex_t *native() noexcept { return &m_; }

private:
    pthread_mutex_t m_;
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
