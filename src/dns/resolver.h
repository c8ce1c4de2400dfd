// The client resolver behind struct evdns_base: nameservers (one connected UDP socket
// each), requests in flight with their timeouts and retransmits, requests waiting for a
// nameserver, search domains and the options of evdns_base_set_option. Everything runs on
// the event_base given to evdns_base_new, through reevent's public event API.
//
// Threads: as libevent's, a Base made while evthread lock callbacks are installed
// (evthread_use_pthreads) has a recursive lock from them, taken by every public entry point
// (dns_capi.cpp, through Held) and by the callbacks of the resolver's own events; without
// them it has none and costs one null test per call. User callbacks run without it. Events
// are deleted without waiting (event_del_noblock) while it is held: a callback of ours may
// be waiting for the lock in the loop thread, so each one checks, once it holds the lock,
// whether what it was woken for still stands (Request::done, Nameserver::dead, a timer
// added again). A nameserver removed while threads are on goes through event finalizers,
// so a callback that was waiting still finds its memory.
#pragma once

#include <event2/dns.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <cstdint>

#include "dns/hosts.h"
#include "dns/mem.h"
#include "dns/wire.h"

namespace reevent::dns {

struct Base;
struct GaiRequest;

struct Nameserver {
    Base *base = nullptr;
    Nameserver *next = nullptr;
    sockaddr_storage addr{};
    socklen_t addrlen = 0;
    int fd = -1;
    event *read_ev = nullptr;
    event *revive_ev = nullptr;  // sends a probe to a failed server after the probe delay
    struct Request *probe = nullptr;  // that probe while it is open
    int failed_probes = 0;       // each one triples the delay before the next (up to an hour)
    bool reading = false;
    bool up = true;
    int timeouts = 0;      // consecutive timeouts since the last good reply
    int in_flight = 0;     // requests sent to it and not yet answered
    bool dead = false;     // removed; its events are being finalized (threads only)
    // Finalizers still to run before it is freed, plus one while retire() holds it (they
    // run in the loop thread, possibly before retire() has finished: hence atomic).
    std::atomic<int> finalizing{0};
    ~Nameserver();
};

struct Request {
    Base *base = nullptr;
    Request *prev = nullptr, *next = nullptr;  // in base's in-flight or waiting list
    bool in_flight = false;
    uint16_t qtype = kTypeA;
    uint16_t id = 0;
    char name[kMaxName + 1] = {};         // the name being asked now
    char original[kMaxName + 1] = {};     // the name the caller gave (for search)
    bool searching = false;
    int search_step = 0;                  // candidates tried so far
    int tx_count = 0;                     // transmissions of the current name
    int reissues = 0;
    Nameserver *ns = nullptr;
    event *timeout_ev = nullptr;
    event *deliver_ev = nullptr;
    evdns_callback_type callback = nullptr;
    void *arg = nullptr;
    // The outcome handed to the callback from the loop.
    int err = DNS_ERR_NONE;
    int err_ttl = 0;                      // with an error: the negative caching time
    Reply *reply = nullptr;
    // Where the first CNAME target seen goes (evdns_getaddrinfo's AI_CANONNAME), or null;
    // kMaxName + 1 bytes, owned by the caller for the request's life.
    char *cname_dest = nullptr;
    Nameserver *probe_for = nullptr;      // a probe: asked of this server only
    bool done = false;                    // finished: delivering (cancel does nothing more)
    GaiRequest *gai = nullptr;            // the evdns_getaddrinfo lookup it is part of
    ~Request();
};

struct Base {
    event_base *ev_base = nullptr;
    bool disable_when_inactive = false;
    Nameserver *servers = nullptr;   // in order of adding
    Nameserver *next_pick = nullptr; // rotation
    int server_count = 0;
    Request *in_flight = nullptr;
    Request *waiting = nullptr;
    Request *waiting_tail = nullptr;
    Request *delivering = nullptr;   // answered, callback not yet run
    // Search domains, most recently added first (as libevent tries them).
    OwnedStr *domains = nullptr;
    int domain_count = 0;
    int ndots = 1;
    timeval timeout{5, 0};
    int attempts = 3;
    int max_timeouts = 3;
    timeval probe_delay{10, 0};
    int max_inflight = 64;
    timeval getaddrinfo_skew{3, 0};
    sockaddr_storage bind_addr{};    // "bind-to": local address of new sockets (len 0: none)
    socklen_t bind_len = 0;
    int so_rcvbuf = 0, so_sndbuf = 0;  // 0: the system's default
    Hosts hosts;
    // The lock (null unless evthread lock callbacks were installed when it was made) and
    // the functions it was allocated with.
    void *lock = nullptr;
    int (*lock_fn)(unsigned, void *) = nullptr;
    int (*unlock_fn)(unsigned, void *) = nullptr;
    void (*lock_free_fn)(void *, unsigned) = nullptr;
    ~Base();
};

inline void lock(Base *b) noexcept {
    if (b && b->lock) b->lock_fn(0, b->lock);
}
inline void unlock(Base *b) noexcept {
    if (b && b->lock) b->unlock_fn(0, b->lock);
}
// Holds b's lock (if b has one) for a scope.
class Held {
public:
    explicit Held(Base *b) noexcept : b_(b) { lock(b_); }
    ~Held() { unlock(b_); }
    Held(const Held &) = delete;
    Held &operator=(const Held &) = delete;

private:
    Base *b_;
};

Base *new_base(event_base *eb, int flags) noexcept;
// Takes b's lock itself and frees it with b. From the loop thread, or while the loop does
// not run (a callback of ours waiting for the lock would find the base gone, as in libevent).
void free_base(Base *b, bool fail_requests) noexcept;

// Nameservers.
int add_nameserver(Base *b, const sockaddr *sa, socklen_t len) noexcept;
int add_nameserver_text(Base *b, const char *text) noexcept;
void clear_nameservers(Base *b) noexcept;  // in-flight requests go back to waiting
void resume(Base *b) noexcept;
// Applies so_rcvbuf/so_sndbuf to every nameserver socket.
void set_buffer_sizes(Base *b) noexcept;

// Search list.
void search_clear(Base *b) noexcept;
void search_add(Base *b, const char *domain) noexcept;

// Options: name with or without the trailing colon. 0 or -1, like evdns_base_set_option.
int set_option(Base *b, const char *name, const char *value) noexcept;

// The functions below expect b's lock held (dns_capi.cpp takes it).

// Starts a query. Never runs the callback from inside the call.
Request *resolve(Base *b, const char *name, uint16_t qtype, bool no_search,
                 evdns_callback_type cb, void *arg) noexcept;
void cancel(Request *r) noexcept;

// Logging through evdns_set_log_fn's callback.
void set_log_fn(evdns_debug_log_fn_type fn) noexcept;
void log(bool warning, const char *fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

}  // namespace reevent::dns
