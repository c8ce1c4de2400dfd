// The epoll backend's state and the usual cases of its wait and report, inline: the loop
// runs them directly when its base is on epoll (no indirect call, no function frame of
// their own per iteration). The rest of the backend is epoll_backend.cpp.
#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <ctime>

#include "backends/backend.h"
#include "core/base.h"

namespace reevent::backends {

struct EpollState {
    int epfd = -1;
    int timerfd = -1;   // held, not used: libevent's precise-timer epoll owns one (fd layout)
    int nevents = 0;    // results of the last wait
    int cap = 0;
    epoll_event *events = nullptr;
    // Stale registrations seen by the last wait (epoll_event.data), to spot one that stays.
    static constexpr int kStaleKept = 4;
    int nstale = 0;
    uint64_t stale[kStaleKept] = {};
};

// 0: wait with epoll_pwait2 (nanoseconds), -1: the kernel lacks it (see epoll_backend.cpp).
extern std::atomic<int> g_epoll_have_pwait2;
// A wait that failed: ENOSYS from epoll_pwait2 (remembered; waits with epoll_wait), EINTR
// (0, nothing ready), or an error (logged, -1). errno is the wait's.
[[gnu::cold, gnu::noinline]] int epoll_wait_rare(EpollState *st, int64_t timeout_ns) noexcept;

// epoll_wait's timeout in milliseconds, rounded up (a timer never fires early).
inline int epoll_timeout_ms(int64_t timeout_ns) noexcept {
    if (timeout_ns < 0) return -1;
    if (timeout_ns > 2000000000LL * 1000000LL) return 2000000000;
    return static_cast<int>((timeout_ns + 999999) / 1000000);
}

// Waits up to timeout_ns (-1: forever) and keeps the results for the report. 0 or -1.
inline int epoll_wait_inline(EpollState *st, int64_t timeout_ns) noexcept {
    int n;
    if (g_epoll_have_pwait2.load(std::memory_order_relaxed) >= 0) {
        timespec ts;
        timespec *tsp = timeout_timespec(timeout_ns, ts);
        n = epoll_pwait2(st->epfd, st->events, st->cap, tsp, nullptr);
    } else {
        n = epoll_wait(st->epfd, st->events, st->cap, epoll_timeout_ms(timeout_ns));
    }
    if (n < 0) [[unlikely]]
        return epoll_wait_rare(st, timeout_ns);
    st->nevents = n;
    return 0;
}

// Everything but plain EPOLLIN/EPOLLOUT (errors, hang-ups, EPOLLRDHUP).
unsigned epoll_decode_rare(uint32_t what) noexcept;
// The report from result i0 on, with the stale-registration bookkeeping and the growth of
// a full result array.
[[gnu::cold, gnu::noinline]] void epoll_report_from(EpollState *st, event_base *base,
                                                    int i0) noexcept;

static_assert(EPOLLIN << 1 == kRead && EPOLLOUT == kWrite, "the fast decode below");

// epoll's bits of one result -> EV_READ | EV_WRITE | EV_CLOSED.
inline unsigned epoll_decode(uint32_t what) noexcept {
    if (!(what & ~uint32_t(EPOLLIN | EPOLLOUT))) [[likely]]
        return ((what & EPOLLIN) << 1) | (what & EPOLLOUT);
    return epoll_decode_rare(what);
}

// What the last wait found, fd by fd. The usual case: no stale registration (else
// epoll_report_from takes over), the result array not full, none stale last time either.
inline void epoll_report_inline(EpollState *st, event_base *base) noexcept {
    const int n = st->nevents;
    const epoll_event *const events = st->events;
    for (int i = 0; i < n; ++i) {
        const uint32_t what = events[i].events;
        const uint64_t data = events[i].data.u64;
        const uint32_t fd = static_cast<uint32_t>(data);  // >= size() if negative as an int
        if (fd >= base->io_.size() || base->io_[fd].gen != static_cast<uint32_t>(data >> 32))
            [[unlikely]] {
            epoll_report_from(st, base, i);
            return;
        }
        // epoll can report edges
        if (const unsigned res = epoll_decode(what))
            core::io_ready_collecting(base, &base->io_[fd], res | kEdge);
    }
    if ((n == st->cap) | (st->nstale != 0)) [[unlikely]] {
        epoll_report_from(st, base, n);  // grows the array, forgets the last wait's stale ones
        return;
    }
    st->nevents = 0;
}

// The loop's shortcut for the commonest iteration: the wait found exactly one fd, whose only
// event is a plain persistent user event that is not active yet (nothing else is active and
// no timer is pending: the loop checks that). Returns that event with its ev_res set, the
// result consumed, so the loop can run it at once instead of queueing it; nullptr (nothing
// changed) when anything differs, and the general report follows.
inline event *epoll_sole_persistent(EpollState *st, event_base *base) noexcept {
    // cap >= 32: one result never fills the array (the report's growth case).
    if (st->nevents != 1 || st->nstale != 0) return nullptr;
    const uint32_t what = st->events[0].events;
    const uint64_t data = st->events[0].data.u64;
    const uint32_t fd = static_cast<uint32_t>(data);
    if (fd >= base->io_.size() || (what & ~uint32_t(EPOLLIN | EPOLLOUT)) != 0) return nullptr;
    const core::FdSlot &s = base->io_[fd];
    if (s.gen != static_cast<uint32_t>(data >> 32)) return nullptr;
    event *const ev = s.head;
    if (!ev || ev->ev_.ev_io.ev_io_next.le_next) return nullptr;
    const unsigned hit = static_cast<unsigned>(ev->ev_events) & (epoll_decode(what) | kEdge);
    // Pending and nothing more: not active, not internal, not finalizing, no timeout.
    if (!(hit & ~kEdge) ||
        (ev->ev_evcallback.evcb_flags & ~EVLIST_INSERTED) != EVLIST_INIT ||
        ev->ev_evcallback.evcb_closure != core::kClosurePersist || !(ev->ev_events & EV_PERSIST) ||
        (ev->ev_.ev_io.ev_timeout.tv_sec | ev->ev_.ev_io.ev_timeout.tv_usec))
        return nullptr;
    ev->ev_res = static_cast<short>(hit);
    st->nevents = 0;
    return ev;
}

}  // namespace reevent::backends
