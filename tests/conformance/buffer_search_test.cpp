// evbuffer positions: ptr_set, search, search_range, search_eol, readln (every EOL style,
// across segment boundaries), peek, and the compat readline/find.
#include "buffer_test_util.h"
#include "differences.h"

#include <cstring>

using buftest::contents;
using buftest::make;
using buftest::Pieces;
using buftest::take_line;

namespace {
std::string readln(evbuffer *b, evbuffer_eol_style st, bool *ok) {
    size_t n = 12345;
    char *l = evbuffer_readln(b, &n, st);
    *ok = l != nullptr;
    if (!l) {
        EXPECT_EQ(n, 0u);
        return {};
    }
    EXPECT_EQ(std::strlen(l), n);
    return take_line(l, n);
}
}  // namespace

TEST(BufferPtr, SetAndAddWalkAcrossSegments) {
    auto b = make();
    Pieces p;
    p.add(b.get(), {"abc", "de", "fghij"});
    evbuffer_ptr ptr;
    ASSERT_EQ(evbuffer_ptr_set(b.get(), &ptr, 0, EVBUFFER_PTR_SET), 0);
    EXPECT_EQ(ptr.pos, 0);
    for (int i = 1; i <= 10; ++i) {
        ASSERT_EQ(evbuffer_ptr_set(b.get(), &ptr, 1, EVBUFFER_PTR_ADD), 0);
        EXPECT_EQ(ptr.pos, i);
        char c = 0;
        if (i < 10) {
            ASSERT_EQ(evbuffer_copyout_from(b.get(), &ptr, &c, 1), 1);
            EXPECT_EQ(c, "abcdefghij"[i]);
        }
    }
}

TEST(BufferPtr, EndOfBufferIsValidPastItIsNot) {
    auto b = make();
    evbuffer_add(b.get(), "hello", 5);
    evbuffer_ptr ptr;
    EXPECT_EQ(evbuffer_ptr_set(b.get(), &ptr, 5, EVBUFFER_PTR_SET), 0);
    EXPECT_EQ(ptr.pos, 5);
    EXPECT_EQ(evbuffer_ptr_set(b.get(), &ptr, 6, EVBUFFER_PTR_SET), -1);
    EXPECT_EQ(ptr.pos, -1);
    ASSERT_EQ(evbuffer_ptr_set(b.get(), &ptr, 2, EVBUFFER_PTR_SET), 0);
    EXPECT_EQ(evbuffer_ptr_set(b.get(), &ptr, 4, EVBUFFER_PTR_ADD), -1);
    EXPECT_EQ(ptr.pos, -1);
}

TEST(BufferSearch, FindsFirstOccurrence) {
    auto b = make();
    evbuffer_add(b.get(), "abcabcabc", 9);
    EXPECT_EQ(evbuffer_search(b.get(), "bc", 2, nullptr).pos, 1);
    EXPECT_EQ(evbuffer_search(b.get(), "abcabcabc", 9, nullptr).pos, 0);
    EXPECT_EQ(evbuffer_search(b.get(), "abcabcabcd", 10, nullptr).pos, -1);
    EXPECT_EQ(evbuffer_search(b.get(), "x", 1, nullptr).pos, -1);
}

TEST(BufferSearch, MatchSpanningSegments) {
    auto b = make();
    Pieces p;
    p.add(b.get(), {"xxab", "c", "dyy", "abcd"});
    evbuffer_ptr r = evbuffer_search(b.get(), "abcd", 4, nullptr);
    EXPECT_EQ(r.pos, 2);
    // Continue after the first match.
    ASSERT_EQ(evbuffer_ptr_set(b.get(), &r, 1, EVBUFFER_PTR_ADD), 0);
    r = evbuffer_search(b.get(), "abcd", 4, &r);
    EXPECT_EQ(r.pos, 8);
}

