// Moving data between buffers (add_buffer, remove_buffer, prepend_buffer), sharing it
// (add_buffer_reference), caller memory by reference and file segments.
#include "buffer_test_util.h"
#include "differences.h"

#include <event2/event.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

using buftest::contents;
using buftest::make;
using buftest::Pieces;

TEST(BufferMove, AddBufferMovesEverything) {
    auto a = make(), b = make();
    evbuffer_add(a.get(), "head-", 5);
    std::string big(10000, 'm');
    evbuffer_add(b.get(), big.data(), big.size());
    ASSERT_EQ(evbuffer_add_buffer(a.get(), b.get()), 0);
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
    EXPECT_EQ(contents(a.get()), "head-" + big);
    // The source stays usable.
    evbuffer_add(b.get(), "again", 5);
    EXPECT_EQ(contents(b.get()), "again");
}

TEST(BufferMove, AddBufferKeepsEachSourceChunkAsItsOwnExtent) {
    // Sixteen small buffers appended one by one stay sixteen extents (libevent moves the
    // chains rather than copying into the tail), as evbuffer_peek counts them.
    auto a = make();
    for (int i = 0; i < 16; ++i) {
        auto piece = make();
        evbuffer_add_printf(piece.get(), "chunk %d;", i);
        ASSERT_EQ(evbuffer_add_buffer(a.get(), piece.get()), 0);
    }
    EXPECT_EQ(evbuffer_peek(a.get(), -1, nullptr, nullptr, 0), 16);
    evbuffer_iovec v[2];
    EXPECT_EQ(evbuffer_peek(a.get(), 9, nullptr, v, 2), 2);  // "chunk 0;" is 8 bytes
    EXPECT_EQ(v[0].iov_len, 8u);
}

TEST(BufferMove, AddBufferOfEmptyIsNoop) {
    auto a = make(), b = make();
    evbuffer_add(a.get(), "x", 1);
    EXPECT_EQ(evbuffer_add_buffer(a.get(), b.get()), 0);
    EXPECT_EQ(contents(a.get()), "x");
}

TEST(BufferMove, RemoveBufferMovesPrefix) {
    auto a = make(), b = make();
    Pieces p;
    p.add(a.get(), {"abc", "defgh", "ij"});
    evbuffer_add(b.get(), ">", 1);
    EXPECT_EQ(evbuffer_remove_buffer(a.get(), b.get(), 5), 5);
    EXPECT_EQ(contents(a.get()), "fghij");
    EXPECT_EQ(contents(b.get()), ">abcde");
    EXPECT_EQ(evbuffer_remove_buffer(a.get(), b.get(), 100), 5);
    EXPECT_EQ(contents(b.get()), ">abcdefghij");
    EXPECT_EQ(evbuffer_get_length(a.get()), 0u);
    EXPECT_EQ(evbuffer_remove_buffer(a.get(), b.get(), 100), 0);
}

TEST(BufferMove, RemoveBufferLargePartialSegment) {
    auto a = make(), b = make();
    std::string big(20000, 'q');
    for (size_t i = 0; i < big.size(); ++i) big[i] = char('a' + i % 23);
    evbuffer_add(a.get(), big.data(), big.size());
    EXPECT_EQ(evbuffer_remove_buffer(a.get(), b.get(), 7000), 7000);
    EXPECT_EQ(contents(b.get()), big.substr(0, 7000));
    EXPECT_EQ(contents(a.get()), big.substr(7000));
    // Both keep working independently.
    evbuffer_add(a.get(), "A", 1);
    evbuffer_add(b.get(), "B", 1);
    evbuffer_drain(a.get(), 100);
    EXPECT_EQ(contents(b.get()), big.substr(0, 7000) + "B");
    EXPECT_EQ(contents(a.get()), big.substr(7100) + "A");
}

TEST(BufferMove, PrependBufferPutsSourceInFront) {
    auto a = make(), b = make();
    evbuffer_add(a.get(), "world", 5);
    Pieces p;
    p.add(b.get(), {"hel", "lo "});
    ASSERT_EQ(evbuffer_prepend_buffer(a.get(), b.get()), 0);
    EXPECT_EQ(contents(a.get()), "hello world");
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
}

