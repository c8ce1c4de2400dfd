/* reevent: the evdns calls of libevent 1.x (libevent 2.1 <event2/dns_compat.h>).
 *
 * Each works on one process-wide evdns_base, made by evdns_init on the event_base of
 * event_init (the "current" base) and freed by evdns_shutdown; otherwise it is the
 * evdns_base_* function of the same name. Without evdns_init they do nothing and fail
 * (libevent would crash). */
#ifndef EVENT2_DNS_COMPAT_H_INCLUDED_
#define EVENT2_DNS_COMPAT_H_INCLUDED_

#include <event2/dns.h>
#include <event2/util.h>
#include <event2/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

struct in_addr;
struct in6_addr;

/* Makes the global resolver and reads /etc/resolv.conf: 0, or -1. */
EVENT2_EXPORT_SYMBOL int evdns_init(void);
EVENT2_EXPORT_SYMBOL struct evdns_base *evdns_get_global_base(void);
/* Frees the global resolver (see evdns_base_free) and forgets the evdns_set_log_fn
 * callback. */
EVENT2_EXPORT_SYMBOL void evdns_shutdown(int fail_requests);
EVENT2_EXPORT_SYMBOL int evdns_nameserver_add(unsigned long int address);
EVENT2_EXPORT_SYMBOL int evdns_count_nameservers(void);
EVENT2_EXPORT_SYMBOL int evdns_clear_nameservers_and_suspend(void);
EVENT2_EXPORT_SYMBOL int evdns_resume(void);
EVENT2_EXPORT_SYMBOL int evdns_nameserver_ip_add(const char *ip_as_string);
/* The resolve calls return 0 when the request was started, -1 otherwise. */
EVENT2_EXPORT_SYMBOL int evdns_resolve_ipv4(const char *name, int flags, evdns_callback_type callback, void *ptr);
EVENT2_EXPORT_SYMBOL int evdns_resolve_ipv6(const char *name, int flags, evdns_callback_type callback, void *ptr);
EVENT2_EXPORT_SYMBOL int evdns_resolve_reverse(const struct in_addr *in, int flags, evdns_callback_type callback,
                                               void *ptr);
EVENT2_EXPORT_SYMBOL int evdns_resolve_reverse_ipv6(const struct in6_addr *in, int flags,
                                                    evdns_callback_type callback, void *ptr);
/* flags is ignored, as in libevent 2.1. */
EVENT2_EXPORT_SYMBOL int evdns_set_option(const char *option, const char *val, int flags);
EVENT2_EXPORT_SYMBOL int evdns_resolv_conf_parse(int flags, const char *const filename);
EVENT2_EXPORT_SYMBOL void evdns_search_clear(void);
EVENT2_EXPORT_SYMBOL void evdns_search_add(const char *domain);
EVENT2_EXPORT_SYMBOL void evdns_search_ndots_set(const int ndots);
/* evdns_add_server_port_with_base on the current base. */
EVENT2_EXPORT_SYMBOL struct evdns_server_port *evdns_add_server_port(evutil_socket_t socket, int flags,
                                                                     evdns_request_callback_fn_type callback,
                                                                     void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_DNS_COMPAT_H_INCLUDED_ */
