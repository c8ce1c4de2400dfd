// See resolver.h. Request life: resolve() -> waiting (no nameserver, too many in flight,
// or suspended) -> in flight (sent to one nameserver, timer armed; retransmitted on
// timeout, possibly to another server; next search candidate on a negative answer) ->
// delivering (outcome stored, callback run from the loop by deliver_ev) -> freed.
#include "dns/resolver.h"

#include "core/addon_abi.h"
#include "dns/getaddrinfo.h"

#include <event2/thread.h>
#include <event2/util.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace reevent::dns {
namespace {

std::atomic<evdns_debug_log_fn_type> g_log_fn{nullptr};

// ---- intrusive lists --------------------------------------------------------------------

void unlink(Request *&head, Request *r, Request **tail = nullptr) noexcept {
    if (r->prev)
        r->prev->next = r->next;
    else
        head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else if (tail)
        *tail = r->prev;
    r->prev = r->next = nullptr;
}

void push_front(Request *&head, Request *r) noexcept {
    r->prev = nullptr;
    r->next = head;
    if (head) head->prev = r;
    head = r;
}

void push_back_waiting(Base *b, Request *r) noexcept {
    r->next = nullptr;
    r->prev = b->waiting_tail;
    if (b->waiting_tail)
        b->waiting_tail->next = r;
    else
        b->waiting = r;
    b->waiting_tail = r;
}

int count_in_flight(const Base *b) noexcept {
    int n = 0;
    for (Request *r = b->in_flight; r; r = r->next) ++n;
    return n;
}

const char *format_addr(const Nameserver *ns, char *buf, size_t size) noexcept {
    char ip[64] = "?";
    int port = 0;
    if (ns->addr.ss_family == AF_INET) {
        auto *sin = reinterpret_cast<const sockaddr_in *>(&ns->addr);
        evutil_inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
        port = ntohs(sin->sin_port);
        std::snprintf(buf, size, "%s:%d", ip, port);
    } else {
        auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(&ns->addr);
        evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
        port = ntohs(sin6->sin6_port);
        std::snprintf(buf, size, "[%s]:%d", ip, port);
    }
    return buf;
}

// ---- nameserver state -------------------------------------------------------------------

// The read event is wanted unless the base was made with EVDNS_BASE_DISABLE_WHEN_INACTIVE
// and nothing is waiting for this server (then the loop may exit when idle).
void update_reading(Nameserver *ns) noexcept {
    bool want = !ns->base->disable_when_inactive || ns->in_flight > 0;
    if (want == ns->reading) return;
    if (want)
        ns->reading = event_add(ns->read_ev, nullptr) == 0;
    else {
        event_del_noblock(ns->read_ev);
        ns->reading = false;
    }
}

void cancel_probe(Nameserver *ns) noexcept;

void nameserver_up(Nameserver *ns) noexcept {
    ns->timeouts = 0;
    if (ns->up) return;
    ns->up = true;
    ns->failed_probes = 0;
    event_del_noblock(ns->revive_ev);
    cancel_probe(ns);  // its answer no longer matters
    char buf[80];
    log(false, "Nameserver %s is back up", format_addr(ns, buf, sizeof buf));
}

void nameserver_failed(Nameserver *ns, const char *why) noexcept {
    if (!ns->up) return;
    ns->up = false;
    char buf[80];
    log(false, "Nameserver %s has failed: %s", format_addr(ns, buf, sizeof buf), why);
    // After the probe delay, a query of its own tells whether it is back.
    event_add(ns->revive_ev, &ns->base->probe_delay);
    bool any_up = false;
    for (Nameserver *s = ns->base->servers; s; s = s->next) any_up = any_up || s->up;
    if (!any_up) log(false, "All nameservers have failed");
}

// The next server in rotation, preferring ones that are up; null when there is none.
Nameserver *pick(Base *b) noexcept {
    if (!b->servers) return nullptr;
    Nameserver *start = b->next_pick ? b->next_pick : b->servers;
    Nameserver *chosen = nullptr;
    Nameserver *s = start;
    do {
        if (s->up) {
            chosen = s;
            break;
        }
        s = s->next ? s->next : b->servers;
    } while (s != start);
    if (!chosen) chosen = start;  // all down: keep rotating anyway
    b->next_pick = chosen->next ? chosen->next : b->servers;
    return chosen;
}

// ---- requests ---------------------------------------------------------------------------

uint16_t fresh_id(const Base *b) noexcept {
    for (;;) {
        uint16_t id;
        evutil_secure_rng_get_bytes(&id, sizeof id);
        bool used = false;
        for (Request *r = b->in_flight; r && !used; r = r->next) used = r->id == id;
        if (!used) return id;
    }
}

int dots_in(const char *s) noexcept {
    int n = 0;
    for (; *s; ++s) n += *s == '.';
    return n;
}

// The name for search step `step` into r->name; false when the candidates are used up.
bool candidate(Request *r, int step) noexcept {
    const Base *b = r->base;
    int n = r->searching ? b->domain_count : 0;
    if (step > n) return false;
    bool raw_first = !r->searching || dots_in(r->original) >= b->ndots;
    int domain = raw_first ? step - 1 : step;  // -1 or n: the name itself
    if (domain < 0 || domain >= n) {
        std::snprintf(r->name, sizeof r->name, "%s", r->original);
        // A final dot ends the name ("host." is "host"): the reply's question has none.
        size_t len = std::strlen(r->name);
        if (len > 1 && r->name[len - 1] == '.') r->name[len - 1] = '\0';
        return true;
    }
    size_t len = std::strlen(r->original);
    const char *dot = len && r->original[len - 1] == '.' ? "" : ".";
    int w = std::snprintf(r->name, sizeof r->name, "%s%s%s", r->original, dot, b->domains[domain].get());
    return w > 0 && static_cast<size_t>(w) < sizeof r->name;
}

void on_timeout(evutil_socket_t, short, void *arg) noexcept;
void on_deliver(evutil_socket_t, short, void *arg) noexcept;
void pump_waiting(Base *b) noexcept;

void set_ns(Request *r, Nameserver *ns) noexcept {
    if (r->ns == ns) return;
    if (r->ns) {
        r->ns->in_flight--;
        update_reading(r->ns);
    }
    r->ns = ns;
    if (ns) {
        ns->in_flight++;
        update_reading(ns);
    }
}

void transmit(Request *r) noexcept {
    unsigned char msg[kMaxUdp];
    size_t len = build_query(r->id, r->name, r->qtype, msg);
    // A send that fails (buffer full, no route, a broadcast address) is left to the timeout.
    if (len)
        (void)sendto(r->ns->fd, msg, len, MSG_NOSIGNAL,
                     reinterpret_cast<const sockaddr *>(&r->ns->addr), r->ns->addrlen);
    r->tx_count++;
    event_add(r->timeout_ev, &r->base->timeout);
}

void start(Request *r) noexcept {
    Base *b = r->base;
    r->in_flight = true;
    push_front(b->in_flight, r);
    r->id = fresh_id(b);
    r->tx_count = 0;
    set_ns(r, pick(b));
    transmit(r);
}

// Moves r to the delivering list; its callback runs from the loop.
void finish(Request *r, int err) noexcept {
    Base *b = r->base;
    if (r->in_flight) {
        unlink(b->in_flight, r);
        r->in_flight = false;
    } else {
        unlink(b->waiting, r, &b->waiting_tail);
    }
    event_del_noblock(r->timeout_ev);
    set_ns(r, nullptr);
    r->err = err;
    r->done = true;
    push_front(b->delivering, r);
    event_active(r->deliver_ev, EV_TIMEOUT, 1);
    pump_waiting(b);
}

// Tries the next search candidate; false if there is none.
bool next_candidate(Request *r) noexcept {
    if (!r->searching || !candidate(r, r->search_step + 1)) return false;
    r->search_step++;
    r->id = fresh_id(r->base);
    r->tx_count = 0;
    event_del_noblock(r->timeout_ev);
    transmit(r);
    return true;
}

void timed_out(Request *r) noexcept {
    Nameserver *ns = r->ns;
    if (++ns->timeouts > r->base->max_timeouts) nameserver_failed(ns, "request timed out.");
    if (r->tx_count >= r->base->attempts) {
        finish(r, DNS_ERR_TIMEOUT);
        nameserver_failed(ns, "request timed out.");
        return;
    }
    if (!r->probe_for) set_ns(r, pick(r->base));  // a probe is for its own server only
    transmit(r);
}

void on_timeout(evutil_socket_t, short, void *arg) noexcept {
    auto *r = static_cast<Request *>(arg);
    Held h(r->base);
    // While this waited for the lock, another thread may have finished the request, put it
    // back to waiting, or sent it again (its timer added anew): then this timeout is stale.
    if (r->done || !r->in_flight || event_pending(r->timeout_ev, EV_TIMEOUT, nullptr)) return;
    timed_out(r);
}

void handle_reply(Request *r, Owned<Reply> reply) noexcept {
    Nameserver *ns = r->ns;
    event_del_noblock(r->timeout_ev);
    // A probe's own answer: it is no longer open (nameserver_up must not cancel it).
    if (r->probe_for && r->probe_for->probe == r) r->probe_for->probe = nullptr;
    if (r->cname_dest && !r->cname_dest[0] && reply->cname[0])
        std::memcpy(r->cname_dest, reply->cname, std::strlen(reply->cname) + 1);
    int err = DNS_ERR_NONE;
    if (reply->truncated) {
        err = DNS_ERR_TRUNCATED;  // no TCP fallback, as in libevent 2.1
    } else if (reply->rcode == 2) {
        // SERVFAIL may be a passing problem of this server: retried like a timeout.
        timed_out(r);
        return;
    } else if (reply->rcode == 4 || reply->rcode == 5) {
        err = reply->rcode == 4 ? DNS_ERR_NOTIMPL : DNS_ERR_REFUSED;
        char why[64];
        std::snprintf(why, sizeof why, "Bad response %d (%s)", err, evdns_err_to_string(err));
        nameserver_failed(ns, why);
        Nameserver *other = pick(r->base);
        if (!r->probe_for && r->reissues < 1 && other && other->up && other != ns) {
            r->reissues++;
            set_ns(r, other);
            transmit(r);
            return;
        }
    } else if (reply->rcode != 0) {
        err = reply->rcode == 1 ? DNS_ERR_FORMAT : reply->rcode == 3 ? DNS_ERR_NOTEXIST : DNS_ERR_UNKNOWN;
    } else if (reply->count == 0) {
        err = DNS_ERR_NODATA;
    }
    if (err != DNS_ERR_REFUSED && err != DNS_ERR_NOTIMPL) nameserver_up(ns);
    if (err == DNS_ERR_NONE) {
        r->reply = reply.release();
        finish(r, DNS_ERR_NONE);
        return;
    }
    if (err != DNS_ERR_TRUNCATED && next_candidate(r)) return;
    r->err_ttl = static_cast<int>(reply->ttl);
    finish(r, err);
}

Request *find_request(Base *b, const Reply &reply) noexcept {
    for (Request *r = b->in_flight; r; r = r->next) {
        if (r->id == reply.id && r->qtype == reply.qtype &&
            evutil_ascii_strcasecmp(r->name, reply.question) == 0)
            return r;
    }
    return nullptr;
}

bool same_host(const sockaddr_storage &a, const sockaddr_storage &b) noexcept {
    if (a.ss_family != b.ss_family) return false;
    if (a.ss_family == AF_INET)
        return reinterpret_cast<const sockaddr_in &>(a).sin_addr.s_addr ==
               reinterpret_cast<const sockaddr_in &>(b).sin_addr.s_addr;
    if (a.ss_family == AF_INET6)
        return std::memcmp(&reinterpret_cast<const sockaddr_in6 &>(a).sin6_addr,
                           &reinterpret_cast<const sockaddr_in6 &>(b).sin6_addr,
                           sizeof(in6_addr)) == 0;
    return false;
}

void on_read(evutil_socket_t fd, short, void *arg) noexcept {
    auto *ns = static_cast<Nameserver *>(arg);
    Base *b = ns->base;
    Held h(b);
    if (ns->dead) return;  // removed by another thread while this waited for the lock
    for (int i = 0; i < 64; ++i) {
        unsigned char msg[1500];
        sockaddr_storage from{};
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, msg, sizeof msg, MSG_DONTWAIT, reinterpret_cast<sockaddr *>(&from),
                             &fromlen);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // EAGAIN: the timeout deals with anything lost
        }
        // The socket is not connected (as libevent's): a datagram counts only when it comes
        // from the nameserver's IP address, from any port.
        if (!same_host(from, ns->addr)) continue;
        Owned<Reply> reply(make_obj<Reply>());
        if (!reply) return;
        if (!parse_reply(msg, static_cast<size_t>(n), 0, *reply)) continue;
        Request *r = find_request(b, *reply);
        if (!r) continue;
        handle_reply(r, std::move(reply));  // callbacks are deferred: ns and b stay valid here
    }
}

