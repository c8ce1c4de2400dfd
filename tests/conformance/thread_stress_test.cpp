// Stress: 4 threads add, delete, activate and free events on one base, 100 000 operations
// in all, while the loop runs on the test thread and is broken from the workers now and
// then. Every activation must be accounted for (the callback runs once per activation that
// was not cancelled by a free) and no callback may run for an event after event_free
// returned. Runs under TSan in CI (label "thread"), so it stays small and bounded.
#include <event2/event.h>
#include <event2/thread.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "backend_fixture.h"
#include "helpers.h"

namespace {

const int g_threads_ready = evthread_use_pthreads();

constexpr int kWorkers = 4;
constexpr int kTotalOps = 100000;
constexpr int kEventsPerWorker = 16;

// What the callback sees. Records outlive their events so a late callback is detected,
// not a use-after-free.
struct Record {
    std::atomic<bool> freed{false};
    std::atomic<bool> inflight{false};   // activated, callback not yet run
    std::atomic<int> requested{0};       // activations that must each cause one run
    std::atomic<int> runs{0};
    std::atomic<int> cancelled{0};       // activations dropped because the event was freed
};

std::atomic<int> g_runs_after_free{0};

void on_event(evutil_socket_t, short what, void *arg) {
    auto *r = static_cast<Record *>(arg);
    if (r->freed.load()) g_runs_after_free.fetch_add(1);
    if (what & EV_TIMEOUT) return;  // a long timer from the "add" operation; never expected
    r->runs.fetch_add(1);
    r->inflight.store(false);
}

bool wait_not_inflight(const Record &r) {
    for (int i = 0; r.inflight.load(); ++i) {
        if (i > 2000000) return false;
        std::this_thread::yield();
    }
    return true;
}

class ThreadStressTest : public conf::BackendTest {};

TEST_P(ThreadStressTest, FourThreadsHammerOneBaseNothingLostNothingRunAfterFree) {
    ASSERT_EQ(g_threads_ready, 0);
    g_runs_after_free = 0;
    std::vector<std::unique_ptr<Record>> records;  // every record ever made (owned here)
    std::mutex records_mu;
    std::atomic<int> workers_done{0};
    std::atomic<bool> stuck{false};
    std::atomic<int> breaks{0};

    auto worker = [&](int id) {
        std::mt19937 rng(1234 + id);
        struct Slot {
            event *ev = nullptr;
            Record *rec = nullptr;
        };
        Slot slots[kEventsPerWorker];
        auto fresh = [&](Slot &s) {
            auto rec = std::make_unique<Record>();
            s.rec = rec.get();
            {
                std::lock_guard<std::mutex> g(records_mu);
                records.push_back(std::move(rec));
            }
            s.ev = event_new(base(), -1, 0, on_event, s.rec);
        };
        for (auto &s : slots) fresh(s);
        const timeval far = conf::tv_ms(60 * 60 * 1000);
        for (int op = 0; op < kTotalOps / kWorkers; ++op) {
            Slot &s = slots[rng() % kEventsPerWorker];
            const unsigned kind = rng() % 100;
            if (kind < 50) {  // activate, once the previous activation has run
                if (!wait_not_inflight(*s.rec)) {
                    stuck = true;
                    break;
                }
                s.rec->inflight.store(true);
                s.rec->requested.fetch_add(1);
                event_active(s.ev, EV_READ, 0);
            } else if (kind < 70) {
                event_add(s.ev, &far);
            } else if (kind < 88) {
                // Deleting cancels a queued activation; event_del has waited for a running
                // callback, so whatever is still marked in flight was cancelled.
                event_del(s.ev);
                if (s.rec->inflight.load()) {
                    s.rec->cancelled.fetch_add(1);
                    s.rec->inflight.store(false);
                }
            } else if (kind < 99) {  // free, sometimes with an activation still queued
                const bool was_inflight = s.rec->inflight.load();
                event_free(s.ev);
                // event_free has returned: the callback is not running and never will.
                s.rec->freed.store(true);
                if (was_inflight && s.rec->inflight.load()) s.rec->cancelled.fetch_add(1);
                fresh(s);
            } else {
                event_base_loopbreak(base());
                breaks.fetch_add(1);
            }
        }
        for (auto &s : slots) {
            if (!wait_not_inflight(*s.rec)) stuck = true;
            event_free(s.ev);
            s.rec->freed.store(true);
        }
        workers_done.fetch_add(1);
        event_base_loopbreak(base());
    };

    // A ticking timer: a loopbreak that lands between two loop calls is forgotten (the next
    // loop starts afresh), so the loop must come back by itself to see workers_done.
    event *tick = event_new(base(), -1, EV_PERSIST, [](evutil_socket_t, short, void *) {},
                            nullptr);
    timeval tick_tv = conf::tv_ms(20);
    event_add(tick, &tick_tv);
    std::vector<std::thread> threads;
    for (int i = 0; i < kWorkers; ++i) threads.emplace_back(worker, i);
    const double deadline = conf::now_ms() + 60000;
    while (workers_done.load() < kWorkers && conf::now_ms() < deadline)
        event_base_loop(base(), EVLOOP_NO_EXIT_ON_EMPTY | EVLOOP_ONCE);
    for (auto &t : threads) t.join();
    event_base_loop(base(), EVLOOP_NONBLOCK);
    event_free(tick);

    EXPECT_FALSE(stuck.load()) << "an activation never ran";
    EXPECT_EQ(g_runs_after_free.load(), 0);
    long requested = 0, runs = 0, cancelled = 0;
    for (auto &r : records) {
        requested += r->requested;
        runs += r->runs;
        cancelled += r->cancelled;
        EXPECT_EQ(r->runs + r->cancelled, r->requested);
    }
    EXPECT_EQ(runs + cancelled, requested);
    EXPECT_GT(runs, kTotalOps / 4);
    EXPECT_GT(breaks.load(), 0);
}

CONF_INSTANTIATE_BACKENDS(ThreadStressTest);

}  // namespace
