// Allocation failure: with event_set_mem_functions hooks that fail on demand, every evbuffer
// operation either succeeds or fails with the buffer exactly as it was. Its own executable,
// because the hooks must be installed before the library allocates anything.
#include "buffer_test_util.h"
#include "differences.h"

#include <event2/event.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>

using buftest::contents;

namespace {
long g_fail_in = -1;  // allocations left before one fails; -1: never
long g_failures = 0;
size_t g_largest = 0;  // the largest size asked of the hooks

void note_size(size_t n) {
    if (n > g_largest) g_largest = n;
}

bool should_fail() {
    if (g_fail_in < 0) return false;
    if (g_fail_in == 0) {
        ++g_failures;
        return true;
    }
    --g_fail_in;
    return false;
}
// Sizes no machine has are recorded and refused here, not passed on: an ASan build's malloc
// treats a request beyond its limit (1 TiB) as a fatal error instead of returning NULL.
constexpr size_t kRefuseFrom = size_t(1) << 40;
void *test_malloc(size_t n) {
    note_size(n);
    return should_fail() || n >= kRefuseFrom ? nullptr : std::malloc(n);
}
void *test_realloc(void *p, size_t n) {
    note_size(n);
    return should_fail() || n >= kRefuseFrom ? nullptr : std::realloc(p, n);
}
void test_free(void *p) { std::free(p); }

// Installed before main, i.e. before any allocation of the library under test.
struct InstallHooks {
    InstallHooks() { event_set_mem_functions(test_malloc, test_realloc, test_free); }
} g_install;

// Runs `op` with the k-th allocation failing, for k = 0, 1, ... until it runs without an
// injected failure. Each time: a result of failure leaves `b` unchanged, success gives
// `expect`. `setup` rebuilds the buffer before each attempt.
void exhaust(const std::function<void(evbuffer *)> &setup,
             const std::function<bool(evbuffer *)> &op, const std::function<std::string(const std::string &)> &expect) {
    for (long k = 0; k < 64; ++k) {
        evbuffer *b = evbuffer_new();
        ASSERT_NE(b, nullptr);
        setup(b);
        std::string before = contents(b);
        g_failures = 0;
        g_fail_in = k;
        bool ok = op(b);
        g_fail_in = -1;
        std::string after = contents(b);
        if (ok)
            EXPECT_TRUE(after == expect(before)) << "k=" << k;
        else
            EXPECT_TRUE(after == before) << "failed op changed the buffer, k=" << k;
        evbuffer_free(b);
        if (!g_failures) {
            EXPECT_TRUE(ok) << "op failed without an allocation failure, k=" << k;
            return;
        }
    }
}

void fill_some(evbuffer *b) {
    std::string s(3000, 'p');
    evbuffer_add(b, s.data(), s.size());
    evbuffer_add(b, "tail", 4);
}
}  // namespace

TEST(BufferOom, NewFailsCleanly) {
    g_fail_in = 0;
    evbuffer *b = evbuffer_new();
    g_fail_in = -1;
    EXPECT_EQ(b, nullptr);
}

TEST(BufferOom, AddLeavesBufferUnchangedOnFailure) {
    std::string big(20000, 'x');
    exhaust(fill_some, [&](evbuffer *b) { return evbuffer_add(b, big.data(), big.size()) == 0; },
            [&](const std::string &s) { return s + big; });
}

TEST(BufferOom, PrependLeavesBufferUnchangedOnFailure) {
    std::string big(5000, 'y');
    exhaust(fill_some,
            [&](evbuffer *b) { return evbuffer_prepend(b, big.data(), big.size()) == 0; },
            [&](const std::string &s) { return big + s; });
}

TEST(BufferOom, PrintfLeavesBufferUnchangedOnFailure) {
    exhaust(fill_some, [](evbuffer *b) { return evbuffer_add_printf(b, "%08d", 42) == 8; },
            [](const std::string &s) { return s + "00000042"; });
}

TEST(BufferOom, ReferenceLeavesBufferUnchangedOnFailure) {
    static const char kRef[] = "referenced";
    exhaust(fill_some,
            [](evbuffer *b) {
                return evbuffer_add_reference(b, kRef, 10, nullptr, nullptr) == 0;
            },
            [](const std::string &s) { return s + "referenced"; });
}

