// I/O events on every backend: read, write, persist, several events per fd, EV_CLOSED,
// EV_ET, active_by_fd, and fds closed and reused between iterations.
#include <sys/socket.h>

#include <cstring>
#include <ctime>

#include "event_test_util.h"

using namespace conf::ev;

class EventIo : public conf::BackendTest {};

TEST_P(EventIo, ReadableFdFiresReadOnceWithoutPersist) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = event_new(base(), sp[0], EV_READ, record_cb, &t);
    ASSERT_EQ(event_add(ev, nullptr), 0);
    write_byte(sp[1]);
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() == 1; }));
    EXPECT_EQ(rec.calls[0].second, EV_READ);
    EXPECT_FALSE(event_pending(ev, EV_READ, nullptr));  // one-shot: no longer pending
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(rec.calls.size(), 1u);
    event_free(ev);
}

TEST_P(EventIo, WritableFdFiresWrite) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = event_new(base(), sp[0], EV_WRITE, record_cb, &t);
    event_add(ev, nullptr);
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() == 1; }));
    EXPECT_EQ(rec.calls[0].second, EV_WRITE);
    event_free(ev);
}

TEST_P(EventIo, PersistentReadFiresOnEveryIteration) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = event_new(base(), sp[0], EV_READ | EV_PERSIST, record_cb, &t);
    event_add(ev, nullptr);
    write_byte(sp[1]);
    for (int i = 0; i < 3; ++i) event_base_loop(base(), EVLOOP_ONCE);  // level-triggered
    EXPECT_EQ(rec.calls.size(), 3u);
    EXPECT_TRUE(event_pending(ev, EV_READ, nullptr));
    event_free(ev);
}

TEST_P(EventIo, SeveralEventsOnOneFdAllFire) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged r1{&rec, 1}, r2{&rec, 2}, w{&rec, 3};
    event *a = event_new(base(), sp[0], EV_READ | EV_PERSIST, record_cb, &r1);
    event *b = event_new(base(), sp[0], EV_READ | EV_PERSIST, record_cb, &r2);
    event *c = event_new(base(), sp[0], EV_WRITE, record_cb, &w);
    event_add(a, nullptr);
    event_add(b, nullptr);
    event_add(c, nullptr);
    write_byte(sp[1]);
    ASSERT_TRUE(run_until(base(), [&] { return rec.count(1) && rec.count(2) && rec.count(3); }));
    // Removing one reader leaves the other working.
    event_del(a);
    rec.calls.clear();
    event_base_loop(base(), EVLOOP_ONCE);
    EXPECT_EQ(rec.count(1), 0);
    EXPECT_EQ(rec.count(2), 1);
    event_free(a);
    event_free(b);
    event_free(c);
}

TEST_P(EventIo, ReadAndWriteInOneEventReportBoth) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = event_new(base(), sp[0], EV_READ | EV_WRITE, record_cb, &t);
    event_add(ev, nullptr);
    write_byte(sp[1]);
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() == 1; }));
    EXPECT_EQ(rec.calls[0].second, EV_READ | EV_WRITE);
    event_free(ev);
}

namespace {
// An event for `what` watches one end of a socket pair, then to_peer(pair) acts on the other
// end; the event's callback must run once, reporting `want` among its flags.
template <class ToPeer>
void expect_one_call_reporting(event_base *b, short what, ToPeer to_peer, short want) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = event_new(b, sp[0], what, record_cb, &t);
    event_add(ev, nullptr);
    to_peer(sp);
    ASSERT_TRUE(run_until(b, [&] { return rec.calls.size() == 1; }));
    EXPECT_TRUE(rec.calls[0].second & want);
    event_free(ev);
}

void close_peer(conf::SocketPair &sp) { sp.close(1); }
}  // namespace

TEST_P(EventIo, PeerCloseWakesReaderWithRead) {
    expect_one_call_reporting(base(), EV_READ, close_peer, EV_READ);
}

TEST_P(EventIo, ClosedEventReportsPeerShutdownWhereSupported) {
    if (!(event_base_get_features(base()) & EV_FEATURE_EARLY_CLOSE)) GTEST_SKIP() << "no EV_CLOSED";
    expect_one_call_reporting(
        base(), EV_CLOSED, [](conf::SocketPair &sp) { ::shutdown(sp[1], SHUT_WR); }, EV_CLOSED);
}

