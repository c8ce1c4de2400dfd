// The interface between the loop and a kernel readiness mechanism (epoll, poll, select).
//
// A backend is a table of plain functions plus an opaque state pointer: no virtual calls,
// no knowledge of struct event, locks or timers. The loop tells it what it wants per fd
// (apply: old mask -> new mask, masks made of EV_READ | EV_WRITE | EV_CLOSED | EV_ET) and
// asks it to wait (wait: a timeout in nanoseconds, -1 for none); the backend reports each
// ready fd with base_io_ready(). apply may be called for several fds before one wait, so a
// backend that can batch (epoll with the changelist) gets every change of an iteration.
#pragma once

#include <cstdint>
#include <ctime>

struct event_base;

namespace reevent::core {
struct FdSlot;
}

namespace reevent::backends {

// Bits of the masks given to apply().
inline constexpr unsigned kRead = 0x02;    // EV_READ
inline constexpr unsigned kWrite = 0x04;   // EV_WRITE
inline constexpr unsigned kEdge = 0x20;    // EV_ET
inline constexpr unsigned kClosed = 0x80;  // EV_CLOSED

struct Ops {
    const char *name;
    int features;  // EV_FEATURE_* bits
    // Creates the state (nullptr on failure, errno set). flags are EVENT_BASE_FLAG_*.
    void *(*create)(event_base *base, int flags);
    void (*destroy)(void *state);
    // Changes what the kernel watches for fd. 0, or -1 (logged) if the kernel refused.
    int (*apply)(void *state, int fd, core::FdSlot &slot, unsigned old_mask, unsigned new_mask);
    // Waits up to timeout_ns (-1: forever, 0: just look). Called by the loop thread WITHOUT
    // the base lock, so apply() must not run concurrently unless the kernel itself keeps the
    // set (epoll in immediate mode); the loop queues changes otherwise. 0, or -1 on a real
    // error (EINTR is not one).
    int (*wait)(void *state, int64_t timeout_ns);
    // Reports what the last wait() found, fd by fd, through core::base_io_ready. Called by
    // the loop thread with the base lock held.
    void (*report)(void *state, event_base *base);
    // Kernel state that a fork()ed child must recreate (epoll: the epoll fd).
    bool need_reinit;
};

extern const Ops kEpollOps;
extern const Ops kPollOps;
extern const Ops kSelectOps;

// Methods in order of preference, nullptr-terminated.
extern const Ops *const kAllOps[];

// The wait timeout as the timespec ppoll/pselect/epoll_pwait2 take: nullptr for -1
// (wait forever), else `ts` filled in.
inline timespec *timeout_timespec(int64_t timeout_ns, timespec &ts) noexcept {
    if (timeout_ns < 0) return nullptr;
    ts.tv_sec = static_cast<time_t>(timeout_ns / 1000000000);
    ts.tv_nsec = static_cast<long>(timeout_ns % 1000000000);
    return &ts;
}

}  // namespace reevent::backends
