// See server.h. A call goes: POST arrives -> input hooks -> unmarshal the request, make an
// empty reply -> the program's callback -> evrpc_request_done -> check and marshal the
// reply -> output hooks -> 200 with the bytes. Any failure answers 503 and frees the call.
#include "rpc/server.h"

#include <cstring>
#include <type_traits>

#include <event2/buffer.h>
#include <event2/http.h>

#include "rpc/hooks.h"
#include "rpc/uri.h"

namespace reevent::rpc {

static_assert(std::is_standard_layout_v<evrpc_base>);
static_assert(sizeof(evrpc_req_generic) == 6 * sizeof(void *));

namespace {

void call_free(evrpc_req_generic *call) noexcept {
    meta_free(call->hook_meta);
    if (call->request) call->rpc->request_free(call->request);
    if (call->reply) call->rpc->reply_free(call->reply);
    if (call->rpc_data) evbuffer_free(call->rpc_data);
    http::destroy_obj(call);
}

void fail(evrpc_req_generic *call, evhttp_request *req) noexcept {
    if (call) call_free(call);
    evhttp_send_error(req, HTTP_SERVUNAVAIL, nullptr);
}

// The input hooks have passed the call: hand it to the program.
void after_input_hooks(void *ctx, EVRPC_HOOK_RESULT res) noexcept {
    auto *call = static_cast<evrpc_req_generic *>(ctx);
    evrpc *rpc = call->rpc;
    evhttp_request *req = call->http_req;
    if (res == EVRPC_TERMINATE) return fail(call, req);
    call->request = rpc->request_new(rpc->request_new_arg);
    if (!call->request) return fail(call, req);
    if (rpc->request_unmarshal(call->request, evhttp_request_get_input_buffer(req)) == -1)
        return fail(call, req);
    call->reply = rpc->reply_new(rpc->reply_new_arg);
    if (!call->reply) return fail(call, req);
    rpc->cb(call, rpc->cb_arg);
}

void on_post(evhttp_request *req, void *arg) noexcept {
    auto *rpc = static_cast<evrpc *>(arg);
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST ||
        evbuffer_get_length(evhttp_request_get_input_buffer(req)) == 0)
        return fail(nullptr, req);
    auto *call = http::make_obj<evrpc_req_generic>();
    if (!call) return fail(nullptr, req);
    call->rpc = rpc;
    call->http_req = req;
    HookSet *hooks = &rpc->base->hooks;
    if (TAILQ_EMPTY(&hooks->input)) return after_input_hooks(call, EVRPC_CONTINUE);
    if (!meta_attach(&call->hook_meta, evhttp_request_get_connection(req)))
        return fail(call, req);
    int res = hooks_run(&hooks->input, call, req, evhttp_request_get_input_buffer(req));
    if (res == EVRPC_PAUSE) {
        if (!pause(hooks, call, after_input_hooks)) fail(call, req);
        return;
    }
    after_input_hooks(call, res == EVRPC_TERMINATE ? EVRPC_TERMINATE : EVRPC_CONTINUE);
}

void after_output_hooks(void *ctx, EVRPC_HOOK_RESULT res) noexcept {
    auto *call = static_cast<evrpc_req_generic *>(ctx);
    evhttp_request *req = call->http_req;
    if (res == EVRPC_TERMINATE) return fail(call, req);
    evkeyvalq *headers = evhttp_request_get_output_headers(req);
    if (!evhttp_find_header(headers, "Content-Type"))
        evhttp_add_header(headers, "Content-Type", "application/octet-stream");
    evhttp_send_reply(req, HTTP_OK, "OK", call->rpc_data);
    call_free(call);
}

}  // namespace

void call_done(evrpc_req_generic *call) noexcept {
    evrpc *rpc = call->rpc;
    evhttp_request *req = call->http_req;
    if (rpc->reply_complete(call->reply) == -1) return fail(call, req);
    call->rpc_data = evbuffer_new();
    if (!call->rpc_data) return fail(call, req);
    rpc->reply_marshal(call->rpc_data, call->reply);
    HookSet *hooks = &rpc->base->hooks;
    if (TAILQ_EMPTY(&hooks->output)) return after_output_hooks(call, EVRPC_CONTINUE);
    if (!meta_attach(&call->hook_meta, evhttp_request_get_connection(req)))
        return fail(call, req);
    int res = hooks_run(&hooks->output, call, req, call->rpc_data);
    if (res == EVRPC_PAUSE) {
        if (!pause(hooks, call, after_output_hooks)) fail(call, req);
        return;
    }
    after_output_hooks(call, res == EVRPC_TERMINATE ? EVRPC_TERMINATE : EVRPC_CONTINUE);
}

evrpc_base *base_new(evhttp *http) noexcept {
    evrpc_base *base = http::make_obj<evrpc_base>();
    if (base) base->http = http;
    return base;
}

void base_free(evrpc_base *base) noexcept {
    while (evrpc *rpc = TAILQ_FIRST(&base->rpcs)) unregister_rpc(base, rpc->uri);
    hooks_clear(&base->hooks);
    http::destroy_obj(base);
}

int register_rpc(evrpc_base *base, evrpc *rpc, void (*cb)(evrpc_req_generic *, void *),
                 void *cb_arg) noexcept {
    http::OwnedStr path = rpc_path(rpc->uri);
    if (!path) return -1;
    rpc->base = base;
    rpc->cb = cb;
    rpc->cb_arg = cb_arg;
    // A name served already keeps its first RPC (libevent would list both and then trip
    // over the second on unregistering).
    if (evhttp_set_cb(base->http, path.get(), on_post, rpc) != 0) return -1;
    TAILQ_INSERT_TAIL(&base->rpcs, rpc, next);
    return 0;
}

int register_generic(evrpc_base *base, const char *name, const evrpc &proto,
                     void (*cb)(evrpc_req_generic *, void *), void *cb_arg) noexcept {
    // On the mem hooks: unregister_rpc frees it (and its name) with event_mm_free_.
    auto *rpc = static_cast<evrpc *>(event_mm_malloc_(sizeof(evrpc)));
    if (!rpc) return -1;
    *rpc = proto;
    rpc->uri = http::copy_str(name).release();
    if (!rpc->uri || register_rpc(base, rpc, cb, cb_arg) != 0) {
        if (rpc->uri) event_mm_free_(const_cast<char *>(rpc->uri));
        event_mm_free_(rpc);
        return -1;
    }
    return 0;
}

int unregister_rpc(evrpc_base *base, const char *name) noexcept {
    evrpc *rpc;
    TAILQ_FOREACH(rpc, &base->rpcs, next) {
        if (std::strcmp(rpc->uri, name) == 0) break;
    }
    if (!rpc) return -1;
    TAILQ_REMOVE(&base->rpcs, rpc, next);
    if (http::OwnedStr path = rpc_path(name)) evhttp_del_cb(base->http, path.get());
    // The struct and its name are the library's allocation (evrpc_register_generic) or
    // were handed over on the same terms (evrpc_register_rpc).
    event_mm_free_(const_cast<char *>(rpc->uri));
    event_mm_free_(rpc);
    return 0;
}

}  // namespace reevent::rpc
