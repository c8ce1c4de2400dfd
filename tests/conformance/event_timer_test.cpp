// Timers on every backend: never early, ordered, FIFO among equal deadlines, re-add moves
// the deadline, remove_timer, common timeouts, many timers.
#include <unistd.h>

#include <algorithm>

#include "event_test_util.h"

using namespace conf::ev;

class EventTimer : public conf::BackendTest {};

namespace {
struct Stamp {
    double at = -1;
    int order = -1;
    int *counter;
};
void stamp_cb(evutil_socket_t, short, void *arg) {
    auto *s = static_cast<Stamp *>(arg);
    s->at = conf::now_ms();
    s->order = (*s->counter)++;
}
}  // namespace

TEST_P(EventTimer, NeverFiresEarly) {
    int counter = 0;
    Stamp s{-1, -1, &counter};
    event *t = evtimer_new(base(), stamp_cb, &s);
    double start = conf::now_ms();
    timeval tv = conf::tv_ms(30);
    event_add(t, &tv);
    EXPECT_EQ(event_base_dispatch(base()), 1);
    ASSERT_GE(s.at, 0);
    EXPECT_GE(s.at - start, 29.9);
    EXPECT_LT(s.at - start, 30 + 200);
    event_free(t);
}

TEST_P(EventTimer, FireInDeadlineOrder) {
    int counter = 0;
    Stamp s[4] = {{-1, -1, &counter}, {-1, -1, &counter}, {-1, -1, &counter}, {-1, -1, &counter}};
    int ms[4] = {40, 10, 30, 20};
    event *t[4];
    for (int i = 0; i < 4; ++i) {
        t[i] = evtimer_new(base(), stamp_cb, &s[i]);
        timeval tv = conf::tv_ms(ms[i]);
        event_add(t[i], &tv);
    }
    event_base_dispatch(base());
    EXPECT_EQ(s[1].order, 0);
    EXPECT_EQ(s[3].order, 1);
    EXPECT_EQ(s[2].order, 2);
    EXPECT_EQ(s[0].order, 3);
    for (auto *e : t) event_free(e);
}

TEST_P(EventTimer, EqualDeadlinesFireInAddOrder) {
    int counter = 0;
    std::vector<Stamp> s(50, Stamp{-1, -1, &counter});
    std::vector<event *> t(50);
    timeval tv = conf::tv_ms(5);
    for (int i = 0; i < 50; ++i) {
        t[i] = evtimer_new(base(), stamp_cb, &s[i]);
        event_add(t[i], &tv);  // same cached time, same timeout: same deadline
    }
    event_base_dispatch(base());
    for (int i = 0; i < 50; ++i) EXPECT_GE(s[i].order, 0);
    if (conf::kTimersFifoOnTies) {  // libevent's binary heap gives no order (in practice: reversed)
        for (int i = 0; i < 50; ++i) EXPECT_EQ(s[i].order, i);
    }
    for (auto *e : t) event_free(e);
}

TEST_P(EventTimer, ReAddReplacesTheTimeout) {
    int counter = 0;
    Stamp s{-1, -1, &counter};
    event *t = evtimer_new(base(), stamp_cb, &s);
    timeval far = conf::tv_ms(5000), near = conf::tv_ms(10);
    event_add(t, &far);
    double start = conf::now_ms();
    event_add(t, &near);
    event_base_dispatch(base());
    EXPECT_LT(s.at - start, 1000);
    event_free(t);
}

TEST_P(EventTimer, AddWithNullKeepsTheOldTimeout) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged tag{&rec, 1};
    event *ev = event_new(base(), sp[0], EV_READ, record_cb, &tag);
    timeval tv = conf::tv_ms(20);
    event_add(ev, &tv);
    ASSERT_EQ(event_add(ev, nullptr), 0);
    EXPECT_TRUE(event_pending(ev, EV_TIMEOUT, nullptr));
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() == 1; }));
    EXPECT_EQ(rec.calls[0].second, EV_TIMEOUT);
    event_free(ev);
}

