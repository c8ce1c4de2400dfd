// The private bufferevent object and what the kinds (socket, pair, filter) share.
//
// A Bev starts with the public struct bufferevent (bufferevent_struct.h), so the C handle
// and the Bev are the same address. The library reads the callbacks, watermarks, timeouts
// and `enabled` from those public slots every time (programs such as redsocks overwrite
// readcb/writecb behind our back). Each kind plugs in through a bufferevent_ops table
// (opaque to users) instead of virtual functions: a vtable pointer would sit in front of
// the public prefix.
//
// Lifetime: a reference count; bufferevent_free() clears the callbacks and drops the user's
// reference; in-flight event handlers and a queued deferred callback hold their own. The
// last reference removes the events, closes what CLOSE_ON_FREE says, and frees the memory
// at once (libevent postpones this to the loop).
//
// Locking: only BEV_OPT_THREADSAFE bufferevents have a lock (shared with their evbuffers,
// with a pair's partner and with a filter's underlying bufferevent). Like libevent, user
// callbacks run holding it unless BEV_OPT_UNLOCK_CALLBACKS; the loop never holds the base
// lock while it calls us, so the order is bufferevent -> base -> evbuffer.
#pragma once

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "core/deferred.h"
#include "core/lock.h"

namespace reevent::bev {
struct Bev;
struct RateLimit;
struct Kit;
}  // namespace reevent::bev

// One table per kind; the public be_ops slot points at it.
struct bufferevent_ops {
    const char *name;
    // Turn the transport's reading/writing on or off (after suspension was considered).
    int (*enable)(reevent::bev::Bev *b, short what);
    int (*disable)(reevent::bev::Bev *b, short what);
    // bufferevent_free(): detach from peers while other references may still exist.
    void (*unlink)(reevent::bev::Bev *b);
    // The last reference went: release what the kind owns (fd, context, underlying).
    void (*destruct)(reevent::bev::Bev *b);
    // The timeouts in the public slots changed.
    void (*adj_timeouts)(reevent::bev::Bev *b);
    int (*flush)(reevent::bev::Bev *b, short iotype, bufferevent_flush_mode mode);
    int (*get_fd)(reevent::bev::Bev *b);
    int (*set_fd)(reevent::bev::Bev *b, int fd);
    reevent::bev::Bev *(*underlying)(reevent::bev::Bev *b);
    // A kind that talks through another bufferevent (libevent_openssl's) returns it here;
    // if that is a socket bufferevent, bufferevent_socket_connect* reach it.
    reevent::bev::Bev *(*socket_of)(reevent::bev::Bev *b);
    // Core's entry points for kinds built in add-on libraries (bufferevent/kit.h).
    const reevent::bev::Kit *kit;
};

