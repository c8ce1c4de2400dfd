/* Stand-ins for the libevent-private functions that libevent's regress suite calls and
 * that are not part of libevent's public API.  Written for reevent's test harness
 * (tests/libevent-regress/run.sh); none of this is libevent's code.
 *
 * The harness links this library after the libevent sonames, so whichever library
 * exports one of these names wins: against the system libevent every one of them comes
 * from libevent itself, against reevent only those reevent does not export come from
 * here.  Two kinds:
 *   - plain helpers of the test harness (sleep, connect, a weak random generator, a
 *     socketpair, a consistency check), given a small working version here;
 *   - functions that only exist to reach into libevent's internals; calling one aborts
 *     with its name, so the case that needs it shows up as failed (see
 *     expected-failures.txt).
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

/* --- working helpers --------------------------------------------------------------- */

/* Sleep for *tv (the harness's portable usleep). */
SHIM_EXPORT void evutil_usleep_(const struct timeval *tv)
{
    struct timespec left;
    if (!tv)
        return;
    left.tv_sec = tv->tv_sec;
    left.tv_nsec = (long)tv->tv_usec * 1000;
    while (nanosleep(&left, &left) == -1 && errno == EINTR) {
    }
}

/* Start a non-blocking connect on *fd (a new stream socket when *fd < 0).
 * 1: connected already, 0: in progress, 2: refused at once, -1: error (a socket this
 * function made is closed again). */
SHIM_EXPORT int evutil_socket_connect_(int *fd, const struct sockaddr *sa, int socklen)
{
    int made = 0;
    if (*fd < 0) {
        *fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (*fd < 0)
            return -1;
        made = 1;
    } else {
        int fl = fcntl(*fd, F_GETFL, 0);
        if (fl < 0 || fcntl(*fd, F_SETFL, fl | O_NONBLOCK) < 0)
            goto fail;
    }
    if (connect(*fd, sa, (socklen_t)socklen) == 0)
        return 1;
    if (errno == EINPROGRESS || errno == EINTR)
        return 0;
    if (errno == ECONNREFUSED)
        return 2;
fail:
    if (made) {
        close(*fd);
        *fd = -1;
    }
    return -1;
}

/* The harness's reproducible "random" numbers: a state of one 32-bit word. */
struct shim_weakrand_state {
    uint32_t seed;
};

SHIM_EXPORT uint32_t evutil_weakrand_seed_(struct shim_weakrand_state *st, uint32_t seed)
{
    if (seed == 0) {
        struct timeval now;
        gettimeofday(&now, NULL);
        seed = (uint32_t)now.tv_sec ^ (uint32_t)now.tv_usec ^ (uint32_t)getpid();
    }
    st->seed = seed;
    return seed;
}

/* A linear congruential step; the result is in [0, 2^31). */
SHIM_EXPORT int32_t evutil_weakrand_(struct shim_weakrand_state *st)
{
    st->seed = st->seed * 1664525u + 1013904223u;
    return (int32_t)(st->seed >> 1);
}

/* A number in [0, top), top > 0. */
SHIM_EXPORT int32_t evutil_weakrand_range_(struct shim_weakrand_state *st, int32_t top)
{
    if (top <= 0)
        return 0;
    return (int32_t)((uint32_t)evutil_weakrand_(st) % (uint32_t)top);
}

/* libevent's check of its own internal invariants; there is nothing of libevent's to
 * check in another library, so it checks nothing. */
SHIM_EXPORT void event_base_assert_ok_(void *base)
{
    (void)base;
}

/* There is no IOCP here (libevent answers -1 too off Windows). */
SHIM_EXPORT int event_base_start_iocp_(void *base, int n_cpus)
{
    (void)base;
    (void)n_cpus;
    return -1;
}

