// evconnlistener; see listener.h.
#include "listener/listener.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/base.h"
#include "core/log.h"
#include "core/mm.h"
#include "util/socket_ops.h"

using namespace reevent;

namespace {

// Failures that only mean "nothing to accept right now"; libevent ignores the same set.
bool is_retriable(int err) noexcept {
    return err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == ECONNABORTED;
}

// Failures that persist until the process (or system) frees resources: back off.
bool is_exhaustion(int err) noexcept {
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

}  // namespace

evconnlistener::evconnlistener(unsigned flags) noexcept : flags_(flags) {
    if (!(flags & LEV_OPT_LEAVE_SOCKETS_BLOCKING)) accept_flags_ |= SOCK_NONBLOCK;
    if (flags & LEV_OPT_CLOSE_ON_EXEC) accept_flags_ |= SOCK_CLOEXEC;
}

evconnlistener *evconnlistener::create(event_base *base, evconnlistener_cb cb, void *arg,
                                       unsigned flags, int backlog, int fd) noexcept {
    if (!base) return nullptr;
    if (backlog > 0) {
        if (listen(fd, backlog) < 0) return nullptr;
    } else if (backlog < 0) {
        if (listen(fd, kDefaultBacklog) < 0) return nullptr;
    }
    // The accept loop runs until accept4 would block, so a blocking socket would stall the
    // whole loop; libevent requires non-blocking sockets, reevent makes sure of it.
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && !(fl & O_NONBLOCK)) fcntl(fd, F_SETFL, fl | O_NONBLOCK);

    evconnlistener *lev = mm::make<evconnlistener>(flags);
    if (!lev) return nullptr;
    if (event_assign(&lev->accept_ev_, base, fd, EV_READ | EV_PERSIST, on_readable, lev) != 0 ||
        event_assign(&lev->retry_ev_, base, -1, 0, on_retry, lev) != 0) {
        mm::destroy(lev);
        return nullptr;
    }
    lev->cb_ = cb;
    lev->arg_ = arg;
    if (!(flags & LEV_OPT_DISABLED) && lev->enable() != 0) {
        event_debug_unassign(&lev->accept_ev_);
        event_debug_unassign(&lev->retry_ev_);
        mm::destroy(lev);
        return nullptr;
    }
    return lev;
}

evconnlistener *evconnlistener::create_bound(event_base *base, evconnlistener_cb cb, void *arg,
                                             unsigned flags, int backlog, const sockaddr *sa,
                                             int socklen) noexcept {
    if (backlog == 0) return nullptr;  // a fresh socket is not listening yet
    int type = SOCK_STREAM | SOCK_NONBLOCK;
    if (flags & LEV_OPT_CLOSE_ON_EXEC) type |= SOCK_CLOEXEC;
    int fd = socket(sa ? sa->sa_family : AF_UNSPEC, type, 0);
    if (fd < 0) return nullptr;

    int one = 1;
    bool ok = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) == 0;
    ok = ok && (!(flags & LEV_OPT_REUSEABLE) || util::make_reuseable(fd) == 0);
    ok = ok && (!(flags & LEV_OPT_REUSEABLE_PORT) || util::make_reuseable_port(fd) == 0);
    ok = ok && (!(flags & LEV_OPT_DEFERRED_ACCEPT) || util::make_defer_accept(fd) == 0);
    ok = ok && (!(flags & LEV_OPT_BIND_IPV6ONLY) || util::make_ipv6only(fd) == 0);
    ok = ok && (!sa || bind(fd, sa, static_cast<socklen_t>(socklen)) == 0);
    evconnlistener *lev = ok ? create(base, cb, arg, flags, backlog, fd) : nullptr;
    if (!lev) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return lev;
}

void evconnlistener::release() noexcept {
    lock_.lock();
    cb_ = nullptr;
    error_cb_ = nullptr;
    enabled_ = false;
    backing_off_ = false;
    lock_.unlock();
    // From another thread, event_del waits until a callback of ours that the loop is running
    // has returned (it finds cb_ cleared and stops), so neither handler can touch the object
    // after it is gone. lock_ is not held while waiting: that handler needs it to finish.
    // From the loop thread (inside a callback) nothing waits; the reference that callback
    // holds keeps the object alive until it unwinds.
    // kFree: out of the kernel's set now, before the close below (forked workers often
    // share a listening socket, and a registration must not outlive our fd).
    core::del(&accept_ev_, core::DelMode::kFree);
    core::del(&retry_ev_, core::DelMode::kFree);
    lock_.lock();
    if (flags_ & LEV_OPT_CLOSE_ON_FREE) close(fd());
    unref_and_unlock();
}