void deliver_now(Request *r, evdns_callback_type cb, void *arg) noexcept {
    int err = r->err;
    Reply *reply = r->reply;
    if (err != DNS_ERR_NONE || !reply) {
        if (cb) cb(err, 0, 0, err == DNS_ERR_NONE ? 0 : r->err_ttl, nullptr, arg);
        return;
    }
    int ttl = static_cast<int>(reply->ttl);
    if (!cb) return;
    if (r->qtype == kTypeA) {
        cb(DNS_ERR_NONE, DNS_IPv4_A, reply->count, ttl, reply->a, arg);
    } else if (r->qtype == kTypeAaaa) {
        cb(DNS_ERR_NONE, DNS_IPv6_AAAA, reply->count, ttl, reply->aaaa, arg);
    } else if (cb) {
        char *name = reply->ptr;
        cb(DNS_ERR_NONE, DNS_PTR, 1, ttl, &name, arg);
    }
}

void on_deliver(evutil_socket_t, short, void *arg) noexcept {
    auto *r = static_cast<Request *>(arg);
    evdns_callback_type cb;
    void *cb_arg;
    {
        Held h(r->base);
        if (r->base) unlink(r->base->delivering, r);  // (no base: it was freed meanwhile)
        cb = r->callback;  // (a probe's is cleared, under the lock, when its server goes)
        cb_arg = r->arg;
    }
    // The callback runs without the lock; it may free the base or start new requests. r is
    // off every list and done (cancel leaves it alone); only the loop thread frees it.
    deliver_now(r, cb, cb_arg);
    destroy_obj(r);
}

