// Implementation of the shared benchmark helpers and the common main().
#include "bench_support.h"

#include <fcntl.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bench {

SocketPairs::SocketPairs(int npairs, int sndbuf) {
    fds.reserve(2 * static_cast<size_t>(npairs));
    for (int i = 0; i < npairs; ++i) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
            std::perror("socketpair");
            std::abort();
        }
        for (int fd : sv) {
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            if (sndbuf > 0) {
                setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof sndbuf);
            }
            fds.push_back(fd);
        }
    }
}

SocketPairs::~SocketPairs() {
    for (int fd : fds) close(fd);
}

long raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return static_cast<long>(rl.rlim_cur);
}

static bool g_callgrind = false;

Measured::~Measured() {
    CALLGRIND_TOGGLE_COLLECT;
    // Under callgrind the runner divides the collected instructions by these iterations.
    if (g_callgrind) std::fprintf(stderr, "CG_ITERS %lld\n", static_cast<long long>(st.iterations()));
}

benchmark::internal::Benchmark *add(const std::string &name, Fn fn, int64_t cg_iters) {
    auto *b = benchmark::RegisterBenchmark(name.c_str(), [fn](benchmark::State &st) { fn(st); });
    if (g_callgrind) b->Iterations(cg_iters);
    return b;
}

const char *library_name() {
#if defined(BENCH_IS_RAW)
    return "raw";
#elif BENCH_IS_REEVENT
    return "reevent";
#else
    return "libevent";
#endif
}

}  // namespace bench

// Set by binaries that must run code before anything touches the library (memory hooks,
// evthread_use_pthreads). Weak so the others need not define it.
extern "C" void bench_early_init() __attribute__((weak));

int main(int argc, char **argv) {
    bench::g_callgrind = std::getenv("BENCH_CALLGRIND") != nullptr;
    if (bench_early_init) bench_early_init();
    bench::raise_fd_limit();
    bench::register_all();
    benchmark::AddCustomContext("library", bench::library_name());
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