TEST(BufferReference, AddBufferReferenceSharesWithoutDraining) {
    auto a = make(), b = make();
    std::string big(5000, 'r');
    evbuffer_add(b.get(), big.data(), big.size());
    evbuffer_add(a.get(), "<", 1);
    ASSERT_EQ(evbuffer_add_buffer_reference(a.get(), b.get()), 0);
    EXPECT_EQ(contents(a.get()), "<" + big);
    EXPECT_EQ(contents(b.get()), big);
    // Changing one does not change the other.
    evbuffer_drain(b.get(), 10);
    evbuffer_add(b.get(), "tail", 4);
    EXPECT_EQ(contents(a.get()), "<" + big);
    evbuffer_drain(a.get(), 3000);
    EXPECT_EQ(contents(b.get()), big.substr(10) + "tail");
    // Freeing the source keeps the shared bytes alive for the other buffer.
    b.reset();
    EXPECT_EQ(contents(a.get()), big.substr(2999));
}

TEST(BufferReference, ReferencedBufferCannotBeReferencedAgain) {
    auto a = make(), b = make(), c = make();
    evbuffer_add(b.get(), "data", 4);
    ASSERT_EQ(evbuffer_add_buffer_reference(a.get(), b.get()), 0);
    EXPECT_EQ(evbuffer_add_buffer_reference(c.get(), a.get()), -1);
    EXPECT_EQ(evbuffer_get_length(c.get()), 0u);
    // The original can be referenced any number of times.
    EXPECT_EQ(evbuffer_add_buffer_reference(c.get(), b.get()), 0);
    EXPECT_EQ(contents(c.get()), "data");
}

namespace {
struct CleanupLog {
    int calls = 0;
    const void *data = nullptr;
    size_t len = 0;
};
void on_cleanup(const void *data, size_t len, void *arg) {
    auto *log = static_cast<CleanupLog *>(arg);
    ++log->calls;
    log->data = data;
    log->len = len;
}
}  // namespace

TEST(BufferReference, CleanupRunsOnceWhenLastByteDrained) {
    static const char kText[] = "referenced memory";
    CleanupLog log;
    auto b = make();
    ASSERT_EQ(evbuffer_add_reference(b.get(), kText, 17, on_cleanup, &log), 0);
    evbuffer_add(b.get(), "+more", 5);
    EXPECT_EQ(contents(b.get()), "referenced memory+more");
    evbuffer_drain(b.get(), 10);
    EXPECT_EQ(log.calls, 0);
    char out[8];
    evbuffer_remove(b.get(), out, 7);
    EXPECT_EQ(log.calls, 1);
    EXPECT_EQ(log.data, kText);
    EXPECT_EQ(log.len, 17u);
    b.reset();
    EXPECT_EQ(log.calls, 1);
}

TEST(BufferReference, CleanupRunsOnceWhenBufferFreed) {
    static const char kText[] = "abc";
    CleanupLog log;
    auto b = make();
    ASSERT_EQ(evbuffer_add_reference(b.get(), kText, 3, on_cleanup, &log), 0);
    b.reset();
    EXPECT_EQ(log.calls, 1);
}

TEST(BufferReference, CleanupWaitsForEveryBufferSharingIt) {
    static const char kText[] = "shared";
    CleanupLog log;
    auto a = make(), b = make();
    ASSERT_EQ(evbuffer_add_reference(b.get(), kText, 6, on_cleanup, &log), 0);
    ASSERT_EQ(evbuffer_add_buffer_reference(a.get(), b.get()), 0);
    b.reset();
    EXPECT_EQ(log.calls, 0);
    EXPECT_EQ(contents(a.get()), "shared");
    a.reset();
    EXPECT_EQ(log.calls, 1);
}

