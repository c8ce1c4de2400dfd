// event_base and event_config: creation (backend choice), priorities, fork reinit, free.
//
// Backend choice: epoll, poll, select in that order, skipping a method the config avoids,
// one lacking a required feature, or one disabled by EVENT_NOEPOLL / EVENT_NOPOLL /
// EVENT_NOSELECT (unless EVENT_BASE_FLAG_IGNORE_ENV). EVENT_SHOW_METHOD logs the choice.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "core/base.h"
#include "core/evthread.h"
#include "core/log.h"

namespace reevent::core {

namespace {

event_base *g_current_base = nullptr;

const char *env(const char *name, int flags) {
    if (flags & EVENT_BASE_FLAG_IGNORE_ENV) return nullptr;
    return std::getenv(name);
}

bool method_disabled_by_env(const char *method, int flags) {
    char name[32] = "EVENT_NO";
    size_t n = std::strlen(name);
    for (const char *p = method; *p && n + 1 < sizeof name; ++p)
        name[n++] = static_cast<char>(std::toupper(static_cast<unsigned char>(*p)));
    name[n] = '\0';
    return env(name, flags) != nullptr;
}

bool avoided(const event_config *cfg, const char *method) {
    if (!cfg) return false;
    for (int i = 0; i < cfg->n_avoid; ++i)
        if (std::strcmp(cfg->avoid[i], method) == 0) return true;
    return false;
}

void notify_cb(evutil_socket_t fd, short, void *arg) {
    auto *base = static_cast<event_base *>(arg);
    uint64_t v;
    while (::read(fd, &v, sizeof v) > 0) {
    }
    LockGuard g(base->lock_);
    base->notify_pending_ = false;
}

int open_notify(event_base *base) {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        log::warn_errno("%s: eventfd", __func__);
        return -1;
    }
    base->notify_fd_ = fd;
    base->notify_pending_ = false;
    assign(&base->notify_ev_, base, fd, EV_READ | EV_PERSIST, notify_cb, base);
    base->notify_ev_.ev_evcallback.evcb_flags |= EVLIST_INTERNAL;
    base->notify_ev_.ev_evcallback.evcb_pri = 0;
    if (add_nolock(&base->notify_ev_, nullptr, false) < 0) {
        ::close(fd);
        base->notify_fd_ = -1;
        return -1;
    }
    return 0;
}

void close_notify(event_base *base) {
    if (base->notify_fd_ < 0) return;
    del_nolock(&base->notify_ev_, DelMode::kNoBlock);
    ::close(base->notify_fd_);
    base->notify_fd_ = -1;
}

}  // namespace

event_base *current_base() noexcept { return g_current_base; }
event_base *base_or_current(event_base *base) noexcept { return base ? base : g_current_base; }
void set_current_base(event_base *base) noexcept { g_current_base = base; }

const char **supported_methods() noexcept {
    static const char *methods[] = {"epoll", "poll", "select", nullptr};
    return methods;
}

int base_priority_init(event_base *base, int n) noexcept {
    LockGuard g(base->lock_);
    if (base->n_active_ || n < 1 || n >= EVENT_MAX_PRIORITIES) return -1;
    if (n == base->nactiveq_) return 0;
    auto *q = static_cast<CallbackQueue *>(mm::calloc(static_cast<size_t>(n), sizeof(CallbackQueue)));
    if (!q) return -1;
    for (int i = 0; i < n; ++i) q[i].init();
    mm::free(base->activeq_);
    base->activeq_ = q;
    base->nactiveq_ = n;
    return 0;
}

int make_notifiable(event_base *base) noexcept {
    LockGuard g(base->lock_);
    if (base->notify_fd_ >= 0) return 0;
    return open_notify(base);
}

