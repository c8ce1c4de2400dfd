// event_base_foreach_event and event_base_dump_events.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "event_test_util.h"

using namespace conf::ev;

class EventForeach : public conf::BackendTest {};

namespace {
struct Seen {
    std::vector<const event *> evs;
    int stop_after = -1;
};
int collect(const event_base *, const event *ev, void *arg) {
    auto *s = static_cast<Seen *>(arg);
    if (event_get_callback(ev) != record_cb) return 0;  // skip internal events, if shown
    s->evs.push_back(ev);
    if (s->stop_after >= 0 && static_cast<int>(s->evs.size()) >= s->stop_after) return 42;
    return 0;
}
// The text event_base_dump_events writes.
std::string dump(event_base *b) {
    char *buf = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    event_base_dump_events(b, f);
    fclose(f);
    std::string out(buf, len);
    free(buf);
    return out;
}
}  // namespace

TEST_P(EventForeach, VisitsEveryPendingOrActiveEventOnce) {
    conf::SocketPair sp;
    event *io = event_new(base(), sp[0], EV_READ, record_cb, nullptr);
    event *iot = event_new(base(), sp[1], EV_READ, record_cb, nullptr);
    event *tm = evtimer_new(base(), record_cb, nullptr);
    event *act = evtimer_new(base(), record_cb, nullptr);
    event *idle = evtimer_new(base(), record_cb, nullptr);
    timeval tv = conf::tv_ms(10000);
    event_add(io, nullptr);
    event_add(iot, &tv);
    event_add(tm, &tv);
    event_active(act, EV_TIMEOUT, 1);
    Seen s;
    EXPECT_EQ(event_base_foreach_event(base(), collect, &s), 0);
    EXPECT_EQ(s.evs.size(), 4u);
    for (const event *e : {io, iot, tm, act})
        EXPECT_EQ(std::count(s.evs.begin(), s.evs.end(), e), 1);
    EXPECT_EQ(std::count(s.evs.begin(), s.evs.end(), idle), 0);
    Seen stop;
    stop.stop_after = 2;
    EXPECT_EQ(event_base_foreach_event(base(), collect, &stop), 42);
    EXPECT_EQ(stop.evs.size(), 2u);
    for (event *e : {io, iot, tm, act, idle}) event_free(e);
}

TEST_P(EventForeach, DumpListsInsertedAndActiveEvents) {
    conf::SocketPair sp;
    event *io = event_new(base(), sp[0], EV_READ | EV_PERSIST, record_cb, nullptr);
    event *act = evtimer_new(base(), record_cb, nullptr);
    event_add(io, nullptr);
    event_active(act, EV_TIMEOUT, 1);
    std::string out = dump(base());
    EXPECT_NE(out.find("Inserted events:"), std::string::npos);
    EXPECT_NE(out.find("Active events:"), std::string::npos);
    EXPECT_NE(out.find(" Read Persist"), std::string::npos);
    EXPECT_NE(out.find(" Timeout active"), std::string::npos);
    event_free(io);
    event_free(act);
}

// The library's own events: event.h warns that foreach may meet events the program did not
// add. Which ones appear, and when, is observable (libevent shows them with EVLIST_INTERNAL
// in ev_flags, and event_base_dump_events prints them as "Internal").
namespace {
struct Census {
    std::vector<const event *> ours;
    std::vector<const event *> library;
};
int classify(const event_base *, const event *ev, void *arg) {
    auto *c = static_cast<Census *>(arg);
    if (ev->ev_evcallback.evcb_flags & EVLIST_INTERNAL)
        c->library.push_back(ev);
    else
        c->ours.push_back(ev);
    return 0;
}
Census census(event_base *b) {
    Census c;
    EXPECT_EQ(event_base_foreach_event(b, classify, &c), 0);
    return c;
}
}  // namespace

