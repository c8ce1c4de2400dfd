/* reevent: asynchronous DNS resolution (libevent 2.1 <event2/dns.h>).
 *
 * The client resolver, as in libevent 2.1.12: an evdns_base holds nameservers, search
 * domains, options and host entries; A, AAAA and PTR lookups run on the event_base it was
 * made with and report through callbacks run from that loop; evdns_getaddrinfo answers
 * numeric hosts and host entries at once and asks the nameservers otherwise. It lives in
 * libevent_extra.
 *
 * The server side answers DNS queries on a UDP socket the caller made: a callback per
 * request adds records and responds (or drops it).
 *
 * Declared here is exactly what reevent exports (the 1.x calls are in dns_compat.h). */
#ifndef EVENT2_DNS_H_INCLUDED_
#define EVENT2_DNS_H_INCLUDED_

#include <event2/util.h>
#include <event2/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Outcomes given to evdns_callback_type callbacks. The first six are DNS reply codes. */
#define DNS_ERR_NONE 0
#define DNS_ERR_FORMAT 1
#define DNS_ERR_SERVERFAILED 2
#define DNS_ERR_NOTEXIST 3
#define DNS_ERR_NOTIMPL 4
#define DNS_ERR_REFUSED 5
#define DNS_ERR_TRUNCATED 65
#define DNS_ERR_UNKNOWN 66
#define DNS_ERR_TIMEOUT 67
#define DNS_ERR_SHUTDOWN 68
#define DNS_ERR_CANCEL 69
#define DNS_ERR_NODATA 70

/* The `type` argument of a successful callback. */
#define DNS_IPv4_A 1
#define DNS_PTR 2
#define DNS_IPv6_AAAA 3

/* Resolve flags: ask for the name as given, without the search domains. */
#define DNS_QUERY_NO_SEARCH 1
#define DNS_NO_SEARCH DNS_QUERY_NO_SEARCH

/* What evdns_base_resolv_conf_parse takes from the file. */
#define DNS_OPTION_SEARCH 1
#define DNS_OPTION_NAMESERVERS 2
#define DNS_OPTION_MISC 4
#define DNS_OPTION_HOSTSFILE 8
#define DNS_OPTIONS_ALL (DNS_OPTION_SEARCH | DNS_OPTION_NAMESERVERS | DNS_OPTION_MISC | DNS_OPTION_HOSTSFILE)
/* ... and: no 127.0.0.1 fallback when the file names no nameserver. */
#define DNS_OPTION_NAMESERVERS_NO_DEFAULT 16

/* evdns_base_new flags. */
#define EVDNS_BASE_INITIALIZE_NAMESERVERS 1
#define EVDNS_BASE_DISABLE_WHEN_INACTIVE 0x8000
#define EVDNS_BASE_NAMESERVERS_NO_DEFAULT 0x10000

struct event_base;
struct evdns_base;
struct evdns_request;
struct evdns_getaddrinfo_request;
struct in_addr;
struct in6_addr;
struct sockaddr;

/* A lookup's outcome. On success `addresses` is an array of `count` IPv4 addresses
 * (ev_uint32_t, network order) or struct in6_addr, or for DNS_PTR a pointer to the name
 * (char **); ttl is the smallest of the records'. On failure type and count are 0 and
 * addresses is NULL. */
typedef void (*evdns_callback_type)(int result, char type, int count, int ttl, void *addresses, void *arg);

/* A resolver on event_base; flags are EVDNS_BASE_*. INITIALIZE_NAMESERVERS reads
 * /etc/resolv.conf. */
EVENT2_EXPORT_SYMBOL struct evdns_base *evdns_base_new(struct event_base *event_base, int flags);
/* Frees the resolver; requests in flight get DNS_ERR_SHUTDOWN if fail_requests, else
 * nothing. */
EVENT2_EXPORT_SYMBOL void evdns_base_free(struct evdns_base *base, int fail_requests);
/* Forgets every host entry (evdns_base_load_hosts). */
EVENT2_EXPORT_SYMBOL void evdns_base_clear_host_addresses(struct evdns_base *base);
EVENT2_EXPORT_SYMBOL const char *evdns_err_to_string(int err);

/* Nameservers. address: an IPv4 address in network order, port 53. */
EVENT2_EXPORT_SYMBOL int evdns_base_nameserver_add(struct evdns_base *base, unsigned long int address);
EVENT2_EXPORT_SYMBOL int evdns_base_count_nameservers(struct evdns_base *base);
/* Drops every nameserver; requests wait (in flight ones are sent again) until
 * evdns_base_resume. */
