// Socket bufferevents: reading, writing, watermarks, timeouts, EOF vs error, connects,
// half-closed and silent peers, large transfers, freeing inside callbacks.
#include "bufferevent_test_helpers.h"

#include <event2/bufferevent_struct.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <memory>
#include <thread>

namespace {

using bevtest::Recorder;
using bevtest::run_until;

class BevSocket : public conf::BackendTest {
protected:
    bufferevent *make(int fd, int opts = 0) {
        bufferevent *b = bufferevent_socket_new(base(), fd, opts);
        EXPECT_NE(b, nullptr);
        return b;
    }
    // The same, reporting to rec.
    bufferevent *make(int fd, Recorder &rec, int opts = 0) {
        bufferevent *b = make(fd, opts);
        if (b) rec.attach(b);
        return b;
    }

    // What most tests use: a bufferevent on sp[0] reporting to rec; the test plays sp[1].
    conf::SocketPair sp;
    Recorder rec;
    bufferevent *make_on_sp0() { return make(sp[0], rec); }
};

TEST_P(BevSocket, ReadCallbackGetsWhatThePeerWrote) {
    bufferevent *bev = make_on_sp0();
    ASSERT_EQ(bufferevent_enable(bev, EV_READ), 0);
    ASSERT_EQ(write(sp[1], "hello", 5), 5);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "hello"; }));
    EXPECT_GE(rec.reads, 1);
    EXPECT_TRUE(rec.events.empty());
    bufferevent_free(bev);
}

TEST_P(BevSocket, NothingIsReadUntilReadingIsEnabled) {
    bufferevent *bev = make_on_sp0();
    ASSERT_EQ(write(sp[1], "abc", 3), 3);
    bevtest::run_for(base(), 20);
    EXPECT_EQ(rec.reads, 0);
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_input(bev)), 0u);
    bufferevent_enable(bev, EV_READ);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "abc"; }));
    bufferevent_disable(bev, EV_READ);
    EXPECT_EQ(bufferevent_get_enabled(bev), EV_WRITE);
    ASSERT_EQ(write(sp[1], "d", 1), 1);
    bevtest::run_for(base(), 20);
    EXPECT_EQ(rec.data, "abc");
    bufferevent_free(bev);
}

TEST_P(BevSocket, WriteReachesThePeerAndWriteCallbackRunsWhenDrained) {
    bufferevent *bev = make_on_sp0();
    ASSERT_EQ(bufferevent_write(bev, "ping", 4), 0);
    ASSERT_TRUE(run_until(base(), [&] { return rec.writes > 0; }));
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_output(bev)), 0u);
    char buf[16];
    EXPECT_EQ(read(sp[1], buf, sizeof buf), 4);
    EXPECT_EQ(std::memcmp(buf, "ping", 4), 0);
    bufferevent_free(bev);
}

TEST_P(BevSocket, WriteBufferMovesTheWholeEvbuffer) {
    conf::SocketPair sp;
    bufferevent *bev = make(sp[0]);
    evbuffer *src = evbuffer_new();
    evbuffer_add(src, "moved", 5);
    EXPECT_EQ(bufferevent_write_buffer(bev, src), 0);
    EXPECT_EQ(evbuffer_get_length(src), 0u);
    Recorder rec;
    rec.attach(bev);
    ASSERT_TRUE(run_until(base(), [&] { return rec.writes > 0; }));
    char buf[16];
    EXPECT_EQ(read(sp[1], buf, sizeof buf), 5);
    evbuffer_free(src);
    bufferevent_free(bev);
}

TEST_P(BevSocket, ReadAndReadBufferDrainInput) {
    rec.drain = false;
    bufferevent *bev = make_on_sp0();
    bufferevent_enable(bev, EV_READ);
    ASSERT_EQ(write(sp[1], "0123456789", 10), 10);
    ASSERT_TRUE(run_until(base(), [&] {
        return evbuffer_get_length(bufferevent_get_input(bev)) == 10;
    }));
    char buf[4];
    EXPECT_EQ(bufferevent_read(bev, buf, 4), 4u);
    EXPECT_EQ(std::memcmp(buf, "0123", 4), 0);
    evbuffer *dst = evbuffer_new();
    EXPECT_EQ(bufferevent_read_buffer(bev, dst), 0);
    EXPECT_EQ(evbuffer_get_length(dst), 6u);
    EXPECT_EQ(bufferevent_read(bev, buf, 4), 0u);
    evbuffer_free(dst);
    bufferevent_free(bev);
}

TEST_P(BevSocket, ReadLowWatermarkDelaysTheReadCallback) {
    bufferevent *bev = make_on_sp0();
    bufferevent_setwatermark(bev, EV_READ, 10, 0);
    bufferevent_enable(bev, EV_READ);
    ASSERT_EQ(write(sp[1], "12345", 5), 5);
    bevtest::run_for(base(), 30);
    EXPECT_EQ(rec.reads, 0);
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_input(bev)), 5u);
    ASSERT_EQ(write(sp[1], "67890", 5), 5);
    ASSERT_TRUE(run_until(base(), [&] { return rec.reads == 1; }));
    EXPECT_EQ(rec.data, "1234567890");
    bufferevent_free(bev);
}

TEST_P(BevSocket, ReadHighWatermarkStopsReadingUntilInputDrains) {
    rec.drain = false;
    bufferevent *bev = make_on_sp0();
    bufferevent_setwatermark(bev, EV_READ, 0, 100);
    bufferevent_enable(bev, EV_READ);
    std::string big(1000, 'x');
    ASSERT_EQ(write(sp[1], big.data(), big.size()), 1000);
    ASSERT_TRUE(run_until(base(), [&] { return rec.reads > 0; }));
    bevtest::run_for(base(), 30);
    evbuffer *in = bufferevent_get_input(bev);
    EXPECT_EQ(evbuffer_get_length(in), 100u);  // never more than the high mark
    EXPECT_EQ(bufferevent_get_enabled(bev) & EV_READ, EV_READ);  // still "enabled"
    evbuffer_drain(in, 100);
    ASSERT_TRUE(run_until(base(), [&] { return evbuffer_get_length(in) == 100; }));
    evbuffer_drain(in, 100);
    size_t total = 200;
    ASSERT_TRUE(run_until(base(), [&] {
        size_t n = evbuffer_get_length(in);
        total += n;
        evbuffer_drain(in, n);
        return total >= 1000;
    }));
    EXPECT_EQ(total, 1000u);
    bufferevent_free(bev);
}

