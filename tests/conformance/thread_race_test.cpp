// Cross-thread set-up races, made certain instead of rare.
//
// A program may set up an object from one thread on a base whose loop runs in another
// (sslsplit connects a worker's bufferevent from its listener thread). If the library arms
// an event before it sets the state that event's callback reads, the loop thread can run
// the callback in between; the window is a few instructions, so such a bug shows once in
// many runs. Here the window is opened wide in two ways:
//  - the scheduler: the setting-up thread runs on the loop thread's CPU under SCHED_IDLE,
//    so the loop thread, once woken (the library wakes it when an event is armed from
//    another thread), preempts it at once and runs whatever is ready before the setting-up
//    thread gets the CPU back (a waking SCHED_NORMAL thread always preempts a SCHED_IDLE
//    one). This works whatever the library's locks are.
//  - the lock callbacks, where the library calls them for its own locks (libevent does,
//    reevent uses its own): they are ours (the public evthread_set_lock_callbacks), and the
//    setting-up thread, each time it has released its last lock while the watched event is
//    pending or active, waits until the loop thread has run a callback of the object and
//    returned from it (a marker event, made active by that callback, has run after it).
// Whatever the loop thread can do inside the window, it then does, (nearly) every time.
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/thread.h>
#include <gtest/gtest.h>

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "backend_fixture.h"
#include "cross_thread.h"
#include "differences.h"
#include "helpers.h"
#include "ssl_support.h"

namespace {

// ---- the hooked locks -------------------------------------------------------------------

struct HookLock {
    pthread_mutex_t m;
};

thread_local int t_held = 0;         // our locks this thread holds (recursive count)
thread_local bool t_in_hook = false;  // inside the hook's own library calls
thread_local bool t_armed = false;    // the setting-up thread, while it sets up

// The hand-off between the setting-up thread (paused) and the loop thread.
pthread_mutex_t g_gate = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t g_gate_cv = PTHREAD_COND_INITIALIZER;
bool g_cb_ran = false;   // a callback of the watched object ran on the loop thread
bool g_settled = false;  // ... and the library code that called it has returned
event *g_watched = nullptr;  // pause while this event is pending or active
event *g_marker = nullptr;   // made active by a callback, runs once that callback is over

// Called by the object's callbacks in the test, on the loop thread.
void note_callback_ran() {
    pthread_mutex_lock(&g_gate);
    const bool first = !g_cb_ran;
    g_cb_ran = true;
    pthread_mutex_unlock(&g_gate);
    if (first && g_marker) event_active(g_marker, EV_READ, 1);
}

void marker_ran(evutil_socket_t, short, void *) {
    pthread_mutex_lock(&g_gate);
    if (g_cb_ran) {
        g_settled = true;
        pthread_cond_broadcast(&g_gate_cv);
    }
    pthread_mutex_unlock(&g_gate);
}

// The setting-up thread just let go of its last lock: if the watched event can run now,
// let the loop run it before going on.
void maybe_pause() {
    if (!g_watched) return;
    t_in_hook = true;
    const bool armed_event = event_pending(g_watched, EV_WRITE | EV_READ, nullptr) != 0;
    t_in_hook = false;
    if (!armed_event) return;
    pthread_mutex_lock(&g_gate);
    g_cb_ran = false;
    g_settled = false;
    timespec until{};
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;  // far more than a loop needs to wake, even under a sanitizer
    while (!g_settled) {
        if (pthread_cond_timedwait(&g_gate_cv, &g_gate, &until) != 0) break;
    }
    g_cb_ran = false;
    g_settled = false;
    pthread_mutex_unlock(&g_gate);
}

void *hook_alloc(unsigned) {
    auto *l = static_cast<HookLock *>(std::malloc(sizeof(HookLock)));
    if (l) conf::init_recursive_mutex(&l->m);
    return l;
}
void hook_free(void *p, unsigned) {
    auto *l = static_cast<HookLock *>(p);
    pthread_mutex_destroy(&l->m);
    std::free(l);
}
int hook_lock(unsigned, void *p) {
    int r = pthread_mutex_lock(&static_cast<HookLock *>(p)->m);
    if (r == 0) ++t_held;
    return r;
}
int hook_unlock(unsigned, void *p) {
    int r = pthread_mutex_unlock(&static_cast<HookLock *>(p)->m);
    if (r == 0) --t_held;
    if (t_armed && !t_in_hook && t_held == 0) maybe_pause();
    return r;
}

void *cond_alloc(unsigned) {
    auto *c = static_cast<pthread_cond_t *>(std::malloc(sizeof(pthread_cond_t)));
    if (c) pthread_cond_init(c, nullptr);
    return c;
}
void cond_free(void *c) {
    pthread_cond_destroy(static_cast<pthread_cond_t *>(c));
    std::free(c);
}
int cond_signal(void *c, int broadcast) {
    auto *cv = static_cast<pthread_cond_t *>(c);
    return broadcast ? pthread_cond_broadcast(cv) : pthread_cond_signal(cv);
}
int cond_wait(void *c, void *l, const timeval *tv) {
    auto *cv = static_cast<pthread_cond_t *>(c);
    auto *m = &static_cast<HookLock *>(l)->m;
    if (!tv) return pthread_cond_wait(cv, m) ? -1 : 0;
    timespec until{};
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += tv->tv_sec;
    until.tv_nsec += tv->tv_usec * 1000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec += 1;
        until.tv_nsec -= 1000000000L;
    }
    int r = pthread_cond_timedwait(cv, m, &until);
    if (r == ETIMEDOUT) return 1;
    return r ? -1 : 0;
}
unsigned long thread_id() { return static_cast<unsigned long>(pthread_self()); }

