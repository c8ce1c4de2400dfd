// Hooks, paused calls and meta data, shared by the server (evrpc_base) and the client
// (evrpc_pool) sides.
#pragma once

#include "rpc/state.h"

namespace reevent::rpc {

// The hook set of a struct evrpc_base or struct evrpc_pool passed as void *.
HookSet *hooks_of(void *vbase) noexcept;

Hook *hook_add(HookSet *set, EVRPC_HOOK_TYPE type, HookFn cb, void *arg) noexcept;
bool hook_remove(HookSet *set, EVRPC_HOOK_TYPE type, void *handle) noexcept;
void hooks_clear(HookSet *set) noexcept;

// Runs the hooks of a list in order until one answers other than EVRPC_CONTINUE.
int hooks_run(HookList *list, void *ctx, evhttp_request *req, evbuffer *buf) noexcept;

// Parks ctx until evrpc_resume_request; false when memory runs out.
bool pause(HookSet *set, void *ctx, ResumeFn resume) noexcept;
// Forgets ctx's pause, if any (the call is being freed).
void unpause(HookSet *set, void *ctx) noexcept;
int resume(HookSet *set, void *ctx, EVRPC_HOOK_RESULT res) noexcept;

// The meta data slot at the start of a call's context.
evrpc_hook_meta **meta_slot(void *ctx) noexcept;
// Makes sure *slot exists and records the connection; false when memory runs out.
bool meta_attach(evrpc_hook_meta **slot, evhttp_connection *evcon) noexcept;
void meta_add(evrpc_hook_meta **slot, const char *key, const void *data, size_t size) noexcept;
int meta_find(evrpc_hook_meta *meta, const char *key, void **data, size_t *size) noexcept;
void meta_free(evrpc_hook_meta *meta) noexcept;

}  // namespace reevent::rpc
