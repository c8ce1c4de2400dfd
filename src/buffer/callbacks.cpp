// evbuffer lifetime, locking, flags, freezing and change callbacks.
//
// Callbacks learn what changed since they last ran (evbuffer_cb_info). They run inside the
// modifying call, with the buffer's lock held (libevent documents this), or - after
// evbuffer_defer_callbacks - from the base's loop through a core::Deferred. Callbacks
// flagged kCbNoDefer (bufferevent's) always run at once. A freed buffer runs no callbacks.
#include "buffer/evbuffer.h"

#include "core/mm.h"

#if REEVENT_BUFFER_HAS_DEFERRED
#include "core/deferred.h"
#endif
#if REEVENT_BUFFER_HAS_EVTHREAD
#include "core/evthread.h"
#endif

namespace reevent::buffer {

// ---- lifetime ------------------------------------------------------------------------------

Buffer::~Buffer() {
    while (callbacks_) {
        evbuffer_cb_entry *e = callbacks_;
        callbacks_ = e->next;
        mm::free(e);
    }
    if (!owned()) return;
    State *st = s_;
    free_all_segments();
    for (Block *&sp : st->spare_) {
        if (sp) block_unref(sp);
        sp = nullptr;
    }
#if REEVENT_BUFFER_HAS_DEFERRED
    mm::destroy(st->deferred_);
    st->deferred_ = nullptr;
#endif
    if (own_lock_) mm::destroy(st->lock_);
    // Back to the idle condition of the State cache: the next buffer takes it from there
    // (a server's connections come and go).
    st->lock_ = nullptr;
    st->user_lock_ = nullptr;
    st->n_added_ = st->n_deleted_ = 0;
    s_ = empty_state();
    state_cache_put(st);
}

// The header stays one 32-byte malloc chunk (24 usable bytes).
static_assert(sizeof(evbuffer) == 24);

void Buffer::incref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }

void Buffer::decref() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
        mm::destroy(static_cast<evbuffer *>(this));
}

void Buffer::release() noexcept {
    bool drop_deferred = false;
    lock();
    dead_ = true;
#if REEVENT_BUFFER_HAS_DEFERRED
    // A queued deferred run holds a reference; taking it off the queue gives that back.
    if (s_->deferred_ && s_->deferred_->cancel()) drop_deferred = true;
#endif
    unlock();
    if (drop_deferred) decref();
    decref();
}

// ---- locking ---------------------------------------------------------------------------------

int Buffer::enable_locking(void *user_lock) noexcept {
    if (locking()) return -1;
    if (!own()) return -1;
    if (user_lock) {
#if REEVENT_BUFFER_HAS_EVTHREAD
        s_->user_lock_ = user_lock;
        update_plain();
        return 0;
#else
        // The evthread hooks are not built: our own lock still makes the buffer safe.
#endif
    }
    core::Lock *l = mm::make<core::Lock>();
    if (!l) return -1;
    s_->lock_ = l;
    own_lock_ = true;
    update_plain();
    return 0;
}

bool Buffer::use_lock(core::Lock *shared) noexcept {
    if (!shared && !locking()) return true;
    if (!own()) return false;
    if (own_lock_) mm::destroy(s_->lock_);
    s_->lock_ = shared;
    own_lock_ = false;
    s_->user_lock_ = nullptr;
    update_plain();
    return true;
}

void Buffer::lock_user() noexcept {
#if REEVENT_BUFFER_HAS_EVTHREAD
    core::evthread::user_lock(0, s_->user_lock_);
#endif
}

void Buffer::unlock_user() noexcept {
#if REEVENT_BUFFER_HAS_EVTHREAD
    core::evthread::user_unlock(0, s_->user_lock_);
#endif
}

// ---- flags and freezing ------------------------------------------------------------------------

int Buffer::set_flags(uint64_t f) noexcept {
    Guard g(this);
    flags_ |= f & EVBUFFER_FLAG_DRAINS_TO_FD;
    return 0;
}

int Buffer::clear_flags(uint64_t f) noexcept {
    Guard g(this);
    flags_ &= ~(f & EVBUFFER_FLAG_DRAINS_TO_FD);
    return 0;
}

int Buffer::freeze(bool at_front) noexcept {
    Guard g(this);
    if (at_front)
        freeze_front_ = true;
    else
        freeze_back_ = true;
    update_plain();
    return 0;
}

int Buffer::unfreeze(bool at_front) noexcept {
    Guard g(this);
    if (at_front)
        freeze_front_ = false;
    else
        freeze_back_ = false;
    update_plain();
    return 0;
}

// ---- callbacks -------------------------------------------------------------------------------

evbuffer_cb_entry *Buffer::add_cb(evbuffer_cb_func fn, void *arg) noexcept {
    Guard g(this);
    auto *e = static_cast<evbuffer_cb_entry *>(mm::malloc(sizeof(evbuffer_cb_entry)));
    if (!e) return nullptr;
    e->cb.fn = fn;
    e->arg = arg;
    e->flags = kCbEnabled;
    // Newest first, as libevent orders them.
    e->next = callbacks_;
    callbacks_ = e;
    update_plain();
    return e;
}

void Buffer::sweep_callbacks() noexcept {
    evbuffer_cb_entry **pp = &callbacks_;
    while (*pp) {
        evbuffer_cb_entry *e = *pp;
        if (e->flags & kCbRemoved) {
            *pp = e->next;
            mm::free(e);
        } else {
            pp = &e->next;
        }
    }
    cb_needs_sweep_ = false;
    update_plain();
}

