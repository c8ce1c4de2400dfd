// The epoll backend.
//
// Kernel behaviour this file copes with:
// - epoll registers a (file, fd number) pair. close() removes it only when the last fd of the
//   file is closed, so a dup()ed fd (or a child process) keeps a registration alive that can
//   no longer be removed by number. The loop delays removals to its next flush (a del+add
//   in one iteration is then one MOD), so a program may close an fd before its DEL is made:
//   if the file lives on, its readiness keeps arriving under an old generation. The same
//   stale registration in two waits in a row means exactly that, and the set is rebuilt
//   from the fd map in a fresh epoll object (same fd number), once, instead of spinning.
// - A closed fd whose number is reused: MOD fails with ENOENT -> retry as ADD; ADD fails
//   with EEXIST -> retry as MOD. Readiness queued for the old file is recognised by a
//   generation counter stored next to the fd in epoll_event.data and dropped.
// - Regular files and directories cannot be watched: ADD fails with EPERM; reported as an
//   error of event_add (as libevent does).
// - EPOLLRDHUP gives EV_CLOSED (peer shut down writing) without a read.
// - EPOLLERR, and EPOLLHUP without EPOLLRDHUP, arrive whatever was asked: they wake both
//   readers and writers. A peer's close gives HUP|RDHUP: reported as EV_CLOSED (+EV_READ).
// - epoll_wait's timeout is in milliseconds: we round up (a timer never fires early) and
//   use epoll_pwait2 (nanoseconds, Linux 5.11+) when the kernel has it.
// - The result array is reused and doubled when a wait fills it (up to 4096 entries).
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <ctime>

#include "backends/backend.h"
#include "backends/epoll_report.h"
#include "core/base.h"
#include "core/log.h"
#include "core/mm.h"

namespace reevent::backends {

// 0: wait with epoll_pwait2, -1: the kernel lacks it (shared by all bases and threads).
// Under ThreadSanitizer never: its runtime (gcc 12's) does not intercept epoll_pwait2, and it
// hands a signal to the program only at an intercepted call, so a signal sent to a loop
// sleeping there would wait for the next wake-up. epoll_wait is intercepted.
#if defined(__SANITIZE_THREAD__)
#define REEVENT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define REEVENT_TSAN 1
#endif
#endif
#ifdef REEVENT_TSAN
std::atomic<int> g_epoll_have_pwait2{-1};
#else
std::atomic<int> g_epoll_have_pwait2{0};
#endif

int epoll_wait_rare(EpollState *st, int64_t timeout_ns) noexcept {
    if (errno == ENOSYS && g_epoll_have_pwait2.load(std::memory_order_relaxed) >= 0) {
        g_epoll_have_pwait2.store(-1, std::memory_order_relaxed);
        const int n = epoll_wait(st->epfd, st->events, st->cap, epoll_timeout_ms(timeout_ns));
        if (n >= 0) {
            st->nevents = n;
            return 0;
        }
    }
    st->nevents = 0;
    if (errno == EINTR) return 0;
    log::warn_errno("epoll_wait");
    return -1;
}

namespace {

constexpr int kInitialEvents = 32;
constexpr int kMaxEvents = 4096;



uint32_t to_epoll(unsigned mask) {
    uint32_t e = 0;
    if (mask & kRead) e |= EPOLLIN;
    if (mask & kWrite) e |= EPOLLOUT;
    if (mask & kClosed) e |= EPOLLRDHUP;
    if (mask & kEdge) e |= EPOLLET;
    return e;
}

void *epoll_create_state(event_base *, int flags) {
    int fd = epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOSYS) log::warn_errno("epoll_create1");
        return nullptr;
    }
    auto *st = mm::make<EpollState>();
    if (st) st->events = static_cast<epoll_event *>(mm::calloc(kInitialEvents, sizeof(epoll_event)));
    if (!st || !st->events) {
        if (st) mm::destroy(st);
        ::close(fd);
        errno = ENOMEM;
        return nullptr;
    }
    st->epfd = fd;
    st->cap = kInitialEvents;
    // libevent's epoll with EVENT_BASE_FLAG_PRECISE_TIMER opens a timerfd right after the
    // epoll fd; we wait with epoll_pwait2 instead but hold one too, so the fds a program
    // opens next get libevent's numbers.
    if (flags & EVENT_BASE_FLAG_PRECISE_TIMER)
        st->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    return st;
}

