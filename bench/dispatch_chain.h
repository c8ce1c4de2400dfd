// The dispatch-chain workload, shared by the dispatch and locking benchmarks.
//
// N registered fds (both ends of N/2 AF_UNIX socket pairs, each with a persistent read
// event). A of them hold one byte. One benchmark iteration is one loop round
// (event_base_loop with EVLOOP_ONCE): each active callback reads its byte and writes one
// byte into the peer of the next fd in the chain, so the next round again has exactly A
// active fds. Per round: A callbacks, A reads, A writes, one poll call.
#pragma once

#include "common/backend.h"

#include <sys/time.h>

#include <memory>

namespace bench {

struct Chain {
    struct Slot {
        Chain *chain;
        int idx;
        event *ev;
    };
    event_base *base = nullptr;
    std::unique_ptr<SocketPairs> pairs;
    std::vector<Slot> slots;
    int n = 0;
    bool rearm = false;       // callback re-adds its event with a timeout
    timeval timeout{10, 0};
    int64_t fired = 0;

    static void on_read(evutil_socket_t fd, short, void *arg) {
        Slot *s = static_cast<Slot *>(arg);
        Chain *c = s->chain;
        char b;
        if (read(fd, &b, 1) != 1) return;
        int next = s->idx + 1 == c->n ? 0 : s->idx + 1;
        if (write(c->pairs->peer_of(next), &b, 1) != 1) std::abort();
        if (c->rearm) event_add(s->ev, &c->timeout);
        ++c->fired;
    }

    // Returns false if the backend is unavailable.
    bool setup(const Backend &be, int nfds, int active, bool with_timeout, int base_flags = 0) {
        base = new_base(be, base_flags);
        if (!base) return false;
        n = nfds;
        rearm = with_timeout;
        pairs = std::make_unique<SocketPairs>(nfds / 2);
        slots.resize(static_cast<size_t>(n));
        for (int i = 0; i < n; ++i) {
            slots[i] = Slot{this, i, nullptr};
            slots[i].ev = event_new(base, pairs->fds[i], EV_READ | EV_PERSIST, on_read, &slots[i]);
            event_add(slots[i].ev, with_timeout ? &timeout : nullptr);
        }
        for (int k = 0; k < active; ++k) {
            int idx = static_cast<int>(static_cast<int64_t>(k) * n / active);
            if (write(pairs->peer_of(idx), "x", 1) != 1) std::abort();
        }
        return true;
    }

    void round() { event_base_loop(base, EVLOOP_ONCE); }

    ~Chain() {
        for (auto &s : slots) event_free(s.ev);
        if (base) event_base_free(base);
    }
};

// The benchmark body: `active` callbacks per iteration.
inline void run_chain(benchmark::State &st, const Backend &be, int nfds, int active, bool timeout,
                      int base_flags = 0) {
    Chain c;
    if (!c.setup(be, nfds, active, timeout, base_flags)) {
        st.SkipWithError("backend unavailable");
        return;
    }
    for (int i = 0; i < 3; ++i) c.round();  // warm up: fd map, kernel state
    c.fired = 0;
    {
        Measured m(st);
        for (auto _ : st) c.round();
    }
    st.counters["ops"] = static_cast<double>(active);  // callbacks per iteration
    st.counters["cb_seen"] = benchmark::Counter(static_cast<double>(c.fired),
                                                benchmark::Counter::kAvgIterations);
}

// Library overhead without syscalls: `count` events made active with event_active, then one
// non-blocking loop pass runs their callbacks. Per iteration: count activations + callbacks.
inline void run_active(benchmark::State &st, const Backend &be, int count, int base_flags = 0) {
    event_base *base = new_base(be, base_flags);
    if (!base) {
        st.SkipWithError("backend unavailable");
        return;
    }
    int64_t fired = 0;
    std::vector<event *> evs(static_cast<size_t>(count));
    for (auto &e : evs)
        e = event_new(base, -1, 0, [](evutil_socket_t, short, void *arg) { ++*static_cast<int64_t *>(arg); },
                      &fired);
    {
        Measured m(st);
        for (auto _ : st) {
            for (event *e : evs) event_active(e, EV_TIMEOUT, 1);
            event_base_loop(base, EVLOOP_NONBLOCK);
        }
    }
    st.counters["ops"] = count;
    if (fired != static_cast<int64_t>(count) * st.iterations()) st.SkipWithError("lost activations");
    for (event *e : evs) event_free(e);
    event_base_free(base);
}

// event_add + event_del of a pending timer (no fd, no syscall): the cost of the base lock
// and the timer structure per call pair.
inline void run_add_del(benchmark::State &st, const Backend &be, int base_flags = 0) {
    event_base *base = new_base(be, base_flags);
    if (!base) {
        st.SkipWithError("backend unavailable");
        return;
    }
    event *ev = event_new(base, -1, 0, [](evutil_socket_t, short, void *) {}, nullptr);
    timeval tv{5, 0};
    {
        Measured m(st);
        for (auto _ : st) {
            event_add(ev, &tv);
            event_del(ev);
        }
    }
    st.counters["ops"] = 1;
    event_free(ev);
    event_base_free(base);
}

}  // namespace bench
