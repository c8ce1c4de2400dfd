// C API of <event2/dns.h> (the client resolver): argument checks and one call into
// src/dns each, in header order. The handles callers hold are the C++ objects themselves.
// Each call on an evdns_base holds its lock (when it has one, see resolver.h) around the
// work; evdns_getaddrinfo takes it inside, to run an at-once callback without it.
#include <event2/dns.h>

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

#include "core/addon_abi.h"
#include "dns/config.h"
#include "dns/getaddrinfo.h"
#include "dns/resolver.h"
#include "dns/server.h"

using namespace reevent;

namespace {

// The public handles are opaque names for the C++ objects.
dns::Base *in(evdns_base *b) { return reinterpret_cast<dns::Base *>(b); }
// A server request's public struct is the first member of the C++ one.
dns::ServerRequest *in(evdns_server_request *r) { return reinterpret_cast<dns::ServerRequest *>(r); }
dns::ServerPort *in(evdns_server_port *p) { return reinterpret_cast<dns::ServerPort *>(p); }
evdns_request *out(dns::Request *r) { return reinterpret_cast<evdns_request *>(r); }

// The name a PTR query asks for an IPv4 address: d.c.b.a.in-addr.arpa.
void reverse_v4_name(const in_addr *a, char *buf, size_t size) {
    const auto *b = reinterpret_cast<const unsigned char *>(&a->s_addr);
    std::snprintf(buf, size, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
}

// ... and an IPv6 address: 32 nibbles, last first, then ip6.arpa.
void reverse_v6_name(const in6_addr *a, char *buf) {
    static const char hex[] = "0123456789abcdef";
    char *p = buf;
    for (int i = 15; i >= 0; --i) {
        unsigned char byte = a->s6_addr[i];
        *p++ = hex[byte & 0x0f];
        *p++ = '.';
        *p++ = hex[byte >> 4];
        *p++ = '.';
    }
    std::memcpy(p, "ip6.arpa", 9);
}

}  // namespace

extern "C" {

// A null event_base is allowed, as in libevent: events then go to the current base
// (event_init's), which is how evdns_init works.
struct evdns_base *evdns_base_new(struct event_base *event_base, int flags) {
    dns::Base *b = dns::new_base(event_base, flags);
    if (!b) return nullptr;
    // From now on core's bufferevent_socket_connect_hostname can resolve through evdns.
    evutil_set_evdns_getaddrinfo_fn_(evdns_getaddrinfo);
    evutil_set_evdns_getaddrinfo_cancel_fn_(evdns_getaddrinfo_cancel);
    if (flags & EVDNS_BASE_INITIALIZE_NAMESERVERS) {
        int opts = DNS_OPTIONS_ALL;
        if (flags & EVDNS_BASE_NAMESERVERS_NO_DEFAULT) opts |= DNS_OPTION_NAMESERVERS_NO_DEFAULT;
        // Whatever the file gives (missing, no nameserver ...), the base is returned, as in
        // libevent: its codes are for evdns_base_resolv_conf_parse callers.
        (void)dns::resolv_conf_parse(b, opts, "/etc/resolv.conf");
    }
    return reinterpret_cast<evdns_base *>(b);
}

void evdns_base_free(struct evdns_base *base, int fail_requests) {
    if (base) dns::free_base(in(base), fail_requests != 0);
}

void evdns_base_clear_host_addresses(struct evdns_base *base) {
    if (!base) return;
    dns::Held h(in(base));
    in(base)->hosts.clear();
}

const char *evdns_err_to_string(int err) {
    switch (err) {
        case DNS_ERR_NONE: return "no error";
        case DNS_ERR_FORMAT: return "misformatted query";
        case DNS_ERR_SERVERFAILED: return "server failed";
        case DNS_ERR_NOTEXIST: return "name does not exist";
        case DNS_ERR_NOTIMPL: return "query not implemented";
        case DNS_ERR_REFUSED: return "refused";
        case DNS_ERR_TRUNCATED: return "reply truncated or ill-formed";
        case DNS_ERR_UNKNOWN: return "unknown";
        case DNS_ERR_TIMEOUT: return "request timed out";
        case DNS_ERR_SHUTDOWN: return "dns subsystem shut down";
        case DNS_ERR_CANCEL: return "dns request canceled";
        case DNS_ERR_NODATA: return "no records in the reply";
        default: return "[Unknown error code]";
    }
}

int evdns_base_nameserver_add(struct evdns_base *base, unsigned long int address) {
    if (!base) return -1;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = static_cast<in_addr_t>(address);
    sin.sin_port = htons(53);
    dns::Held h(in(base));
    return dns::add_nameserver(in(base), reinterpret_cast<sockaddr *>(&sin), sizeof sin);
}

int evdns_base_count_nameservers(struct evdns_base *base) {
    if (!base) return 0;
    dns::Held h(in(base));
    return in(base)->server_count;
}

int evdns_base_clear_nameservers_and_suspend(struct evdns_base *base) {
    if (!base) return -1;
    dns::Held h(in(base));
    dns::clear_nameservers(in(base));
    return 0;
}

int evdns_base_resume(struct evdns_base *base) {
    if (!base) return -1;
    dns::Held h(in(base));
    dns::resume(in(base));
    return 0;
}

int evdns_base_nameserver_ip_add(struct evdns_base *base, const char *ip_as_string) {
    if (!base || !ip_as_string) return -1;
    dns::Held h(in(base));
    return dns::add_nameserver_text(in(base), ip_as_string);
}

int evdns_base_nameserver_sockaddr_add(struct evdns_base *base, const struct sockaddr *sa, ev_socklen_t len,
                                       unsigned flags) {
    if (!base || !sa) return -1;
    dns::Held h(in(base));
    return dns::add_nameserver(in(base), sa, len);
}

struct evdns_request *evdns_base_resolve_ipv4(struct evdns_base *base, const char *name, int flags,
                                              evdns_callback_type callback, void *ptr) {
    if (!base || !name) return nullptr;
    dns::Held h(in(base));
    return out(dns::resolve(in(base), name, dns::kTypeA, flags & DNS_QUERY_NO_SEARCH, callback, ptr));
}

struct evdns_request *evdns_base_resolve_ipv6(struct evdns_base *base, const char *name, int flags,
                                              evdns_callback_type callback, void *ptr) {
    if (!base || !name) return nullptr;
    dns::Held h(in(base));
    return out(dns::resolve(in(base), name, dns::kTypeAaaa, flags & DNS_QUERY_NO_SEARCH, callback, ptr));
}

struct evdns_request *evdns_base_resolve_reverse(struct evdns_base *base, const struct in_addr *addr, int flags,
                                                 evdns_callback_type callback, void *ptr) {
    if (!base || !addr) return nullptr;
    char name[32];
    reverse_v4_name(addr, name, sizeof name);
    dns::Held h(in(base));
    return out(dns::resolve(in(base), name, dns::kTypePtr, true, callback, ptr));
}

struct evdns_request *evdns_base_resolve_reverse_ipv6(struct evdns_base *base, const struct in6_addr *addr,
                                                      int flags, evdns_callback_type callback, void *ptr) {
    if (!base || !addr) return nullptr;
    char name[73];
    reverse_v6_name(addr, name);
    dns::Held h(in(base));
    return out(dns::resolve(in(base), name, dns::kTypePtr, true, callback, ptr));
}

void evdns_cancel_request(struct evdns_base *base, struct evdns_request *req) {
    if (!req) return;
    auto *r = reinterpret_cast<dns::Request *>(req);
    dns::Held h(r->base);  // (the request's own base, as libevent uses; null once orphaned)
    dns::cancel(r);
}

int evdns_base_set_option(struct evdns_base *base, const char *option, const char *val) {
    if (!base || !option || !val) return -1;
    dns::Held h(in(base));
    return dns::apply_option(in(base), option, val, DNS_OPTIONS_ALL);
}

int evdns_base_resolv_conf_parse(struct evdns_base *base, int flags, const char *const filename) {
    if (!base || !filename) return -1;
    dns::Held h(in(base));
    return dns::resolv_conf_parse(in(base), flags, filename);
}

int evdns_base_load_hosts(struct evdns_base *base, const char *hosts_fname) {
    if (!base) return -1;
    dns::Held h(in(base));
    dns::Hosts &hosts = in(base)->hosts;
    // No file, or one that cannot be read: the localhost entries (and -1 for the latter).
    if (hosts_fname && hosts.load_file(hosts_fname) == 0) return 0;
    hosts.add_localhost();
    return hosts_fname ? -1 : 0;
}

void evdns_base_search_clear(struct evdns_base *base) {
    if (!base) return;
    dns::Held h(in(base));
    dns::search_clear(in(base));
}

void evdns_base_search_add(struct evdns_base *base, const char *domain) {
    if (!base || !domain) return;
    dns::Held h(in(base));
    dns::search_add(in(base), domain);
}

void evdns_base_search_ndots_set(struct evdns_base *base, const int ndots) {
    if (!base) return;
    dns::Held h(in(base));
    in(base)->ndots = ndots;
}

void evdns_set_log_fn(evdns_debug_log_fn_type fn) { dns::set_log_fn(fn); }

// Without effect since libevent 2.0.4 (its documented behaviour): ids use the secure RNG.
void evdns_set_transaction_id_fn(ev_uint16_t (*fn)(void)) {}
void evdns_set_random_bytes_fn(void (*fn)(char *, size_t)) {}

struct evdns_getaddrinfo_request *evdns_getaddrinfo(struct evdns_base *dns_base, const char *nodename,
                                                    const char *servname, const struct evutil_addrinfo *hints_in,
                                                    evdns_getaddrinfo_cb cb, void *arg) {
    if (!dns_base || !cb) return nullptr;
    return reinterpret_cast<evdns_getaddrinfo_request *>(
        dns::getaddrinfo(in(dns_base), nodename, servname, hints_in, cb, arg));
}

void evdns_getaddrinfo_cancel(struct evdns_getaddrinfo_request *req) {
    if (req) dns::getaddrinfo_cancel(reinterpret_cast<dns::GaiRequest *>(req));
}

// ---- the server side -------------------------------------------------------------------

struct evdns_server_port *evdns_add_server_port_with_base(struct event_base *base, evutil_socket_t socket, int flags,
                                                          evdns_request_callback_fn_type callback, void *user_data) {
    if (socket < 0 || !callback) return nullptr;
    return reinterpret_cast<evdns_server_port *>(dns::open_port(base, socket, callback, user_data));
}

void evdns_close_server_port(struct evdns_server_port *port) {
    if (port) dns::close_port(in(port));
}

void evdns_server_request_set_flags(struct evdns_server_request *req, int flags) {
    if (req) dns::set_flags(in(req), flags);
}

int evdns_server_request_add_reply(struct evdns_server_request *req, int section, const char *name, int type,
                                   int dns_class, int ttl, int datalen, int is_name, const char *data) {
    if (!req) return -1;
    return dns::add_record(in(req), section, name, type, dns_class, ttl, datalen, is_name != 0, data);
}

int evdns_server_request_add_a_reply(struct evdns_server_request *req, const char *name, int n, const void *addrs,
                                     int ttl) {
    if (!req || n < 0) return -1;
    // One record holding n addresses, exactly as libevent builds it (n is 1 in practice).
    return dns::add_record(in(req), EVDNS_ANSWER_SECTION, name, EVDNS_TYPE_A, EVDNS_CLASS_INET, ttl, 4 * n, false,
                           static_cast<const char *>(addrs));
}

int evdns_server_request_add_aaaa_reply(struct evdns_server_request *req, const char *name, int n,
                                        const void *addrs, int ttl) {
    if (!req || n < 0) return -1;
    return dns::add_record(in(req), EVDNS_ANSWER_SECTION, name, EVDNS_TYPE_AAAA, EVDNS_CLASS_INET, ttl, 16 * n,
                           false, static_cast<const char *>(addrs));
}

int evdns_server_request_add_ptr_reply(struct evdns_server_request *req, struct in_addr *addr,
                                       const char *inaddr_name, const char *hostname, int ttl) {
    if (!req || !hostname) return -1;
    char name[32];
    if (addr) {
        reverse_v4_name(addr, name, sizeof name);
        inaddr_name = name;
    }
    if (!inaddr_name) return -1;
    return dns::add_record(in(req), EVDNS_ANSWER_SECTION, inaddr_name, EVDNS_TYPE_PTR, EVDNS_CLASS_INET, ttl, -1,
                           true, hostname);
}

int evdns_server_request_add_cname_reply(struct evdns_server_request *req, const char *name, const char *cname,
                                         int ttl) {
    if (!req) return -1;
    return dns::add_record(in(req), EVDNS_ANSWER_SECTION, name, EVDNS_TYPE_CNAME, EVDNS_CLASS_INET, ttl, -1, true,
                           cname);
}

int evdns_server_request_respond(struct evdns_server_request *req, int err) {
    return req ? dns::respond(in(req), err) : -1;
}

int evdns_server_request_drop(struct evdns_server_request *req) { return req ? dns::drop(in(req)) : -1; }

int evdns_server_request_get_requesting_addr(struct evdns_server_request *req, struct sockaddr *sa, int addr_len) {
    return req ? dns::requesting_addr(in(req), sa, addr_len) : -1;
}

int evdns_base_get_nameserver_addr(struct evdns_base *base, int idx, struct sockaddr *sa, ev_socklen_t len) {
    if (!base) return -1;
    dns::Held h(in(base));
    dns::Nameserver *ns = in(base)->servers;  // a negative idx counts as 0, as in libevent
    for (; ns && idx > 0; --idx) ns = ns->next;
    if (!ns) return -1;
    if (ns->addrlen <= len && sa) std::memcpy(sa, &ns->addr, ns->addrlen);
    return static_cast<int>(ns->addrlen);
}

}  // extern "C"
