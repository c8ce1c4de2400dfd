// evbuffer basics: add/remove/copyout/drain/prepend/pullup/expand/printf/iovec,
// reserve/commit, freezing and bad input.
#include "buffer_test_util.h"
#include "differences.h"

#include <event2/thread.h>

#include <climits>
#include <cstdarg>
#include <cstring>

using buftest::contents;
using buftest::make;

TEST(BufferBasic, NewBufferIsEmpty) {
    auto b = make();
    ASSERT_TRUE(b);
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
    EXPECT_EQ(evbuffer_get_contiguous_space(b.get()), 0u);
}

TEST(BufferBasic, AddThenRemoveReturnsSameBytesInOrder) {
    auto b = make();
    ASSERT_EQ(evbuffer_add(b.get(), "hello ", 6), 0);
    ASSERT_EQ(evbuffer_add(b.get(), "world", 5), 0);
    EXPECT_EQ(evbuffer_get_length(b.get()), 11u);
    char out[32] = {};
    EXPECT_EQ(evbuffer_remove(b.get(), out, 5), 5);
    EXPECT_STREQ(out, "hello");
    EXPECT_EQ(contents(b.get()), " world");
}

TEST(BufferBasic, RemoveMoreThanAvailableGivesWhatIsThere) {
    auto b = make();
    evbuffer_add(b.get(), "abc", 3);
    char out[10];
    EXPECT_EQ(evbuffer_remove(b.get(), out, sizeof out), 3);
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
    EXPECT_EQ(evbuffer_remove(b.get(), out, sizeof out), 0);
}

TEST(BufferBasic, ManySmallAddsKeepEveryByte) {
    auto b = make();
    std::string model;
    for (int i = 0; i < 20000; ++i) {
        char c[3] = {char('a' + i % 26), char('0' + i % 10), '\n'};
        ASSERT_EQ(evbuffer_add(b.get(), c, 3), 0);
        model.append(c, 3);
    }
    EXPECT_EQ(contents(b.get()), model);
}

TEST(BufferBasic, LargeAddIsOneCopy) {
    auto b = make();
    std::string big(1 << 20, 'x');
    for (size_t i = 0; i < big.size(); i += 4093) big[i] = char(i);
    ASSERT_EQ(evbuffer_add(b.get(), big.data(), big.size()), 0);
    EXPECT_EQ(contents(b.get()), big);
}

TEST(BufferBasic, CopyoutLeavesBufferUnchanged) {
    auto b = make();
    evbuffer_add(b.get(), "abcdef", 6);
    char out[4] = {};
    EXPECT_EQ(evbuffer_copyout(b.get(), out, 3), 3);
    EXPECT_STREQ(out, "abc");
    EXPECT_EQ(evbuffer_get_length(b.get()), 6u);
}

TEST(BufferBasic, CopyoutFromPositionAcrossSegments) {
    auto b = make();
    buftest::Pieces p;
    p.add(b.get(), {"abc", "def", "ghi"});
    evbuffer_ptr ptr;
    ASSERT_EQ(evbuffer_ptr_set(b.get(), &ptr, 2, EVBUFFER_PTR_SET), 0);
    char out[8] = {};
    EXPECT_EQ(evbuffer_copyout_from(b.get(), &ptr, out, 5), 5);
    EXPECT_STREQ(out, "cdefg");
    ASSERT_EQ(evbuffer_ptr_set(b.get(), &ptr, 9, EVBUFFER_PTR_SET), 0);
    EXPECT_EQ(evbuffer_copyout_from(b.get(), &ptr, out, 5), 0);
}

TEST(BufferBasic, DrainPartialAndAll) {
    auto b = make();
    buftest::Pieces p;
    p.add(b.get(), {"abc", "def"});
    EXPECT_EQ(evbuffer_drain(b.get(), 4), 0);
    EXPECT_EQ(contents(b.get()), "ef");
    EXPECT_EQ(evbuffer_drain(b.get(), 100), 0);
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
}