void pump_waiting(Base *b) noexcept {
    if (!b->servers) return;
    int n = count_in_flight(b);
    while (b->waiting && n < b->max_inflight) {
        Request *r = b->waiting;
        unlink(b->waiting, r, &b->waiting_tail);
        start(r);
        ++n;
    }
}

void apply_buffer_sizes(Nameserver *ns) noexcept {
    const Base *b = ns->base;
    if (b->so_rcvbuf) setsockopt(ns->fd, SOL_SOCKET, SO_RCVBUF, &b->so_rcvbuf, sizeof b->so_rcvbuf);
    if (b->so_sndbuf) setsockopt(ns->fd, SOL_SOCKET, SO_SNDBUF, &b->so_sndbuf, sizeof b->so_sndbuf);
}

// A probe's outcome: any answer (even NXDOMAIN) means the server is back; otherwise the
// next probe waits three times longer, up to an hour (libevent's backoff).
void on_probe(int result, char, int, int, void *, void *arg) {
    auto *ns = static_cast<Nameserver *>(arg);
    if (result == DNS_ERR_CANCEL || result == DNS_ERR_SHUTDOWN) return;
    Held h(ns->base);  // (ns is alive: its removal clears this callback first)
    ns->probe = nullptr;
    if (result == DNS_ERR_NONE || result == DNS_ERR_NOTEXIST) {
        nameserver_up(ns);
        return;
    }
    if (ns->up) return;
    timeval delay = ns->base->probe_delay;
    for (int i = 0; i < ns->failed_probes && delay.tv_sec < 3600; ++i) {
        delay.tv_sec *= 3;
        delay.tv_usec *= 3;
        delay.tv_sec += delay.tv_usec / 1000000;
        delay.tv_usec %= 1000000;
    }
    if (delay.tv_sec >= 3600) delay = {3600, 0};
    ns->failed_probes++;
    event_add(ns->revive_ev, &delay);
}

