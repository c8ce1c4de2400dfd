/* reevent: the structures a DNS server callback reads (libevent 2.1 <event2/dns_struct.h>).
 * The layouts are libevent's: programs read these fields directly. */
#ifndef EVENT2_DNS_STRUCT_H_INCLUDED_
#define EVENT2_DNS_STRUCT_H_INCLUDED_

#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>
#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A request received on a server port: the header's flags word and the questions. */
struct evdns_server_request {
    int flags;
    int nquestions;
    struct evdns_server_question **questions;
};

/* One question; name is NUL-terminated and allocated past the end of the struct. The class
 * field is "class" in C (use the dns_question_class macro) and dns_question_class in C++. */
struct evdns_server_question {
    int type;
#ifdef __cplusplus
    int dns_question_class;
#else
    int class;
#define dns_question_class class
#endif
    char name[1];
};

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_DNS_STRUCT_H_INCLUDED_ */