TEST_P(BevSocket, HighWatermarkReadsComeInSteps) {
    // With a read high-water mark, libevent 2.1 reads at most 4096 bytes at a time
    // (EVBUFFER_MAX_READ), so the read callback runs before the input reaches the mark.
    // fstrm_capture relies on it: it notes a record larger than the mark on one callback,
    // leaving the input as it is, and drains it on the next ones. Had one read filled the
    // input to the mark, reading would stay suspended and no callback would come again.
    conf::SocketPair sp;
    bufferevent *bev = make(sp[0]);
    const size_t kHigh = 65536, kSent = 70000;
    struct Ctx {
        int calls = 0;
        size_t first = 0, drained = 0, max_step = 0, left = 0;
    } ctx;
    bufferevent_setcb(bev, [](bufferevent *b, void *arg) {
        auto *c = static_cast<Ctx *>(arg);
        evbuffer *in = bufferevent_get_input(b);
        size_t n = evbuffer_get_length(in);
        if (n - c->left > c->max_step) c->max_step = n - c->left;
        if (c->calls++ == 0) {
            c->first = n;
            c->left = n;
            return;  // leave the first batch in the input
        }
        c->drained += n;
        c->left = 0;
        evbuffer_drain(in, n);
    }, nullptr, nullptr, &ctx);
    bufferevent_setwatermark(bev, EV_READ, 0, kHigh);
    std::string big(kSent, 'x');
    ASSERT_EQ(write(sp[1], big.data(), big.size()), static_cast<ssize_t>(kSent));
    bufferevent_enable(bev, EV_READ);
    EXPECT_TRUE(run_until(base(), [&] { return ctx.drained == kSent; }))
        << "first callback saw " << ctx.first << " bytes, " << ctx.calls << " callbacks, "
        << ctx.drained << " bytes drained";
    EXPECT_LT(ctx.first, kHigh);
    EXPECT_LE(ctx.max_step, 4096u);
    bufferevent_free(bev);
}

TEST_P(BevSocket, WriteLowWatermarkDecidesWhenTheWriteCallbackRuns) {
    // A peer that never reads: output grows; the write callback waits until the output
    // falls to the low mark, which happens only once the peer starts reading.
    bevtest::TcpPair tp;
    ASSERT_GE(tp[0], 0);
    Recorder rec;
    bufferevent *bev = make(tp[0], rec);
    bufferevent_setwatermark(bev, EV_WRITE, 64 * 1024, 0);
    std::string chunk(16 << 20, 'w');
    bufferevent_write(bev, chunk.data(), chunk.size());
    evbuffer *out = bufferevent_get_output(bev);
    bevtest::run_for(base(), 100);
    size_t stuck = evbuffer_get_length(out);
    EXPECT_GT(stuck, 64u * 1024);  // the kernel buffers are full, the rest stays queued
    EXPECT_EQ(rec.writes, 0);
    EXPECT_TRUE(rec.events.empty());
    // Now the peer reads; the write callback fires once output <= 64 KiB.
    size_t got = 0;
    char buf[65536];
    ASSERT_TRUE(run_until(base(), [&] {
        ssize_t n;
        while ((n = read(tp[1], buf, sizeof buf)) > 0) got += n;
        return rec.writes > 0;
    }, 5000)) << "read " << got << " left " << evbuffer_get_length(out);
    EXPECT_LE(evbuffer_get_length(out), 64u * 1024);
    bufferevent_free(bev);
}

TEST_P(BevSocket, DefaultWriteLowWatermarkMeansOutputEmpty) {
    bevtest::TcpPair tp;
    bufferevent *bev = make(tp[0]);
    Recorder rec;
    size_t len_at_cb = 12345;
    rec.on_write = [&](bufferevent *b) { len_at_cb = evbuffer_get_length(bufferevent_get_output(b)); };
    rec.attach(bev);
    std::string data(200000, 'q');
    bufferevent_write(bev, data.data(), data.size());
    size_t got = 0;
    char buf[65536];
    ASSERT_TRUE(run_until(base(), [&] {
        ssize_t n;
        while ((n = read(tp[1], buf, sizeof buf)) > 0) got += n;
        return rec.writes > 0;
    }));
    EXPECT_EQ(len_at_cb, 0u);
    EXPECT_EQ(rec.writes, 1);
    bufferevent_free(bev);
}

TEST_P(BevSocket, EofIsReportedWithReading) {
    bufferevent *bev = make_on_sp0();
    bufferevent_enable(bev, EV_READ);
    ASSERT_EQ(write(sp[1], "last", 4), 4);
    sp.close(1);
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    EXPECT_EQ(rec.data, "last");  // data before EOF is delivered first
    ASSERT_EQ(rec.events.size(), 1u);
    EXPECT_EQ(rec.events[0], BEV_EVENT_EOF | BEV_EVENT_READING);
    EXPECT_EQ(bufferevent_get_enabled(bev) & EV_READ, 0);  // reading stops after EOF
    bufferevent_free(bev);
}

