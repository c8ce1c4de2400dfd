// Priorities: each iteration runs only the most important non-empty queue (user-needs B.7).
#include "event_test_util.h"

using namespace conf::ev;

class EventPriority : public conf::BackendTest {};

TEST_P(EventPriority, QueuesRunInPriorityOrder) {
    ASSERT_EQ(event_base_priority_init(base(), 3), 0);
    Recorder rec;
    Tagged hi{&rec, 0}, mid{&rec, 1}, lo{&rec, 2};
    event *e0 = evtimer_new(base(), record_cb, &hi);
    event *e1 = evtimer_new(base(), record_cb, &mid);
    event *e2 = evtimer_new(base(), record_cb, &lo);
    ASSERT_EQ(event_priority_set(e0, 0), 0);
    ASSERT_EQ(event_priority_set(e1, 1), 0);
    ASSERT_EQ(event_priority_set(e2, 2), 0);
    event_active(e2, EV_TIMEOUT, 1);
    event_active(e1, EV_TIMEOUT, 1);
    event_active(e0, EV_TIMEOUT, 1);
    event_base_loop(base(), EVLOOP_ONCE);  // one queue per iteration, most important first
    ASSERT_EQ(rec.calls.size(), 3u);
    EXPECT_EQ(rec.calls[0].first, 0);
    EXPECT_EQ(rec.calls[1].first, 1);
    EXPECT_EQ(rec.calls[2].first, 2);
    event_free(e0);
    event_free(e1);
    event_free(e2);
}

namespace {
struct Busy {
    Recorder *rec;
    event *self;
    int limit;
};
void busy_cb(evutil_socket_t, short what, void *arg) {
    auto *b = static_cast<Busy *>(arg);
    b->rec->calls.emplace_back(0, what);
    if (b->rec->count(0) == b->limit) event_del(b->self);
}
}  // namespace

TEST_P(EventPriority, BusyHighPriorityStarvesLowPriority) {
    ASSERT_EQ(event_base_priority_init(base(), 2), 0);
    conf::SocketPair sp;
    Recorder rec;
    Tagged lo{&rec, 1};
    Busy busy{&rec, nullptr, 5};
    busy.self = event_new(base(), sp[0], EV_READ | EV_PERSIST, busy_cb, &busy);
    event *low = evtimer_new(base(), record_cb, &lo);
    event_priority_set(busy.self, 0);
    event_priority_set(low, 1);
    event_add(busy.self, nullptr);
    write_byte(sp[1]);  // stays readable: busy is active in every iteration
    timeval zero = {0, 0};
    event_add(low, &zero);
    EXPECT_EQ(event_base_dispatch(base()), 1);
    ASSERT_EQ(rec.calls.size(), 6u);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(rec.calls[i].first, 0);
    EXPECT_EQ(rec.calls[5].first, 1);  // only once the busy event is gone
    event_free(busy.self);
    event_free(low);
}

TEST_P(EventPriority, PrioritySetRefusedWhileActiveOrOutOfRange) {
    ASSERT_EQ(event_base_priority_init(base(), 2), 0);
    event *e = evtimer_new(base(), record_cb, nullptr);
    EXPECT_EQ(event_priority_set(e, 2), -1);
    EXPECT_EQ(event_priority_set(e, -1), -1);
    event_active(e, EV_TIMEOUT, 1);
    EXPECT_EQ(event_priority_set(e, 0), -1);
    event_del(e);
    EXPECT_EQ(event_priority_set(e, 0), 0);
    EXPECT_EQ(event_get_priority(e), 0);
    event_free(e);
}