TEST_P(EventIo, ClosedOnlyEventHearsPeerClose) {
    // A full close() (not just shutdown) must still wake an event that asked only for
    // EV_CLOSED: the hang-up is reported as the close, not swallowed as an error.
    if (!(event_base_get_features(base()) & EV_FEATURE_EARLY_CLOSE)) GTEST_SKIP() << "no EV_CLOSED";
    expect_one_call_reporting(base(), EV_CLOSED, close_peer, EV_CLOSED);
}

TEST_P(EventIo, EdgeTriggeredCallbackSeesEvEtLevelNever) {
    // The flags passed to the callback carry EV_ET for an edge-triggered event (libevent
    // ORs the event's own EV_ET into what fired); a level-triggered one never sees it.
    conf::SocketPair sp;
    Recorder rec;
    Tagged lt{&rec, 1}, et{&rec, 2};
    event *a = event_new(base(), sp[0], EV_READ, record_cb, &lt);
    event_add(a, nullptr);
    write_byte(sp[1]);
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() == 1; }));
    EXPECT_EQ(rec.calls[0].second, EV_READ);
    event_free(a);
    if (!(event_base_get_features(base()) & EV_FEATURE_ET)) return;
    conf::SocketPair sp2;
    event *b = event_new(base(), sp2[0], EV_READ | EV_ET, record_cb, &et);
    event_add(b, nullptr);
    write_byte(sp2[1]);
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() == 2; }));
    EXPECT_EQ(rec.calls[1].second, EV_READ | EV_ET);
    event_free(b);
}

TEST_P(EventIo, EdgeTriggeredFiresOncePerArrival) {
    if (!(event_base_get_features(base()) & EV_FEATURE_ET)) GTEST_SKIP() << "no EV_ET";
    conf::SocketPair sp;
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = event_new(base(), sp[0], EV_READ | EV_PERSIST | EV_ET, record_cb, &t);
    event_add(ev, nullptr);
    write_byte(sp[1]);
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() == 1; }));
    event_base_loop(base(), EVLOOP_NONBLOCK);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(rec.calls.size(), 1u);  // not read, but no new edge
    write_byte(sp[1]);
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() == 2; }));
    event_free(ev);
}

TEST_P(EventIo, MixingEdgeAndLevelOnOneFdIsAccepted) {
    // libevent 2.1 accepts it (the fd becomes edge-triggered for everyone); so do we.
    if (!(event_base_get_features(base()) & EV_FEATURE_ET)) GTEST_SKIP() << "no EV_ET";
    conf::SocketPair sp;
    event *a = event_new(base(), sp[0], EV_READ | EV_ET, record_cb, nullptr);
    event *b = event_new(base(), sp[0], EV_WRITE, record_cb, nullptr);
    EXPECT_EQ(event_add(a, nullptr), 0);
    EXPECT_EQ(event_add(b, nullptr), 0);
    event_free(a);
    event_free(b);
}

TEST_P(EventIo, ActiveByFdActivatesMatchingEvents) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged r{&rec, 1}, w{&rec, 2};
    event *a = event_new(base(), sp[0], EV_READ, record_cb, &r);
    event *b = event_new(base(), sp[0], EV_WRITE, record_cb, &w);
    event_add(a, nullptr);
    event_add(b, nullptr);
    event_base_active_by_fd(base(), sp[0], EV_READ);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    ASSERT_GE(rec.count(1), 1);
    EXPECT_EQ(rec.calls[0], std::make_pair(1, (short)EV_READ));
    event_free(a);
    event_free(b);
}

TEST_P(EventIo, DelThenAddInOneIterationKeepsWorking) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged t{&rec, 1};
    event *ev = event_new(base(), sp[0], EV_READ | EV_PERSIST, record_cb, &t);
    event_add(ev, nullptr);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    for (int i = 0; i < 10; ++i) {
        event_del(ev);
        event_add(ev, nullptr);
    }
    write_byte(sp[1]);
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() >= 1; }));
    drain(sp[0]);
    event_free(ev);
}

namespace {
// ev (EV_READ | EV_PERSIST, record_cb with t) watches one end of a new socket pair through
// one loop iteration; then ev is deleted and the pair closed. Returns that end's fd number,
// which the next socket pair reuses.
int watch_then_delete_and_close(event_base *b, event *ev, Tagged *t) {
    conf::SocketPair sp;
    event_assign(ev, b, sp[0], EV_READ | EV_PERSIST, record_cb, t);
    event_add(ev, nullptr);
    event_base_loop(b, EVLOOP_NONBLOCK);
    event_del(ev);
    return sp[0];
}
}  // namespace

