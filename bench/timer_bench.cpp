// Timer benchmarks with 100 000 timers: add, re-add of a pending timer with a new timeout,
// delete, fire, and the same through a common timeout.
//
// Timeouts are pseudo-random (fixed seed, same sequence for both libraries) between 1 s and
// 101 s so the heap sees a realistic spread; "fire" uses timeouts that have already expired
// when the loop runs (set between 0 and 1 ms, then the benchmark waits 2 ms untimed).
#include "common/backend.h"

#include <sys/time.h>

#include <cstdio>
#include <ctime>
#include <memory>

namespace bench {

namespace {

constexpr int kTimers = 100000;

struct Timers {
    event_base *base = nullptr;
    std::vector<event *> evs;
    std::vector<timeval> tvs;  // a per-timer timeout
    int64_t fired = 0;

    static void on_timer(evutil_socket_t, short, void *arg) { ++*static_cast<int64_t *>(arg); }

    bool setup(const Backend &be, int n, int64_t max_us, int64_t min_us) {
        base = new_base(be);
        if (!base) return false;
        evs.resize(static_cast<size_t>(n));
        tvs.resize(static_cast<size_t>(n));
        uint64_t x = 88172645463325252ull;  // xorshift: same sequence on both sides
        for (int i = 0; i < n; ++i) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            int64_t us = min_us + static_cast<int64_t>(x % static_cast<uint64_t>(max_us - min_us));
            tvs[i] = timeval{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
            evs[i] = event_new(base, -1, 0, on_timer, &fired);
        }
        return true;
    }
    void add_all() {
        for (size_t i = 0; i < evs.size(); ++i) event_add(evs[i], &tvs[i]);
    }
    void del_all() {
        for (event *e : evs) event_del(e);
    }
    ~Timers() {
        for (event *e : evs) event_free(e);
        if (base) event_base_free(base);
    }
};

enum class Op { kAdd, kReadd, kDel, kFire, kCommonAdd, kCommonReadd };

void timers(benchmark::State &st, const Backend &be, Op op) {
    Timers t;
    bool fire = op == Op::kFire;
    if (!t.setup(be, kTimers, fire ? 1000 : 101000000, fire ? 0 : 1000000)) {
        st.SkipWithError("backend unavailable");
        return;
    }
    const timeval *common = nullptr;
    if (op == Op::kCommonAdd || op == Op::kCommonReadd) {
        timeval tv{10, 0};
        common = event_base_init_common_timeout(t.base, &tv);
    }
    double ops = kTimers;
    switch (op) {
    case Op::kAdd: {  // one iteration adds 100 000 timers to an empty base
        Measured m(st);
        for (auto _ : st) {
            t.add_all();
            pause(st);
            t.del_all();
            resume(st);
        }
        break;
    }
    case Op::kReadd: {  // 100 000 pending; each iteration moves one to a new timeout
        t.add_all();
        size_t i = 0, j = kTimers / 2;
        ops = 1;
        Measured m(st);
        for (auto _ : st) {
            event_add(t.evs[i], &t.tvs[j]);
            if (++i == t.evs.size()) i = 0;
            if (++j == t.evs.size()) j = 0;
        }
        break;
    }
    case Op::kDel: {  // one iteration deletes 100 000 pending timers
        Measured m(st);
        for (auto _ : st) {
            pause(st);
            t.add_all();
            resume(st);
            t.del_all();
        }
        break;
    }
    case Op::kFire: {  // one iteration fires 100 000 expired timers in one loop pass
        Measured m(st);
        for (auto _ : st) {
            pause(st);
            t.add_all();
            timespec ts{0, 2000000};
            nanosleep(&ts, nullptr);
            resume(st);
            event_base_loop(t.base, EVLOOP_NONBLOCK);
        }
        if (t.fired != static_cast<int64_t>(kTimers) * st.iterations())
            st.SkipWithError("not every timer fired in one loop pass");
        break;
    }
    case Op::kCommonAdd: {
        Measured m(st);
        for (auto _ : st) {
            for (event *e : t.evs) event_add(e, common);
            pause(st);
            t.del_all();
            resume(st);
        }
        break;
    }
    case Op::kCommonReadd: {
        for (event *e : t.evs) event_add(e, common);
        size_t i = 0;
        ops = 1;
        Measured m(st);
        for (auto _ : st) {
            event_add(t.evs[i], common);
            if (++i == t.evs.size()) i = 0;
        }
        break;
    }
    }
    st.counters["ops"] = ops;
}

}  // namespace

void register_all() {
    struct {
        const char *name;
        Op op;
        int64_t cg;
    } ops[] = {{"add", Op::kAdd, 3},           {"readd", Op::kReadd, 100000},
               {"del", Op::kDel, 3},           {"fire", Op::kFire, 3},
               {"common_add", Op::kCommonAdd, 3}, {"common_readd", Op::kCommonReadd, 100000}};
    char name[128];
    for (const Backend &be : kBackends) {
        for (auto &o : ops) {
            std::snprintf(name, sizeof name, "timers/%s/%s/n:%d", be.label, o.name, kTimers);
            Op op = o.op;
            add(name, [be, op](benchmark::State &st) { timers(st, be, op); }, o.cg);
        }
    }
}

}  // namespace bench