namespace {
struct Writer {
    Recorder *rec;
    int tag;
    int fd;
};
void writer_cb(evutil_socket_t, short what, void *arg) {
    auto *w = static_cast<Writer *>(arg);
    w->rec->calls.emplace_back(w->tag, what);
    if (w->fd >= 0) (void)!::write(w->fd, "x", 1);
}

// Tag of the reader in the order run_reader_behind_writers returns.
constexpr int kReader = 100;

// Two priorities on b; six priority-1 timers are active, the first one makes a priority-0
// reader readable. Runs b's loop until no event is left and returns the tags of the
// callbacks in the order they ran (timers 0..5, the reader kReader).
std::vector<int> run_reader_behind_writers(event_base *b) {
    event_base_priority_init(b, 2);
    conf::SocketPair sp;
    Recorder rec;
    Tagged rt{&rec, kReader};
    event *reader = event_new(b, sp[0], EV_READ, record_cb, &rt);
    event_priority_set(reader, 0);
    event_add(reader, nullptr);
    std::vector<Writer> w(6);
    std::vector<event *> evs(6);
    for (int i = 0; i < 6; ++i) {
        w[i] = {&rec, i, i == 0 ? sp[1] : -1};
        evs[i] = evtimer_new(b, writer_cb, &w[i]);
        event_priority_set(evs[i], 1);
        event_active(evs[i], EV_TIMEOUT, 1);
    }
    event_base_dispatch(b);
    event_free(reader);
    for (auto *e : evs) event_free(e);
    std::vector<int> order;
    for (auto &c : rec.calls) order.push_back(c.first);
    return order;
}

// A base on `param` with event_config_set_max_dispatch_interval(cfg, NULL, 2, min_priority):
// after 2 callbacks of priority >= min_priority the loop polls again.
event_base *new_base_with_limits(const conf::Backend &param, int min_priority) {
    event_config *cfg = event_config_new();
    for (const char *m : {"epoll", "poll", "select"})
        if (strcmp(m, param.method) != 0) event_config_avoid_method(cfg, m);
    if (param.flags) event_config_set_flag(cfg, param.flags);
    event_config_set_max_dispatch_interval(cfg, nullptr, 2, min_priority);
    event_base *b = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return b;
}

// run_reader_behind_writers on a new_base_with_limits base. Returns the position at which
// the reader's callback ran (-1: never; -2: no base).
int reader_position_with_limits(const conf::Backend &param, int min_priority) {
    event_base *b = new_base_with_limits(param, min_priority);
    if (!b) return -2;
    std::vector<int> order = run_reader_behind_writers(b);
    event_base_free(b);
    int pos = -1;
    for (size_t i = 0; i < order.size(); ++i)
        if (order[i] == kReader) pos = static_cast<int>(i);
    return pos;
}
}  // namespace

TEST_P(EventPriority, MaxDispatchCallbacksRepollsAfterTheLimit) {
    // Limit from priority 1: after 2 callbacks of priority >= 1 the loop polls again, so a
    // newly readable priority-0 event runs before the rest.
    event_base *b = new_base_with_limits(GetParam(), 1);
    ASSERT_NE(b, nullptr);
    std::vector<int> order = run_reader_behind_writers(b);
    event_base_free(b);
    ASSERT_EQ(order.size(), 7u);
    EXPECT_EQ(order[2], kReader);  // right after the first two
}

TEST_P(EventPriority, MaxDispatchCallbacksFromPriorityZeroLimitEveryQueue) {
    // min_priority 0: the priority-1 queue is limited too (2 callbacks, then a new poll).
    EXPECT_EQ(reader_position_with_limits(GetParam(), 0), 2);
}

TEST_P(EventPriority, MaxDispatchCallbacksAbovePrioritiesInUseNeverApply) {
    // min_priority 2 with priorities 0 and 1: no queue is limited, the whole queue runs.
    EXPECT_EQ(reader_position_with_limits(GetParam(), 2), 6);
}

TEST_P(EventPriority, WithoutLimitsTheWholeQueueRunsFirst) {
    std::vector<int> order = run_reader_behind_writers(base());
    ASSERT_EQ(order.size(), 7u);
    EXPECT_EQ(order[6], kReader);
}

CONF_INSTANTIATE_BACKENDS(EventPriority);
