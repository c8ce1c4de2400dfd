// Filtering bufferevents: transformations on input and output, NEED_MORE, stacking on
// pairs, sockets and other filters, and what freeing a filter does to the underlying one.
#include "bufferevent_test_helpers.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace {

using bevtest::Recorder;
using bevtest::run_until;

// Copies src to dst in upper case.
bufferevent_filter_result upcase(evbuffer *src, evbuffer *dst, ev_ssize_t, bufferevent_flush_mode,
                                 void *ctx) {
    size_t n = evbuffer_get_length(src);
    if (n == 0) return BEV_NEED_MORE;
    std::string s(n, '\0');
    evbuffer_remove(src, s.data(), n);
    for (char &c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    evbuffer_add(dst, s.data(), n);
    if (ctx) ++*static_cast<int *>(ctx);
    return BEV_OK;
}

// rot13 (its own inverse).
bufferevent_filter_result rot13(evbuffer *src, evbuffer *dst, ev_ssize_t, bufferevent_flush_mode,
                                void *) {
    size_t n = evbuffer_get_length(src);
    if (n == 0) return BEV_NEED_MORE;
    std::string s(n, '\0');
    evbuffer_remove(src, s.data(), n);
    for (char &c : s) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>('a' + (c - 'a' + 13) % 26);
        else if (c >= 'A' && c <= 'Z') c = static_cast<char>('A' + (c - 'A' + 13) % 26);
    }
    evbuffer_add(dst, s.data(), n);
    return BEV_OK;
}

// Passes only whole lines.
bufferevent_filter_result lines(evbuffer *src, evbuffer *dst, ev_ssize_t, bufferevent_flush_mode,
                                void *) {
    bool any = false;
    size_t len;
    while (char *line = evbuffer_readln(src, &len, EVBUFFER_EOL_LF)) {
        evbuffer_add(dst, line, len);
        evbuffer_add(dst, "\n", 1);
        free(line);
        any = true;
    }
    return any ? BEV_OK : BEV_NEED_MORE;
}

class BevFilter : public conf::BackendTest {
protected:
    void make_pair() { ASSERT_EQ(bufferevent_pair_new(base(), 0, p_), 0); }
    void TearDown() override {
        for (auto *&b : p_)
            if (b) bufferevent_free(b);
        conf::BackendTest::TearDown();
    }
    bufferevent *p_[2] = {nullptr, nullptr};
};

TEST_P(BevFilter, InputFilterTransformsWhatArrives) {
    make_pair();
    int calls = 0;
    bufferevent *f = bufferevent_filter_new(p_[1], upcase, nullptr, 0, nullptr, &calls);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(bufferevent_get_underlying(f), p_[1]);
    Recorder rec;
    rec.attach(f);
    bufferevent_enable(f, EV_READ);
    bufferevent_write(p_[0], "hello", 5);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "HELLO"; }));
    EXPECT_GE(calls, 1);
    bufferevent_free(f);
}

TEST_P(BevFilter, OutputFilterTransformsWhatLeaves) {
    make_pair();
    bufferevent *f = bufferevent_filter_new(p_[0], nullptr, rot13, 0, nullptr, nullptr);
    ASSERT_NE(f, nullptr);
    Recorder frec, rec;
    frec.attach(f);
    rec.attach(p_[1]);
    bufferevent_enable(p_[1], EV_READ);
    bufferevent_write(f, "Hello", 5);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "Uryyb"; }));
    ASSERT_TRUE(run_until(base(), [&] { return frec.writes > 0; }));
    bufferevent_free(f);
}

TEST_P(BevFilter, NullFiltersPassBytesThrough) {
    make_pair();
    bufferevent *f = bufferevent_filter_new(p_[1], nullptr, nullptr, 0, nullptr, nullptr);
    ASSERT_NE(f, nullptr);
    Recorder rec;
    rec.attach(f);
    bufferevent_enable(f, EV_READ);
    bufferevent_write(p_[0], "as is", 5);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "as is"; }));
    bufferevent_write(f, "back", 4);
    Recorder r0;
    r0.attach(p_[0]);
    bufferevent_enable(p_[0], EV_READ);
    ASSERT_TRUE(run_until(base(), [&] { return r0.data == "back"; }));
    bufferevent_free(f);
}

TEST_P(BevFilter, NeedMoreHoldsPartialInput) {
    make_pair();
    bufferevent *f = bufferevent_filter_new(p_[1], lines, nullptr, 0, nullptr, nullptr);
    ASSERT_NE(f, nullptr);
    Recorder rec;
    rec.attach(f);
    bufferevent_enable(f, EV_READ);
    bufferevent_write(p_[0], "ab", 2);
    bevtest::run_for(base(), 20);
    EXPECT_EQ(rec.reads, 0);
    bufferevent_write(p_[0], "c\nde", 4);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "abc\n"; }));
    bufferevent_write(p_[0], "f\n", 2);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "abc\ndef\n"; }));
    bufferevent_free(f);
}

