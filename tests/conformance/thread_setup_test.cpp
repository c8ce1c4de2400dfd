// thread.h set-up calls: lock/condition/id callbacks, evthread_use_pthreads, and lock
// debugging. These change process-wide state that cannot be undone, so every test runs in
// a forked child of a process that has not touched the library yet, and reports through
// its exit code.
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <gtest/gtest.h>

#if CONFORMANCE_HAS_EVBUFFER
#include <event2/buffer.h>
#endif

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <functional>
#include <thread>

#include "helpers.h"
#include "signal_support.h"

namespace {

// A lock API of our own that counts its use.
std::atomic<int> g_allocs{0};
void *my_alloc(unsigned) {
    g_allocs.fetch_add(1);
    auto *m = static_cast<pthread_mutex_t *>(malloc(sizeof(pthread_mutex_t)));
    conf::init_recursive_mutex(m);
    return m;
}
void my_free(void *l, unsigned) {
    pthread_mutex_destroy(static_cast<pthread_mutex_t *>(l));
    free(l);
}
int my_lock(unsigned, void *l) { return pthread_mutex_lock(static_cast<pthread_mutex_t *>(l)); }
int my_unlock(unsigned, void *l) { return pthread_mutex_unlock(static_cast<pthread_mutex_t *>(l)); }
int other_lock(unsigned m, void *l) { return my_lock(m, l); }

const evthread_lock_callbacks kMyLocks = {EVTHREAD_LOCK_API_VERSION, EVTHREAD_LOCKTYPE_RECURSIVE,
                                          my_alloc, my_free, my_lock, my_unlock};

void *my_cond_alloc(unsigned) { return malloc(sizeof(pthread_cond_t)); }
void my_cond_free(void *c) { free(c); }
int my_cond_signal(void *, int) { return 0; }
int my_cond_wait(void *, void *, const timeval *) { return 0; }
int other_cond_signal(void *, int) { return 0; }

const evthread_condition_callbacks kMyConds = {EVTHREAD_CONDITION_API_VERSION, my_cond_alloc,
                                               my_cond_free, my_cond_signal, my_cond_wait};

std::atomic<int> g_id_calls{0};
unsigned long my_id() {
    g_id_calls.fetch_add(1);
    return static_cast<unsigned long>(pthread_self());
}

// A base that works across threads: another thread activates an event, the loop runs it.
int cross_thread_round_trip() {
    event_base *base = event_base_new();
    if (!base) return 50;
    std::atomic<int> ran{0};
    event *ev = event_new(base, -1, 0, [](evutil_socket_t, short, void *arg) {
        static_cast<std::atomic<int> *>(arg)->fetch_add(1);
    }, &ran);
    std::thread t([&] { event_active(ev, EV_READ, 0); });
    bool ok = conf::loop_until(base, [&] { return ran.load() > 0; });
    t.join();
    event_free(ev);
    event_base_free(base);
    return ok ? 0 : 51;
}

TEST(ThreadSetup, UsePthreadsSucceedsAndMayBeRepeated) {
    EXPECT_EQ(conf::run_in_child([] {
        if (evthread_use_pthreads() != 0) return 1;
        if (evthread_use_pthreads() != 0) return 2;
        return cross_thread_round_trip();
    }), 0);
}

TEST(ThreadSetup, IncompleteLockCallbacksAreRefused) {
    EXPECT_EQ(conf::run_in_child([] {
        evthread_lock_callbacks cbs = kMyLocks;
        cbs.unlock = nullptr;
        if (evthread_set_lock_callbacks(&cbs) != -1) return 1;
        cbs = kMyLocks;
        cbs.alloc = nullptr;
        if (evthread_set_lock_callbacks(&cbs) != -1) return 2;
        // Nothing was installed, so a complete set is still accepted.
        if (evthread_set_lock_callbacks(&kMyLocks) != 0) return 3;
        return 0;
    }), 0);
}

TEST(ThreadSetup, LockCallbacksCannotBeChangedOnceSet) {
    EXPECT_EQ(conf::run_in_child([] {
        if (evthread_set_lock_callbacks(&kMyLocks) != 0) return 1;
        if (evthread_set_lock_callbacks(&kMyLocks) != 0) return 2;  // same again: fine
        evthread_lock_callbacks other = kMyLocks;
        other.lock = other_lock;
        conf::LogCapture log;
        if (evthread_set_lock_callbacks(&other) != -1) return 3;
        if (log.messages().empty()) return 4;  // a warning says why
        // libevent's evthread_use_pthreads reports success even though its locks were
        // refused (the installed ones stay); reevent keeps that answer.
        if (evthread_use_pthreads() != 0) return 5;
        return cross_thread_round_trip();
    }), 0);
}

TEST(ThreadSetup, LockCallbacksCanBeClearedWithNull) {
    EXPECT_EQ(conf::run_in_child([] {
        if (evthread_set_lock_callbacks(nullptr) != 0) return 1;
        if (evthread_set_lock_callbacks(&kMyLocks) != 0) return 2;
        conf::LogCapture log;
        if (evthread_set_lock_callbacks(nullptr) != 0) return 3;
        if (log.messages().empty()) return 4;  // warns that this is unlikely to work
        return 0;
    }), 0);
}

TEST(ThreadSetup, ConditionCallbacksFollowTheSameRules) {
    EXPECT_EQ(conf::run_in_child([] {
        evthread_condition_callbacks cbs = kMyConds;
        cbs.wait_condition = nullptr;
        // An incomplete set is ignored (nothing installed) yet reported as success.
        if (evthread_set_condition_callbacks(&cbs) != 0) return 1;
        if (evthread_set_condition_callbacks(&kMyConds) != 0) return 2;
        if (evthread_set_condition_callbacks(&kMyConds) != 0) return 3;
        evthread_condition_callbacks other = kMyConds;
        other.signal_condition = other_cond_signal;
        conf::LogCapture log;
        if (evthread_set_condition_callbacks(&other) != -1) return 4;
        if (evthread_set_condition_callbacks(nullptr) != 0) return 5;
        return 0;
    }), 0);
}

TEST(ThreadSetup, CustomLockAndIdCallbacksGiveAWorkingThreadedBase) {
    EXPECT_EQ(conf::run_in_child([] {
        if (evthread_set_lock_callbacks(&kMyLocks) != 0) return 1;
        if (evthread_set_condition_callbacks(&kMyConds) != 0) return 2;
        evthread_set_id_callback(my_id);
        return cross_thread_round_trip();
    }), 0);
}

TEST(ThreadSetup, MakeBaseNotifiableRejectsNullAndAcceptsBase) {
    EXPECT_EQ(conf::run_in_child([] {
        if (evthread_use_pthreads() != 0) return 1;
        if (evthread_make_base_notifiable(nullptr) != -1) return 2;
        event_base *b = event_base_new();
        if (evthread_make_base_notifiable(b) != 0) return 3;
        event_base_free(b);
        // A NOLOCK base has no wake-up fd of its own; this gives it one.
        event_config *cfg = event_config_new();
        event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
        b = event_base_new_with_config(cfg);
        event_config_free(cfg);
        if (!b) return 4;
        if (evthread_make_base_notifiable(b) != 0) return 5;
        if (evthread_make_base_notifiable(b) != 0) return 6;
        event_base_free(b);
        return 0;
    }), 0);
}

// The library's own events that event_base_foreach_event shows (flagged EVLIST_INTERNAL):
// none in a base made before any lock callbacks exist, one wake-up read event in a base made
// after evthread_use_pthreads, none in a NOLOCK base until evthread_make_base_notifiable.
int count_internal(event_base *b) {
    int n = 0;
    event_base_foreach_event(b, [](const event_base *, const event *ev, void *arg) {
        if (ev->ev_evcallback.evcb_flags & EVLIST_INTERNAL) {
            if (event_get_events(ev) != (EV_READ | EV_PERSIST) || event_get_fd(ev) < 0)
                return 1;
            ++*static_cast<int *>(arg);
        }
        return 0;
    }, &n);
    return n;
}

TEST(ThreadSetup, WakeupEventShownOnlyInBasesMadeForThreads) {
    EXPECT_EQ(conf::run_in_child([] {
        event_base *plain = event_base_new();
        if (count_internal(plain) != 0) return 1;
        event_base_free(plain);
        if (evthread_use_pthreads() != 0) return 2;
        event_base *threaded = event_base_new();
        if (count_internal(threaded) != 1) return 3;
        event_base_free(threaded);
        event_config *cfg = event_config_new();
        event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
        event_base *nolock = event_base_new_with_config(cfg);
        event_config_free(cfg);
        if (!nolock || count_internal(nolock) != 0) return 4;
        if (evthread_make_base_notifiable(nolock) != 0) return 5;
        if (count_internal(nolock) != 1) return 6;
        event_base_free(nolock);
        return 0;
    }), 0);
}

TEST(ThreadSetup, LockDebuggingAllowsCorrectThreadedUse) {
    EXPECT_EQ(conf::run_in_child([] {
        if (evthread_use_pthreads() != 0) return 1;
        evthread_enable_lock_debugging();
        return cross_thread_round_trip();
    }), 0);
}

TEST(ThreadSetup, MisspelledLockDebuggingNameWorksToo) {
    EXPECT_EQ(conf::run_in_child([] {
        if (evthread_use_pthreads() != 0) return 1;
        evthread_enable_lock_debuging();
        return cross_thread_round_trip();
    }), 0);
}

#if CONFORMANCE_HAS_EVBUFFER
// Lock debugging makes misuse of a library lock fatal; evbuffer_lock/unlock is the public
// handle on one. In a child process (stderr silenced), with pthreads locking and lock
// debugging on, misuse(buf) runs on an evbuffer that has a lock; returns the child's exit
// code (1, 2: the set-up failed; 0: the misuse was not fatal).
int lock_misuse_in_child(const std::function<void(evbuffer *)> &misuse) {
    return conf::run_in_child([&] {
        freopen("/dev/null", "w", stderr);
        if (evthread_use_pthreads() != 0) return 1;
        evthread_enable_lock_debugging();
        evbuffer *buf = evbuffer_new();
        if (!buf || evbuffer_enable_locking(buf, nullptr) != 0) return 2;
        misuse(buf);
        return 0;
    });
}

TEST(ThreadSetup, LockDebuggingAbortsOnUnlockOfUnheldLock) {
    int code = lock_misuse_in_child([](evbuffer *buf) {
        evbuffer_unlock(buf);  // never locked: fatal
    });
    EXPECT_EQ(code, 128 + SIGABRT);
}

TEST(ThreadSetup, LockDebuggingAbortsOnUnlockingMoreOftenThanLocked) {
    int code = lock_misuse_in_child([](evbuffer *buf) {
        evbuffer_lock(buf);
        evbuffer_lock(buf);  // recursive use is allowed ...
        evbuffer_unlock(buf);
        evbuffer_unlock(buf);
        evbuffer_add(buf, "x", 1);  // ... and leaves the lock usable
        evbuffer_unlock(buf);       // one unlock too many: fatal
    });
    EXPECT_EQ(code, 128 + SIGABRT);
}

TEST(ThreadSetup, LockDebuggingAbortsOnUnlockFromAnotherThread) {
    int code = lock_misuse_in_child([](evbuffer *buf) {
        evbuffer_lock(buf);
        std::thread t([&] { evbuffer_unlock(buf); });  // not the holder: fatal
        t.join();
    });
    EXPECT_EQ(code, 128 + SIGABRT);
}

TEST(ThreadSetup, WithoutLockDebuggingCorrectEvbufferLockingWorks) {
    EXPECT_EQ(conf::run_in_child([] {
        if (evthread_use_pthreads() != 0) return 1;
        evbuffer *buf = evbuffer_new();
        if (!buf || evbuffer_enable_locking(buf, nullptr) != 0) return 2;
        evbuffer_lock(buf);
        evbuffer_add(buf, "abc", 3);
        evbuffer_unlock(buf);
        int n = static_cast<int>(evbuffer_get_length(buf));
        evbuffer_free(buf);
        return n == 3 ? 0 : 3;
    }), 0);
}
#endif

}  // namespace