TEST(BufferBasic, PrependGoesInFront) {
    auto b = make();
    evbuffer_add(b.get(), "world", 5);
    ASSERT_EQ(evbuffer_prepend(b.get(), "hello ", 6), 0);
    ASSERT_EQ(evbuffer_prepend(b.get(), ">", 1), 0);
    EXPECT_EQ(contents(b.get()), ">hello world");
    auto e = make();
    ASSERT_EQ(evbuffer_prepend(e.get(), "x", 1), 0);
    ASSERT_EQ(evbuffer_add(e.get(), "y", 1), 0);
    EXPECT_EQ(contents(e.get()), "xy");
}

TEST(BufferBasic, PullupWholeBufferMakesItContiguous) {
    auto b = make();
    buftest::Pieces p;
    p.add(b.get(), {"ab", "cd", "ef", "gh"});
    evbuffer_add(b.get(), "ij", 2);
    unsigned char *d = evbuffer_pullup(b.get(), -1);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(std::memcmp(d, "abcdefghij", 10), 0);
    EXPECT_EQ(evbuffer_get_contiguous_space(b.get()), 10u);
    EXPECT_EQ(evbuffer_get_length(b.get()), 10u);
    EXPECT_EQ(contents(b.get()), "abcdefghij");
}

TEST(BufferBasic, PullupPrefixAndTooMuch) {
    auto b = make();
    buftest::Pieces p;
    p.add(b.get(), {"ab", "cd", "ef"});
    unsigned char *d = evbuffer_pullup(b.get(), 3);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(std::memcmp(d, "abc", 3), 0);
    EXPECT_GE(evbuffer_get_contiguous_space(b.get()), 3u);
    EXPECT_EQ(contents(b.get()), "abcdef");
    EXPECT_EQ(evbuffer_pullup(b.get(), 7), nullptr);
    EXPECT_EQ(contents(b.get()), "abcdef");
}

TEST(BufferBasic, PullupOfEmptyBufferIsNull) {
    auto b = make();
    EXPECT_EQ(evbuffer_pullup(b.get(), -1), nullptr);
    EXPECT_EQ(EVBUFFER_DATA(b.get()), nullptr);
    EXPECT_EQ(EVBUFFER_LENGTH(b.get()), 0u);
}

TEST(BufferBasic, ContiguousSpaceIsFirstSegment) {
    auto b = make();
    buftest::Pieces p;
    p.add(b.get(), {"abc", "defg"});
    EXPECT_EQ(evbuffer_get_contiguous_space(b.get()), 3u);
}

TEST(BufferBasic, ExpandThenAddKeepsData) {
    auto b = make();
    evbuffer_add(b.get(), "x", 1);
    ASSERT_EQ(evbuffer_expand(b.get(), 100000), 0);
    std::string s(100000, 'q');
    ASSERT_EQ(evbuffer_add(b.get(), s.data(), s.size()), 0);
    EXPECT_EQ(contents(b.get()), "x" + s);
}

TEST(BufferBasic, AddPrintfFormats) {
    auto b = make();
    EXPECT_EQ(evbuffer_add_printf(b.get(), "%d-%s", 42, "x"), 4);
    std::string big(5000, 'z');
    EXPECT_EQ(evbuffer_add_printf(b.get(), "[%s]", big.c_str()), 5002);
    EXPECT_EQ(contents(b.get()), "42-x[" + big + "]");
    EXPECT_EQ(evbuffer_add_printf(b.get(), "%s", ""), 0);
}

TEST(BufferBasic, AddIovecAppendsAllExtents) {
    auto b = make();
    evbuffer_add(b.get(), "<", 1);
    char a[] = "alpha", c[] = "gamma";
    std::string big(3000, 'b');
    evbuffer_iovec v[3] = {{a, 5}, {big.data(), big.size()}, {c, 5}};
    EXPECT_EQ(evbuffer_add_iovec(b.get(), v, 3), 3010u);
    EXPECT_EQ(contents(b.get()), "<alpha" + big + "gamma");
}

