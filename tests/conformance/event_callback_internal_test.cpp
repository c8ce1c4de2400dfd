// The callback entries libevent 2.1's core exports without a public header: deferred
// callbacks and callback finalizers over a bare struct event_callback (event_struct.h's
// public layout), which libevent's own regress suite drives directly. No header declares
// them, so this file does, with libevent's signatures.
#include <event2/event.h>
#include <event2/event_struct.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "backend_fixture.h"

extern "C" {
typedef void (*self_cb_fn)(struct event_callback *, void *);
void event_callback_init_(struct event_base *base, struct event_callback *cb);
void event_deferred_cb_init_(struct event_callback *cb, ev_uint8_t priority, self_cb_fn fn,
                             void *arg);
void event_deferred_cb_set_priority_(struct event_callback *cb, ev_uint8_t priority);
int event_deferred_cb_schedule_(struct event_base *base, struct event_callback *cb);
void event_deferred_cb_cancel_(struct event_base *base, struct event_callback *cb);
int event_callback_activate_(struct event_base *base, struct event_callback *cb);
int event_callback_activate_nolock_(struct event_base *base, struct event_callback *cb);
int event_callback_activate_later_nolock_(struct event_base *base, struct event_callback *cb);
int event_callback_cancel_(struct event_base *base, struct event_callback *cb);
int event_callback_cancel_nolock_(struct event_base *base, struct event_callback *cb,
                                  int even_if_finalizing);
void event_callback_finalize_(struct event_base *base, unsigned flags, struct event_callback *cb,
                              self_cb_fn fn);
void event_callback_finalize_nolock_(struct event_base *base, unsigned flags,
                                     struct event_callback *cb, self_cb_fn fn);
int event_callback_finalize_many_(struct event_base *base, int n_cbs,
                                  struct event_callback **cbs, self_cb_fn fn);
}

namespace {

// What ran, in order: "cb:<name>" for a callback, "fin:<name>" for a finalizer.
struct Log {
    std::vector<std::string> seen;
};

struct Named {
    Log *log;
    std::string name;
    event_callback cb;
    event_base *base = nullptr;
    // What the callback does after logging itself (optional).
    void (*then)(Named *self) = nullptr;
};

void named_cb(event_callback *cb, void *arg) {
    auto *n = static_cast<Named *>(arg);
    EXPECT_EQ(cb, &n->cb);
    n->log->seen.push_back("cb:" + n->name);
    if (n->then) n->then(n);
}

void named_fin(event_callback *cb, void *arg) {
    auto *n = static_cast<Named *>(arg);
    EXPECT_EQ(cb, &n->cb);
    n->log->seen.push_back("fin:" + n->name);
}

using Seen = std::vector<std::string>;

// On every backend (the queues do not depend on it, but the loop's wait does).
class CallbackInternals : public conf::BackendTest {
protected:
    void make(Named &n, const char *name, int pri = 0) {
        n.log = &log_;
        n.name = name;
        n.base = base_;
        event_deferred_cb_init_(&n.cb, static_cast<ev_uint8_t>(pri), named_cb, &n);
    }
    // One round: 0 when something ran (EVLOOP_ONCE stops once the queues are empty), 1
    // when there was nothing at all to run or wait for.
    int run_once() { return event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK); }
    Log log_;
};

bool active(const event_callback &cb) { return (cb.evcb_flags & EVLIST_ACTIVE) != 0; }
bool later(const event_callback &cb) { return (cb.evcb_flags & EVLIST_ACTIVE_LATER) != 0; }

TEST_P(CallbackInternals, DeferredInitFillsTheWholeCallback) {
    event_callback cb;
    std::memset(&cb, 0xa5, sizeof cb);
    int arg = 0;
    event_deferred_cb_init_(&cb, 2, named_cb, &arg);
    EXPECT_EQ(cb.evcb_flags, 0);
    EXPECT_EQ(cb.evcb_pri, 2);
    EXPECT_EQ(cb.evcb_closure, 3);  // libevent's EV_CLOSURE_CB_SELF
    EXPECT_EQ(cb.evcb_cb_union.evcb_selfcb, named_cb);
    EXPECT_EQ(cb.evcb_arg, &arg);
    event_deferred_cb_set_priority_(&cb, 1);
    EXPECT_EQ(cb.evcb_pri, 1);
}

TEST_P(CallbackInternals, CallbackInitZeroesWithTheLeastUrgentPriority) {
    ASSERT_EQ(event_base_priority_init(base_, 5), 0);
    event_callback cb;
    std::memset(&cb, 0xa5, sizeof cb);
    event_callback_init_(base_, &cb);
    EXPECT_EQ(cb.evcb_pri, 4);
    EXPECT_EQ(cb.evcb_flags, 0);
    EXPECT_EQ(cb.evcb_closure, 0);
    EXPECT_EQ(cb.evcb_arg, nullptr);
}

