// Leaving the loop: loopexit vs loopbreak (user-needs B.6), return values, re-entrance,
// loopcontinue, EVLOOP_ONCE / NONBLOCK / NO_EXIT_ON_EMPTY.
#include "event_test_util.h"

#include <vector>

using namespace conf::ev;

class EventLoopExit : public conf::BackendTest {};

namespace {
struct Ctx {
    event_base *b;
    Recorder *rec;
    int tag;
    int action;  // 0 none, 1 loopexit(NULL), 2 loopbreak, 3 loopcontinue
};
void act_cb(evutil_socket_t, short what, void *arg) {
    auto *c = static_cast<Ctx *>(arg);
    c->rec->calls.emplace_back(c->tag, what);
    if (c->action == 1) event_base_loopexit(c->b, nullptr);
    if (c->action == 2) event_base_loopbreak(c->b);
    if (c->action == 3) event_base_loopcontinue(c->b);
}
}  // namespace

TEST_P(EventLoopExit, DispatchReturnsOneWhenNoEventsAreLeft) {
    EXPECT_EQ(event_base_dispatch(base()), 1);
    EXPECT_EQ(event_base_loop(base(), EVLOOP_NONBLOCK), 1);
}

TEST_P(EventLoopExit, LoopexitFinishesTheCurrentRound) {
    Recorder rec;
    Ctx c[3] = {{base(), &rec, 0, 1}, {base(), &rec, 1, 0}, {base(), &rec, 2, 0}};
    event *e[3];
    for (int i = 0; i < 3; ++i) {
        e[i] = event_new(base(), -1, EV_PERSIST, act_cb, &c[i]);
        event_active(e[i], EV_TIMEOUT, 1);
    }
    EXPECT_EQ(event_base_dispatch(base()), 0);
    EXPECT_EQ(rec.calls.size(), 3u);  // all three active callbacks ran
    EXPECT_TRUE(event_base_got_exit(base()));
    EXPECT_FALSE(event_base_got_break(base()));
    for (auto *x : e) event_free(x);
}

TEST_P(EventLoopExit, LoopbreakStopsAfterTheCurrentCallback) {
    Recorder rec;
    Ctx c[3] = {{base(), &rec, 0, 2}, {base(), &rec, 1, 0}, {base(), &rec, 2, 0}};
    event *e[3];
    for (int i = 0; i < 3; ++i) {
        e[i] = event_new(base(), -1, EV_PERSIST, act_cb, &c[i]);
        event_active(e[i], EV_TIMEOUT, 1);
    }
    EXPECT_EQ(event_base_dispatch(base()), 0);
    EXPECT_EQ(rec.calls.size(), 1u);
    EXPECT_TRUE(event_base_got_break(base()));
    // The other two stay active for the next loop; got_break resets on entry.
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(rec.calls.size(), 3u);
    EXPECT_FALSE(event_base_got_break(base()));
    for (auto *x : e) event_free(x);
}

TEST_P(EventLoopExit, LoopexitBeforeTheLoopExitsTheNextLoopAfterOneRound) {
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = event_new(base(), -1, EV_PERSIST, record_cb, &t);
    timeval tv = conf::tv_ms(1);
    event_add(ev, &tv);
    ASSERT_EQ(event_base_loopexit(base(), nullptr), 0);
    EXPECT_EQ(event_base_dispatch(base()), 0);
    EXPECT_TRUE(event_base_got_exit(base()));
    event_free(ev);
}

TEST_P(EventLoopExit, LoopbreakBeforeTheLoopIsForgotten) {
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = evtimer_new(base(), record_cb, &t);
    timeval tv = conf::tv_ms(5);
    event_add(ev, &tv);
    ASSERT_EQ(event_base_loopbreak(base()), 0);
    EXPECT_EQ(event_base_dispatch(base()), 1);  // ran until empty
    EXPECT_EQ(rec.calls.size(), 1u);
    event_free(ev);
}

TEST_P(EventLoopExit, LoopexitWithDelay) {
    event *keep = event_new(base(), -1, EV_PERSIST, record_cb, nullptr);
    timeval far = conf::tv_ms(10000);
    event_add(keep, &far);
    timeval tv = conf::tv_ms(20);
    double start = conf::now_ms();
    event_base_loopexit(base(), &tv);
    EXPECT_EQ(event_base_dispatch(base()), 0);
    EXPECT_GE(conf::now_ms() - start, 19.9);
    event_free(keep);
}

TEST_P(EventLoopExit, ReentrantLoopFails) {
    struct {
        int result;
        event_base *b;
    } ctx{42, base()};
    event *ev = evtimer_new(
        base(),
        [](evutil_socket_t, short, void *a) {
            auto *c = static_cast<decltype(ctx) *>(a);
            c->result = event_base_loop(c->b, EVLOOP_NONBLOCK);
        },
        &ctx);
    event_active(ev, EV_TIMEOUT, 1);
    event_base_loop(base(), EVLOOP_ONCE);
    EXPECT_EQ(ctx.result, -1);
    event_free(ev);
}

TEST_P(EventLoopExit, NoExitOnEmptyKeepsRunningUntilExit) {
    timeval tv = conf::tv_ms(20);
    event_base_loopexit(base(), &tv);
    double start = conf::now_ms();
    EXPECT_EQ(event_base_loop(base(), EVLOOP_NO_EXIT_ON_EMPTY), 0);
    EXPECT_GE(conf::now_ms() - start, 19.9);
}

TEST_P(EventLoopExit, NonblockReturnsAtOnce) {
    event *keep = evtimer_new(base(), record_cb, nullptr);
    timeval far = conf::tv_ms(10000);
    event_add(keep, &far);
    double start = conf::now_ms();
    EXPECT_EQ(event_base_loop(base(), EVLOOP_NONBLOCK), 0);
    EXPECT_LT(conf::now_ms() - start, 100);
    event_free(keep);
}