// The probe delay has passed: ask the server a name of our own (as libevent does).
void send_probe(evutil_socket_t, short, void *arg) noexcept {
    auto *ns = static_cast<Nameserver *>(arg);
    Base *b = ns->base;
    Held h(b);
    if (ns->dead || ns->up || ns->probe) return;
    Owned<Request> r(make_obj<Request>());
    if (!r) return;
    r->base = b;
    r->qtype = kTypeA;
    r->callback = on_probe;
    r->arg = ns;
    r->probe_for = ns;
    std::snprintf(r->original, sizeof r->original, "google.com");
    std::snprintf(r->name, sizeof r->name, "google.com");
    r->timeout_ev = event_new(b->ev_base, -1, 0, on_timeout, r.get());
    r->deliver_ev = event_new(b->ev_base, -1, 0, on_deliver, r.get());
    if (!r->timeout_ev || !r->deliver_ev) return;
    Request *raw = r.release();
    ns->probe = raw;
    // Straight in flight to this server, whatever max-inflight says.
    raw->in_flight = true;
    push_front(b->in_flight, raw);
    raw->id = fresh_id(b);
    set_ns(raw, ns);
    transmit(raw);
}

void cancel_probe(Nameserver *ns) noexcept {
    Request *p = ns->probe;
    if (!p) return;
    ns->probe = nullptr;
    p->callback = nullptr;  // nothing to report
    p->probe_for = nullptr;
    if (p->done) return;  // already answered: its (now empty) delivery is on its way
    finish(p, DNS_ERR_CANCEL);
}

