// Events changed from inside callbacks in the same iteration: delete, free, re-add, of the
// running event or of another active one (user-needs B.2, B.9, B.18).
#include "event_test_util.h"

using namespace conf::ev;

class EventCallback : public conf::BackendTest {};

namespace {
struct Pair {
    Recorder *rec;
    int tag;
    event *other;
    event *self;
    int mode;  // 1 del other, 2 free other, 3 free self, 4 re-add self, 5 del self
};
void pair_cb(evutil_socket_t, short what, void *arg) {
    auto *p = static_cast<Pair *>(arg);
    p->rec->calls.emplace_back(p->tag, what);
    switch (p->mode) {
        case 1: event_del(p->other); break;
        case 2: event_free(p->other); break;
        case 3: event_free(p->self); break;
        case 4: {
            timeval tv = {0, 0};
            event_add(p->self, &tv);
            break;
        }
        case 5: event_del(p->self); break;
    }
    p->mode = 0;
}
}  // namespace

namespace {
// Timers a (tag 1, Pair mode a_mode towards b) and b (tag 2) are made active in that order
// and the loop runs one iteration. Returns how many callbacks ran; frees a, and b unless
// a's callback freed it (mode 2).
size_t calls_when_a_acts_on_b(event_base *base, int a_mode) {
    Recorder rec;
    Pair a{&rec, 1, nullptr, nullptr, a_mode}, b{&rec, 2, nullptr, nullptr, 0};
    a.self = evtimer_new(base, pair_cb, &a);
    b.self = evtimer_new(base, pair_cb, &b);
    a.other = b.self;
    event_active(a.self, EV_TIMEOUT, 1);
    event_active(b.self, EV_TIMEOUT, 1);
    event_base_loop(base, EVLOOP_ONCE);
    event_free(a.self);
    if (a_mode != 2) event_free(b.self);
    return rec.calls.size();
}
}  // namespace

TEST_P(EventCallback, DeletingAnotherActiveEventCancelsIt) {
    EXPECT_EQ(calls_when_a_acts_on_b(base(), 1), 1u);  // mode 1: a deletes b
}

TEST_P(EventCallback, FreeingAnotherActiveEventIsSafe) {
    EXPECT_EQ(calls_when_a_acts_on_b(base(), 2), 1u);  // mode 2: a frees b
}

TEST_P(EventCallback, FreeingItselfInsideItsCallbackIsSafe) {
    conf::SocketPair sp;
    Recorder rec;
    Pair a{&rec, 1, nullptr, nullptr, 3};
    a.self = event_new(base(), sp[0], EV_READ | EV_PERSIST, pair_cb, &a);
    timeval tv = conf::tv_ms(1000);
    event_add(a.self, &tv);
    write_byte(sp[1]);
    EXPECT_EQ(event_base_dispatch(base()), 1);
    EXPECT_EQ(rec.calls.size(), 1u);
}

TEST_P(EventCallback, ReAddingItselfRunsAgainNextIteration) {
    Recorder rec;
    Pair a{&rec, 1, nullptr, nullptr, 4};
    a.self = evtimer_new(base(), pair_cb, &a);
    event_active(a.self, EV_TIMEOUT, 1);
    event_base_loop(base(), EVLOOP_ONCE);
    EXPECT_EQ(rec.calls.size(), 1u);
    EXPECT_TRUE(evtimer_pending(a.self, nullptr));
    event_base_loop(base(), EVLOOP_ONCE);
    EXPECT_EQ(rec.calls.size(), 2u);
    event_free(a.self);
}

TEST_P(EventCallback, OneShotEventIsNotPendingInsideItsCallback) {
    struct Ctx {
        event *ev;
        int pending = -1;
    } ctx{};
    conf::SocketPair sp;
    ctx.ev = event_new(
        base(), sp[0], EV_READ,
        [](evutil_socket_t, short, void *a) {
            auto *c = static_cast<Ctx *>(a);
            c->pending = event_pending(c->ev, EV_READ | EV_TIMEOUT, nullptr);
        },
        &ctx);
    timeval tv = conf::tv_ms(1000);
    event_add(ctx.ev, &tv);
    write_byte(sp[1]);
    event_base_dispatch(base());
    EXPECT_EQ(ctx.pending, 0);
    event_free(ctx.ev);
}

TEST_P(EventCallback, CallbackArgumentsAreFdWhatAndArg) {
    conf::SocketPair sp;
    struct Ctx {
        int fd = -2;
        short what = 0;
        void *arg = nullptr;
    } ctx;
    event *ev = event_new(
        base(), sp[0], EV_READ,
        [](evutil_socket_t fd, short what, void *a) {
            auto *c = static_cast<Ctx *>(a);
            c->fd = fd;
            c->what = what;
            c->arg = a;
        },
        &ctx);
    event_add(ev, nullptr);
    write_byte(sp[1]);
    event_base_dispatch(base());
    EXPECT_EQ(ctx.fd, sp[0]);
    EXPECT_EQ(ctx.what, EV_READ);
    EXPECT_EQ(ctx.arg, &ctx);
    event_free(ev);
}

CONF_INSTANTIATE_BACKENDS(EventCallback);
