// evdns_getaddrinfo: numeric hosts and host entries answered at once, other names through
// an A and/or AAAA query on the resolver, results as evutil_addrinfo lists on hook memory
// (marked so evutil_freeaddrinfo releases them with the hooks).
#pragma once

#include <event2/dns.h>
#include <event2/util.h>

namespace reevent::dns {

struct Base;
struct GaiRequest;
struct Request;

// Null when the callback already ran (answered at once); otherwise the pending request.
// Both take b's lock themselves; the callback runs without it.
GaiRequest *getaddrinfo(Base *b, const char *node, const char *service, const evutil_addrinfo *hints,
                        evdns_getaddrinfo_cb cb, void *arg) noexcept;
void getaddrinfo_cancel(GaiRequest *g) noexcept;
// free_base: the lookup's base is gone; its query q is orphaned (its callback still comes
// from the loop) or, if dropped, freed.
void getaddrinfo_base_gone(GaiRequest *g, const Request *q, bool dropped) noexcept;

}  // namespace reevent::dns
