// Socket bufferevents: ev_read / ev_write watch the fd; reads go into the input buffer, the
// output buffer is written out.
//
// Speed rules (the echo-server path):
//  - No ioctl(FIONREAD) before reading: evbuffer_read sizes its readv adaptively (up to
//    64 KiB) unless the user set max_single_read, a high-water mark (then 4096 bytes at
//    most, as libevent) or a rate limit.
//  - Write first: when the user adds output and nothing is pending, ev_write is made
//    active (no epoll_ctl); the handler writes at once and arms EV_WRITE only if the kernel
//    said EAGAIN. libevent adds and removes EPOLLOUT around every write instead.
//  - Everything is written in one writev unless max_single_write or a rate limit caps it.
#include "bufferevent/bev.h"
#include "bufferevent/kit.h"

#include "buffer/evbuffer.h"
#include "core/addon_abi.h"
#include "core/base.h"
#include "core/log.h"
#include "core/mm.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

namespace reevent::bev {

namespace {

int fd_of(Bev *b) noexcept { return event_get_fd(&b->pub.ev_read); }

bool retriable(int e) { return e == EAGAIN || e == EWOULDBLOCK || e == EINTR; }

// event_pending(&ev_write, EV_WRITE, NULL). Without a lock the bufferevent belongs to the
// loop's thread, which is the only one that changes its events: the public flags are read
// directly (event_pending takes the base lock, twice per message on the echo path).
bool write_pending(Bev *b) noexcept {
    if (b->lock) return event_pending(&b->pub.ev_write, EV_WRITE, nullptr) != 0;
    const event &ev = b->pub.ev_write;
    const int f = ev.ev_evcallback.evcb_flags;
    return ((f & EVLIST_INSERTED) && (ev.ev_events & EV_WRITE)) ||
           ((f & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER)) && (ev.ev_res & EV_WRITE));
}

void write_step(Bev *b, evutil_socket_t fd, short what) noexcept;

// Keeps errno across calls that may change it (event_del, locks).
struct ErrnoKeeper {
    int saved = errno;
    ~ErrnoKeeper() { errno = saved; }
};

// 1 connected, 0 still connecting, -1 failed (errno set to the socket error).
int finished_connecting(int fd) noexcept {
    int e = 0;
    socklen_t len = sizeof e;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0) return -1;
    if (e == 0) return 1;
    if (e == EINPROGRESS || e == EINTR) return 0;
    errno = e;
    return -1;
}

ssize_t read_size(Bev *b) noexcept {
    // -1 lets evbuffer_read pick its adaptive size; only explicit limits cap it.
    ssize_t howmuch = -1;
    if (b->pub.wm_read.high) {
        size_t len = buffer::from(b->pub.input)->length();
        if (len >= b->pub.wm_read.high) return 0;
        howmuch = static_cast<ssize_t>(b->pub.wm_read.high - len);
        // Under a high-water mark, read as libevent 2.1 does (at most EVBUFFER_MAX_READ,
        // 4096 bytes, at a time): the read callback runs before the input reaches the mark.
        // fstrm_capture notes a record bigger than the mark on one callback and drains it
        // on the next; one read up to the mark would leave it suspended for good.
        if (howmuch > kLibeventMaxRead) howmuch = kLibeventMaxRead;
    }
    if (b->max_single_read || b->rate) {
        ssize_t m = limit_max(b, false);
        if (howmuch < 0 || m < howmuch) howmuch = m;
    }
    if (howmuch > INT_MAX) howmuch = INT_MAX;
    return howmuch;
}

// The start of both socket event handlers: locks b and takes a reference, unless b is
// dead (then nothing is held and the handler returns).
inline bool enter_handler(Bev *b) noexcept {
    lock(b);
    if (b->dead) {
        unlock(b);
        return false;
    }
    ++b->refcnt;
    return true;
}