TEST_P(BevFilter, FiltersStackOnFilters) {
    make_pair();
    // p_[0] -> rot13 -> rot13 : the peer sees the original text.
    bufferevent *f1 = bufferevent_filter_new(p_[0], nullptr, rot13, 0, nullptr, nullptr);
    bufferevent *f2 = bufferevent_filter_new(f1, nullptr, rot13, 0, nullptr, nullptr);
    ASSERT_NE(f2, nullptr);
    EXPECT_EQ(bufferevent_get_underlying(f2), f1);
    // p_[1] -> upcase input.
    bufferevent *g = bufferevent_filter_new(p_[1], upcase, nullptr, 0, nullptr, nullptr);
    Recorder rec;
    rec.attach(g);
    bufferevent_enable(g, EV_READ);
    bufferevent_write(f2, "stacked", 7);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "STACKED"; }));
    bufferevent_free(f2);
    bufferevent_free(f1);
    bufferevent_free(g);
}

TEST_P(BevFilter, FilterOverASocket) {
    conf::SocketPair sp;
    bufferevent *s = bufferevent_socket_new(base(), sp[0], 0);
    bufferevent *f = bufferevent_filter_new(s, upcase, upcase, 0, nullptr, nullptr);
    ASSERT_NE(f, nullptr);
    Recorder rec;
    rec.attach(f);
    bufferevent_enable(f, EV_READ);
    bufferevent_write(f, "out", 3);
    char buf[8];
    ASSERT_TRUE(run_until(base(), [&] { return recv(sp[1], buf, sizeof buf, MSG_PEEK) == 3; }));
    EXPECT_EQ(read(sp[1], buf, sizeof buf), 3);
    EXPECT_EQ(std::string(buf, 3), "OUT");
    ASSERT_EQ(write(sp[1], "in", 2), 2);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "IN"; }));
    // EOF of the socket reaches the filter's event callback.
    sp.close(1);
    ASSERT_TRUE(run_until(base(), [&] { return rec.got(BEV_EVENT_EOF); }));
    bufferevent_free(f);
    bufferevent_free(s);
}

// An output filter that counts its calls and how deeply they nest; on its first call it may
// write to the filter bufferevent itself (from inside the filter).
struct OutCounter {
    int calls = 0, depth = 0, max_depth = 0;
    bufferevent *write_back = nullptr;  // written to once, from inside the first call
    static bufferevent_filter_result fn(evbuffer *src, evbuffer *dst, ev_ssize_t,
                                        bufferevent_flush_mode, void *ctx) {
        auto *c = static_cast<OutCounter *>(ctx);
        ++c->calls;
        c->max_depth = std::max(c->max_depth, ++c->depth);
        evbuffer_add_buffer(dst, src);
        if (c->write_back) {
            bufferevent *b = c->write_back;
            c->write_back = nullptr;
            bufferevent_write(b, "+", 1);
        }
        --c->depth;
        return BEV_OK;
    }
};

// In normal mode the output filter runs only when there is output to filter: the
// underlying's write callback (it drained) does not call it with nothing.
TEST_P(BevFilter, OutputFilterIsNotCalledWithNothingToFilter) {
    conf::SocketPair sp;
    bufferevent *s = bufferevent_socket_new(base(), sp[0], 0);
    OutCounter c;
    bufferevent *f = bufferevent_filter_new(s, nullptr, OutCounter::fn, 0, nullptr, &c);
    ASSERT_NE(f, nullptr);
    Recorder rec;
    rec.attach(f);
    bufferevent_write(f, "once", 4);
    EXPECT_EQ(c.calls, 1);
    char buf[8];
    ASSERT_TRUE(run_until(base(), [&] { return rec.writes > 0; }));
    bevtest::run_for(base(), 30);
    EXPECT_EQ(recv(sp[1], buf, sizeof buf, 0), 4);
    EXPECT_EQ(c.calls, 1);
    bufferevent_free(f);
    bufferevent_free(s);
}

// Writing to the filter from inside its own output filter does not run the filter again
// inside itself: the bytes are filtered by a later call of the same round.
TEST_P(BevFilter, WritingFromInsideTheOutputFilterDoesNotReenterIt) {
    make_pair();
    OutCounter c;
    bufferevent *f = bufferevent_filter_new(p_[0], nullptr, OutCounter::fn, 0, nullptr, &c);
    ASSERT_NE(f, nullptr);
    c.write_back = f;
    Recorder r1;
    r1.attach(p_[1]);
    bufferevent_enable(p_[1], EV_READ);
    bufferevent_write(f, "abc", 3);
    EXPECT_EQ(c.max_depth, 1);
    EXPECT_EQ(c.calls, 2);
    ASSERT_TRUE(run_until(base(), [&] { return r1.data == "abc+"; }));
    bufferevent_free(f);
}