TEST_P(EventTimer, PendingReportsTheExpiryInWallClock) {
    event *t = evtimer_new(base(), record_cb, nullptr);
    timeval tv = conf::tv_ms(2000), exp, now;
    event_add(t, &tv);
    ASSERT_EQ(evtimer_pending(t, &exp), EV_TIMEOUT);
    gettimeofday(&now, nullptr);
    long diff_ms = (exp.tv_sec - now.tv_sec) * 1000 + (exp.tv_usec - now.tv_usec) / 1000;
    EXPECT_GT(diff_ms, 1800);
    EXPECT_LE(diff_ms, 2100);
    event_free(t);
}

TEST_P(EventTimer, RemoveTimerKeepsTheIoPart) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged tag{&rec, 1};
    event *ev = event_new(base(), sp[0], EV_READ, record_cb, &tag);
    timeval tv = conf::tv_ms(5);
    event_add(ev, &tv);
    ASSERT_EQ(event_remove_timer(ev), 0);
    EXPECT_EQ(event_pending(ev, EV_READ | EV_TIMEOUT, nullptr), EV_READ);
    timeval wait = conf::tv_ms(20);
    event_base_loopexit(base(), &wait);
    event_base_dispatch(base());
    EXPECT_EQ(rec.calls.size(), 0u);
    // On a pure timer it is a delete.
    event *t = evtimer_new(base(), record_cb, &tag);
    event_add(t, &tv);
    EXPECT_EQ(event_remove_timer(t), 0);
    EXPECT_FALSE(evtimer_pending(t, nullptr));
    event_free(t);
    event_free(ev);
}

TEST_P(EventTimer, CommonTimeoutsFireInOrderAndWorkWithCopies) {
    timeval d = conf::tv_ms(15);
    const timeval *common = event_base_init_common_timeout(base(), &d);
    ASSERT_NE(common, nullptr);
    EXPECT_EQ(event_base_init_common_timeout(base(), &d), common);  // same duration, same queue
    EXPECT_EQ(event_base_init_common_timeout(base(), common), common);  // a returned value names its queue
    timeval again = *common;
    EXPECT_EQ(event_base_init_common_timeout(base(), &again), common);
    int counter = 0;
    std::vector<Stamp> s(20, Stamp{-1, -1, &counter});
    std::vector<event *> t(20);
    double start = conf::now_ms();
    timeval copy = *common;  // programs copy the timeval by value
    for (int i = 0; i < 20; ++i) {
        t[i] = evtimer_new(base(), stamp_cb, &s[i]);
        ASSERT_EQ(event_add(t[i], i % 2 ? common : &copy), 0);
    }
    timeval exp;
    EXPECT_TRUE(evtimer_pending(t[0], &exp));
    event_base_dispatch(base());
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(s[i].order, i);
        EXPECT_GE(s[i].at - start, 14.9);
    }
    for (auto *e : t) event_free(e);
}

