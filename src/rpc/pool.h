// The client side: pools of connections and the life of one request from the queue to its
// callback (pool.cpp).
#pragma once

#include "rpc/state.h"

namespace reevent::rpc {

evrpc_pool *pool_new(event_base *base) noexcept;
void pool_free(evrpc_pool *pool) noexcept;
bool pool_add_connection(evrpc_pool *pool, evhttp_connection *evcon) noexcept;
void pool_remove_connection(evrpc_pool *pool, evhttp_connection *evcon) noexcept;
void pool_set_timeout(evrpc_pool *pool, int secs) noexcept;

// A request not yet queued; nullptr when memory runs out.
evrpc_request_wrapper *request_new(evrpc_pool *pool, void *request, void *reply,
                                   const char *name, void (*marshal)(evbuffer *, void *),
                                   void (*clear)(void *), int (*unmarshal)(void *, evbuffer *),
                                   ReplyFn cb, void *cb_arg) noexcept;
// Queues ctx on its pool and sends what an idle connection can take.
int request_send(evrpc_request_wrapper *ctx) noexcept;

}  // namespace reevent::rpc
