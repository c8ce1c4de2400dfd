// Memory per event, per pending timer, per idle registered fd and per idle bufferevent
// connection (fresh, and idle again after a few echo exchanges). Not timings: each
// benchmark runs one iteration and reports bytes as counters.
//
// Two independent counts: the library's heap traffic through event_set_mem_functions hooks
// (live bytes, each block measured with malloc_usable_size, so allocator rounding counts),
// and glibc's mallinfo2() in-use bytes, which also sees allocations that bypass the hooks.
// The hooks are installed before the library allocates anything (bench_early_init).
#include "common/backend.h"

#if BENCH_HAVE_OPTIONAL
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#endif

#include <malloc.h>

#include <cstdio>
#include <cstdlib>

namespace {

long long g_live = 0;  // bytes currently allocated through the hooks

void *hook_malloc(size_t n) {
    void *p = std::malloc(n);
    if (p) g_live += static_cast<long long>(malloc_usable_size(p));
    return p;
}
void *hook_realloc(void *p, size_t n) {
    long long old = p ? static_cast<long long>(malloc_usable_size(p)) : 0;
    void *q = std::realloc(p, n);
    if (q) g_live += static_cast<long long>(malloc_usable_size(q)) - old;
    else if (n == 0 && p) g_live -= old;
    return q;
}
void hook_free(void *p) {
    if (p) g_live -= static_cast<long long>(malloc_usable_size(p));
    std::free(p);
}

struct Snapshot {
    long long hooked, heap;
    static Snapshot now() {
        struct mallinfo2 mi = mallinfo2();  // in-use chunks plus mmap()ed blocks
        return {g_live, static_cast<long long>(mi.uordblks + mi.hblkhd)};
    }
};

}  // namespace

extern "C" void bench_early_init() { event_set_mem_functions(hook_malloc, hook_realloc, hook_free); }

