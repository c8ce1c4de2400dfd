// evbuffer change callbacks: what they are told (evbuffer_cb_info), enabling/disabling,
// removal (also from inside a callback), the old evbuffer_setcb, and freeing.
#include "buffer_test_util.h"

#include <vector>

using buftest::make;

namespace {
struct Seen {
    std::vector<evbuffer_cb_info> infos;
};
void record(evbuffer *, const evbuffer_cb_info *info, void *arg) {
    static_cast<Seen *>(arg)->infos.push_back(*info);
}
bool same(const evbuffer_cb_info &a, size_t orig, size_t added, size_t deleted) {
    return a.orig_size == orig && a.n_added == added && a.n_deleted == deleted;
}
}  // namespace

TEST(BufferCallback, InfoCountsEachChange) {
    auto b = make();
    Seen s;
    ASSERT_NE(evbuffer_add_cb(b.get(), record, &s), nullptr);
    evbuffer_add(b.get(), "hello", 5);
    evbuffer_drain(b.get(), 2);
    evbuffer_prepend(b.get(), "ab", 2);
    char out[3];
    evbuffer_remove(b.get(), out, 3);
    ASSERT_EQ(s.infos.size(), 4u);
    EXPECT_TRUE(same(s.infos[0], 0, 5, 0));
    EXPECT_TRUE(same(s.infos[1], 5, 0, 2));
    EXPECT_TRUE(same(s.infos[2], 3, 2, 0));
    EXPECT_TRUE(same(s.infos[3], 5, 0, 3));
}

TEST(BufferCallback, NoCallbackForNoChange) {
    auto b = make();
    Seen s;
    evbuffer_add_cb(b.get(), record, &s);
    evbuffer_drain(b.get(), 10);
    evbuffer_add(b.get(), "x", 0);
    char out[2];
    evbuffer_remove(b.get(), out, 2);
    evbuffer_pullup(b.get(), -1);
    EXPECT_TRUE(s.infos.empty());
}

TEST(BufferCallback, MovesNotifyBothBuffers) {
    auto a = make(), b = make();
    Seen sa, sb;
    evbuffer_add(b.get(), "12345", 5);
    evbuffer_add_cb(a.get(), record, &sa);
    evbuffer_add_cb(b.get(), record, &sb);
    evbuffer_remove_buffer(b.get(), a.get(), 2);
    evbuffer_add_buffer(a.get(), b.get());
    ASSERT_EQ(sa.infos.size(), 2u);
    ASSERT_EQ(sb.infos.size(), 2u);
    EXPECT_TRUE(same(sa.infos[0], 0, 2, 0));
    EXPECT_TRUE(same(sa.infos[1], 2, 3, 0));
    EXPECT_TRUE(same(sb.infos[0], 5, 0, 2));
    EXPECT_TRUE(same(sb.infos[1], 3, 0, 3));
}

TEST(BufferCallback, ReadlnAndCommitAndPrintfNotify) {
    auto b = make();
    Seen s;
    evbuffer_add_cb(b.get(), record, &s);
    evbuffer_add_printf(b.get(), "line\r\nrest");
    char *l = evbuffer_readln(b.get(), nullptr, EVBUFFER_EOL_CRLF);
    std::free(l);
    evbuffer_iovec v[2];
    int n = evbuffer_reserve_space(b.get(), 3, v, 2);
    ASSERT_GE(n, 1);
    v[0].iov_len = 3;
    memcpy(v[0].iov_base, "abc", 3);
    evbuffer_commit_space(b.get(), v, 1);
    // readln reports the line and its terminator as two removals.
    ASSERT_EQ(s.infos.size(), 4u);
    EXPECT_TRUE(same(s.infos[0], 0, 10, 0));
    EXPECT_TRUE(same(s.infos[1], 10, 0, 4));
    EXPECT_TRUE(same(s.infos[2], 6, 0, 2));
    EXPECT_TRUE(same(s.infos[3], 4, 3, 0));
}

TEST(BufferCallback, DisabledCallbackIsSkippedAndReenabledSeesOnlyNewChanges) {
    auto b = make();
    Seen s;
    evbuffer_cb_entry *e = evbuffer_add_cb(b.get(), record, &s);
    ASSERT_EQ(evbuffer_cb_clear_flags(b.get(), e, EVBUFFER_CB_ENABLED), 0);
    evbuffer_add(b.get(), "abc", 3);
    EXPECT_TRUE(s.infos.empty());
    ASSERT_EQ(evbuffer_cb_set_flags(b.get(), e, EVBUFFER_CB_ENABLED), 0);
    evbuffer_add(b.get(), "d", 1);
    ASSERT_EQ(s.infos.size(), 1u);
    EXPECT_TRUE(same(s.infos[0], 3, 1, 0));
}

