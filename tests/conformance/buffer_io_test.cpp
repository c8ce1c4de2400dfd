// evbuffer and file descriptors: evbuffer_read / _write / _write_atmost over a socketpair
// and a pipe, big transfers, EOF and errors, and file segments written to a socket.
#include "buffer_test_util.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

using buftest::contents;
using buftest::make;

namespace {
struct Pair {
    int fd[2] = {-1, -1};
    Pair() {
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0)
            for (int f : fd) fcntl(f, F_SETFL, fcntl(f, F_GETFL) | O_NONBLOCK);
    }
    ~Pair() {
        for (int f : fd)
            if (f >= 0) close(f);
    }
};

std::string pattern(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = char(i * 31 + (i >> 8));
    return s;
}

// Moves everything from `out` through the pair into `in`.
void pump(evbuffer *out, int wfd, evbuffer *in, int rfd) {
    for (int guard = 0; guard < 100000 && evbuffer_get_length(out); ++guard) {
        int w = evbuffer_write(out, wfd);
        ASSERT_TRUE(w > 0 || (w < 0 && errno == EAGAIN)) << strerror(errno);
        for (;;) {
            int r = evbuffer_read(in, rfd, -1);
            if (r <= 0) break;
        }
    }
    for (;;) {
        int r = evbuffer_read(in, rfd, -1);
        if (r <= 0) break;
    }
}
}  // namespace

TEST(BufferIo, WriteThenReadSmall) {
    Pair p;
    auto out = make(), in = make();
    evbuffer_add(out.get(), "ping", 4);
    EXPECT_EQ(evbuffer_write(out.get(), p.fd[0]), 4);
    EXPECT_EQ(evbuffer_get_length(out.get()), 0u);
    EXPECT_EQ(evbuffer_read(in.get(), p.fd[1], 100), 4);
    EXPECT_EQ(contents(in.get()), "ping");
}

TEST(BufferIo, BigTransferThroughSocketpair) {
    Pair p;
    auto out = make(), in = make();
    std::string data = pattern(3 << 20);
    // Many segments of different kinds on the way out.
    for (size_t i = 0; i < data.size(); i += 70000) {
        size_t n = std::min<size_t>(70000, data.size() - i);
        evbuffer_add(out.get(), data.data() + i, n);
    }
    pump(out.get(), p.fd[0], in.get(), p.fd[1]);
    EXPECT_EQ(evbuffer_get_length(in.get()), data.size());
    EXPECT_TRUE(contents(in.get()) == data);
}

TEST(BufferIo, ReadRespectsHowmuch) {
    Pair p;
    ASSERT_EQ(write(p.fd[0], "0123456789", 10), 10);
    auto in = make();
    EXPECT_EQ(evbuffer_read(in.get(), p.fd[1], 3), 3);
    EXPECT_EQ(contents(in.get()), "012");
    EXPECT_EQ(evbuffer_read(in.get(), p.fd[1], -1), 7);
    EXPECT_EQ(contents(in.get()), "0123456789");
}

TEST(BufferIo, ReadAppendsAfterExistingData) {
    Pair p;
    auto in = make();
    evbuffer_add(in.get(), "head:", 5);
    ASSERT_EQ(write(p.fd[0], "body", 4), 4);
    EXPECT_EQ(evbuffer_read(in.get(), p.fd[1], -1), 4);
    EXPECT_EQ(contents(in.get()), "head:body");
}

TEST(BufferIo, ReadEofAndWouldBlock) {
    Pair p;
    auto in = make();
    errno = 0;
    EXPECT_EQ(evbuffer_read(in.get(), p.fd[1], -1), -1);
    EXPECT_TRUE(errno == EAGAIN || errno == EWOULDBLOCK);
    close(p.fd[0]);
    p.fd[0] = -1;
    EXPECT_EQ(evbuffer_read(in.get(), p.fd[1], -1), 0);
    EXPECT_EQ(evbuffer_get_length(in.get()), 0u);
}

TEST(BufferIo, ReadFromBadFdFails) {
    auto in = make();
    EXPECT_EQ(evbuffer_read(in.get(), -1, 10), -1);
    EXPECT_EQ(evbuffer_get_length(in.get()), 0u);
}

TEST(BufferIo, WriteAtmostLimitsAndDrainsOnlyWritten) {
    Pair p;
    auto out = make();
    evbuffer_add(out.get(), "abcdefghij", 10);
    EXPECT_EQ(evbuffer_write_atmost(out.get(), p.fd[0], 4), 4);
    EXPECT_EQ(contents(out.get()), "efghij");
    EXPECT_EQ(evbuffer_write_atmost(out.get(), p.fd[0], -1), 6);
    char got[11] = {};
    EXPECT_EQ(read(p.fd[1], got, 10), 10);
    EXPECT_STREQ(got, "abcdefghij");
}

