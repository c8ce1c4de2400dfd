// The physical ceiling for the dispatch chain: the same workload as dispatch_chain.h written
// directly on epoll (level-triggered, registered once, callback through a pointer stored in
// epoll_event.data), with the same benchmark names, so compare.py can put it beside both
// libraries. Nothing a library does can make a round cheaper than this loop.
#include "common/bench_support.h"

#include <sys/epoll.h>

#include <cstdio>
#include <memory>

namespace bench {

namespace {

struct RawChain {
    struct Slot {
        RawChain *chain;
        int idx;
        void (*cb)(Slot *, int fd);
        int fd;
    };
    int ep = -1;
    std::unique_ptr<SocketPairs> pairs;
    std::vector<Slot> slots;
    std::vector<epoll_event> ready;
    int n = 0;
    int64_t fired = 0;

    static void on_read(Slot *s, int fd) {
        RawChain *c = s->chain;
        char b;
        if (read(fd, &b, 1) != 1) return;
        int next = s->idx + 1 == c->n ? 0 : s->idx + 1;
        if (write(c->pairs->peer_of(next), &b, 1) != 1) std::abort();
        ++c->fired;
    }

    void setup(int nfds, int active) {
        n = nfds;
        ep = epoll_create1(EPOLL_CLOEXEC);
        pairs = std::make_unique<SocketPairs>(nfds / 2);
        slots.resize(static_cast<size_t>(n));
        ready.resize(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) {
            slots[i] = Slot{this, i, on_read, pairs->fds[i]};
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.ptr = &slots[i];
            epoll_ctl(ep, EPOLL_CTL_ADD, pairs->fds[i], &ev);
        }
        for (int k = 0; k < active; ++k) {
            int idx = static_cast<int>(static_cast<int64_t>(k) * n / active);
            if (write(pairs->peer_of(idx), "x", 1) != 1) std::abort();
        }
    }

    void round() {
        int got = epoll_wait(ep, ready.data(), static_cast<int>(ready.size()), -1);
        for (int i = 0; i < got; ++i) {
            Slot *s = static_cast<Slot *>(ready[i].data.ptr);
            s->cb(s, s->fd);
        }
    }

    ~RawChain() {
        if (ep >= 0) close(ep);
    }
};

void raw_chain(benchmark::State &st, int nfds, int active) {
    RawChain c;
    c.setup(nfds, active);
    for (int i = 0; i < 3; ++i) c.round();
    c.fired = 0;
    {
        Measured m(st);
        for (auto _ : st) c.round();
    }
    st.counters["ops"] = static_cast<double>(active);
    st.counters["cb_seen"] = benchmark::Counter(static_cast<double>(c.fired),
                                                benchmark::Counter::kAvgIterations);
}

}  // namespace

void register_all() {
    char name[128];
    for (int n : {10, 100, 1000, 10000}) {
        for (int a : {1, 10, 100, 1000, 10000}) {
            if (a > n) continue;
            std::snprintf(name, sizeof name, "dispatch/epoll/fds:%d/active:%d", n, a);
            add(name, [n, a](benchmark::State &st) { raw_chain(st, n, a); }, a >= 1000 ? 200 : 2000);
        }
    }
}

}  // namespace bench
