// Unit tests of the evbuffer ring (src/buffer): invariants after every operation of long
// random sequences, wrap-around of the ring, recycling of drained blocks, and evbuffer_ptr
// hints that survive or are rejected correctly.
#include "buffer/evbuffer.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using reevent::buffer::Buffer;

namespace {
std::string all(evbuffer *b) {
    std::string s(evbuffer_get_length(b), '\0');
    if (!s.empty()) evbuffer_copyout(b, s.data(), s.size());
    return s;
}
}  // namespace

TEST(BufferRing, InvariantsHoldUnderRandomOperations) {
    std::mt19937 rng(12345);
    evbuffer *a = evbuffer_new(), *b = evbuffer_new();
    std::string ma, mb;
    static const char kText[] = "0123456789abcdefghijklmnopqrstuvwxyz\r\n";
    for (int step = 0; step < 20000; ++step) {
        size_t n = rng() % (rng() % 2 ? 20 : 3000);
        std::string s;
        for (size_t i = 0; i < n; ++i) s += kText[rng() % (sizeof kText - 1)];
        switch (rng() % 8) {
        case 0: evbuffer_add(a, s.data(), s.size()); ma += s; break;
        case 1: evbuffer_prepend(a, s.data(), s.size()); ma.insert(0, s); break;
        case 2: { size_t k = std::min(n, ma.size()); evbuffer_drain(a, n); ma.erase(0, k); break; }
        case 3: evbuffer_add_buffer(b, a); mb += ma; ma.clear(); break;
        case 4: { size_t k = std::min(n, mb.size()); evbuffer_remove_buffer(b, a, n); ma += mb.substr(0, k); mb.erase(0, k); break; }
        case 5: evbuffer_prepend_buffer(a, b); ma.insert(0, mb); mb.clear(); break;
        case 6: if (!ma.empty()) evbuffer_pullup(a, ev_ssize_t(rng() % ma.size())); break;
        case 7: if (evbuffer_add_buffer_reference(b, a) == 0) mb += ma; break;
        }
        if (ma.size() > 50000) { evbuffer_drain(a, 40000); ma.erase(0, 40000); }
        if (mb.size() > 50000) { evbuffer_drain(b, 40000); mb.erase(0, 40000); }
        ASSERT_TRUE(static_cast<Buffer *>(a)->check_invariants()) << step;
        ASSERT_TRUE(static_cast<Buffer *>(b)->check_invariants()) << step;
        ASSERT_EQ(evbuffer_get_length(a), ma.size());
        ASSERT_EQ(evbuffer_get_length(b), mb.size());
    }
    EXPECT_EQ(all(a), ma);
    EXPECT_EQ(all(b), mb);
    evbuffer_free(a);
    evbuffer_free(b);
}

TEST(BufferRing, RingWrapsAroundAndGrows) {
    evbuffer *b = evbuffer_new();
    static const char kPiece[] = "piece";
    std::string model;
    // Push at the back and pop at the front so the head walks around the ring many times,
    // with growth in between.
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < round + 3; ++i) {
            evbuffer_add_reference(b, kPiece, 5, nullptr, nullptr);
            model += kPiece;
        }
        evbuffer_drain(b, 5 * size_t(round + 1));
        model.erase(0, 5 * size_t(round + 1));
        ASSERT_TRUE(static_cast<Buffer *>(b)->check_invariants());
    }
    EXPECT_EQ(all(b), model);
    EXPECT_GT(static_cast<Buffer *>(b)->segment_count(), 8u);
    evbuffer_free(b);
}

TEST(BufferRing, SmallAppendsCoalesceIntoFewBlocks) {
    evbuffer *b = evbuffer_new();
    for (int i = 0; i < 10000; ++i) evbuffer_add(b, "0123456789", 10);
    // 100 000 bytes in blocks that grow up to 64 KiB: a handful of segments.
    EXPECT_LE(static_cast<Buffer *>(b)->segment_count(), 8u);
    evbuffer_free(b);
}

