// The TLS bufferevent kind (see ssl_bev.h for the design).
//
// Flow: ciphertext arrives in the underlying's input -> under_readcb -> the handshake step
// or SSL_read into our input -> the user's read callback. The user's output -> SSL_write
// -> the BIO appends ciphertext to the underlying's output, which writes it out. SSL_write
// is fed only while the underlying's output holds less than kBacklog, and again when that
// output drains (under_writecb), so a producer cannot pile up encrypted bytes.
//
// The user's write callback never runs inside the call that added output (a write callback
// that frees the bufferevent would free it under its caller). The filter encrypts at once
// and defers the write callback, as libevent does. The socket flavour, like libevent's,
// leaves output the program adds queued until the loop: added while one of our handlers
// runs (the user's read callback answering, the echo path), it is encrypted when that
// handler's user callback has returned, in the same handler (no extra syscall); added from
// elsewhere, `flush_ev` is made active and encrypts it from the loop. Its write callback
// runs from under_writecb, once the hidden socket has handed all the ciphertext to the
// kernel: freeing the bufferevent there loses nothing.
//
// Callers of the static helpers hold the lock and a reference.
#include "ssl/ssl_bev.h"

#include <event2/buffer.h>

#include <openssl/err.h>

#include <new>

#include "core/mm_abi.h"
#include "ssl/link_bio.h"