namespace bench {

namespace {

void report(benchmark::State &st, const Snapshot &a, const Snapshot &b, int n) {
    st.counters["bytes_hooked"] = static_cast<double>(b.hooked - a.hooked) / n;
    st.counters["bytes_heap"] = static_cast<double>(b.heap - a.heap) / n;
}

constexpr int kCount = 4000;  // fds or events per measurement

void per_event(benchmark::State &st, const Backend &be) {
    event_base *base = new_base(be);
    if (!base) return st.SkipWithError("backend unavailable");
    std::vector<event *> evs(kCount);
    for (auto _ : st) {
        Snapshot a = Snapshot::now();
        for (auto &e : evs) e = event_new(base, -1, 0, [](evutil_socket_t, short, void *) {}, nullptr);
        Snapshot b = Snapshot::now();
        report(st, a, b, kCount);
    }
    for (auto e : evs) event_free(e);
    event_base_free(base);
}

void per_timer(benchmark::State &st, const Backend &be) {
    event_base *base = new_base(be);
    if (!base) return st.SkipWithError("backend unavailable");
    std::vector<event *> evs(kCount);
    for (auto &e : evs) e = event_new(base, -1, 0, [](evutil_socket_t, short, void *) {}, nullptr);
    for (auto _ : st) {
        Snapshot a = Snapshot::now();
        for (int i = 0; i < kCount; ++i) {
            timeval tv{10 + i % 100, 0};
            event_add(evs[i], &tv);
        }
        event_base_loop(base, EVLOOP_NONBLOCK);
        Snapshot b = Snapshot::now();
        report(st, a, b, kCount);
    }
    for (auto e : evs) event_free(e);
    event_base_free(base);
}

// Registration cost of an idle fd (fd map, backend arrays), excluding the event itself.
void per_idle_fd(benchmark::State &st, const Backend &be, int n) {
    event_base *base = new_base(be);
    if (!base) return st.SkipWithError("backend unavailable");
    SocketPairs sp(n / 2);
    std::vector<event *> evs(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
        evs[i] = event_new(base, sp.fds[i], EV_READ | EV_PERSIST, [](evutil_socket_t, short, void *) {}, nullptr);
    for (auto _ : st) {
        Snapshot a = Snapshot::now();
        for (auto e : evs) event_add(e, nullptr);
        event_base_loop(base, EVLOOP_NONBLOCK);
        Snapshot b = Snapshot::now();
        report(st, a, b, n);
    }
    for (auto e : evs) event_free(e);
    event_base_free(base);
}

#if BENCH_HAVE_OPTIONAL
// A socket bufferevent with reading enabled on a connected fd, after one loop round.
void per_idle_bev(benchmark::State &st, const Backend &be, int n) {
    event_base *base = new_base(be);
    if (!base) return st.SkipWithError("backend unavailable");
    SocketPairs sp(n / 2);
    std::vector<bufferevent *> bevs(static_cast<size_t>(n));
    for (auto _ : st) {
        Snapshot a = Snapshot::now();
        for (int i = 0; i < n; ++i) {
            bevs[i] = bufferevent_socket_new(base, sp.fds[i], 0);
            bufferevent_enable(bevs[i], EV_READ | EV_WRITE);
        }
        event_base_loop(base, EVLOOP_NONBLOCK);
        Snapshot b = Snapshot::now();
        report(st, a, b, n);
    }
    for (auto b : bevs) bufferevent_free(b);
    event_base_free(base);
}

// The same connections after three 64-byte echo exchanges (even fd of each pair echoes,
// odd one sends and drains), once all is idle again. Includes reevent's per-thread block
// cache (bounded at 256 KiB per thread, so at most 65 B per connection here).
void per_idle_after_traffic_bev(benchmark::State &st, const Backend &be, int n) {
    event_base *base = new_base(be);
    if (!base) return st.SkipWithError("backend unavailable");
    SocketPairs sp(n / 2);
    std::vector<bufferevent *> bevs(static_cast<size_t>(n));
    size_t received = 0;
    for (auto _ : st) {
        Snapshot a = Snapshot::now();
        for (int i = 0; i < n; ++i) {
            bevs[i] = bufferevent_socket_new(base, sp.fds[i], 0);
            if (i % 2 == 0)
                bufferevent_setcb(
                    bevs[i],
                    [](bufferevent *b, void *) {
                        evbuffer_add_buffer(bufferevent_get_output(b), bufferevent_get_input(b));
                    },
                    nullptr, nullptr, nullptr);
            else
                bufferevent_setcb(
                    bevs[i],
                    [](bufferevent *b, void *arg) {
                        evbuffer *in = bufferevent_get_input(b);
                        *static_cast<size_t *>(arg) += evbuffer_get_length(in);
                        evbuffer_drain(in, evbuffer_get_length(in));
                    },
                    nullptr, nullptr, &received);
            bufferevent_enable(bevs[i], EV_READ | EV_WRITE);
        }
        char msg[64] = {};
        size_t want = 0;
        for (int r = 0; r < 3; ++r) {
            for (int i = 1; i < n; i += 2) bufferevent_write(bevs[i], msg, sizeof msg);
            want += sizeof msg * static_cast<size_t>(n / 2);
            while (received < want)
                if (event_base_loop(base, EVLOOP_ONCE) < 0) return st.SkipWithError("loop failed");
        }
        event_base_loop(base, EVLOOP_NONBLOCK);
        Snapshot b = Snapshot::now();
        report(st, a, b, n);
    }
    for (auto b : bevs) bufferevent_free(b);
    event_base_free(base);
}

#endif

}  // namespace

void register_all() {
    char name[128];
    for (const Backend &be : kBackends) {
        int n = is_select(be) ? 800 : kCount;
        std::snprintf(name, sizeof name, "memory/%s/per_event", be.label);
        add(name, [be](benchmark::State &st) { per_event(st, be); }, 1)->Iterations(1);
        std::snprintf(name, sizeof name, "memory/%s/per_timer", be.label);
        add(name, [be](benchmark::State &st) { per_timer(st, be); }, 1)->Iterations(1);
        std::snprintf(name, sizeof name, "memory/%s/per_idle_fd", be.label);
        add(name, [be, n](benchmark::State &st) { per_idle_fd(st, be, n); }, 1)->Iterations(1);
#if BENCH_HAVE_OPTIONAL
        std::snprintf(name, sizeof name, "memory/%s/per_idle_bufferevent", be.label);
        add(name, [be, n](benchmark::State &st) { per_idle_bev(st, be, n); }, 1)->Iterations(1);
        std::snprintf(name, sizeof name, "memory/%s/per_idle_after_traffic_bufferevent", be.label);
        add(name, [be, n](benchmark::State &st) { per_idle_after_traffic_bev(st, be, n); }, 1)
            ->Iterations(1);
#endif
    }
}

}  // namespace bench
