// evbuffer_reserve_space with several vectors asked for again and again before a commit, as
// libevent hands them out: the space already offered stays where it is and a new extent is
// added after it while the vectors allow; when they do not, the empty extents are replaced
// by one big enough for the rest. Commits then land in extent order.
#include "buffer_test_util.h"

#include <cstring>
#include <string>

using buftest::contents;
using buftest::make;

namespace {

size_t room(const evbuffer_iovec *v, int n) {
    size_t sum = 0;
    for (int i = 0; i < n; ++i) sum += v[i].iov_len;
    return sum;
}

TEST(BufferReserve, GrowingRequestsAddAnExtentAfterTheOnesOffered) {
    auto b = make();
    evbuffer_iovec v[3];
    ASSERT_EQ(evbuffer_reserve_space(b.get(), 100, v, 2), 1);
    const evbuffer_iovec first = v[0];
    ASSERT_GE(first.iov_len, 100u);

    ASSERT_EQ(evbuffer_reserve_space(b.get(), first.iov_len + 100, v, 2), 2);
    EXPECT_EQ(v[0].iov_base, first.iov_base);
    EXPECT_EQ(v[0].iov_len, first.iov_len);
    EXPECT_GE(room(v, 2), first.iov_len + 100);
    const evbuffer_iovec second = v[1];

    ASSERT_EQ(evbuffer_reserve_space(b.get(), room(v, 2) + 100, v, 3), 3);
    EXPECT_EQ(v[0].iov_base, first.iov_base);
    EXPECT_EQ(v[1].iov_base, second.iov_base);
    EXPECT_EQ(v[1].iov_len, second.iov_len);

    // Commit some of each extent: the bytes follow extent order.
    std::string want;
    for (int i = 0; i < 3; ++i) {
        std::string part = std::to_string(i) + std::string(10, char('a' + i));
        std::memcpy(v[i].iov_base, part.data(), part.size());
        v[i].iov_len = part.size();
        want += part;
    }
    ASSERT_EQ(evbuffer_commit_space(b.get(), v, 3), 0);
    EXPECT_EQ(contents(b.get()), want);
}

TEST(BufferReserve, TooFewVectorsReplaceTheEmptyExtentsWithOne) {
    auto b = make();
    evbuffer_iovec v[3];
    ASSERT_EQ(evbuffer_reserve_space(b.get(), 100, v, 2), 1);
    ASSERT_EQ(evbuffer_reserve_space(b.get(), v[0].iov_len + 100, v, 2), 2);
    const size_t offered = room(v, 2);
    // Two vectors for more than both hold: one extent for all of it.
    ASSERT_EQ(evbuffer_reserve_space(b.get(), offered + 100, v, 2), 1);
    EXPECT_GE(v[0].iov_len, offered + 100);
    std::memset(v[0].iov_base, 'q', offered + 100);
    v[0].iov_len = offered + 100;
    ASSERT_EQ(evbuffer_commit_space(b.get(), v, 1), 0);
    EXPECT_EQ(contents(b.get()), std::string(offered + 100, 'q'));
}

TEST(BufferReserve, TheFreeTailOfTheDataIsTheFirstExtent) {
    auto b = make();
    evbuffer_iovec v[3];
    ASSERT_EQ(evbuffer_reserve_space(b.get(), 100, v, 2), 1);
    char *start = static_cast<char *>(v[0].iov_base);
    const size_t whole = v[0].iov_len;
    *start = 'X';
    v[0].iov_len = 1;
    ASSERT_EQ(evbuffer_commit_space(b.get(), v, 1), 0);

    ASSERT_EQ(evbuffer_reserve_space(b.get(), whole + 100, v, 2), 2);
    EXPECT_EQ(v[0].iov_base, start + 1);
    EXPECT_EQ(v[0].iov_len, whole - 1);
    const evbuffer_iovec second = v[1];
    ASSERT_EQ(evbuffer_reserve_space(b.get(), room(v, 2) + 100, v, 3), 3);
    EXPECT_EQ(v[0].iov_base, start + 1);
    EXPECT_EQ(v[1].iov_base, second.iov_base);
    // Too few vectors: the tail stays, one extent replaces the empty ones behind it.
    const size_t offered = room(v, 3);
    ASSERT_EQ(evbuffer_reserve_space(b.get(), offered + 100, v, 2), 2);
    EXPECT_EQ(v[0].iov_base, start + 1);
    EXPECT_GE(room(v, 2), offered + 100);
    std::memset(v[0].iov_base, 'y', v[0].iov_len);
    std::memset(v[1].iov_base, 'z', 5);
    v[1].iov_len = 5;
    ASSERT_EQ(evbuffer_commit_space(b.get(), v, 2), 0);
    EXPECT_EQ(contents(b.get()), "X" + std::string(whole - 1, 'y') + "zzzzz");
}

TEST(BufferReserve, AFullTailIsSkipped) {
    auto b = make();
    evbuffer_iovec v[2];
    ASSERT_EQ(evbuffer_reserve_space(b.get(), 100, v, 2), 1);
    const size_t whole = v[0].iov_len;
    std::memset(v[0].iov_base, 'f', whole);
    ASSERT_EQ(evbuffer_commit_space(b.get(), v, 1), 0);
    ASSERT_EQ(evbuffer_reserve_space(b.get(), 100, v, 2), 1);
    const evbuffer_iovec next = v[0];
    ASSERT_EQ(evbuffer_reserve_space(b.get(), next.iov_len + 100, v, 2), 2);
    EXPECT_EQ(v[0].iov_base, next.iov_base);
    std::memcpy(v[0].iov_base, "ab", 2);
    v[0].iov_len = 2;
    ASSERT_EQ(evbuffer_commit_space(b.get(), v, 1), 0);
    EXPECT_EQ(contents(b.get()), std::string(whole, 'f') + "ab");
}

}  // namespace