// Pure timers re-added while pending, moved between the heap and a common-timeout queue,
// deleted and added again (reevent's add/del fast paths for pure timers): each fires once,
// at its last timeout, never early, in deadline order.
TEST_P(EventTimer, PendingPureTimersMoveBetweenHeapAndCommonQueue) {
    timeval d = conf::tv_ms(20);
    const timeval *common = event_base_init_common_timeout(base(), &d);
    ASSERT_NE(common, nullptr);
    int counter = 0;
    Stamp s[4] = {{-1, -1, &counter}, {-1, -1, &counter}, {-1, -1, &counter}, {-1, -1, &counter}};
    event *t[4];
    for (int i = 0; i < 4; ++i) t[i] = evtimer_new(base(), stamp_cb, &s[i]);
    timeval far = conf::tv_ms(5000), ms10 = conf::tv_ms(10), ms30 = conf::tv_ms(30),
            ms40 = conf::tv_ms(40), ms50 = conf::tv_ms(50);
    const double start = conf::now_ms();
    ASSERT_EQ(event_add(t[0], &far), 0);   // heap
    ASSERT_EQ(event_add(t[0], common), 0);  // heap -> common queue: 20 ms
    ASSERT_EQ(event_add(t[1], common), 0);  // common queue
    ASSERT_EQ(event_add(t[1], &ms10), 0);   // common queue -> heap
    ASSERT_EQ(event_add(t[1], &ms30), 0);   // later, in place: 30 ms
    ASSERT_EQ(event_add(t[2], &ms10), 0);
    ASSERT_EQ(event_del(t[2]), 0);
    EXPECT_FALSE(evtimer_pending(t[2], nullptr));
    ASSERT_EQ(event_add(t[2], &ms40), 0);   // deleted, then added again: 40 ms
    ASSERT_EQ(event_add(t[3], &ms50), 0);
    ASSERT_EQ(event_add(t[3], &ms10), 0);   // earlier, in place
    ASSERT_EQ(event_add(t[3], &ms50), 0);   // and back: 50 ms
    for (event *e : t) EXPECT_TRUE(evtimer_pending(e, nullptr));
    EXPECT_EQ(event_base_dispatch(base()), 1);
    const double at[4] = {20, 30, 40, 50};
    const double slack = conf::kIsReevent ? 0.1 : 12.0;  // libevent: its coarse clock lags
    for (int i = 0; i < 4; ++i) EXPECT_GE(s[i].at - start, at[i] - slack) << i;
    // The heap timers run in deadline order. The common-timeout one may come after later
    // heap timers on a loaded machine (both libraries): when they are due in one pass, its
    // queue's internal event activates it only when that event's callback runs, behind them.
    EXPECT_LT(s[1].order, s[2].order);
    EXPECT_LT(s[2].order, s[3].order);
    EXPECT_EQ(counter, 4);
    for (event *e : t) event_free(e);
}

// A persistent pure timer re-added while pending takes the new period; deleting it from its
// own callback (pending again after the re-arm) stops it.
TEST_P(EventTimer, PersistentPureTimerReAddedWhilePendingUsesTheNewPeriod) {
    struct Ctx {
        event *ev = nullptr;
        int calls = 0;
        double last = -1;
    } ctx;
    ctx.ev = event_new(base(), -1, EV_PERSIST, [](evutil_socket_t, short what, void *a) {
        auto *c = static_cast<Ctx *>(a);
        EXPECT_EQ(what, EV_TIMEOUT);
        c->last = conf::now_ms();
        if (++c->calls == 3) {
            EXPECT_TRUE(evtimer_pending(c->ev, nullptr));
            EXPECT_EQ(event_del(c->ev), 0);
            EXPECT_FALSE(evtimer_pending(c->ev, nullptr));
        }
    }, &ctx);
    timeval far = conf::tv_ms(5000), period = conf::tv_ms(10);
    ASSERT_EQ(event_add(ctx.ev, &far), 0);
    const double start = conf::now_ms();
    ASSERT_EQ(event_add(ctx.ev, &period), 0);
    EXPECT_EQ(event_base_dispatch(base()), 1);
    EXPECT_EQ(ctx.calls, 3);
    EXPECT_GE(ctx.last - start, 30 - (conf::kIsReevent ? 0.1 : 12.0));
    EXPECT_LT(ctx.last - start, 3000);
    event_free(ctx.ev);
}

TEST_P(EventTimer, ZeroTimeoutFiresOnNextIteration) {
    Recorder rec;
    Tagged tag{&rec, 1};
    event *t = evtimer_new(base(), record_cb, &tag);
    timeval zero = {0, 0};
    event_add(t, &zero);
    event_base_loop(base(), EVLOOP_ONCE);
    EXPECT_EQ(rec.calls.size(), 1u);
    event_free(t);
}