namespace reevent::bev {

// Why reading or writing is paused besides the user's enable/disable.
enum Suspend : uint8_t {
    kSuspendWm = 1,        // read high-water mark reached
    kSuspendBw = 2,        // own token bucket empty
    kSuspendBwGroup = 4,   // group token bucket empty
    kSuspendLookup = 8,    // resolving a host name
    kSuspendFilter = 16,   // a filter on top does not want to read
};

// libevent's answer for "the default single read/write size".
inline constexpr ssize_t kDefaultMaxSingle = 16384;
// libevent 2.1's EVBUFFER_MAX_READ: its evbuffer_read never reads more at once.
inline constexpr ssize_t kLibeventMaxRead = 4096;

struct Bev {
    bufferevent pub{};  // must stay first: the C handle points here
    // Private part: 48 bytes (Bev 440, a 448-byte malloc chunk; an idle connection's whole
    // cost is budgeted at 600 bytes, unit test BuffereventMemory). Rare state lives behind
    // pointers allocated on first use; small fields are packed.
    core::Lock *lock = nullptr;
    // Allocated on first use: most bufferevents of a server never defer a callback, and
    // 64 bytes per idle connection matter.
    core::Deferred *deferred = nullptr;
    RateLimit *rate = nullptr;
    // Sizes chosen by bufferevent_set_max_single_read/_write; 0 means the default.
    int32_t max_single_read = 0;
    int32_t max_single_write = 0;
    int refcnt = 1;
    int16_t errno_pending = 0;  // errno values fit
    int16_t dns_error = 0;      // EAI_* codes fit
    short deferred_pri = -1;    // priority for the deferred callback (-1: the middle one)
    // Event bits waiting for the deferred callback: a short, as the callback's argument
    // (bufferevent_trigger_event may pass any bits; libevent keeps them all).
    uint16_t eventcb_pending = 0;
    // The flags below are ordered to fill four bytes exactly (no bit-field straddles a byte).
    uint8_t options : 4 = 0;      // BEV_OPT_* (four bits)
    // Inside the user's read / write callback (restored on return, so nesting works as a
    // counter would: a callback that would run inside itself is deferred instead).
    bool in_readcb : 1 = false;
    bool in_writecb : 1 = false;
    bool own_lock : 1 = false;
    bool dead : 1 = false;        // destruction started: handlers must return at once
    uint8_t read_suspended : 5 = 0;  // Suspend bits
    bool freed : 1 = false;       // bufferevent_free() was called
    bool readcb_pending : 1 = false;
    bool writecb_pending : 1 = false;
    uint8_t write_suspended : 5 = 0;
    bool deferred_queued : 1 = false;
    bool connecting : 1 = false;
    bool connection_refused : 1 = false;
    bool just_connected : 1 = false;  // the read side saw the connect finish first
    // Socket: the read handler is running the read callback; output added meanwhile is
    // written by that handler when the callback returns (write_soon) instead of through
    // an event_active round trip.
    bool sock_reading : 1 = false;
    bool write_soon : 1 = false;
    // Socket: the write handler is running the write callback; output added meanwhile is
    // written in the next loop iteration, after a poll (see output_cb).
    bool sock_writing : 1 = false;
};
static_assert(sizeof(Bev) <= sizeof(bufferevent) + 48, "keep the private part at 48 bytes");

inline ssize_t max_single_read(const Bev *b) noexcept {
    return b->max_single_read ? b->max_single_read : kDefaultMaxSingle;
}
inline ssize_t max_single_write(const Bev *b) noexcept {
    return b->max_single_write ? b->max_single_write : kDefaultMaxSingle;
}
// The base the bufferevent lives on: its events' base, else pub.ev_base, else the current
// base (bufferevent_new with event_init).
event_base *base_of(const Bev *b) noexcept;

inline Bev *from(bufferevent *b) noexcept { return reinterpret_cast<Bev *>(b); }
inline const Bev *from(const bufferevent *b) noexcept { return reinterpret_cast<const Bev *>(b); }
inline bufferevent *handle(Bev *b) noexcept { return &b->pub; }

// ---- construction (common part) ------------------------------------------------------------
// Sets up buffers, lock, deferred callback and defaults. `shared_lock` (may be null) is used
// instead of a new lock when THREADSAFE is asked for. False on allocation failure; the
// caller then calls destroy_unlinked().
bool init_common(Bev *b, event_base *base, const bufferevent_ops *ops, int options,
                 core::Lock *shared_lock) noexcept;
// Frees a Bev whose construction failed half way (no events pending).
void destroy_unlinked(Bev *b) noexcept;

// ---- locking and references ------------------------------------------------------------------
inline void lock(Bev *b) noexcept { if (b->lock) b->lock->lock(); }
inline void unlock(Bev *b) noexcept { if (b->lock) b->lock->unlock(); }
inline void incref_and_lock(Bev *b) noexcept { lock(b); ++b->refcnt; }
// Drops a reference and the lock; destroys the object on the last one. True if destroyed.
bool decref_and_unlock(Bev *b) noexcept;

// Points the deferred callback at another base and/or priority (-1: the middle one).
void deferred_rebind(Bev *b, event_base *base, int priority) noexcept;

// ---- callbacks --------------------------------------------------------------------------
// Each checks the public slot; `options` may add BEV_OPT_DEFER_CALLBACKS. Callers hold a
// reference (a callback may free the bufferevent).
void run_readcb(Bev *b, int options) noexcept;
void run_writecb(Bev *b, int options) noexcept;
void run_eventcb(Bev *b, short what, int options) noexcept;
// An option bit of ours (above libevent's BEV_TRIG_* bits): the program's own
// bufferevent_trigger, which runs a data callback even from inside itself, nested, as
// libevent does (the recursion is the program's own call). Our internal paths leave it
// out: a callback they would run inside itself is deferred, bounding recursion.
inline constexpr int kTrigByProgram = 1 << 24;
// Runs read/write callbacks if the watermarks allow (or BEV_TRIG_IGNORE_WATERMARKS).
void trigger_nolock(Bev *b, short iotype, int options) noexcept;

// ---- enabling -----------------------------------------------------------------------------
int enable(Bev *b, short what) noexcept;
int disable(Bev *b, short what) noexcept;
void suspend_read(Bev *b, uint8_t why) noexcept;
void unsuspend_read(Bev *b, uint8_t why) noexcept;
void suspend_write(Bev *b, uint8_t why) noexcept;
void unsuspend_write(Bev *b, uint8_t why) noexcept;

void set_watermark(Bev *b, short events, size_t low, size_t high) noexcept;
int set_timeouts(Bev *b, const timeval *tr, const timeval *tw) noexcept;
void release(Bev *b) noexcept;  // bufferevent_free

// event_add with the timeout only when it is set.
int add_event(event *ev, const timeval *tv) noexcept;

// ---- generic timeouts (pair, filter): ev_read/ev_write used as plain timers -------------------
void generic_init_timeouts(Bev *b) noexcept;
void generic_arm(Bev *b, short what) noexcept;     // (re)start the timers of `what` if set
void generic_disarm(Bev *b, short what) noexcept;
void generic_adj_timeouts(Bev *b) noexcept;

// ---- rate limiting (rate_limit.cpp) --------------------------------------------------------
// How much one read / write may move now (0: nothing).
ssize_t limit_max(Bev *b, bool write) noexcept;
// Account for bytes moved (may suspend).
void decrement_read_buckets(Bev *b, ssize_t n) noexcept;
void decrement_write_buckets(Bev *b, ssize_t n) noexcept;
// Nothing may move now: pause that direction until the buckets refill (no busy loop).
void rate_starved(Bev *b, bool write) noexcept;
// Called from destroy: leave the group, stop the refill timer, free the state.
void rate_limit_destroy(Bev *b) noexcept;

// ---- kinds ---------------------------------------------------------------------------------
extern const bufferevent_ops kSocketOps;
extern const bufferevent_ops kPairOps;
extern const bufferevent_ops kFilterOps;

}  // namespace reevent::bev
