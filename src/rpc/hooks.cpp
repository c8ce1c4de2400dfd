// See hooks.h.
#include "rpc/hooks.h"

#include <cstring>

namespace reevent::rpc {

namespace {

HookList *list_of(HookSet *set, EVRPC_HOOK_TYPE type) noexcept {
    return type == EVRPC_INPUT ? &set->input : &set->output;
}

}  // namespace

HookSet *hooks_of(void *vbase) noexcept {
    // Both handle types begin with their HookSet (state.h).
    return static_cast<HookSet *>(vbase);
}

Hook *hook_add(HookSet *set, EVRPC_HOOK_TYPE type, HookFn cb, void *arg) noexcept {
    Hook *h = http::make_obj<Hook>();
    if (!h) return nullptr;
    h->cb = cb;
    h->arg = arg;
    TAILQ_INSERT_TAIL(list_of(set, type), h, next);
    return h;
}

bool hook_remove(HookSet *set, EVRPC_HOOK_TYPE type, void *handle) noexcept {
    HookList *list = list_of(set, type);
    Hook *h;
    TAILQ_FOREACH(h, list, next) {
        if (h == handle) {
            TAILQ_REMOVE(list, h, next);
            http::destroy_obj(h);
            return true;
        }
    }
    return false;
}

void hooks_clear(HookSet *set) noexcept {
    for (HookList *list : {&set->input, &set->output}) {
        while (Hook *h = TAILQ_FIRST(list)) {
            TAILQ_REMOVE(list, h, next);
            http::destroy_obj(h);
        }
    }
    while (Paused *p = TAILQ_FIRST(&set->paused)) {
        TAILQ_REMOVE(&set->paused, p, next);
        http::destroy_obj(p);
    }
}

int hooks_run(HookList *list, void *ctx, evhttp_request *req, evbuffer *buf) noexcept {
    Hook *h;
    TAILQ_FOREACH(h, list, next) {
        int res = h->cb(ctx, req, buf, h->arg);
        if (res != EVRPC_CONTINUE) return res;
    }
    return EVRPC_CONTINUE;
}

bool pause(HookSet *set, void *ctx, ResumeFn resume) noexcept {
    Paused *p = http::make_obj<Paused>();
    if (!p) return false;
    p->ctx = ctx;
    p->resume = resume;
    TAILQ_INSERT_TAIL(&set->paused, p, next);
    return true;
}

void unpause(HookSet *set, void *ctx) noexcept {
    Paused *p;
    TAILQ_FOREACH(p, &set->paused, next) {
        if (p->ctx == ctx) {
            TAILQ_REMOVE(&set->paused, p, next);
            http::destroy_obj(p);
            return;
        }
    }
}

int resume(HookSet *set, void *ctx, EVRPC_HOOK_RESULT res) noexcept {
    Paused *p;
    TAILQ_FOREACH(p, &set->paused, next) {
        if (p->ctx == ctx) break;
    }
    if (!p) return -1;
    // Off the list before going on: the call may pause again, or be freed.
    TAILQ_REMOVE(&set->paused, p, next);
    ResumeFn fn = p->resume;
    http::destroy_obj(p);
    fn(ctx, res);
    return 0;
}

evrpc_hook_meta **meta_slot(void *ctx) noexcept {
    // Server calls and client requests both begin with this pointer (state.h).
    return static_cast<evrpc_hook_meta **>(ctx);
}

bool meta_attach(evrpc_hook_meta **slot, evhttp_connection *evcon) noexcept {
    if (!*slot) *slot = http::make_obj<evrpc_hook_meta>();
    if (!*slot) return false;
    (*slot)->evcon = evcon;
    return true;
}

void meta_add(evrpc_hook_meta **slot, const char *key, const void *data, size_t size) noexcept {
    if (!*slot) *slot = http::make_obj<evrpc_hook_meta>();
    if (!*slot) return;
    Meta *m = http::make_obj<Meta>();
    if (!m) return;
    m->key = http::copy_str(key);
    m->data.reset(event_mm_malloc_(size ? size : 1));
    if (!m->key || !m->data) {
        http::destroy_obj(m);
        return;
    }
    if (size) std::memcpy(m->data.get(), data, size);
    m->size = size;
    TAILQ_INSERT_TAIL(&(*slot)->entries, m, next);
}

int meta_find(evrpc_hook_meta *meta, const char *key, void **data, size_t *size) noexcept {
    if (!meta) return -1;
    Meta *m;
    TAILQ_FOREACH(m, &meta->entries, next) {
        if (std::strcmp(m->key.get(), key) == 0) {
            if (data) *data = m->data.get();
            if (size) *size = m->size;
            return 0;
        }
    }
    return -1;
}

void meta_free(evrpc_hook_meta *meta) noexcept {
    if (!meta) return;
    while (Meta *m = TAILQ_FIRST(&meta->entries)) {
        TAILQ_REMOVE(&meta->entries, m, next);
        http::destroy_obj(m);
    }
    http::destroy_obj(meta);
}

}  // namespace reevent::rpc
