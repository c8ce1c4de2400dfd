// Timing program (not a test): what locking costs per dispatched callback and per
// event_add/event_del pair, for the design note on "reevent locks by default".
//   thread_lock_cost_<side> [pthreads] [nolock]
// pthreads: call evthread_use_pthreads() first (libevent locks only then);
// nolock:   create the base with EVENT_BASE_FLAG_NOLOCK.
// Prints the median of 5 runs in ns per operation.
#include <event2/event.h>
#include <event2/thread.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

constexpr int kRounds = 1000000;

struct Chain {
    event *ev = nullptr;
    int left = 0;
};

void again(evutil_socket_t, short, void *arg) {
    auto *c = static_cast<Chain *>(arg);
    if (--c->left > 0) event_active(c->ev, EV_READ, 0);
}

double now_ns() {
    using namespace std::chrono;
    return duration<double, std::nano>(steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char **argv) {
    bool pthreads = false, nolock = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "pthreads")) pthreads = true;
        if (!std::strcmp(argv[i], "nolock")) nolock = true;
    }
    if (pthreads && evthread_use_pthreads() != 0) return 1;
    event_config *cfg = event_config_new();
    if (nolock) event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
    event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!base) return 2;

    std::vector<double> dispatch, addel;
    for (int run = 0; run < 5; ++run) {
        Chain c;
        c.ev = event_new(base, -1, 0, again, &c);
        c.left = kRounds;
        double t0 = now_ns();
        event_active(c.ev, EV_READ, 0);
        event_base_dispatch(base);
        dispatch.push_back((now_ns() - t0) / kRounds);

        timeval tv = {5, 0};
        t0 = now_ns();
        for (int i = 0; i < kRounds; ++i) {
            event_add(c.ev, &tv);
            event_del(c.ev);
        }
        addel.push_back((now_ns() - t0) / kRounds);
        event_free(c.ev);
    }
    std::printf("%s%s: dispatch %.1f ns/callback, add+del %.1f ns/pair\n",
                pthreads ? "pthreads" : "default", nolock ? "+nolock" : "", median(dispatch),
                median(addel));
    event_base_free(base);
    return 0;
}
