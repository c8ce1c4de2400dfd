// libevent_pthreads: evthread_use_pthreads(), built only on the public thread.h API of
// libevent_core (like any third-party lock provider would be).
//
// reevent's own objects lock whether or not this is called; it installs pthread-based
// callbacks for the locks and conditions a program asks the library to use on its behalf,
// and pthread_self() as the thread id. Memory comes from the event_set_mem_functions hooks,
// through the allocation helpers libevent_core exports for its add-on libraries.
#include <event2/thread.h>

#include "core/mm_abi.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

namespace {

void *lock_alloc(unsigned locktype) {
    auto *m = static_cast<pthread_mutex_t *>(event_mm_malloc_(sizeof(pthread_mutex_t)));
    if (!m) return nullptr;
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (locktype & EVTHREAD_LOCKTYPE_RECURSIVE)
        pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int r = pthread_mutex_init(m, &attr);
    pthread_mutexattr_destroy(&attr);
    if (r != 0) {
        event_mm_free_(m);
        return nullptr;
    }
    return m;
}

void lock_free(void *lock, unsigned) {
    auto *m = static_cast<pthread_mutex_t *>(lock);
    pthread_mutex_destroy(m);
    event_mm_free_(m);
}

int lock_lock(unsigned mode, void *lock) {
    auto *m = static_cast<pthread_mutex_t *>(lock);
    return (mode & EVTHREAD_TRY) ? pthread_mutex_trylock(m) : pthread_mutex_lock(m);
}

int lock_unlock(unsigned, void *lock) {
    return pthread_mutex_unlock(static_cast<pthread_mutex_t *>(lock));
}

void *cond_alloc(unsigned) {
    auto *c = static_cast<pthread_cond_t *>(event_mm_malloc_(sizeof(pthread_cond_t)));
    if (!c) return nullptr;
    if (pthread_cond_init(c, nullptr) != 0) {
        event_mm_free_(c);
        return nullptr;
    }
    return c;
}

void cond_free(void *cond) {
    auto *c = static_cast<pthread_cond_t *>(cond);
    pthread_cond_destroy(c);
    event_mm_free_(c);
}

int cond_signal(void *cond, int broadcast) {
    auto *c = static_cast<pthread_cond_t *>(cond);
    return (broadcast ? pthread_cond_broadcast(c) : pthread_cond_signal(c)) == 0 ? 0 : -1;
}

// timeout is an interval; pthread wants an absolute CLOCK_REALTIME deadline.
int cond_wait(void *cond, void *lock, const struct timeval *timeout) {
    auto *c = static_cast<pthread_cond_t *>(cond);
    auto *m = static_cast<pthread_mutex_t *>(lock);
    if (!timeout) return pthread_cond_wait(c, m) == 0 ? 0 : -1;
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    timespec until;
    until.tv_sec = now.tv_sec + timeout->tv_sec;
    long nsec = now.tv_nsec + timeout->tv_usec * 1000L;
    until.tv_sec += nsec / 1000000000L;
    until.tv_nsec = nsec % 1000000000L;
    int r = pthread_cond_timedwait(c, m, &until);
    if (r == ETIMEDOUT) return 1;
    return r == 0 ? 0 : -1;
}

unsigned long thread_id() { return static_cast<unsigned long>(pthread_self()); }

}  // namespace

extern "C" int evthread_use_pthreads(void) {
    static const evthread_lock_callbacks locks = {
        EVTHREAD_LOCK_API_VERSION, EVTHREAD_LOCKTYPE_RECURSIVE,
        lock_alloc, lock_free, lock_lock, lock_unlock,
    };
    static const evthread_condition_callbacks conds = {
        EVTHREAD_CONDITION_API_VERSION, cond_alloc, cond_free, cond_signal, cond_wait,
    };
    // As in libevent, success even if other callbacks were installed first (their refusal
    // was logged): the program's own choice stays in force, and reevent locks regardless.
    evthread_set_lock_callbacks(&locks);
    evthread_set_condition_callbacks(&conds);
    evthread_set_id_callback(thread_id);
    return 0;
}
