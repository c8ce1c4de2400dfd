// Loop entries that libevent 2.1's core exports without a public header and that programs
// and libevent's own regress suite call: the "active later" activation and virtual events.
// No header declares them, so this file does, with libevent's signatures.
#include <event2/event.h>
#include <event2/event_struct.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

extern "C" {
void event_active_later_(struct event *ev, int res);
void event_base_add_virtual_(struct event_base *base);
void event_base_del_virtual_(struct event_base *base);
}

namespace {

struct Calls {
    int n = 0;
    short what = 0;
    static void cb(evutil_socket_t, short what, void *p) {
        auto *c = static_cast<Calls *>(p);
        ++c->n;
        c->what = what;
    }
};

class InternalLoop : public ::testing::Test {
protected:
    void SetUp() override { base_ = event_base_new(); ASSERT_NE(base_, nullptr); }
    void TearDown() override { event_base_free(base_); }
    event_base *base_ = nullptr;
};

struct Order {
    std::vector<std::string> seen;
    event *later = nullptr, *now = nullptr;
};

void note(evutil_socket_t, short what, void *p) {
    auto *o = static_cast<Order *>(p);
    o->seen.push_back(what == EV_READ ? "later" : "now");
}

// Activated from a callback, an "active later" event runs after the events activated
// normally there, even those activated after it (the loop moves it to the active queues at
// the start of its next round; EVLOOP_ONCE goes on while anything is active).
TEST_F(InternalLoop, ActiveLaterRunsAfterEventsActivatedNow) {
    Order o;
    o.later = event_new(base_, -1, 0, note, &o);
    o.now = event_new(base_, -1, 0, note, &o);
    event *first = event_new(base_, -1, 0, [](evutil_socket_t, short, void *p) {
        auto *o = static_cast<Order *>(p);
        o->seen.push_back("first");
        event_active_later_(o->later, EV_READ);
        EXPECT_NE(o->later->ev_evcallback.evcb_flags & EVLIST_ACTIVE_LATER, 0);
        event_active(o->now, EV_WRITE, 1);
    }, &o);
    event_active(first, EV_TIMEOUT, 1);
    ASSERT_EQ(event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
    EXPECT_EQ(o.seen, (std::vector<std::string>{"first", "now", "later"}));
    event_free(first);
    event_free(o.now);
    event_free(o.later);
}

TEST_F(InternalLoop, ActiveLaterTwiceMergesAndActiveMakesItActiveNow) {
    Calls c;
    event ev;
    ASSERT_EQ(event_assign(&ev, base_, -1, 0, Calls::cb, &c), 0);
    event_active_later_(&ev, EV_READ);
    event_active_later_(&ev, EV_WRITE);
    EXPECT_NE(ev.ev_evcallback.evcb_flags & EVLIST_ACTIVE_LATER, 0);
    EXPECT_EQ(ev.ev_evcallback.evcb_flags & EVLIST_ACTIVE, 0);
    event_active(&ev, EV_TIMEOUT, 1);
    EXPECT_NE(ev.ev_evcallback.evcb_flags & EVLIST_ACTIVE, 0);
    EXPECT_EQ(ev.ev_evcallback.evcb_flags & EVLIST_ACTIVE_LATER, 0);
    ASSERT_EQ(event_base_loop(base_, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
    EXPECT_EQ(c.n, 1);
    EXPECT_EQ(c.what, EV_READ | EV_WRITE | EV_TIMEOUT);
    // Left queued for later, then deleted: it never runs.
    event_active_later_(&ev, EV_READ);
    event_del(&ev);
    EXPECT_EQ(ev.ev_evcallback.evcb_flags & EVLIST_ACTIVE_LATER, 0);
    event_base_loop(base_, EVLOOP_NONBLOCK);
    EXPECT_EQ(c.n, 1);
}

TEST_F(InternalLoop, VirtualEventsAreCountedAndKeepTheLoopFromBeingEmpty) {
    EXPECT_EQ(event_base_loop(base_, EVLOOP_NONBLOCK), 1);  // nothing at all
    event_base_add_virtual_(base_);
    event_base_add_virtual_(base_);
    EXPECT_EQ(event_base_get_num_events(base_, EVENT_BASE_COUNT_VIRTUAL), 2);
    EXPECT_EQ(event_base_get_num_events(base_, EVENT_BASE_COUNT_ADDED), 0);
    EXPECT_EQ(event_base_loop(base_, EVLOOP_NONBLOCK), 0);  // something to wait for
    event_base_del_virtual_(base_);
    EXPECT_EQ(event_base_get_num_events(base_, EVENT_BASE_COUNT_VIRTUAL), 1);
    EXPECT_EQ(event_base_get_max_events(base_, EVENT_BASE_COUNT_VIRTUAL, 1), 2);
    // Clearing sets the maximum to 0, even with one still counted (libevent).
    EXPECT_EQ(event_base_get_max_events(base_, EVENT_BASE_COUNT_VIRTUAL, 0), 0);
    event_base_del_virtual_(base_);
    EXPECT_EQ(event_base_get_num_events(base_, EVENT_BASE_COUNT_VIRTUAL), 0);
    EXPECT_EQ(event_base_loop(base_, EVLOOP_NONBLOCK), 1);
}

}  // namespace