TEST(BufferSearch, PartialMatchAtSegmentEndThenRealMatch) {
    auto b = make();
    Pieces p;
    p.add(b.get(), {"aab", "aabab", "c"});
    EXPECT_EQ(evbuffer_search(b.get(), "abc", 3, nullptr).pos, 6);
}

TEST(BufferSearch, IterateAllMatches) {
    auto b = make();
    Pieces p;
    p.add(b.get(), {"a,b", ",", "c,,d"});
    std::vector<ev_ssize_t> found;
    evbuffer_ptr r = evbuffer_search(b.get(), ",", 1, nullptr);
    while (r.pos >= 0) {
        found.push_back(r.pos);
        if (evbuffer_ptr_set(b.get(), &r, 1, EVBUFFER_PTR_ADD) < 0) break;
        r = evbuffer_search(b.get(), ",", 1, &r);
    }
    EXPECT_EQ(found, (std::vector<ev_ssize_t>{1, 3, 5, 6}));
}

TEST(BufferSearch, RangeRequiresMatchBeforeEnd) {
    auto b = make();
    Pieces p;
    p.add(b.get(), {"hel", "lo world"});
    evbuffer_ptr end;
    ASSERT_EQ(evbuffer_ptr_set(b.get(), &end, 5, EVBUFFER_PTR_SET), 0);
    EXPECT_EQ(evbuffer_search_range(b.get(), "lo", 2, nullptr, &end).pos, 3);
    ASSERT_EQ(evbuffer_ptr_set(b.get(), &end, 4, EVBUFFER_PTR_SET), 0);
    EXPECT_EQ(evbuffer_search_range(b.get(), "lo", 2, nullptr, &end).pos, -1);
    EXPECT_EQ(evbuffer_search_range(b.get(), "wor", 3, nullptr, nullptr).pos, 6);
}

TEST(BufferSearch, EveryStartAndEndOverManySegments) {
    // Pieces of 1 to 5 bytes, each its own segment; the first ones are drained and more
    // added behind, so the segments no longer start where the buffer's storage of them
    // does. Every needle, start and end against std::string::find: matches inside a
    // segment, across one or several boundaries, ending exactly at `end` or one past it.
    auto b = make();
    Pieces p;
    p.add(b.get(), {"xa", "bca", "b", "cabc", "a", "bx", "ab", "c", "abca", "bc", "x", "a"});
    ASSERT_EQ(evbuffer_drain(b.get(), 12), 0);  // "xabcabcabcab" is gone, "x" of "bx" stays
    p.add(b.get(), {"bca", "bc", "a", "b", "ca", "bcab", "c", "x", "abc", "a"});
    std::string m = contents(b.get());
    ASSERT_EQ(m, "xabcabcabcxabcabcabcabcabcxabca");
    const char *needles[] = {"a", "c", "ab", "ca", "abc", "bca", "cab", "abcabc", "cabx",
                             "bxab", "cxabca", "abcab", "xx", "abca", "cabcabcabcab"};
    for (const char *needle : needles) {
        size_t len = std::strlen(needle);
        for (size_t start = 0; start <= m.size(); ++start) {
            evbuffer_ptr sp;
            ASSERT_EQ(evbuffer_ptr_set(b.get(), &sp, start, EVBUFFER_PTR_SET), 0);
            size_t found = m.find(needle, start);
            evbuffer_ptr r = evbuffer_search(b.get(), needle, len, &sp);
            ASSERT_EQ(r.pos, found == std::string::npos ? -1 : ev_ssize_t(found))
                << needle << " from " << start;
            if (r.pos >= 0) {
                // The result is a position the buffer accepts.
                std::string at(len, '\0');
                ASSERT_EQ(evbuffer_copyout_from(b.get(), &r, at.data(), len), ev_ssize_t(len));
                ASSERT_EQ(at, needle);
            }
            for (size_t end = start; end <= m.size(); ++end) {
                evbuffer_ptr ep;
                ASSERT_EQ(evbuffer_ptr_set(b.get(), &ep, end, EVBUFFER_PTR_SET), 0);
                size_t expect = found != std::string::npos && found + len <= end ? found
                                                                                 : std::string::npos;
                r = evbuffer_search_range(b.get(), needle, len, &sp, &ep);
                ASSERT_EQ(r.pos, expect == std::string::npos ? -1 : ev_ssize_t(expect))
                    << needle << " from " << start << " to " << end;
            }
        }
    }
}