TEST(BufferOom, PullupLeavesBufferUnchangedOnFailure) {
    exhaust(
        [](evbuffer *b) {
            static const char kA[] = "abc", kB[] = "defgh";
            evbuffer_add_reference(b, kA, 3, nullptr, nullptr);
            evbuffer_add_reference(b, kB, 5, nullptr, nullptr);
        },
        [](evbuffer *b) {
            unsigned char *d = evbuffer_pullup(b, -1);
            return d && std::memcmp(d, "abcdefgh", 8) == 0;
        },
        [](const std::string &s) { return s; });
}

TEST(BufferOom, ReadlnLeavesBufferUnchangedOnFailure) {
    exhaust([](evbuffer *b) { evbuffer_add(b, "line one\r\nrest", 14); },
            [](evbuffer *b) {
                char *l = evbuffer_readln(b, nullptr, EVBUFFER_EOL_CRLF);
                bool ok = l && std::strcmp(l, "line one") == 0;
                std::free(l);
                return ok;
            },
            [](const std::string &) { return std::string("rest"); });
}

TEST(BufferOom, ReserveLeavesBufferUnchangedOnFailure) {
    exhaust(fill_some,
            [](evbuffer *b) {
                evbuffer_iovec v[2];
                int n = evbuffer_reserve_space(b, 10000, v, 2);
                if (n < 1) return false;
                size_t left = 10000;
                for (int i = 0; i < n; ++i) {
                    size_t k = v[i].iov_len < left ? v[i].iov_len : left;
                    std::memset(v[i].iov_base, 'r', k);
                    v[i].iov_len = k;
                    left -= k;
                }
                return evbuffer_commit_space(b, v, n) == 0;
            },
            [](const std::string &s) { return s + std::string(10000, 'r'); });
}

TEST(BufferOom, AddBufferLeavesBothUnchangedOnFailure) {
    std::string moved(9000, 'm');
    exhaust(fill_some,
            [&](evbuffer *b) {
                evbuffer *src = nullptr;
                {
                    long saved = g_fail_in;
                    g_fail_in = -1;
                    src = evbuffer_new();
                    for (int i = 0; i < 20; ++i) evbuffer_add_reference(src, moved.data() + i * 450, 450, nullptr, nullptr);
                    g_fail_in = saved;
                }
                bool ok = evbuffer_add_buffer(b, src) == 0;
                long saved = g_fail_in;
                g_fail_in = -1;
                EXPECT_EQ(evbuffer_get_length(src), ok ? 0u : moved.size());
                evbuffer_free(src);
                g_fail_in = saved;
                return ok;
            },
            [&](const std::string &s) { return s + moved; });
}

// evbuffer_expand and evbuffer_reserve_space with a length no block can have (SSIZE_MAX,
// SIZE_MAX; libevent 2.1.12's own regress case evbuffer/expand_overflow asks for these) fail
// without asking the allocator for more than SSIZE_MAX bytes: a request of 2^63 bytes makes
// an ASan-built program abort ("allocation-size-too-big") instead of returning NULL.
TEST(BufferOom, ImpossibleExpandFailsWithoutAskingTheAllocator) {
    const size_t sizes[] = {size_t(SSIZE_MAX), size_t(SSIZE_MAX) - 1, size_t(SSIZE_MAX) - 4096,
                            size_t(SSIZE_MAX) + 1, SIZE_MAX};
    for (bool empty : {true, false}) {
        for (size_t n : sizes) {
            evbuffer *b = evbuffer_new();
            ASSERT_NE(b, nullptr);
            if (!empty) evbuffer_add(b, "1", 1);
            g_largest = 0;
            EXPECT_EQ(evbuffer_expand(b, n), -1) << n;
            evbuffer_iovec v[2];
            EXPECT_EQ(evbuffer_reserve_space(b, static_cast<ev_ssize_t>(n > size_t(SSIZE_MAX) ? SSIZE_MAX : n), v, 1), -1) << n;
            EXPECT_LE(g_largest, size_t(SSIZE_MAX)) << n;
            EXPECT_EQ(evbuffer_get_length(b), empty ? 0u : 1u);
            EXPECT_EQ(contents(b), empty ? std::string() : std::string("1"));
            evbuffer_free(b);
        }
    }
}