void on_readable(evutil_socket_t fd, short what, void *arg) noexcept {
    Bev *b = static_cast<Bev *>(arg);
    if (!enter_handler(b)) return;
    short ev = BEV_EVENT_READING;
    int res = 0;
    if ((what & EV_TIMEOUT) && !(what & EV_READ)) {
        ev |= BEV_EVENT_TIMEOUT;
    } else {
        if (b->connecting && !b->connection_refused && finished_connecting(fd) == 1) {
            // Data came with the connect: report CONNECTED first (the read callback
            // queues behind it); the write handler, if it runs next, knows.
            b->connecting = false;
            b->just_connected = true;
            run_eventcb(b, BEV_EVENT_CONNECTED, BEV_OPT_DEFER_CALLBACKS);
            if (!(b->pub.enabled & EV_WRITE) || b->write_suspended) event_del(&b->pub.ev_write);
        }
        ssize_t howmuch = read_size(b);
        if (howmuch == 0) {
            if (b->pub.wm_read.high &&
                buffer::from(b->pub.input)->length() >= b->pub.wm_read.high)
                suspend_read(b, kSuspendWm);
            else
                rate_starved(b, false);
            decref_and_unlock(b);
            return;
        }
        if (b->read_suspended) {
            decref_and_unlock(b);
            return;
        }
        res = buffer::from(b->pub.input)->read_from_fd(fd, static_cast<int>(howmuch), true);
        int err = errno;
        if (res < 0) {
            if (retriable(err)) {
                decref_and_unlock(b);
                return;
            }
            if (err == ECONNREFUSED && b->connecting) {
                // The write side reports it as the connect failure.
                b->connection_refused = true;
                decref_and_unlock(b);
                return;
            }
            errno = err;
            ev |= BEV_EVENT_ERROR;
        } else if (res == 0) {
            ev |= BEV_EVENT_EOF;
        } else {
            if (b->rate) decrement_read_buckets(b, res);
            b->sock_reading = true;
            trigger_nolock(b, EV_READ, 0);
            b->sock_reading = false;
            // Output the read callback added: written now, as the write handler would
            // have done later in this loop iteration (an echo server's block goes out
            // before the next connection reads, so it is reused while cache-hot).
            if (b->write_soon) {
                b->write_soon = false;
                // Still what output_cb saw (the callback may have disabled writing, freed
                // the bufferevent or changed its fd; the event route would then not run).
                if (!b->dead && !b->freed && (b->pub.enabled & EV_WRITE) &&
                    !b->write_suspended && !b->connecting && fd_of(b) == fd)
                    write_step(b, fd, EV_WRITE);
            }
            decref_and_unlock(b);
            return;
        }
    }
    {
        ErrnoKeeper keep;
        b->pub.enabled &= ~EV_READ;
        b->pub.be_ops->disable(b, EV_READ);
    }
    run_eventcb(b, ev, 0);
    decref_and_unlock(b);
}

void on_writable(evutil_socket_t fd, short what, void *arg) noexcept {
    Bev *b = static_cast<Bev *>(arg);
    if (!enter_handler(b)) return;
    write_step(b, fd, what);
    decref_and_unlock(b);
}