TEST(BufferSearch, EmptyNeedleMatchesAtStart) {
    auto b = make();
    evbuffer_add(b.get(), "abc", 3);
    EXPECT_EQ(evbuffer_search(b.get(), "", 0, nullptr).pos, 0);
}

TEST(BufferEol, SearchEolReportsLengthPerStyle) {
    auto b = make();
    evbuffer_add(b.get(), "ab\r\ncd\nef\r\r\n", 12);
    size_t len = 0;
    evbuffer_ptr r = evbuffer_search_eol(b.get(), nullptr, &len, EVBUFFER_EOL_CRLF);
    EXPECT_EQ(r.pos, 2);
    EXPECT_EQ(len, 2u);
    r = evbuffer_search_eol(b.get(), nullptr, &len, EVBUFFER_EOL_LF);
    EXPECT_EQ(r.pos, 3);
    EXPECT_EQ(len, 1u);
    r = evbuffer_search_eol(b.get(), nullptr, &len, EVBUFFER_EOL_CRLF_STRICT);
    EXPECT_EQ(r.pos, 2);
    EXPECT_EQ(len, 2u);
    evbuffer_ptr start;
    ASSERT_EQ(evbuffer_ptr_set(b.get(), &start, 7, EVBUFFER_PTR_SET), 0);
    r = evbuffer_search_eol(b.get(), &start, &len, EVBUFFER_EOL_ANY);
    EXPECT_EQ(r.pos, 9);
    EXPECT_EQ(len, 3u);
    r = evbuffer_search_eol(b.get(), &start, &len, EVBUFFER_EOL_CRLF_STRICT);
    EXPECT_EQ(r.pos, 10);
    EXPECT_EQ(len, 2u);
    r = evbuffer_search_eol(b.get(), &start, &len, EVBUFFER_EOL_NUL);
    EXPECT_EQ(r.pos, -1);
    EXPECT_EQ(len, 0u);
}

TEST(BufferReadln, LfLines) {
    auto b = make();
    evbuffer_add(b.get(), "one\ntwo\r\n\nlast", 14);
    bool ok;
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_LF, &ok), "one");
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_LF, &ok), "two\r");
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_LF, &ok), "");
    EXPECT_TRUE(ok);
    readln(b.get(), EVBUFFER_EOL_LF, &ok);
    EXPECT_FALSE(ok);
    EXPECT_EQ(contents(b.get()), "last");
}

TEST(BufferReadln, CrlfAcceptsBareLf) {
    auto b = make();
    evbuffer_add(b.get(), "a\r\nb\nc\rd\r\n", 10);
    bool ok;
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_CRLF, &ok), "a");
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_CRLF, &ok), "b");
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_CRLF, &ok), "c\rd");
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
}

TEST(BufferReadln, CrlfStrictNeedsBoth) {
    auto b = make();
    evbuffer_add(b.get(), "a\nb\r\nc\r", 7);
    bool ok;
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_CRLF_STRICT, &ok), "a\nb");
    readln(b.get(), EVBUFFER_EOL_CRLF_STRICT, &ok);
    EXPECT_FALSE(ok);
    EXPECT_EQ(contents(b.get()), "c\r");
}

TEST(BufferReadln, AnyEatsWholeRunOfCrLf) {
    auto b = make();
    evbuffer_add(b.get(), "a\r\n\r\nb\n\rc", 9);
    bool ok;
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_ANY, &ok), "a");
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_ANY, &ok), "b");
    readln(b.get(), EVBUFFER_EOL_ANY, &ok);
    EXPECT_FALSE(ok);
    EXPECT_EQ(contents(b.get()), "c");
}