// Before a server goes away: its probe must not report to it any more.
void forget_probe(Nameserver *ns) noexcept {
    for (Request **list : {&ns->base->in_flight, &ns->base->waiting, &ns->base->delivering})
        for (Request *r = *list; r; r = r->next)
            if (r->probe_for == ns) {
                r->probe_for = nullptr;
                r->callback = nullptr;
            }
    ns->probe = nullptr;
}

void nameserver_finalized(event *, void *arg) noexcept {
    auto *ns = static_cast<Nameserver *>(arg);
    if (ns->finalizing.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_obj(ns);
}

// Removes a nameserver (lock held). Without a lock (one thread) at once. With one, a
// callback of its events may be waiting for the lock in the loop thread: the events are
// finalized instead (no new callback; a running one returns first) and the last finalizer
// frees it, so that callback finds it marked dead, not freed.
void retire(Nameserver *ns) noexcept {
    if (!ns->base->lock) {
        destroy_obj(ns);
        return;
    }
    ns->dead = true;
    ns->reading = false;
    ns->finalizing.store(1, std::memory_order_relaxed);  // our own hold, dropped below
    for (event **ev : {&ns->read_ev, &ns->revive_ev}) {
        if (!*ev) continue;
        ns->finalizing.fetch_add(1, std::memory_order_relaxed);
        if (event_free_finalize(0, *ev, nameserver_finalized) == 0)
            *ev = nullptr;
        else
            ns->finalizing.fetch_sub(1, std::memory_order_relaxed);  // (then freed with ns)
    }
    // The socket stays open until the last finalizer (in the loop thread, after the loop has
    // applied the read event's removal): closed now, its number could be reused by another
    // thread's socket before the loop's epoll_ctl on it.
    nameserver_finalized(nullptr, ns);
}

}  // namespace

// ---- public operations ------------------------------------------------------------------

Nameserver::~Nameserver() {
    if (read_ev) event_free(read_ev);
    if (revive_ev) event_free(revive_ev);
    if (fd >= 0) close(fd);
}

Request::~Request() {
    if (timeout_ev) event_free(timeout_ev);
    if (deliver_ev) event_free(deliver_ev);
    destroy_obj(reply);
}

Base::~Base() {
    for (int i = 0; i < domain_count; ++i) domains[i].~OwnedStr();
    event_mm_free_(domains);
}

Base *new_base(event_base *eb, int flags) noexcept {
    Base *b = make_obj<Base>();
    if (!b) return nullptr;
    // A lock only where libevent has one: lock callbacks installed (evthread_use_pthreads).
    const evthread_lock_callbacks *cbs = evthread_get_lock_callbacks();
    if (cbs && cbs->alloc && cbs->free && cbs->lock && cbs->unlock) {
        b->lock = cbs->alloc(EVTHREAD_LOCKTYPE_RECURSIVE);
        if (!b->lock) {
            destroy_obj(b);
            return nullptr;
        }
        b->lock_fn = cbs->lock;
        b->unlock_fn = cbs->unlock;
        b->lock_free_fn = cbs->free;
    }
    b->ev_base = eb;
    b->disable_when_inactive = (flags & EVDNS_BASE_DISABLE_WHEN_INACTIVE) != 0;
    return b;
}