// The write handler's work; the caller holds the lock and a reference.
void write_step(Bev *b, evutil_socket_t fd, short what) noexcept {
    short ev = BEV_EVENT_WRITING;
    bool connected = false;
    int res = 0;
    if ((what & EV_TIMEOUT) && !(what & EV_WRITE)) {
        ev |= BEV_EVENT_TIMEOUT;
        goto error;
    }
    if (b->just_connected) {
        b->just_connected = false;
        connected = true;
    }
    if (b->connecting) {
        int c = finished_connecting(fd);
        if (b->connection_refused) {
            b->connection_refused = false;
            errno = ECONNREFUSED;
            c = -1;
        }
        if (c == 0) goto done;
        b->connecting = false;
        if (c < 0) {
            {
                ErrnoKeeper keep;
                event_del(&b->pub.ev_write);
                event_del(&b->pub.ev_read);
            }
            run_eventcb(b, BEV_EVENT_ERROR, BEV_OPT_DEFER_CALLBACKS);
            goto done;
        }
        connected = true;
        // Delivered here and now (deferred only with BEV_OPT_DEFER_CALLBACKS), like
        // libevent: later callbacks of this iteration already see a connected bufferevent.
        run_eventcb(b, BEV_EVENT_CONNECTED, 0);
        if (b->dead) goto done;
        if (!(b->pub.enabled & EV_WRITE) || b->write_suspended) {
            event_del(&b->pub.ev_write);
            goto done;
        }
    }
    if (b->write_suspended) goto done;
    if (buffer::from(b->pub.output)->length()) {
        ssize_t atmost = -1;
        if (b->max_single_write || b->rate) atmost = limit_max(b, true);
        if (atmost == 0) {
            rate_starved(b, true);
            goto done;
        }
        res = buffer::from(b->pub.output)
                  ->write_to_fd(fd, atmost, true, buffer::from(b->pub.input));
        int err = errno;
        if (res < 0) {
            if (retriable(err)) {
                // The kernel is full: now (and only now) wait for EV_WRITE.
                if (!write_pending(b)) add_event(&b->pub.ev_write, &b->pub.timeout_write);
                goto done;
            }
            errno = err;
            ev |= BEV_EVENT_ERROR;
            goto error;
        }
        if (res == 0) {
            ev |= BEV_EVENT_EOF;
            goto error;
        }
        if (b->rate) decrement_write_buckets(b, res);
    }
    if (buffer::from(b->pub.output)->length() == 0) {
        if (write_pending(b)) event_del(&b->pub.ev_write);
    } else if (!(b->pub.enabled & EV_WRITE) || b->write_suspended) {
        // Disabled or paused meanwhile: leave it.
    } else if (!write_pending(b)) {
        add_event(&b->pub.ev_write, &b->pub.timeout_write);
    }
    if (res > 0 || !connected) {
        b->sock_writing = true;
        trigger_nolock(b, EV_WRITE, 0);
        b->sock_writing = false;
    }
    goto done;
error : {
    {
        ErrnoKeeper keep;
        b->pub.enabled &= ~EV_WRITE;
        b->pub.be_ops->disable(b, EV_WRITE);
    }
    run_eventcb(b, ev, 0);
}
done:;
}

// ev_write made active for the next loop iteration, as if the poll that starts it had
// reported EV_WRITE (nothing to change in the kernel's interest set).
void activate_write_next_iteration(Bev *b) noexcept {
    event *ev = &b->pub.ev_write;
    event_base *base = ev->ev_base;
    core::LockGuard g(base->lock_);
    if (ev->ev_evcallback.evcb_flags & (EVLIST_ACTIVE | EVLIST_ACTIVE_LATER | EVLIST_FINALIZING))
        return;
    ev->ev_res = EV_WRITE;
    core::callback_activate_later_nolock(base, &ev->ev_evcallback);
}

// Output grew: start writing unless writing is off or already waiting for the kernel.
// From the write callback itself (a producer refilling the output each time) the next
// write waits for the next loop iteration: made active at once it would run in this same
// iteration, again and again until the kernel buffer is full (tens of MB on loopback TCP),
// and no other fd or timer would get a turn meanwhile. libevent writes only when a poll
// reports EV_WRITE, so there too every write of such a producer costs one iteration.
void output_cb(evbuffer *, const evbuffer_cb_info *info, void *arg) noexcept {
    if (!info->n_added) return;
    Bev *b = static_cast<Bev *>(arg);
    lock(b);
    if (!b->dead && (b->pub.enabled & EV_WRITE) && !b->write_suspended && !b->connecting &&
        !write_pending(b)) {
        if (fd_of(b) < 0) {
            // No socket yet: only the write timeout can run (an fd -1 event is its timer).
            if (b->pub.timeout_write.tv_sec || b->pub.timeout_write.tv_usec)
                add_event(&b->pub.ev_write, &b->pub.timeout_write);
        } else if (b->pub.timeout_write.tv_sec || b->pub.timeout_write.tv_usec)
            add_event(&b->pub.ev_write, &b->pub.timeout_write);  // the timeout starts now
        else if (b->sock_reading)
            b->write_soon = true;  // the read handler writes when the callback returns
        else if (b->sock_writing)
            activate_write_next_iteration(b);
        else
            event_active(&b->pub.ev_write, EV_WRITE, 1);
    }
    unlock(b);
}

