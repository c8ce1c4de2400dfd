// Dispatch benchmarks: the dispatch chain (N fds, A active), the same chain with a timeout
// re-armed by every callback, del+add churn of registered fds, and the library's own
// overhead without syscalls (event_active callbacks, timer add+del), on every backend.
#include "dispatch_chain.h"

#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

// Counts the library's epoll_ctl calls (this definition takes the place of libc's for the
// library, as the executable's symbols come first), so the churn report shows what its goal
// is about: how many kernel changes one del+add costs, which CPU time only shows through
// this machine's syscall price. The same thin wrapper serves both libraries.
static long g_epoll_ctl_calls = 0;
extern "C" int epoll_ctl(int epfd, int op, int fd, struct epoll_event *event) noexcept {
    ++g_epoll_ctl_calls;
    return static_cast<int>(syscall(SYS_epoll_ctl, epfd, op, fd, event));
}

namespace bench {

static const int kFds[] = {10, 100, 1000, 10000};
static const int kActive[] = {1, 10, 100, 1000, 10000};

// Churn: N registered idle fds; one iteration deletes and re-adds one of them. The loop
// runs once (non-blocking) every N iterations, so changes reach the kernel as in a program.
static void churn(benchmark::State &st, const Backend &be, int nfds) {
    event_base *base = new_base(be);
    if (!base) {
        st.SkipWithError("backend unavailable");
        return;
    }
    SocketPairs pairs(nfds / 2);
    std::vector<event *> evs(static_cast<size_t>(nfds));
    for (int i = 0; i < nfds; ++i) {
        evs[i] = event_new(base, pairs.fds[i], EV_READ | EV_PERSIST,
                           [](evutil_socket_t, short, void *) {}, nullptr);
        event_add(evs[i], nullptr);
    }
    event_base_loop(base, EVLOOP_NONBLOCK);
    int i = 0;
    const long ctl_before = g_epoll_ctl_calls;
    {
        Measured m(st);
        for (auto _ : st) {
            event_del(evs[i]);
            event_add(evs[i], nullptr);
            if (++i == nfds) {
                i = 0;
                event_base_loop(base, EVLOOP_NONBLOCK);
            }
        }
    }
    st.counters["ops"] = 1;
    // The final pass flushes what the last iterations left pending, so every change counts.
    event_base_loop(base, EVLOOP_NONBLOCK);
    if (st.iterations() > 0)
        st.counters["epoll_ctl"] =
            static_cast<double>(g_epoll_ctl_calls - ctl_before) / static_cast<double>(st.iterations());
    for (event *e : evs) event_free(e);
    event_base_free(base);
}

void register_all() {
    char name[128];
    for (const Backend &be : kBackends) {
        for (int n : kFds) {
            if (is_select(be) && n > kSelectFdLimit) continue;
            for (int a : kActive) {
                if (a > n) continue;
                std::snprintf(name, sizeof name, "dispatch/%s/fds:%d/active:%d", be.label, n, a);
                add(name, [be, n, a](benchmark::State &st) { run_chain(st, be, n, a, false); },
                    a >= 1000 ? 200 : 2000);
            }
            for (int a : {1, 100}) {
                if (a > n) continue;
                std::snprintf(name, sizeof name, "dispatch_timeout/%s/fds:%d/active:%d", be.label, n, a);
                add(name, [be, n, a](benchmark::State &st) { run_chain(st, be, n, a, true); });
            }
        }
    }
    for (const Backend &be : kBackends) {
        // Library overhead without syscalls, each library with its default locking.
        std::snprintf(name, sizeof name, "overhead/%s/event_active:100", be.label);
        add(name, [be](benchmark::State &st) { run_active(st, be, 100); });
        std::snprintf(name, sizeof name, "overhead/%s/timer_add_del", be.label);
        add(name, [be](benchmark::State &st) { run_add_del(st, be); }, 20000);
    }
    for (const Backend &be : {kEpoll, kEpollChangelist, kPoll, kSelect}) {
        for (int n : {100, 1000, 10000}) {
            if (is_select(be) && n > kSelectFdLimit) continue;
            std::snprintf(name, sizeof name, "churn/%s/fds:%d", be.label, n);
            add(name, [be, n](benchmark::State &st) { churn(st, be, n); }, 20000);
        }
    }
}

}  // namespace bench