TEST(BufferIo, WriteOfEmptyBufferIsMinusOne) {
    Pair p;
    auto out = make();
    EXPECT_EQ(evbuffer_write(out.get(), p.fd[0]), -1);
    evbuffer_add(out.get(), "x", 1);
    EXPECT_EQ(evbuffer_write_atmost(out.get(), p.fd[0], 0), -1);
    EXPECT_EQ(evbuffer_get_length(out.get()), 1u);
}

TEST(BufferIo, WriteToClosedPeerFails) {
    Pair p;
    close(p.fd[1]);
    p.fd[1] = -1;
    auto out = make();
    evbuffer_add(out.get(), "abc", 3);
    signal(SIGPIPE, SIG_IGN);
    EXPECT_EQ(evbuffer_write(out.get(), p.fd[0]), -1);
    EXPECT_EQ(evbuffer_get_length(out.get()), 3u);
}

TEST(BufferIo, ManySmallSegmentsWriteInOrder) {
    Pair p;
    auto out = make(), in = make();
    std::string expect;
    std::vector<std::string> keep;
    keep.reserve(3000);
    for (int i = 0; i < 3000; ++i) {
        keep.push_back(std::to_string(i) + ",");
        evbuffer_add_reference(out.get(), keep.back().data(), keep.back().size(), nullptr,
                               nullptr);
        expect += keep.back();
    }
    pump(out.get(), p.fd[0], in.get(), p.fd[1]);
    EXPECT_EQ(contents(in.get()), expect);
}

TEST(BufferIo, FileToSocketWithDrainsToFd) {
    std::string text = pattern(200000);
    char path[] = "/tmp/reevent_bufio_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    unlink(path);
    ASSERT_EQ(write(fd, text.data(), text.size()), ssize_t(text.size()));
    Pair p;
    auto out = make(), in = make();
    evbuffer_set_flags(out.get(), EVBUFFER_FLAG_DRAINS_TO_FD);
    evbuffer_add(out.get(), "[", 1);
    ASSERT_EQ(evbuffer_add_file(out.get(), fd, 10, 150000), 0);
    evbuffer_add(out.get(), "]", 1);
    pump(out.get(), p.fd[0], in.get(), p.fd[1]);
    EXPECT_TRUE(contents(in.get()) == "[" + text.substr(10, 150000) + "]");
}

TEST(BufferIo, FileSegmentWrittenToPipe) {
    std::string text = pattern(50000);
    char path[] = "/tmp/reevent_bufio_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    unlink(path);
    ASSERT_EQ(write(fd, text.data(), text.size()), ssize_t(text.size()));
    int pfd[2];
    ASSERT_EQ(pipe(pfd), 0);
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    fcntl(pfd[1], F_SETFL, O_NONBLOCK);
    auto out = make(), in = make();
    ASSERT_EQ(evbuffer_add_file(out.get(), fd, 0, -1), 0);
    pump(out.get(), pfd[1], in.get(), pfd[0]);
    EXPECT_TRUE(contents(in.get()) == text);
    close(pfd[0]);
    close(pfd[1]);
}

TEST(BufferIo, FrozenEndsRefuseIo) {
    Pair p;
    ASSERT_EQ(write(p.fd[0], "data", 4), 4);
    auto b = make();
    evbuffer_add(b.get(), "out", 3);
    evbuffer_freeze(b.get(), 0);
    EXPECT_EQ(evbuffer_read(b.get(), p.fd[1], -1), -1);
    evbuffer_unfreeze(b.get(), 0);
    evbuffer_freeze(b.get(), 1);
    EXPECT_EQ(evbuffer_write(b.get(), p.fd[1]), -1);
    evbuffer_unfreeze(b.get(), 1);
    EXPECT_EQ(contents(b.get()), "out");
    EXPECT_EQ(evbuffer_read(b.get(), p.fd[1], -1), 4);
    EXPECT_EQ(contents(b.get()), "outdata");
}

TEST(BufferIo, ReadIntoReservedTailKeepsOrder) {
    Pair p;
    auto b = make();
    std::string first(1000, 'f');
    evbuffer_add(b.get(), first.data(), first.size());
    std::string second = pattern(20000);
    ASSERT_EQ(write(p.fd[0], second.data(), second.size()), ssize_t(second.size()));
    size_t got = 0;
    for (int i = 0; i < 100 && got < second.size(); ++i) {
        int r = evbuffer_read(b.get(), p.fd[1], 3000);
        ASSERT_GT(r, 0);
        ASSERT_LE(r, 3000);
        got += size_t(r);
    }
    EXPECT_TRUE(contents(b.get()) == first + second);
}
