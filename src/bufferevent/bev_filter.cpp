// Filtering bufferevents: a bufferevent on top of another one ("underlying"). Bytes the
// underlying reads pass through the input filter into our input; bytes the user writes pass
// through the output filter into the underlying's output. We own the underlying's callback
// slots while we live, and hold a reference to it.
//
// Reading is driven by the underlying: it stays enabled there, and our disable/enable only
// adds/removes the kSuspendFilter reason on it. Our ev_read/ev_write are plain timers for
// the read/write timeouts.
#include "bufferevent/bev.h"
#include "bufferevent/kit.h"

#include "core/mm.h"

namespace reevent::bev {

namespace {

struct FilterBev : Bev {
    Bev *under = nullptr;
    bufferevent_filter_cb in_filter = nullptr;
    bufferevent_filter_cb out_filter = nullptr;
    void (*free_ctx)(void *) = nullptr;
    void *ctx = nullptr;
    bool got_eof = false;
    bool in_output = false;  // process_output is running: output added meanwhile waits for it
};

FilterBev *filter_of(Bev *b) noexcept { return static_cast<FilterBev *>(b); }

// A NULL filter moves everything unchanged.
bufferevent_filter_result apply(bufferevent_filter_cb f, evbuffer *src, evbuffer *dst,
                                ev_ssize_t limit, bufferevent_flush_mode mode, void *ctx) {
    if (f) return f(src, dst, limit, mode, ctx);
    if (evbuffer_get_length(src) == 0) return BEV_NEED_MORE;
    if (limit < 0) evbuffer_add_buffer(dst, src);
    else evbuffer_remove_buffer(src, dst, static_cast<size_t>(limit));
    return BEV_OK;
}

bool input_full(FilterBev *f) noexcept {
    return f->pub.wm_read.high && evbuffer_get_length(f->pub.input) >= f->pub.wm_read.high;
}

bool under_output_full(FilterBev *f) noexcept {
    Bev *u = f->under;
    return u->pub.wm_write.high && evbuffer_get_length(u->pub.output) >= u->pub.wm_write.high;
}

bufferevent_filter_result process_input(FilterBev *f, bufferevent_flush_mode mode,
                                        bool *any) noexcept {
    if (!(f->pub.enabled & EV_READ) || (mode == BEV_NORMAL && input_full(f))) return BEV_OK;
    bufferevent_filter_result res;
    do {
        ev_ssize_t limit = -1;
        if (mode == BEV_NORMAL && f->pub.wm_read.high)
            limit = static_cast<ev_ssize_t>(f->pub.wm_read.high -
                                            evbuffer_get_length(f->pub.input));
        res = apply(f->in_filter, f->under->pub.input, f->pub.input, limit, mode, f->ctx);
        if (res == BEV_OK) *any = true;
    } while (res == BEV_OK && (f->pub.enabled & EV_READ) &&
             evbuffer_get_length(f->under->pub.input) && !input_full(f));
    return res;
}

bufferevent_filter_result process_output(FilterBev *f, bufferevent_flush_mode mode,
                                         bool *any) noexcept {
    // Normal mode urges the filter only with output to give it (libevent: the same).
    if (mode == BEV_NORMAL && (!(f->pub.enabled & EV_WRITE) || f->write_suspended ||
                               !evbuffer_get_length(f->pub.output)))
        return BEV_OK;
    bufferevent_filter_result res = BEV_OK;
    Bev *u = f->under;
    // Output the filter itself (or a callback it runs) adds meanwhile is left to the loop
    // below, not filtered in a nested call (libevent disables its output callback here).
    const bool outer = f->in_output;
    f->in_output = true;
    do {
        ev_ssize_t limit = -1;
        if (u->pub.wm_write.high) {
            size_t len = evbuffer_get_length(u->pub.output);
            if (len >= u->pub.wm_write.high) {
                if (mode == BEV_NORMAL) break;
            } else {
                limit = static_cast<ev_ssize_t>(u->pub.wm_write.high - len);
            }
        }
        res = apply(f->out_filter, f->pub.output, u->pub.output, limit, mode, f->ctx);
        if (res == BEV_OK) *any = true;
    } while (res == BEV_OK && (f->pub.enabled & EV_WRITE) &&
             evbuffer_get_length(f->pub.output) && !under_output_full(f));
    f->in_output = outer;
    if (*any) {
        if (event_pending(&f->pub.ev_write, EV_TIMEOUT, nullptr)) generic_arm(f, EV_WRITE);
        if (evbuffer_get_length(f->pub.output) <= f->pub.wm_write.low)
            run_writecb(f, 0);
    }
    return res;
}

void read_from_under(FilterBev *f) noexcept {
    bool any = false;
    process_input(f, f->got_eof ? BEV_FINISHED : BEV_NORMAL, &any);
    if (any) {
        if (event_pending(&f->pub.ev_read, EV_TIMEOUT, nullptr)) generic_arm(f, EV_READ);
        trigger_nolock(f, EV_READ, 0);
    }
}

// ---- the underlying's callbacks -----------------------------------------------------------

void under_readcb(bufferevent *, void *arg) noexcept {
    FilterBev *f = static_cast<FilterBev *>(arg);
    incref_and_lock(f);
    if (!f->dead) read_from_under(f);
    decref_and_unlock(f);
}

void under_writecb(bufferevent *, void *arg) noexcept {
    FilterBev *f = static_cast<FilterBev *>(arg);
    incref_and_lock(f);
    bool any = false;
    if (!f->dead) process_output(f, BEV_NORMAL, &any);
    decref_and_unlock(f);
}

void under_eventcb(bufferevent *, short what, void *arg) noexcept {
    FilterBev *f = static_cast<FilterBev *>(arg);
    incref_and_lock(f);
    if (!f->dead) {
        if (what & BEV_EVENT_EOF) f->got_eof = true;
        run_eventcb(f, what, 0);
    }
    decref_and_unlock(f);
}

// ---- our own buffers ----------------------------------------------------------------------

void output_cb(evbuffer *, const evbuffer_cb_info *info, void *arg) noexcept {
    if (!info->n_added) return;
    FilterBev *f = static_cast<FilterBev *>(arg);
    incref_and_lock(f);
    bool any = false;
    if (!f->dead && !f->in_output) process_output(f, BEV_NORMAL, &any);
    decref_and_unlock(f);
}

// The user drained our input: there may be room for what waits in the underlying's input.
void input_cb(evbuffer *, const evbuffer_cb_info *info, void *arg) noexcept {
    if (!info->n_deleted) return;
    FilterBev *f = static_cast<FilterBev *>(arg);
    incref_and_lock(f);
    if (!f->dead && evbuffer_get_length(f->under->pub.input)) read_from_under(f);
    decref_and_unlock(f);
}

// ---- ops ---------------------------------------------------------------------------------

int filter_enable(Bev *b, short what) noexcept {
    FilterBev *f = filter_of(b);
    generic_arm(f, what);
    if (what & EV_READ) {
        lock(f->under);
        unsuspend_read(f->under, kSuspendFilter);
        unlock(f->under);
        // Input may already be waiting below.
        if (evbuffer_get_length(f->under->pub.input)) read_from_under(f);
    }
    if ((what & EV_WRITE) && evbuffer_get_length(f->pub.output)) {
        bool any = false;
        process_output(f, BEV_NORMAL, &any);
    }
    return 0;
}

int filter_disable(Bev *b, short what) noexcept {
    FilterBev *f = filter_of(b);
    generic_disarm(f, what);
    if (what & EV_READ) {
        lock(f->under);
        suspend_read(f->under, kSuspendFilter);
        unlock(f->under);
    }
    return 0;
}

void filter_unlink(Bev *b) noexcept {
    FilterBev *f = filter_of(b);
    Bev *u = f->under;
    if (f->options & BEV_OPT_CLOSE_ON_FREE) {
        // The user's reference to the underlying goes with us (ours goes in destruct).
        release(u);
    } else {
        lock(u);
        if (u->pub.errorcb == under_eventcb) {
            u->pub.readcb = nullptr;
            u->pub.writecb = nullptr;
            u->pub.errorcb = nullptr;
            u->pub.cbarg = nullptr;
        }
        unsuspend_read(u, kSuspendFilter);
        unlock(u);
    }
}

void filter_destruct(Bev *b) noexcept {
    FilterBev *f = filter_of(b);
    if (f->free_ctx) f->free_ctx(f->ctx);
    f->free_ctx = nullptr;
    if (Bev *u = f->under) {
        f->under = nullptr;
        lock(u);
        decref_and_unlock(u);
    }
}

int filter_flush(Bev *b, short iotype, bufferevent_flush_mode mode) noexcept {
    FilterBev *f = filter_of(b);
    bool any = false;
    if (iotype & EV_READ) {
        bool in_any = false;
        process_input(f, mode, &in_any);
        if (in_any) trigger_nolock(f, EV_READ, 0);
        any = any || in_any;
    }
    if (iotype & EV_WRITE) process_output(f, mode, &any);
    Bev *u = f->under;
    incref_and_lock(u);
    u->pub.be_ops->flush(u, iotype, mode);
    decref_and_unlock(u);
    return any ? 1 : 0;
}

int filter_get_fd(Bev *b) noexcept {
    Bev *u = filter_of(b)->under;
    return u ? u->pub.be_ops->get_fd(u) : -1;
}

int filter_set_fd(Bev *b, int fd) noexcept {
    Bev *u = filter_of(b)->under;
    return u ? u->pub.be_ops->set_fd(u, fd) : -1;
}

Bev *filter_underlying(Bev *b) noexcept { return filter_of(b)->under; }

}  // namespace

const bufferevent_ops kFilterOps = {
    "filter",     filter_enable, filter_disable,  filter_unlink,      filter_destruct,
    generic_adj_timeouts, filter_flush, filter_get_fd, filter_set_fd, filter_underlying, nullptr, &kKit,
};

bufferevent *filter_new(Bev *u, bufferevent_filter_cb in, bufferevent_filter_cb out,
                        int options, void (*free_ctx)(void *), void *ctx) noexcept {
    FilterBev *f = mm::make<FilterBev>();
    if (!f) return nullptr;
    // A thread-safe filter shares the underlying's lock when it has one.
    if (!init_common(f, base_of(u), &kFilterOps, options, u->lock)) {
        destroy_unlinked(f);
        return nullptr;
    }
    f->pub.ev_base = u->pub.ev_base;
    generic_init_timeouts(f);
    f->under = u;
    f->in_filter = in;
    f->out_filter = out;
    f->free_ctx = free_ctx;
    f->ctx = ctx;
    if (!evbuffer_add_cb(f->pub.output, output_cb, f) ||
        !evbuffer_add_cb(f->pub.input, input_cb, f)) {
        f->under = nullptr;
        f->free_ctx = nullptr;
        destroy_unlinked(f);
        return nullptr;
    }
    incref_and_lock(u);
    u->pub.readcb = under_readcb;
    u->pub.writecb = under_writecb;
    u->pub.errorcb = under_eventcb;
    u->pub.cbarg = f;
    unlock(u);
    enable(u, EV_READ | EV_WRITE);
    lock(u);
    suspend_read(u, kSuspendFilter);
    unlock(u);
    return handle(f);
}

}  // namespace reevent::bev