TEST(BufferBasic, ReserveCommitAppends) {
    auto b = make();
    evbuffer_add(b.get(), "ab", 2);
    evbuffer_iovec v[2];
    int n = evbuffer_reserve_space(b.get(), 100, v, 2);
    ASSERT_GE(n, 1);
    ASSERT_LE(n, 2);
    size_t room = 0;
    for (int i = 0; i < n; ++i) room += v[i].iov_len;
    EXPECT_GE(room, 100u);
    // Fill 100 bytes over the extents.
    size_t left = 100;
    char c = 'A';
    for (int i = 0; i < n; ++i) {
        size_t k = v[i].iov_len < left ? v[i].iov_len : left;
        std::memset(v[i].iov_base, c++, k);
        v[i].iov_len = k;
        left -= k;
    }
    ASSERT_EQ(evbuffer_commit_space(b.get(), v, n), 0);
    EXPECT_EQ(evbuffer_get_length(b.get()), 102u);
}

TEST(BufferBasic, ReserveWithOneVectorIsContiguous) {
    auto b = make();
    std::string s(700, 'a');
    evbuffer_add(b.get(), s.data(), s.size());
    evbuffer_iovec v[1];
    ASSERT_EQ(evbuffer_reserve_space(b.get(), 5000, v, 1), 1);
    EXPECT_GE(v[0].iov_len, 5000u);
    std::memset(v[0].iov_base, 'z', 5000);
    v[0].iov_len = 5000;
    ASSERT_EQ(evbuffer_commit_space(b.get(), v, 1), 0);
    EXPECT_EQ(contents(b.get()), s + std::string(5000, 'z'));
}

TEST(BufferBasic, CommitLessThanReserved) {
    auto b = make();
    evbuffer_iovec v[2];
    int n = evbuffer_reserve_space(b.get(), 64, v, 2);
    ASSERT_GE(n, 1);
    std::memcpy(v[0].iov_base, "partial", 7);
    v[0].iov_len = 7;
    ASSERT_EQ(evbuffer_commit_space(b.get(), v, 1), 0);
    EXPECT_EQ(contents(b.get()), "partial");
}

TEST(BufferBasic, ReserveTwiceGivesSameSpace) {
    auto b = make();
    evbuffer_add(b.get(), "x", 1);
    evbuffer_iovec v1[2], v2[2];
    int n1 = evbuffer_reserve_space(b.get(), 300, v1, 2);
    int n2 = evbuffer_reserve_space(b.get(), 300, v2, 2);
    ASSERT_EQ(n1, n2);
    for (int i = 0; i < n1; ++i) EXPECT_EQ(v1[i].iov_base, v2[i].iov_base);
}

TEST(BufferBasic, CommitOfForeignPointerFails) {
    auto b = make();
    evbuffer_iovec v[2];
    ASSERT_GE(evbuffer_reserve_space(b.get(), 16, v, 2), 1);
    char other[16];
    evbuffer_iovec bad = {other, 4};
    EXPECT_EQ(evbuffer_commit_space(b.get(), &bad, 1), -1);
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
}

TEST(BufferBasic, CommitMoreThanReservedFails) {
    auto b = make();
    evbuffer_iovec v[1];
    ASSERT_EQ(evbuffer_reserve_space(b.get(), 16, v, 1), 1);
    v[0].iov_len += 1;
    EXPECT_EQ(evbuffer_commit_space(b.get(), v, 1), -1);
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
}

TEST(BufferBasic, ReserveNegativeSizeFails) {
    auto b = make();
    evbuffer_iovec v[2];
    EXPECT_EQ(evbuffer_reserve_space(b.get(), -1, v, 2), -1);
}