TEST_P(BevFilter, GetfdReachesTheUnderlyingSocket) {
    conf::SocketPair sp;
    bufferevent *s = bufferevent_socket_new(base(), sp[0], 0);
    bufferevent *f = bufferevent_filter_new(s, nullptr, nullptr, 0, nullptr, nullptr);
    EXPECT_EQ(bufferevent_getfd(f), sp[0]);
    bufferevent_free(f);
    bufferevent_free(s);
}

TEST_P(BevFilter, CloseOnFreeFreesTheUnderlying) {
    conf::SocketPair sp;
    int fd = sp.release(0);
    bufferevent *s = bufferevent_socket_new(base(), fd, BEV_OPT_CLOSE_ON_FREE);
    bool ctx_freed = false;
    bufferevent *f = bufferevent_filter_new(s, nullptr, nullptr, BEV_OPT_CLOSE_ON_FREE,
                                            [](void *p) { *static_cast<bool *>(p) = true; },
                                            &ctx_freed);
    ASSERT_NE(f, nullptr);
    bufferevent_free(f);
    bevtest::run_for(base(), 10);
    EXPECT_TRUE(ctx_freed);
    EXPECT_EQ(fcntl(fd, F_GETFD), -1);
}

TEST_P(BevFilter, WithoutCloseOnFreeTheUnderlyingLivesOn) {
    make_pair();
    bool ctx_freed = false;
    bufferevent *f = bufferevent_filter_new(p_[1], upcase, nullptr, 0,
                                            [](void *p) { *static_cast<bool *>(p) = true; },
                                            &ctx_freed);
    bufferevent_free(f);
    bevtest::run_for(base(), 10);
    EXPECT_TRUE(ctx_freed);
    bufferevent_data_cb r = nullptr;
    bufferevent_event_cb e = nullptr;
    bufferevent_getcb(p_[1], &r, nullptr, &e, nullptr);
    EXPECT_EQ(r, nullptr);  // the filter's hooks are gone
    EXPECT_EQ(e, nullptr);
    Recorder rec;
    rec.attach(p_[1]);
    bufferevent_enable(p_[1], EV_READ);
    bufferevent_write(p_[0], "raw", 3);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "raw"; }));
}

TEST_P(BevFilter, FreeFilterInsideItsReadCallback) {
    make_pair();
    bufferevent *f = bufferevent_filter_new(p_[1], upcase, nullptr, 0, nullptr, nullptr);
    Recorder rec;
    bool freed = false;
    rec.on_read = [&](bufferevent *b) { bufferevent_free(b); freed = true; };
    rec.attach(f);
    bufferevent_enable(f, EV_READ);
    bufferevent_write(p_[0], "x", 1);
    ASSERT_TRUE(run_until(base(), [&] { return freed; }));
    bufferevent_write(p_[0], "y", 1);
    bevtest::run_for(base(), 20);
    EXPECT_EQ(rec.reads, 1);
}

// Letters only, so that rot13 changes every byte.
uint8_t letter_at(uint64_t i) { return static_cast<uint8_t>('a' + i % 26); }

TEST_P(BevFilter, LargeTransferThroughFilteredPair) {
    make_pair();
    bufferevent *ftx = bufferevent_filter_new(p_[0], nullptr, rot13, 0, nullptr, nullptr);
    bufferevent *frx = bufferevent_filter_new(p_[1], rot13, nullptr, 0, nullptr, nullptr);
    bevtest::BulkTransfer bulk(8u << 20, 256u << 10, 16384, letter_at);
    bulk.attach(ftx, frx);
    bufferevent_enable(frx, EV_READ);
    bulk.refill(ftx);
    ASSERT_TRUE(run_until(base(), [&] { return bulk.received == bulk.total; }, 3000))
        << "received " << bulk.received << " sent " << bulk.sent;
    EXPECT_EQ(bulk.h_rx, bulk.h_tx);
    bufferevent_free(ftx);
    bufferevent_free(frx);
}