TEST(BufferReadln, NulTerminated) {
    auto b = make();
    evbuffer_add(b.get(), "ab\0cd\0e", 7);
    bool ok;
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_NUL, &ok), "ab");
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_NUL, &ok), "cd");
    readln(b.get(), EVBUFFER_EOL_NUL, &ok);
    EXPECT_FALSE(ok);
}

TEST(BufferReadln, LineSplitAcrossSegments) {
    auto b = make();
    Pieces p;
    p.add(b.get(), {"GET / HT", "TP/1", ".1\nHost: x", "\n"});
    bool ok;
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_LF, &ok), "GET / HTTP/1.1");
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_LF, &ok), "Host: x");
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
}

TEST(BufferReadln, CrlfAcrossSegmentBoundary) {
    for (auto st : {EVBUFFER_EOL_CRLF, EVBUFFER_EOL_CRLF_STRICT, EVBUFFER_EOL_ANY}) {
        auto b = make();
        Pieces p;
        p.add(b.get(), {"abc\r", "\ndef\r", "\n"});
        bool ok;
        EXPECT_EQ(readln(b.get(), st, &ok), "abc") << st;
        EXPECT_EQ(readln(b.get(), st, &ok), "def") << st;
        EXPECT_EQ(evbuffer_get_length(b.get()), 0u) << st;
    }
}

TEST(BufferReadln, CrAtEndWaitsForLfExceptAny) {
    auto b = make();
    evbuffer_add(b.get(), "abc\r", 4);
    bool ok;
    readln(b.get(), EVBUFFER_EOL_CRLF, &ok);
    EXPECT_FALSE(ok);
    readln(b.get(), EVBUFFER_EOL_CRLF_STRICT, &ok);
    EXPECT_FALSE(ok);
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_ANY, &ok), "abc");
    EXPECT_TRUE(ok);
}

TEST(BufferReadln, NoLineLeavesBufferAndZeroesLength) {
    auto b = make();
    evbuffer_add(b.get(), "partial", 7);
    size_t n = 99;
    EXPECT_EQ(evbuffer_readln(b.get(), &n, EVBUFFER_EOL_CRLF), nullptr);
    EXPECT_EQ(n, 0u);
    EXPECT_EQ(contents(b.get()), "partial");
}

TEST(BufferReadln, NoLineYetWhileBytesArriveOneAtATime) {
    auto b = make();
    const std::string text = "ab\r\ncd\n";
    std::vector<std::string> lines;
    for (char ch : text) {
        evbuffer_add(b.get(), &ch, 1);
        size_t n = 99;
        char *l = evbuffer_readln(b.get(), &n, EVBUFFER_EOL_LF);
        if (!l) {
            EXPECT_EQ(n, 0u);
            EXPECT_EQ(evbuffer_readln(b.get(), nullptr, EVBUFFER_EOL_LF), nullptr);
            continue;
        }
        lines.emplace_back(l, n);
        std::free(l);
    }
    EXPECT_EQ(lines, (std::vector<std::string>{"ab\r", "cd"}));
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
}

TEST(BufferReadln, NullLengthPointerAllowed) {
    auto b = make();
    evbuffer_add(b.get(), "x\n", 2);
    char *l = evbuffer_readln(b.get(), nullptr, EVBUFFER_EOL_LF);
    ASSERT_NE(l, nullptr);
    EXPECT_STREQ(l, "x");
    std::free(l);
}

TEST(BufferReadln, LongLineOverManySegments) {
    auto b = make();
    std::string line;
    for (int i = 0; i < 3000; ++i) {
        char c = char('a' + i % 26);
        evbuffer_add(b.get(), &c, 1);
        line += c;
        if (i % 100 == 0) {
            auto o = make();
            evbuffer_add(o.get(), "", 0);
        }
    }
    evbuffer_add(b.get(), "\r\n", 2);
    bool ok;
    EXPECT_EQ(readln(b.get(), EVBUFFER_EOL_CRLF, &ok), line);
}

