/* Stand-in for the private header some of libevent 2.1.12's test programs include, written
 * for reevent's tests/clients/libevent_programs_test.py (none of libevent's text is here).
 * The programs that test builds need only a few private helpers from it; each is defined
 * below as a static function or a macro, so a binary built with this header imports
 * nothing beyond the public API: the same header serves the build on reevent's headers and
 * the one on the system libevent's headers.
 *
 *   evutil_weakrand_seed_(state, seed)  seed a small non-cryptographic generator
 *                                       (seed 0: take it from $LIBEVENT_PROGRAMS_SEED, so
 *                                       a run can be repeated; else from time and pid)
 *   evutil_weakrand_(state)             next value, 0 .. 2^31-1
 *   evutil_make_internal_pipe_(fds)     a pipe, both ends non-blocking and close-on-exec
 *   EV_SSIZE_FMT                        printf format of an ev_ssize_t
 *   EVUTIL_SHUT_WR                      shutdown(2)'s "no more writes"
 */
#ifndef REEVENT_TEST_UTIL_INTERNAL_SHIM_H
#define REEVENT_TEST_UTIL_INTERNAL_SHIM_H

#include <event2/util.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define EV_SSIZE_FMT "%zd"
#define EVUTIL_SHUT_WR SHUT_WR

struct evutil_weakrand_state {
    ev_uint32_t seed;
};

static inline ev_uint32_t evutil_weakrand_seed_(struct evutil_weakrand_state *st,
                                                ev_uint32_t seed) {
    if (seed == 0) {
        const char *env = getenv("LIBEVENT_PROGRAMS_SEED");
        seed = env ? (ev_uint32_t)strtoul(env, NULL, 10)
                   : (ev_uint32_t)time(NULL) ^ ((ev_uint32_t)getpid() << 16);
    }
    st->seed = seed;
    return seed;
}

static inline ev_int32_t evutil_weakrand_(struct evutil_weakrand_state *st) {
    /* 32-bit xorshift; the state must not be 0. */
    ev_uint32_t x = st->seed ? st->seed : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    st->seed = x;
    return (ev_int32_t)(x & 0x7fffffffu);
}

static inline int evutil_make_internal_pipe_(evutil_socket_t fds[2]) {
    int p[2];
    if (pipe(p) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        if (fcntl(p[i], F_SETFL, fcntl(p[i], F_GETFL) | O_NONBLOCK) < 0 ||
            fcntl(p[i], F_SETFD, FD_CLOEXEC) < 0) {
            close(p[0]);
            close(p[1]);
            return -1;
        }
        fds[i] = p[i];
    }
    return 0;
}

#endif