TEST(BufferRing, DrainedBlocksAreRecycled) {
    evbuffer *b = evbuffer_new();
    std::string s(3000, 'x');
    static const char kRef[] = "tail";
    evbuffer_add(b, s.data(), s.size());
    evbuffer_add_reference(b, kRef, 4, nullptr, nullptr);
    // A block drained from a buffer that still holds data is kept for its next add.
    evbuffer_drain(b, s.size());
    EXPECT_EQ(static_cast<Buffer *>(b)->spare_count(), 1u);
    evbuffer_add(b, s.data(), s.size());
    EXPECT_EQ(static_cast<Buffer *>(b)->spare_count(), 0u);
    // An emptied buffer keeps none (an idle connection holds no block): the block goes
    // to the thread's block cache.
    evbuffer_drain(b, evbuffer_get_length(b));
    EXPECT_EQ(static_cast<Buffer *>(b)->spare_count(), 0u);
    evbuffer_add(b, s.data(), s.size());
    evbuffer *other = evbuffer_new();
    evbuffer_add_buffer(other, b);
    EXPECT_EQ(static_cast<Buffer *>(b)->spare_count(), 0u);
    evbuffer_free(other);
    evbuffer_free(b);
}

TEST(BufferRing, PointerHintSurvivesAppendsAndIsRecheckedAfterDrain) {
    evbuffer *b = evbuffer_new();
    static const char kA[] = "aaaa", kB[] = "bbbb", kC[] = "cccc";
    evbuffer_add_reference(b, kA, 4, nullptr, nullptr);
    evbuffer_add_reference(b, kB, 4, nullptr, nullptr);
    evbuffer_ptr p;
    ASSERT_EQ(evbuffer_ptr_set(b, &p, 5, EVBUFFER_PTR_SET), 0);
    evbuffer_add_reference(b, kC, 4, nullptr, nullptr);
    char c = 0;
    ASSERT_EQ(evbuffer_copyout_from(b, &p, &c, 1), 1);
    EXPECT_EQ(c, 'b');
    // After a drain the hint no longer matches the position: the position wins.
    evbuffer_drain(b, 4);
    ASSERT_EQ(evbuffer_copyout_from(b, &p, &c, 1), 1);
    EXPECT_EQ(c, 'c');
    evbuffer_free(b);
}

TEST(BufferRing, EmptyBufferIsSmall) {
    // Two per bufferevent: an idle one is just its header (24 bytes, a 32-byte malloc
    // chunk; 25 would take 48). The State comes with the first data, lock or deferral.
    EXPECT_LE(sizeof(evbuffer), 24u);
    evbuffer *b = evbuffer_new();
    EXPECT_EQ(static_cast<Buffer *>(b)->segment_count(), 0u);
    EXPECT_EQ(static_cast<Buffer *>(b)->spare_count(), 0u);
    evbuffer_free(b);
}

// evbuffer_read(-1) sizes its reads itself (no FIONREAD). A stream of equal messages must
// settle at one read per message: a 16 KiB message fills a 16 KiB block but for its header's
// worth, and the short read of that tail must not shrink the size back (it did: two reads
// per message for good, the echo benchmark's 16 KiB x 1 connection at 0.80 of raw epoll).
TEST(BufferRing, AdaptiveReadSettlesAtOneReadPerMessage) {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int sz = 1 << 20;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    ASSERT_EQ(evutil_make_socket_nonblocking(sv[1]), 0);
    evbuffer *in = evbuffer_new();
    const std::string msg(16384, 'm');
    std::vector<int> reads;
    for (int m = 0; m < 12; ++m) {
        ASSERT_EQ(write(sv[0], msg.data(), msg.size()), ssize_t(msg.size()));
        int n = 0;
        while (evbuffer_get_length(in) < msg.size()) {
            ASSERT_GT(evbuffer_read(in, sv[1], -1), 0);
            ++n;
        }
        ASSERT_EQ(evbuffer_get_length(in), msg.size());
        evbuffer_drain(in, msg.size());
        reads.push_back(n);
    }
    for (size_t m = 4; m < reads.size(); ++m) EXPECT_EQ(reads[m], 1) << "message " << m;
    evbuffer_free(in);
    close(sv[0]);
    close(sv[1]);
}