void free_base(Base *b, bool fail_requests) noexcept {
    lock(b);
    for (Nameserver *ns = b->servers; ns; ns = ns->next) forget_probe(ns);  // they report to ns
    // Callbacks run from the loop, after the base is gone: answers already received keep
    // their outcome, requests still open get SHUTDOWN if asked (or vanish silently).
    auto orphan = [](Request *r, int err) {
        event_del_noblock(r->timeout_ev);
        if (r->gai) getaddrinfo_base_gone(r->gai, r, false);
        r->done = true;
        r->base = nullptr;
        r->ns = nullptr;
        r->in_flight = false;
        r->prev = r->next = nullptr;
        r->err = err;
        event_active(r->deliver_ev, EV_TIMEOUT, 1);
    };
    while (Request *r = b->delivering) {
        unlink(b->delivering, r);
        orphan(r, r->err);
    }
    for (Request **list : {&b->in_flight, &b->waiting}) {
        while (Request *r = *list) {
            unlink(*list, r);
            if (fail_requests && r->callback) {
                destroy_obj(r->reply);
                r->reply = nullptr;
                orphan(r, DNS_ERR_SHUTDOWN);
            } else {
                if (r->gai) getaddrinfo_base_gone(r->gai, r, true);
                r->ns = nullptr;
                destroy_obj(r);
            }
        }
    }
    b->waiting_tail = nullptr;
    while (Nameserver *ns = b->servers) {
        b->servers = ns->next;
        retire(ns);
    }
    void *l = b->lock;
    auto unlock_fn = b->unlock_fn;
    auto free_fn = b->lock_free_fn;
    destroy_obj(b);
    if (l) {
        unlock_fn(0, l);
        free_fn(l, EVTHREAD_LOCKTYPE_RECURSIVE);
    }
}

int add_nameserver(Base *b, const sockaddr *sa, socklen_t len) noexcept {
    // Only IP nameservers, each with a whole address of its family.
    if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) return 2;
    if (len > sizeof(sockaddr_storage) ||
        len < (sa->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6)))
        return 2;
    for (Nameserver *s = b->servers; s; s = s->next)
        if (s->addrlen == len && std::memcmp(&s->addr, sa, len) == 0) return 3;  // already there
    Owned<Nameserver> ns(make_obj<Nameserver>());
    if (!ns) return 4;
    ns->base = b;
    std::memcpy(&ns->addr, sa, len);
    ns->addrlen = len;
    ns->fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ns->fd < 0) return 1;
    if (b->bind_len && b->bind_addr.ss_family == sa->sa_family &&
        bind(ns->fd, reinterpret_cast<const sockaddr *>(&b->bind_addr), b->bind_len) != 0)
        return 2;
    // Not connect()ed, as in libevent: an address with no route yet (or one a socket may not
    // be connected to) is still added, and replies from another port of it are taken.
    apply_buffer_sizes(ns.get());
    ns->read_ev = event_new(b->ev_base, ns->fd, EV_READ | EV_PERSIST, on_read, ns.get());
    ns->revive_ev = event_new(b->ev_base, -1, 0, send_probe, ns.get());
    if (!ns->read_ev || !ns->revive_ev) return 4;
    // A NULL event_base and no event_init: nowhere to listen (libevent's code 2 as well).
    if (!event_get_base(ns->read_ev)) {
        log(true, "Unable to add nameserver: no event_base (NULL given and no event_init)");
        return 2;
    }
    update_reading(ns.get());
    // libevent's order: the first server stays first, each new one goes right after it.
    if (b->servers) {
        ns->next = b->servers->next;
        b->servers->next = ns.release();
    } else {
        b->servers = ns.release();
    }
    b->server_count++;
    return 0;
}

int add_nameserver_text(Base *b, const char *text) noexcept {
    sockaddr_storage ss{};
    int len = sizeof ss;
    if (evutil_parse_sockaddr_port(text, reinterpret_cast<sockaddr *>(&ss), &len) != 0) {
        log(true, "Unable to parse nameserver address %s", text);
        return 4;
    }
    // No port given: the DNS port.
    auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
    if (ss.ss_family == AF_INET && sin->sin_port == 0) sin->sin_port = htons(53);
    if (ss.ss_family == AF_INET6 && sin6->sin6_port == 0) sin6->sin6_port = htons(53);
    return add_nameserver(b, reinterpret_cast<sockaddr *>(&ss), static_cast<socklen_t>(len));
}