TEST_P(EventIo, FdClosedAndReusedBetweenDelAndAdd) {
    // The classic accept-after-close pattern: the new connection gets the old fd number.
    Recorder rec;
    Tagged t{&rec, 1};
    event ev;
    const int oldfd = watch_then_delete_and_close(base(), &ev, &t);
    conf::SocketPair sp2;
    ASSERT_TRUE(sp2[0] == oldfd || sp2[1] == oldfd);
    int fd = sp2[0] == oldfd ? sp2[0] : sp2[1];
    int peer = fd == sp2[0] ? sp2[1] : sp2[0];
    event_assign(&ev, base(), fd, EV_READ | EV_PERSIST, record_cb, &t);
    event_add(&ev, nullptr);
    write_byte(peer);
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() >= 1; }));
    event_del(&ev);
}

TEST_P(EventIo, FdClosedAndReusedWithOnlyTheFieldRewritten) {
    // unbound's pattern: event_del, close, a new socket gets the same number, ev_fd is
    // written directly (no event_assign), event_add -- all inside one iteration.
    Recorder rec;
    Tagged t{&rec, 1};
    event ev;
    const int oldfd = watch_then_delete_and_close(base(), &ev, &t);
    conf::SocketPair sp2;
    int fd = sp2[0] == oldfd ? sp2[0] : sp2[1];
    int peer = fd == sp2[0] ? sp2[1] : sp2[0];
    ASSERT_EQ(fd, oldfd);
    ev.ev_fd = fd;
    ASSERT_EQ(event_add(&ev, nullptr), 0);
    write_byte(peer);
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() >= 1; }));
    event_del(&ev);
}

TEST_P(EventIo, DupedFdsAreWatchedSeparately) {
    conf::SocketPair sp;
    int dupfd = dup(sp[0]);
    ASSERT_GE(dupfd, 0);
    Recorder rec;
    Tagged a{&rec, 1}, b{&rec, 2};
    event *ea = event_new(base(), sp[0], EV_READ | EV_PERSIST, record_cb, &a);
    event *eb = event_new(base(), dupfd, EV_READ | EV_PERSIST, record_cb, &b);
    event_add(ea, nullptr);
    event_add(eb, nullptr);
    write_byte(sp[1]);
    ASSERT_TRUE(run_until(base(), [&] { return rec.count(1) && rec.count(2); }));
    // Deleting and closing the dup leaves the original working, with no stray callbacks.
    event_del(eb);
    close(dupfd);
    rec.calls.clear();
    event_base_loop(base(), EVLOOP_ONCE);
    EXPECT_GE(rec.count(1), 1);
    EXPECT_EQ(rec.count(2), 0);
    drain(sp[0]);
    event_free(ea);
    event_free(eb);
}

// The dup() trap of deferred removals: the program deletes the event, then closes the fd
// while another fd (a dup, or the same file in a child process) keeps the file open. A
// removal made only after the close can no longer name the file, and a level-triggered
// registration left behind would wake the loop forever. The loop must stay idle.
namespace {

double thread_cpu_ms() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Runs the loop for ms milliseconds; returns the CPU time it used as a share of that.
double loop_cpu_share(event_base *b, int ms) {
    const double cpu0 = thread_cpu_ms(), wall0 = conf::now_ms();
    timeval tv = conf::tv_ms(ms);
    event_base_loopexit(b, &tv);
    event_base_dispatch(b);
    return (thread_cpu_ms() - cpu0) / (conf::now_ms() - wall0);
}

bool changelist_on_libevent(const conf::Backend &b) {
    return !conf::kIsReevent && std::strcmp(b.label, "epoll_changelist") == 0;
}

// A socket pair whose first end also has a dup(), `keep`, that outlives it.
struct DupedPair {
    int sv[2] = {-1, -1};
    int keep = -1;
    bool open() { return socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 && (keep = dup(sv[0])) >= 0; }
    ~DupedPair() {
        for (int fd : {sv[1], keep})
            if (fd >= 0) close(fd);
    }
};

}  // namespace