TEST_P(BevSocket, ResetIsAnErrorWithErrnoPreserved) {
    bevtest::TcpPair tp;
    Recorder rec;
    bufferevent *bev = make(tp[0], rec);
    bufferevent_enable(bev, EV_READ);
    linger lg{1, 0};
    setsockopt(tp[1], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    tp.close(1);  // RST
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    EXPECT_EQ(rec.events[0], BEV_EVENT_ERROR | BEV_EVENT_READING);
    EXPECT_EQ(rec.event_errnos[0], ECONNRESET);
    bufferevent_free(bev);
}

TEST_P(BevSocket, WriteToAClosedPeerIsAWritingError) {
    bufferevent *bev = make_on_sp0();
    sp.close(1);
    bufferevent_write(bev, "lost", 4);
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    EXPECT_EQ(rec.events[0], BEV_EVENT_ERROR | BEV_EVENT_WRITING);
    EXPECT_EQ(rec.event_errnos[0], EPIPE);
    EXPECT_EQ(bufferevent_get_enabled(bev) & EV_WRITE, 0);
    bufferevent_free(bev);
}

TEST_P(BevSocket, HalfClosedPeerGivesEofButWritingGoesOn) {
    bevtest::TcpPair tp;
    Recorder rec;
    bufferevent *bev = make(tp[0], rec);
    bufferevent_enable(bev, EV_READ);
    ASSERT_EQ(write(tp[1], "bye", 3), 3);
    shutdown(tp[1], SHUT_WR);
    ASSERT_TRUE(run_until(base(), [&] { return rec.got(BEV_EVENT_EOF); }));
    EXPECT_EQ(rec.data, "bye");
    // The other direction still works.
    bufferevent_write(bev, "reply", 5);
    ASSERT_TRUE(run_until(base(), [&] { return rec.writes > 0; }));
    char buf[16];
    ASSERT_TRUE(run_until(base(), [&] { return recv(tp[1], buf, sizeof buf, MSG_PEEK) == 5; }));
    EXPECT_EQ(read(tp[1], buf, sizeof buf), 5);
    EXPECT_EQ(rec.events.size(), 1u);
    bufferevent_free(bev);
}

TEST_P(BevSocket, ReadTimeoutReportsAndDisablesReading) {
    bufferevent *bev = make_on_sp0();
    timeval tv = conf::tv_ms(50);
    bufferevent_set_timeouts(bev, &tv, nullptr);
    bufferevent_enable(bev, EV_READ);
    double t0 = conf::now_ms();
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    double dt = conf::now_ms() - t0;
    EXPECT_GE(dt, 45);
    EXPECT_LT(dt, 1000);
    EXPECT_EQ(rec.events[0], BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
    EXPECT_EQ(bufferevent_get_enabled(bev) & EV_READ, 0);
    bevtest::run_for(base(), 120);
    EXPECT_EQ(rec.events.size(), 1u);  // stays disabled: no second timeout
    // Enabling again restarts the timeout.
    bufferevent_enable(bev, EV_READ);
    ASSERT_TRUE(run_until(base(), [&] { return rec.events.size() == 2; }));
    bufferevent_free(bev);
}

// Space reserved in the output stays the caller's while the bufferevent reads: reading
// changes only the input, so the commit later succeeds and the bytes go out. (The output
// has written blocks behind it, which an implementation could be tempted to reuse.)
TEST_P(BevSocket, OutputReservationSurvivesReadsUntilCommitted) {
    conf::SocketPair sp;
    bufferevent *bev = make(sp[0]);
    struct State {
        std::string got;
        bool echo = true;
    } st;
    bufferevent_setcb(
        bev,
        [](bufferevent *b, void *arg) {
            auto *s = static_cast<State *>(arg);
            evbuffer *in = bufferevent_get_input(b);
            std::string chunk(evbuffer_get_length(in), '\0');
            evbuffer_remove(in, chunk.data(), chunk.size());
            s->got += chunk;
            if (s->echo) bufferevent_write(b, chunk.data(), chunk.size());
        },
        nullptr, nullptr, &st);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    char buf[256];
    for (int i = 0; i < 3; ++i) {  // echo traffic: the output writes and drains blocks
        ASSERT_EQ(write(sp[1], "ping", 4), 4);
        ASSERT_TRUE(run_until(base(), [&] { return st.got.size() == 4u * (i + 1); }));
        ASSERT_TRUE(run_until(base(), [&] {
            return evbuffer_get_length(bufferevent_get_output(bev)) == 0;
        }));
        ASSERT_EQ(read(sp[1], buf, sizeof buf), 4);
    }
    st.echo = false;
    evbuffer *out = bufferevent_get_output(bev);
    evbuffer_iovec v[2];
    int n = evbuffer_reserve_space(out, 64, v, 2);
    ASSERT_GE(n, 1);
    ASSERT_GE(v[0].iov_len, 8u);
    std::memcpy(v[0].iov_base, "reserved", 8);
    v[0].iov_len = 8;
    ASSERT_EQ(write(sp[1], "more data", 9), 9);
    ASSERT_TRUE(run_until(base(), [&] { return st.got.size() == 21u; }));
    EXPECT_EQ(std::memcmp(v[0].iov_base, "reserved", 8), 0);
    EXPECT_EQ(evbuffer_commit_space(out, v, 1), 0);
    std::string echoed;
    ASSERT_TRUE(run_until(base(), [&] {
        ssize_t r = read(sp[1], buf, sizeof buf);
        if (r > 0) echoed.append(buf, static_cast<size_t>(r));
        return echoed.size() >= 8;
    }));
    EXPECT_EQ(echoed, "reserved");
    bufferevent_free(bev);
}

TEST_P(BevSocket, ReadTimeoutRestartsOnEachRead) {
    bufferevent *bev = make_on_sp0();
    timeval tv = conf::tv_ms(150);
    bufferevent_set_timeouts(bev, &tv, nullptr);
    bufferevent_enable(bev, EV_READ);
    for (int i = 0; i < 5; ++i) {
        bevtest::run_for(base(), 60);
        ASSERT_EQ(write(sp[1], "k", 1), 1);
    }
    bevtest::run_for(base(), 20);
    EXPECT_TRUE(rec.events.empty());  // 300 ms passed, but never 150 ms without data
    EXPECT_EQ(rec.data, "kkkkk");
    bufferevent_free(bev);
}

TEST_P(BevSocket, WriteTimeoutWhenThePeerDoesNotRead) {
    bevtest::TcpPair tp;
    Recorder rec;
    bufferevent *bev = make(tp[0], rec);
    timeval tv = conf::tv_ms(100);
    bufferevent_set_timeouts(bev, nullptr, &tv);
    std::string big(8 << 20, 'z');
    bufferevent_write(bev, big.data(), big.size());
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    EXPECT_EQ(rec.events[0], BEV_EVENT_TIMEOUT | BEV_EVENT_WRITING);
    EXPECT_EQ(bufferevent_get_enabled(bev) & EV_WRITE, 0);
    EXPECT_GT(evbuffer_get_length(bufferevent_get_output(bev)), 0u);
    bufferevent_free(bev);
}

TEST_P(BevSocket, NoWriteTimeoutWithNothingToWrite) {
    bufferevent *bev = make_on_sp0();
    timeval tv = conf::tv_ms(30);
    bufferevent_set_timeouts(bev, nullptr, &tv);
    bevtest::run_for(base(), 100);
    EXPECT_TRUE(rec.events.empty());
    bufferevent_free(bev);
}

// A socket bufferevent made without a socket (fd -1, to be connected later) still keeps
// its timeouts: enabled directions whose timeout is set report READING/WRITING|TIMEOUT and
// are disabled, as they would with a socket that stays silent.
TEST_P(BevSocket, TimeoutsRunBeforeThereIsASocket) {
    Recorder rec;
    bufferevent *bev = make(-1, rec);
    timeval tr = conf::tv_ms(60), tw = conf::tv_ms(30);
    bufferevent_set_timeouts(bev, &tr, &tw);
    bufferevent_write(bev, "queued", 6);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    ASSERT_TRUE(run_until(base(), [&] { return rec.events.size() >= 2; }, 2000));
    EXPECT_EQ(rec.events[0], BEV_EVENT_WRITING | BEV_EVENT_TIMEOUT);
    EXPECT_EQ(rec.events[1], BEV_EVENT_READING | BEV_EVENT_TIMEOUT);
    EXPECT_EQ(bufferevent_get_enabled(bev) & (EV_READ | EV_WRITE), 0);
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_output(bev)), 6u);
    bufferevent_free(bev);
}

