// The objects behind <event2/rpc.h>'s handles. Lists are intrusive (<sys/queue.h>) and
// everything lives on event_set_mem_functions memory (http/mem.h), as in src/http.
//
// Two layouts are fixed by the C API rather than by us:
//  - evrpc_add_hook & co. take a struct evrpc_base or a struct evrpc_pool as void *: both
//    start with a HookSet;
//  - the meta functions take a server call (struct evrpc_req_generic) or a client request
//    (struct evrpc_request_wrapper) as void *: both start with their evrpc_hook_meta
//    pointer. The server call must also match EVRPC_HEADER's six pointers, since programs
//    read it through their struct evrpc_req__NAME.
#pragma once

#include <sys/queue.h>

#include <cstddef>

#include <event2/rpc.h>
#include <event2/rpc_struct.h>

#include "http/mem.h"

struct event;
struct evhttp;
struct evhttp_connection;
struct evhttp_request;

namespace reevent::rpc {

using HookFn = int (*)(void *, evhttp_request *, evbuffer *, void *);
// How a paused call goes on once resumed.
using ResumeFn = void (*)(void *ctx, EVRPC_HOOK_RESULT res);
using ReplyFn = void (*)(evrpc_status *, void *, void *, void *);

struct Hook {
    TAILQ_ENTRY(Hook) next;
    HookFn cb = nullptr;
    void *arg = nullptr;
};
TAILQ_HEAD(HookList, Hook);

struct Paused {
    TAILQ_ENTRY(Paused) next;
    void *ctx = nullptr;
    ResumeFn resume = nullptr;
};
TAILQ_HEAD(PausedList, Paused);

struct HookSet {
    HookList input;
    HookList output;
    PausedList paused;
};

// One key/value pair attached with evrpc_hook_add_meta.
struct Meta {
    TAILQ_ENTRY(Meta) next;
    http::OwnedStr key;
    std::unique_ptr<void, http::MemFree> data;
    size_t size = 0;
};
TAILQ_HEAD(MetaList, Meta);

}  // namespace reevent::rpc

struct evrpc_hook_meta {
    reevent::rpc::MetaList entries;
    evhttp_connection *evcon = nullptr;
    evrpc_hook_meta() noexcept { TAILQ_INIT(&entries); }
};

struct evrpc_base {
    reevent::rpc::HookSet hooks;  // first: see above
    evhttp *http = nullptr;
    TAILQ_HEAD(, evrpc) rpcs;
    evrpc_base() noexcept {
        TAILQ_INIT(&hooks.input);
        TAILQ_INIT(&hooks.output);
        TAILQ_INIT(&hooks.paused);
        TAILQ_INIT(&rpcs);
    }
};

// A call on the server, from its arrival to evrpc_request_done (EVRPC_HEADER's layout).
struct evrpc_req_generic {
    evrpc_hook_meta *hook_meta;
    void *request;
    void *reply;
    evrpc *rpc;
    evhttp_request *http_req;
    evbuffer *rpc_data;
};

namespace reevent::rpc {

// Where a client request is; it says who owns its evhttp_request.
enum class Stage {
    queued,       // on the pool's queue, no HTTP request yet
    outgoing,     // the HTTP request is ours: output hooks run (or are paused)
    in_flight,    // the connection has the HTTP request
    incoming,     // the reply arrived and we own it: input hooks run (or are paused)
};

// A connection given to a pool.
struct PoolConn {
    TAILQ_ENTRY(PoolConn) next;
    evhttp_connection *evcon = nullptr;
};
TAILQ_HEAD(PoolConnList, PoolConn);

}  // namespace reevent::rpc

struct evrpc_request_wrapper {
    evrpc_hook_meta *hook_meta = nullptr;  // first: see above
    TAILQ_ENTRY(evrpc_request_wrapper) next;
    evrpc_pool *pool = nullptr;
    reevent::rpc::Stage stage = reevent::rpc::Stage::queued;
    evhttp_connection *evcon = nullptr;
    evhttp_request *req = nullptr;
    event *timer = nullptr;  // the pool's timeout, while in flight
    reevent::http::OwnedStr name;
    reevent::rpc::ReplyFn cb = nullptr;
    void *cb_arg = nullptr;
    void *request = nullptr;
    void *reply = nullptr;
    void (*request_marshal)(evbuffer *, void *) = nullptr;
    void (*reply_clear)(void *) = nullptr;
    int (*reply_unmarshal)(void *, evbuffer *) = nullptr;
};

TAILQ_HEAD(WrapperList, evrpc_request_wrapper);

struct evrpc_pool {
    reevent::rpc::HookSet hooks;  // first: see above
    event_base *base = nullptr;
    int timeout = -1;
    reevent::rpc::PoolConnList conns;
    WrapperList queued;  // waiting for an idle connection
    WrapperList active;  // sent, or being sent or received (hooks, pauses)
    evrpc_pool() noexcept {
        TAILQ_INIT(&hooks.input);
        TAILQ_INIT(&hooks.output);
        TAILQ_INIT(&hooks.paused);
        TAILQ_INIT(&conns);
        TAILQ_INIT(&queued);
        TAILQ_INIT(&active);
    }
};