int install_hooks() {
    static const evthread_lock_callbacks locks = {EVTHREAD_LOCK_API_VERSION,
                                                  EVTHREAD_LOCKTYPE_RECURSIVE, hook_alloc,
                                                  hook_free, hook_lock, hook_unlock};
    static const evthread_condition_callbacks conds = {
        EVTHREAD_CONDITION_API_VERSION, cond_alloc, cond_free, cond_signal, cond_wait};
    if (evthread_set_lock_callbacks(&locks) != 0) return -1;
    if (evthread_set_condition_callbacks(&conds) != 0) return -2;
    evthread_set_id_callback(thread_id);
    return 0;
}

// Before any base exists (process-wide, cannot be undone: this executable uses only these).
const int g_hooks_ready = install_hooks();

using namespace xthread;

// Runs fn on a new thread pinned to the loop's CPU under SCHED_IDLE, and waits for it.
template <class Fn>
void run_as_preemptible_thread(Fn fn) {
    std::thread th([&] {
        pin_to_shared_cpu();
        become_idle_class();
        fn();
    });
    th.join();
}

// ---- the fixture: a base whose loop runs in its own thread ----------------------------

class CrossThreadSetup : public conf::BackendTest {
protected:
    void SetUp() override {
        ASSERT_EQ(g_hooks_ready, 0);
        conf::BackendTest::SetUp();
        start_loop();
        g_marker = event_new(base(), -1, 0, marker_ran, nullptr);
        ASSERT_NE(g_marker, nullptr);
    }
    void TearDown() override {
        if (const char *what = g_unforced.load()) RecordProperty("race_window_not_forced", what);
        loop_.stop();
        if (g_marker) event_free(g_marker);
        g_marker = nullptr;
        conf::BackendTest::TearDown();
    }
public:
    void start_loop() { loop_.start(base()); }
    void stop_loop() { loop_.stop(); }
    LoopThread loop_;
};