TEST_P(CallbackInternals, ActivatedCallbackRunsOnceAndIsCountedMeanwhile) {
    Named a;
    make(a, "a");
    EXPECT_EQ(event_callback_activate_(base_, &a.cb), 1);
    EXPECT_EQ(event_callback_activate_(base_, &a.cb), 0);  // already active
    EXPECT_TRUE(active(a.cb));
    EXPECT_EQ(event_base_get_num_events(base_, EVENT_BASE_COUNT_ACTIVE), 1);
    EXPECT_EQ(event_base_get_num_events(base_, EVENT_BASE_COUNT_ADDED), 1);
    EXPECT_EQ(run_once(), 0);
    EXPECT_EQ(log_.seen, (Seen{"cb:a"}));
    EXPECT_EQ(a.cb.evcb_flags, 0);
    EXPECT_EQ(event_base_get_num_events(base_, EVENT_BASE_COUNT_ACTIVE), 0);
    EXPECT_EQ(event_base_get_num_events(base_, EVENT_BASE_COUNT_ADDED), 0);
    // Reusable at once.
    EXPECT_EQ(event_callback_activate_nolock_(base_, &a.cb), 1);
    EXPECT_EQ(run_once(), 0);
    EXPECT_EQ(log_.seen, (Seen{"cb:a", "cb:a"}));
    EXPECT_EQ(run_once(), 1);  // nothing left
    // A bare callback alone keeps the loop from being empty while it is queued.
    EXPECT_EQ(event_callback_activate_(base_, &a.cb), 1);
    EXPECT_EQ(event_base_loop(base_, EVLOOP_NONBLOCK), 1);  // ran, then nothing was left
    EXPECT_EQ(log_.seen.size(), 3u);
}

TEST_P(CallbackInternals, CancelledCallbackDoesNotRun) {
    Named a, b;
    make(a, "a");
    make(b, "b");
    EXPECT_EQ(event_callback_activate_(base_, &a.cb), 1);
    EXPECT_EQ(event_callback_activate_(base_, &b.cb), 1);
    EXPECT_EQ(event_callback_cancel_(base_, &a.cb), 0);  // libevent answers 0 for a bare one
    EXPECT_EQ(a.cb.evcb_flags, 0);
    EXPECT_EQ(event_callback_cancel_nolock_(base_, &a.cb, 0), 0);  // not queued: harmless
    EXPECT_EQ(run_once(), 0);
    EXPECT_EQ(log_.seen, (Seen{"cb:b"}));
}

TEST_P(CallbackInternals, HigherPriorityCallbackRunsFirst) {
    ASSERT_EQ(event_base_priority_init(base_, 3), 0);
    Named lo, hi;
    make(lo, "lo", 2);
    make(hi, "hi", 2);
    event_deferred_cb_set_priority_(&hi.cb, 0);
    EXPECT_EQ(event_callback_activate_(base_, &lo.cb), 1);
    EXPECT_EQ(event_callback_activate_(base_, &hi.cb), 1);
    EXPECT_EQ(run_once(), 0);
    EXPECT_EQ(log_.seen, (Seen{"cb:hi", "cb:lo"}));
}