TEST_P(BevSocket, ConnectReportsConnected) {
    bevtest::Listener l;
    Recorder rec;
    bufferevent *bev = make(-1, rec);
    ASSERT_EQ(bufferevent_socket_connect(bev, reinterpret_cast<const sockaddr *>(&l.addr()),
                                         sizeof(sockaddr_in)), 0);
    EXPECT_GE(bufferevent_getfd(bev), 0);
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    EXPECT_EQ(rec.events[0], BEV_EVENT_CONNECTED);
    // Data flows both ways after the connect.
    int peer = l.accept_one();
    ASSERT_GE(peer, 0);
    bufferevent_enable(bev, EV_READ);
    bufferevent_write(bev, "hi", 2);
    ASSERT_EQ(write(peer, "yo", 2), 2);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "yo"; }));
    char buf[4];
    ASSERT_TRUE(run_until(base(), [&] { return recv(peer, buf, sizeof buf, MSG_PEEK) == 2; }));
    ::close(peer);
    bufferevent_free(bev);
}

TEST_P(BevSocket, ConnectedComesBeforeDataEvenWithBothPending) {
    bevtest::Listener l;
    bufferevent *bev = make(-1);
    Recorder rec;
    std::vector<std::string> order;
    rec.on_event = [&](bufferevent *, short w) { order.push_back(w & BEV_EVENT_CONNECTED ? "C" : "E"); };
    rec.on_read = [&](bufferevent *) { order.push_back("R"); };
    rec.attach(bev);
    bufferevent_enable(bev, EV_READ);
    ASSERT_EQ(bufferevent_socket_connect(bev, reinterpret_cast<const sockaddr *>(&l.addr()),
                                         sizeof(sockaddr_in)), 0);
    int peer = l.accept_one();
    ASSERT_EQ(write(peer, "x", 1), 1);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "x"; }));
    ASSERT_FALSE(order.empty());
    EXPECT_EQ(order[0], "C") << testing::PrintToString(order);
    ::close(peer);
    bufferevent_free(bev);
}

// The connect completes inside the bufferevent's own write event: CONNECTED is delivered
// right there (no BEV_OPT_DEFER_CALLBACKS), so a callback running later in the same loop
// iteration already sees it, and bufferevent_trigger(EV_WRITE) from that callback runs the
// write callback at once. (A program that forwards stdin into a just-connected socket relies
// on this: the data is queued before stdin's EOF is handled.) Our own watcher on the socket
// is added before the bufferevent's events, so it runs after them in that iteration.
TEST_P(BevSocket, ConnectedIsDeliveredBeforeLaterCallbacksOfTheSameIteration) {
    bevtest::Listener l;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ASSERT_GE(fd, 0);
    Recorder rec;
    bufferevent *bev = make(fd, rec, BEV_OPT_CLOSE_ON_FREE);
    struct Watch {
        bufferevent *bev;
        Recorder *rec;
        int runs = 0;
        bool saw_connected = false;
        int writes_before = -1, writes_after = -1;
    } w{bev, &rec};
    event *watcher = event_new(base(), fd, EV_WRITE, [](evutil_socket_t, short, void *p) {
        auto *w = static_cast<Watch *>(p);
        ++w->runs;
        w->saw_connected = w->rec->got(BEV_EVENT_CONNECTED);
        w->writes_before = w->rec->writes;
        bufferevent_trigger(w->bev, EV_WRITE, 0);
        w->writes_after = w->rec->writes;
    }, &w);
    ASSERT_EQ(event_add(watcher, nullptr), 0);
    ASSERT_EQ(bufferevent_socket_connect(bev, reinterpret_cast<const sockaddr *>(&l.addr()),
                                         sizeof(sockaddr_in)), 0);
    int peer = l.accept_one();
    ASSERT_GE(peer, 0);
    ASSERT_TRUE(run_until(base(), [&] { return w.runs > 0; }));
    EXPECT_TRUE(w.saw_connected);
    EXPECT_EQ(w.writes_after, w.writes_before + 1);
    ::close(peer);
    event_free(watcher);
    bufferevent_free(bev);
}