TEST(BufferBasic, CommitZeroVectorsIsNoop) {
    auto b = make();
    evbuffer_iovec v[1];
    EXPECT_EQ(evbuffer_commit_space(b.get(), v, 0), 0);
}

TEST(BufferBasic, FrozenBackRejectsAppends) {
    auto b = make();
    evbuffer_add(b.get(), "abc", 3);
    ASSERT_EQ(evbuffer_freeze(b.get(), 0), 0);
    EXPECT_EQ(evbuffer_add(b.get(), "x", 1), -1);
    EXPECT_EQ(evbuffer_add_printf(b.get(), "x"), -1);
    evbuffer_iovec v[2];
    EXPECT_EQ(evbuffer_reserve_space(b.get(), 10, v, 2), -1);
    auto o = make();
    evbuffer_add(o.get(), "zz", 2);
    EXPECT_EQ(evbuffer_add_buffer(b.get(), o.get()), -1);
    EXPECT_EQ(contents(o.get()), "zz");
    // The front is still open.
    EXPECT_EQ(evbuffer_prepend(b.get(), ">", 1), 0);
    EXPECT_EQ(evbuffer_drain(b.get(), 1), 0);
    EXPECT_EQ(contents(b.get()), "abc");
    ASSERT_EQ(evbuffer_unfreeze(b.get(), 0), 0);
    EXPECT_EQ(evbuffer_add(b.get(), "d", 1), 0);
    EXPECT_EQ(contents(b.get()), "abcd");
}

TEST(BufferBasic, FrozenFrontRejectsRemovals) {
    auto b = make();
    evbuffer_add(b.get(), "abc\n", 4);
    ASSERT_EQ(evbuffer_freeze(b.get(), 1), 0);
    char out[4];
    EXPECT_EQ(evbuffer_drain(b.get(), 1), -1);
    EXPECT_EQ(evbuffer_remove(b.get(), out, 1), -1);
    size_t n = 5;
    EXPECT_EQ(evbuffer_readln(b.get(), &n, EVBUFFER_EOL_LF), nullptr);
    auto o = make();
    EXPECT_EQ(evbuffer_add_buffer(o.get(), b.get()), -1);
    EXPECT_EQ(evbuffer_remove_buffer(b.get(), o.get(), 2), -1);
    EXPECT_EQ(evbuffer_get_length(o.get()), 0u);
    // Appending is still allowed; copying out reads from the front, so it is refused.
    EXPECT_EQ(evbuffer_add(b.get(), "d", 1), 0);
    EXPECT_EQ(evbuffer_copyout(b.get(), out, 1), -1);
    evbuffer_unfreeze(b.get(), 1);
    EXPECT_EQ(contents(b.get()), "abc\nd");
    EXPECT_EQ(evbuffer_drain(b.get(), 4), 0);
    EXPECT_EQ(contents(b.get()), "d");
}

TEST(BufferBasic, ZeroLengthOperationsAreNoops) {
    auto b = make();
    EXPECT_EQ(evbuffer_add(b.get(), "x", 0), 0);
    EXPECT_EQ(evbuffer_drain(b.get(), 0), 0);
    EXPECT_EQ(evbuffer_copyout(b.get(), nullptr, 0), 0);
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
}

TEST(BufferBasic, FlagsSetAndClear) {
    auto b = make();
    EXPECT_EQ(evbuffer_set_flags(b.get(), EVBUFFER_FLAG_DRAINS_TO_FD), 0);
    EXPECT_EQ(evbuffer_clear_flags(b.get(), EVBUFFER_FLAG_DRAINS_TO_FD), 0);
}

