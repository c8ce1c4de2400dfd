// A NULL event_base after event_init() for the objects of libevent_core beyond events:
// socket bufferevents (bufferevent_socket_new and the 1.x bufferevent_new), a filter over
// one, listeners (evconnlistener_new, evconnlistener_new_bind) and deferred evbuffer
// callbacks all run on the current base, on every backend. A bufferevent made so keeps a
// NULL base (bufferevent_get_base gives NULL, as in libevent), a listener reports the
// current base. Without event_init libevent crashes on these, so that is not tested.
#include "bufferevent_test_helpers.h"

// libevent's bufferevent_compat.h lacks extern "C"; wrapping works for both.
extern "C" {
#include <event2/bufferevent_compat.h>
}
#include <event2/listener.h>

#include <string>

#include "current_base_fixture.h"

using bevtest::Recorder;
using bevtest::run_until;

namespace {

class BevNullBase : public conf::CurrentBaseTest {};

// Reads "hello" sent by the peer, writes "out" to it, then times out reading.
void exercise(event_base *current, bufferevent *bev, Recorder &rec, conf::SocketPair &sp) {
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    ASSERT_EQ(::write(sp[1], "hello", 5), 5);
    ASSERT_EQ(bufferevent_write(bev, "out", 3), 0);
    ASSERT_TRUE(run_until(current, [&] { return rec.data == "hello" && rec.writes > 0; }));
    char buf[8] = {};
    ASSERT_TRUE(run_until(current, [&] { return ::recv(sp[1], buf, sizeof buf, MSG_PEEK) == 3; }));
    EXPECT_EQ(std::string(buf, 3), "out");
    timeval tr = conf::tv_ms(20);
    bufferevent_set_timeouts(bev, &tr, nullptr);
    ASSERT_TRUE(run_until(current, [&] { return !rec.events.empty(); }));
    EXPECT_EQ(rec.events[0], BEV_EVENT_READING | BEV_EVENT_TIMEOUT);
}

TEST_P(BevNullBase, SocketBufferevent) {
    for (int opts : {0, int(BEV_OPT_DEFER_CALLBACKS)}) {
        SCOPED_TRACE(opts);
        conf::SocketPair sp;
        bufferevent *bev = bufferevent_socket_new(nullptr, sp[0], opts);
        ASSERT_NE(bev, nullptr);
        EXPECT_EQ(bufferevent_get_base(bev), nullptr);
        Recorder rec;
        rec.attach(bev);
        exercise(base(), bev, rec, sp);
        bufferevent_free(bev);
    }
}

TEST_P(BevNullBase, CompatBuffereventNew) {
    conf::SocketPair sp;
    Recorder rec;
    bufferevent *bev = bufferevent_new(sp[0], &Recorder::read_cb, &Recorder::write_cb,
                                       &Recorder::event_cb, &rec);
    ASSERT_NE(bev, nullptr);
    EXPECT_EQ(bufferevent_get_base(bev), nullptr);
    exercise(base(), bev, rec, sp);
    bufferevent_free(bev);
}

bufferevent_filter_result pass(evbuffer *src, evbuffer *dst, ev_ssize_t, bufferevent_flush_mode,
                               void *) {
    evbuffer_add_buffer(dst, src);
    return BEV_OK;
}

TEST_P(BevNullBase, FilterOverASocketBuffereventOfNoBase) {
    conf::SocketPair sp;
    bufferevent *under = bufferevent_socket_new(nullptr, sp[0], 0);
    ASSERT_NE(under, nullptr);
    bufferevent *f = bufferevent_filter_new(under, pass, pass, BEV_OPT_CLOSE_ON_FREE, nullptr, nullptr);
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(bufferevent_get_base(f), nullptr);  // the underlying one's
    Recorder rec;
    rec.attach(f);
    exercise(base(), f, rec, sp);
    bufferevent_free(f);
}

struct Accepted {
    int n = 0;
    static void cb(evconnlistener *, evutil_socket_t fd, sockaddr *, int, void *arg) {
        ++static_cast<Accepted *>(arg)->n;
        evutil_closesocket(fd);
    }
};

TEST_P(BevNullBase, ListenerNewOnAnFd) {
    bevtest::Listener l;  // a bound, listening loopback socket
    Accepted acc;
    evutil_make_socket_nonblocking(l.fd());
    evconnlistener *lev = evconnlistener_new(nullptr, &Accepted::cb, &acc, 0, -1, l.fd());
    ASSERT_NE(lev, nullptr);
    EXPECT_EQ(evconnlistener_get_base(lev), base());
    sockaddr_in a = l.addr();
    int c = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_EQ(connect(c, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
    ASSERT_TRUE(run_until(base(), [&] { return acc.n == 1; }));
    close(c);
    evconnlistener_free(lev);
}

TEST_P(BevNullBase, ListenerNewBindAndAConnectingBufferevent) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    Accepted acc;
    evconnlistener *lev = evconnlistener_new_bind(nullptr, &Accepted::cb, &acc,
                                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
                                                  reinterpret_cast<sockaddr *>(&sin), sizeof sin);
    ASSERT_NE(lev, nullptr);
    EXPECT_EQ(evconnlistener_get_base(lev), base());
    socklen_t len = sizeof sin;
    getsockname(evconnlistener_get_fd(lev), reinterpret_cast<sockaddr *>(&sin), &len);
    // A bufferevent of no base connects through the current base too.
    bufferevent *bev = bufferevent_socket_new(nullptr, -1, BEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(bev, nullptr);
    Recorder rec;
    rec.attach(bev);
    ASSERT_EQ(bufferevent_socket_connect(bev, reinterpret_cast<sockaddr *>(&sin), sizeof sin), 0);
    ASSERT_TRUE(run_until(base(), [&] { return acc.n == 1 && rec.got(BEV_EVENT_CONNECTED); }));
    bufferevent_free(bev);
    evconnlistener_free(lev);
}

struct BufSeen {
    int calls = 0;
    size_t added = 0;
    static void cb(evbuffer *, const evbuffer_cb_info *info, void *arg) {
        auto *s = static_cast<BufSeen *>(arg);
        ++s->calls;
        s->added += info->n_added;
    }
};

TEST_P(BevNullBase, EvbufferDeferredCallbacksRunFromTheCurrentBase) {
    evbuffer *buf = evbuffer_new();
    ASSERT_NE(buf, nullptr);
    ASSERT_EQ(evbuffer_defer_callbacks(buf, nullptr), 0);
    BufSeen seen;
    ASSERT_NE(evbuffer_add_cb(buf, &BufSeen::cb, &seen), nullptr);
    evbuffer_add(buf, "xy", 2);
    EXPECT_EQ(seen.calls, 0);  // deferred
    event_base_loop(base(), EVLOOP_NONBLOCK);
    EXPECT_EQ(seen.calls, 1);
    EXPECT_EQ(seen.added, 2u);
    evbuffer_free(buf);
}

CONF_INSTANTIATE_BACKENDS(BevNullBase);

}  // namespace
