// The DNS server side behind evdns_add_server_port_with_base: a caller's UDP socket read
// by the loop, each query parsed into the public struct evdns_server_request (the first
// member of ServerRequest, so the pointer handed out is both), records added by the
// callback, and the reply built and sent by respond (queued until writable if the socket
// is full). A closed port lives on until its last outstanding request is answered or
// dropped, then closes its socket, as libevent's does.
#pragma once

#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <event2/event.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "dns/mem.h"

namespace reevent::dns {

struct ServerRequest;

struct ServerPort {
    event_base *ev_base = nullptr;
    int fd = -1;
    event *read_ev = nullptr;
    event *write_ev = nullptr;
    evdns_request_callback_fn_type callback = nullptr;
    void *user_data = nullptr;
    int refs = 1;            // the port itself while open, plus one per outstanding request
    bool closing = false;
    ServerRequest *unsent = nullptr, *unsent_tail = nullptr;  // replies waiting to be written
    ~ServerPort();
};

// One record of a reply being built.
struct ServerRecord {
    ServerRecord *next = nullptr;
    OwnedStr name;
    uint16_t type = 0, cls = 0;
    uint32_t ttl = 0;
    bool is_name = false;       // data is a name (compressed when written)
    OwnedStr data;              // is_name: the name text; else datalen bytes
    size_t datalen = 0;
    ~ServerRecord();
};

struct ServerRequest {
    evdns_server_request pub{};  // must stay first: callers get &pub
    ServerPort *port = nullptr;
    uint16_t id = 0;
    sockaddr_storage addr{};
    socklen_t addrlen = 0;
    ServerRecord *sections[3] = {};
    ServerRecord **tails[3] = {&sections[0], &sections[1], &sections[2]};
    unsigned char *reply = nullptr;  // built by respond, kept while waiting to be sent
    size_t reply_len = 0;
    ServerRequest *next_unsent = nullptr;
    ~ServerRequest();
};

ServerPort *open_port(event_base *eb, int fd, evdns_request_callback_fn_type cb, void *user) noexcept;
void close_port(ServerPort *p) noexcept;

int add_record(ServerRequest *r, int section, const char *name, int type, int cls, int ttl, int datalen,
               bool is_name, const char *data) noexcept;
void set_flags(ServerRequest *r, int flags) noexcept;
int respond(ServerRequest *r, int err) noexcept;
int drop(ServerRequest *r) noexcept;
int requesting_addr(const ServerRequest *r, sockaddr *sa, int len) noexcept;

}  // namespace reevent::dns