TEST(BufferBasic, LockingCanBeEnabledOnceAndLockUnlockNest) {
    ASSERT_EQ(evthread_use_pthreads(), 0);
    auto b = make();
    EXPECT_EQ(evbuffer_enable_locking(b.get(), nullptr), 0);
    evbuffer_lock(b.get());
    evbuffer_lock(b.get());
    EXPECT_EQ(evbuffer_add(b.get(), "a", 1), 0);
    evbuffer_unlock(b.get());
    evbuffer_unlock(b.get());
    EXPECT_EQ(evbuffer_get_length(b.get()), 1u);
}

TEST(BufferBasic, LockUnlockWithoutLockingAreHarmless) {
    auto b = make();
    evbuffer_lock(b.get());
    evbuffer_unlock(b.get());
    SUCCEED();
}

// ---- bad input: clear error, buffer unchanged (reevent checks what libevent trusts) ----

TEST(BufferBadInput, NullDataWithLengthIsRejected) {
    if (!conf::kIsReevent) GTEST_SKIP() << "libevent dereferences the NULL pointer";
    auto b = make();
    evbuffer_add(b.get(), "abc", 3);
    EXPECT_EQ(evbuffer_add(b.get(), nullptr, 5), -1);
    EXPECT_EQ(evbuffer_prepend(b.get(), nullptr, 5), -1);
    EXPECT_EQ(evbuffer_remove(b.get(), nullptr, 2), -1);
    EXPECT_EQ(evbuffer_copyout(b.get(), nullptr, 2), -1);
    EXPECT_EQ(evbuffer_add_reference(b.get(), nullptr, 5, nullptr, nullptr), -1);
    EXPECT_EQ(contents(b.get()), "abc");
}

TEST(BufferBadInput, HugeLengthsAreRejected) {
    if (!conf::kIsReevent) GTEST_SKIP() << "libevent tries to allocate";
    auto b = make();
    evbuffer_add(b.get(), "abc", 3);
    char c = 'x';
    EXPECT_EQ(evbuffer_add(b.get(), &c, SIZE_MAX), -1);
    EXPECT_EQ(evbuffer_add(b.get(), &c, size_t(SSIZE_MAX)), -1);
    EXPECT_EQ(evbuffer_prepend(b.get(), &c, SIZE_MAX - 1), -1);
    EXPECT_EQ(evbuffer_expand(b.get(), SIZE_MAX), -1);
    EXPECT_EQ(evbuffer_add_reference(b.get(), &c, SIZE_MAX, nullptr, nullptr), -1);
    evbuffer_iovec v[2];
    EXPECT_EQ(evbuffer_reserve_space(b.get(), SSIZE_MAX, v, 2), -1);
    EXPECT_EQ(contents(b.get()), "abc");
}

TEST(BufferBadInput, PositionPastEndIsRejected) {
    if (!conf::kIsReevent) GTEST_SKIP() << "libevent follows the stale pointer";
    auto b = make();
    evbuffer_add(b.get(), "abc", 3);
    evbuffer_ptr p;
    p.pos = 10;
    p.internal_.chain = nullptr;
    p.internal_.pos_in_chain = 0;
    char out[4];
    EXPECT_EQ(evbuffer_copyout_from(b.get(), &p, out, 2), -1);
    EXPECT_EQ(evbuffer_search(b.get(), "a", 1, &p).pos, -1);
    EXPECT_EQ(evbuffer_peek(b.get(), -1, &p, nullptr, 0), -1);
    p.pos = -5;
    EXPECT_EQ(evbuffer_copyout_from(b.get(), &p, out, 2), -1);
    EXPECT_EQ(evbuffer_ptr_set(b.get(), &p, 1, EVBUFFER_PTR_ADD), -1);
    EXPECT_EQ(contents(b.get()), "abc");
}

TEST(BufferBadInput, StalePointerAfterDrainStaysInBounds) {
    auto b = make();
    buftest::Pieces pcs;
    pcs.add(b.get(), {"abcd", "efgh"});
    evbuffer_ptr p;
    ASSERT_EQ(evbuffer_ptr_set(b.get(), &p, 6, EVBUFFER_PTR_SET), 0);
    evbuffer_drain(b.get(), 1);
    // The pointer is invalid now; reevent resolves it by its position.
    if (conf::kIsReevent) {
        char out[4] = {};
        EXPECT_EQ(evbuffer_copyout_from(b.get(), &p, out, 3), 1);
        EXPECT_EQ(out[0], 'h');
    }
    SUCCEED();
}