/* strlcpy, under the name libevent's strlcpy-internal.h maps it to. */
SHIM_EXPORT size_t event_strlcpy_(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

/* The debug-log mask that log-internal.h's event_debug() macro reads: nothing logged. */
SHIM_EXPORT uint32_t event_debug_logging_mask_ = 0;

/* The lock and condition tables that evthread-internal.h's lock macros read, in the
 * layout of the public struct evthread_lock_callbacks / evthread_condition_callbacks
 * of <event2/thread.h>.  The tests' own code (regress_thread.c ...) takes its locks
 * through them, so they are filled from the start with recursive pthread mutexes and
 * pthread conditions (against libevent, libevent's own tables are the ones used). */
struct shim_lock_callbacks {
    int lock_api_version;
    unsigned supported_locktypes;
    void *(*alloc)(unsigned locktype);
    void (*free)(void *lock, unsigned locktype);
    int (*lock)(unsigned mode, void *lock);
    int (*unlock)(unsigned mode, void *lock);
};
struct shim_condition_callbacks {
    int condition_api_version;
    void *(*alloc_condition)(unsigned condtype);
    void (*free_condition)(void *cond);
    int (*signal_condition)(void *cond, int broadcast);
    int (*wait_condition)(void *cond, void *lock, const struct timeval *timeout);
};

static void *shim_lock_alloc(unsigned locktype)
{
    pthread_mutexattr_t attr;
    pthread_mutex_t *m = malloc(sizeof *m);
    (void)locktype;
    if (!m)
        return NULL;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(m, &attr);
    pthread_mutexattr_destroy(&attr);
    return m;
}
static void shim_lock_free(void *lock, unsigned locktype)
{
    (void)locktype;
    pthread_mutex_destroy(lock);
    free(lock);
}
static int shim_lock(unsigned mode, void *lock)
{
    /* EVTHREAD_TRY (0x10) asks for a try-lock. */
    return (mode & 0x10) ? pthread_mutex_trylock(lock) : pthread_mutex_lock(lock);
}
static int shim_unlock(unsigned mode, void *lock)
{
    (void)mode;
    return pthread_mutex_unlock(lock);
}
static void *shim_cond_alloc(unsigned condtype)
{
    pthread_cond_t *c = malloc(sizeof *c);
    (void)condtype;
    if (c)
        pthread_cond_init(c, NULL);
    return c;
}
static void shim_cond_free(void *cond)
{
    pthread_cond_destroy(cond);
    free(cond);
}
static int shim_cond_signal(void *cond, int broadcast)
{
    return broadcast ? pthread_cond_broadcast(cond) : pthread_cond_signal(cond);
}
/* 0 signalled, 1 timed out, -1 error. */
static int shim_cond_wait(void *cond, void *lock, const struct timeval *timeout)
{
    int r;
    if (!timeout)
        return pthread_cond_wait(cond, lock) ? -1 : 0;
    struct timeval now;
    struct timespec until;
    gettimeofday(&now, NULL);
    until.tv_sec = now.tv_sec + timeout->tv_sec;
    until.tv_nsec = (now.tv_usec + timeout->tv_usec) * 1000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec += 1;
        until.tv_nsec -= 1000000000L;
    }
    r = pthread_cond_timedwait(cond, lock, &until);
    return r == ETIMEDOUT ? 1 : (r ? -1 : 0);
}

SHIM_EXPORT struct shim_lock_callbacks evthread_lock_fns_ = {
    1, 1 /* recursive */, shim_lock_alloc, shim_lock_free, shim_lock, shim_unlock,
};
SHIM_EXPORT struct shim_condition_callbacks evthread_cond_fns_ = {
    1, shim_cond_alloc, shim_cond_free, shim_cond_signal, shim_cond_wait,
};

/* --- libevent internals: abort -------------------------------------------------------- */

static void shim_internal(const char *name)
{
    fprintf(stderr, "libevent-regress shim: %s is libevent-internal; this library does not "
                    "export it\n", name);
    fflush(stderr);
    abort();
}

/* The parameters are only there to document the signatures. */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#define SHIM_ABORT(ret, name, params) \
    SHIM_EXPORT ret name params { shim_internal(#name); abort(); }

SHIM_ABORT(int, evhttp_str_is_chunked_, (const char *value, const char *eos))
SHIM_ABORT(int, evhttp_check_transfer_encoding_, (const char *value))