TEST_P(EventTimer, TenThousandTimersAllFire) {
    constexpr int kN = 10000;
    int fired = 0;
    std::vector<event *> t(kN);
    for (int i = 0; i < kN; ++i) {
        t[i] = evtimer_new(base(), [](evutil_socket_t, short, void *a) { ++*static_cast<int *>(a); }, &fired);
        timeval tv = {0, (i * 7919) % 20000};
        event_add(t[i], &tv);
    }
    // Delete every third before it fires.
    for (int i = 0; i < kN; i += 3) event_del(t[i]);
    event_base_dispatch(base());
    EXPECT_EQ(fired, kN - (kN + 2) / 3);
    for (auto *e : t) event_free(e);
}

// Thousands of timers due in one pass (a loop that slept through them): they run in
// deadline order, one deleted by an earlier callback of the same pass does not run, and the
// timers not yet due stay pending. The timers are added from a callback so that they share
// one cached "now": their deadlines are in exactly the order of their timeouts.
TEST_P(EventTimer, ThousandsDueInOnePassRunInDeadlineOrder) {
    constexpr int kDue = 3000, kFar = 1000;
    struct Run {
        int counter = 0;
        std::vector<Stamp> due;
        std::vector<event *> due_ev, far_ev;
        event_base *base = nullptr;
    } r;
    r.base = base();
    r.due.assign(kDue, Stamp{-1, -1, &r.counter});
    r.due_ev.resize(kDue);
    r.far_ev.resize(kFar);
    // Timer i is due after 1 ms + rank(i) * 10 us; rank is a permutation of 0..kDue-1 (7919
    // is prime to kDue), so adding order and deadline order differ.
    auto rank = [](int i) { return (i * 7919) % kDue; };
    auto add_all = [](evutil_socket_t, short, void *arg) {
        auto *r = static_cast<Run *>(arg);
        for (int i = 0; i < kDue; ++i) {
            timeval tv = {0, 1000 + ((i * 7919) % kDue) * 10};
            event_add(r->due_ev[i], &tv);
        }
        for (event *e : r->far_ev) {
            timeval tv = {60, 0};
            event_add(e, &tv);
        }
        usleep(60000);  // all of the first group are due when the loop looks again
    };
    event *starter = evtimer_new(base(), add_all, &r);
    for (int i = 0; i < kDue; ++i) r.due_ev[i] = evtimer_new(base(), stamp_cb, &r.due[i]);
    for (auto &e : r.far_ev) e = evtimer_new(base(), stamp_cb, &r.due[0]);
    // The first to run (rank 0) deletes the last one due (rank kDue - 1) before it runs.
    int first = 0, last = 0;
    for (int i = 0; i < kDue; ++i) {
        if (rank(i) == 0) first = i;
        if (rank(i) == kDue - 1) last = i;
    }
    struct First {
        Stamp *stamp;
        event *victim;
    } f{&r.due[first], r.due_ev[last]};
    auto delete_victim = [](evutil_socket_t fd, short what, void *arg) {
        auto *f = static_cast<First *>(arg);
        event_del(f->victim);
        stamp_cb(fd, what, f->stamp);
    };
    event_assign(r.due_ev[first], base(), -1, 0, delete_victim, &f);
    timeval zero = {0, 0};
    event_add(starter, &zero);
    ASSERT_EQ(event_base_loop(base(), EVLOOP_ONCE), 0);
    ASSERT_EQ(event_base_loop(base(), EVLOOP_NONBLOCK), 0);
    EXPECT_EQ(r.counter, kDue - 1);
    EXPECT_EQ(r.due[last].order, -1);
    int out_of_order = 0;
    for (int i = 0; i < kDue; ++i)
        if (i != last && r.due[i].order != rank(i)) ++out_of_order;
    EXPECT_EQ(out_of_order, 0);
    int pending = 0;
    for (event *e : r.far_ev) pending += event_pending(e, EV_TIMEOUT, nullptr) != 0;
    EXPECT_EQ(pending, kFar);
    for (event *e : r.due_ev) event_free(e);
    for (event *e : r.far_ev) event_free(e);
    event_free(starter);
}

