// evbuffer with an event_base: deferred callbacks (evbuffer_defer_callbacks) run from the
// loop, and evbuffer_read/evbuffer_write driven by I/O events. Runs on every backend.
#include "backend_fixture.h"
#include "buffer_test_util.h"
#include "differences.h"
#include "helpers.h"

#include <event2/event.h>

#include <unistd.h>

using buftest::contents;
using buftest::make;

namespace {
struct Seen {
    int calls = 0;
    evbuffer_cb_info last{};
};
void record(evbuffer *, const evbuffer_cb_info *info, void *arg) {
    auto *s = static_cast<Seen *>(arg);
    ++s->calls;
    s->last = *info;
}
}  // namespace

class BufferDeferredTest : public conf::BackendTest {};

TEST_P(BufferDeferredTest, DeferredCallbacksRunFromTheLoopWithSummedCounts) {
    auto b = make();
    Seen s;
    evbuffer_add_cb(b.get(), record, &s);
    ASSERT_EQ(evbuffer_defer_callbacks(b.get(), base()), 0);
    evbuffer_add(b.get(), "hello", 5);
    evbuffer_add(b.get(), " world", 6);
    evbuffer_drain(b.get(), 3);
    EXPECT_EQ(s.calls, 0);  // not inside the modifying calls
    event_base_loop(base(), EVLOOP_NONBLOCK);
    ASSERT_EQ(s.calls, 1);
    EXPECT_EQ(s.last.orig_size, 0u);
    EXPECT_EQ(s.last.n_added, 11u);
    EXPECT_EQ(s.last.n_deleted, 3u);
    // A later change is reported on the next loop round, relative to the last report.
    evbuffer_add(b.get(), "!", 1);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    ASSERT_EQ(s.calls, 2);
    EXPECT_EQ(s.last.orig_size, 8u);
    EXPECT_EQ(s.last.n_added, 1u);
    EXPECT_EQ(s.last.n_deleted, 0u);
}

TEST_P(BufferDeferredTest, DeferredCallbackNotRunWithoutChange) {
    auto b = make();
    Seen s;
    evbuffer_add_cb(b.get(), record, &s);
    ASSERT_EQ(evbuffer_defer_callbacks(b.get(), base()), 0);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(s.calls, 0);
}

TEST_P(BufferDeferredTest, FreedBufferRunsNoDeferredCallback) {
    Seen s;
    {
        auto b = make();
        evbuffer_add_cb(b.get(), record, &s);
        ASSERT_EQ(evbuffer_defer_callbacks(b.get(), base()), 0);
        evbuffer_add(b.get(), "x", 1);
    }
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(s.calls, conf::kFreedBufferSkipsDeferredCallbacks ? 0 : 1);
}

namespace {
struct Reader {
    evbuffer *in;
    event_base *base;
    int eof = 0;
};
void on_readable(evutil_socket_t fd, short, void *arg) {
    auto *r = static_cast<Reader *>(arg);
    int n = evbuffer_read(r->in, fd, -1);
    if (n == 0) {
        r->eof = 1;
        event_base_loopbreak(r->base);
    }
}
}  // namespace

TEST_P(BufferDeferredTest, ReadFromEventCallbackUntilEof) {
    conf::SocketPair sp;
    auto in = make(), out = make();
    std::string data(300000, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = char(i % 251);
    evbuffer_add(out.get(), data.data(), data.size());
    Reader r{in.get(), base()};
    event *ev = event_new(base(), sp[1], EV_READ | EV_PERSIST, on_readable, &r);
    ASSERT_NE(ev, nullptr);
    event_add(ev, nullptr);
    // Write everything (blocking in small steps), then close to signal EOF.
    while (evbuffer_get_length(out.get())) {
        int w = evbuffer_write(out.get(), sp[0]);
        if (w < 0) {
            timeval tv = conf::tv_ms(5);
            event_base_loopexit(base(), &tv);
            event_base_dispatch(base());
        }
    }
    sp.close(0);
    timeval limit = conf::tv_ms(3000);
    event_base_loopexit(base(), &limit);
    event_base_dispatch(base());
    event_free(ev);
    EXPECT_EQ(r.eof, 1);
    EXPECT_TRUE(contents(in.get()) == data);
}

CONF_INSTANTIATE_BACKENDS(BufferDeferredTest);
