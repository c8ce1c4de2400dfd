// The fd map and its changelist, driven through a real base with random adds and deletes of
// read/write events on many socketpairs and compared with a model: after every loop
// iteration the kernel mask of each fd equals what its events want, growth of the map never
// loses a list head, and readiness reaches exactly the events the model says are pending.
#include <event2/event.h>
#include <event2/event_struct.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <vector>

#include "core/base.h"
#include "core/io_map.h"

namespace {

struct Pair {
    int fd[2];
};

void noop_cb(evutil_socket_t, short, void *arg) { ++*static_cast<int *>(arg); }

TEST(IoMap, GrowthKeepsListHeadsLinked) {
    reevent::core::IoMap map;
    event evs[3] = {};
    reevent::core::FdSlot *s = map.get(3);
    ASSERT_NE(s, nullptr);
    s->head = &evs[0];
    evs[0].ev_.ev_io.ev_io_next.le_prev = &s->head;
    for (int fd : {100, 1000, 5000}) ASSERT_NE(map.get(fd), nullptr);
    EXPECT_EQ(evs[0].ev_.ev_io.ev_io_next.le_prev, &map[3].head);
    EXPECT_EQ(map[5000].bidx, -1);
}

TEST(IoMap, WantedMaskFollowsTheCounts) {
    reevent::core::FdSlot s{};
    EXPECT_EQ(reevent::core::wanted_mask(s), 0u);
    s.nread = 2;
    EXPECT_EQ(reevent::core::wanted_mask(s), unsigned(EV_READ));
    s.nwrite = 1;
    s.net = 1;
    EXPECT_EQ(reevent::core::wanted_mask(s), unsigned(EV_READ | EV_WRITE | EV_ET));
    s.nread = s.nwrite = 0;
    EXPECT_EQ(reevent::core::wanted_mask(s), 0u);  // ET alone asks for nothing
}

class Changelist : public ::testing::TestWithParam<int> {};

TEST_P(Changelist, KernelMaskMatchesTheModelAfterEveryIteration) {
    const char *methods[] = {"epoll", "epoll", "poll", "select"};
    const int variant = GetParam();
    event_config *cfg = event_config_new();
    for (const char *m : {"epoll", "poll", "select"})
        if (strcmp(m, methods[variant]) != 0) event_config_avoid_method(cfg, m);
    event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
    if (variant == 1) event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    ASSERT_NE(base, nullptr);

    constexpr int kPairs = 120;  // enough to grow the map several times
    std::vector<Pair> pairs(kPairs);
    std::vector<event *> rd(kPairs), wr(kPairs);
    std::vector<bool> rd_on(kPairs), wr_on(kPairs);
    std::vector<int> rd_hits(kPairs), wr_hits(kPairs);
    for (int i = 0; i < kPairs; ++i) {
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i].fd), 0);
        fcntl(pairs[i].fd[0], F_SETFL, O_NONBLOCK);
        rd[i] = event_new(base, pairs[i].fd[0], EV_READ | EV_PERSIST, noop_cb, &rd_hits[i]);
        wr[i] = event_new(base, pairs[i].fd[0], EV_WRITE | EV_PERSIST, noop_cb, &wr_hits[i]);
        ASSERT_EQ(::write(pairs[i].fd[1], "x", 1), 1);  // always readable, always writable
    }
    std::mt19937 rng(99 + variant);
    for (int iter = 0; iter < 300; ++iter) {
        for (int k = 0; k < 40; ++k) {
            int i = static_cast<int>(rng() % kPairs);
            bool write_side = rng() & 1;
            event *ev = write_side ? wr[i] : rd[i];
            std::vector<bool> &on = write_side ? wr_on : rd_on;
            if (on[i]) {
                ASSERT_EQ(event_del(ev), 0);
            } else {
                ASSERT_EQ(event_add(ev, nullptr), 0);
            }
            on[i] = !on[i];
        }
        std::fill(rd_hits.begin(), rd_hits.end(), 0);
        std::fill(wr_hits.begin(), wr_hits.end(), 0);
        // epoll reports at most its array size per wait (32 at first): a few rounds.
        for (int round = 0; round < 10; ++round)
            ASSERT_GE(event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
        for (int i = 0; i < kPairs; ++i) {
            // Level-triggered and always ready: pending events fire, others never do.
            ASSERT_EQ(rd_hits[i] > 0, bool(rd_on[i])) << "fd pair " << i << " iter " << iter;
            ASSERT_EQ(wr_hits[i] > 0, bool(wr_on[i])) << "fd pair " << i << " iter " << iter;
            reevent::core::FdSlot *s = base->io_.find(pairs[i].fd[0]);
            ASSERT_NE(s, nullptr);
            unsigned want = (rd_on[i] ? unsigned(EV_READ) : 0u) | (wr_on[i] ? unsigned(EV_WRITE) : 0u);
            ASSERT_EQ(reevent::core::wanted_mask(*s), want);
            ASSERT_EQ(s->kmask, want);  // flushed before the wait
        }
    }
    for (int i = 0; i < kPairs; ++i) {
        event_free(rd[i]);
        event_free(wr[i]);
        close(pairs[i].fd[0]);
        close(pairs[i].fd[1]);
    }
    event_base_free(base);
}

std::string variant_name(const ::testing::TestParamInfo<int> &i) {
    static const char *const names[] = {"epoll", "epoll_changelist", "poll", "select"};
    return names[i.param];
}

INSTANTIATE_TEST_SUITE_P(Backends, Changelist, ::testing::Values(0, 1, 2, 3), variant_name);

}  // namespace