void assign_events(Bev *b, int fd) noexcept {
    event_base *base = base_of(b);
    event_assign(&b->pub.ev_read, base, fd, EV_READ | EV_PERSIST, on_readable, b);
    event_assign(&b->pub.ev_write, base, fd, EV_WRITE | EV_PERSIST, on_writable, b);
}

// Without a socket yet (fd -1) the events are added all the same: they are then plain
// timers, so the timeouts of an enabled direction still run (as in libevent).
int sock_enable(Bev *b, short what) noexcept {
    if ((what & EV_READ) && add_event(&b->pub.ev_read, &b->pub.timeout_read) < 0) return -1;
    if ((what & EV_WRITE) && add_event(&b->pub.ev_write, &b->pub.timeout_write) < 0) return -1;
    return 0;
}

int sock_disable(Bev *b, short what) noexcept {
    if ((what & EV_READ) && event_del(&b->pub.ev_read) < 0) return -1;
    // While connecting, ev_write watches the connect: keep it.
    if ((what & EV_WRITE) && !b->connecting && event_del(&b->pub.ev_write) < 0) return -1;
    return 0;
}

void sock_destruct(Bev *b) noexcept {
    int fd = fd_of(b);
    if ((b->options & BEV_OPT_CLOSE_ON_FREE) && fd >= 0) ::close(fd);
}

void sock_adj_timeouts(Bev *b) noexcept {
    if (event_pending(&b->pub.ev_read, EV_READ, nullptr)) {
        if (b->pub.timeout_read.tv_sec || b->pub.timeout_read.tv_usec)
            event_add(&b->pub.ev_read, &b->pub.timeout_read);
        else
            event_remove_timer(&b->pub.ev_read);
    }
    if (event_pending(&b->pub.ev_write, EV_WRITE, nullptr)) {
        if (b->pub.timeout_write.tv_sec || b->pub.timeout_write.tv_usec)
            event_add(&b->pub.ev_write, &b->pub.timeout_write);
        else
            event_remove_timer(&b->pub.ev_write);
    }
}

int sock_flush(Bev *, short, bufferevent_flush_mode) noexcept { return 0; }

int sock_get_fd(Bev *b) noexcept { return fd_of(b); }

// The events on a new fd, not armed yet.
void reassign_fd(Bev *b, int fd) noexcept {
    int pri = event_get_priority(&b->pub.ev_read);
    event_del(&b->pub.ev_read);
    event_del(&b->pub.ev_write);
    assign_events(b, fd);
    // Keep a priority set earlier (libevent loses it here).
    event_priority_set(&b->pub.ev_read, pri);
    event_priority_set(&b->pub.ev_write, pri);
    b->dns_error = 0;
}

// Arms what the user enabled and nothing suspends.
void arm_enabled(Bev *b) noexcept {
    short impl = b->pub.enabled;
    if (b->read_suspended) impl &= ~EV_READ;
    if (b->write_suspended) impl &= ~EV_WRITE;
    if (impl) sock_enable(b, impl);
}

int sock_set_fd(Bev *b, int fd) noexcept {
    reassign_fd(b, fd);
    if (fd >= 0) arm_enabled(b);
    return 0;
}