TEST(BufferCallback, RemoveByEntryAndByFunction) {
    auto b = make();
    Seen s1, s2;
    evbuffer_cb_entry *e1 = evbuffer_add_cb(b.get(), record, &s1);
    evbuffer_add_cb(b.get(), record, &s2);
    EXPECT_EQ(evbuffer_remove_cb_entry(b.get(), e1), 0);
    EXPECT_EQ(evbuffer_remove_cb(b.get(), record, &s2), 0);
    EXPECT_EQ(evbuffer_remove_cb(b.get(), record, &s2), -1);
    evbuffer_add(b.get(), "x", 1);
    EXPECT_TRUE(s1.infos.empty());
    EXPECT_TRUE(s2.infos.empty());
}

namespace {
struct SelfRemover {
    evbuffer_cb_entry *entry = nullptr;
    int calls = 0;
};
void remove_self(evbuffer *b, const evbuffer_cb_info *, void *arg) {
    auto *r = static_cast<SelfRemover *>(arg);
    ++r->calls;
    evbuffer_remove_cb_entry(b, r->entry);
}
}  // namespace

TEST(BufferCallback, CallbackMayRemoveItself) {
    auto b = make();
    SelfRemover r;
    Seen s;
    evbuffer_add_cb(b.get(), record, &s);
    r.entry = evbuffer_add_cb(b.get(), remove_self, &r);
    evbuffer_add(b.get(), "a", 1);
    evbuffer_add(b.get(), "b", 1);
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(s.infos.size(), 2u);
}

namespace {
void drain_in_callback(evbuffer *b, const evbuffer_cb_info *info, void *arg) {
    auto *s = static_cast<Seen *>(arg);
    s->infos.push_back(*info);
    if (evbuffer_get_length(b) > 3) evbuffer_drain(b, evbuffer_get_length(b));
}
}  // namespace

TEST(BufferCallback, CallbackModifyingBufferIsCalledAgain) {
    auto b = make();
    Seen s;
    evbuffer_add_cb(b.get(), drain_in_callback, &s);
    evbuffer_add(b.get(), "abcdef", 6);
    EXPECT_EQ(evbuffer_get_length(b.get()), 0u);
    ASSERT_EQ(s.infos.size(), 2u);
    EXPECT_TRUE(same(s.infos[0], 0, 6, 0));
    EXPECT_TRUE(same(s.infos[1], 6, 0, 6));
}

TEST(BufferCallback, FreeingNonEmptyBufferIsNotADrain) {
    Seen s;
    {
        auto b = make();
        evbuffer_add_cb(b.get(), record, &s);
        evbuffer_add(b.get(), "abc", 3);
    }
    EXPECT_EQ(s.infos.size(), 1u);
}

namespace {
struct OldStyle {
    std::vector<std::pair<size_t, size_t>> calls;
};
void old_cb(evbuffer *, size_t old_len, size_t new_len, void *arg) {
    static_cast<OldStyle *>(arg)->calls.emplace_back(old_len, new_len);
}
}  // namespace

TEST(BufferCallback, SetcbReplacesAllCallbacks) {
    auto b = make();
    Seen s;
    OldStyle o;
    evbuffer_add_cb(b.get(), record, &s);
    ASSERT_EQ(evbuffer_setcb(b.get(), old_cb, &o), 0);
    evbuffer_add(b.get(), "abcd", 4);
    evbuffer_drain(b.get(), 1);
    EXPECT_TRUE(s.infos.empty());
    ASSERT_EQ(o.calls.size(), 2u);
    EXPECT_EQ(o.calls[0], std::make_pair(size_t(0), size_t(4)));
    EXPECT_EQ(o.calls[1], std::make_pair(size_t(4), size_t(3)));
    ASSERT_EQ(evbuffer_setcb(b.get(), nullptr, nullptr), 0);
    evbuffer_add(b.get(), "x", 1);
    EXPECT_EQ(o.calls.size(), 2u);
}

TEST(BufferCallback, ReferenceCleanupAndCallbackBothRun) {
    auto b = make();
    Seen s;
    evbuffer_add_cb(b.get(), record, &s);
    static const char kData[] = "xyz";
    evbuffer_add_reference(b.get(), kData, 3, nullptr, nullptr);
    ASSERT_EQ(s.infos.size(), 1u);
    EXPECT_TRUE(same(s.infos[0], 0, 3, 0));
}