TEST(BufferCompat, ReadlineUsesAnyStyle) {
    auto b = make();
    evbuffer_add(b.get(), "a\r\n\nb\r", 6);
    char *l = evbuffer_readline(b.get());
    ASSERT_NE(l, nullptr);
    EXPECT_STREQ(l, "a");
    std::free(l);
    l = evbuffer_readline(b.get());
    ASSERT_NE(l, nullptr);
    EXPECT_STREQ(l, "b");
    std::free(l);
    EXPECT_EQ(evbuffer_readline(b.get()), nullptr);
}

TEST(BufferCompat, FindReturnsContiguousPointer) {
    auto b = make();
    Pieces p;
    p.add(b.get(), {"hello wo", "rld!"});
    unsigned char *f = evbuffer_find(b.get(), reinterpret_cast<const unsigned char *>("world"), 5);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(std::memcmp(f, "world", 5), 0);
    EXPECT_EQ(evbuffer_find(b.get(), reinterpret_cast<const unsigned char *>("xyz"), 3), nullptr);
    EXPECT_EQ(contents(b.get()), "hello world!");
}

TEST(BufferPeek, CountsAndFillsExtents) {
    auto b = make();
    Pieces p;
    p.add(b.get(), {"abc", "defg", "hi"});
    EXPECT_EQ(evbuffer_peek(b.get(), -1, nullptr, nullptr, 0), 3);
    evbuffer_iovec v[3];
    ASSERT_EQ(evbuffer_peek(b.get(), -1, nullptr, v, 3), 3);
    EXPECT_EQ(std::string(static_cast<char *>(v[0].iov_base), v[0].iov_len), "abc");
    EXPECT_EQ(std::string(static_cast<char *>(v[1].iov_base), v[1].iov_len), "defg");
    EXPECT_EQ(std::string(static_cast<char *>(v[2].iov_base), v[2].iov_len), "hi");
    // Enough extents for 4 bytes: two.
    EXPECT_EQ(evbuffer_peek(b.get(), 4, nullptr, v, 3), 2);
    EXPECT_EQ(evbuffer_peek(b.get(), 3, nullptr, v, 3), 1);
    EXPECT_EQ(evbuffer_peek(b.get(), 0, nullptr, v, 3), 0);
}

TEST(BufferPeek, TooFewVectorsReportsHowManyAreNeeded) {
    auto b = make();
    Pieces p;
    p.add(b.get(), {"abc", "defg", "hi"});
    evbuffer_iovec v[1];
    EXPECT_EQ(evbuffer_peek(b.get(), 9, nullptr, v, 1), 3);
    EXPECT_EQ(v[0].iov_len, 3u);
    EXPECT_EQ(evbuffer_peek(b.get(), -1, nullptr, v, 1), 1);
}

TEST(BufferPeek, FromPositionInsideSegment) {
    auto b = make();
    Pieces p;
    p.add(b.get(), {"abc", "defg", "hi"});
    evbuffer_ptr ptr;
    ASSERT_EQ(evbuffer_ptr_set(b.get(), &ptr, 4, EVBUFFER_PTR_SET), 0);
    evbuffer_iovec v[3];
    ASSERT_EQ(evbuffer_peek(b.get(), -1, &ptr, v, 3), 2);
    EXPECT_EQ(std::string(static_cast<char *>(v[0].iov_base), v[0].iov_len), "efg");
    EXPECT_EQ(std::string(static_cast<char *>(v[1].iov_base), v[1].iov_len), "hi");
    ASSERT_EQ(evbuffer_ptr_set(b.get(), &ptr, 9, EVBUFFER_PTR_SET), 0);
    EXPECT_EQ(evbuffer_peek(b.get(), -1, &ptr, v, 3), 0);
}