// An emptied buffer gives its State (ring, counters) back to the per-thread cache and points
// at the shared empty one again: an idle keep-alive connection's buffers hold no State.
// What must persist stays: a lock, deferred callbacks, a reserved spare.
TEST(BufferState, EmptiedBufferReleasesItsState) {
    auto holds = [](evbuffer *b) { return static_cast<Buffer *>(b)->holds_state(); };
    evbuffer *b = evbuffer_new();
    EXPECT_FALSE(holds(b));
    evbuffer_add(b, "hello", 5);
    EXPECT_TRUE(holds(b));
    evbuffer_drain(b, 2);
    EXPECT_TRUE(holds(b));
    evbuffer_drain(b, 3);
    EXPECT_FALSE(holds(b));
    char out[8];
    evbuffer_add(b, "hello", 5);
    EXPECT_EQ(evbuffer_remove(b, out, sizeof out), 5);
    EXPECT_FALSE(holds(b));
    // Moves: the source is left empty, the destination takes the data (and, when empty,
    // the source's whole State).
    evbuffer *other = evbuffer_new();
    evbuffer_add(b, "hello", 5);
    EXPECT_EQ(evbuffer_add_buffer(other, b), 0);
    EXPECT_FALSE(holds(b));
    EXPECT_TRUE(holds(other));
    EXPECT_EQ(evbuffer_add_buffer(b, other), 0);
    EXPECT_FALSE(holds(other));
    EXPECT_EQ(evbuffer_remove_buffer(b, other, 100), 5);
    EXPECT_FALSE(holds(b));
    EXPECT_EQ(evbuffer_prepend_buffer(b, other), 0);
    EXPECT_FALSE(holds(other));
    EXPECT_EQ(all(b), "hello");
    evbuffer_add(b, "\n", 1);
    size_t n = 0;
    char *line = evbuffer_readln(b, &n, EVBUFFER_EOL_LF);
    ASSERT_NE(line, nullptr);
    EXPECT_STREQ(line, "hello");
    free(line);
    EXPECT_FALSE(holds(b));
    // A socket read and write.
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ASSERT_EQ(evutil_make_socket_nonblocking(sv[1]), 0);
    evbuffer_add(b, "ping", 4);
    EXPECT_EQ(evbuffer_write(b, sv[0]), 4);
    EXPECT_FALSE(holds(b));
    EXPECT_EQ(evbuffer_read(b, sv[1], -1), 4);
    EXPECT_TRUE(holds(b));
    evbuffer_drain(b, 4);
    EXPECT_EQ(evbuffer_read(b, sv[1], -1), -1);  // EAGAIN: the State taken for it goes back
    EXPECT_FALSE(holds(b));
    close(sv[0]);
    close(sv[1]);
    // Reserved space keeps the State until it is committed and drained.
    evbuffer_iovec v[1];
    ASSERT_EQ(evbuffer_reserve_space(b, 100, v, 1), 1);
    EXPECT_TRUE(holds(b));
    std::memcpy(v[0].iov_base, "abc", 3);
    v[0].iov_len = 3;
    ASSERT_EQ(evbuffer_commit_space(b, v, 1), 0);
    EXPECT_EQ(all(b), "abc");
    evbuffer_drain(b, 3);
    EXPECT_FALSE(holds(b));
    // A lock pins the State (other threads read it to find the lock).
    ASSERT_EQ(evbuffer_enable_locking(other, nullptr), 0);
    evbuffer_add(other, "x", 1);
    evbuffer_drain(other, 1);
    EXPECT_TRUE(holds(other));
    // A locked destination does not take an unlocked source's State, and the reverse.
    evbuffer_add(b, "x", 1);
    EXPECT_EQ(evbuffer_add_buffer(other, b), 0);
    EXPECT_FALSE(holds(b));
    EXPECT_TRUE(holds(other));
    EXPECT_EQ(evbuffer_add_buffer(b, other), 0);
    EXPECT_TRUE(holds(other));
    EXPECT_EQ(all(b), "x");
    evbuffer_free(other);
    evbuffer_free(b);
}

namespace {
struct CbLog {
    size_t added = 0, deleted = 0, calls = 0;
    bool drain_on_delete = false;  // the callback empties the buffer after a deletion
};
void log_cb(evbuffer *b, const evbuffer_cb_info *info, void *arg) {
    auto *log = static_cast<CbLog *>(arg);
    log->added += info->n_added;
    log->deleted += info->n_deleted;
    ++log->calls;
    if (log->drain_on_delete && info->n_deleted && evbuffer_get_length(b))
        evbuffer_drain(b, evbuffer_get_length(b));
}
}  // namespace