TEST_P(EventLoopExit, LoopcontinueOutsideOrInsideCallbacksLosesNoCallback) {
    Recorder rec;
    Ctx c[2] = {{base(), &rec, 0, 3}, {base(), &rec, 1, 0}};
    event *e[2];
    for (int i = 0; i < 2; ++i) {
        e[i] = event_new(base(), -1, 0, act_cb, &c[i]);
        event_active(e[i], EV_TIMEOUT, 1);
    }
    EXPECT_EQ(event_base_loopcontinue(base()), 0);  // no loop running: no effect
    // The first callback asks to poll again; the second still runs in this loop call.
    event_base_loop(base(), EVLOOP_ONCE);
    EXPECT_EQ(rec.calls.size(), 2u);
    for (auto *x : e) event_free(x);
}

// Tor's "post-loop" events (its compat_libevent.c): a callback first activates a shared
// non-persistent "rescan" event whose callback calls loopbreak, then activates the next
// event of a chain.  The active queue is FIFO, so the rescan callback runs before anything
// activated after it, the loop returns, and the rest waits, still active, for the next
// loop call, between which the backend is polled and timers run.  Without that, two events
// that activate each other would run forever inside one loop call.
namespace {
struct Postloop {
    event_base *b;
    event *rescan = nullptr;
    event *ev[2] = {nullptr, nullptr};
    std::vector<int> order;  // 0/1: chain events, 2: rescan, 3: timer
    int timer_runs = 0;
};
void postloop_rescan_cb(evutil_socket_t, short, void *arg) {
    auto *p = static_cast<Postloop *>(arg);
    p->order.push_back(2);
    event_base_loopbreak(p->b);
}
template <int I>
void postloop_chain_cb(evutil_socket_t, short, void *arg) {
    auto *p = static_cast<Postloop *>(arg);
    p->order.push_back(I);
    event_active(p->rescan, EV_READ, 1);  // a no-op when it is already active
    event_active(p->ev[1 - I], EV_READ, 1);
}
void postloop_timer_cb(evutil_socket_t, short, void *arg) {
    auto *p = static_cast<Postloop *>(arg);
    p->order.push_back(3);
    ++p->timer_runs;
}
}  // namespace

TEST_P(EventLoopExit, ActivationsAfterALoopbreakingEventWaitForTheNextLoopCall) {
    Postloop p{base()};
    p.rescan = event_new(base(), -1, 0, postloop_rescan_cb, &p);
    p.ev[0] = event_new(base(), -1, 0, postloop_chain_cb<0>, &p);
    p.ev[1] = event_new(base(), -1, 0, postloop_chain_cb<1>, &p);
    event_active(p.ev[0], EV_READ, 1);
    EXPECT_EQ(event_base_loop(base(), 0), 0);
    EXPECT_EQ(p.order, (std::vector<int>{0, 2}));
    EXPECT_TRUE(event_base_got_break(base()));
    // ev[1] was activated after the rescan event: it is still active, not run.
    EXPECT_EQ(event_pending(p.ev[1], EV_READ | EV_WRITE | EV_TIMEOUT, nullptr), EV_READ);
    EXPECT_EQ(event_pending(p.rescan, EV_READ, nullptr), 0);
    EXPECT_EQ(event_base_loop(base(), 0), 0);
    EXPECT_EQ(p.order, (std::vector<int>{0, 2, 1, 2}));
    EXPECT_EQ(event_pending(p.ev[0], EV_READ, nullptr), EV_READ);
    event_del(p.ev[0]);  // deleting an active event drops its activation
    EXPECT_EQ(event_base_loop(base(), EVLOOP_NONBLOCK), 1);  // nothing left
    EXPECT_EQ(p.order.size(), 4u);
    for (auto *x : {p.rescan, p.ev[0], p.ev[1]}) event_free(x);
}

TEST_P(EventLoopExit, APostloopChainDoesNotStarveATimer) {
    // As tor's compat_libevent/postloop_events: the chain never stops, a 10 ms persistent
    // timer must still run, in a loop that is entered again after every break.
    Postloop p{base()};
    p.rescan = event_new(base(), -1, 0, postloop_rescan_cb, &p);
    p.ev[0] = event_new(base(), -1, 0, postloop_chain_cb<0>, &p);
    p.ev[1] = event_new(base(), -1, 0, postloop_chain_cb<1>, &p);
    event *timer = event_new(base(), -1, EV_PERSIST, postloop_timer_cb, &p);
    timeval ten_ms{0, 10 * 1000};
    event_add(timer, &ten_ms);
    event_active(p.ev[0], EV_READ, 1);
    double start = conf::now_ms();
    int loops = 0;
    while (p.timer_runs < 3 && conf::now_ms() - start < 5000) {
        ASSERT_EQ(event_base_loop(base(), 0), 0);
        ++loops;
    }
    EXPECT_EQ(p.timer_runs, 3);
    EXPECT_GE(loops, 3);
    // Every loop call ran exactly one chain event and then the rescan event, with the timer
    // (when due) between two calls' chain events: never two chain events in one call.
    int chain_in_call = 0;
    for (int x : p.order) {
        if (x == 0 || x == 1) {
            EXPECT_EQ(++chain_in_call, 1);
        } else if (x == 2) {
            chain_in_call = 0;
        }
    }
    for (auto *x : {p.rescan, p.ev[0], p.ev[1], timer}) event_free(x);
}

CONF_INSTANTIATE_BACKENDS(EventLoopExit);
