// Unit tests of the libevent-internal entries src/core/internal_abi.cpp and
// src/capi/thread_capi.cpp export: a bare struct event_callback on the base's own queues
// (no side state anywhere: the queue link, flags and priority are the caller's bytes), and
// the getters of the thread callback tables (the very tables core::evthread reads).
#include "core/base.h"
#include "core/deferred.h"
#include "core/evthread.h"

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <gtest/gtest.h>

#include <pthread.h>

#include <cstring>
#include <vector>

extern "C" {
typedef void (*self_cb_fn)(struct event_callback *, void *);
struct evthread_lock_callbacks *evthread_get_lock_callbacks(void);
struct evthread_condition_callbacks *evthread_get_condition_callbacks(void);
void event_deferred_cb_init_(struct event_callback *cb, ev_uint8_t priority, self_cb_fn fn,
                             void *arg);
int event_deferred_cb_schedule_(struct event_base *base, struct event_callback *cb);
int event_callback_activate_(struct event_base *base, struct event_callback *cb);
int event_callback_activate_later_nolock_(struct event_base *base, struct event_callback *cb);
int event_callback_cancel_(struct event_base *base, struct event_callback *cb);
void event_callback_finalize_(struct event_base *base, unsigned flags, struct event_callback *cb,
                              self_cb_fn fn);
}

namespace core = reevent::core;

