// event_base_foreach_event and event_base_dump_events.
#include <cstdio>

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
    char *buf = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    event_base_dump_events(base(), f);
    fclose(f);
    std::string out(buf, len);
    free(buf);
    EXPECT_NE(out.find("Inserted events:"), std::string::npos);
    EXPECT_NE(out.find("Active events:"), std::string::npos);
    EXPECT_NE(out.find(" Read Persist"), std::string::npos);
    EXPECT_NE(out.find(" Timeout active"), std::string::npos);
    event_free(io);
    event_free(act);
}

CONF_INSTANTIATE_BACKENDS(EventForeach);