TEST_P(BevSocket, ConnectToAClosedPortIsConnectionRefused) {
    sockaddr_in a = bevtest::closed_port_addr();
    Recorder rec;
    bufferevent *bev = make(-1, rec, BEV_OPT_CLOSE_ON_FREE);
    ASSERT_EQ(bufferevent_socket_connect(bev, reinterpret_cast<const sockaddr *>(&a), sizeof a), 0);
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    EXPECT_EQ(rec.events[0], BEV_EVENT_ERROR);
    EXPECT_EQ(rec.event_errnos[0], ECONNREFUSED);
    bevtest::run_for(base(), 20);
    EXPECT_EQ(rec.events.size(), 1u);
    bufferevent_free(bev);
}

TEST_P(BevSocket, ConnectWithABadAddressFailsAtOnce) {
    Recorder rec;
    bufferevent *bev = make(-1, rec);
    int fds = conf::count_open_fds();
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(1);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // A socklen too short for AF_INET: connect() fails with EINVAL, no socket is left over.
    EXPECT_EQ(bufferevent_socket_connect(bev, reinterpret_cast<const sockaddr *>(&a), 4), -1);
    EXPECT_EQ(conf::count_open_fds(), fds);
    EXPECT_EQ(bufferevent_getfd(bev), -1);
    bevtest::run_for(base(), 20);
    EXPECT_TRUE(rec.events.empty());
    // No address and no socket: nothing to do.
    EXPECT_EQ(bufferevent_socket_connect(bev, nullptr, 0), -1);
    bufferevent_free(bev);
}

TEST_P(BevSocket, ConnectHostnameNumericLoopback) {
    bevtest::Listener l;
    Recorder rec;
    bufferevent *bev = make(-1, rec, BEV_OPT_CLOSE_ON_FREE);
    ASSERT_EQ(bufferevent_socket_connect_hostname(bev, nullptr, AF_INET, "127.0.0.1", l.port()), 0);
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    EXPECT_EQ(rec.events[0], BEV_EVENT_CONNECTED);
    EXPECT_EQ(bufferevent_socket_get_dns_error(bev), 0);
    bufferevent_free(bev);
}

TEST_P(BevSocket, ConnectHostnameLocalhostClosedPortIsRefused) {
    sockaddr_in a = bevtest::closed_port_addr();
    Recorder rec;
    bufferevent *bev = make(-1, rec, BEV_OPT_CLOSE_ON_FREE);
    ASSERT_EQ(bufferevent_socket_connect_hostname(bev, nullptr, AF_INET, "127.0.0.1",
                                                  ntohs(a.sin_port)), 0);
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    EXPECT_EQ(rec.events[0], BEV_EVENT_ERROR);
    EXPECT_EQ(rec.event_errnos[0], ECONNREFUSED);
    EXPECT_EQ(bufferevent_socket_get_dns_error(bev), 0);
    bufferevent_free(bev);
}

TEST_P(BevSocket, ConnectHostnameUnresolvableIsADnsError) {
    Recorder rec;
    bufferevent *bev = make(-1, rec, BEV_OPT_CLOSE_ON_FREE);
    // An empty label makes the resolver refuse the name locally: no DNS traffic, no wait.
    int r = bufferevent_socket_connect_hostname(bev, nullptr, AF_INET, "unresolvable..invalid", 80);
    EXPECT_EQ(r, 0);
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }, 10000));
    EXPECT_EQ(rec.events[0], BEV_EVENT_ERROR);
    EXPECT_NE(bufferevent_socket_get_dns_error(bev), 0);
    bufferevent_free(bev);
}

TEST_P(BevSocket, ConnectHostnameRejectsBadArguments) {
    bufferevent *bev = make(-1);
    EXPECT_EQ(bufferevent_socket_connect_hostname(bev, nullptr, AF_UNIX, "127.0.0.1", 80), -1);
    EXPECT_EQ(bufferevent_socket_connect_hostname(bev, nullptr, AF_INET, "127.0.0.1", 0), -1);
    EXPECT_EQ(bufferevent_socket_connect_hostname(bev, nullptr, AF_INET, "127.0.0.1", 70000), -1);
    bufferevent_free(bev);
}

TEST_P(BevSocket, ConnectWithNullAddressFinishesAManualConnect) {
    // The program started connect() itself (EINPROGRESS) and hands the fd over.
    bevtest::Listener l;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int r = ::connect(fd, reinterpret_cast<const sockaddr *>(&l.addr()), sizeof(sockaddr_in));
    ASSERT_TRUE(r == 0 || errno == EINPROGRESS);
    Recorder rec;
    bufferevent *bev = make(fd, rec, BEV_OPT_CLOSE_ON_FREE);
    ASSERT_EQ(bufferevent_socket_connect(bev, nullptr, 0), 0);
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    EXPECT_EQ(rec.events[0], BEV_EVENT_CONNECTED);
    bufferevent_free(bev);
}

TEST_P(BevSocket, NoConnectedEventForAnAlreadyConnectedSocket) {
    bevtest::TcpPair tp;
    Recorder rec;
    bufferevent *bev = make(tp[0], rec);
    bufferevent_enable(bev, EV_READ);
    bufferevent_write(bev, "x", 1);
    ASSERT_EQ(write(tp[1], "y", 1), 1);
    ASSERT_TRUE(run_until(base(), [&] { return rec.data == "y" && rec.writes > 0; }));
    EXPECT_TRUE(rec.events.empty());
    bufferevent_free(bev);
}