TEST(BufferReference, MovedReferenceCleansUpInNewOwner) {
    static const char kText[] = "moving";
    CleanupLog log;
    auto a = make(), b = make();
    ASSERT_EQ(evbuffer_add_reference(b.get(), kText, 6, on_cleanup, &log), 0);
    ASSERT_EQ(evbuffer_add_buffer(a.get(), b.get()), 0);
    b.reset();
    EXPECT_EQ(log.calls, 0);
    EXPECT_EQ(contents(a.get()), "moving");
    evbuffer_drain(a.get(), 6);
    EXPECT_EQ(log.calls, 1);
}

TEST(BufferReference, SmallReferenceMovedBehindDataStaysAReference) {
    // add_buffer moves segments, even tiny ones behind a destination with room: the
    // cleanup runs when the bytes leave the destination, not at the move.
    static const char kText[] = "tiny";
    CleanupLog log;
    auto a = make(), b = make();
    evbuffer_add(a.get(), "head", 4);
    ASSERT_EQ(evbuffer_add_reference(b.get(), kText, 4, on_cleanup, &log), 0);
    ASSERT_EQ(evbuffer_add_buffer(a.get(), b.get()), 0);
    EXPECT_EQ(log.calls, 0);
    EXPECT_EQ(contents(a.get()), "headtiny");
    evbuffer_drain(a.get(), 4);
    EXPECT_EQ(log.calls, 0);
    evbuffer_drain(a.get(), 4);
    EXPECT_EQ(log.calls, 1);
}

namespace {
struct CleanupOrder {
    std::vector<int> ran;  // the pieces' numbers, in the order their cleanups ran
};
void record_cleanup(const void *data, size_t, void *arg) {
    auto *o = static_cast<CleanupOrder *>(arg);
    o->ran.push_back(*static_cast<const char *>(data) - '0');
}
}  // namespace

TEST(BufferReference, ManyInFlightEachCleanedUpOnceInOrder) {
    // Rounds of ten references held at once and released together - by one drain of
    // everything, a remove of everything, a drain that ends inside the last one, and
    // freeing the buffer: each cleanup runs once, in the order the pieces were added,
    // when its last byte goes. Over the rounds the library may reuse what it kept of
    // earlier references.
    static const char kPieces[] = "0000111122223333444455556666777788889999";
    for (int round = 0; round < 40; ++round) {
        CleanupOrder order;
        auto b = make();
        for (int i = 0; i < 10; ++i)
            ASSERT_EQ(evbuffer_add_reference(b.get(), kPieces + 4 * i, 4, record_cleanup, &order), 0);
        ASSERT_EQ(evbuffer_get_length(b.get()), 40u);
        switch (round % 4) {
        case 0:
            ASSERT_EQ(evbuffer_drain(b.get(), 1000), 0);
            break;
        case 1: {
            char out[64];
            ASSERT_EQ(evbuffer_remove(b.get(), out, sizeof out), 40);
            ASSERT_EQ(std::string(out, 40), kPieces);
            break;
        }
        case 2:
            ASSERT_EQ(evbuffer_drain(b.get(), 39), 0);
            EXPECT_EQ(order.ran.size(), 9u);
            ASSERT_EQ(evbuffer_drain(b.get(), 1), 0);
            break;
        case 3:
            b.reset();
            break;
        }
        EXPECT_EQ(order.ran, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})) << "round " << round;
        b.reset();
        EXPECT_EQ(order.ran.size(), 10u);
    }
}