// A pass that expires thousands of timers at once (reevent takes them out of its heap in one
// sweep and sorts them) behaves as one that pops them one by one: in each priority, deadline
// order, and add order among equal deadlines (reevent); the less important priority after;
// a timer with an fd, and one already active, among them; and the callbacks of the pass
// editing timers that expired in it: re-adding one (that cancels its activation: it does not
// run, and is pending with the new timeout), deleting one (it does not run), adding a new one
// with a zero timeout (it runs in the next round, before the less important priority's).
TEST_P(EventTimer, MassExpiryKeepsOrderPrioritiesAndEditsOfThePass) {
    constexpr int kDue = 3000, kFar = 500, kGroups = 5;
    ASSERT_EQ(event_base_priority_init(base(), 2), 0);
    struct Call {
        int order = -1;
        short what = 0;
    };
    struct Run {
        int counter = 0;
        std::vector<Call> calls;  // per timer: kDue due, then the special ones
        std::vector<event *> ev;
        std::vector<event *> far;
        event *readded = nullptr, *deleted = nullptr, *added = nullptr;
        bool edited = false;
    } r;
    // Slots after the kDue due timers: the timer with an fd, the already active one, and the
    // one added by the first callback.
    const int kIo = kDue, kActive = kDue + 1, kAdded = kDue + 2;
    struct Arg {
        Run *r;
        int slot;
    };
    std::vector<Arg> args(kDue + 3);
    r.calls.resize(kDue + 3);
    r.ev.resize(kDue + 3);
    auto group = [](int i) { return (i * 7) % kGroups; };  // interleaved equal deadlines
    auto prio = [](int i) { return i % 3 == 0 ? 1 : 0; };
    auto cb = [](evutil_socket_t, short what, void *arg) {
        auto *a = static_cast<Arg *>(arg);
        Run *r = a->r;
        r->calls[a->slot] = Call{r->counter++, what};
        if (!r->edited) {  // the first callback of the pass
            r->edited = true;
            timeval far = {60, 0}, zero = {0, 0};
            event_add(r->readded, &far);
            event_del(r->deleted);
            event_add(r->added, &zero);
        }
    };
    conf::SocketPair sp;  // never readable: the event with an fd only times out
    for (int i = 0; i < kDue + 3; ++i) {
        args[i] = Arg{&r, i};
        if (i == kIo)
            r.ev[i] = event_new(base(), sp[0], EV_READ, cb, &args[i]);
        else
            r.ev[i] = evtimer_new(base(), cb, &args[i]);
        event_priority_set(r.ev[i], i < kDue ? prio(i) : i == kActive ? 1 : 0);
    }
    // Found before the run: a due timer of the last group (priority 0) to re-add, one of the
    // last group of priority 1 to delete.
    for (int i = kDue - 1; i >= 0; --i) {
        if (!r.readded && group(i) == kGroups - 1 && prio(i) == 0) r.readded = r.ev[i];
        if (!r.deleted && group(i) == kGroups - 1 && prio(i) == 1) r.deleted = r.ev[i];
    }
    r.added = r.ev[kAdded];
    r.far.resize(kFar);
    for (auto &e : r.far) e = evtimer_new(base(), cb, &args[0]);
    auto add_all = [](evutil_socket_t, short, void *arg) {
        auto *r = static_cast<Run *>(arg);
        // Added in one callback: one cached time, so a group shares one deadline.
        for (int i = 0; i < kDue; ++i) {
            timeval tv = {0, 1000 + ((i * 7) % kGroups) * 1000};
            event_add(r->ev[i], &tv);
        }
        timeval first = {0, 1000}, far = {60, 0};
        event_add(r->ev[kDue], &first);      // the timer with an fd, in group 0
        event_add(r->ev[kDue + 1], &first);  // the active one, in group 0
        event_active(r->ev[kDue + 1], EV_READ, 1);
        for (event *e : r->far) event_add(e, &far);
        usleep(30000);  // every timer of the groups is due when the loop looks again
    };
    event *starter = evtimer_new(base(), add_all, &r);
    event_priority_set(starter, 0);
    timeval zero = {0, 0};
    event_add(starter, &zero);
    // Round 1 runs the starter; the active timer keeps the loop going: round 2 expires the
    // groups and runs priority 0, round 3 the added timer, round 4 priority 1.
    ASSERT_EQ(event_base_loop(base(), EVLOOP_ONCE), 0);

    auto pending = [](event *e, short what) { return event_pending(e, what, nullptr) != 0; };
    auto slot_of = [&r](event *e) { return static_cast<int>(std::find(r.ev.begin(), r.ev.end(), e) - r.ev.begin()); };
    const int deleted = slot_of(r.deleted), readded = slot_of(r.readded);
    EXPECT_EQ(r.calls[deleted].order, -1);
    EXPECT_FALSE(pending(r.deleted, EV_TIMEOUT));
    EXPECT_EQ(r.calls[readded].order, -1);
    EXPECT_TRUE(pending(r.readded, EV_TIMEOUT));
    EXPECT_FALSE(pending(r.ev[kIo], EV_READ));
    EXPECT_EQ(r.calls[kIo].what, EV_TIMEOUT);
    EXPECT_EQ(r.calls[kActive].what, conf::kTimeoutKeepsActiveFlags ? EV_READ | EV_TIMEOUT : EV_TIMEOUT);
    EXPECT_EQ(r.calls[kAdded].what, EV_TIMEOUT);
    int far_pending = 0;
    for (event *e : r.far) far_pending += pending(e, EV_TIMEOUT);
    EXPECT_EQ(far_pending, kFar);

    // The expected order: priority 0 by (group, add order), the added timer, priority 1 the
    // same way. The timer with an fd is in group 0 after the due timers, the active one too.
    struct Key {
        int pri, group, slot;
    };
    std::vector<Key> keys;
    for (int i = 0; i < kDue; ++i)
        if (i != deleted && i != readded) keys.push_back({prio(i), group(i), i});
    keys.push_back({0, 0, kIo});
    keys.push_back({1, 0, kActive});
    int ran = 0;
    for (auto &c : r.calls) ran += c.order >= 0;
    ASSERT_EQ(ran, static_cast<int>(keys.size()) + 1);
    int added_order = r.calls[kAdded].order;
    int out_of_order = 0, ties_out_of_order = 0;
    for (const Key &a : keys) {
        const int oa = r.calls[a.slot].order;
        if ((a.pri == 0) != (oa < added_order)) ++out_of_order;
        for (const Key &b : keys) {
            if (a.pri != b.pri || a.slot >= b.slot) continue;
            const int ob = r.calls[b.slot].order;
            if (a.group != b.group) {
                if ((a.group < b.group) != (oa < ob)) ++out_of_order;
            } else if (oa > ob) {
                ++ties_out_of_order;
            }
        }
    }
    EXPECT_EQ(out_of_order, 0);
    if (conf::kTimersFifoOnTies) {  // libevent: unspecified
        EXPECT_EQ(ties_out_of_order, 0);
    }
    for (event *e : r.ev) event_free(e);
    for (event *e : r.far) event_free(e);
    event_free(starter);
}