Bev *sock_underlying(Bev *) noexcept { return nullptr; }

}  // namespace

const bufferevent_ops kSocketOps = {
    "socket",        sock_enable, sock_disable,  nullptr,          sock_destruct, sock_adj_timeouts,
    sock_flush,      sock_get_fd, sock_set_fd,   sock_underlying, nullptr, &kKit,
};

bufferevent *socket_new(event_base *base, int fd, int options) noexcept {
    if ((options & (BEV_OPT_DEFER_CALLBACKS | BEV_OPT_UNLOCK_CALLBACKS)) ==
        BEV_OPT_UNLOCK_CALLBACKS) {
        log::warn("UNLOCK_CALLBACKS requires DEFER_CALLBACKS");
        return nullptr;
    }
    Bev *b = mm::make<Bev>();
    if (!b) return nullptr;
    if (!init_common(b, base, &kSocketOps, options, nullptr)) {
        destroy_unlinked(b);
        return nullptr;
    }
    evbuffer_set_flags(b->pub.output, EVBUFFER_FLAG_DRAINS_TO_FD);
    assign_events(b, fd);
    if (!evbuffer_add_cb(b->pub.output, output_cb, b)) {
        destroy_unlinked(b);
        return nullptr;
    }
    // The user may drain input and fill output, not the other way round.
    evbuffer_freeze(b->pub.input, 0);
    evbuffer_freeze(b->pub.output, 1);
    return handle(b);
}

bool is_socket(const Bev *b) noexcept { return b->pub.be_ops == &kSocketOps; }

void socket_write_now(Bev *b) noexcept {
    lock(b);
    int fd = fd_of(b);
    if (is_socket(b) && fd >= 0 && !b->connecting) {
        buffer::Buffer *out = buffer::from(b->pub.output);
        while (out->length() && out->write_to_fd(fd, -1, true, nullptr) > 0) {
        }
    }
    unlock(b);
}

namespace {

// bufferevent_socket_connect on a locked b on which the caller holds a reference. On
// success (0) b is let go of (that reference dropped, that lock level released) before
// return, in the same critical section of the base lock that arms its events: a loop that
// runs in another thread (sslsplit sets up a worker's connection from its listener thread,
// on a bufferevent without a lock of its own) can run them, and free b, as soon as that
// lock is released, so this thread must not touch b after it; and everything their
// handlers read (connecting above all: seen as a plain write-ready, the connect's write
// event would be dropped and CONNECTED never reported) is set before they can run. On
// failure (-1) nothing was armed and the caller still holds b.
int connect_locked(Bev *b, const sockaddr *sa, int socklen) noexcept {
    int fd = fd_of(b);
    bool own = false;
    int r = 0;
    if (fd < 0) {
        if (!sa) return -1;
        fd = ::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return -1;
        own = true;
    }
    if (sa) {
        if (::connect(fd, sa, static_cast<socklen_t>(socklen)) == 0) {
            r = 1;
        } else if (errno == EINPROGRESS || errno == EINTR) {
            r = 0;
        } else if (errno == ECONNREFUSED) {
            r = 2;
        } else {
            if (own) {
                ErrnoKeeper keep;
                ::close(fd);
            }
            return -1;
        }
    }
    reassign_fd(b, fd);
    core::LockGuard g(base_of(b)->lock_);  // no handler of b runs before the end
    if (r == 2) {
        // Refused at once (possible on some systems): reported from the loop, as libevent does.
        b->pub.enabled &= ~(EV_READ | EV_WRITE);
        errno = ECONNREFUSED;
        run_eventcb(b, BEV_EVENT_ERROR, BEV_OPT_DEFER_CALLBACKS);
    } else {
        // In progress, or already done: either way the write handler sees SO_ERROR and
        // reports CONNECTED (or the error) from the loop.
        b->connecting = true;
        arm_enabled(b);
        if (add_event(&b->pub.ev_write, &b->pub.timeout_write) < 0) {
            b->connecting = false;
            event_del(&b->pub.ev_read);
            return -1;
        }
    }
    decref_and_unlock(b);
    return 0;
}

}  // namespace