void epoll_destroy(void *p) {
    auto *st = static_cast<EpollState *>(p);
    if (!st) return;
    if (st->epfd >= 0) ::close(st->epfd);
    if (st->timerfd >= 0) ::close(st->timerfd);
    mm::free(st->events);
    mm::destroy(st);
}

int ctl(int epfd, int op, int fd, uint32_t events, uint32_t gen) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = static_cast<uint32_t>(fd) | (static_cast<uint64_t>(gen) << 32);
    return epoll_ctl(epfd, op, fd, &ev);
}

// libevent's wording for a refused change: the op, the epoll bits, and per direction the
// change as its changelist would have recorded it (1 add, 2 del, | 0x20 for EV_ET).
void warn_refused(const char *op, uint32_t ev, int fd, unsigned old_mask, unsigned new_mask) {
    auto change = [&](unsigned bit) -> unsigned {
        if ((new_mask & bit) && !(old_mask & bit)) return 1u | (new_mask & kEdge);
        if ((old_mask & bit) && !(new_mask & bit)) return 2u | (old_mask & kEdge);
        return 0;
    };
    auto name = [](unsigned c) { return (c & 3) == 1 ? "add" : (c & 3) == 2 ? "del" : "none"; };
    const unsigned r = change(kRead), w = change(kWrite), c = change(kClosed);
    log::warn_errno("Epoll %s(%d) on fd %d failed. Old events were %d; read change was %d (%s); "
                    "write change was %d (%s); close change was %d (%s)",
                    op, static_cast<int>(ev), fd, static_cast<int>(old_mask & (kRead | kWrite | kClosed)),
                    static_cast<int>(r), name(r), static_cast<int>(w), name(w), static_cast<int>(c),
                    name(c));
}

int epoll_apply(void *p, int fd, core::FdSlot &slot, unsigned old_mask, unsigned new_mask) {
    auto *st = static_cast<EpollState *>(p);
    if (new_mask == 0) {
        if (old_mask == 0) return 0;
        // A closed fd (EBADF) or one the kernel already dropped (ENOENT) is gone anyway.
        if (ctl(st->epfd, EPOLL_CTL_DEL, fd, 0, slot.gen) < 0 && errno != EBADF &&
            errno != ENOENT && errno != EPERM) {
            warn_refused("DEL", 0, fd, old_mask, new_mask);
            ++slot.gen;
            return -1;
        }
        ++slot.gen;  // anything still queued for the old registration is stale
        return 0;
    }
    uint32_t ev = to_epoll(new_mask);
    if (old_mask == 0) {
        ++slot.gen;
        if (ctl(st->epfd, EPOLL_CTL_ADD, fd, ev, slot.gen) == 0) return 0;
        if (errno == EEXIST) {
            if (ctl(st->epfd, EPOLL_CTL_MOD, fd, ev, slot.gen) == 0) return 0;
            log::warn_errno("Epoll ADD(%d) on %d retried as MOD; that failed too", (int)ev, fd);
            return -1;
        }
    } else {
        if (ctl(st->epfd, EPOLL_CTL_MOD, fd, ev, slot.gen) == 0) return 0;
        if (errno == ENOENT) {
            // The fd was closed and its number reused: register the new file.
            ++slot.gen;
            if (ctl(st->epfd, EPOLL_CTL_ADD, fd, ev, slot.gen) == 0) return 0;
            log::warn_errno("Epoll MOD(%d) on %d retried as ADD; that failed too", (int)ev, fd);
            return -1;
        }
    }
    warn_refused(old_mask ? "MOD" : "ADD", ev, fd, old_mask, new_mask);
    return -1;
}

int epoll_wait_for(void *p, int64_t timeout_ns) {
    return epoll_wait_inline(static_cast<EpollState *>(p), timeout_ns);
}