TEST(BufferBadInput, AddBufferToItself) {
    auto b = make();
    evbuffer_add(b.get(), "abc", 3);
    int r = evbuffer_add_buffer(b.get(), b.get());
    EXPECT_EQ(r, conf::kBufferSelfAddFails ? -1 : 0);
    EXPECT_EQ(evbuffer_prepend_buffer(b.get(), b.get()), conf::kBufferSelfAddFails ? -1 : 0);
    EXPECT_EQ(evbuffer_remove_buffer(b.get(), b.get(), 2), conf::kBufferSelfAddFails ? -1 : 0);
    EXPECT_EQ(evbuffer_add_buffer_reference(b.get(), b.get()), -1);
    EXPECT_EQ(contents(b.get()), "abc");
}

TEST(BufferBadInput, NegativePeekVectorCountRejected) {
    if (!conf::kIsReevent) GTEST_SKIP();
    auto b = make();
    evbuffer_add(b.get(), "abc", 3);
    evbuffer_iovec v[1];
    EXPECT_EQ(evbuffer_peek(b.get(), -1, nullptr, v, -3), -1);
    EXPECT_EQ(evbuffer_commit_space(b.get(), v, -1), -1);
}

namespace {
int add_formatted(evbuffer *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = evbuffer_add_vprintf(b, fmt, ap);
    va_end(ap);
    return r;
}
}  // namespace

TEST(BufferBasic, AddVprintfFromVaList) {
    auto b = make();
    evbuffer_add(b.get(), "[", 1);
    EXPECT_EQ(add_formatted(b.get(), "%s=%05d;", "key", 7), 10);
    std::string big(2000, 'w');
    EXPECT_EQ(add_formatted(b.get(), "%s", big.c_str()), 2000);
    EXPECT_EQ(contents(b.get()), "[key=00007;" + big);
}

TEST(BufferBasic, ReserveOfNothingWithTwoVectorsGivesNoExtent) {
    auto b = make();
    evbuffer_add(b.get(), "abc", 3);
    evbuffer_iovec v[2];
    EXPECT_EQ(evbuffer_reserve_space(b.get(), 0, v, 2), 0);
    EXPECT_EQ(contents(b.get()), "abc");
}

TEST(BufferBasic, AddIovecWithNothingAddsNothing) {
    auto b = make();
    evbuffer_iovec v[1] = {{nullptr, 0}};
    EXPECT_EQ(evbuffer_add_iovec(b.get(), v, 1), 0u);
    EXPECT_EQ(evbuffer_add_iovec(b.get(), v, 0), 0u);
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
}

TEST(BufferBadInput, AddIovecWithNullBaseIsRejectedWhole) {
    if (!conf::kIsReevent) GTEST_SKIP() << "libevent copies from the NULL pointer";
    auto b = make();
    char ok[] = "ok";
    evbuffer_iovec v[2] = {{ok, 2}, {nullptr, 5}};
    EXPECT_EQ(evbuffer_add_iovec(b.get(), v, 2), 0u);
    EXPECT_EQ(evbuffer_add_iovec(b.get(), nullptr, 3), 0u);
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
}

TEST(BufferBasic, ExpandedBufferTakesDataWithoutNewSegments) {
    auto b = make();
    ASSERT_EQ(evbuffer_expand(b.get(), 10000), 0);
    std::string s(10000, 'e');
    ASSERT_EQ(evbuffer_add(b.get(), s.data(), s.size()), 0);
    EXPECT_EQ(evbuffer_get_contiguous_space(b.get()), 10000u);
}
