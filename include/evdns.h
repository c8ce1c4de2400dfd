/* reevent: the 1.x compatibility header for DNS: the whole of evdns in one include. */
#ifndef EVENT1_EVDNS_H_INCLUDED_
#define EVENT1_EVDNS_H_INCLUDED_

#include <event.h>
#include <event2/dns.h>
#include <event2/dns_compat.h>
#include <event2/dns_struct.h>
#include <event2/util.h>

#endif /* EVENT1_EVDNS_H_INCLUDED_ */
