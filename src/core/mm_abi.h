// The allocation entry points core exports for reevent's add-on libraries (libevent_extra,
// libevent_pthreads). They carry libevent 2.1's own names for these helpers (its core
// exports the same five for the same reason), so nothing reevent-specific appears in the
// dynamic symbol table. Each one is mm::malloc & co.: the event_set_mem_functions hooks.
#pragma once

#include <stddef.h>

#if defined(__GNUC__)
#define REEVENT_MM_ABI __attribute__((visibility("default")))
#else
#define REEVENT_MM_ABI
#endif

#ifdef __cplusplus
extern "C" {
#endif

REEVENT_MM_ABI void *event_mm_malloc_(size_t size);
REEVENT_MM_ABI void *event_mm_calloc_(size_t count, size_t size);
REEVENT_MM_ABI char *event_mm_strdup_(const char *s);
REEVENT_MM_ABI void *event_mm_realloc_(void *ptr, size_t size);
REEVENT_MM_ABI void event_mm_free_(void *ptr);

#ifdef __cplusplus
}
#endif