// A listening Unix socket (abstract name): a connect to it completes inside connect().
struct UnixListener {
    int fd = -1;
    sockaddr_un sa{};
    socklen_t len = 0;
    UnixListener() {
        static std::atomic<int> serial{0};
        fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sa.sun_family = AF_UNIX;
        char name[64];
        int n = std::snprintf(name, sizeof name, "reevent-race-%d-%d", static_cast<int>(getpid()),
                              serial.fetch_add(1));
        sa.sun_path[0] = '\0';
        std::memcpy(sa.sun_path + 1, name, static_cast<size_t>(n));
        len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + n);
        if (fd >= 0 && (::bind(fd, reinterpret_cast<sockaddr *>(&sa), len) != 0 ||
                        ::listen(fd, 64) != 0)) {
            ::close(fd);
            fd = -1;
        }
    }
    ~UnixListener() {
        if (fd >= 0) ::close(fd);
    }
};

struct ConnectSeen {
    std::atomic<int> connected{0};
    std::atomic<int> errors{0};
    std::atomic<int> writes{0};
};

void seen_write(bufferevent *, void *arg) {
    static_cast<ConnectSeen *>(arg)->writes.fetch_add(1);
    note_callback_ran();
}
void seen_event(bufferevent *, short what, void *arg) {
    auto *s = static_cast<ConnectSeen *>(arg);
    if (what & BEV_EVENT_CONNECTED) s->connected.fetch_add(1);
    if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) s->errors.fetch_add(1);
    note_callback_ran();
}

// bufferevent_socket_connect from a thread other than the loop's, to an address whose
// connect completes at once, on a bufferevent without a lock of its own (as sslsplit makes
// them): whatever the loop thread runs between the write event being armed and the call
// returning, BEV_EVENT_CONNECTED comes, once. libevent 2.1 loses it (differences.h): with
// the window held open its loop drops the write event as a plain write-ready every time.
void connect_from_other_thread(CrossThreadSetup *t, event_base *base, int options) {
    const int rounds = conf::kCrossThreadConnectAlwaysConnects ? 8 : 2;
    for (int i = 0; i < rounds; ++i) {
        UnixListener srv;
        ASSERT_GE(srv.fd, 0);
        ConnectSeen seen;
        bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE | options);
        ASSERT_NE(bev, nullptr);
        bufferevent_setcb(bev, nullptr, seen_write, seen_event, &seen);
        g_watched = &bev->ev_write;
        int rc = -2;
        run_as_preemptible_thread([&] {
            t_armed = true;
            rc = bufferevent_socket_connect(bev, reinterpret_cast<sockaddr *>(&srv.sa),
                                            static_cast<int>(srv.len));
            t_armed = false;
        });
        ASSERT_EQ(rc, 0);
        if (conf::kCrossThreadConnectAlwaysConnects) {
            EXPECT_TRUE(wait_for([&] { return seen.connected.load() > 0; }, 3000))
                << "round " << i << ": no BEV_EVENT_CONNECTED (write callbacks "
                << seen.writes.load() << ")";
        } else {
            // The write event was run and dropped inside the window: nothing is armed.
            wait_for([&] { return seen.connected.load() > 0; }, 200);
        }
        t->stop_loop();
        g_watched = nullptr;
        EXPECT_EQ(seen.connected.load(), conf::kCrossThreadConnectAlwaysConnects ? 1 : 0)
            << "round " << i;
        if (!conf::kCrossThreadConnectAlwaysConnects) {
            EXPECT_GE(seen.writes.load(), 1);
        }
        EXPECT_EQ(seen.errors.load(), 0);
        bufferevent_free(bev);
        if (::testing::Test::HasFailure()) return;
        t->start_loop();  // a fresh loop thread for the next round
    }
}

TEST_P(CrossThreadSetup, SocketConnectFromAnotherThreadReportsConnected) {
    connect_from_other_thread(this, base(), 0);
}

TEST_P(CrossThreadSetup, SocketConnectFromAnotherThreadReportsConnectedDeferred) {
    connect_from_other_thread(this, base(), BEV_OPT_DEFER_CALLBACKS);
}

// A bound Unix socket nobody listens on: a connect to it is refused inside connect().
struct RefusingAddress {
    UnixListener l;  // bound...
    RefusingAddress() {
        if (l.fd >= 0) {
            ::close(l.fd);  // ...then closed: the abstract name is free again
            l.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (l.fd >= 0 && ::bind(l.fd, reinterpret_cast<sockaddr *>(&l.sa), l.len) != 0) {
                ::close(l.fd);
                l.fd = -1;
            }
        }
    }
};

