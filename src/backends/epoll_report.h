// The epoll backend's state and the usual case of its report, inline: the loop runs it
// directly when its base is on epoll (no indirect call, no second function frame per
// iteration). The rest of the backend is epoll_backend.cpp.
#pragma once

#include <sys/epoll.h>

#include <cstdint>

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

// Everything but plain EPOLLIN/EPOLLOUT (errors, hang-ups, EPOLLRDHUP).
unsigned epoll_decode_rare(uint32_t what) noexcept;
// The report from result i0 on, with the stale-registration bookkeeping and the growth of
// a full result array.
[[gnu::cold, gnu::noinline]] void epoll_report_from(EpollState *st, event_base *base, int i0) noexcept;

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

}  // namespace reevent::backends