// A buffer emptied and refilled many times (its State given back and taken again each time)
// keeps working: callbacks see every change, positions, search, peek, freeze,
// reserve/commit, prepend, pullup, readln.
TEST(BufferState, EmptiedAndRefilledManyTimes) {
    evbuffer *b = evbuffer_new();
    evbuffer *sink = evbuffer_new();
    CbLog log;
    ASSERT_NE(evbuffer_add_cb(b, log_cb, &log), nullptr);
    size_t added = 0, deleted = 0;
    for (int round = 0; round < 2000; ++round) {
        std::string msg = "line " + std::to_string(round) + "\r\nrest";
        ASSERT_EQ(evbuffer_add(b, msg.data(), msg.size()), 0);
        added += msg.size();
        evbuffer_ptr p = evbuffer_search(b, "rest", 4, nullptr);
        ASSERT_EQ(p.pos, ev_ssize_t(msg.size() - 4));
        char c = 0;
        ASSERT_EQ(evbuffer_copyout_from(b, &p, &c, 1), 1);
        EXPECT_EQ(c, 'r');
        evbuffer_iovec v[2];
        ASSERT_GE(evbuffer_peek(b, -1, nullptr, v, 2), 1);
        ASSERT_EQ(evbuffer_prepend(b, "<", 1), 0);
        added += 1;
        ASSERT_NE(evbuffer_pullup(b, -1), nullptr);
        evbuffer_freeze(b, 0);
        EXPECT_EQ(evbuffer_add(b, "x", 1), -1);
        evbuffer_unfreeze(b, 0);
        evbuffer_freeze(b, 1);
        EXPECT_EQ(evbuffer_drain(b, 1), -1);
        evbuffer_unfreeze(b, 1);
        ASSERT_GE(evbuffer_reserve_space(b, 2, v, 1), 1);
        std::memcpy(v[0].iov_base, "!!", 2);
        v[0].iov_len = 2;
        ASSERT_EQ(evbuffer_commit_space(b, v, 1), 0);
        added += 2;
        size_t n = 0;
        char *line = evbuffer_readln(b, &n, EVBUFFER_EOL_CRLF);
        ASSERT_NE(line, nullptr);
        EXPECT_EQ(std::string(line), "<line " + std::to_string(round));
        free(line);
        deleted += n + 2;
        ASSERT_EQ(all(b), "rest!!");
        ASSERT_TRUE(static_cast<Buffer *>(b)->check_invariants());
        // Empty it one of several ways.
        size_t left = evbuffer_get_length(b);
        switch (round % 4) {
        case 0: evbuffer_drain(b, left); break;
        case 1: { char out[16]; ASSERT_EQ(evbuffer_remove(b, out, sizeof out), int(left)); break; }
        case 2: ASSERT_EQ(evbuffer_add_buffer(sink, b), 0); evbuffer_drain(sink, left); break;
        case 3: ASSERT_EQ(evbuffer_remove_buffer(b, sink, left), int(left)); evbuffer_drain(sink, left); break;
        }
        deleted += left;
        ASSERT_FALSE(static_cast<Buffer *>(b)->holds_state()) << round;
        ASSERT_FALSE(static_cast<Buffer *>(sink)->holds_state()) << round;
        ASSERT_EQ(log.added, added);
        ASSERT_EQ(log.deleted, deleted);
    }
    // A callback that empties the buffer from inside its own run (the operation that ran it
    // may still use the State: it is released after).
    log.drain_on_delete = true;
    for (int round = 0; round < 100; ++round) {
        ASSERT_EQ(evbuffer_add(b, "0123456789\nab", 13), 0);
        // readln drains the line, the callback the rest (the terminator too), then readln
        // drains the terminator from the emptied buffer.
        char *line = evbuffer_readln(b, nullptr, EVBUFFER_EOL_LF);
        ASSERT_NE(line, nullptr);
        EXPECT_STREQ(line, "0123456789");
        free(line);
        EXPECT_EQ(evbuffer_get_length(b), 0u);
        EXPECT_FALSE(static_cast<Buffer *>(b)->holds_state());
        ASSERT_EQ(evbuffer_add(b, "abcdef", 6), 0);
        ASSERT_EQ(evbuffer_drain(b, 1), 0);
        EXPECT_EQ(evbuffer_get_length(b), 0u);
        EXPECT_FALSE(static_cast<Buffer *>(b)->holds_state());
    }
    evbuffer_free(sink);
    evbuffer_free(b);
}