EVENT2_EXPORT_SYMBOL int evdns_base_clear_nameservers_and_suspend(struct evdns_base *base);
EVENT2_EXPORT_SYMBOL int evdns_base_resume(struct evdns_base *base);
/* "1.2.3.4", "1.2.3.4:53", "::1", "[::1]:53"; port 53 when none is given. */
EVENT2_EXPORT_SYMBOL int evdns_base_nameserver_ip_add(struct evdns_base *base, const char *ip_as_string);
EVENT2_EXPORT_SYMBOL int evdns_base_nameserver_sockaddr_add(struct evdns_base *base, const struct sockaddr *sa,
                                                            ev_socklen_t len, unsigned flags);
/* The idx-th nameserver's address into sa: its length, -1 if there is none, or a length
 * larger than len (nothing copied) when sa is too small. */
EVENT2_EXPORT_SYMBOL int evdns_base_get_nameserver_addr(struct evdns_base *base, int idx, struct sockaddr *sa,
                                                        ev_socklen_t len);

/* Lookups. flags: 0 or DNS_QUERY_NO_SEARCH. The callback always runs from the loop. */
EVENT2_EXPORT_SYMBOL struct evdns_request *evdns_base_resolve_ipv4(struct evdns_base *base, const char *name,
                                                                   int flags, evdns_callback_type callback,
                                                                   void *ptr);
EVENT2_EXPORT_SYMBOL struct evdns_request *evdns_base_resolve_ipv6(struct evdns_base *base, const char *name,
                                                                   int flags, evdns_callback_type callback,
                                                                   void *ptr);
EVENT2_EXPORT_SYMBOL struct evdns_request *evdns_base_resolve_reverse(struct evdns_base *base,
                                                                      const struct in_addr *in, int flags,
                                                                      evdns_callback_type callback, void *ptr);
EVENT2_EXPORT_SYMBOL struct evdns_request *evdns_base_resolve_reverse_ipv6(struct evdns_base *base,
                                                                           const struct in6_addr *in, int flags,
                                                                           evdns_callback_type callback,
                                                                           void *ptr);
/* The callback then runs with DNS_ERR_CANCEL. */
EVENT2_EXPORT_SYMBOL void evdns_cancel_request(struct evdns_base *base, struct evdns_request *req);

/* Options: ndots, timeout, max-timeouts, max-inflight, attempts, randomize-case,
 * initial-probe-timeout, getaddrinfo-allow-skew (with or without a trailing colon). */
EVENT2_EXPORT_SYMBOL int evdns_base_set_option(struct evdns_base *base, const char *option, const char *val);
/* 0, or 1 cannot open, 2 cannot stat, 3 too large, 4 out of memory, 5 short read, 6 no
 * nameserver in the file. */
EVENT2_EXPORT_SYMBOL int evdns_base_resolv_conf_parse(struct evdns_base *base, int flags,
                                                      const char *const filename);
/* Adds the entries of a hosts file (NULL: only localhost); used by evdns_getaddrinfo. */
EVENT2_EXPORT_SYMBOL int evdns_base_load_hosts(struct evdns_base *base, const char *hosts_fname);

/* Search domains: the most recently added is tried first. */
EVENT2_EXPORT_SYMBOL void evdns_base_search_clear(struct evdns_base *base);
EVENT2_EXPORT_SYMBOL void evdns_base_search_add(struct evdns_base *base, const char *domain);
EVENT2_EXPORT_SYMBOL void evdns_base_search_ndots_set(struct evdns_base *base, const int ndots);

typedef void (*evdns_debug_log_fn_type)(int is_warning, const char *msg);
EVENT2_EXPORT_SYMBOL void evdns_set_log_fn(evdns_debug_log_fn_type fn);

/* Accepted and without effect, as in libevent 2.1: transaction ids come from the secure
 * RNG (evutil_secure_rng_get_bytes). */
EVENT2_EXPORT_SYMBOL void evdns_set_transaction_id_fn(ev_uint16_t (*fn)(void));
EVENT2_EXPORT_SYMBOL void evdns_set_random_bytes_fn(void (*fn)(char *, size_t));

/* evdns_getaddrinfo's callback: 0 or an EVUTIL_EAI_* code, and the list (free it with
 * evutil_freeaddrinfo). */
