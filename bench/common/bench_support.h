// Shared helpers for the benchmark suite: socket pairs, the callgrind collection switch and
// benchmark registration. Includes no libevent header (backend.h does), so the evbuffer
// benchmark links without the event loop.
//
// Every benchmark source is compiled twice (reevent and system libevent). Benchmarks are registered by name at run time
// (bench::add) so that both sides produce identical names ("dispatch/epoll/fds:1000/...")
// and bench/compare.py can pair them.
#pragma once

#include <benchmark/benchmark.h>
#include <valgrind/callgrind.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bench {

// Non-blocking AF_UNIX stream pairs; fds[2*i] and fds[2*i+1] are the two ends of pair i.
struct SocketPairs {
    std::vector<int> fds;
    explicit SocketPairs(int npairs, int sndbuf = 0);
    ~SocketPairs();
    SocketPairs(const SocketPairs &) = delete;
    SocketPairs &operator=(const SocketPairs &) = delete;
    int peer_of(int idx) const { return fds[idx ^ 1]; }
};

// Raise RLIMIT_NOFILE to its hard limit; returns the new soft limit.
long raise_fd_limit();

// Callgrind collection: the runner starts valgrind with --collect-atstart=no and every
// benchmark brackets its measured loop with a Measured object. Outside valgrind the client
// request is a handful of no-op instructions.
struct Measured {
    benchmark::State &st;
    explicit Measured(benchmark::State &s) : st(s) { CALLGRIND_TOGGLE_COLLECT; }
    ~Measured();
};
// Excludes per-iteration setup from both the timer and the instruction count.
inline void pause(benchmark::State &st) {
    CALLGRIND_TOGGLE_COLLECT;
    st.PauseTiming();
}
inline void resume(benchmark::State &st) {
    st.ResumeTiming();
    CALLGRIND_TOGGLE_COLLECT;
}

// Registers a benchmark. `ops_per_iter` is how many operations (callbacks, timers, bytes
// chunks) one iteration performs, reported as counter "ops" so per-op figures can be
// derived; `cg_iters` is the fixed iteration count used when running under callgrind.
using Fn = std::function<void(benchmark::State &)>;
benchmark::internal::Benchmark *add(const std::string &name, Fn fn, int64_t cg_iters = 2000);

// Set by each benchmark source: registers its benchmarks.
void register_all();

// Which library this binary is linked to ("reevent" or "libevent").
const char *library_name();

}  // namespace bench