void evconnlistener::unref_and_unlock() noexcept {
    bool last = --refs_ == 0;
    lock_.unlock();
    if (last) {
        event_debug_unassign(&accept_ev_);
        event_debug_unassign(&retry_ev_);
        mm::destroy(this);
    }
}

int evconnlistener::arm() noexcept {
    if (backing_off_) return 0;  // the retry timer re-adds the read event
    return event_add(&accept_ev_, nullptr);
}

int evconnlistener::enable() noexcept {
    core::LockGuard g(lock_);
    enabled_ = true;
    return cb_ ? arm() : 0;
}

int evconnlistener::disable() noexcept {
    core::LockGuard g(lock_);
    enabled_ = false;
    backing_off_ = false;
    event_del_noblock(&retry_ev_);
    return event_del_noblock(&accept_ev_);
}

void evconnlistener::set_callback(evconnlistener_cb cb, void *arg) noexcept {
    core::LockGuard g(lock_);
    bool start = enabled_ && !cb_;
    cb_ = cb;
    arg_ = arg;
    if (start && cb) arm();
}

void evconnlistener::set_error_callback(evconnlistener_errorcb cb) noexcept {
    core::LockGuard g(lock_);
    error_cb_ = cb;
}

void evconnlistener::on_readable(evutil_socket_t, short, void *self) noexcept {
    static_cast<evconnlistener *>(self)->accept_pending();
}

void evconnlistener::on_retry(evutil_socket_t, short, void *self) noexcept {
    auto *lev = static_cast<evconnlistener *>(self);
    core::LockGuard g(lev->lock_);
    if (!lev->backing_off_) return;
    lev->backing_off_ = false;
    // Readiness of the socket decides what happens next: an accept, or another back-off.
    if (lev->enabled_ && lev->cb_) event_add(&lev->accept_ev_, nullptr);
}

void evconnlistener::start_backoff() noexcept {
    backoff_ms_ = backoff_ms_ ? std::min(backoff_ms_ * 2, kBackoffMaxMs) : kBackoffFirstMs;
    backing_off_ = true;
    event_del_noblock(&accept_ev_);
    timeval tv{0, backoff_ms_ * 1000};
    event_add(&retry_ev_, &tv);
}

void evconnlistener::accept_pending() noexcept {
    lock_.lock();
    const int listen_fd = fd();
    for (;;) {
        sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int conn = accept4(listen_fd, reinterpret_cast<sockaddr *>(&ss), &len, accept_flags_);
        if (conn < 0) break;
        backoff_ms_ = 0;
        if (len == 0) {  // seen on old kernels after some port scans: nothing to report
            close(conn);
            continue;
        }
        if (!cb_) {
            // Callback cleared while the listener stayed enabled: refuse, as libevent does.
            close(conn);
            lock_.unlock();
            return;
        }
        evconnlistener_cb cb = cb_;
        void *arg = arg_;
        ++refs_;
        lock_.unlock();
        cb(this, conn, reinterpret_cast<sockaddr *>(&ss), static_cast<int>(len), arg);
        lock_.lock();
        if (refs_ == 1) {  // freed inside the callback
            unref_and_unlock();
            return;
        }
        --refs_;
        if (!enabled_) {
            lock_.unlock();
            return;
        }
    }
    const int err = errno;
    if (is_retriable(err)) {
        backoff_ms_ = 0;
        lock_.unlock();
        return;
    }
    if (is_exhaustion(err)) start_backoff();
    if (evconnlistener_errorcb ecb = error_cb_) {
        void *arg = arg_;
        ++refs_;
        lock_.unlock();
        errno = err;  // EVUTIL_SOCKET_ERROR() in the callback
        ecb(this, arg);
        lock_.lock();
        unref_and_unlock();
        return;
    }
    lock_.unlock();
    log::warn("Error from accept() call: %s", std::strerror(err));
}