typedef void (*evdns_getaddrinfo_cb)(int result, struct evutil_addrinfo *res, void *arg);
/* NULL when cb already ran (numeric host, host entry, or an error found at once). */
EVENT2_EXPORT_SYMBOL struct evdns_getaddrinfo_request *evdns_getaddrinfo(struct evdns_base *dns_base,
                                                                         const char *nodename,
                                                                         const char *servname,
                                                                         const struct evutil_addrinfo *hints_in,
                                                                         evdns_getaddrinfo_cb cb, void *arg);
/* Only before the callback ran; the callback then gets EVUTIL_EAI_CANCEL. */
EVENT2_EXPORT_SYMBOL void evdns_getaddrinfo_cancel(struct evdns_getaddrinfo_request *req);

/* ---- the server side ---------------------------------------------------------------- */

struct evdns_server_port;
struct evdns_server_request;
struct evdns_server_question;

/* Called once per query received; it adds records, then responds or drops the request
 * (now or later). The request's fields are in <event2/dns_struct.h>. */
typedef void (*evdns_request_callback_fn_type)(struct evdns_server_request *, void *);

/* Sections, record types, classes and reply flags. */
#define EVDNS_ANSWER_SECTION 0
#define EVDNS_AUTHORITY_SECTION 1
#define EVDNS_ADDITIONAL_SECTION 2
#define EVDNS_TYPE_A 1
#define EVDNS_TYPE_NS 2
#define EVDNS_TYPE_CNAME 5
#define EVDNS_TYPE_SOA 6
#define EVDNS_TYPE_PTR 12
#define EVDNS_TYPE_MX 15
#define EVDNS_TYPE_TXT 16
#define EVDNS_TYPE_AAAA 28
#define EVDNS_QTYPE_AXFR 252
#define EVDNS_QTYPE_ALL 255
#define EVDNS_CLASS_INET 1
#define EVDNS_FLAGS_AA 0x400
#define EVDNS_FLAGS_RD 0x080

/* Serves queries arriving on a bound UDP socket; flags must be 0. The port owns the socket
 * from then on: it is closed with the port. */
EVENT2_EXPORT_SYMBOL struct evdns_server_port *evdns_add_server_port_with_base(
    struct event_base *base, evutil_socket_t socket, int flags, evdns_request_callback_fn_type callback,
    void *user_data);
/* Stops reading; the port (and its socket) goes once no request of it is outstanding. */
EVENT2_EXPORT_SYMBOL void evdns_close_server_port(struct evdns_server_port *port);
/* Replaces the AA and RD bits of the reply's flags. */
EVENT2_EXPORT_SYMBOL void evdns_server_request_set_flags(struct evdns_server_request *req, int flags);
/* Adds a record to a section; data is a name when is_name (datalen unused), else datalen
 * bytes. 0, or -1. */
EVENT2_EXPORT_SYMBOL int evdns_server_request_add_reply(struct evdns_server_request *req, int section,
                                                        const char *name, int type, int dns_class, int ttl,
                                                        int datalen, int is_name, const char *data);
/* One answer record holding n addresses (network order). */
EVENT2_EXPORT_SYMBOL int evdns_server_request_add_a_reply(struct evdns_server_request *req, const char *name, int n,
                                                          const void *addrs, int ttl);
EVENT2_EXPORT_SYMBOL int evdns_server_request_add_aaaa_reply(struct evdns_server_request *req, const char *name,
                                                             int n, const void *addrs, int ttl);
/* The owner is in's in-addr.arpa name, or inaddr_name when in is NULL. */
EVENT2_EXPORT_SYMBOL int evdns_server_request_add_ptr_reply(struct evdns_server_request *req, struct in_addr *in,
                                                            const char *inaddr_name, const char *hostname, int ttl);
EVENT2_EXPORT_SYMBOL int evdns_server_request_add_cname_reply(struct evdns_server_request *req, const char *name,
                                                              const char *cname, int ttl);
/* Sends the reply (err is its response code) and frees the request. A reply longer than
 * 512 bytes keeps the records that fit and has TC set. */
EVENT2_EXPORT_SYMBOL int evdns_server_request_respond(struct evdns_server_request *req, int err);
/* Frees the request without a reply. */
EVENT2_EXPORT_SYMBOL int evdns_server_request_drop(struct evdns_server_request *req);
/* The requester's address into sa: its length, or -1 if addr_len is too small. */
EVENT2_EXPORT_SYMBOL int evdns_server_request_get_requesting_addr(struct evdns_server_request *req,
                                                                  struct sockaddr *sa, int addr_len);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_DNS_H_INCLUDED_ */
