// struct evconnlistener: accepts TCP connections on a listening socket and hands them to the
// user's callback.
//
// Built only on the public event API: one persistent EV_READ event on the socket, plus a timer
// used while backing off. Every member is guarded by lock_ (always on; LEV_OPT_THREADSAFE
// asks for nothing more). User callbacks run with the lock released; refs_ keeps the object
// alive across them, so evconnlistener_free from inside a callback frees the memory only
// when that callback returns; from another thread, free waits (event_del) for a running
// handler to finish first.
//
// Descriptor exhaustion (EMFILE/ENFILE/ENOBUFS/ENOMEM from accept) is where libevent spins:
// the socket stays readable, so every loop iteration fails again. Here the error callback
// still runs for the failure, then the read event is removed and a timer re-arms it after a
// delay that doubles from kBackoffFirstMs up to kBackoffMaxMs; the first successful accept
// resets it. Pending clients wait in the kernel backlog meanwhile.
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>

#include "core/lock.h"

struct evconnlistener {
    static constexpr int kDefaultBacklog = SOMAXCONN;  // backlog < 0 (the kernel caps it)
    static constexpr int kBackoffFirstMs = 4;
    static constexpr int kBackoffMaxMs = 100;

    // evconnlistener_new: nullptr if listen() fails (fd is then still the caller's).
    static evconnlistener *create(event_base *base, evconnlistener_cb cb, void *arg,
                                  unsigned flags, int backlog, int fd) noexcept;
    // evconnlistener_new_bind.
    static evconnlistener *create_bound(event_base *base, evconnlistener_cb cb, void *arg,
                                        unsigned flags, int backlog, const sockaddr *sa,
                                        int socklen) noexcept;

    void release() noexcept;  // evconnlistener_free
    int enable() noexcept;
    int disable() noexcept;
    void set_callback(evconnlistener_cb cb, void *arg) noexcept;
    void set_error_callback(evconnlistener_errorcb cb) noexcept;
    int fd() const noexcept { return event_get_fd(&accept_ev_); }
    event_base *base() const noexcept { return event_get_base(&accept_ev_); }

    evconnlistener(unsigned flags) noexcept;
    ~evconnlistener() = default;

private:
    static void on_readable(evutil_socket_t fd, short what, void *self) noexcept;
    static void on_retry(evutil_socket_t fd, short what, void *self) noexcept;

    void accept_pending() noexcept;
    int arm() noexcept;          // adds the read event unless backing off; lock held
    void start_backoff() noexcept;
    // Drops one reference with lock_ held; unlocks, and destroys on the last one.
    void unref_and_unlock() noexcept;

    event accept_ev_{};
    event retry_ev_{};
    reevent::core::Lock lock_;
    evconnlistener_cb cb_ = nullptr;
    evconnlistener_errorcb error_cb_ = nullptr;
    void *arg_ = nullptr;
    unsigned flags_;
    int accept_flags_ = 0;  // SOCK_NONBLOCK / SOCK_CLOEXEC for accept4
    int refs_ = 1;          // the creator's, plus one per running callback
    int backoff_ms_ = 0;    // 0: not backing off
    bool enabled_ = false;
    bool backing_off_ = false;
};
