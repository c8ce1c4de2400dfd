// Deferred callbacks: work that evbuffer and bufferevent hand to a base's loop.
//
// A Deferred is embedded in its owner (an evbuffer, a bufferevent). schedule() queues it on
// the base; the base runs it from its loop thread after the events that are active in the
// current iteration (libevent's "active later" queue), so a callback is never re-entered
// from inside the code that scheduled it. Thread-safe: schedule() from another thread wakes
// the loop. Interface owned by the bufferevent/evbuffer users; implemented by the core
// (src/core/deferred.cpp).
#pragma once

#include <event2/event_struct.h>

struct event_base;

namespace reevent::core {

class Deferred {
public:
    using Fn = void (*)(Deferred *self, void *arg);

    Deferred() noexcept = default;
    Deferred(const Deferred &) = delete;
    Deferred &operator=(const Deferred &) = delete;

    // Binds to a base (may be called again with another base while not scheduled).
    // priority < 0 means the base's default (the middle priority, as libevent uses).
    void init(event_base *base, Fn fn, void *arg, int priority = -1) noexcept;
    // Queues the callback; false if it was already queued (it then runs once).
    bool schedule() noexcept;
    // Removes it from the queue; false if it was not queued.
    bool cancel() noexcept;
    bool scheduled() const noexcept;
    event_base *base() const noexcept { return base_; }
    // Calls fn(this, arg); used by the loop when the callback's turn comes.
    void run() noexcept;

    // The base's view of this object (intrusive queue link, flags, priority); the core
    // casts between Deferred and its event_callback through these, nobody else should.
    event_callback *callback() noexcept { return &cb_; }
    static Deferred *from_callback(event_callback *cb) noexcept;

private:
    event_callback cb_{};
    event_base *base_ = nullptr;
    Fn fn_ = nullptr;
    void *arg_ = nullptr;
};

}  // namespace reevent::core