int socket_connect(Bev *b, const sockaddr *sa, int socklen) noexcept {
    incref_and_lock(b);
    if (connect_locked(b, sa, socklen) == 0) return 0;
    decref_and_unlock(b);
    return -1;
}

namespace {

// The answer of an asynchronous lookup (evdns): connect to the first address, or report the
// error; the reference taken by socket_connect_hostname is dropped here.
void on_async_lookup(int result, evutil_addrinfo *ai, void *arg) {
    auto *b = static_cast<Bev *>(arg);
    lock(b);
    unsuspend_read(b, kSuspendLookup);
    unsuspend_write(b, kSuspendLookup);
    if (result != 0) {
        b->dns_error = static_cast<int16_t>(result);
    } else if (ai && connect_locked(b, ai->ai_addr, static_cast<int>(ai->ai_addrlen)) == 0) {
        evutil_freeaddrinfo(ai);  // b is let go of: not to be touched again here
        return;
    }
    run_eventcb(b, BEV_EVENT_ERROR, 0);
    if (ai) evutil_freeaddrinfo(ai);
    decref_and_unlock(b);
}

}  // namespace

int socket_connect_hostname(Bev *b, void *dns_base, int family, const char *hostname,
                            int port) noexcept {
    if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC) return -1;
    if (port < 1 || port > 65535 || !hostname) return -1;
    reevent_gai_fn async = dns_base ? addon::evdns_getaddrinfo_fn() : nullptr;
    if (dns_base && !async) {
        // Only libevent_extra's evdns_base_new makes evdns_bases, and it registers the hook.
        log::warn("bufferevent_socket_connect_hostname: evdns_base given but no evdns registered");
        return -1;
    }
    // "[::1]" is accepted for IPv6 literals.
    char host[256];
    size_t n = std::strlen(hostname);
    if (n >= 2 && hostname[0] == '[' && hostname[n - 1] == ']') {
        if (n - 2 >= sizeof host) return -1;
        std::memcpy(host, hostname + 1, n - 2);
        host[n - 2] = '\0';
        hostname = host;
    }
    char portbuf[8];
    std::snprintf(portbuf, sizeof portbuf, "%d", port);
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    incref_and_lock(b);
    b->dns_error = 0;
    suspend_read(b, kSuspendLookup);
    suspend_write(b, kSuspendLookup);
    unlock(b);
    if (async) {
        // evdns_getaddrinfo: the callback (which drops our reference) runs inside the call
        // for numeric hosts and host entries, otherwise later from the loop.
        evutil_addrinfo ehints{};
        ehints.ai_family = family;
        ehints.ai_socktype = SOCK_STREAM;
        ehints.ai_protocol = IPPROTO_TCP;
        async(static_cast<evdns_base *>(dns_base), hostname, portbuf, &ehints, on_async_lookup, b);
        return 0;
    }
    addrinfo *ai = nullptr;
    int rc = ::getaddrinfo(hostname, portbuf, &hints, &ai);  // no evdns_base: a blocking lookup
    lock(b);
    unsuspend_read(b, kSuspendLookup);
    unsuspend_write(b, kSuspendLookup);
    if (rc != 0) {
        b->dns_error = static_cast<int16_t>(rc);  // EAI_* codes are small
    } else if (connect_locked(b, ai->ai_addr, static_cast<int>(ai->ai_addrlen)) == 0) {
        ::freeaddrinfo(ai);  // b is let go of: not to be touched again here
        return 0;
    }
    run_eventcb(b, BEV_EVENT_ERROR, 0);
    if (ai) ::freeaddrinfo(ai);
    decref_and_unlock(b);
    return 0;
}

}  // namespace reevent::bev