TEST_P(EventIo, DeletedFdClosedWhileADupKeepsItsFileOpenLeavesTheLoopIdle) {
    if (changelist_on_libevent(GetParam()))
        GTEST_SKIP() << "libevent documents its changelist as unsafe with dup()ed fds";
    DupedPair dp;
    ASSERT_TRUE(dp.open());
    const int *sv = dp.sv;  // sv[0] is closed by the test, sv[1] and dp.keep by dp
    conf::SocketPair other;  // stays watched throughout
    Recorder rec;
    Tagged a{&rec, 1}, b{&rec, 2};
    event *ev = event_new(base(), sv[0], EV_READ | EV_PERSIST, record_cb, &a);
    event *ok = event_new(base(), other[0], EV_READ | EV_PERSIST, record_cb, &b);
    ASSERT_EQ(event_add(ev, nullptr), 0);
    ASSERT_EQ(event_add(ok, nullptr), 0);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    event_del(ev);
    close(sv[0]);
    write_byte(sv[1]);  // the file, open through dp.keep, is readable from now on
    EXPECT_LT(loop_cpu_share(base(), 150), 0.1);  // idle: ~0.001; spinning: 0.3-1
    EXPECT_EQ(rec.calls.size(), 0u);
    write_byte(other[1]);
    ASSERT_TRUE(run_until(base(), [&] { return rec.count(2) >= 1; }));
    EXPECT_EQ(rec.count(1), 0);
    drain(other[0]);
    event_free(ev);
    event_free(ok);
}

TEST_P(EventIo, NumberReusedWhileTheOldFileLivesInADupWatchesOnlyTheNewFile) {
    if (changelist_on_libevent(GetParam()))
        GTEST_SKIP() << "libevent documents its changelist as unsafe with dup()ed fds";
    DupedPair dp;
    ASSERT_TRUE(dp.open());
    const int *sv = dp.sv;  // sv[0] is closed by the test, sv[1] and dp.keep by dp
    Recorder rec;
    Tagged t{&rec, 1};
    event ev;
    event_assign(&ev, base(), sv[0], EV_READ | EV_PERSIST, record_cb, &t);
    ASSERT_EQ(event_add(&ev, nullptr), 0);
    event_base_loop(base(), EVLOOP_NONBLOCK);
    // Same iteration: delete, close, a new socket takes the number, same event re-added.
    const int oldfd = sv[0];
    event_del(&ev);
    close(sv[0]);
    int nv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, nv), 0);
    ASSERT_TRUE(nv[0] == oldfd || nv[1] == oldfd);
    const int fd = oldfd, peer = nv[0] == oldfd ? nv[1] : nv[0];
    ASSERT_EQ(evutil_make_socket_nonblocking(fd), 0);
    event_assign(&ev, base(), fd, EV_READ | EV_PERSIST, record_cb, &t);
    ASSERT_EQ(event_add(&ev, nullptr), 0);
    write_byte(sv[1]);  // the OLD file becomes readable: not ours any more
    EXPECT_LT(loop_cpu_share(base(), 150), 0.1);  // idle: ~0.001; spinning: 0.3-1
    EXPECT_EQ(rec.calls.size(), 0u);
    write_byte(peer);  // the new one is
    ASSERT_TRUE(run_until(base(), [&] { return rec.count(1) >= 1; }));
    EXPECT_EQ(rec.calls[0], std::make_pair(1, (short)EV_READ));
    drain(fd);
    rec.calls.clear();
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(rec.calls.size(), 0u);
    event_del(&ev);
    close(nv[0]);
    close(nv[1]);
}

TEST_P(EventIo, ManyFdsAllReported) {
    constexpr int kN = 200;
    std::vector<conf::SocketPair> pairs(kN);
    Recorder rec;
    std::vector<Tagged> tags(kN);
    std::vector<event *> evs(kN);
    for (int i = 0; i < kN; ++i) {
        tags[i] = {&rec, i};
        evs[i] = event_new(base(), pairs[i][0], EV_READ, record_cb, &tags[i]);
        ASSERT_EQ(event_add(evs[i], nullptr), 0);
    }
    for (int i = 0; i < kN; i += 3) write_byte(pairs[i][1]);
    ASSERT_TRUE(run_until(base(), [&] { return rec.calls.size() == (kN + 2) / 3; }));
    for (auto *e : evs) event_free(e);
}

CONF_INSTANTIATE_BACKENDS(EventIo);
