// event_enable_debug_mode: a process-wide table of every assigned event and whether it is
// added, so that the mistakes libevent's debug mode catches are caught here too (use of a
// never-assigned event, re-assigning or unassigning an added one, adding or deleting an
// event the table never saw, an I/O event on a blocking fd). A caught mistake is fatal, as
// in libevent: the message goes to the log, then the fatal callback, then abort().
//
// The table is an open-addressing hash set of event addresses (linear probing, tombstones),
// allocated through mm and guarded by one mutex. It costs nothing when debug mode is off.
#include <fcntl.h>
#include <pthread.h>

#include <cstdint>

#include "core/base.h"
#include "core/log.h"

namespace reevent::core::debug {

bool g_on = false;
std::atomic<bool> g_too_late{false};

namespace {

constexpr uintptr_t kEmpty = 0;
constexpr uintptr_t kTomb = 1;

struct Entry {
    uintptr_t key;
    bool added;
};

pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
Entry *g_tab = nullptr;
size_t g_cap = 0;   // power of two
size_t g_used = 0;  // live + tombstones

size_t hash(uintptr_t k) { return static_cast<size_t>((k >> 4) * 0x9E3779B97F4A7C15ull); }

Entry *find(const event *ev) {
    if (!g_tab) return nullptr;
    uintptr_t k = reinterpret_cast<uintptr_t>(ev);
    for (size_t i = hash(k) & (g_cap - 1);; i = (i + 1) & (g_cap - 1)) {
        if (g_tab[i].key == k) return &g_tab[i];
        if (g_tab[i].key == kEmpty) return nullptr;
    }
}

bool grow() {
    size_t ncap = g_cap ? g_cap * 2 : 64;
    auto *nt = static_cast<Entry *>(mm::calloc(ncap, sizeof(Entry)));
    if (!nt) return false;
    for (size_t i = 0; i < g_cap; ++i) {
        uintptr_t k = g_tab[i].key;
        if (k == kEmpty || k == kTomb) continue;
        size_t j = hash(k) & (ncap - 1);
        while (nt[j].key != kEmpty) j = (j + 1) & (ncap - 1);
        nt[j] = g_tab[i];
    }
    size_t live = 0;
    for (size_t i = 0; i < ncap; ++i) live += nt[i].key != kEmpty;
    mm::free(g_tab);
    g_tab = nt;
    g_cap = ncap;
    g_used = live;
    return true;
}

Entry *insert(const event *ev) {
    if (Entry *e = find(ev)) return e;
    if ((g_used + 1) * 4 > g_cap * 3 && !grow()) return nullptr;
    uintptr_t k = reinterpret_cast<uintptr_t>(ev);
    size_t i = hash(k) & (g_cap - 1);
    while (g_tab[i].key != kEmpty && g_tab[i].key != kTomb) i = (i + 1) & (g_cap - 1);
    if (g_tab[i].key == kEmpty) ++g_used;
    g_tab[i].key = k;
    g_tab[i].added = false;
    return &g_tab[i];
}

struct Guard {
    Guard() { pthread_mutex_lock(&g_mu); }
    ~Guard() { pthread_mutex_unlock(&g_mu); }
};

[[noreturn]] void die(const char *what, const char *fn, const event *ev) {
    pthread_mutex_unlock(&g_mu);
    log::fatal(static_cast<int>(0xdeaddead),
               "%s: %s event %p (events: 0x%x, fd: %d, flags: 0x%x)", fn, what,
               static_cast<const void *>(ev), ev->ev_events, ev->ev_fd,
               ev->ev_evcallback.evcb_flags);
}

}  // namespace

void enable() noexcept {
    if (g_on) log::fatal(static_cast<int>(0xdeaddead), "event_enable_debug_mode was called twice!");
    if (g_too_late.load(std::memory_order_relaxed))
        log::fatal(static_cast<int>(0xdeaddead),
                   "event_enable_debug_mode must be called *before* creating any events or event_bases");
    g_on = true;
}

void note_setup(const event *ev) noexcept {
    Guard g;
    insert(ev);
}

void note_teardown(const event *ev) noexcept {
    Guard g;
    if (Entry *e = find(ev)) e->key = kTomb;
}

void note_add(const event *ev) noexcept {
    Guard g;
    Entry *e = find(ev);
    if (!e) die("noting an add on a never-assigned", "event_add", ev);
    e->added = true;
}

void note_del(const event *ev) noexcept {
    Guard g;
    Entry *e = find(ev);
    if (!e) die("noting a del on a never-assigned", "event_del", ev);
    e->added = false;
}

void assert_is_setup(const event *ev, const char *fn) noexcept {
    Guard g;
    if (!find(ev)) die("called on a never-assigned", fn, ev);
}

void assert_not_added(const event *ev, const char *fn) noexcept {
    Guard g;
    Entry *e = find(ev);
    if (e && e->added) die("called on an already added", fn, ev);
}

void assert_socket_nonblocking(int fd) noexcept {
    if (fd < 0) return;
    int flags = ::fcntl(fd, F_GETFL, nullptr);
    if (flags >= 0 && !(flags & O_NONBLOCK))  // fcntl failing (fd not open yet) is not checked
        log::fatal(static_cast<int>(0xdeaddead),
                   "event_assign: fd %d is not non-blocking (debug mode requires it)", fd);
}

void unassign(event *ev) noexcept {
    if (g_on) {
        assert_not_added(ev, "event_debug_unassign");
        note_teardown(ev);
    }
    ev->ev_evcallback.evcb_flags &= ~EVLIST_INIT;
}

// libevent_global_shutdown: debug mode ends and forgets every event, as libevent's does (its
// regress dns/leak_* cases shut down, then call event_enable_debug_mode again). Whether it
// is too late to enable it again is not reset: that depends on bases having existed.
void shutdown() noexcept {
    Guard g;
    mm::free(g_tab);
    g_tab = nullptr;
    g_cap = g_used = 0;
    g_on = false;
}

}  // namespace reevent::core::debug
