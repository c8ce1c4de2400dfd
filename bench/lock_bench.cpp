// Locking cost: the dispatch chain with and without locks on the base.
//
// evthread_use_pthreads() runs before anything touches the library (bench_early_init), as a
// threaded program would do it. "locked" is then a default base (libevent allocates its
// locks because threading is on; reevent locks by default anyway) and "nolock" is a base
// with EVENT_BASE_FLAG_NOLOCK. The plain dispatch benchmark (no evthread_use_pthreads)
// shows each library's default.
#include "dispatch_chain.h"

#include <event2/thread.h>

#include <cstdio>

extern "C" void bench_early_init() { evthread_use_pthreads(); }

namespace bench {

void register_all() {
    char name[128];
    for (const Backend &be : kBackends) {
        for (int locked : {1, 0}) {
            const char *mode = locked ? "locked" : "nolock";
            int flags = locked ? 0 : EVENT_BASE_FLAG_NOLOCK;
            std::snprintf(name, sizeof name, "lock/%s/%s/event_active:100", be.label, mode);
            add(name, [be, flags](benchmark::State &st) { run_active(st, be, 100, flags); });
            std::snprintf(name, sizeof name, "lock/%s/%s/timer_add_del", be.label, mode);
            add(name, [be, flags](benchmark::State &st) { run_add_del(st, be, flags); }, 20000);
        }
        for (int n : {100, 1000}) {
            if (is_select(be) && n > kSelectFdLimit) continue;
            for (int a : {1, 100}) {
                if (a > n) continue;
                for (int locked : {1, 0}) {
                    std::snprintf(name, sizeof name, "lock/%s/%s/fds:%d/active:%d", be.label,
                                  locked ? "locked" : "nolock", n, a);
                    int flags = locked ? 0 : EVENT_BASE_FLAG_NOLOCK;
                    add(name, [be, n, a, flags](benchmark::State &st) {
                        run_chain(st, be, n, a, false, flags);
                    });
                }
            }
        }
    }
}

}  // namespace bench