namespace reevent::ssl {

namespace {

using bev::Bev;
using bev::Kit;

// One TLS record of plaintext per SSL_read / SSL_write.
constexpr size_t kChunk = 16384;
// Ciphertext the underlying may hold before we stop encrypting more.
constexpr size_t kBacklog = 4 * kChunk;
// libevent keeps the last three OpenSSL errors of a bufferevent.
constexpr int kMaxErrors = 3;

struct SslBev : Bev {
    const Kit *kit = nullptr;
    Bev *under = nullptr;  // we hold a reference until destruct
    SSL *ssl = nullptr;
    unsigned long errors[kMaxErrors] = {};
    size_t retry_len = 0;  // an SSL_write to repeat with this length (OpenSSL's rule)
    uint8_t n_errors = 0;
    bool own_under = false;  // the socket flavour: `under` is ours and hidden
    bool handshaking = false;
    // Socket flavour: the user disabled EV_READ during the handshake, which waits until
    // EV_READ is enabled (libevent's handshake reads on its own, but stops when told to).
    bool hs_read_off = false;
    // How it was created: libevent starts that handshake again on every new socket.
    bufferevent_ssl_state initial_state = BUFFEREVENT_SSL_OPEN;
    bool allow_dirty = false;
    bool failed = false;  // a fatal error was reported: the SSL must not be used again
    bool read_closed = false;  // close_notify or EOF reported
    bool in_read = false, read_again = false;
    bool in_write = false, write_again = false;
    // Socket flavour: plaintext was encrypted since the last write callback, which runs
    // when the hidden socket's output has drained (under_writecb).
    bool wrote = false;
    // Socket flavour: output the program added while one of our handlers ran (in_handler
    // deep); the outermost handler encrypts it on its way out.
    bool flush_pending = false;
    uint8_t in_handler = 0;
    // Socket flavour: made active to encrypt output added outside our handlers.
    event flush_ev{};
    // The link of our BIO while OpenSSL has it (null once the caller replaced it).
    Link *lk = nullptr;
    // Socket flavour, "direct" mode: the SSL's BIO is the caller's (set before creation on
    // the fd, or put in with SSL_set_bio afterwards). It reads and writes the fd itself; the
    // hidden socket stops reading (it still connects, and writes out what our BIO had
    // queued before the switch), and io_rd / io_wr watch the fd's readiness for the SSL.
    bool direct = false;
    bool kick = false;        // flush_cb makes one full pass (just switched to direct mode)
    short last_want = 0;      // EV_READ / EV_WRITE: what the last refused SSL call waits for
    short hs_want = EV_READ;  // direct mode: what the handshake waits for
    short rd_want = EV_READ;  // ... what SSL_read waits for
    short wr_want = 0;        // ... what a refused SSL_write waits for (0: none refused)
    bool io_assigned = false;
    int io_fd = -1;
    event io_rd{}, io_wr{};
};

extern const bufferevent_ops kSslOps;

SslBev *ssl_of(Bev *b) noexcept {
    return b && b->pub.be_ops == &kSslOps ? static_cast<SslBev *>(b) : nullptr;
}

const Kit *kit_of(Bev *b) noexcept {
    if (SslBev *s = ssl_of(b)) return s->kit;
    return b->pub.be_ops->kit;
}

Link *link(SslBev *s) noexcept { return s->lk; }

void direct_arm(SslBev *s) noexcept;

void save_errors(SslBev *s) noexcept {
    while (unsigned long e = ERR_get_error()) {
        if (s->n_errors == kMaxErrors) {
            for (int i = 1; i < kMaxErrors; ++i) s->errors[i - 1] = s->errors[i];
            --s->n_errors;
        }
        s->errors[s->n_errors++] = e;
    }
}

void run_event(SslBev *s, short what) noexcept { s->kit->run_eventcb(s, what, 0); }

// Reading from the underlying is wanted during the handshake (unless the user disabled
// EV_READ in it) and while our reading is on.
void update_under_reading(SslBev *s) noexcept {
    // In direct mode the caller's BIO reads the fd, never the hidden socket.
    const bool want = !s->direct && !s->failed && (s->handshaking ? !s->hs_read_off
                                                    : ((s->pub.enabled & EV_READ) &&
                                                       !s->read_suspended && !s->read_closed));
    Bev *u = s->under;
    s->kit->lock(u);
    if (want) s->kit->unsuspend_read(u, bev::kSuspendFilter);
    else s->kit->suspend_read(u, bev::kSuspendFilter);
    s->kit->unlock(u);
    direct_arm(s);
}

// A fatal error: stop both directions, then tell the user.
void fail(SslBev *s, short what) noexcept {
    s->failed = true;
    s->pub.enabled &= ~(EV_READ | EV_WRITE);
    s->kit->generic_disarm(s, EV_READ | EV_WRITE);
    update_under_reading(s);
    run_event(s, static_cast<short>(what | BEV_EVENT_ERROR));
}

// What an SSL call's failure means. 0: wait for more bytes; otherwise the event to report
// (EOF or ERROR with `dir`).
short classify(SslBev *s, int r, short dir) noexcept {
    const int e = SSL_get_error(s->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        s->last_want = e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE;
        return 0;
    }
    if (e == SSL_ERROR_ZERO_RETURN) return static_cast<short>(dir | BEV_EVENT_EOF);
    // A transport that ended without close_notify: OpenSSL 3 says SSL_ERROR_SSL with
    // "unexpected eof", older ones SSL_ERROR_SYSCALL with an empty queue.
    // (In direct mode the caller's BIO met the end itself: SSL_read returned 0.)
    Link *l = link(s);
    const unsigned long top = ERR_peek_error();
    const bool at_eof = s->direct ? r == 0 : (l && l->eof);
    const bool dirty = at_eof &&
                       ((e == SSL_ERROR_SYSCALL && top == 0) ||
                        (e == SSL_ERROR_SSL &&
                         ERR_GET_REASON(top) == SSL_R_UNEXPECTED_EOF_WHILE_READING));
    save_errors(s);
    if (dirty && s->allow_dirty && !s->handshaking) {
        // Reported as an end, but the SSL is in error all the same: nothing more moves
        // (OpenSSL may still queue an alert, which must not turn into a second report).
        s->failed = true;
        return static_cast<short>(dir | BEV_EVENT_EOF);
    }
    return static_cast<short>(dir | BEV_EVENT_ERROR);
}

void write_out(SslBev *s, bool all) noexcept;
void read_in(SslBev *s) noexcept;

// 1: the handshake is done (CONNECTED was reported), 0: it waits for the peer, -1: failed.
int handshake_step(SslBev *s) noexcept {
    if (s->failed) return -1;
    if (!s->handshaking) return 1;
    // Direct mode: what our BIO queued before the switch goes out first (under_writecb).
    if (s->direct && evbuffer_get_length(s->under->pub.output)) return 0;
    ERR_clear_error();
    const int r = SSL_do_handshake(s->ssl);
    if (r == 1) {
        s->handshaking = false;
        update_under_reading(s);
        s->kit->run_eventcb(s, BEV_EVENT_CONNECTED, 0);
        if (s->freed || s->dead) return 1;
        write_out(s, false);
        read_in(s);
        return 1;
    }
    const short what = classify(s, r, 0);
    if (!what) {
        s->hs_want = s->last_want;
        direct_arm(s);
        return 0;
    }
    fail(s, static_cast<short>(what & ~BEV_EVENT_EOF));
    return -1;
}

// One pass of SSL_read into our input; the terminal event, if any, is returned.
short read_pass(SslBev *s, bool *any) noexcept {
    evbuffer *in = s->pub.input;
    for (;;) {
        if (!(s->pub.enabled & EV_READ) || s->read_suspended) return 0;
        size_t want = kChunk;
        if (s->rate || s->max_single_read) {
            const ssize_t m = s->kit->limit_max(s, false);
            if (m <= 0) {
                s->kit->rate_starved(s, false);  // reading resumes when the buckets refill
                return 0;
            }
            if (static_cast<size_t>(m) < want) want = static_cast<size_t>(m);
        }
        if (s->pub.wm_read.high) {
            const size_t len = evbuffer_get_length(in);
            if (len >= s->pub.wm_read.high) return 0;
            if (s->pub.wm_read.high - len < want) want = s->pub.wm_read.high - len;
        }
        evbuffer_iovec v;
        if (evbuffer_reserve_space(in, static_cast<ev_ssize_t>(want), &v, 1) < 1) return 0;
        if (v.iov_len > want) v.iov_len = want;
        ERR_clear_error();
        const int r = SSL_read(s->ssl, v.iov_base, static_cast<int>(v.iov_len));
        if (r > 0) {
            v.iov_len = static_cast<size_t>(r);
            evbuffer_commit_space(in, &v, 1);
            if (s->rate) s->kit->decrement_read_buckets(s, r);
            *any = true;
            // Our BIO reads only the underlying's input: with that empty and nothing buffered
            // in OpenSSL, another SSL_read could only say WANT_READ (half of all SSL_read
            // calls in the TLS echo benchmark). The next ciphertext calls us again.
            if (!SSL_has_pending(s->ssl) && !s->direct) {
                const Link *l = link(s);
                if (l && l->under && !l->eof && evbuffer_get_length(l->under->pub.input) == 0)
                    return 0;
            }
            continue;
        }
        evbuffer_commit_space(in, &v, 0);
        const short what = classify(s, r, BEV_EVENT_READING);
        if (!what) s->rd_want = s->last_want;
        return what;
    }
}

void read_in(SslBev *s) noexcept {
    if (s->in_read) {
        s->read_again = true;  // the running loop goes round once more
        return;
    }
    s->in_read = true;
    short what = 0;
    do {
        s->read_again = false;
        if (s->handshaking || s->failed || s->read_closed || s->freed || s->dead) break;
        bool any = false;
        what = read_pass(s, &any);
        if (any) {
            if (event_pending(&s->pub.ev_read, EV_TIMEOUT, nullptr)) s->kit->generic_arm(s, EV_READ);
            s->kit->trigger_nolock(s, EV_READ, 0);
        }
    } while (!what && s->read_again);
    s->in_read = false;
    if (!what || s->freed || s->dead) {
        direct_arm(s);
        return;
    }
    if (what & BEV_EVENT_ERROR) {
        fail(s, static_cast<short>(what & ~BEV_EVENT_ERROR));
        return;
    }
    // close_notify (or an allowed dirty end): reading is over, writing may go on. The
    // enabled flags stay as they are (libevent leaves EV_READ on too).
    s->read_closed = true;
    s->kit->generic_disarm(s, EV_READ);
    update_under_reading(s);
    run_event(s, what);
}

// One pass of SSL_write from our output; the terminal event, if any, is returned.
short write_pass(SslBev *s, bool all, bool *any) noexcept {
    evbuffer *out = s->pub.output;
    for (;;) {
        if (!(s->pub.enabled & EV_WRITE) || s->write_suspended) return 0;
        const size_t len = evbuffer_get_length(out);
        if (!len) return 0;
        if (!all && evbuffer_get_length(s->under->pub.output) >= kBacklog) return 0;
        // Direct mode: what our BIO queued before the switch goes out first.
        if (s->direct && evbuffer_get_length(s->under->pub.output)) return 0;
        // A write that wanted to be repeated is repeated with the same length.
        size_t n = s->retry_len ? s->retry_len : (len < kChunk ? len : kChunk);
        if (n > len) n = len;
        if (!s->retry_len && (s->rate || s->max_single_write)) {
            const ssize_t m = s->kit->limit_max(s, true);
            if (m <= 0) {
                s->kit->rate_starved(s, true);  // writing resumes when the buckets refill
                return 0;
            }
            if (static_cast<size_t>(m) < n) n = static_cast<size_t>(m);
        }
        unsigned char *p = evbuffer_pullup(out, static_cast<ev_ssize_t>(n));
        if (!p) return 0;
        ERR_clear_error();
        const int r = SSL_write(s->ssl, p, static_cast<int>(n));
        if (r > 0) {
            s->retry_len = 0;
            s->wr_want = 0;
            evbuffer_drain(out, static_cast<size_t>(r));
            if (s->rate) s->kit->decrement_write_buckets(s, r);
            *any = true;
            continue;
        }
        const short what = classify(s, r, BEV_EVENT_WRITING);
        if (!what) {
            s->retry_len = n;
            s->wr_want = s->last_want;
        }
        return what;
    }
}

void write_out(SslBev *s, bool all) noexcept {
    if (s->in_write) {
        s->write_again = true;
        return;
    }
    s->in_write = true;
    short what = 0;
    do {
        s->write_again = false;
        if (s->handshaking || s->failed || s->freed || s->dead) break;
        bool any = false;
        what = write_pass(s, all, &any);
        if (any) {
            if (event_pending(&s->pub.ev_write, EV_TIMEOUT, nullptr)) {
                if (evbuffer_get_length(s->pub.output)) s->kit->generic_arm(s, EV_WRITE);
                else s->kit->generic_disarm(s, EV_WRITE);
            }
            // The filter's write callback is deferred (libevent's is too); the socket
            // flavour's waits for the hidden socket to drain (under_writecb). In direct mode
            // the ciphertext is where the caller's BIO put it (the kernel): its turn now,
            // from one of our handlers, else deferred.
            if (s->direct)
                s->kit->trigger_nolock(s, EV_WRITE, s->in_handler ? 0 : BEV_OPT_DEFER_CALLBACKS);
            else if (s->own_under) s->wrote = true;
            else s->kit->trigger_nolock(s, EV_WRITE, BEV_OPT_DEFER_CALLBACKS);
        }
    } while (!what && s->write_again);
    s->in_write = false;
    if (what && !s->freed && !s->dead) fail(s, static_cast<short>(what & ~(BEV_EVENT_ERROR | BEV_EVENT_EOF)));
    else direct_arm(s);
}

// Our handlers (the underlying's callbacks and flush_ev's) bracket their work with these:
// output the program adds meanwhile is encrypted on the way out of the outermost one.
void enter(SslBev *s) noexcept { ++s->in_handler; }
void leave(SslBev *s) noexcept {
    // (Still inside the handler while encrypting: a direct-mode write callback runs now.)
    while (s->in_handler == 1 && s->flush_pending) {
        s->flush_pending = false;
        if (!s->freed && !s->dead) write_out(s, false);
    }
    --s->in_handler;
}

// Output to encrypt (added by the program, or writing enabled): the filter does it now, as
// libevent's does; the socket flavour from the loop (see the top of the file).
void request_write(SslBev *s) noexcept {
    if (!s->own_under) {
        write_out(s, false);
        return;
    }
    if (s->handshaking || s->failed || s->freed || s->dead) return;  // the handshake's end writes
    if (s->in_handler) {
        s->flush_pending = true;
        return;
    }
    if (!evbuffer_get_length(s->pub.output)) return;
    if (!event_pending(&s->flush_ev, EV_WRITE, nullptr)) event_active(&s->flush_ev, EV_WRITE, 1);
}

// An event handler's entry: the lock and a reference, unless the bufferevent is already
// being torn down (then nothing is held and false is returned).
bool lock_live(SslBev *s) noexcept {
    s->kit->lock(s);
    if (s->dead) {
        s->kit->unlock(s);
        return false;
    }
    ++s->refcnt;
    return true;
}

void flush_cb(evutil_socket_t, short, void *arg) noexcept {
    SslBev *s = static_cast<SslBev *>(arg);
    if (!lock_live(s)) return;
    enter(s);
    if (s->kick && !s->freed) {
        // Just switched to direct mode: plaintext OpenSSL already holds is read now; the
        // rest (and the handshake) waits for the fd's readiness, as libevent's does.
        s->kick = false;
        if (!s->handshaking && SSL_has_pending(s->ssl)) read_in(s);
    }
    if (!s->freed && !s->dead) write_out(s, false);
    leave(s);
    s->kit->decref_and_unlock(s);
}

// ---- direct mode ---------------------------------------------------------------------------

// The fd's readiness, in direct mode: what the SSL waits for makes progress now.
void io_cb(evutil_socket_t, short what, void *arg) noexcept {
    SslBev *s = static_cast<SslBev *>(arg);
    if (!lock_live(s)) return;
    if (!s->freed && s->direct && !s->failed) {
        enter(s);
        if (s->handshaking) {
            handshake_step(s);
        } else {
            if (what & s->rd_want) read_in(s);
            if ((what & s->wr_want) && !s->freed && !s->dead) write_out(s, false);
        }
        leave(s);
        direct_arm(s);
    }
    s->kit->decref_and_unlock(s);
}

void set_io(event *ev, bool on) noexcept {
    const bool pending = event_pending(ev, EV_READ | EV_WRITE, nullptr) != 0;
    if (on && !pending) event_add(ev, nullptr);
    else if (!on && pending) event_del_noblock(ev);
}

void io_stop(SslBev *s) noexcept {
    if (!s->io_assigned) return;
    event_del_noblock(&s->io_rd);
    event_del_noblock(&s->io_wr);
}

// Watches the fd for what the SSL waits for (direct mode only; a no-op otherwise).
void direct_arm(SslBev *s) noexcept {
    if (!s->direct || s->freed || s->dead) return;
    Bev *u = s->under;
    const int fd = u->pub.be_ops->get_fd(u);
    if (!s->io_assigned || fd != s->io_fd) {
        io_stop(s);
        s->io_assigned = false;
        s->io_fd = fd;
        if (fd < 0) return;
        event_assign(&s->io_rd, u->pub.ev_base, fd, EV_READ | EV_PERSIST, io_cb, s);
        event_assign(&s->io_wr, u->pub.ev_base, fd, EV_WRITE | EV_PERSIST, io_cb, s);
        s->io_assigned = true;
    }
    short want = 0;
    // Nothing while the hidden socket connects or still writes what our BIO queued.
    if (!s->failed && !u->connecting && !evbuffer_get_length(u->pub.output)) {
        if (s->handshaking) {
            if (!s->hs_read_off) want = s->hs_want;
        } else {
            if ((s->pub.enabled & EV_READ) && !s->read_suspended && !s->read_closed)
                want |= s->rd_want;
            if ((s->pub.enabled & EV_WRITE) && !s->write_suspended) want |= s->wr_want;
        }
    }
    set_io(&s->io_rd, want & EV_READ);
    set_io(&s->io_wr, want & EV_WRITE);
}

// The caller's BIO is the SSL's now: stop the hidden socket's reading, watch the fd.
void go_direct(SslBev *s) noexcept {
    if (s->direct || !s->own_under || s->freed || s->dead) return;
    s->direct = true;
    s->rd_want = EV_READ;
    s->hs_want = EV_READ | EV_WRITE;
    s->wr_want = 0;
    s->kick = true;
    update_under_reading(s);
    if (!event_pending(&s->flush_ev, EV_WRITE, nullptr)) event_active(&s->flush_ev, EV_WRITE, 1);
}

// OpenSSL freed our BIO while we did not: the caller replaced it (SSL_set_bio).
void link_gone(void *owner) noexcept {
    SslBev *s = static_cast<SslBev *>(owner);
    s->kit->lock(s);
    s->lk = nullptr;
    go_direct(s);
    s->kit->unlock(s);
}

// A new BIO of ours over the underlying, telling us when OpenSSL frees it.
BIO *new_link(SslBev *s, Bev *u) noexcept {
    BIO *bio = link_bio_new(u, s->kit);
    if (!bio) return nullptr;
    Link *l = link_of(bio);
    l->owner = s;
    l->gone = link_gone;
    s->lk = l;
    return bio;
}

// Before we free our BIO ourselves.
void disown_link(SslBev *s) noexcept {
    if (s->lk) {
        s->lk->owner = nullptr;
        s->lk = nullptr;
    }
}

// The caller's BIO may have replaced ours without OpenSSL freeing it (the caller kept a
// reference): seen here, at our entry points.
[[gnu::noinline]] void switch_to_callers_bio(SslBev *s) noexcept {
    disown_link(s);
    go_direct(s);
}
// Inline: it runs at every entry. s->lk is set only while our BIO lives (OpenSSL freeing
// it clears it through link_gone), so no other BIO can have its address: one pointer
// compare does.
inline void check_bio(SslBev *s) noexcept {
    if (s->lk && !s->direct && s->own_under && SSL_get_rbio(s->ssl) != s->lk->bio) [[unlikely]]
        switch_to_callers_bio(s);
}

// ---- the underlying's callbacks -------------------------------------------------------------

void under_readcb(bufferevent *, void *arg) noexcept {
    SslBev *s = static_cast<SslBev *>(arg);
    s->kit->lock(s);
    ++s->refcnt;
    if (!s->dead && !s->freed) check_bio(s);
    if (!s->dead && !s->freed && !s->direct) {
        enter(s);
        if (s->handshaking) handshake_step(s);
        else read_in(s);
        leave(s);
    }
    s->kit->decref_and_unlock(s);
}

void under_writecb(bufferevent *, void *arg) noexcept {
    SslBev *s = static_cast<SslBev *>(arg);
    s->kit->lock(s);
    ++s->refcnt;
    if (!s->dead && !s->freed) check_bio(s);
    if (!s->dead && !s->freed) {
        enter(s);
        // Direct mode: what our BIO had queued is out; the handshake goes on.
        if (s->direct && s->handshaking) handshake_step(s);
        // Socket flavour: all the ciphertext of what was encrypted is in the kernel now,
        // where libevent's SSL_write put it: the write callback's turn (before encrypting
        // more, so that it runs with nothing of ours left in the hidden socket).
        if (s->wrote && evbuffer_get_length(s->pub.output) <= s->pub.wm_write.low) {
            s->wrote = false;
            s->kit->trigger_nolock(s, EV_WRITE, 0);
        }
        if (!s->freed && !s->dead) write_out(s, false);
        leave(s);
    }
    s->kit->decref_and_unlock(s);
}

void under_eventcb(bufferevent *, short what, void *arg) noexcept {
    SslBev *s = static_cast<SslBev *>(arg);
    s->kit->lock(s);
    ++s->refcnt;
    if (!s->dead && !s->freed && !s->failed) check_bio(s);
    if (!s->dead && !s->freed && !s->failed) {
        enter(s);
        if (what & BEV_EVENT_CONNECTED) {
            // The socket is connected; the user hears CONNECTED after the handshake, or
            // now if there is none. libevent's first handshake step (on the connected
            // socket's write event) arms reading for the peer's answer whatever was
            // disabled before the connect (the evhttp client disables both directions
            // before connecting), so such a hold does not outlive the connect.
            if (s->handshaking) {
                s->hs_read_off = false;
                update_under_reading(s);
                handshake_step(s);
            } else {
                s->kit->run_eventcb(s, BEV_EVENT_CONNECTED, 0);
            }
        } else if (what & BEV_EVENT_EOF) {
            if (s->handshaking || s->own_under) {
                // Our own socket ended: SSL_read (or the handshake) meets the end and says
                // whether a close_notify came first.
                if (Link *l = link(s)) l->eof = true;
                if (s->handshaking) handshake_step(s);
                else read_in(s);
            } else if (!s->read_closed) {
                // A filter hears the end from its underlying (what was read before it is
                // already decrypted): a bare EOF if dirty ends are allowed, else ERROR.
                if (Link *l = link(s)) l->eof = true;
                if (s->allow_dirty) {
                    s->read_closed = true;
                    update_under_reading(s);
                    run_event(s, BEV_EVENT_EOF);
                } else {
                    fail(s, 0);
                }
            }
        } else {
            save_errors(s);
            fail(s, static_cast<short>(what & ~BEV_EVENT_ERROR));
        }
        leave(s);
    }
    s->kit->decref_and_unlock(s);
}

void output_cb(evbuffer *, const evbuffer_cb_info *info, void *arg) noexcept {
    if (!info->n_added) return;
    SslBev *s = static_cast<SslBev *>(arg);
    s->kit->lock(s);
    ++s->refcnt;
    if (!s->dead) request_write(s);
    s->kit->decref_and_unlock(s);
}

// ---- ops ---------------------------------------------------------------------------------

int ssl_enable(Bev *b, short what) noexcept {
    SslBev *s = static_cast<SslBev *>(b);
    check_bio(s);
    s->kit->generic_arm(s, what);
    if (what & EV_READ) {
        s->hs_read_off = false;
        update_under_reading(s);
        // Plaintext may wait inside the SSL, or ciphertext in the underlying's input (also
        // the peer's part of a handshake that was held). In direct mode the fd's readiness
        // drives the SSL (no call that could wait on the fd from here), but plaintext
        // OpenSSL holds is read now.
        if (s->direct) {
            if (!s->handshaking && SSL_has_pending(s->ssl)) read_in(s);
        } else if (s->handshaking) {
            handshake_step(s);
        } else {
            read_in(s);
        }
    }
    if (what & EV_WRITE) request_write(s);
    return 0;
}

int ssl_disable(Bev *b, short what) noexcept {
    SslBev *s = static_cast<SslBev *>(b);
    s->kit->generic_disarm(s, what);
    if (what & EV_READ) {
        // (Only the socket flavour: libevent's filter handshakes on regardless.)
        if (s->handshaking && s->own_under) s->hs_read_off = true;
        update_under_reading(s);
    }
    direct_arm(s);
    return 0;
}

void detach_under(SslBev *s) noexcept {
    Bev *u = s->under;
    s->kit->lock(u);
    if (u->pub.errorcb == under_eventcb && u->pub.cbarg == s) {
        u->pub.readcb = nullptr;
        u->pub.writecb = nullptr;
        u->pub.errorcb = nullptr;
        u->pub.cbarg = nullptr;
    }
    s->kit->unsuspend_read(u, bev::kSuspendFilter);
    s->kit->unlock(u);
}

void ssl_unlink(Bev *b) noexcept {
    SslBev *s = static_cast<SslBev *>(b);
    Bev *u = s->under;
    if (s->own_under) {
        // Output not encrypted yet goes with the bufferevent (libevent drops it too). We
        // hold the lock: a flush_cb running in the loop's thread may be waiting for it, so
        // do not wait for that one (it sees `freed`; destruct, unlocked, waits).
        event_del_noblock(&s->flush_ev);
        io_stop(s);
        if (!(s->options & BEV_OPT_CLOSE_ON_FREE)) {
            // The caller keeps the SSL and the fd (and may still SSL_shutdown on it): send
            // what is encrypted, then let the SSL talk to the fd directly. Without an fd
            // (none yet, or setfd(-1) as evhttp does) the SSL gets a socket BIO on -1, as
            // libevent's setfd(-1) leaves it: our BIO must not stay, since it holds a
            // reference to `u` and through it the base, which the SSL may outlive.
            // In direct mode the SSL keeps the caller's BIO.
            bufferevent_disable(bev::handle(u), EV_READ | EV_WRITE);
            s->kit->socket_write_now(u);
            if (!s->direct) {
                const int fd = u->pub.be_ops->get_fd(u);
                BIO *sock = BIO_new_socket(fd, BIO_NOCLOSE);
                disown_link(s);
                SSL_set_bio(s->ssl, sock, sock);  // frees our BIO; none at all if sock failed
            }
        }
        s->kit->release(u);  // the user's side of our socket goes with us
    } else if (s->options & BEV_OPT_CLOSE_ON_FREE) {
        s->kit->release(u);
    } else {
        detach_under(s);
    }
}

void ssl_destruct(Bev *b) noexcept {
    SslBev *s = static_cast<SslBev *>(b);
    if (s->own_under) {
        event_del(&s->flush_ev);  // unlocked, `dead` set: a running flush_cb returns at once
        event_debug_unassign(&s->flush_ev);
        if (s->io_assigned) {
            event_del(&s->io_rd);
            event_del(&s->io_wr);
            event_debug_unassign(&s->io_rd);
            event_debug_unassign(&s->io_wr);
            s->io_assigned = false;
        }
    }
    disown_link(s);
    if ((s->options & BEV_OPT_CLOSE_ON_FREE) && s->ssl) SSL_free(s->ssl);
    s->ssl = nullptr;
    if (Bev *u = s->under) {
        s->under = nullptr;
        s->kit->lock(u);
        s->kit->decref_and_unlock(u);
    }
}

void ssl_adj_timeouts(Bev *b) noexcept {
    SslBev *s = static_cast<SslBev *>(b);
    s->kit->generic_adj_timeouts(s);
}

int ssl_flush(Bev *b, short iotype, bufferevent_flush_mode) noexcept {
    SslBev *s = static_cast<SslBev *>(b);
    if (iotype & EV_WRITE) write_out(s, true);
    return 0;
}

int ssl_get_fd(Bev *b) noexcept {
    Bev *u = static_cast<SslBev *>(b)->under;
    return u ? u->pub.be_ops->get_fd(u) : -1;
}

// A new socket (or none) under a TLS bufferevent made to connect or accept: as libevent
// does on every setfd, the SSL is cleared and the handshake starts again from the creation state
// (the evhttp client reconnects its TLS bufferevent this way after a `Connection: close`).
// What the old connection left in the hidden socket's buffers is dropped first, the
// previous hello included.
void restart_handshake(SslBev *s) noexcept {
    if (s->initial_state == BUFFEREVENT_SSL_OPEN) return;
    Bev *u = s->under;
    for (evbuffer *buf : {u->pub.input, u->pub.output}) {
        if (evbuffer_drain(buf, evbuffer_get_length(buf)) < 0) {
            const int at_front = buf == u->pub.output ? 1 : 0;
            evbuffer_unfreeze(buf, at_front);
            evbuffer_drain(buf, evbuffer_get_length(buf));
            evbuffer_freeze(buf, at_front);
        }
    }
    ERR_clear_error();
    if (!SSL_clear(s->ssl)) return;
    if (s->initial_state == BUFFEREVENT_SSL_CONNECTING)
        SSL_set_connect_state(s->ssl);
    else
        SSL_set_accept_state(s->ssl);
    s->handshaking = true;
    s->failed = false;
    s->read_closed = false;
    s->hs_read_off = false;
    s->retry_len = 0;
    update_under_reading(s);
    handshake_step(s);
}

int ssl_set_fd(Bev *b, int fd) noexcept {
    SslBev *s = static_cast<SslBev *>(b);
    Bev *u = s->under;
    if (!u) return -1;
    // A filter's fd is its underlying's business: libevent answers 0 and leaves it.
    if (!s->own_under) return 0;
    s->kit->lock(u);
    // libevent SSL_writes straight into the fd, so what left our output is in the kernel
    // by now; ours may still wait in the hidden socket's output, which the restart below
    // drops. Hand it to the old fd first (evhttp detaches a bevcb's bufferevent this way
    // right after the last byte of a reply left the output, then closes the fd itself).
    s->kit->socket_write_now(u);
    const int r = u->pub.be_ops->set_fd(u, fd);
    s->kit->unlock(u);
    check_bio(s);
    if (r == 0 && s->direct) {
        // libevent gives the SSL a socket BIO on the new fd, dropping the caller's: ours
        // comes back, and with it the hidden socket's reading.
        BIO *bio = new_link(s, u);
        if (!bio) return -1;
        io_stop(s);
        s->direct = false;
        s->kick = false;
        SSL_set_bio(s->ssl, bio, bio);  // frees the caller's BIO
        update_under_reading(s);
    }
    if (Link *l = link(s)) l->eof = false;
    if (r == 0) restart_handshake(s);
    return r;
}

Bev *ssl_underlying(Bev *b) noexcept {
    SslBev *s = static_cast<SslBev *>(b);
    return s->own_under ? nullptr : s->under;
}

// Our hidden socket, or a filter's underlying (core accepts it only if it is a socket
// bufferevent: libevent connects a TLS filter's socket underlying too).
Bev *ssl_socket_of(Bev *b) noexcept { return static_cast<SslBev *>(b)->under; }

const bufferevent_ops kSslOps = {
    "ssl",          ssl_enable,     ssl_disable, ssl_unlink,     ssl_destruct,
    ssl_adj_timeouts, ssl_flush,    ssl_get_fd,  ssl_set_fd,     ssl_underlying,
    ssl_socket_of,  nullptr,
};

// Builds the TLS bufferevent over `u`, taking a reference on it.
// With `keep_bio` (socket flavour) the SSL keeps the caller's BIO: direct mode.
bufferevent *make(Bev *u, SSL *ssl, bufferevent_ssl_state state, int options,
                  bool own_under, bool keep_bio = false) noexcept {
    const Kit *kit = kit_of(u);
    if (!kit) return nullptr;
    void *mem = event_mm_malloc_(sizeof(SslBev));
    if (!mem) return nullptr;
    SslBev *s = ::new (mem) SslBev();
    s->kit = kit;
    // A thread-safe TLS bufferevent shares the underlying's lock when it has one.
    if (!kit->init_common(s, kit->base_of(u), &kSslOps, options, u->lock)) {
        kit->destroy_unlinked(s);
        return nullptr;
    }
    s->pub.ev_base = u->pub.ev_base;
    kit->generic_init_timeouts(s);
    BIO *bio = keep_bio ? nullptr : link_bio_new(u, kit);
    if ((!keep_bio && !bio) || !evbuffer_add_cb(s->pub.output, output_cb, s)) {
        if (bio) BIO_free(bio);
        kit->destroy_unlinked(s);
        return nullptr;
    }
    kit->lock(u);
    ++u->refcnt;
    s->under = u;
    s->ssl = ssl;
    s->own_under = own_under;
    s->initial_state = state;
    if (own_under) event_assign(&s->flush_ev, u->pub.ev_base, -1, 0, flush_cb, s);
    if (bio) {
        Link *l = link_of(bio);
        l->owner = s;
        l->gone = link_gone;
        s->lk = l;
        SSL_set_bio(ssl, bio, bio);
    } else {
        s->direct = own_under;
    }
    // Our output buffer may move between a refused SSL_write and its repetition.
    SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    u->pub.readcb = under_readcb;
    u->pub.writecb = under_writecb;
    u->pub.errorcb = under_eventcb;
    u->pub.cbarg = s;
    kit->unlock(u);
    bufferevent_enable(bev::handle(u), EV_READ | EV_WRITE);

    kit->lock(s);
    ++s->refcnt;
    if (state == BUFFEREVENT_SSL_CONNECTING) {
        SSL_set_connect_state(ssl);
        s->handshaking = true;
    } else if (state == BUFFEREVENT_SSL_ACCEPTING) {
        SSL_set_accept_state(ssl);
        s->handshaking = true;
    }
    update_under_reading(s);
    // The client speaks first: its hello waits in the underlying's output until the
    // socket is there and connected. A server may find the client's hello already read
    // by the underlying (sslsplit peeks at it before putting TLS on a connection).
    // In direct mode the first step waits for the fd's readiness (the caller's BIO may not be
    // ready for I/O yet), as libevent's does.
    if (s->handshaking && !s->direct) handshake_step(s);
    if (s->direct) {
        s->hs_want = EV_READ | EV_WRITE;
        direct_arm(s);
    }
    kit->decref_and_unlock(s);
    return bev::handle(s);
}

}  // namespace

bufferevent *socket_new(event_base *base, int fd, SSL *ssl, bufferevent_ssl_state state,
                        int options) noexcept {
    if (!base || !ssl) return nullptr;
    // An SSL whose BIO already answers with an fd (SSL_set_fd, or a BIO of the caller's on
    // the socket) keeps that BIO, as with libevent: it does the I/O (direct mode), and with
    // fd -1 its fd is the socket. Another fd than the BIO's is refused (libevent too).
    bool keep_bio = false;
    if (BIO *wb = SSL_get_wbio(ssl)) {
        const long have = BIO_get_fd(wb, nullptr);
        if (have >= 0) {
            if (fd < 0) fd = static_cast<int>(have);
            else if (have != fd) return nullptr;
            BIO_set_close(wb, BIO_NOCLOSE);  // the fd is closed by us (BEV_OPT_CLOSE_ON_FREE)
            keep_bio = true;
        }
    }
    bufferevent *ub =
        bufferevent_socket_new(base, fd, options & (BEV_OPT_THREADSAFE | BEV_OPT_CLOSE_ON_FREE));
    if (!ub) return nullptr;
    Bev *u = bev::from(ub);
    bufferevent *b = make(u, ssl, state, options, true, keep_bio);
    if (!b) {
        // Not ours to close: the caller still owns the fd when creation fails.
        bufferevent_setfd(ub, -1);
        bufferevent_free(ub);
        return nullptr;
    }
    return b;
}

bufferevent *filter_new(event_base *base, Bev *under, SSL *ssl, bufferevent_ssl_state state,
                        int options) noexcept {
    if (!under || !ssl) return nullptr;
    return make(under, ssl, state, options, false);
}

SSL *get_ssl(Bev *b) noexcept {
    SslBev *s = ssl_of(b);
    return s ? s->ssl : nullptr;
}

int get_allow_dirty_shutdown(Bev *b) noexcept {
    SslBev *s = ssl_of(b);
    if (!s) return -1;
    s->kit->lock(s);
    const int r = s->allow_dirty ? 1 : 0;
    s->kit->unlock(s);
    return r;
}

void set_allow_dirty_shutdown(Bev *b, bool allow) noexcept {
    SslBev *s = ssl_of(b);
    if (!s) return;
    s->kit->lock(s);
    s->allow_dirty = allow;
    s->kit->unlock(s);
}

int renegotiate(Bev *b) noexcept {
    SslBev *s = ssl_of(b);
    if (!s) return -1;
    s->kit->lock(s);
    ++s->refcnt;
    int r = -1;
    if (!s->failed && !s->handshaking) {
        ERR_clear_error();
        // TLS 1.3 refuses (0): the handshake step below then finds the connection set up
        // and reports it at once, as libevent does.
        if (SSL_renegotiate(s->ssl) >= 0) {
            ERR_clear_error();
            s->handshaking = true;
            s->hs_read_off = false;
            update_under_reading(s);
            r = handshake_step(s);
        }
    }
    s->kit->decref_and_unlock(s);
    return r;
}

unsigned long pop_error(Bev *b) noexcept {
    SslBev *s = ssl_of(b);
    if (!s) return 0;
    s->kit->lock(s);
    unsigned long e = s->n_errors ? s->errors[--s->n_errors] : 0;
    s->kit->unlock(s);
    return e;
}

}  // namespace reevent::ssl