// A fresh kernel object in place of the old one (dup3 keeps the fd number the program may
// have seen), holding what the fd map says the kernel should have. Pending removals are not
// carried over. Called from report(): no wait is in progress.
void epoll_rebuild(EpollState *st, event_base *base) {
    log::debug("epoll: a closed fd's file is still registered (kept open elsewhere); "
               "rebuilding the epoll set");
    const int fresh = epoll_create1(EPOLL_CLOEXEC);
    if (fresh < 0) {
        log::warn_errno("epoll_create1");
        return;
    }
    if (dup3(fresh, st->epfd, O_CLOEXEC) < 0) {
        log::warn_errno("dup3");
        ::close(fresh);
        return;
    }
    ::close(fresh);
    auto &io = base->io_;
    for (size_t i = 0; i < io.size(); ++i) {
        core::FdSlot &s = io[i];
        if (!s.kmask) continue;
        const int fd = static_cast<int>(i);
        if (!core::wanted_mask(s)) {  // its DEL was still due: nothing to register
            s.kmask = 0;
            s.dropped = 0;
            continue;
        }
        ++s.gen;
        if (ctl(st->epfd, EPOLL_CTL_ADD, fd, to_epoll(s.kmask), s.gen) < 0) {
            warn_refused("ADD", to_epoll(s.kmask), fd, 0, s.kmask);
            s.kmask = 0;
        }
    }
}


// The stale registrations of one wait (see epoll_report), kept out of the hot loop.
struct StaleScan {
    uint64_t seen[EpollState::kStaleKept];
    int n = 0;
    bool stuck = false;
};
[[gnu::noinline, gnu::cold]] void note_stale(const EpollState *st, StaleScan &sc, uint64_t data) {
    // Readiness queued before a change from another thread once; the same stale
    // registration again in the next wait is one the kernel still holds.
    for (int k = 0; k < st->nstale; ++k) sc.stuck |= st->stale[k] == data;
    if (sc.n < EpollState::kStaleKept) sc.seen[sc.n++] = data;
}

}  // namespace

unsigned epoll_decode_rare(uint32_t what) noexcept {
    if ((what & EPOLLERR) || ((what & EPOLLHUP) && !(what & EPOLLRDHUP))) {
        // A hang-up that comes with EPOLLRDHUP (the peer closed) is reported like a
        // shutdown, as EV_CLOSED plus readability, so an EV_CLOSED-only event hears it.
        return kRead | kWrite;
    }
    unsigned res = 0;
    if (what & EPOLLIN) res |= kRead;
    if (what & EPOLLOUT) res |= kWrite;
    if (what & EPOLLRDHUP) res |= kClosed;
    return res;
}

// What the last wait found, from result i0 on, with the bookkeeping of stale registrations
// (see the top of this file): epoll_report_inline hands over here at the first stale one.
void epoll_report_from(EpollState *st, event_base *base, int i0) noexcept {
    const int n = st->nevents;
    StaleScan sc;
    for (int i = i0; i < n; ++i) {
        const uint32_t what = st->events[i].events;
        const uint64_t data = st->events[i].data.u64;
        const uint32_t fd = static_cast<uint32_t>(data);  // >= size() if negative as an int
        if (fd >= base->io_.size() || base->io_[fd].gen != static_cast<uint32_t>(data >> 32))
            [[unlikely]] {
            note_stale(st, sc, data);
            continue;
        }
        const unsigned res = epoll_decode(what);
        // epoll can report edges
        if (res) core::io_ready_collecting(base, &base->io_[fd], res | kEdge);
    }
    if (n == st->cap && st->cap < kMaxEvents) {
        void *bigger = mm::realloc(st->events, sizeof(epoll_event) * st->cap * 2);
        if (bigger) {
            st->events = static_cast<epoll_event *>(bigger);
            st->cap *= 2;
        }
    }
    st->nevents = 0;
    // Nothing stale in this wait nor in the last one (stuck implies sc.n > 0): st->nstale
    // is 0 already.
    if (sc.n | st->nstale) [[unlikely]] {
        st->nstale = sc.n;
        for (int k = 0; k < sc.n; ++k) st->stale[k] = sc.seen[k];
        if (sc.stuck) {
            st->nstale = 0;
            epoll_rebuild(st, base);
        }
    }
}

namespace {

void epoll_report(void *p, event_base *base) {
    epoll_report_inline(static_cast<EpollState *>(p), base);
}

}  // namespace

const Ops kEpollOps = {
    "epoll",
    EV_FEATURE_ET | EV_FEATURE_O1 | EV_FEATURE_EARLY_CLOSE,
    epoll_create_state,
    epoll_destroy,
    epoll_apply,
    epoll_wait_for,
    epoll_report,
    true,
};

}  // namespace reevent::backends