TEST_P(EventTimer, PreciseTimerIsSubMillisecond) {
    event_base *b = conf::new_base_on(GetParam(), EVENT_BASE_FLAG_PRECISE_TIMER);
    ASSERT_NE(b, nullptr);
    int counter = 0;
    Stamp s{-1, -1, &counter};
    event *t = evtimer_new(b, stamp_cb, &s);
    double best = 1e9;
    for (int i = 0; i < 5; ++i) {
        timeval tv = {0, 500};
        double start = conf::now_ms();
        event_add(t, &tv);
        event_base_dispatch(b);
        double late = s.at - start - 0.5;
        EXPECT_GE(late, -0.01);  // never early
        best = std::min(best, late);
    }
    // The best of five (the machine is shared, a single run may be descheduled); libevent's
    // default coarse clock would be ~4 ms late every time.
    EXPECT_LT(best, 3.0);
    event_free(t);
    event_base_free(b);
}

// Long timeouts added from a callback (reevent counts them from the iteration's coarse upper
// bound of now, libevent from its cached coarse time): the same duration added twice with a
// short timeout in between fires in add order (reevent), and nothing fires before its duration
// measured from the callback (libevent's cached coarse time may lag: 12 ms slack there).
TEST_P(EventTimer, LongTimeoutsAddedFromACallbackKeepOrderAndAreNotEarly) {
    struct Ctx {
        event *first, *shortt, *second;
        double added_at = -1;
    } ctx{};
    int counter = 0;
    Stamp s1{-1, -1, &counter}, s2{-1, -1, &counter}, ss{-1, -1, &counter};
    ctx.first = evtimer_new(base(), stamp_cb, &s1);
    ctx.shortt = evtimer_new(base(), stamp_cb, &ss);
    ctx.second = evtimer_new(base(), stamp_cb, &s2);
    // Woken by readiness, not by a timer: the loop has read no clock when the callback adds.
    conf::SocketPair sp;
    ASSERT_EQ(write(sp[1], "x", 1), 1);
    event *kick = event_new(
        base(), sp[0], EV_READ,
        [](evutil_socket_t, short, void *a) {
            auto *c = static_cast<Ctx *>(a);
            c->added_at = conf::now_ms();
            timeval lng = conf::tv_ms(2000), shrt = conf::tv_ms(5);
            event_add(c->first, &lng);
            event_add(c->shortt, &shrt);
            event_add(c->second, &lng);
        },
        &ctx);
    event_add(kick, nullptr);
    EXPECT_EQ(event_base_dispatch(base()), 1);
    ASSERT_GE(s1.at, 0);
    ASSERT_GE(s2.at, 0);
    EXPECT_EQ(ss.order, 0);
    if (conf::kTimersFifoOnTies) {  // libevent: one deadline for both, heap order unspecified
        EXPECT_EQ(s1.order, 1);
        EXPECT_EQ(s2.order, 2);
    }
    // reevent: never early, measured from the callback; libevent: its cached coarse time
    // may lag by a tick or two.
    EXPECT_GE(std::min(s1.at, s2.at) - ctx.added_at, conf::kIsReevent ? 2000 - 0.05 : 2000 - 12.0);
    EXPECT_LT(std::max(s1.at, s2.at) - ctx.added_at, 2000 + 1500);
    for (event *e : {kick, ctx.first, ctx.shortt, ctx.second}) event_free(e);
}

// A base holds 256 common-timeout durations; the 257th is refused with libevent's warning.
TEST_P(EventTimer, CommonTimeoutTableFullWarnsAndReturnsNull) {
    conf::LogCapture logs;
    for (int i = 0; i < 256; ++i) {
        timeval tv = {i + 1, 0};
        ASSERT_NE(event_base_init_common_timeout(base(), &tv), nullptr) << i;
    }
    EXPECT_TRUE(logs.messages().empty());
    timeval one_more = {1000, 0};
    EXPECT_EQ(event_base_init_common_timeout(base(), &one_more), nullptr);
    ASSERT_EQ(logs.messages().size(), 1u);
    EXPECT_EQ(logs.messages()[0].second,
              "event_base_init_common_timeout: Too many common timeouts already in use; we only "
              "support 256 per event_base");
}

CONF_INSTANTIATE_BACKENDS(EventTimer);
