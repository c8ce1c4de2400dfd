// C API of <event2/rpc.h>: argument checks and one call into src/rpc each, in header
// order. NULL handles that libevent would crash on get a -1/NULL answer (or nothing is
// done) instead.
#include <event2/rpc.h>
#include <event2/rpc_struct.h>

#include "rpc/hooks.h"
#include "rpc/pool.h"
#include "rpc/server.h"

using namespace reevent;

extern "C" {

struct evrpc_request_wrapper *evrpc_make_request_ctx(
    struct evrpc_pool *pool, void *request, void *reply, const char *rpcname,
    void (*req_marshal)(struct evbuffer *, void *), void (*rpl_clear)(void *),
    int (*rpl_unmarshal)(void *, struct evbuffer *),
    void (*cb)(struct evrpc_status *, void *, void *, void *), void *cbarg) {
    if (!rpcname) return nullptr;
    return rpc::request_new(pool, request, reply, rpcname, req_marshal, rpl_clear,
                            rpl_unmarshal, cb, cbarg);
}

void evrpc_request_done(struct evrpc_req_generic *req) {
    if (req) rpc::call_done(req);
}

void *evrpc_get_request(struct evrpc_req_generic *req) { return req ? req->request : nullptr; }

void *evrpc_get_reply(struct evrpc_req_generic *req) { return req ? req->reply : nullptr; }

struct evrpc_base *evrpc_init(struct evhttp *server) { return rpc::base_new(server); }

void evrpc_free(struct evrpc_base *base) {
    if (base) rpc::base_free(base);
}

int evrpc_register_rpc(struct evrpc_base *base, struct evrpc *rpc,
                       void (*cb)(struct evrpc_req_generic *, void *), void *cb_arg) {
    if (!base || !rpc || !rpc->uri) return -1;
    return rpc::register_rpc(base, rpc, cb, cb_arg);
}

int evrpc_unregister_rpc(struct evrpc_base *base, const char *name) {
    return base && name ? rpc::unregister_rpc(base, name) : -1;
}

int evrpc_make_request(struct evrpc_request_wrapper *ctx) {
    return ctx && ctx->pool ? rpc::request_send(ctx) : -1;
}

struct evrpc_pool *evrpc_pool_new(struct event_base *base) { return rpc::pool_new(base); }

void evrpc_pool_free(struct evrpc_pool *pool) {
    if (pool) rpc::pool_free(pool);
}

void evrpc_pool_add_connection(struct evrpc_pool *pool, struct evhttp_connection *evcon) {
    if (pool && evcon) rpc::pool_add_connection(pool, evcon);
}

void evrpc_pool_remove_connection(struct evrpc_pool *pool, struct evhttp_connection *evcon) {
    if (pool && evcon) rpc::pool_remove_connection(pool, evcon);
}

void evrpc_pool_set_timeout(struct evrpc_pool *pool, int timeout_in_secs) {
    if (pool) rpc::pool_set_timeout(pool, timeout_in_secs);
}

void *evrpc_add_hook(void *vbase, enum EVRPC_HOOK_TYPE hook_type,
                     int (*cb)(void *, struct evhttp_request *, struct evbuffer *, void *),
                     void *cb_arg) {
    if (!vbase || !cb || (hook_type != EVRPC_INPUT && hook_type != EVRPC_OUTPUT)) return nullptr;
    return rpc::hook_add(rpc::hooks_of(vbase), hook_type, cb, cb_arg);
}

int evrpc_remove_hook(void *vbase, enum EVRPC_HOOK_TYPE hook_type, void *handle) {
    if (!vbase || (hook_type != EVRPC_INPUT && hook_type != EVRPC_OUTPUT)) return 0;
    return rpc::hook_remove(rpc::hooks_of(vbase), hook_type, handle) ? 1 : 0;
}

int evrpc_resume_request(void *vbase, void *ctx, enum EVRPC_HOOK_RESULT res) {
    return vbase ? rpc::resume(rpc::hooks_of(vbase), ctx, res) : -1;
}

void evrpc_hook_add_meta(void *ctx, const char *key, const void *data, size_t data_size) {
    if (ctx && key && (data || data_size == 0))
        rpc::meta_add(rpc::meta_slot(ctx), key, data, data_size);
}

int evrpc_hook_find_meta(void *ctx, const char *key, void **data, size_t *data_size) {
    if (!ctx || !key) return -1;
    return rpc::meta_find(*rpc::meta_slot(ctx), key, data, data_size);
}

struct evhttp_connection *evrpc_hook_get_connection(void *ctx) {
    if (!ctx) return nullptr;
    evrpc_hook_meta *meta = *rpc::meta_slot(ctx);
    return meta ? meta->evcon : nullptr;
}

int evrpc_send_request_generic(struct evrpc_pool *pool, void *request, void *reply,
                               void (*cb)(struct evrpc_status *, void *, void *, void *),
                               void *cb_arg, const char *rpcname,
                               void (*req_marshal)(struct evbuffer *, void *),
                               void (*rpl_clear)(void *),
                               int (*rpl_unmarshal)(void *, struct evbuffer *)) {
    evrpc_request_wrapper *ctx =
        pool && rpcname ? rpc::request_new(pool, request, reply, rpcname, req_marshal,
                                           rpl_clear, rpl_unmarshal, cb, cb_arg)
                        : nullptr;
    if (!ctx) {
        evrpc_status status{EVRPC_STATUS_ERR_UNSTARTED, nullptr};
        if (cb) cb(&status, request, reply, cb_arg);
        return -1;
    }
    return rpc::request_send(ctx);
}

int evrpc_register_generic(struct evrpc_base *base, const char *name,
                           void (*callback)(struct evrpc_req_generic *, void *), void *cbarg,
                           void *(*req_new)(void *), void *req_new_arg,
                           void (*req_free)(void *),
                           int (*req_unmarshal)(void *, struct evbuffer *),
                           void *(*rpl_new)(void *), void *rpl_new_arg,
                           void (*rpl_free)(void *), int (*rpl_complete)(void *),
                           void (*rpl_marshal)(struct evbuffer *, void *)) {
    if (!base || !name) return -1;
    evrpc proto{};
    proto.request_new = req_new;
    proto.request_new_arg = req_new_arg;
    proto.request_free = req_free;
    proto.request_unmarshal = req_unmarshal;
    proto.reply_new = rpl_new;
    proto.reply_new_arg = rpl_new_arg;
    proto.reply_free = rpl_free;
    proto.reply_complete = rpl_complete;
    proto.reply_marshal = rpl_marshal;
    return rpc::register_generic(base, name, proto, callback, cbarg);
}

struct evrpc_pool *evrpc_request_get_pool(struct evrpc_request_wrapper *ctx) {
    return ctx ? ctx->pool : nullptr;
}

void evrpc_request_set_pool(struct evrpc_request_wrapper *ctx, struct evrpc_pool *pool) {
    if (ctx) ctx->pool = pool;
}

void evrpc_request_set_cb(struct evrpc_request_wrapper *ctx,
                          void (*cb)(struct evrpc_status *, void *request, void *reply,
                                     void *arg),
                          void *cb_arg) {
    if (!ctx) return;
    ctx->cb = cb;
    ctx->cb_arg = cb_arg;
}

}  // extern "C"
