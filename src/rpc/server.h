// The server side: RPCs registered on an evhttp server, and the life of one call from the
// POST that carries it to the reply (server.cpp).
#pragma once

#include "rpc/state.h"

namespace reevent::rpc {

evrpc_base *base_new(evhttp *http) noexcept;
void base_free(evrpc_base *base) noexcept;

int register_rpc(evrpc_base *base, evrpc *rpc, void (*cb)(evrpc_req_generic *, void *),
                 void *cb_arg) noexcept;
// Registers a library-allocated copy of proto (message functions set) under name.
int register_generic(evrpc_base *base, const char *name, const evrpc &proto,
                     void (*cb)(evrpc_req_generic *, void *), void *cb_arg) noexcept;
int unregister_rpc(evrpc_base *base, const char *name) noexcept;

// The reply of a call is filled in: marshal it and send it through the output hooks.
void call_done(evrpc_req_generic *call) noexcept;

}  // namespace reevent::rpc
