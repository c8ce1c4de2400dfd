// Finalizers (user-needs B.9, B.10): event_finalize / event_free_finalize run the finalizer
// from the loop; afterwards add and active do nothing; event_base_free runs pending
// finalizers, event_base_free_nofinalize does not.
#include "event_test_util.h"

using namespace conf::ev;

class EventFinalize : public conf::BackendTest {};

namespace {
struct Fin {
    int runs = 0;
    event *ev = nullptr;
    void *arg = nullptr;
};
Fin *g_fin = nullptr;
void fin_cb(event *ev, void *arg) {
    g_fin->runs++;
    g_fin->ev = ev;
    g_fin->arg = arg;
}
}  // namespace

TEST_P(EventFinalize, FinalizerRunsFromTheLoopWithEventAndArg) {
    Fin f;
    g_fin = &f;
    conf::SocketPair sp;
    int arg;
    event *ev = event_new(base(), sp[0], EV_READ | EV_PERSIST, record_cb, &arg);
    event_add(ev, nullptr);
    ASSERT_EQ(event_finalize(0, ev, fin_cb), 0);
    EXPECT_EQ(f.runs, 0);  // not from inside event_finalize
    EXPECT_FALSE(event_pending(ev, EV_READ, nullptr));
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(f.runs, 1);
    EXPECT_EQ(f.ev, ev);
    EXPECT_EQ(f.arg, &arg);
    free(ev);
}

TEST_P(EventFinalize, AddAndActiveDoNothingAfterFinalize) {
    Fin f;
    g_fin = &f;
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = evtimer_new(base(), record_cb, &t);
    event_finalize(0, ev, fin_cb);
    timeval tv = {0, 0};
    EXPECT_EQ(event_add(ev, &tv), -1);
    event_active(ev, EV_TIMEOUT, 1);
    EXPECT_EQ(event_del(ev), 0);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(rec.calls.size(), 0u);
    EXPECT_EQ(f.runs, 1);
    free(ev);
}

TEST_P(EventFinalize, FreeFinalizeFreesTheEvent) {
    Fin f;
    g_fin = &f;
    event *ev = evtimer_new(base(), record_cb, nullptr);
    ASSERT_EQ(event_free_finalize(0, ev, fin_cb), 0);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(f.runs, 1);  // and no leak under ASan
}

TEST_P(EventFinalize, BaseFreeRunsPendingFinalizers) {
    Fin f;
    g_fin = &f;
    event_base *b = conf::new_base_on(GetParam());
    event *ev = evtimer_new(b, record_cb, nullptr);
    event_free_finalize(0, ev, fin_cb);
    event_base_free(b);
    EXPECT_EQ(f.runs, 1);
}

TEST_P(EventFinalize, BaseFreeNofinalizeSkipsThem) {
    Fin f;
    g_fin = &f;
    event_base *b = conf::new_base_on(GetParam());
    event *ev = evtimer_new(b, record_cb, nullptr);
    event_finalize(0, ev, fin_cb);
    event_base_free_nofinalize(b);
    EXPECT_EQ(f.runs, 0);
    free(ev);
}

CONF_INSTANTIATE_BACKENDS(EventFinalize);
