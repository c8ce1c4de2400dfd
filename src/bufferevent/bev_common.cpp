// What every kind of bufferevent shares: construction, references and destruction, running
// (or deferring) the user's callbacks, enable/disable with suspension reasons, watermarks,
// timeouts and bufferevent_free().
#include "bufferevent/bev.h"
#include "bufferevent/kinds.h"
#include "bufferevent/kit.h"

#include "buffer/evbuffer.h"
#include "core/base.h"
#include "core/log.h"
#include "core/mm.h"

#include <cerrno>

namespace reevent::bev {

namespace {

// The loop runs this for BEV_OPT_DEFER_CALLBACKS (and for forced deferrals): CONNECTED
// first (it happened before any data), then read, write, and the other events, each from
// the public slot as it is now. The reference taken when queueing is dropped at the end.
void run_deferred(core::Deferred *, void *arg) noexcept {
    Bev *b = static_cast<Bev *>(arg);
    lock(b);
    b->deferred_queued = false;
    const bool unlocked = (b->options & BEV_OPT_UNLOCK_CALLBACKS) != 0;
    auto call_data = [&](bufferevent_data_cb cb) {
        if (unlocked) unlock(b);
        cb(handle(b), b->pub.cbarg);
        if (unlocked) lock(b);
    };
    if (b->eventcb_pending & BEV_EVENT_CONNECTED) {
        b->eventcb_pending &= ~BEV_EVENT_CONNECTED;
        if (bufferevent_event_cb cb = b->pub.errorcb) {
            if (unlocked) unlock(b);
            cb(handle(b), BEV_EVENT_CONNECTED, b->pub.cbarg);
            if (unlocked) lock(b);
        }
    }
    if (b->readcb_pending) {
        b->readcb_pending = false;
        if (bufferevent_data_cb cb = b->pub.readcb) {
            const bool outer = b->in_readcb;
            b->in_readcb = true;
            call_data(cb);
            b->in_readcb = outer;
        }
    }
    if (b->writecb_pending) {
        b->writecb_pending = false;
        if (bufferevent_data_cb cb = b->pub.writecb) {
            const bool outer = b->in_writecb;
            b->in_writecb = true;
            call_data(cb);
            b->in_writecb = outer;
        }
    }
    if (b->eventcb_pending) {
        short what = static_cast<short>(b->eventcb_pending);
        int err = b->errno_pending;
        b->eventcb_pending = 0;
        b->errno_pending = 0;
        if (bufferevent_event_cb cb = b->pub.errorcb) {
            if (unlocked) unlock(b);
            errno = err;
            cb(handle(b), what, b->pub.cbarg);
            if (unlocked) lock(b);
        }
    }
    decref_and_unlock(b);
}

void schedule_deferred(Bev *b) noexcept {
    if (b->deferred_queued) return;
    if (!b->deferred) {
        b->deferred = mm::make<core::Deferred>();
        if (!b->deferred) {
            log::warn("bufferevent: out of memory for a deferred callback");
            return;
        }
        b->deferred->init(base_of(b), run_deferred, b, b->deferred_pri);
    }
    // Queued, and the reference run_deferred drops, before it is queued: a loop running in
    // another thread can run it as soon as it is (a bufferevent without a lock, set up from
    // that other thread: a refused connect's ERROR); marked afterwards, the bufferevent
    // would keep deferred_queued set for good and never run a deferred callback again.
    b->deferred_queued = true;
    ++b->refcnt;
    if (!b->deferred->schedule()) {
        b->deferred_queued = false;
        --b->refcnt;  // the caller holds another one
    }
}

void destroy(Bev *b) noexcept {
    // Stop the events first (event_del waits for a handler running in another thread,
    // which sees `dead` and returns), then let the kind close its transport. kFree: the fd
    // leaves the kernel's set now, before that close (a copy of it in a child process must
    // not keep a registration here).
    if (event_initialized(&b->pub.ev_read)) core::del(&b->pub.ev_read, core::DelMode::kFree);
    if (event_initialized(&b->pub.ev_write)) core::del(&b->pub.ev_write, core::DelMode::kFree);
    rate_limit_destroy(b);
    if (b->deferred) b->deferred->cancel();
    // The buffers go before the kind's own teardown: they may use a lock that belongs to
    // the underlying bufferevent or to a pair's other half, which destruct() releases.
    evbuffer_free(b->pub.input);
    evbuffer_free(b->pub.output);
    b->pub.input = b->pub.output = nullptr;
    if (b->pub.be_ops && b->pub.be_ops->destruct) b->pub.be_ops->destruct(b);
    destroy_unlinked(b);
}

}  // namespace

bool init_common(Bev *b, event_base *base, const bufferevent_ops *ops, int options,
                 core::Lock *shared_lock) noexcept {
    b->pub.ev_base = base;
    b->pub.be_ops = ops;
    b->pub.enabled = EV_WRITE;  // a new bufferevent writes but does not read
    b->options = static_cast<uint8_t>(options & 0xf);
    b->pub.input = evbuffer_new();
    b->pub.output = evbuffer_new();
    if (!b->pub.input || !b->pub.output) return false;
    if (options & BEV_OPT_THREADSAFE) {
        if (shared_lock) {
            b->lock = shared_lock;
        } else {
            b->lock = mm::make<core::Lock>();
            if (!b->lock) return false;
            b->own_lock = true;
        }
        if (!buffer::from(b->pub.input)->use_lock(b->lock) ||
            !buffer::from(b->pub.output)->use_lock(b->lock))
            return false;
    }
    return true;
}

event_base *base_of(const Bev *b) noexcept {
    if (event_initialized(&b->pub.ev_read)) return event_get_base(&b->pub.ev_read);
    // A NULL base (bufferevent_new) means the current global base, as event_assign does.
    return core::base_or_current(b->pub.ev_base);
}

void deferred_rebind(Bev *b, event_base *base, int priority) noexcept {
    b->deferred_pri = static_cast<short>(priority);
    if (!b->deferred || b->deferred_queued) return;  // a queued one runs where it was queued
    b->deferred->init(base, run_deferred, b, priority);
}

void destroy_unlinked(Bev *b) noexcept {
    if (b->pub.input) evbuffer_free(b->pub.input);
    if (b->pub.output) evbuffer_free(b->pub.output);
    b->pub.input = b->pub.output = nullptr;
    core::Lock *l = b->own_lock ? b->lock : nullptr;
    if (b->deferred) mm::destroy(b->deferred);
    b->~Bev();
    mm::free(b);
    if (l) mm::destroy(l);
}

bool decref_and_unlock(Bev *b) noexcept {
    REEVENT_ASSERT(b->refcnt > 0);
    if (--b->refcnt > 0) {
        unlock(b);
        return false;
    }
    b->dead = true;
    unlock(b);
    destroy(b);
    return true;
}

// ---- callbacks ---------------------------------------------------------------------------

// A callback that would run inside itself (a write callback that writes to a filter or pair,
// which moves data and wants to run the write callback again) is deferred instead, so
// recursion is bounded; the program's own bufferevent_trigger (kTrigByProgram) runs it
// nested, as libevent does.
// While a CONNECTED report waits in the deferred queue, data callbacks queue behind it, so
// the user always hears "connected" before the first read/write callback.
void run_readcb(Bev *b, int options) noexcept {
    if (!b->pub.readcb) return;
    if (((options | b->options) & BEV_OPT_DEFER_CALLBACKS) ||
        (b->in_readcb && !(options & kTrigByProgram)) ||
        (b->eventcb_pending & BEV_EVENT_CONNECTED)) {
        b->readcb_pending = true;
        schedule_deferred(b);
        return;
    }
    const bool outer = b->in_readcb;  // true only for the program's nested trigger
    b->in_readcb = true;
    b->pub.readcb(handle(b), b->pub.cbarg);
    b->in_readcb = outer;
}

void run_writecb(Bev *b, int options) noexcept {
    if (!b->pub.writecb) return;
    if (((options | b->options) & BEV_OPT_DEFER_CALLBACKS) ||
        (b->in_writecb && !(options & kTrigByProgram)) ||
        (b->eventcb_pending & BEV_EVENT_CONNECTED)) {
        b->writecb_pending = true;
        schedule_deferred(b);
        return;
    }
    const bool outer = b->in_writecb;
    b->in_writecb = true;
    b->pub.writecb(handle(b), b->pub.cbarg);
    b->in_writecb = outer;
}

void run_eventcb(Bev *b, short what, int options) noexcept {
    if (!b->pub.errorcb) return;
    if ((options | b->options) & BEV_OPT_DEFER_CALLBACKS) {
        b->eventcb_pending |= static_cast<uint16_t>(what);
        b->errno_pending = static_cast<int16_t>(errno);
        schedule_deferred(b);
        return;
    }
    b->pub.errorcb(handle(b), what, b->pub.cbarg);
}

void trigger_nolock(Bev *b, short iotype, int options) noexcept {
    const bool ignore = (options & BEV_TRIG_IGNORE_WATERMARKS) != 0;
    if ((iotype & EV_READ) &&
        (ignore || buffer::from(b->pub.input)->length() >= b->pub.wm_read.low))
        run_readcb(b, options);
    if ((iotype & EV_WRITE) &&
        (ignore || buffer::from(b->pub.output)->length() <= b->pub.wm_write.low))
        run_writecb(b, options);
}

// ---- enabling ------------------------------------------------------------------------------

int enable(Bev *b, short what) noexcept {
    incref_and_lock(b);
    short impl = what;
    if (b->read_suspended) impl &= ~EV_READ;
    if (b->write_suspended) impl &= ~EV_WRITE;
    b->pub.enabled |= what;
    int r = 0;
    if (impl && b->pub.be_ops->enable(b, impl) < 0) r = -1;
    decref_and_unlock(b);
    return r;
}

int disable(Bev *b, short what) noexcept {
    lock(b);
    b->pub.enabled &= ~what;
    int r = b->pub.be_ops->disable(b, what) < 0 ? -1 : 0;
    unlock(b);
    return r;
}

void suspend_read(Bev *b, uint8_t why) noexcept {
    if (!b->read_suspended) b->pub.be_ops->disable(b, EV_READ);
    b->read_suspended |= why;
}

void unsuspend_read(Bev *b, uint8_t why) noexcept {
    if (!(b->read_suspended & why)) return;
    b->read_suspended &= ~why;
    if (!b->read_suspended && (b->pub.enabled & EV_READ)) b->pub.be_ops->enable(b, EV_READ);
}

void suspend_write(Bev *b, uint8_t why) noexcept {
    if (!b->write_suspended) b->pub.be_ops->disable(b, EV_WRITE);
    b->write_suspended |= why;
}

void unsuspend_write(Bev *b, uint8_t why) noexcept {
    if (!(b->write_suspended & why)) return;
    b->write_suspended &= ~why;
    if (!b->write_suspended && (b->pub.enabled & EV_WRITE)) b->pub.be_ops->enable(b, EV_WRITE);
}

// ---- watermarks ------------------------------------------------------------------------------

namespace {
// Runs on every change of the input buffer while a read high-water mark is set: pause
// reading at the mark, resume below it (the user drains bev->input directly).
void input_wm_cb(evbuffer *buf, const evbuffer_cb_info *, void *arg) noexcept {
    Bev *b = static_cast<Bev *>(arg);
    incref_and_lock(b);
    if (b->pub.wm_read.high) {
        if (evbuffer_get_length(buf) >= b->pub.wm_read.high) suspend_read(b, kSuspendWm);
        else unsuspend_read(b, kSuspendWm);
    }
    decref_and_unlock(b);
}
}  // namespace

void set_watermark(Bev *b, short events, size_t low, size_t high) noexcept {
    incref_and_lock(b);
    if (events & EV_WRITE) {
        b->pub.wm_write.low = low;
        b->pub.wm_write.high = high;
    }
    if (events & EV_READ) {
        b->pub.wm_read.low = low;
        b->pub.wm_read.high = high;
        // The input's entry for input_wm_cb is looked up, not kept in the Bev (8 bytes
        // per connection for a rarely used feature).
        buffer::Buffer *in = buffer::from(b->pub.input);
        evbuffer_cb_entry *wm_cb = in->find_cb(input_wm_cb, b);
        if (high) {
            if (!wm_cb) wm_cb = evbuffer_add_cb(b->pub.input, input_wm_cb, b);
            if (wm_cb) {
                // Must run at once even if the user defers the buffer's callbacks.
                evbuffer_lock(b->pub.input);
                wm_cb->flags |= buffer::kCbNoDefer;
                evbuffer_unlock(b->pub.input);
                evbuffer_cb_set_flags(b->pub.input, wm_cb, EVBUFFER_CB_ENABLED);
            }
            if (buffer::from(b->pub.input)->length() >= high) suspend_read(b, kSuspendWm);
            else unsuspend_read(b, kSuspendWm);
        } else {
            if (wm_cb) evbuffer_cb_clear_flags(b->pub.input, wm_cb, EVBUFFER_CB_ENABLED);
            unsuspend_read(b, kSuspendWm);
        }
    }
    decref_and_unlock(b);
}

// ---- timeouts -----------------------------------------------------------------------------------

int add_event(event *ev, const timeval *tv) noexcept {
    if (tv && (tv->tv_sec || tv->tv_usec)) return event_add(ev, tv);
    return event_add(ev, nullptr);
}

int set_timeouts(Bev *b, const timeval *tr, const timeval *tw) noexcept {
    lock(b);
    if (tr) b->pub.timeout_read = *tr;
    else b->pub.timeout_read = timeval{0, 0};
    if (tw) b->pub.timeout_write = *tw;
    else b->pub.timeout_write = timeval{0, 0};
    if (b->pub.be_ops->adj_timeouts) b->pub.be_ops->adj_timeouts(b);
    unlock(b);
    return 0;
}

namespace {
bool timeout_set(const timeval &tv) { return tv.tv_sec || tv.tv_usec; }

// A generic read/write timer expired: report it and disable that direction.
void generic_timeout(Bev *b, short dir) noexcept {
    incref_and_lock(b);
    if (!b->dead) {
        b->pub.enabled &= ~(dir == BEV_EVENT_READING ? EV_READ : EV_WRITE);
        b->pub.be_ops->disable(b, dir == BEV_EVENT_READING ? EV_READ : EV_WRITE);
        run_eventcb(b, static_cast<short>(BEV_EVENT_TIMEOUT | dir), 0);
    }
    decref_and_unlock(b);
}
}  // namespace

void generic_init_timeouts(Bev *b) noexcept {
    event_base *base = base_of(b);
    event_assign(&b->pub.ev_read, base, -1, 0,
                 [](evutil_socket_t, short, void *a) {
                     generic_timeout(static_cast<Bev *>(a), BEV_EVENT_READING);
                 }, b);
    event_assign(&b->pub.ev_write, base, -1, 0,
                 [](evutil_socket_t, short, void *a) {
                     generic_timeout(static_cast<Bev *>(a), BEV_EVENT_WRITING);
                 }, b);
}

void generic_arm(Bev *b, short what) noexcept {
    if ((what & EV_READ) && timeout_set(b->pub.timeout_read))
        event_add(&b->pub.ev_read, &b->pub.timeout_read);
    if ((what & EV_WRITE) && timeout_set(b->pub.timeout_write))
        event_add(&b->pub.ev_write, &b->pub.timeout_write);
}

void generic_disarm(Bev *b, short what) noexcept {
    if (what & EV_READ) event_del(&b->pub.ev_read);
    if (what & EV_WRITE) event_del(&b->pub.ev_write);
}

void generic_adj_timeouts(Bev *b) noexcept {
    if (event_pending(&b->pub.ev_read, EV_TIMEOUT, nullptr)) {
        if (timeout_set(b->pub.timeout_read)) event_add(&b->pub.ev_read, &b->pub.timeout_read);
        else event_del(&b->pub.ev_read);
    } else if ((b->pub.enabled & EV_READ) && !b->read_suspended) {
        generic_arm(b, EV_READ);
    }
    // The write timeout runs only while output waits (libevent: the same rule).
    if ((b->pub.enabled & EV_WRITE) && !b->write_suspended && timeout_set(b->pub.timeout_write) &&
        evbuffer_get_length(b->pub.output))
        event_add(&b->pub.ev_write, &b->pub.timeout_write);
    else
        event_del(&b->pub.ev_write);
}

// ---- free ----------------------------------------------------------------------------------------

void release(Bev *b) noexcept {
    lock(b);
    if (b->freed) {
        log::warn("bufferevent_free: %p freed twice", static_cast<void *>(b));
        unlock(b);
        return;
    }
    b->freed = true;
    // No callback runs after free, even one already queued.
    b->pub.readcb = nullptr;
    b->pub.writecb = nullptr;
    b->pub.errorcb = nullptr;
    b->pub.cbarg = nullptr;
    if (b->pub.be_ops->unlink) b->pub.be_ops->unlink(b);
    // A queued deferred callback has nothing left to call: take it back now, so the
    // object does not wait for (or, if the base goes first, outlive) the loop.
    if (b->deferred_queued && b->deferred->cancel()) {
        b->deferred_queued = false;
        b->readcb_pending = b->writecb_pending = false;
        b->eventcb_pending = 0;
        --b->refcnt;  // the queue's reference; the user's is dropped below
    }
    decref_and_unlock(b);
}

// ---- the table for add-on kinds (kit.h) -----------------------------------------------------

const Kit kKit = {
    init_common,
    destroy_unlinked,
    [](Bev *b) noexcept { lock(b); },
    [](Bev *b) noexcept { unlock(b); },
    decref_and_unlock,
    run_readcb,
    run_writecb,
    run_eventcb,
    trigger_nolock,
    suspend_read,
    unsuspend_read,
    generic_init_timeouts,
    generic_arm,
    generic_disarm,
    generic_adj_timeouts,
    release,
    base_of,
    socket_write_now,
    limit_max,
    decrement_read_buckets,
    decrement_write_buckets,
    rate_starved,
};

}  // namespace reevent::bev