void clear_nameservers(Base *b) noexcept {
    for (Nameserver *ns = b->servers; ns; ns = ns->next) {
        cancel_probe(ns);
        forget_probe(ns);
    }
    // Requests in flight go back to the front of the waiting queue, in their order.
    while (b->in_flight) {
        Request *last = b->in_flight;
        while (last->next) last = last->next;
        unlink(b->in_flight, last);
        last->in_flight = false;
        event_del_noblock(last->timeout_ev);
        last->ns = nullptr;
        last->tx_count = 0;
        last->next = b->waiting;
        last->prev = nullptr;
        if (b->waiting)
            b->waiting->prev = last;
        else
            b->waiting_tail = last;
        b->waiting = last;
    }
    while (Nameserver *ns = b->servers) {
        b->servers = ns->next;
        retire(ns);
    }
    b->next_pick = nullptr;
    b->server_count = 0;
}

void resume(Base *b) noexcept { pump_waiting(b); }

void set_buffer_sizes(Base *b) noexcept {
    for (Nameserver *ns = b->servers; ns; ns = ns->next) apply_buffer_sizes(ns);
}

void search_clear(Base *b) noexcept {
    for (int i = 0; i < b->domain_count; ++i) b->domains[i].~OwnedStr();
    event_mm_free_(b->domains);
    b->domains = nullptr;
    b->domain_count = 0;
}

void search_add(Base *b, const char *domain) noexcept {
    while (*domain == '.') ++domain;
    OwnedStr copy = dup_str(domain);
    if (!copy) return;
    auto *grown = static_cast<OwnedStr *>(event_mm_malloc_(sizeof(OwnedStr) * (b->domain_count + 1)));
    if (!grown) return;
    // The newest domain is tried first.
    ::new (&grown[0]) OwnedStr(std::move(copy));
    for (int i = 0; i < b->domain_count; ++i) {
        ::new (&grown[i + 1]) OwnedStr(std::move(b->domains[i]));
        b->domains[i].~OwnedStr();
    }
    event_mm_free_(b->domains);
    b->domains = grown;
    b->domain_count++;
}

Request *resolve(Base *b, const char *name, uint16_t qtype, bool no_search, evdns_callback_type cb,
                 void *arg) noexcept {
    if (std::strlen(name) > kMaxName) return nullptr;
    Owned<Request> r(make_obj<Request>());
    if (!r) return nullptr;
    r->base = b;
    r->qtype = qtype;
    r->callback = cb;
    r->arg = arg;
    std::snprintf(r->original, sizeof r->original, "%s", name);
    r->searching = !no_search && qtype != kTypePtr && b->domain_count > 0;
    // An empty name cannot be searched: refused at once (no request, no callback), as by
    // libevent; without search it is asked as it is.
    if (r->searching && !*name) return nullptr;
    if (!candidate(r.get(), 0)) return nullptr;
    r->timeout_ev = event_new(b->ev_base, -1, 0, on_timeout, r.get());
    r->deliver_ev = event_new(b->ev_base, -1, 0, on_deliver, r.get());
    if (!r->timeout_ev || !r->deliver_ev) return nullptr;
    Request *raw = r.release();
    // Sent now if a nameserver can take it (even while older requests still wait for a
    // resume, as in libevent); otherwise it waits.
    if (b->servers && count_in_flight(b) < b->max_inflight)
        start(raw);
    else
        push_back_waiting(b, raw);
    return raw;
}

void cancel(Request *r) noexcept {
    if (r->done) return;  // already answered: its callback is on its way
    destroy_obj(r->reply);
    r->reply = nullptr;
    finish(r, DNS_ERR_CANCEL);
}

void set_log_fn(evdns_debug_log_fn_type fn) noexcept { g_log_fn.store(fn, std::memory_order_release); }

void log(bool warning, const char *fmt, ...) noexcept {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (evdns_debug_log_fn_type fn = g_log_fn.load(std::memory_order_acquire))
        fn(warning ? 1 : 0, buf);
    else if (warning)  // without an evdns log function: the general log, as in libevent
        event_warnx("%s", buf);
    else
        event_msgx("%s", buf);
}

}  // namespace reevent::dns