TEST_P(BevSocket, WritesFromAnotherThreadReachThePeer) {
    evthread_use_pthreads();
    bevtest::TcpPair tp;
    // A base made after evthread_use_pthreads, so libevent can wake it from the writer.
    event_base *b2 = conf::new_base_on(GetParam());
    ASSERT_NE(b2, nullptr);
    bufferevent *bev = bufferevent_socket_new(b2, tp[0], BEV_OPT_THREADSAFE);
    ASSERT_NE(bev, nullptr);
    constexpr int kChunks = 2000;
    std::atomic<bool> done{false};
    std::thread writer([&] {
        char chunk[100];
        for (int i = 0; i < kChunks; ++i) {
            std::memset(chunk, 'a' + i % 26, sizeof chunk);
            bufferevent_write(bev, chunk, sizeof chunk);
            // Pause now and then so writes also land while the loop sleeps in the kernel.
            if (i % 200 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        done = true;
    });
    size_t got = 0;
    char buf[65536];
    ASSERT_TRUE(run_until(b2, [&] {
        ssize_t n;
        while ((n = read(tp[1], buf, sizeof buf)) > 0) got += size_t(n);
        return done && got == size_t(kChunks) * 100;
    }, 10000)) << got;
    writer.join();
    bufferevent_free(bev);
    event_base_free(b2);
}

TEST_P(BevSocket, CloseOnFreeClosesTheSocket) {
    conf::SocketPair sp;
    int fd = sp.release(0);
    bufferevent *bev = make(fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_free(bev);
    bevtest::run_for(base(), 10);  // libevent finishes a free from the loop
    EXPECT_EQ(fcntl(fd, F_GETFD), -1);
    EXPECT_EQ(errno, EBADF);
    conf::SocketPair sp2;
    bufferevent *keep = make(sp2[0]);
    bufferevent_free(keep);
    EXPECT_NE(fcntl(sp2[0], F_GETFD), -1);  // without the option the fd stays open
}

TEST_P(BevSocket, FreeInsideTheReadCallback) {
    conf::SocketPair sp;
    int fd = sp.release(0);
    bufferevent *bev = make(fd, BEV_OPT_CLOSE_ON_FREE);
    Recorder rec;
    bool freed = false;
    rec.on_read = [&](bufferevent *b) { bufferevent_free(b); freed = true; };
    rec.attach(bev);
    bufferevent_enable(bev, EV_READ);
    timeval tv = conf::tv_ms(10);
    bufferevent_set_timeouts(bev, &tv, &tv);
    ASSERT_EQ(write(sp[1], "x", 1), 1);
    ASSERT_TRUE(run_until(base(), [&] { return freed; }));
    bevtest::run_for(base(), 50);
    EXPECT_EQ(rec.reads, 1);
    EXPECT_TRUE(rec.events.empty());  // no timeout or anything after free
    EXPECT_EQ(fcntl(fd, F_GETFD), -1);
}

TEST_P(BevSocket, FreeInsideTheEventCallback) {
    conf::SocketPair sp;
    bufferevent *bev = make(sp[0]);
    Recorder rec;
    rec.on_event = [&](bufferevent *b, short) { bufferevent_free(b); };
    rec.attach(bev);
    bufferevent_enable(bev, EV_READ);
    bufferevent_write(bev, "x", 1);
    sp.close(1);
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    bevtest::run_for(base(), 30);
    EXPECT_EQ(rec.events.size(), 1u);
}

TEST_P(BevSocket, FreeInsideTheWriteCallbackWithDeferredCallbacks) {
    conf::SocketPair sp;
    bufferevent *bev = make(sp[0], BEV_OPT_DEFER_CALLBACKS);
    Recorder rec;
    rec.on_write = [&](bufferevent *b) { bufferevent_free(b); };
    rec.attach(bev);
    bufferevent_enable(bev, EV_READ);
    bufferevent_write(bev, "x", 1);
    ASSERT_EQ(write(sp[1], "y", 1), 1);
    ASSERT_TRUE(run_until(base(), [&] { return rec.writes > 0; }));
    bevtest::run_for(base(), 30);
    EXPECT_EQ(rec.writes, 1);
}

TEST_P(BevSocket, NoCallbackAfterFreeEvenWithADeferredOnePending) {
    conf::SocketPair sp;
    Recorder rec;
    bufferevent *bev = make(sp[0], rec, BEV_OPT_DEFER_CALLBACKS);
    // Queue a deferred callback, then free before the loop runs it.
    bufferevent_trigger_event(bev, BEV_EVENT_EOF, 0);
    bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
    bufferevent_free(bev);
    bevtest::run_for(base(), 30);
    EXPECT_TRUE(rec.events.empty());
    EXPECT_EQ(rec.reads, 0);
}

TEST_P(BevSocket, DeferredCallbacksRunAfterTheRegularEventsOfTheRound) {
    conf::SocketPair sp;
    bufferevent *bev = make(sp[0], BEV_OPT_DEFER_CALLBACKS);
    Recorder rec;
    std::vector<std::string> order;
    rec.on_read = [&](bufferevent *) { order.push_back("bev"); };
    rec.attach(bev);
    bufferevent_enable(bev, EV_READ);
    // A plain event on the same fd, readable in the same round, added after the bev.
    struct Ctx { std::vector<std::string> *order; } ctx{&order};
    event *plain = event_new(base(), sp[0], EV_READ, [](evutil_socket_t, short, void *p) {
        static_cast<Ctx *>(p)->order->push_back("plain");
    }, &ctx);
    event_add(plain, nullptr);
    ASSERT_EQ(write(sp[1], "z", 1), 1);
    ASSERT_TRUE(run_until(base(), [&] { return order.size() >= 2; }));
    EXPECT_EQ(order[0], "plain");
    EXPECT_EQ(order[1], "bev");
    event_free(plain);
    bufferevent_free(bev);
}

// bufferevent_trigger called by the program from inside the very callback it triggers runs
// that callback again at once, nested (libevent calls it directly; the program chose the
// recursion, as with any call of its own), unless BEV_TRIG_DEFER_CALLBACKS asks for the loop.
TEST_P(BevSocket, TriggerFromInsideTheTriggeredCallbackRunsItNested) {
    conf::SocketPair sp;
    bufferevent *bev = make(sp[0]);
    Recorder rec;
    int depth = 0, max_depth = 0, reads_seen_after = -1, writes_seen_after = -1;
    rec.on_read = [&](bufferevent *b) {
        max_depth = std::max(max_depth, ++depth);
        if (rec.reads == 1) {
            bufferevent_trigger(b, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
            reads_seen_after = rec.reads;
        }
        --depth;
    };
    rec.on_write = [&](bufferevent *b) {
        if (rec.writes == 1) {
            bufferevent_trigger(b, EV_WRITE, 0);
            writes_seen_after = rec.writes;
        }
    };
    rec.attach(bev);
    bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
    EXPECT_EQ(rec.reads, 2);
    EXPECT_EQ(reads_seen_after, 2);
    EXPECT_EQ(max_depth, 2);
    bufferevent_trigger(bev, EV_WRITE, 0);
    EXPECT_EQ(rec.writes, 2);
    EXPECT_EQ(writes_seen_after, 2);
    // Asked to defer: the nested one waits for the loop.
    rec.on_read = [&](bufferevent *b) {
        if (rec.reads == 3) {
            bufferevent_trigger(b, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
            reads_seen_after = rec.reads;
        }
    };
    bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
    EXPECT_EQ(rec.reads, 3);
    EXPECT_EQ(reads_seen_after, 3);
    ASSERT_TRUE(run_until(base(), [&] { return rec.reads == 4; }));
    bufferevent_free(bev);
}

TEST_P(BevSocket, DeferredEventCallbackKeepsErrno) {
    sockaddr_in a = bevtest::closed_port_addr();
    Recorder rec;
    bufferevent *bev = make(-1, rec, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    ASSERT_EQ(bufferevent_socket_connect(bev, reinterpret_cast<const sockaddr *>(&a), sizeof a), 0);
    ASSERT_TRUE(run_until(base(), [&] { return !rec.events.empty(); }));
    EXPECT_EQ(rec.events[0], BEV_EVENT_ERROR);
    EXPECT_EQ(rec.event_errnos[0], ECONNREFUSED);
    bufferevent_free(bev);
}

TEST_P(BevSocket, TriggerRunsCallbacksHonouringWatermarks) {
    rec.drain = false;
    bufferevent *bev = make_on_sp0();
    bufferevent_setwatermark(bev, EV_READ, 5, 0);
    bufferevent_trigger(bev, EV_READ, 0);  // input empty < 5: nothing
    EXPECT_EQ(rec.reads, 0);
    bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
    EXPECT_EQ(rec.reads, 1);  // immediate without DEFER
    bufferevent_trigger(bev, EV_WRITE, 0);  // output empty <= 0: runs
    EXPECT_EQ(rec.writes, 1);
    bufferevent_trigger(bev, EV_READ | EV_WRITE, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
    EXPECT_EQ(rec.reads, 1);
    EXPECT_EQ(rec.writes, 1);
    ASSERT_TRUE(run_until(base(), [&] { return rec.reads == 2 && rec.writes == 2; }));
    bufferevent_trigger_event(bev, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
    ASSERT_EQ(rec.events.size(), 1u);
    EXPECT_EQ(rec.events[0], BEV_EVENT_EOF | BEV_EVENT_READING);
    bufferevent_trigger_event(bev, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
    EXPECT_EQ(rec.events.size(), 1u);
    ASSERT_TRUE(run_until(base(), [&] { return rec.events.size() == 2; }));
    EXPECT_EQ(rec.events[1], BEV_EVENT_ERROR);
    bufferevent_free(bev);
}

// The event bits of a deferred event callback are a short: bits above the low byte (and
// ~0, which libevent's own test triggers) reach the callback as given.
TEST_P(BevSocket, DeferredEventCallbackGetsEveryBitTriggered) {
    conf::SocketPair sp;
    Recorder rec;
    bufferevent *bev = make(sp[0], rec, BEV_OPT_DEFER_CALLBACKS);
    const short high = static_cast<short>(0x4000 | BEV_EVENT_EOF | BEV_EVENT_READING);
    bufferevent_trigger_event(bev, high, 0);
    EXPECT_TRUE(rec.events.empty());
    ASSERT_TRUE(run_until(base(), [&] { return rec.events.size() == 1; }));
    EXPECT_EQ(rec.events[0], high);
    bufferevent_free(bev);
    bev = make(sp[1]);
    Recorder rec2;
    rec2.attach(bev);
    bufferevent_trigger_event(bev, static_cast<short>(~0 & ~BEV_EVENT_CONNECTED),
                              BEV_TRIG_DEFER_CALLBACKS);
    ASSERT_TRUE(run_until(base(), [&] { return rec2.events.size() == 1; }));
    EXPECT_EQ(rec2.events[0], static_cast<short>(~0 & ~BEV_EVENT_CONNECTED));
    bufferevent_free(bev);
}

TEST_P(BevSocket, EnablingWriteWithEmptyOutputRunsTheWriteCallbackOnce) {
    bufferevent *bev = make_on_sp0();
    bufferevent_disable(bev, EV_WRITE);
    bufferevent_enable(bev, EV_WRITE);
    bevtest::run_for(base(), 30);
    EXPECT_EQ(rec.writes, 1);
    bufferevent_free(bev);
}

TEST_P(BevSocket, DisabledWriteHoldsOutputBack) {
    bufferevent *bev = make_on_sp0();
    bufferevent_disable(bev, EV_WRITE);
    bufferevent_write(bev, "held", 4);
    bevtest::run_for(base(), 30);
    char buf[8];
    EXPECT_EQ(read(sp[1], buf, sizeof buf), -1);
    bufferevent_enable(bev, EV_WRITE);
    ASSERT_TRUE(run_until(base(), [&] { return recv(sp[1], buf, sizeof buf, MSG_PEEK) == 4; }));
    bufferevent_free(bev);
}

TEST_P(BevSocket, FlushOnASocketIsANoOp) {
    conf::SocketPair sp;
    bufferevent *bev = make(sp[0]);
    bufferevent_write(bev, "x", 1);
    EXPECT_EQ(bufferevent_flush(bev, EV_WRITE, BEV_FLUSH), 0);
    bufferevent_free(bev);
}

// 100 MB over loopback TCP on epoll (16 MB on the others to keep the run short).
TEST_P(BevSocket, LargeTransferOverLoopbackKeepsEveryByte) {
    bevtest::BulkTransfer bulk(is_epoll() ? (100u << 20) : (16u << 20), 1u << 20, 65536);
    bevtest::TcpPair tp;
    bufferevent *tx = make(tp[0]);
    bufferevent *rx = make(tp[1]);
    bulk.attach(tx, rx);
    bufferevent_setwatermark(tx, EV_WRITE, 256 * 1024, 0);
    bufferevent_enable(rx, EV_READ);
    bulk.refill(tx);
    ASSERT_TRUE(run_until(base(), [&] { return bulk.received == bulk.total; }, 60000));
    EXPECT_EQ(bulk.sent, bulk.total);
    EXPECT_EQ(bulk.h_rx, bulk.h_tx);
    EXPECT_TRUE(bulk.wr.events.empty());
    EXPECT_TRUE(bulk.rd.events.empty());
    bufferevent_free(tx);
    bufferevent_free(rx);
}

TEST_P(BevSocket, ThreadsafeBuffereventWorks) {
    conf::SocketPair sp;
    evthread_use_pthreads();
    bufferevent *bev = make(sp[0], BEV_OPT_THREADSAFE | BEV_OPT_DEFER_CALLBACKS |
                                       BEV_OPT_UNLOCK_CALLBACKS);
    Recorder rec;
    rec.on_read = [&](bufferevent *b) { bufferevent_write(b, "echo", 4); };
    rec.attach(bev);
    bufferevent_enable(bev, EV_READ);
    ASSERT_EQ(write(sp[1], "q", 1), 1);
    char buf[8];
    ASSERT_TRUE(run_until(base(), [&] { return recv(sp[1], buf, sizeof buf, MSG_PEEK) == 4; }));
    bufferevent_free(bev);
}

TEST_P(BevSocket, UnlockCallbacksWithoutDeferIsRefused) {
    conf::LogCapture logs;
    EXPECT_EQ(bufferevent_socket_new(base(), -1, BEV_OPT_UNLOCK_CALLBACKS), nullptr);
    EXPECT_TRUE(logs.contains("UNLOCK_CALLBACKS"));
}

TEST_P(BevSocket, NullHandlesAreRejectedNotCrashed) {
    if (!conf::kIsReevent) GTEST_SKIP() << "libevent dereferences NULL here";
    EXPECT_EQ(bufferevent_enable(nullptr, EV_READ), -1);
    EXPECT_EQ(bufferevent_write(nullptr, "x", 1), -1);
    EXPECT_EQ(bufferevent_read(nullptr, nullptr, 1), 0u);
    EXPECT_EQ(bufferevent_get_input(nullptr), nullptr);
    EXPECT_EQ(bufferevent_socket_connect(nullptr, nullptr, 0), -1);
    EXPECT_EQ(bufferevent_pair_new(base(), 0, nullptr), -1);
    EXPECT_EQ(bufferevent_rate_limit_group_new(base(), nullptr), nullptr);
    EXPECT_EQ(ev_token_bucket_cfg_new(0, 0, 1, 1, nullptr), nullptr);
    timeval zero = {0, 0};
    EXPECT_EQ(ev_token_bucket_cfg_new(1, 1, 1, 1, &zero), nullptr);  // a 0 ms tick
    bufferevent_free(nullptr);
    bufferevent_setcb(nullptr, nullptr, nullptr, nullptr, nullptr);
    bufferevent *bev = make(-1);
    EXPECT_EQ(bufferevent_add_to_rate_limit_group(bev, nullptr), 0);  // NULL just leaves
    EXPECT_EQ(bufferevent_decrement_read_limit(bev, 10), -1);  // no bucket configured
    bufferevent_free(bev);
}

TEST_P(BevSocket, NewWithBadArgumentsFails) {
    // A NULL base means the current base of event_init (bufferevent_new, bufferevent_pair_new);
    // the constructors of the other kinds refuse a NULL underlying/pair.
    EXPECT_EQ(bufferevent_filter_new(nullptr, nullptr, nullptr, 0, nullptr, nullptr), nullptr);
}

// A write callback that refills the output every time (a producer streaming to a peer that
// keeps up) must not keep the loop to itself: each further write waits for the next poll,
// so fds that became ready meanwhile (and timers) get their turn. Here the peer is read by
// a plain persistent event that drains it: on libevent, where a write happens only when a
// poll reports EV_WRITE, writes and reads alternate. (Found with libevent's test-ratelim:
// 30 clients refilling 8 KiB from their write callbacks filled the loopback buffers,
// ~128 MB, in a single loop iteration while the rate-limited echo side could not run.)
TEST_P(BevSocket, WriteCallbackRefillingOutputLetsOtherEventsRunBetweenWrites) {
    conf::SocketPair sp;
    struct State {
        event_base *base;
        int writes = 0;
        int reads = 0;
        int run = 0;      // write callbacks since the peer last read
        int max_run = 0;  // the longest such run
        size_t got = 0;
    } st{base()};
    bufferevent *bev = make(sp[0]);
    bufferevent_setcb(
        bev, nullptr,
        [](bufferevent *b, void *arg) {
            auto *s = static_cast<State *>(arg);
            ++s->writes;
            if (++s->run > s->max_run) s->max_run = s->run;
            if (s->writes == 60) {
                event_base_loopbreak(s->base);
                return;
            }
            char block[1024];
            std::memset(block, 'w', sizeof block);
            bufferevent_write(b, block, sizeof block);
        },
        nullptr, &st);
    event *reader = event_new(
        base(), sp[1], EV_READ | EV_PERSIST,
        [](evutil_socket_t fd, short, void *arg) {
            auto *s = static_cast<State *>(arg);
            char buf[65536];
            ssize_t n;
            while ((n = read(fd, buf, sizeof buf)) > 0) s->got += size_t(n);
            ++s->reads;
            s->run = 0;
        },
        &st);
    ASSERT_EQ(event_add(reader, nullptr), 0);
    ASSERT_EQ(bufferevent_enable(bev, EV_WRITE), 0);
    bufferevent_write(bev, "start", 5);
    event_base_dispatch(base());
    EXPECT_EQ(st.writes, 60);
    EXPECT_GE(st.reads, 25) << "the peer read " << st.reads << " times during 60 writes";
    EXPECT_LE(st.max_run, 3) << "up to " << st.max_run
                             << " write callbacks ran with no loop iteration between them";
    event_free(reader);
    bufferevent_free(bev);
}

CONF_INSTANTIATE_BACKENDS(BevSocket);

}  // namespace
