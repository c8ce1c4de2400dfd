// See pool.h. A request goes: queued on the pool -> an idle connection takes it -> marshal
// into a new POST -> output hooks -> sent (with the pool's timeout) -> the reply arrives
// (or nullptr: a timeout or a lost connection) -> input hooks -> unmarshal -> the
// program's callback with a status -> the next queued request goes out.
#include "rpc/pool.h"

#include <type_traits>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_compat.h>

#include "http/client.h"
#include "http/server.h"
#include "rpc/hooks.h"
#include "rpc/uri.h"

namespace reevent::rpc {

static_assert(std::is_standard_layout_v<evrpc_pool>);

namespace {

void send_on(evhttp_connection *evcon, evrpc_request_wrapper *ctx) noexcept;

// An idle connection: nothing queued on it, ours or the program's.
evhttp_connection *idle_connection(evrpc_pool *pool) noexcept {
    PoolConn *pc;
    TAILQ_FOREACH(pc, &pool->conns, next) {
        if (TAILQ_EMPTY(&pc->evcon->requests)) return pc->evcon;
    }
    return nullptr;
}

void schedule(evrpc_pool *pool) noexcept {
    evrpc_request_wrapper *ctx = TAILQ_FIRST(&pool->queued);
    if (!ctx) return;
    if (evhttp_connection *evcon = idle_connection(pool)) {
        TAILQ_REMOVE(&pool->queued, ctx, next);
        send_on(evcon, ctx);
    }
}

// Frees a request that is on no list. The HTTP request goes with it when it is ours
// (before sending, or owned while the input hooks were paused).
void wrapper_free(evrpc_request_wrapper *ctx) noexcept {
    if (ctx->req && (ctx->stage == Stage::outgoing || ctx->stage == Stage::incoming))
        evhttp_request_free(ctx->req);
    event_free(ctx->timer);
    meta_free(ctx->hook_meta);
    http::destroy_obj(ctx);
}

// Ends a request on the active list with a status of our own making.
void end_unstarted(evrpc_request_wrapper *ctx) noexcept {
    evrpc_pool *pool = ctx->pool;
    TAILQ_REMOVE(&pool->active, ctx, next);
    evrpc_status status{EVRPC_STATUS_ERR_UNSTARTED, nullptr};
    ctx->cb(&status, ctx->request, ctx->reply, ctx->cb_arg);
    wrapper_free(ctx);
}

// The reply is in (req nullptr: none came), past the input hooks.
void finish(void *arg, EVRPC_HOOK_RESULT res) noexcept {
    auto *ctx = static_cast<evrpc_request_wrapper *>(arg);
    evrpc_pool *pool = ctx->pool;
    evhttp_request *req = ctx->req;
    evrpc_status status{EVRPC_STATUS_ERR_NONE, req};
    int parsed = -1;
    if (!req)
        status.error = EVRPC_STATUS_ERR_TIMEOUT;
    else if (res == EVRPC_TERMINATE)
        status.error = EVRPC_STATUS_ERR_HOOKABORTED;
    else if ((parsed = ctx->reply_unmarshal(ctx->reply, evhttp_request_get_input_buffer(req))) == -1)
        status.error = EVRPC_STATUS_ERR_BADPAYLOAD;
    // Whatever a failed or skipped unmarshal left in the reply is cleared.
    if (parsed == -1) ctx->reply_clear(ctx->reply);
    TAILQ_REMOVE(&pool->active, ctx, next);
    ctx->cb(&status, ctx->request, ctx->reply, ctx->cb_arg);
    // The HTTP layer frees the reply after this callback unless the hooks took it.
    if (ctx->stage != Stage::incoming) ctx->req = nullptr;
    wrapper_free(ctx);
    schedule(pool);
}

void on_reply(evhttp_request *req, void *arg) noexcept {
    auto *ctx = static_cast<evrpc_request_wrapper *>(arg);
    evrpc_pool *pool = ctx->pool;
    if (ctx->timer) event_del(ctx->timer);
    ctx->req = req;
    if (!req || TAILQ_EMPTY(&pool->hooks.input)) return finish(ctx, EVRPC_CONTINUE);
    meta_attach(&ctx->hook_meta, ctx->evcon);
    int res = hooks_run(&pool->hooks.input, ctx, req, evhttp_request_get_input_buffer(req));
    if (res == EVRPC_PAUSE) {
        // The reply must outlive this callback: take it from the HTTP layer.
        evhttp_request_own(req);
        ctx->stage = Stage::incoming;
        if (!pause(&pool->hooks, ctx, finish)) finish(ctx, EVRPC_TERMINATE);
        return;
    }
    finish(ctx, res == EVRPC_TERMINATE ? EVRPC_TERMINATE : EVRPC_CONTINUE);
}

void on_timeout(evutil_socket_t, short, void *arg) noexcept {
    auto *ctx = static_cast<evrpc_request_wrapper *>(arg);
    // The connection gives up on the request and calls on_reply with nullptr.
    http::client_fail(ctx->evcon, EVREQ_HTTP_TIMEOUT);
}

// Past the output hooks: start the POST.
void after_output_hooks(void *arg, EVRPC_HOOK_RESULT res) noexcept {
    auto *ctx = static_cast<evrpc_request_wrapper *>(arg);
    evrpc_pool *pool = ctx->pool;
    if (res == EVRPC_TERMINATE) return end_unstarted(ctx);
    http::OwnedStr path = rpc_path(ctx->name.get());
    if (!path) return end_unstarted(ctx);
    if (pool->timeout > 0) {
        if (!ctx->timer)
            ctx->timer = evtimer_new(evhttp_connection_get_base(ctx->evcon), on_timeout, ctx);
        if (!ctx->timer) return end_unstarted(ctx);
        timeval tv{pool->timeout, 0};
        evtimer_add(ctx->timer, &tv);
    }
    ctx->stage = Stage::in_flight;
    if (evhttp_make_request(ctx->evcon, ctx->req, EVHTTP_REQ_POST, path.get()) == -1) {
        ctx->req = nullptr;  // freed by the HTTP layer
        return end_unstarted(ctx);
    }
}

void send_on(evhttp_connection *evcon, evrpc_request_wrapper *ctx) noexcept {
    evrpc_pool *pool = ctx->pool;
    TAILQ_INSERT_TAIL(&pool->active, ctx, next);
    ctx->stage = Stage::outgoing;
    ctx->evcon = evcon;
    ctx->req = evhttp_request_new(on_reply, ctx);
    if (!ctx->req) return end_unstarted(ctx);
    evbuffer *out = evhttp_request_get_output_buffer(ctx->req);
    ctx->request_marshal(out, ctx->request);
    if (TAILQ_EMPTY(&pool->hooks.output)) return after_output_hooks(ctx, EVRPC_CONTINUE);
    if (!meta_attach(&ctx->hook_meta, evcon)) return end_unstarted(ctx);
    int res = hooks_run(&pool->hooks.output, ctx, ctx->req, out);
    if (res == EVRPC_PAUSE) {
        if (!pause(&pool->hooks, ctx, after_output_hooks)) end_unstarted(ctx);
        return;
    }
    after_output_hooks(ctx, res == EVRPC_TERMINATE ? EVRPC_TERMINATE : EVRPC_CONTINUE);
}

}  // namespace

evrpc_pool *pool_new(event_base *base) noexcept {
    evrpc_pool *pool = http::make_obj<evrpc_pool>();
    if (pool) pool->base = base;
    return pool;
}

void pool_free(evrpc_pool *pool) noexcept {
    // Requests end without their callbacks, as libevent's do.
    while (evrpc_request_wrapper *ctx = TAILQ_FIRST(&pool->queued)) {
        TAILQ_REMOVE(&pool->queued, ctx, next);
        wrapper_free(ctx);
    }
    while (evrpc_request_wrapper *ctx = TAILQ_FIRST(&pool->active)) {
        TAILQ_REMOVE(&pool->active, ctx, next);
        unpause(&pool->hooks, ctx);
        if (ctx->stage == Stage::in_flight && ctx->req) {
            // The connection drops the request (freed with it, no callback).
            evhttp_cancel_request(ctx->req);
            ctx->req = nullptr;
        }
        wrapper_free(ctx);
    }
    hooks_clear(&pool->hooks);
    while (PoolConn *pc = TAILQ_FIRST(&pool->conns)) {
        TAILQ_REMOVE(&pool->conns, pc, next);
        evhttp_connection_free(pc->evcon);
        http::destroy_obj(pc);
    }
    http::destroy_obj(pool);
}

bool pool_add_connection(evrpc_pool *pool, evhttp_connection *evcon) noexcept {
    auto *pc = http::make_obj<PoolConn>();
    if (!pc) return false;
    pc->evcon = evcon;
    TAILQ_INSERT_TAIL(&pool->conns, pc, next);
    if (pool->base) evhttp_connection_set_base(evcon, pool->base);
    // A connection without a timeout of its own takes the pool's.
    if (evcon->timeout.tv_sec == -1) evhttp_connection_set_timeout(evcon, pool->timeout);
    if (evrpc_request_wrapper *ctx = TAILQ_FIRST(&pool->queued)) {
        TAILQ_REMOVE(&pool->queued, ctx, next);
        send_on(evcon, ctx);
    }
    return true;
}

void pool_remove_connection(evrpc_pool *pool, evhttp_connection *evcon) noexcept {
    PoolConn *pc;
    TAILQ_FOREACH(pc, &pool->conns, next) {
        if (pc->evcon == evcon) {
            TAILQ_REMOVE(&pool->conns, pc, next);
            http::destroy_obj(pc);
            return;
        }
    }
}

void pool_set_timeout(evrpc_pool *pool, int secs) noexcept {
    PoolConn *pc;
    TAILQ_FOREACH(pc, &pool->conns, next) evhttp_connection_set_timeout(pc->evcon, secs);
    pool->timeout = secs;
}

evrpc_request_wrapper *request_new(evrpc_pool *pool, void *request, void *reply,
                                   const char *name, void (*marshal)(evbuffer *, void *),
                                   void (*clear)(void *), int (*unmarshal)(void *, evbuffer *),
                                   ReplyFn cb, void *cb_arg) noexcept {
    auto *ctx = http::make_obj<evrpc_request_wrapper>();
    if (!ctx) return nullptr;
    ctx->name = http::copy_str(name);
    if (!ctx->name) {
        http::destroy_obj(ctx);
        return nullptr;
    }
    ctx->pool = pool;
    ctx->request = request;
    ctx->reply = reply;
    ctx->request_marshal = marshal;
    ctx->reply_clear = clear;
    ctx->reply_unmarshal = unmarshal;
    ctx->cb = cb;
    ctx->cb_arg = cb_arg;
    return ctx;
}

int request_send(evrpc_request_wrapper *ctx) noexcept {
    evrpc_pool *pool = ctx->pool;
    // libevent aborts on a pool without connections; here the request waits for one.
    ctx->stage = Stage::queued;
    TAILQ_INSERT_TAIL(&pool->queued, ctx, next);
    schedule(pool);
    return 0;
}

}  // namespace reevent::rpc