// Passes data on only in blocks of 4 bytes unless asked to flush; BEV_FINISHED adds "$".
bufferevent_filter_result blocks_of_four(evbuffer *src, evbuffer *dst, ev_ssize_t,
                                         bufferevent_flush_mode mode, void *seen) {
    if (seen) static_cast<std::vector<int> *>(seen)->push_back(mode);
    size_t n = evbuffer_get_length(src);
    size_t take = mode == BEV_NORMAL ? n / 4 * 4 : n;
    if (take) evbuffer_remove_buffer(src, dst, take);
    if (mode == BEV_FINISHED) evbuffer_add(dst, "$", 1);
    return take || mode == BEV_FINISHED ? BEV_OK : BEV_NEED_MORE;
}

TEST_P(BevFilter, FlushModesReachTheOutputFilter) {
    make_pair();
    std::vector<int> modes;
    bufferevent *f = bufferevent_filter_new(p_[0], nullptr, blocks_of_four, 0, nullptr, &modes);
    ASSERT_NE(f, nullptr);
    Recorder rec;
    rec.attach(p_[1]);
    bufferevent_enable(p_[1], EV_READ);
    bufferevent_write(f, "abcdef", 6);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "abcd"; }));
    bevtest::run_for(base(), 10);
    EXPECT_EQ(rec.data, "abcd");  // "ef" waits for a full block
    EXPECT_EQ(bufferevent_flush(f, EV_WRITE, BEV_FLUSH), 1);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "abcdef"; }));
    EXPECT_GE(bufferevent_flush(f, EV_WRITE, BEV_FINISHED), 0);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "abcdef$"; }));
    EXPECT_NE(std::find(modes.begin(), modes.end(), int(BEV_FLUSH)), modes.end());
    EXPECT_NE(std::find(modes.begin(), modes.end(), int(BEV_FINISHED)), modes.end());
    bufferevent_free(f);
}

TEST_P(BevFilter, InputFilterSeesNormalModeForArrivingData) {
    make_pair();
    std::vector<int> modes;
    bufferevent *f = bufferevent_filter_new(p_[1], blocks_of_four, nullptr, 0, nullptr, &modes);
    Recorder rec;
    rec.attach(f);
    bufferevent_enable(f, EV_READ);
    bufferevent_write(p_[0], "123456", 6);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "1234"; }));
    ASSERT_FALSE(modes.empty());
    EXPECT_EQ(modes[0], BEV_NORMAL);
    bufferevent_free(f);
}

TEST_P(BevFilter, ReadTimeoutOnAFilter) {
    make_pair();
    bufferevent *f = bufferevent_filter_new(p_[1], nullptr, nullptr, 0, nullptr, nullptr);
    Recorder rec;
    rec.attach(f);
    timeval tv = conf::tv_ms(40);
    bufferevent_set_timeouts(f, &tv, nullptr);
    bufferevent_enable(f, EV_READ);
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    EXPECT_EQ(rec.events[0], BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
    EXPECT_EQ(bufferevent_get_enabled(f) & EV_READ, 0);
    bufferevent_free(f);
}

// A filter that fails: the data stays where it was and no read callback runs.
bufferevent_filter_result failing(evbuffer *, evbuffer *, ev_ssize_t, bufferevent_flush_mode,
                                  void *calls) {
    ++*static_cast<int *>(calls);
    return BEV_ERROR;
}

TEST_P(BevFilter, InputFilterErrorDeliversNothing) {
    make_pair();
    int calls = 0;
    bufferevent *f = bufferevent_filter_new(p_[1], failing, nullptr, 0, nullptr, &calls);
    Recorder rec;
    rec.attach(f);
    bufferevent_enable(f, EV_READ);
    bufferevent_write(p_[0], "bad", 3);
    ASSERT_TRUE(run_until(base(), [&] { return calls > 0; }));
    bevtest::run_for(base(), 20);
    EXPECT_EQ(rec.reads, 0);
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_input(f)), 0u);
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_input(p_[1])), 3u);
    EXPECT_TRUE(rec.events.empty());  // libevent reports nothing either
    bufferevent_free(f);
}

TEST_P(BevFilter, UnderlyingWriteHighWatermarkLimitsTheOutputFilter) {
    make_pair();
    // Nobody reads p_[1], so what the filter puts into p_[0]'s output stays there.
    bufferevent_setwatermark(p_[0], EV_WRITE, 0, 4);
    bufferevent *f = bufferevent_filter_new(p_[0], nullptr, nullptr, 0, nullptr, nullptr);
    ASSERT_NE(f, nullptr);
    bufferevent_write(f, "0123456789", 10);
    bevtest::run_for(base(), 20);
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_output(p_[0])), 4u);
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_output(f)), 6u);
    // Once the reader drains, the rest follows.
    Recorder rec;
    rec.attach(p_[1]);
    bufferevent_enable(p_[1], EV_READ);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "0123456789"; }));
    bufferevent_free(f);
}

CONF_INSTANTIATE_BACKENDS(BevFilter);

}  // namespace
