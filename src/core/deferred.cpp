// Deferred callbacks (deferred.h): a Deferred's event_callback goes on the base's "later"
// queue, which the loop moves onto the active queues at the start of the next iteration, so
// the callback runs after the events already active in the current one. Up to 32 deferreds
// per iteration wait for the next round; beyond that they run in the current one (so a
// chain of deferreds cannot starve the kernel poll, and cannot loop forever either).
#include "core/deferred.h"

#include "core/base.h"

namespace reevent::core {

namespace {
constexpr int kMaxDeferredsQueued = 32;

void run_deferred(event_callback *cb, void *) { Deferred::from_callback(cb)->run(); }
}  // namespace

void Deferred::init(event_base *base, Fn fn, void *arg, int priority) noexcept {
    base_ = base;
    fn_ = fn;
    arg_ = arg;
    cb_ = event_callback{};
    cb_.evcb_cb_union.evcb_selfcb = run_deferred;
    cb_.evcb_arg = this;
    cb_.evcb_closure = kClosureCbSelf;
    if (priority < 0) priority = base ? base->nactiveq_ / 2 : 0;
    cb_.evcb_pri = static_cast<uint8_t>(priority);
}

void Deferred::run() noexcept { fn_(this, arg_); }

bool Deferred::schedule() noexcept {
    if (!base_) return false;
    LockGuard g(base_->lock_);
    if (base_->n_deferreds_queued_ > kMaxDeferredsQueued) {
        if (cb_.evcb_flags & EVLIST_ACTIVE) return false;
        callback_activate_nolock(base_, &cb_);
        return true;
    }
    ++base_->n_deferreds_queued_;
    return callback_activate_later_nolock(base_, &cb_);
}

bool Deferred::cancel() noexcept {
    if (!base_) return false;
    LockGuard g(base_->lock_);
    return callback_cancel_nolock(base_, &cb_, false);
}

bool Deferred::scheduled() const noexcept {
    return (cb_.evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) != 0;
}

Deferred *Deferred::from_callback(event_callback *cb) noexcept {
    return reinterpret_cast<Deferred *>(cb);
}

}  // namespace reevent::core
