// Looking into a base: event counts, event_base_foreach_event, event_base_dump_events, and
// activating events by fd or signal from outside the kernel.
//
// foreach visits each event once: those on fds (by fd number), those on signals, pure timers
// (heap, then common-timeout queues), then events that are only active. Like libevent, it
// also shows the library's own events where libevent has them: the signal pipe's read event
// (from the first signal event on) and each armed common-timeout queue timer, flagged
// EVLIST_INTERNAL. The wake-up event is shown only when libevent would have one: the
// program installed lock callbacks (evthread_use_pthreads), or the base has no lock and was
// made notifiable (reevent's locked bases always own one; libevent's do only with threads).
#include <csignal>
#include <cstdio>

#include "core/base.h"
#include "core/evthread.h"

namespace reevent::core {

int num_events(event_base *base, unsigned what) noexcept {
    LockGuard g(base->lock_);
    int r = 0;
    if (what & EVENT_BASE_COUNT_ACTIVE) r += base->n_active_;
    if (what & EVENT_BASE_COUNT_VIRTUAL) r += base->n_virtual_;
    if (what & EVENT_BASE_COUNT_ADDED) r += base->n_added_;
    return r;
}

// Clearing sets a maximum to 0, not to the current count (libevent; the next change of the
// count sets it again).
int max_events(event_base *base, unsigned what, bool clear) noexcept {
    LockGuard g(base->lock_);
    int r = 0;
    if (what & EVENT_BASE_COUNT_ACTIVE) {
        r += base->max_active_;
        if (clear) base->max_active_ = 0;
    }
    if (what & EVENT_BASE_COUNT_VIRTUAL) {
        r += base->max_virtual_;
        if (clear) base->max_virtual_ = 0;
    }
    if (what & EVENT_BASE_COUNT_ADDED) {
        r += base->max_added_;
        if (clear) base->max_added_ = 0;
    }
    return r;
}

namespace {

bool internal(const event *ev) { return ev->ev_evcallback.evcb_flags & EVLIST_INTERNAL; }

// Whether foreach/dump show this event (see the top of the file).
bool shown(const event_base *base, const event *ev) {
    if (!internal(ev) || ev != &base->notify_ev_) return true;
    return evthread::has_user_locks() || !base->lock_;
}

int foreach_nolock(event_base *base, event_base_foreach_event_cb fn, void *arg) {
    int r;
    for (size_t fd = 0; fd < base->io_.size(); ++fd) {
        for (event *ev = base->io_[fd].head; ev; ev = ev->ev_.ev_io.ev_io_next.le_next)
            if (shown(base, ev) && (r = fn(base, ev, arg)) != 0) return r;
    }
    if (base->sigs_) {
        for (int s = 1; s < NSIG; ++s)
            for (event *ev = base->sigs_[s].head; ev; ev = ev->ev_.ev_signal.ev_signal_next.le_next)
                if (!internal(ev) && (r = fn(base, ev, arg)) != 0) return r;
    }
    for (size_t i = 0; i < base->heap_.size(); ++i) {
        event *ev = base->heap_.at(i);
        if (!shown(base, ev) || (ev->ev_evcallback.evcb_flags & EVLIST_INSERTED)) continue;
        if ((r = fn(base, ev, arg)) != 0) return r;
    }
    for (int i = 0; i < base->n_common_; ++i) {
        for (event *ev = base->common_[i]->first; ev;
             ev = ev->ev_timeout_pos.ev_next_with_common_timeout.tqe_next) {
            if (internal(ev) || (ev->ev_evcallback.evcb_flags & EVLIST_INSERTED)) continue;
            if ((r = fn(base, ev, arg)) != 0) return r;
        }
    }
    auto visit_queue = [&](CallbackQueue &q) -> int {
        for (event_callback *cb = q.first; cb; cb = cb->evcb_active_next.tqe_next) {
            if ((cb->evcb_flags & (EVLIST_INIT | EVLIST_INSERTED | EVLIST_TIMEOUT)) != EVLIST_INIT ||
                !shown(base, to_event(cb)))
                continue;
            int rr = fn(base, to_event(cb), arg);
            if (rr) return rr;
        }
        return 0;
    };
    for (int i = 0; i < base->nactiveq_; ++i)
        if ((r = visit_queue(base->activeq_[i])) != 0) return r;
    return visit_queue(base->later_);
}

struct DumpCtx {
    FILE *out;
    int64_t wall_offset;
};

int dump_inserted(const event_base *, const event *e, void *arg) {
    auto *ctx = static_cast<DumpCtx *>(arg);
    const short f = e->ev_evcallback.evcb_flags;
    if (!(f & (EVLIST_INSERTED | EVLIST_TIMEOUT))) return 0;
    const short ev = e->ev_events;
    std::fprintf(ctx->out, "  %p [%s %d]%s%s%s%s%s%s%s", static_cast<const void *>(e),
                 (ev & EV_SIGNAL) ? "sig" : "fd ", e->ev_fd, (ev & EV_READ) ? " Read" : "",
                 (ev & EV_WRITE) ? " Write" : "", (ev & EV_CLOSED) ? " EOF" : "",
                 (ev & EV_SIGNAL) ? " Signal" : "", (ev & EV_PERSIST) ? " Persist" : "",
                 (ev & EV_ET) ? " ET" : "", (f & EVLIST_INTERNAL) ? " Internal" : "");
    if (f & EVLIST_TIMEOUT) {
        int64_t wall = deadline_of(e) + ctx->wall_offset;
        std::fprintf(ctx->out, " Timeout=%ld.%06d", static_cast<long>(wall / 1000000000),
                     static_cast<int>((wall % 1000000000) / 1000));
    }
    std::fputc('\n', ctx->out);
    return 0;
}

int dump_active(const event_base *, const event *e, void *arg) {
    auto *ctx = static_cast<DumpCtx *>(arg);
    const short f = e->ev_evcallback.evcb_flags;
    if (!(f & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER))) return 0;
    const short res = e->ev_res;
    std::fprintf(ctx->out, "  %p [%s %d, priority=%d]%s%s%s%s%s active%s%s\n",
                 static_cast<const void *>(e), (e->ev_events & EV_SIGNAL) ? "sig" : "fd ", e->ev_fd,
                 e->ev_evcallback.evcb_pri, (res & EV_READ) ? " Read" : "",
                 (res & EV_WRITE) ? " Write" : "", (res & EV_CLOSED) ? " EOF" : "",
                 (res & EV_SIGNAL) ? " Signal" : "", (res & EV_TIMEOUT) ? " Timeout" : "",
                 (f & EVLIST_INTERNAL) ? " [Internal]" : "",
                 (f & EVLIST_ACTIVE_LATER) ? " [NextTime]" : "");
    return 0;
}

}  // namespace

