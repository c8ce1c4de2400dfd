// Internals of src/bufferevent: the private object really starts with the public struct,
// and the heap cost of an idle socket bufferevent stays within budget (counted through
// event_set_mem_functions, which every reevent allocation honours).
#include "buffer/evbuffer.h"
#include "bufferevent/bev.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <malloc.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

static_assert(offsetof(reevent::bev::Bev, pub) == 0, "the C handle is the Bev address");

// Live heap bytes as the allocator hands them out (malloc_usable_size: rounding counts,
// as in bench/memory_bench.cpp, whose per_idle_bufferevent row is the figure).
size_t g_live = 0;
void *count_malloc(size_t n) {
    void *p = std::malloc(n);
    if (p) g_live += malloc_usable_size(p);
    return p;
}
void *count_realloc(void *p, size_t n) {
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = std::realloc(p, n);
    if (!q) return nullptr;
    g_live = g_live - old + malloc_usable_size(q);
    return q;
}
void count_free(void *p) {
    if (!p) return;
    g_live -= malloc_usable_size(p);
    std::free(p);
}

// The budget for an idle connection (libevent 2.1 needs about 980).
constexpr size_t kIdleBudget = 600;
// The same after three 64-byte echo exchanges (libevent 2.1 keeps about 990: its two
// chains' emptied buffers are freed, the evbuffers stay). Was about 5 040 while each
// buffer kept its ring of 8 segments and a spare block, then about 960 with a 2-segment
// ring and the State kept; an emptied buffer now gives its State and ring back to the
// per-thread cache (as its block), so idle after traffic is idle as new.
constexpr size_t kAfterTrafficBudget = 600;

class BuffereventMemory : public ::testing::Test {
protected:
    void SetUp() override {
        event_set_mem_functions(count_malloc, count_realloc, count_free);
        // Warm up process-wide state that stays allocated (it is not per connection).
        event_base_free(event_base_new());
        start_ = g_live;
        base_ = event_base_new();
        ASSERT_NE(base_, nullptr);
        // Both ends of each pair get a bufferevent, so every fd up to the highest is
        // registered (as in the bench): the fd map's share is then its per-fd cost,
        // not padding. 248 pairs keep the fds below 512, the map's next doubling.
        for (int i = 0; i < kPairs; ++i) {
            int sv[2];
            ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
            fds_.push_back(sv[0]);
            fds_.push_back(sv[1]);
        }
    }
    void TearDown() override {
        for (bufferevent *b : bevs_) bufferevent_free(b);
        event_base_free(base_);
        for (int fd : fds_) close(fd);
        reevent::buffer::release_thread_block_cache();  // freed blocks may be cached
        EXPECT_EQ(g_live, start_);  // nothing leaks
        event_set_mem_functions(nullptr, nullptr, nullptr);
    }
    // Heap bytes per bufferevent for one idle socket bufferevent on every fd.
    size_t idle_bytes(int options) {
        size_t before = g_live;
        for (int fd : fds_) {
            bufferevent *b = bufferevent_socket_new(base_, fd, options);
            EXPECT_NE(b, nullptr);
            if (!b) return SIZE_MAX;
            bufferevent_enable(b, EV_READ | EV_WRITE);  // an idle connection waits for input
            bevs_.push_back(b);
        }
        event_base_loop(base_, EVLOOP_NONBLOCK);
        return (g_live - before) / fds_.size();
    }

    // One socket bufferevent on every fd; the even fd of each pair echoes, the odd one
    // sends `rounds` 64-byte messages (one at a time, waiting for the echo). Heap bytes
    // per bufferevent once all is idle again, without the per-thread block cache (a
    // bounded per-thread cost, at most 256 KiB, not a per-connection one).
    size_t after_traffic_bytes(int rounds) {
        reevent::buffer::release_thread_block_cache();
        size_t before = g_live;
        for (int fd : fds_) {
            bufferevent *b = bufferevent_socket_new(base_, fd, 0);
            EXPECT_NE(b, nullptr);
            if (!b) return SIZE_MAX;
            bevs_.push_back(b);
        }
        size_t received = 0;
        for (size_t i = 0; i < bevs_.size(); i += 2) {
            bufferevent_setcb(
                bevs_[i],
                [](bufferevent *b, void *) {
                    evbuffer_add_buffer(bufferevent_get_output(b), bufferevent_get_input(b));
                },
                nullptr, nullptr, nullptr);
            bufferevent_setcb(
                bevs_[i + 1],
                [](bufferevent *b, void *arg) {
                    evbuffer *in = bufferevent_get_input(b);
                    *static_cast<size_t *>(arg) += evbuffer_get_length(in);
                    evbuffer_drain(in, evbuffer_get_length(in));
                },
                nullptr, nullptr, &received);
            bufferevent_enable(bevs_[i], EV_READ | EV_WRITE);
            bufferevent_enable(bevs_[i + 1], EV_READ | EV_WRITE);
        }
        char msg[64];
        std::memset(msg, 'm', sizeof msg);
        size_t want = 0;
        for (int r = 0; r < rounds; ++r) {
            for (size_t i = 1; i < bevs_.size(); i += 2) bufferevent_write(bevs_[i], msg, 64);
            want += 64 * (bevs_.size() / 2);
            while (received < want)
                if (event_base_loop(base_, EVLOOP_ONCE) < 0) return SIZE_MAX;
        }
        event_base_loop(base_, EVLOOP_NONBLOCK);
        reevent::buffer::release_thread_block_cache();
        return (g_live - before) / bevs_.size();
    }

    static constexpr int kPairs = 248;
    size_t start_ = 0;
    event_base *base_ = nullptr;
    std::vector<int> fds_;
    std::vector<bufferevent *> bevs_;
};

TEST_F(BuffereventMemory, IdleSocketBuffereventHeapBytes) {
    size_t per = idle_bytes(0);
    RecordProperty("bytes_per_idle_bufferevent", static_cast<int>(per));
    std::printf("heap bytes per idle socket bufferevent: %zu (struct bufferevent %zu, Bev %zu, "
                "evbuffer %zu)\n",
                per, sizeof(bufferevent), sizeof(reevent::bev::Bev), sizeof(evbuffer));
    EXPECT_LE(per, kIdleBudget);
}

TEST_F(BuffereventMemory, IdleAfterTrafficSocketBuffereventHeapBytes) {
    size_t per = after_traffic_bytes(3);
    RecordProperty("bytes_per_idle_after_traffic_bufferevent", static_cast<int>(per));
    std::printf("heap bytes per socket bufferevent idle after 3 echo exchanges: %zu\n", per);
    EXPECT_LE(per, kAfterTrafficBudget);
    for (bufferevent *b : bevs_) {
        EXPECT_EQ(reevent::buffer::from(bufferevent_get_input(b))->spare_count(), 0u);
        EXPECT_EQ(reevent::buffer::from(bufferevent_get_output(b))->spare_count(), 0u);
    }
}

}  // namespace
