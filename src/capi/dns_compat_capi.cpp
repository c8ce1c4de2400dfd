// C API of <event2/dns_compat.h>: the 1.x calls, each the evdns_base_* call of the same
// name on one process-wide resolver (made by evdns_init, freed by evdns_shutdown). Like
// libevent, the global is not locked: these calls belong to single-threaded 1.x programs.
#include <event2/dns.h>
#include <event2/dns_compat.h>

namespace {

evdns_base *g_base = nullptr;

}  // namespace

extern "C" {

int evdns_init(void) {
    if (g_base) return 0;
    // A null event_base: the resolver's events go to the current base (event_init's).
    g_base = evdns_base_new(nullptr, EVDNS_BASE_INITIALIZE_NAMESERVERS);
    return g_base ? 0 : -1;
}

struct evdns_base *evdns_get_global_base(void) { return g_base; }

void evdns_shutdown(int fail_requests) {
    if (g_base) evdns_base_free(g_base, fail_requests);
    g_base = nullptr;
    evdns_set_log_fn(nullptr);
}

int evdns_nameserver_add(unsigned long int address) {
    return g_base ? evdns_base_nameserver_add(g_base, address) : -1;
}

int evdns_count_nameservers(void) { return g_base ? evdns_base_count_nameservers(g_base) : 0; }

int evdns_clear_nameservers_and_suspend(void) {
    return g_base ? evdns_base_clear_nameservers_and_suspend(g_base) : -1;
}

int evdns_resume(void) { return g_base ? evdns_base_resume(g_base) : -1; }

int evdns_nameserver_ip_add(const char *ip_as_string) {
    return g_base ? evdns_base_nameserver_ip_add(g_base, ip_as_string) : -1;
}

int evdns_resolve_ipv4(const char *name, int flags, evdns_callback_type callback, void *ptr) {
    return g_base && evdns_base_resolve_ipv4(g_base, name, flags, callback, ptr) ? 0 : -1;
}

int evdns_resolve_ipv6(const char *name, int flags, evdns_callback_type callback, void *ptr) {
    return g_base && evdns_base_resolve_ipv6(g_base, name, flags, callback, ptr) ? 0 : -1;
}

int evdns_resolve_reverse(const struct in_addr *in, int flags, evdns_callback_type callback, void *ptr) {
    return g_base && evdns_base_resolve_reverse(g_base, in, flags, callback, ptr) ? 0 : -1;
}

int evdns_resolve_reverse_ipv6(const struct in6_addr *in, int flags, evdns_callback_type callback, void *ptr) {
    return g_base && evdns_base_resolve_reverse_ipv6(g_base, in, flags, callback, ptr) ? 0 : -1;
}

int evdns_set_option(const char *option, const char *val, int flags) {
    return g_base ? evdns_base_set_option(g_base, option, val) : -1;
}

int evdns_resolv_conf_parse(int flags, const char *const filename) {
    return g_base ? evdns_base_resolv_conf_parse(g_base, flags, filename) : -1;
}

void evdns_search_clear(void) {
    if (g_base) evdns_base_search_clear(g_base);
}

void evdns_search_add(const char *domain) {
    if (g_base) evdns_base_search_add(g_base, domain);
}

void evdns_search_ndots_set(const int ndots) {
    if (g_base) evdns_base_search_ndots_set(g_base, ndots);
}

struct evdns_server_port *evdns_add_server_port(evutil_socket_t socket, int flags,
                                                evdns_request_callback_fn_type callback, void *user_data) {
    return evdns_add_server_port_with_base(nullptr, socket, flags, callback, user_data);
}

}  // extern "C"