// What the library keeps of released references and file segments for reuse is still
// its allocation: libevent_global_shutdown must leave none behind. Counted through
// event_set_mem_functions in a child process, set before the library allocates there.
namespace {
long g_ref_live = 0;
void *ref_malloc(size_t n) {
    void *p = std::malloc(n);
    if (p) ++g_ref_live;
    return p;
}
void *ref_realloc(void *p, size_t n) {
    void *q = std::realloc(p, n);
    if (!p && q) ++g_ref_live;
    return q;
}
void ref_free(void *p) {
    if (p) --g_ref_live;
    std::free(p);
}
[[noreturn]] void reference_shutdown_child() {
    event_set_mem_functions(ref_malloc, ref_realloc, ref_free);
    static const char kText[] = "0123456789abcdef";
    int fd = -1;
    {
        char path[] = "/tmp/reevent_buffer_XXXXXX";
        fd = mkstemp(path);
        if (fd < 0) std::exit(2);
        unlink(path);
        if (write(fd, kText, 16) != 16) std::exit(2);
    }
    evbuffer_file_segment *seg = evbuffer_file_segment_new(fd, 0, 16, EVBUF_FS_CLOSE_ON_FREE);
    if (!seg) std::exit(2);
    evbuffer *b = evbuffer_new();
    for (int round = 0; round < 100; ++round) {
        for (int i = 0; i < 1 + round % 7; ++i) {
            evbuffer_add_reference(b, kText, 16, nullptr, nullptr);
            evbuffer_add_file_segment(b, seg, 0, 16);
        }
        evbuffer_drain(b, evbuffer_get_length(b) - (round % 3));
    }
    evbuffer_free(b);
    evbuffer_file_segment_free(seg);
    libevent_global_shutdown();
    std::exit(g_ref_live == 0 ? 0 : 1);
}
}  // namespace

TEST(BufferReference, GlobalShutdownLeavesNoneOfTheirAllocationsBehind) {
    EXPECT_EXIT(reference_shutdown_child(), ::testing::ExitedWithCode(0), "");
}

TEST(BufferReference, ZeroLengthReferenceCleansUpOnce) {
    CleanupLog log;
    {
        auto b = make();
        EXPECT_EQ(evbuffer_add_reference(b.get(), "x", 0, on_cleanup, &log), 0);
        EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
    }
    EXPECT_EQ(log.calls, 1);
}

// ---- files -------------------------------------------------------------------------------

namespace {
// A temporary file holding `text`; returns an fd positioned anywhere.
int temp_file(const std::string &text) {
    char path[] = "/tmp/reevent_buffer_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    unlink(path);
    if (write(fd, text.data(), text.size()) != ssize_t(text.size())) {
        close(fd);
        return -1;
    }
    return fd;
}

bool fd_is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

std::string file_text(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = char('A' + (i * 7) % 26);
    return s;
}
}  // namespace

TEST(BufferFile, AddFileWithOffsetAndLength) {
    std::string text = file_text(10000);
    int fd = temp_file(text);
    ASSERT_GE(fd, 0);
    auto b = make();
    evbuffer_add(b.get(), "<", 1);
    ASSERT_EQ(evbuffer_add_file(b.get(), fd, 100, 5000), 0);
    evbuffer_add(b.get(), ">", 1);
    EXPECT_EQ(evbuffer_get_length(b.get()), 5002u);
    EXPECT_EQ(contents(b.get()), "<" + text.substr(100, 5000) + ">");
    b.reset();
    EXPECT_FALSE(fd_is_open(fd));  // the buffer owned the fd
}

TEST(BufferFile, AddFileToEndOfFile) {
    std::string text = file_text(3000);
    int fd = temp_file(text);
    ASSERT_GE(fd, 0);
    auto b = make();
    ASSERT_EQ(evbuffer_add_file(b.get(), fd, 1000, -1), 0);
    std::string got = contents(b.get());
    EXPECT_EQ(got.substr(0, 2000), text.substr(1000));
    // libevent takes the whole file size as the length (reading past the end as zeros).
    if (conf::kFileToEndIsSizeMinusOffset) {
        EXPECT_EQ(got.size(), 2000u);
    }
}