namespace {

void note(event_callback *cb, void *arg) {
    static_cast<std::vector<event_callback *> *>(arg)->push_back(cb);
}

class BareCallback : public ::testing::Test {
protected:
    void SetUp() override {
        base_ = event_base_new();
        ASSERT_NE(base_, nullptr);
        ASSERT_EQ(event_base_priority_init(base_, 3), 0);
    }
    void TearDown() override { event_base_free(base_); }
    event_base *base_ = nullptr;
    std::vector<event_callback *> ran_;
};

TEST_F(BareCallback, ActivationLinksTheCallersStructIntoItsPriorityQueue) {
    event_callback a, b;
    event_deferred_cb_init_(&a, 1, note, &ran_);
    event_deferred_cb_init_(&b, 1, note, &ran_);
    ASSERT_EQ(event_callback_activate_(base_, &a), 1);
    ASSERT_EQ(event_callback_activate_(base_, &b), 1);
    EXPECT_EQ(base_->activeq_[1].first, &a);
    EXPECT_EQ(a.evcb_active_next.tqe_next, &b);
    EXPECT_EQ(b.evcb_active_next.tqe_prev, &a.evcb_active_next.tqe_next);
    EXPECT_EQ(base_->n_active_, 2);
    EXPECT_EQ(event_callback_cancel_(base_, &a), 0);
    EXPECT_EQ(base_->activeq_[1].first, &b);
    EXPECT_EQ(base_->n_active_, 1);
    EXPECT_EQ(event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
    EXPECT_EQ(ran_, (std::vector<event_callback *>{&b}));
    EXPECT_TRUE(base_->activeq_[1].empty());
}

// A priority beyond the base's queues goes to the last one (libevent would index past its
// array).
TEST_F(BareCallback, PriorityBeyondTheQueuesUsesTheLastOne) {
    event_callback a;
    event_deferred_cb_init_(&a, 200, note, &ran_);
    ASSERT_EQ(event_callback_activate_(base_, &a), 1);
    EXPECT_EQ(base_->activeq_[2].first, &a);
    EXPECT_EQ(event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
    EXPECT_EQ(ran_.size(), 1u);
}

TEST_F(BareCallback, LaterQueueAndScheduleCount) {
    event_callback a, b;
    event_deferred_cb_init_(&a, 0, note, &ran_);
    event_deferred_cb_init_(&b, 0, note, &ran_);
    ASSERT_EQ(event_callback_activate_later_nolock_(base_, &a), 1);
    EXPECT_EQ(base_->later_.first, &a);
    EXPECT_EQ(base_->n_deferreds_queued_, 0);
    ASSERT_EQ(event_deferred_cb_schedule_(base_, &b), 1);
    EXPECT_EQ(base_->n_deferreds_queued_, 1);
    EXPECT_EQ(base_->activeq_[0].first, &b);
    EXPECT_EQ(event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
    EXPECT_EQ(ran_, (std::vector<event_callback *>{&b, &a}));
    EXPECT_EQ(base_->n_deferreds_queued_, 0);  // reset every loop round
}

// Bare callbacks and core::Deferred (which evbuffer and bufferevents embed) share the
// queues and the per-round count.
TEST_F(BareCallback, SharesTheQueuesWithCoreDeferreds) {
    struct Hit {
        int n = 0;
    } hit;
    core::Deferred d;
    d.init(base_, [](core::Deferred *, void *arg) { ++static_cast<Hit *>(arg)->n; }, &hit);
    event_callback a;
    event_deferred_cb_init_(&a, 1, note, &ran_);
    ASSERT_TRUE(d.schedule());
    ASSERT_EQ(event_deferred_cb_schedule_(base_, &a), 1);
    EXPECT_EQ(base_->n_deferreds_queued_, 2);
    EXPECT_EQ(event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
    EXPECT_EQ(hit.n, 1);
    EXPECT_EQ(ran_.size(), 1u);
}

TEST_F(BareCallback, FinalizeSwitchesTheClosureAndMarksItFinalizing) {
    event_callback a;
    event_deferred_cb_init_(&a, 0, note, &ran_);
    ASSERT_EQ(event_callback_activate_(base_, &a), 1);
    event_callback_finalize_(base_, 0, &a, note);
    EXPECT_EQ(a.evcb_closure, core::kClosureCbFinalize);
    EXPECT_EQ(a.evcb_flags, EVLIST_ACTIVE | EVLIST_FINALIZING);
    EXPECT_EQ(base_->n_active_, 1);  // queued once, not twice
    EXPECT_EQ(event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
    EXPECT_EQ(ran_.size(), 1u);
    EXPECT_EQ(base_->n_active_, 0);
}

// ---- thread tables ---------------------------------------------------------------------------

TEST(ThreadTables, GettersReturnTheTablesCoreReads) {
    EXPECT_EQ(evthread_get_lock_callbacks(), core::evthread::lock_callbacks());
    EXPECT_EQ(evthread_get_condition_callbacks(), core::evthread::condition_callbacks());
}

int g_lock_calls = 0;
void *u_alloc(unsigned) {
    auto *m = new pthread_mutex_t;
    pthread_mutex_init(m, nullptr);
    return m;
}
void u_free(void *l, unsigned) {
    pthread_mutex_destroy(static_cast<pthread_mutex_t *>(l));
    delete static_cast<pthread_mutex_t *>(l);
}
int u_lock(unsigned, void *l) {
    ++g_lock_calls;
    return pthread_mutex_lock(static_cast<pthread_mutex_t *>(l));
}
int u_unlock(unsigned, void *l) {
    ++g_lock_calls;
    return pthread_mutex_unlock(static_cast<pthread_mutex_t *>(l));
}

// A program that clears the table through the getter's pointer (instead of
// evthread_set_lock_callbacks(NULL)) leaves no function to call: user locks become no-ops
// rather than calls through null pointers.
TEST(ThreadTables, TableClearedByHandMakesUserLocksNoOps) {
    const evthread_lock_callbacks cbs = {EVTHREAD_LOCK_API_VERSION, 0, u_alloc, u_free, u_lock,
                                         u_unlock};
    ASSERT_EQ(evthread_set_lock_callbacks(&cbs), 0);
    void *l = u_alloc(0);
    EXPECT_EQ(core::evthread::user_lock(0, l), 0);
    EXPECT_EQ(core::evthread::user_unlock(0, l), 0);
    EXPECT_EQ(g_lock_calls, 2);
    evthread_lock_callbacks saved = *evthread_get_lock_callbacks();
    std::memset(evthread_get_lock_callbacks(), 0, sizeof saved);
    EXPECT_EQ(core::evthread::user_lock(0, l), 0);
    EXPECT_EQ(core::evthread::user_unlock(0, l), 0);
    EXPECT_EQ(g_lock_calls, 2);
    u_free(l, 0);
    EXPECT_EQ(evthread_set_lock_callbacks(nullptr), 0);
}

}  // namespace
