// The inline part of the timer structure (timers.cpp has the rest): putting a timer into the
// 8-ary heap and taking it out, for the add/del fast paths of pure timers (event_ops.cpp) and
// for timers.cpp itself. Everything else (common-timeout queues, the clock) stays out of line.
#pragma once

#include <cerrno>

#include "core/base.h"
#include "core/log.h"

namespace reevent::core {

// Puts ev (not pending as a timer) into the heap at `deadline`, after every timer already
// due then (FIFO among equal deadlines). The caller reserved room in the heap.
inline void heap_timer_insert(event_base *base, event *ev, int64_t deadline) noexcept {
    count_added(base, to_callback(ev));
    ev->ev_evcallback.evcb_flags |= EVLIST_TIMEOUT;
    deadline_of(ev) = deadline;
    timer_tag(ev) = static_cast<long>(base->timer_seq_++);
    if (!base->heap_.push(ev)) [[unlikely]]
        log::fatal(ENOMEM, "timer heap allocation failed");  // room was reserved: cannot be
}

// Moves ev (EVLIST_TIMEOUT, in the heap: timer_tag >= 0) to `deadline`, in place (one sift).
inline void heap_timer_move(event_base *base, event *ev, int64_t deadline) noexcept {
    // Re-armed to the deadline it has, and no timer was scheduled since: a new sequence
    // number would not move it (a persistent event re-added by its own callback after the
    // loop re-armed it).
    if (deadline_of(ev) == deadline && static_cast<uint64_t>(timer_tag(ev)) + 1 == base->timer_seq_)
        return;
    deadline_of(ev) = deadline;
    timer_tag(ev) = static_cast<long>(base->timer_seq_++);
    base->heap_.update(ev);
}

// Takes ev (EVLIST_TIMEOUT, in the heap: timer_tag >= 0) out of the heap.
inline void heap_timer_remove(event_base *base, event *ev) noexcept {
    uncount_added(base, to_callback(ev));
    ev->ev_evcallback.evcb_flags &= ~EVLIST_TIMEOUT;
    base->heap_.erase(ev);
}

}  // namespace reevent::core
