// The poll backend.
//
// Kernel behaviour this file copes with:
// - poll() takes the whole interest set on every call, so the set is a dense pollfd array:
//   each fd slot remembers its index (FdSlot::bidx) and removal swaps the last entry in,
//   making add, change and remove O(1).
// - A closed fd in the set is reported as POLLNVAL; like POLLERR and POLLHUP it wakes both
//   readers and writers (the callback then sees the error), so a forgotten close does not
//   spin silently.
// - ppoll() takes a timespec, so timeouts keep nanosecond precision (no rounding down).
// - The array is only changed by the loop thread between waits (the loop queues changes),
//   because poll() reads it without the base lock.
#include <poll.h>

#include <cerrno>
#include <ctime>

#include "backends/backend.h"
#include "core/base.h"
#include "core/log.h"
#include "core/mm.h"

namespace reevent::backends {
namespace {

struct PollState {
    event_base *base = nullptr;
    mm::Vec<pollfd> fds;
    int nready = 0;
};

void *poll_create_state(event_base *base, int) {
    auto *st = mm::make<PollState>();
    if (!st) {
        errno = ENOMEM;
        return nullptr;
    }
    st->base = base;
    return st;
}

void poll_destroy(void *p) { mm::destroy(static_cast<PollState *>(p)); }

int poll_apply(void *p, int fd, core::FdSlot &slot, unsigned, unsigned new_mask) {
    auto *st = static_cast<PollState *>(p);
    short events = 0;
    if (new_mask & kRead) events |= POLLIN;
    if (new_mask & kWrite) events |= POLLOUT;
    if (new_mask & kClosed) events |= POLLRDHUP;
    if (events == 0) {
        if (slot.bidx < 0) return 0;
        size_t i = static_cast<size_t>(slot.bidx);
        size_t last = st->fds.size() - 1;
        if (i != last) {
            st->fds[i] = st->fds[last];
            st->base->io_[static_cast<size_t>(st->fds[i].fd)].bidx = static_cast<int32_t>(i);
        }
        st->fds.pop_back();
        slot.bidx = -1;
        return 0;
    }
    if (slot.bidx < 0) {
        pollfd pfd{fd, events, 0};
        if (!st->fds.push_back(pfd)) {
            log::warn("poll: out of memory adding fd %d", fd);
            return -1;
        }
        slot.bidx = static_cast<int32_t>(st->fds.size() - 1);
    } else {
        st->fds[static_cast<size_t>(slot.bidx)].events = events;
    }
    return 0;
}

int poll_wait_for(void *p, int64_t timeout_ns) {
    auto *st = static_cast<PollState *>(p);
    timespec ts;
    timespec *tsp = timeout_timespec(timeout_ns, ts);
    int n = ppoll(st->fds.data(), st->fds.size(), tsp, nullptr);
    if (n < 0) {
        st->nready = 0;
        if (errno == EINTR) return 0;
        log::warn_errno("poll");
        return -1;
    }
    st->nready = n;
    return 0;
}

void poll_report(void *p, event_base *base) {
    auto *st = static_cast<PollState *>(p);
    int left = st->nready;
    if (left <= 0) return;
    st->nready = 0;
    // ppoll returned how many entries have non-zero revents (it writes revents of every
    // entry, 0 for the others): the scan stops after the last of them, and skips runs of
    // quiet entries four at a time. base_io_ready never changes the array (changes are
    // queued), so the pointers stay valid.
    pollfd *q = st->fds.data();
    pollfd *const end = q + st->fds.size();
    for (;;) {
        while (end - q >= 4 && (q[0].revents | q[1].revents | q[2].revents | q[3].revents) == 0) q += 4;
        while (q != end && !q->revents) ++q;
        if (q == end) return;
        short what = q->revents;
        q->revents = 0;
        unsigned res = 0;
        if (what & (POLLHUP | POLLERR | POLLNVAL)) what |= POLLIN | POLLOUT;
        if (what & POLLIN) res |= kRead;
        if (what & POLLOUT) res |= kWrite;
        if (what & POLLRDHUP) res |= kClosed;
        core::base_io_ready(base, q->fd, res);
        if (--left == 0) return;
        ++q;
    }
}

}  // namespace

const Ops kPollOps = {
    "poll",
    EV_FEATURE_FDS | EV_FEATURE_EARLY_CLOSE,
    poll_create_state,
    poll_destroy,
    poll_apply,
    poll_wait_for,
    poll_report,
    false,
};

}  // namespace reevent::backends