event_base *base_new(const event_config *cfg) noexcept {
    debug::g_too_late.store(true, std::memory_order_relaxed);
    int flags = cfg ? cfg->flags : 0;
    if (env("EVENT_PRECISE_TIMER", flags)) flags |= EVENT_BASE_FLAG_PRECISE_TIMER;
    if (env("EVENT_EPOLL_USE_CHANGELIST", flags)) flags |= EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST;

    event_base *base = mm::make<event_base>();
    if (!base) {
        log::warn("%s: calloc", __func__);
        return nullptr;
    }
    base->flags_ = flags;
    base->cache_time_ = !(flags & EVENT_BASE_FLAG_NO_CACHE_TIME);
    base->later_.init();
    if (!(flags & EVENT_BASE_FLAG_NOLOCK)) base->lock_ = &base->lock_obj_;

    if (cfg) {
        const timeval &mdi = cfg->max_dispatch_interval;
        base->max_dispatch_ns_ = mdi.tv_sec < 0 ? -1 : tv_to_ns(mdi);
        base->limit_after_prio_ = cfg->limit_callbacks_after_prio;
        base->max_callbacks_ = cfg->max_dispatch_callbacks >= 0 ? cfg->max_dispatch_callbacks : INT_MAX;
    } else {
        base->max_dispatch_ns_ = -1;
        base->limit_after_prio_ = 1;
        base->max_callbacks_ = INT_MAX;
    }
    if (base->max_callbacks_ == INT_MAX && base->max_dispatch_ns_ < 0) base->limit_after_prio_ = INT_MAX;

    for (const backends::Ops *const *o = backends::kAllOps; *o; ++o) {
        const backends::Ops *ops = *o;
        if (avoided(cfg, ops->name)) continue;
        if (cfg && (ops->features & cfg->require_features) != cfg->require_features) continue;
        if (method_disabled_by_env(ops->name, flags)) continue;
        void *st = ops->create(base, flags);
        if (!st) continue;
        base->ops_ = ops;
        base->bstate_ = st;
        break;
    }
    if (!base->ops_) {
        log::warn("event_base_new_with_config: no event mechanism available");
        base_free(base, false);
        return nullptr;
    }
    base->immediate_ =
        base->ops_ == &backends::kEpollOps && !(flags & EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    // libevent names the batching flavour of epoll separately (it is still avoided as "epoll").
    base->method_name_ = base->ops_ == &backends::kEpollOps && !base->immediate_
                             ? "epoll (with changelist)"
                             : base->ops_->name;
    if (env("EVENT_SHOW_METHOD", flags)) log::msg("libevent using: %s", base->method_name_);

    if (base_priority_init(base, 1) < 0) {
        base_free(base, false);
        return nullptr;
    }
#ifdef REEVENT_HAVE_SIGNAL_HUB
    // libevent opens its signal pipe with the base, right after the backend: doing the same
    // gives a program's own fds the numbers they have on libevent. (A failure here is
    // retried by the first signal event.)
    (void)base->sigport_.open();
#endif
    // libevent has a wake-up fd only in bases made after lock callbacks were installed. On
    // immediate epoll ours is opened by the first wake-up from another thread instead (an
    // epoll_wait in progress sees a new registration); the other methods only look at
    // their fd set when they start waiting, so they get it now.
    if (base->lock_ && (evthread::has_user_locks() || !base->immediate_)) {
        LockGuard g(base->lock_);
        if (open_notify(base) < 0) {
            // Without a wakeup fd the base still works from one thread.
            log::warn("%s: cannot wake the loop from other threads", __func__);
        }
    }
    return base;
}

namespace {

// Deletes or cancels one queued callback during base_free; runs its finalizer if asked.
int cancel_for_free(event_base *base, event_callback *cb, bool run_finalizers) noexcept {
    int result = 0;
    if (cb->evcb_flags & EVLIST_INIT) {
        event *ev = to_event(cb);
        if (!(cb->evcb_flags & EVLIST_INTERNAL)) {
            del(ev, DelMode::kEvenIfFinalizing);
            result = 1;
        }
    } else {
        LockGuard g(base->lock_);
        callback_cancel_nolock(base, cb, true);
        result = 1;
    }
    if (run_finalizers && (cb->evcb_flags & EVLIST_FINALIZING)) {
        switch (cb->evcb_closure) {
            case kClosureEventFinalize:
            case kClosureEventFinalizeFree: {
                event *ev = to_event(cb);
                const bool free_it = cb->evcb_closure == kClosureEventFinalizeFree;
                cb->evcb_cb_union.evcb_evfinalize(ev, cb->evcb_arg);
                if (debug::g_on) debug::note_teardown(ev);
                if (free_it) mm::free(ev);
                break;
            }
            case kClosureCbFinalize:
                cb->evcb_cb_union.evcb_cbfinalize(cb, cb->evcb_arg);
                break;
            default:
                break;
        }
    }
    return result;
}

int free_queues(event_base *base, bool run_finalizers) noexcept {
    int deleted = 0;
    for (int i = 0; i < base->nactiveq_; ++i) {
        for (event_callback *cb = base->activeq_[i].first; cb;) {
            event_callback *next = cb->evcb_active_next.tqe_next;
            deleted += cancel_for_free(base, cb, run_finalizers);
            cb = next;
        }
    }
    while (event_callback *cb = base->later_.first) deleted += cancel_for_free(base, cb, run_finalizers);
    return deleted;
}

}  // namespace

void base_free(event_base *base, bool run_finalizers) noexcept {
    if (!base) base = g_current_base;
    if (!base) {
        log::warn("%s: no base to free", "event_base_free");
        return;
    }
    if (base == g_current_base) g_current_base = nullptr;
    int n_deleted = 0;
    if (base->ops_) {
        {
            LockGuard g(base->lock_);
            close_notify(base);
            if (base->sig_ev_added_) {
                del_nolock(&base->sig_ev_, DelMode::kNoBlock);
                base->sig_ev_added_ = false;
            }
        }
        // Every event still watching an fd or a signal.
        for (size_t fd = 0; fd < base->io_.size(); ++fd) {
            while (event *ev = base->io_[fd].head) {
                if (!(ev->ev_evcallback.evcb_flags & EVLIST_INTERNAL)) ++n_deleted;
                del(ev, DelMode::kEvenIfFinalizing);
                if (base->io_[fd].head == ev) break;  // refuses to go: do not spin
            }
        }
        if (base->sigs_) {
            for (int s = 1; s < NSIG; ++s) {
                while (event *ev = base->sigs_[s].head) {
                    ++n_deleted;
                    del(ev, DelMode::kEvenIfFinalizing);
                    if (base->sigs_[s].head == ev) break;
                }
            }
        }
        while (event *ev = base->heap_.top()) {
            del(ev, DelMode::kEvenIfFinalizing);
            ++n_deleted;
        }
        for (int i = 0; i < base->n_common_; ++i) {
            CommonTimeout *ct = base->common_[i];
            while (event *ev = ct->first) {
                del(ev, DelMode::kEvenIfFinalizing);
                ++n_deleted;
            }
        }
        for (;;) {
            int n = free_queues(base, run_finalizers);
            if (!n) break;
            n_deleted += n;
        }
        if (n_deleted) log::debug("%s: %d events were still set in base", "event_base_free", n_deleted);
    }
    while (OnceEvent *o = base->once_) {
        base->once_ = o->next;
        if (debug::g_on) debug::unassign(&o->ev);
        mm::free(o);
    }
#ifdef REEVENT_HAVE_SIGNAL_HUB
    if (base->sigport_.is_open()) base->sigport_.close();
#endif
    if (base->ops_) base->ops_->destroy(base->bstate_);
    for (int i = 0; i < base->n_common_; ++i) mm::free(base->common_[i]);
    mm::free(base->common_);
    mm::free(base->sigs_);
    mm::free(base->activeq_);
    base->heap_.reset();
    base->io_.reset();
    mm::destroy(base);
}

int base_reinit(event_base *base) noexcept {
    LockGuard g(base->lock_);
    int res = 0;
    // First a kernel object of our own (the epoll fd is shared with the parent): every later
    // change must go to the new one, never to the parent's.
    if (base->ops_->need_reinit) {
        void *st = base->ops_->create(base, base->flags_);
        if (!st) {
            log::warn_errno("%s: cannot recreate the %s backend", "event_reinit", base->ops_->name);
            return -1;
        }
        base->ops_->destroy(base->bstate_);  // only closes our copy of the parent's fd
        base->bstate_ = st;
        for (size_t fd = 0; fd < base->io_.size(); ++fd) {
            base->io_[fd].kmask = 0;
            base->io_[fd].dropped = 0;
        }
    }
    // The notification and signal fds are shared with the parent too: make our own.
    if (base->notify_fd_ >= 0) {
        close_notify(base);
        if (open_notify(base) < 0) res = -1;
    }
#ifdef REEVENT_HAVE_SIGNAL_HUB
    if (base->sig_ev_added_) {
        del_nolock(&base->sig_ev_, DelMode::kNoBlock);
        base->sig_ev_added_ = false;
        if (base->sigport_.reinit_after_fork() < 0) {
            log::warn_errno("%s: cannot recreate the signal pipe", "event_reinit");
            res = -1;
        } else {
            base->sig_ev_.ev_fd = base->sigport_.read_fd();
            if (add_nolock(&base->sig_ev_, nullptr, false) < 0)
                res = -1;
            else
                base->sig_ev_added_ = true;
        }
    } else if (base->sigport_.is_open() && base->sigport_.reinit_after_fork() < 0) {
        // Opened with the base but not watched yet: still the parent's pipe, make our own.
        log::warn_errno("%s: cannot recreate the signal pipe", "event_reinit");
        res = -1;
    }
#endif
    if (!base->ops_->need_reinit) return res;
    // Every fd again, into the new kernel object.
    for (size_t fd = 0; fd < base->io_.size(); ++fd) {
        FdSlot &s = base->io_[fd];
        unsigned want = wanted_mask(s);
        if (!want || s.kmask == want) continue;
        if (base->ops_->apply(base->bstate_, static_cast<int>(fd), s, s.kmask, want) == 0) {
            s.kmask = static_cast<uint8_t>(want);
        } else {
            log::warn("%s: could not re-add the events of fd %d", "event_reinit", static_cast<int>(fd));
            res = -1;
        }
    }
    return res;
}

}  // namespace reevent::core
