/* Threading hooks: lock, condition-variable and thread-id callbacks, lock debugging.
 *
 * reevent (a reimplementation of the libevent 2.1.12 API) locks its own objects whether or
 * not these hooks are set; evthread_use_pthreads() (libevent_pthreads) is still accepted,
 * so programs written for libevent work unchanged. Call these before creating a base.
 * Names, signatures, constants and struct layouts match libevent 2.1.12. */
#ifndef EVENT2_THREAD_H_INCLUDED_
#define EVENT2_THREAD_H_INCLUDED_

#include <event2/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

#include <event2/event-config.h>

/* Mode bits handed to the lock/unlock callbacks. */
#define EVTHREAD_WRITE 0x04
#define EVTHREAD_READ 0x08
#define EVTHREAD_TRY 0x10

#if !defined(EVENT__DISABLE_THREAD_SUPPORT) || defined(EVENT_IN_DOXYGEN_)

#define EVTHREAD_LOCK_API_VERSION 1

/* Lock kinds a lock API can provide (recursive locks are required). */
#define EVTHREAD_LOCKTYPE_RECURSIVE 1
#define EVTHREAD_LOCKTYPE_READWRITE 2

/* A lock API, filled in by the caller and copied by the library. */
struct evthread_lock_callbacks {
    /* EVTHREAD_LOCK_API_VERSION. */
    int lock_api_version;
    /* EVTHREAD_LOCKTYPE_* bits this API supports. */
    unsigned supported_locktypes;
    /* New lock of the given type, or NULL. */
    void *(*alloc)(unsigned locktype);
    /* Releases a lock made by alloc. */
    void (*free)(void *lock, unsigned locktype);
    /* Takes the lock (mode: EVTHREAD_* bits); 0 on success. */
    int (*lock)(unsigned mode, void *lock);
    /* Releases the lock; 0 on success. */
    int (*unlock)(unsigned mode, void *lock);
};

/* Installs a lock API. NULL clears it. Returns 0, or -1 if the struct is incomplete or a
 * different API is already installed. */
EVENT2_EXPORT_SYMBOL
int evthread_set_lock_callbacks(const struct evthread_lock_callbacks *);

#define EVTHREAD_CONDITION_API_VERSION 1

struct timeval;

/* A condition-variable API, filled in by the caller and copied by the library. */
struct evthread_condition_callbacks {
    /* EVTHREAD_CONDITION_API_VERSION. */
    int condition_api_version;
    /* New condition (condtype is 0), or NULL. */
    void *(*alloc_condition)(unsigned condtype);
    /* Releases a condition. */
    void (*free_condition)(void *cond);
    /* Wakes one waiter, or all when broadcast is 1; called with the lock held. 0 or -1. */
    int (*signal_condition)(void *cond, int broadcast);
    /* Waits with `lock` held (released while waiting, held again on return); timeout NULL
     * waits forever. 0 when signalled, 1 on timeout, -1 on error. */
    int (*wait_condition)(void *cond, void *lock, const struct timeval *timeout);
};

/* Installs a condition API. NULL clears it. Returns 0, or -1 if the struct is incomplete or
 * a different API is already installed. */
EVENT2_EXPORT_SYMBOL
int evthread_set_condition_callbacks(const struct evthread_condition_callbacks *);

/* Sets the function that names the calling thread (NULL: the library's default). */
EVENT2_EXPORT_SYMBOL
void evthread_set_id_callback(unsigned long (*id_fn)(void));

#if (defined(_WIN32) && !defined(EVENT__DISABLE_THREAD_SUPPORT)) || defined(EVENT_IN_DOXYGEN_)
EVENT2_EXPORT_SYMBOL
int evthread_use_windows_threads(void);
#define EVTHREAD_USE_WINDOWS_THREADS_IMPLEMENTED 1
#endif

#if defined(EVENT__HAVE_PTHREADS) || defined(EVENT_IN_DOXYGEN_)
/* Installs pthread-based lock, condition and id callbacks. Lives in libevent_pthreads.
 * 0 on success, -1 on failure. */
EVENT2_EXPORT_SYMBOL
int evthread_use_pthreads(void);
#define EVTHREAD_USE_PTHREADS_IMPLEMENTED 1
#endif

/* Turns on checks of lock use (unlocking a lock the caller does not hold, recursive
 * misuse) for locks created from now on; a violation is fatal. */
EVENT2_EXPORT_SYMBOL
void evthread_enable_lock_debugging(void);

/* The old misspelled name of evthread_enable_lock_debugging. */
EVENT2_EXPORT_SYMBOL
void evthread_enable_lock_debuging(void);

#endif /* EVENT__DISABLE_THREAD_SUPPORT */

struct event_base;

/* Makes sure another thread can wake `base`'s loop (reevent bases always can). 0 or -1. */
EVENT2_EXPORT_SYMBOL
int evthread_make_base_notifiable(struct event_base *base);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_THREAD_H_INCLUDED_ */