TEST_P(EventForeach, FreshBaseShowsNoEventsOfItsOwn) {
    Census c = census(base());
    EXPECT_TRUE(c.ours.empty());
    EXPECT_TRUE(c.library.empty());
    EXPECT_EQ(dump(base()), "Inserted events:\nActive events:\n");
}

TEST_P(EventForeach, SignalWakeupEventShownFromTheFirstSignalEventOn) {
    event *sig = evsignal_new(base(), SIGUSR2, record_cb, nullptr);
    ASSERT_EQ(event_add(sig, nullptr), 0);
    Census c = census(base());
    ASSERT_EQ(c.ours.size(), 1u);
    EXPECT_EQ(c.ours[0], sig);
    ASSERT_EQ(c.library.size(), 1u);
    const event *wake = c.library[0];
    EXPECT_EQ(event_get_events(wake), EV_READ | EV_PERSIST);
    EXPECT_GE(event_get_fd(wake), 0);
    EXPECT_EQ(event_get_base(wake), base());
    EXPECT_NE(dump(base()).find("] Read Persist Internal\n"), std::string::npos) << dump(base());
    // It stays once the last signal event is gone.
    event_free(sig);
    c = census(base());
    EXPECT_TRUE(c.ours.empty());
    ASSERT_EQ(c.library.size(), 1u);
    EXPECT_EQ(c.library[0], wake);
    EXPECT_EQ(event_base_get_num_events(base(), EVENT_BASE_COUNT_ADDED), 0);
}

TEST_P(EventForeach, CommonTimeoutQueueTimerShownWhileArmed) {
    timeval five = conf::tv_ms(5000);
    const timeval *common = event_base_init_common_timeout(base(), &five);
    ASSERT_NE(common, nullptr);
    EXPECT_TRUE(census(base()).library.empty());  // a queue with nothing in it arms nothing
    event *tm = evtimer_new(base(), record_cb, nullptr);
    ASSERT_EQ(event_add(tm, common), 0);
    Census c = census(base());
    ASSERT_EQ(c.ours.size(), 1u);
    EXPECT_EQ(c.ours[0], tm);
    ASSERT_EQ(c.library.size(), 1u);
    const event *queue_timer = c.library[0];
    EXPECT_EQ(event_get_fd(queue_timer), -1);
    EXPECT_EQ(event_get_events(queue_timer), 0);
    EXPECT_TRUE(event_pending(queue_timer, EV_TIMEOUT, nullptr));
    EXPECT_NE(dump(base()).find("[fd  -1] Internal Timeout="), std::string::npos) << dump(base());
    event_free(tm);
    EXPECT_EQ(event_base_get_num_events(base(), EVENT_BASE_COUNT_ADDED), 0);
}

// The "Active events" section follows the same walk as the inserted one (fds, signals,
// timers, then events that are only active), not the order of activation.
TEST_P(EventForeach, DumpListsActiveEventsInWalkOrder) {
    conf::SocketPair sp;
    event *only_active = evtimer_new(base(), record_cb, nullptr);
    event *io = event_new(base(), sp[0], EV_READ | EV_PERSIST, record_cb, nullptr);
    timeval tv = conf::tv_ms(10000);
    event_add(io, &tv);
    event_active(only_active, EV_TIMEOUT, 1);
    event_active(io, EV_READ, 1);
    std::string out = dump(base());
    size_t act = out.find("Active events:");
    ASSERT_NE(act, std::string::npos);
    char io_line[64], only_line[64];
    snprintf(io_line, sizeof io_line, "  %p [fd  %d, priority=0] Read active", static_cast<void *>(io), sp[0]);
    snprintf(only_line, sizeof only_line, "  %p [fd  -1, priority=0] Timeout active", static_cast<void *>(only_active));
    size_t a = out.find(io_line, act), b = out.find(only_line, act);
    ASSERT_NE(a, std::string::npos) << out;
    ASSERT_NE(b, std::string::npos) << out;
    EXPECT_LT(a, b) << out;
    event_free(io);
    event_free(only_active);
}

CONF_INSTANTIATE_BACKENDS(EventForeach);