struct DeferredSeen {
    std::atomic<int> errors{0};
    std::atomic<int> reads{0};
};

void refused_event(bufferevent *, short what, void *arg) {
    if (what & BEV_EVENT_ERROR) static_cast<DeferredSeen *>(arg)->errors.fetch_add(1);
    note_callback_ran();
}
void refused_read(bufferevent *, void *arg) {
    static_cast<DeferredSeen *>(arg)->reads.fetch_add(1);
}

// A connect refused at once reports BEV_EVENT_ERROR from the loop (a deferred callback,
// queued by the connecting thread). That loop may run it before the queueing call returns:
// the bufferevent must still know afterwards that nothing is queued, or it never runs a
// deferred callback again (a later deferred read callback shows it).
TEST_P(CrossThreadSetup, RefusedConnectFromAnotherThreadLeavesDeferredCallbacksWorking) {
    for (int i = 0; i < 4; ++i) {
        RefusingAddress addr;
        ASSERT_GE(addr.l.fd, 0);
        DeferredSeen seen;
        bufferevent *bev = bufferevent_socket_new(base(), -1, BEV_OPT_CLOSE_ON_FREE);
        ASSERT_NE(bev, nullptr);
        bufferevent_setcb(bev, refused_read, nullptr, refused_event, &seen);
        g_watched = nullptr;  // the deferred callback is no event: the scheduler opens it
        int rc = -2;
        run_as_preemptible_thread([&] {
            rc = bufferevent_socket_connect(bev, reinterpret_cast<sockaddr *>(&addr.l.sa),
                                            static_cast<int>(addr.l.len));
        });
        ASSERT_EQ(rc, 0) << "round " << i;
        EXPECT_TRUE(wait_for([&] { return seen.errors.load() > 0; }, 3000)) << "round " << i;
        stop_loop();
        EXPECT_EQ(seen.errors.load(), 1) << "round " << i;
        // A deferred read callback, run by a loop in this thread.
        bufferevent_trigger(bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
        EXPECT_EQ(seen.reads.load(), 0);
        event_base_loop(base(), EVLOOP_NONBLOCK);
        EXPECT_EQ(seen.reads.load(), 1) << "round " << i << ": the deferred read callback never ran";
        bufferevent_free(bev);
        if (HasFailure()) return;
        start_loop();
    }
}

void count_buffer_cb(evbuffer *, const evbuffer_cb_info *info, void *arg) {
    if (info->n_added) static_cast<std::atomic<int> *>(arg)->fetch_add(1);
}

// A buffer whose callbacks are deferred to the base, filled from another thread: the loop
// may run the deferred callbacks before the filling call returns, and must not drop a
// reference to the buffer that call has not taken yet (that would free the buffer).
TEST_P(CrossThreadSetup, BufferFilledFromAnotherThreadOutlivesItsDeferredCallbacks) {
    if (!conf::kCrossThreadDeferredBufferKept)
        GTEST_SKIP() << "libevent 2.1 frees the buffer here (differences.h)";
    for (int i = 0; i < 4; ++i) {
        evbuffer *buf = evbuffer_new();
        ASSERT_NE(buf, nullptr);
        ASSERT_EQ(evbuffer_defer_callbacks(buf, base()), 0);
        std::atomic<int> runs{0};
        ASSERT_NE(evbuffer_add_cb(buf, count_buffer_cb, &runs), nullptr);
        run_as_preemptible_thread([&] { evbuffer_add(buf, "x", 1); });
        EXPECT_TRUE(wait_for([&] { return runs.load() > 0; }, 3000)) << "round " << i;
        stop_loop();
        // Still the same live buffer: it takes more, and its deferred callback runs again.
        EXPECT_EQ(evbuffer_add(buf, "y", 1), 0);
        event_base_loop(base(), EVLOOP_NONBLOCK);
        EXPECT_EQ(runs.load(), 2) << "round " << i;
        EXPECT_EQ(evbuffer_get_length(buf), 2u);
        evbuffer_free(buf);
        if (HasFailure()) return;
        start_loop();
    }
}

// A TLS server on its own thread (plain blocking OpenSSL): accepts one connection on `fd`,
// finishes the handshake, sends "hi", then waits for the client to close.
struct BlockingTlsServer {
    std::thread th;
    std::atomic<int> handshakes{0};
    explicit BlockingTlsServer(int listen_fd) {
        th = std::thread([this, listen_fd] {
            int c = ::accept(listen_fd, nullptr, nullptr);
            if (c < 0) return;
            ssltest::Ctx ctx = ssltest::server_ctx();
            SSL *ssl = SSL_new(ctx.get());
            SSL_set_fd(ssl, c);
            if (SSL_accept(ssl) == 1) {
                handshakes.fetch_add(1);
                SSL_write(ssl, "hi", 2);
                char buf[64];
                while (SSL_read(ssl, buf, sizeof buf) > 0) {
                }
            }
            SSL_free(ssl);
            ::close(c);
        });
    }
    ~BlockingTlsServer() {
        if (th.joinable()) th.join();
    }
};

// sslsplit's own case: a TLS bufferevent (socket flavour, no lock of its own) made on a
// worker's base and connected from another thread: the handshake runs in the worker's loop
// and BEV_EVENT_CONNECTED comes, once, then the server's first bytes.
TEST_P(CrossThreadSetup, TlsSocketConnectFromAnotherThreadHandshakes) {
    for (int i = 0; i < 3; ++i) {
        UnixListener srv;
        ASSERT_GE(srv.fd, 0);
        BlockingTlsServer server(srv.fd);
        ssltest::Ctx cctx = ssltest::client_ctx();
        SSL *ssl = SSL_new(cctx.get());
        ASSERT_NE(ssl, nullptr);
        std::atomic<int> got{0};
        bufferevent *bev = bufferevent_openssl_socket_new(
            base(), -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
        ASSERT_NE(bev, nullptr);
        bufferevent_setcb(bev, [](bufferevent *b, void *arg) {
            static_cast<std::atomic<int> *>(arg)->fetch_add(static_cast<int>(
                evbuffer_get_length(bufferevent_get_input(b))));
        }, nullptr, [](bufferevent *, short what, void *arg) {
            auto *g = static_cast<std::atomic<int> *>(arg);
            if (what & BEV_EVENT_CONNECTED) g->fetch_add(1000);
            if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) g->fetch_add(100000);
        }, &got);
        g_watched = nullptr;
        int rc = -2;
        run_as_preemptible_thread([&] {
            rc = bufferevent_socket_connect(bev, reinterpret_cast<sockaddr *>(&srv.sa),
                                            static_cast<int>(srv.len));
        });
        ASSERT_EQ(rc, 0);
        // Reading is enabled from this thread only once CONNECTED came (the loop owns the
        // bufferevent until then).
        EXPECT_TRUE(wait_for([&] { return got.load() >= 1000; }, 5000))
            << "round " << i << ": no BEV_EVENT_CONNECTED (" << got.load() << ")";
        stop_loop();
        EXPECT_EQ(got.load(), 1000) << "round " << i;
        // (The server's SSL_accept returns once the client's Finished is read: maybe later.)
        EXPECT_TRUE(wait_for([&] { return server.handshakes.load() == 1; }, 3000));
        bufferevent_enable(bev, EV_READ);
        bevtest::run_until(base(), [&] { return got.load() >= 1002; });
        EXPECT_EQ(got.load(), 1002) << "round " << i << ": the server's bytes";
        bufferevent_free(bev);  // closes the socket: the server's SSL_read ends
        if (HasFailure()) return;
        start_loop();
    }
}

CONF_INSTANTIATE_BACKENDS(CrossThreadSetup);

}  // namespace
