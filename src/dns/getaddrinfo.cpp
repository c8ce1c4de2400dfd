// See getaddrinfo.h.
#include "dns/getaddrinfo.h"

#include <netdb.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "dns/resolver.h"

namespace reevent::dns {
namespace {

// libevent's mark for lists it allocated itself; evutil_freeaddrinfo frees those with the
// memory hooks instead of the C library's freeaddrinfo.
constexpr int kAllocatedFlag = static_cast<int>(0x80000000u);

void free_list(evutil_addrinfo *ai) noexcept {
    while (ai) {
        evutil_addrinfo *next = ai->ai_next;
        event_mm_free_(ai->ai_canonname);
        event_mm_free_(ai);
        ai = next;
    }
}

// Appends one entry per socket type the hints ask for (stream and datagram when none).
bool append(evutil_addrinfo **tail_slot, const sockaddr *sa, socklen_t len, int port,
            const evutil_addrinfo &hints) noexcept {
    struct Kind {
        int socktype, protocol;
    } kinds[2];
    int n = 0;
    if (hints.ai_socktype == 0 && hints.ai_protocol == 0) {
        kinds[n++] = {SOCK_STREAM, IPPROTO_TCP};
        kinds[n++] = {SOCK_DGRAM, IPPROTO_UDP};
    } else {
        int st = hints.ai_socktype, pr = hints.ai_protocol;
        if (st == 0) st = pr == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
        if (pr == 0) pr = st == SOCK_DGRAM ? IPPROTO_UDP : st == SOCK_STREAM ? IPPROTO_TCP : 0;
        kinds[n++] = {st, pr};
    }
    for (int i = 0; i < n; ++i) {
        auto *ai = static_cast<evutil_addrinfo *>(event_mm_calloc_(1, sizeof(evutil_addrinfo) + len));
        if (!ai) return false;
        ai->ai_addr = reinterpret_cast<sockaddr *>(ai + 1);
        std::memcpy(ai->ai_addr, sa, len);
        if (sa->sa_family == AF_INET)
            reinterpret_cast<sockaddr_in *>(ai->ai_addr)->sin_port = htons(static_cast<uint16_t>(port));
        else
            reinterpret_cast<sockaddr_in6 *>(ai->ai_addr)->sin6_port = htons(static_cast<uint16_t>(port));
        ai->ai_addrlen = len;
        ai->ai_family = sa->sa_family;
        ai->ai_socktype = kinds[i].socktype;
        ai->ai_protocol = kinds[i].protocol;
        ai->ai_flags = kAllocatedFlag;
        *tail_slot = ai;
        while (*tail_slot) tail_slot = &(*tail_slot)->ai_next;
    }
    return true;
}

bool append_v4(evutil_addrinfo **list, const in_addr &a, int port, const evutil_addrinfo &hints) noexcept {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr = a;
    while (*list) list = &(*list)->ai_next;
    return append(list, reinterpret_cast<sockaddr *>(&sin), sizeof sin, port, hints);
}

bool append_v6(evutil_addrinfo **list, const in6_addr &a, int port, const evutil_addrinfo &hints) noexcept {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = a;
    while (*list) list = &(*list)->ai_next;
    return append(list, reinterpret_cast<sockaddr *>(&sin6), sizeof sin6, port, hints);
}

// The port of a service: a number, or a name from the services database. -1 if unknown.
int parse_service(const char *service, const evutil_addrinfo &hints) noexcept {
    if (!service) return 0;
    char *end;
    errno = 0;
    long v = std::strtol(service, &end, 10);
    if (*service && !*end && !errno) return v >= 0 && v <= 65535 ? static_cast<int>(v) : -1;
    if (hints.ai_flags & EVUTIL_AI_NUMERICSERV) return -1;
    const char *proto = hints.ai_socktype == SOCK_DGRAM || hints.ai_protocol == IPPROTO_UDP ? "udp" : "tcp";
    servent se, *found = nullptr;
    char buf[1024];
    if (getservbyname_r(service, proto, &se, buf, sizeof buf, &found) != 0 || !found) return -1;
    return ntohs(static_cast<uint16_t>(found->s_port));
}

bool wants(const evutil_addrinfo &hints, int family) noexcept {
    return hints.ai_family == AF_UNSPEC || hints.ai_family == family;
}

void set_canonname(evutil_addrinfo *res, const char *name, const evutil_addrinfo &hints) noexcept {
    if (res && (hints.ai_flags & EVUTIL_AI_CANONNAME)) res->ai_canonname = event_mm_strdup_(name);
}

int map_error(int dns_err) noexcept {
    if (dns_err == DNS_ERR_NONE) return 0;
    if (dns_err == DNS_ERR_NOTEXIST) return EVUTIL_EAI_NONAME;
    if (dns_err == DNS_ERR_CANCEL) return EVUTIL_EAI_CANCEL;
    return EVUTIL_EAI_FAIL;
}

}  // namespace

// One lookup through the resolver: up to two queries whose answers are merged. Its fields
// are guarded by base's lock (base is null once the base was freed: then only the loop
// thread, which runs the orphaned queries' callbacks, touches it).
struct GaiRequest {
    Base *base = nullptr;
    evdns_getaddrinfo_cb cb = nullptr;
    void *arg = nullptr;
    evutil_addrinfo hints{};
    int port = 0;
    char name[kMaxName + 1] = {};
    char cname[kMaxName + 1] = {};  // the first CNAME target either query saw
    Request *q4 = nullptr, *q6 = nullptr;
    int err4 = DNS_ERR_NONE, err6 = DNS_ERR_NONE;
    evutil_addrinfo *res4 = nullptr, *res6 = nullptr;
    int pending = 0;
    bool cancelled = false;
    event *skew_ev = nullptr;  // once one answer is in, how long to wait for the other
    timeval skew{};            // (a copy: answers may arrive after the base was freed)
    ~GaiRequest() {
        if (skew_ev) event_free(skew_ev);
        free_list(res4);
        free_list(res6);
    }
};

namespace {

// The lookup is over: merges the answers, frees g, releases b's lock (held by the caller)
// and runs the callback without it.
void complete(GaiRequest *g, Base *b) noexcept {
    evutil_addrinfo *res = nullptr;
    int err;
    if (g->cancelled) {
        err = EVUTIL_EAI_CANCEL;
    } else if (g->res4 || g->res6) {
        // IPv4 answers first, then IPv6.
        res = g->res4 ? g->res4 : g->res6;
        if (g->res4) {
            evutil_addrinfo *t = g->res4;
            while (t->ai_next) t = t->ai_next;
            t->ai_next = g->res6;
        }
        g->res4 = g->res6 = nullptr;
        // The canonical name is the CNAME target the answers came through; without one
        // libevent gives none.
        if (g->cname[0]) set_canonname(res, g->cname, g->hints);
        err = 0;
    } else {
        // A family not asked about keeps DNS_ERR_NONE here.
        int e4 = map_error(g->err4), e6 = map_error(g->err6);
        err = e4 == EVUTIL_EAI_NONAME || e6 == EVUTIL_EAI_NONAME ? EVUTIL_EAI_NONAME : e4 ? e4 : e6;
        if (!err) err = EVUTIL_EAI_NONAME;
    }
    evdns_getaddrinfo_cb cb = g->cb;
    void *arg = g->arg;
    destroy_obj(g);
    unlock(b);
    cb(err, res, arg);
}

void on_skew(evutil_socket_t, short, void *arg) noexcept {
    auto *g = static_cast<GaiRequest *>(arg);
    Held h(g->base);
    // The slower family is given up on; its callback (CANCEL) completes the lookup. (A
    // query already answered, or orphaned by evdns_base_free, is done: cancel ignores it.)
    if (g->q4) cancel(g->q4);
    if (g->q6) cancel(g->q6);
}

// A query's callback, from the loop without the lock: takes it (another thread may be
// cancelling the lookup).
void on_answer(GaiRequest *g, bool v6, int result, int count, void *addresses) noexcept {
    Base *b = g->base;
    lock(b);
    (v6 ? g->q6 : g->q4) = nullptr;
    (v6 ? g->err6 : g->err4) = result;
    if (result == DNS_ERR_NONE) {
        for (int i = 0; i < count; ++i) {
            bool ok = v6 ? append_v6(&g->res6, static_cast<in6_addr *>(addresses)[i], g->port, g->hints)
                         : append_v4(&g->res4, static_cast<in_addr *>(addresses)[i], g->port, g->hints);
            if (!ok) break;
        }
    }
    if (--g->pending == 0) {
        complete(g, b);
        return;
    }
    if (result == DNS_ERR_NONE && !g->cancelled) event_add(g->skew_ev, &g->skew);
    unlock(b);
}

void on_v4(int result, char, int count, int, void *addresses, void *arg) {
    on_answer(static_cast<GaiRequest *>(arg), false, result, count, addresses);
}
void on_v6(int result, char, int count, int, void *addresses, void *arg) {
    on_answer(static_cast<GaiRequest *>(arg), true, result, count, addresses);
}

}  // namespace

GaiRequest *getaddrinfo(Base *b, const char *node, const char *service, const evutil_addrinfo *hints_in,
                        evdns_getaddrinfo_cb cb, void *arg) noexcept {
    evutil_addrinfo hints{};
    if (hints_in) {
        hints.ai_flags = hints_in->ai_flags & ~kAllocatedFlag;
        hints.ai_family = hints_in->ai_family;
        hints.ai_socktype = hints_in->ai_socktype;
        hints.ai_protocol = hints_in->ai_protocol;
    }
    if (!node && !service) {
        cb(EVUTIL_EAI_NONAME, nullptr, arg);
        return nullptr;
    }
    if (hints.ai_family != AF_UNSPEC && hints.ai_family != AF_INET && hints.ai_family != AF_INET6) {
        cb(EVUTIL_EAI_FAMILY, nullptr, arg);
        return nullptr;
    }
    int port = parse_service(service, hints);
    if (port < 0) {
        cb(EVUTIL_EAI_NONAME, nullptr, arg);
        return nullptr;
    }
    evutil_addrinfo *res = nullptr;
    // No node: the wildcard (AI_PASSIVE) or loopback addresses, IPv4 first.
    if (!node) {
        bool passive = (hints.ai_flags & EVUTIL_AI_PASSIVE) != 0;
        bool ok = true;
        if (wants(hints, AF_INET)) {
            in_addr a;
            a.s_addr = htonl(passive ? INADDR_ANY : INADDR_LOOPBACK);
            ok = append_v4(&res, a, port, hints);
        }
        if (ok && wants(hints, AF_INET6)) ok = append_v6(&res, passive ? in6addr_any : in6addr_loopback, port, hints);
        if (!ok) {
            free_list(res);
            cb(EVUTIL_EAI_MEMORY, nullptr, arg);
            return nullptr;
        }
        cb(0, res, arg);
        return nullptr;
    }
    // A numeric address is its own answer.
    in_addr a4;
    in6_addr a6;
    int numeric = evutil_inet_pton(AF_INET, node, &a4) == 1 ? AF_INET
                  : evutil_inet_pton(AF_INET6, node, &a6) == 1 ? AF_INET6 : 0;
    // (One of the other family is looked up as a name, as libevent does.)
    if (numeric && wants(hints, numeric)) {
        bool ok = numeric == AF_INET ? append_v4(&res, a4, port, hints) : append_v6(&res, a6, port, hints);
        if (!ok) {
            cb(EVUTIL_EAI_MEMORY, nullptr, arg);
            return nullptr;
        }
        cb(0, res, arg);
        return nullptr;
    }
    if (hints.ai_flags & EVUTIL_AI_NUMERICHOST) {
        cb(EVUTIL_EAI_NONAME, nullptr, arg);
        return nullptr;
    }
    // Host entries (evdns_base_load_hosts), read under the lock; callbacks run without it.
    bool oom = false;
    lock(b);
    for (HostEntry *e = b->hosts.head; e; e = e->next) {
        if (evutil_ascii_strcasecmp(e->name.get(), node) != 0) continue;
        int fam = e->addr.ss_family;
        if (!wants(hints, fam)) continue;
        bool ok = fam == AF_INET
                      ? append_v4(&res, reinterpret_cast<sockaddr_in *>(&e->addr)->sin_addr, port, hints)
                      : append_v6(&res, reinterpret_cast<sockaddr_in6 *>(&e->addr)->sin6_addr, port, hints);
        if (!ok) {
            oom = true;
            break;
        }
    }
    unlock(b);
    if (oom) {
        free_list(res);
        cb(EVUTIL_EAI_MEMORY, nullptr, arg);
        return nullptr;
    }
    if (res) {
        set_canonname(res, node, hints);
        cb(0, res, arg);
        return nullptr;
    }
    // Ask the nameservers.
    GaiRequest *g = make_obj<GaiRequest>();
    if (!g || std::strlen(node) > kMaxName) {
        destroy_obj(g);
        cb(EVUTIL_EAI_MEMORY, nullptr, arg);
        return nullptr;
    }
    g->base = b;
    g->cb = cb;
    g->arg = arg;
    g->hints = hints;
    g->port = port;
    std::memcpy(g->name, node, std::strlen(node) + 1);
    g->skew_ev = event_new(b->ev_base, -1, 0, on_skew, g);
    // Both queries are sent and counted under the lock: a loop thread that has an answer
    // at once must wait for it before its callback can count the answer.
    lock(b);
    g->skew = b->getaddrinfo_skew;
    for (bool v6 : {false, true}) {
        if (!g->skew_ev || !wants(hints, v6 ? AF_INET6 : AF_INET)) continue;
        Request *q = resolve(b, node, v6 ? kTypeAaaa : kTypeA, false, v6 ? on_v6 : on_v4, g);
        if (!q) continue;
        q->cname_dest = g->cname;
        q->gai = g;
        (v6 ? g->q6 : g->q4) = q;
        g->pending++;
    }
    // Once the lock is released the loop may complete (and free) g: read nothing of it after.
    const bool none = g->pending == 0;
    unlock(b);
    if (none) {
        destroy_obj(g);
        cb(EVUTIL_EAI_FAIL, nullptr, arg);
        return nullptr;
    }
    return g;
}

void getaddrinfo_cancel(GaiRequest *g) noexcept {
    Held h(g->base);
    if (g->cancelled) return;
    g->cancelled = true;
    event_del_noblock(g->skew_ev);
    // Each query reports CANCEL from the loop; the last one completes the lookup.
    if (g->q4) cancel(g->q4);
    if (g->q6) cancel(g->q6);
}

void getaddrinfo_base_gone(GaiRequest *g, const Request *q, bool dropped) noexcept {
    g->base = nullptr;
    if (dropped && g->q4 == q) g->q4 = nullptr;  // (the lookup then never completes, as
    if (dropped && g->q6 == q) g->q6 = nullptr;  // libevent's without fail_requests)
}

}  // namespace reevent::dns