// From a callback, "active later" runs after what is activated now, even if that comes
// after it; activating a callback that waits for later moves it onto the active queue.
TEST_P(CallbackInternals, ActivateLaterWaitsForTheNextRound) {
    Named first, now, lat;
    make(first, "first");
    make(now, "now");
    make(lat, "later");
    static Named *s_now, *s_lat;
    s_now = &now;
    s_lat = &lat;
    first.then = [](Named *self) {
        EXPECT_EQ(event_callback_activate_later_nolock_(self->base, &s_lat->cb), 1);
        EXPECT_EQ(event_callback_activate_later_nolock_(self->base, &s_lat->cb), 0);
        EXPECT_TRUE(later(s_lat->cb));
        EXPECT_EQ(event_callback_activate_(self->base, &s_now->cb), 1);
    };
    EXPECT_EQ(event_callback_activate_(base_, &first.cb), 1);
    EXPECT_EQ(event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
    EXPECT_EQ(log_.seen, (Seen{"cb:first", "cb:now", "cb:later"}));

    log_.seen.clear();
    EXPECT_EQ(event_callback_activate_later_nolock_(base_, &lat.cb), 1);
    EXPECT_EQ(event_callback_activate_(base_, &lat.cb), 0);  // moved, not newly queued
    EXPECT_TRUE(active(lat.cb));
    EXPECT_FALSE(later(lat.cb));
    EXPECT_EQ(event_callback_activate_later_nolock_(base_, &lat.cb), 0);  // already active
    EXPECT_EQ(run_once(), 0);
    EXPECT_EQ(log_.seen, (Seen{"cb:later"}));
}

TEST_P(CallbackInternals, ScheduledDeferredRunsOnceAndCanBeCancelled) {
    Named a, b;
    make(a, "a");
    make(b, "b");
    EXPECT_EQ(event_deferred_cb_schedule_(base_, &a.cb), 1);
    EXPECT_EQ(event_deferred_cb_schedule_(base_, &a.cb), 0);
    EXPECT_EQ(event_deferred_cb_schedule_(base_, &b.cb), 1);
    event_deferred_cb_cancel_(base_, &b.cb);
    EXPECT_EQ(b.cb.evcb_flags, 0);
    EXPECT_EQ(run_once(), 0);
    EXPECT_EQ(log_.seen, (Seen{"cb:a"}));
}

// Up to 33 deferred callbacks per loop round go on the active queues; more wait on the
// "later" queue. All of them run in the next loop.
TEST_P(CallbackInternals, ScheduleQueuesTheFirstOnesNowTheRestLater) {
    constexpr int kN = 40;
    static Named many[kN];
    for (int i = 0; i < kN; ++i) make(many[i], ("d" + std::to_string(i)).c_str());
    int now = 0, lat = 0;
    for (int i = 0; i < kN; ++i) EXPECT_EQ(event_deferred_cb_schedule_(base_, &many[i].cb), 1);
    for (int i = 0; i < kN; ++i) {
        now += active(many[i].cb);
        lat += later(many[i].cb);
    }
    EXPECT_EQ(now, 33);
    EXPECT_EQ(lat, kN - 33);
    EXPECT_TRUE(active(many[32].cb));
    EXPECT_TRUE(later(many[33].cb));
    EXPECT_EQ(run_once(), 0);
    EXPECT_EQ(log_.seen.size(), static_cast<size_t>(kN));
}

// libevent's regress finalize/cb_invoked, step one: finalized without ever being active.
TEST_P(CallbackInternals, FinalizerReplacesTheCallback) {
    Named a;
    make(a, "a");
    event_callback_finalize_(base_, 0, &a.cb, named_fin);
    EXPECT_NE(a.cb.evcb_flags & EVLIST_FINALIZING, 0);
    EXPECT_TRUE(active(a.cb));
    EXPECT_EQ(a.cb.evcb_closure, 4);  // libevent's EV_CLOSURE_CB_FINALIZE
    EXPECT_EQ(event_base_dispatch(base_), 1);  // runs until nothing is left
    EXPECT_EQ(log_.seen, (Seen{"fin:a"}));
}

// Step three of cb_invoked: active, then finalized: only the finalizer runs, once. A
// finalizing callback can be neither activated nor cancelled any more.
TEST_P(CallbackInternals, FinalizingCallbackIgnoresActivateAndCancel) {
    Named a;
    make(a, "a");
    EXPECT_EQ(event_callback_activate_(base_, &a.cb), 1);
    event_callback_finalize_(base_, 0, &a.cb, named_fin);
    EXPECT_EQ(event_callback_activate_(base_, &a.cb), 0);
    EXPECT_EQ(event_deferred_cb_schedule_(base_, &a.cb), 0);
    EXPECT_EQ(event_callback_cancel_(base_, &a.cb), 0);
    event_deferred_cb_cancel_(base_, &a.cb);
    EXPECT_TRUE(active(a.cb));
    EXPECT_EQ(event_base_dispatch(base_), 1);  // runs until nothing is left
    EXPECT_EQ(log_.seen, (Seen{"fin:a"}));
}

TEST_P(CallbackInternals, CancelEvenIfFinalizingDropsTheFinalizer) {
    Named a;
    make(a, "a");
    event_callback_finalize_nolock_(base_, 0, &a.cb, named_fin);
    EXPECT_EQ(event_callback_cancel_nolock_(base_, &a.cb, 0), 0);
    EXPECT_TRUE(active(a.cb));
    EXPECT_EQ(event_callback_cancel_nolock_(base_, &a.cb, 1), 0);
    EXPECT_FALSE(active(a.cb));
    EXPECT_EQ(run_once(), 1);  // nothing to run
    EXPECT_TRUE(log_.seen.empty());
}

TEST_P(CallbackInternals, CallbackMayFinalizeItself) {
    Named a;
    make(a, "a");
    a.then = [](Named *self) { event_callback_finalize_(self->base, 0, &self->cb, named_fin); };
    EXPECT_EQ(event_callback_activate_(base_, &a.cb), 1);
    EXPECT_EQ(event_base_dispatch(base_), 1);  // runs until nothing is left
    EXPECT_EQ(log_.seen, (Seen{"cb:a", "fin:a"}));
}

TEST_P(CallbackInternals, BaseFreeRunsPendingFinalizersButNotCallbacks) {
    Named a, b;
    make(a, "a");
    make(b, "b");
    EXPECT_EQ(event_callback_activate_(base_, &a.cb), 1);
    event_callback_finalize_(base_, 0, &b.cb, named_fin);
    event_base_free(base_);
    base_ = nullptr;
    EXPECT_EQ(log_.seen, (Seen{"fin:b"}));
}

TEST_P(CallbackInternals, BaseFreeNofinalizeDropsFinalizers) {
    Named a;
    make(a, "a");
    event_callback_finalize_(base_, 0, &a.cb, named_fin);
    event_base_free_nofinalize(base_);
    base_ = nullptr;
    EXPECT_TRUE(log_.seen.empty());
}

// With none of them running, the first gets the finalizer and the others are cancelled.
TEST_P(CallbackInternals, FinalizeManyOutsideTheLoopFinalizesTheFirst) {
    Named a, b, c;
    make(a, "a");
    make(b, "b");
    make(c, "c");
    EXPECT_EQ(event_callback_activate_(base_, &b.cb), 1);
    EXPECT_EQ(event_callback_activate_(base_, &c.cb), 1);
    event_callback *all[] = {&a.cb, &b.cb, &c.cb};
    EXPECT_EQ(event_callback_finalize_many_(base_, 3, all, named_fin), 0);
    EXPECT_EQ(b.cb.evcb_flags, 0);
    EXPECT_EQ(c.cb.evcb_flags, 0);
    EXPECT_EQ(event_base_dispatch(base_), 1);  // runs until nothing is left
    EXPECT_EQ(log_.seen, (Seen{"fin:a"}));
}

// From inside one of them: the running one gets the finalizer.
TEST_P(CallbackInternals, FinalizeManyFromACallbackFinalizesTheRunningOne) {
    Named a, b;
    make(a, "a");
    make(b, "b");
    static Named *s_b;
    s_b = &b;
    a.then = [](Named *self) {
        event_callback *all[] = {&s_b->cb, &self->cb};
        EXPECT_EQ(event_callback_finalize_many_(self->base, 2, all, named_fin), 0);
    };
    EXPECT_EQ(event_callback_activate_(base_, &a.cb), 1);
    EXPECT_EQ(event_callback_activate_(base_, &b.cb), 1);
    EXPECT_EQ(event_base_dispatch(base_), 1);  // runs until nothing is left
    EXPECT_EQ(log_.seen, (Seen{"cb:a", "fin:a"}));
}

// An event's own callback goes through the same entries: cancel deletes the event, and a
// finalizer runs instead of its callback.
int g_event_calls = 0;
void count_event(evutil_socket_t, short, void *) { ++g_event_calls; }

TEST_P(CallbackInternals, EntriesWorkOnAnEventsCallbackToo) {
    g_event_calls = 0;
    event ev;
    ASSERT_EQ(event_assign(&ev, base_, -1, 0, count_event, nullptr), 0);
    timeval tv{10, 0};
    ASSERT_EQ(event_add(&ev, &tv), 0);
    EXPECT_EQ(event_callback_cancel_(base_, &ev.ev_evcallback), 0);
    EXPECT_EQ(event_pending(&ev, EV_TIMEOUT, nullptr), 0);
    EXPECT_EQ(event_base_get_num_events(base_, EVENT_BASE_COUNT_ADDED), 0);

    Named n;  // the finalizer's argument is the event's own
    n.log = &log_;
    n.name = "ev";
    ASSERT_EQ(event_assign(&ev, base_, -1, 0, count_event, &n), 0);
    ASSERT_EQ(event_add(&ev, &tv), 0);
    event_callback_finalize_(base_, 0, &ev.ev_evcallback, [](event_callback *, void *arg) {
        static_cast<Named *>(arg)->log->seen.push_back("fin:ev");
    });
    EXPECT_EQ(event_pending(&ev, EV_TIMEOUT, nullptr), 0);
    EXPECT_EQ(event_base_dispatch(base_), 1);  // runs until nothing is left
    EXPECT_EQ(g_event_calls, 0);
    EXPECT_EQ(log_.seen, (Seen{"fin:ev"}));
}

CONF_INSTANTIATE_BACKENDS(CallbackInternals);

}  // namespace
