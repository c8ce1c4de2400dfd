// The two getters of thread.h's callback tables that libevent 2.1's core exports without a
// header (evthread_get_lock_callbacks, evthread_get_condition_callbacks), and the set-up
// sequence of libevent's regress case bufferevent/bufferevent_pair_release_lock, which copies
// the lock table, clears it, shuts the library down and installs tracing callbacks over the
// copy. Process-wide state: every test runs in a forked child (conf::run_in_child).
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <gtest/gtest.h>

#include <pthread.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "helpers.h"
#include "signal_support.h"

extern "C" {
struct evthread_lock_callbacks *evthread_get_lock_callbacks(void);
struct evthread_condition_callbacks *evthread_get_condition_callbacks(void);
int event_callback_activate_(struct event_base *base, struct event_callback *cb);
void event_deferred_cb_init_(struct event_callback *cb, ev_uint8_t priority,
                             void (*fn)(struct event_callback *, void *), void *arg);
}

namespace {

void *t_alloc(unsigned) {
    auto *m = static_cast<pthread_mutex_t *>(malloc(sizeof(pthread_mutex_t)));
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
    return m;
}
void t_free(void *l, unsigned) {
    pthread_mutex_destroy(static_cast<pthread_mutex_t *>(l));
    free(l);
}
int t_lock(unsigned, void *l) { return pthread_mutex_lock(static_cast<pthread_mutex_t *>(l)); }
int t_unlock(unsigned, void *l) { return pthread_mutex_unlock(static_cast<pthread_mutex_t *>(l)); }
int t_lock2(unsigned m, void *l) { return t_lock(m, l); }

const evthread_lock_callbacks kLocks = {EVTHREAD_LOCK_API_VERSION, EVTHREAD_LOCKTYPE_RECURSIVE,
                                        t_alloc, t_free, t_lock, t_unlock};

void *c_alloc(unsigned) { return malloc(sizeof(pthread_cond_t)); }
void c_free(void *c) { free(c); }
int c_signal(void *, int) { return 0; }
int c_wait(void *, void *, const timeval *) { return 0; }

const evthread_condition_callbacks kConds = {EVTHREAD_CONDITION_API_VERSION, c_alloc, c_free,
                                             c_signal, c_wait};

template <class T>
bool all_zero(const T *t) {
    T zero;
    std::memset(&zero, 0, sizeof zero);
    return std::memcmp(t, &zero, sizeof zero) == 0;
}
template <class T>
bool same(const T *a, const T &b) {
    return std::memcmp(a, &b, sizeof b) == 0;
}

TEST(ThreadInternals, LockTableShowsWhatWasSetAndIsClearedByNull) {
    EXPECT_EQ(conf::run_in_child([] {
        evthread_lock_callbacks *t = evthread_get_lock_callbacks();
        if (!t || !all_zero(t)) return 1;
        if (evthread_set_lock_callbacks(&kLocks) != 0) return 2;
        if (!same(evthread_get_lock_callbacks(), kLocks)) return 3;
        evthread_lock_callbacks other = kLocks;
        other.lock = t_lock2;
        {
            conf::LogCapture log;
            if (evthread_set_lock_callbacks(&other) != -1) return 4;  // refused, table kept
            if (!same(evthread_get_lock_callbacks(), kLocks)) return 5;
            if (evthread_set_lock_callbacks(nullptr) != 0) return 6;
            if (log.messages().size() != 2) return 7;  // both warned
        }
        if (!all_zero(evthread_get_lock_callbacks())) return 8;
        {
            conf::LogCapture log;
            if (evthread_set_lock_callbacks(nullptr) != 0) return 9;
            if (!log.messages().empty()) return 10;  // nothing set: no warning
        }
        // (Setting another table now is the release_lock sequence below: libevent needs
        // lock debugging and libevent_global_shutdown in between.)
        return 0;
    }), 0);
}

TEST(ThreadInternals, ConditionTableShowsWhatWasSet) {
    EXPECT_EQ(conf::run_in_child([] {
        evthread_condition_callbacks *t = evthread_get_condition_callbacks();
        if (!t || !all_zero(t)) return 1;
        if (evthread_set_condition_callbacks(&kConds) != 0) return 2;
        if (!same(evthread_get_condition_callbacks(), kConds)) return 3;
        {
            conf::LogCapture log;
            if (evthread_set_condition_callbacks(nullptr) != 0) return 4;
        }
        if (!all_zero(evthread_get_condition_callbacks())) return 5;
        return 0;
    }), 0);
}

// With lock debugging on (before or after the callbacks are set), the table is still the
// program's own, not the debugging wrappers.
TEST(ThreadInternals, LockDebuggingDoesNotChangeWhatTheGetterShows) {
    EXPECT_EQ(conf::run_in_child([] {
        evthread_enable_lock_debugging();
        if (evthread_set_lock_callbacks(&kLocks) != 0) return 1;
        if (evthread_set_condition_callbacks(&kConds) != 0) return 2;
        if (!same(evthread_get_lock_callbacks(), kLocks)) return 3;
        if (!same(evthread_get_condition_callbacks(), kConds)) return 4;
        return 0;
    }), 0);
    EXPECT_EQ(conf::run_in_child([] {
        if (evthread_set_lock_callbacks(&kLocks) != 0) return 1;
        evthread_enable_lock_debugging();
        if (!same(evthread_get_lock_callbacks(), kLocks)) return 3;
        return 0;
    }), 0);
}

// After evthread_use_pthreads the table holds working pthread locks.
TEST(ThreadInternals, PthreadsTableFromTheGetterWorks) {
    EXPECT_EQ(conf::run_in_child([] {
        if (evthread_use_pthreads() != 0) return 1;
        evthread_lock_callbacks c = *evthread_get_lock_callbacks();
        if (!c.alloc || !c.free || !c.lock || !c.unlock) return 2;
        if (!(c.supported_locktypes & EVTHREAD_LOCKTYPE_RECURSIVE)) return 3;
        void *l = c.alloc(EVTHREAD_LOCKTYPE_RECURSIVE);
        if (!l) return 4;
        if (c.lock(0, l) != 0 || c.lock(0, l) != 0) return 5;  // recursive
        if (c.unlock(0, l) != 0 || c.unlock(0, l) != 0) return 6;
        if (c.lock(EVTHREAD_TRY, l) != 0 || c.unlock(EVTHREAD_TRY, l) != 0) return 7;
        c.free(l, EVTHREAD_LOCKTYPE_RECURSIVE);
        evthread_condition_callbacks cc = *evthread_get_condition_callbacks();
        if (!cc.alloc_condition || !cc.wait_condition) return 8;
        return 0;
    }), 0);
}

// The release_lock regress case: tracing callbacks wrap a copy of the table; whatever locks
// the library allocates through them must be freed unlocked, and every unlock must match a
// lock. (reevent's own objects use its internal locks, so it may call none of them.)
struct Trace {
    evthread_lock_callbacks orig;
    struct Rec {
        void *lock;
        bool freed;
        int depth;
    } recs[256];
    int n = 0;
    int errors = 0;
    Rec *find(void *l) {
        for (int i = 0; i < n; ++i)
            if (recs[i].lock == l) return &recs[i];
        return nullptr;
    }
};
Trace g_trace;

void *tr_alloc(unsigned type) {
    void *l = g_trace.orig.alloc(type);
    if (g_trace.n < 256) g_trace.recs[g_trace.n++] = {l, false, 0};
    return l;
}
void tr_free(void *l, unsigned type) {
    Trace::Rec *r = g_trace.find(l);
    if (!r || r->freed || r->depth) {
        ++g_trace.errors;
        return;
    }
    r->freed = true;
    g_trace.orig.free(l, type);
}
int tr_lock(unsigned mode, void *l) {
    Trace::Rec *r = g_trace.find(l);
    if (!r || r->freed) {
        ++g_trace.errors;
        return -1;
    }
    ++r->depth;
    return g_trace.orig.lock(mode, l);
}
int tr_unlock(unsigned mode, void *l) {
    Trace::Rec *r = g_trace.find(l);
    if (!r || r->freed || !r->depth) {
        ++g_trace.errors;
        return -1;
    }
    --r->depth;
    return g_trace.orig.unlock(mode, l);
}

TEST(ThreadInternals, TracingCallbacksOverACopyOfTheTable) {
    EXPECT_EQ(conf::run_in_child([] {
        evthread_enable_lock_debugging();
        if (evthread_use_pthreads() != 0) return 1;
        std::memcpy(&g_trace.orig, evthread_get_lock_callbacks(), sizeof g_trace.orig);
        if (!g_trace.orig.alloc) return 2;
        {
            conf::LogCapture log;
            if (evthread_set_lock_callbacks(nullptr) != 0) return 3;
            libevent_global_shutdown();
            if (evthread_set_lock_callbacks(nullptr) != 0) return 4;
        }
        const evthread_lock_callbacks tracing = {EVTHREAD_LOCK_API_VERSION,
                                                 EVTHREAD_LOCKTYPE_RECURSIVE, tr_alloc, tr_free,
                                                 tr_lock, tr_unlock};
        if (evthread_set_lock_callbacks(&tracing) != 0) return 5;
        evthread_enable_lock_debugging();
        event_base *base = event_init();
        if (!base) return 6;
        bufferevent *pair[2];
        if (bufferevent_pair_new(nullptr, BEV_OPT_THREADSAFE, pair) != 0) return 7;
        if (bufferevent_write(pair[0], "hi", 2) != 0) return 9;
        bufferevent_free(pair[0]);
        bufferevent_free(pair[1]);
        if (g_trace.errors) return 10;
        {
            conf::LogCapture log;
            evthread_set_lock_callbacks(nullptr);
        }
        event_base_free(nullptr);  // the current base
        libevent_global_shutdown();
        return g_trace.errors ? 11 : 0;
    }), 0);
}

// A bare callback activated from another thread wakes the loop of a threaded base.
TEST(ThreadInternals, CallbackActivatedFromAnotherThreadRuns) {
    EXPECT_EQ(conf::run_in_child([] {
        if (evthread_use_pthreads() != 0) return 1;
        event_base *base = event_base_new();
        if (!base) return 2;
        std::atomic<int> ran{0};
        event_callback cb;
        event_deferred_cb_init_(&cb, 0, [](event_callback *, void *arg) {
            static_cast<std::atomic<int> *>(arg)->fetch_add(1);
        }, &ran);
        std::thread t([&] { event_callback_activate_(base, &cb); });
        bool ok = conf::loop_until(base, [&] { return ran.load() > 0; });
        t.join();
        event_base_free(base);
        return ok && ran.load() == 1 ? 0 : 3;
    }), 0);
}

}  // namespace