int Buffer::remove_cb_entry(evbuffer_cb_entry *ent) noexcept {
    Guard g(this);
    for (evbuffer_cb_entry **pp = &callbacks_; *pp; pp = &(*pp)->next) {
        if (*pp != ent) continue;
        if (ent->flags & kCbRemoved) return -1;
        if (cb_running_) {
            // A running loop may hold a pointer to it: unlink after the loop.
            ent->flags |= kCbRemoved;
            cb_needs_sweep_ = true;
        } else {
            *pp = ent->next;
            mm::free(ent);
            update_plain();
        }
        return 0;
    }
    return -1;
}

evbuffer_cb_entry *Buffer::find_cb(evbuffer_cb_func fn, void *arg) noexcept {
    Guard g(this);
    for (evbuffer_cb_entry *e = callbacks_; e; e = e->next) {
        if (e->flags & (kCbRemoved | kCbObsolete)) continue;
        if (e->cb.fn == fn && e->arg == arg) return e;
    }
    return nullptr;
}

int Buffer::remove_cb(evbuffer_cb_func fn, void *arg) noexcept {
    Guard g(this);
    for (evbuffer_cb_entry *e = callbacks_; e; e = e->next) {
        if (e->flags & (kCbRemoved | kCbObsolete)) continue;
        if (e->cb.fn == fn && e->arg == arg) return remove_cb_entry(e);
    }
    return -1;
}

int Buffer::cb_set_flags(evbuffer_cb_entry *ent, uint32_t flags) noexcept {
    Guard g(this);
    ent->flags |= flags & kCbPublicFlags;
    return 0;
}

int Buffer::cb_clear_flags(evbuffer_cb_entry *ent, uint32_t flags) noexcept {
    Guard g(this);
    ent->flags &= ~(flags & kCbPublicFlags);
    return 0;
}

int Buffer::setcb(evbuffer_cb fn, void *arg) noexcept {
    Guard g(this);
    for (evbuffer_cb_entry *e = callbacks_; e; e = e->next) {
        if (!(e->flags & kCbRemoved)) {
            e->flags |= kCbRemoved;
            cb_needs_sweep_ = true;
        }
    }
    if (!cb_running_) sweep_callbacks();
    if (!fn) return 0;
    evbuffer_cb_entry *e = add_cb(nullptr, arg);
    if (!e) return -1;
    e->cb.obsolete = fn;
    e->flags |= kCbObsolete;
    return 0;
}

// flatten keeps run_callbacks inline in both branches (it has another caller, the deferred
// run): called out of line it cost bufferevent/epoll/pair/size:64 34 instructions per
// iteration (callgrind: 1586 against 1552).
[[gnu::flatten]] void Buffer::invoke_callbacks_slow() noexcept {
#if REEVENT_BUFFER_HAS_DEFERRED
    if (deferred_cbs_ && s_->deferred_ && !dead_) {
        run_callbacks(false);  // only the no-defer ones (the counts stay for the deferred run)
        // Queued last, with the reference deferred_cb drops taken first: a loop in another
        // thread may run it at once (a buffer without a lock filled from that other
        // thread); dropping a reference not yet taken would free the buffer, and counts
        // read here after the queueing would race with that run.
        incref();
        if (!s_->deferred_->schedule()) decref();
        return;
    }
#endif
    run_callbacks(false);
}

void Buffer::run_callbacks(bool running_deferred) noexcept {
    if (dead_) return;
    uint32_t mask = kCbEnabled, want = kCbEnabled;
    bool clear = true;
    if (running_deferred) {
        // The loop runs the deferrable callbacks.
        mask = kCbNoDefer | kCbEnabled;
        want = kCbEnabled;
    } else if (deferred_cbs_) {
        // Only the no-defer ones run now; the counts stay for the deferred run.
        mask = kCbNoDefer | kCbEnabled;
        want = kCbNoDefer | kCbEnabled;
        clear = false;
    }
    if (!callbacks_) {
        clear_counts();
        return;
    }
    if (!s_->n_added_ && !s_->n_deleted_) return;
    evbuffer_cb_info info;
    size_t new_size = s_->total_;
    info.orig_size = new_size + s_->n_deleted_ - s_->n_added_;
    info.n_added = s_->n_added_;
    info.n_deleted = s_->n_deleted_;
    if (clear) s_->n_added_ = s_->n_deleted_ = 0;
    ++cb_running_;
    evbuffer *self = to_handle(this);
    for (evbuffer_cb_entry *e = callbacks_, *next; e; e = next) {
        next = e->next;
        if ((e->flags & kCbRemoved) || (e->flags & mask) != want) continue;
        if (e->flags & kCbObsolete)
            e->cb.obsolete(self, info.orig_size, new_size, e->arg);
        else
            e->cb.fn(self, &info, e->arg);
    }
    if (--cb_running_ == 0 && cb_needs_sweep_) sweep_callbacks();
}

#if REEVENT_BUFFER_HAS_DEFERRED
void Buffer::deferred_cb(core::Deferred *, void *arg) noexcept {
    auto *b = static_cast<Buffer *>(arg);
    b->lock();
    b->run_callbacks(true);
    b->unlock();
    b->decref();
}

int Buffer::defer_callbacks(event_base *base) noexcept {
    Guard g(this);
    if (!base) return -1;
    if (!own()) return -1;
    if (!s_->deferred_) {
        s_->deferred_ = mm::make<core::Deferred>();
        if (!s_->deferred_) return -1;
    } else if (s_->deferred_->scheduled()) {
        return s_->deferred_->base() == base ? 0 : -1;
    }
    s_->deferred_->init(base, &Buffer::deferred_cb, this);
    deferred_cbs_ = true;
    return 0;
}
#endif

}  // namespace reevent::buffer