int foreach_event(event_base *base, event_base_foreach_event_cb fn, void *arg) noexcept {
    LockGuard g(base->lock_);
    return foreach_nolock(base, fn, arg);
}

void dump_events(event_base *base, FILE *out) noexcept {
    LockGuard g(base->lock_);
    DumpCtx ctx{out, wall_minus_mono_ns()};
    std::fprintf(out, "Inserted events:\n");
    foreach_nolock(base, dump_inserted, &ctx);
    std::fprintf(out, "Active events:\n");
    // The same walk as above, as libevent does: an inserted or timed event that is active
    // is listed where the walk meets it, before the events that are only active.
    foreach_nolock(base, dump_active, &ctx);
}

void active_by_fd(event_base *base, int fd, short events) noexcept {
    LockGuard g(base->lock_);
    if (!(events & EV_TIMEOUT)) {
        base_io_ready(base, fd, static_cast<unsigned>(events & (EV_READ | EV_WRITE | EV_CLOSED)));
        return;
    }
    // Timers: activate every timed event on that fd, wherever it waits.
    for (size_t i = 0; i < base->heap_.size(); ++i) {
        event *ev = base->heap_.at(i);
        if (ev->ev_fd == fd && !internal(ev)) activate_nolock(ev, EV_TIMEOUT, 1);
    }
    for (int i = 0; i < base->n_common_; ++i)
        for (event *ev = base->common_[i]->first; ev;
             ev = ev->ev_timeout_pos.ev_next_with_common_timeout.tqe_next)
            if (ev->ev_fd == fd) activate_nolock(ev, EV_TIMEOUT, 1);
}

void active_by_signal(event_base *base, int sig) noexcept {
    LockGuard g(base->lock_);
    activate_by_signal(base, sig, 1);
}

}  // namespace reevent::core