TEST(BufferFile, SegmentAddedTwiceWithRanges) {
    std::string text = file_text(8192);
    int fd = temp_file(text);
    ASSERT_GE(fd, 0);
    evbuffer_file_segment *seg = evbuffer_file_segment_new(fd, 1000, 4000, EVBUF_FS_CLOSE_ON_FREE);
    ASSERT_NE(seg, nullptr);
    auto a = make(), b = make();
    ASSERT_EQ(evbuffer_add_file_segment(a.get(), seg, 0, 100), 0);
    ASSERT_EQ(evbuffer_add_file_segment(a.get(), seg, 3900, -1), 0);
    ASSERT_EQ(evbuffer_add_file_segment(b.get(), seg, 500, 10), 0);
    evbuffer_file_segment_free(seg);
    EXPECT_EQ(contents(a.get()), text.substr(1000, 100) + text.substr(4900, 100));
    EXPECT_EQ(contents(b.get()), text.substr(1500, 10));
    a.reset();
    EXPECT_TRUE(fd_is_open(fd));
    b.reset();
    EXPECT_FALSE(fd_is_open(fd));
}

namespace {
struct SegCleanup {
    int calls = 0;
    int flags = -1;
};
void on_seg_cleanup(const evbuffer_file_segment *, int flags, void *arg) {
    auto *c = static_cast<SegCleanup *>(arg);
    ++c->calls;
    c->flags = flags;
}
}  // namespace

TEST(BufferFile, SegmentCleanupRunsWhenLastUserGoes) {
    int fd = temp_file("0123456789");
    ASSERT_GE(fd, 0);
    SegCleanup c;
    evbuffer_file_segment *seg = evbuffer_file_segment_new(fd, 0, -1, 0);
    ASSERT_NE(seg, nullptr);
    evbuffer_file_segment_add_cleanup_cb(seg, on_seg_cleanup, &c);
    auto b = make();
    ASSERT_EQ(evbuffer_add_file_segment(b.get(), seg, 2, 3), 0);
    evbuffer_file_segment_free(seg);
    EXPECT_EQ(c.calls, 0);
    EXPECT_EQ(contents(b.get()), "234");
    evbuffer_drain(b.get(), 3);
    EXPECT_EQ(c.calls, 1);
    EXPECT_EQ(c.flags, 0);
    EXPECT_TRUE(fd_is_open(fd));  // no EVBUF_FS_CLOSE_ON_FREE
    close(fd);
}

TEST(BufferFile, DisableMmapStillReadable) {
    std::string text = file_text(5000);
    int fd = temp_file(text);
    ASSERT_GE(fd, 0);
    evbuffer_file_segment *seg =
        evbuffer_file_segment_new(fd, 7, 4000, EVBUF_FS_CLOSE_ON_FREE | EVBUF_FS_DISABLE_MMAP);
    ASSERT_NE(seg, nullptr);
    auto b = make();
    ASSERT_EQ(evbuffer_add_file_segment(b.get(), seg, 0, -1), 0);
    evbuffer_file_segment_free(seg);
    EXPECT_EQ(contents(b.get()), text.substr(7, 4000));
}

TEST(BufferFile, SegmentRangePastItsEndFails) {
    if (!conf::kIsReevent) GTEST_SKIP() << "libevent reads past the segment and crashes";
    int fd = temp_file("0123456789");
    ASSERT_GE(fd, 0);
    evbuffer_file_segment *seg = evbuffer_file_segment_new(fd, 0, 10, EVBUF_FS_CLOSE_ON_FREE);
    ASSERT_NE(seg, nullptr);
    auto b = make();
    EXPECT_EQ(evbuffer_add_file_segment(b.get(), seg, 5, 6), -1);
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
    evbuffer_file_segment_free(seg);
}

TEST(BufferFile, SendfileSegmentIsReadableOnReevent) {
    // libevent leaves reading a sendfile segment undefined; reevent maps it on demand.
    if (!conf::kIsReevent) GTEST_SKIP() << "undefined in libevent";
    std::string text = file_text(9000);
    int fd = temp_file(text);
    ASSERT_GE(fd, 0);
    auto b = make();
    evbuffer_set_flags(b.get(), EVBUFFER_FLAG_DRAINS_TO_FD);
    ASSERT_EQ(evbuffer_add_file(b.get(), fd, 50, 8000), 0);
    unsigned char *d = evbuffer_pullup(b.get(), 100);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(std::memcmp(d, text.data() + 50, 100), 0);
    EXPECT_EQ(contents(b.get()), text.substr(50, 8000));
}
