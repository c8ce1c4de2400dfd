// See mm_abi.h: the event_set_mem_functions hooks, exported for the add-on libraries.
#include "core/mm_abi.h"

#include <cerrno>

#include "core/mm.h"

using namespace reevent;

extern "C" {

void *event_mm_malloc_(size_t size) { return mm::malloc(size); }

void *event_mm_calloc_(size_t count, size_t size) {
    void *p = mm::calloc(count, size);
    if (!p && count && size) errno = ENOMEM;
    return p;
}

char *event_mm_strdup_(const char *s) {
    if (!s) {
        errno = EINVAL;
        return nullptr;
    }
    return mm::strdup(s);
}

void *event_mm_realloc_(void *ptr, size_t size) { return mm::realloc(ptr, size); }

void event_mm_free_(void *ptr) { mm::free(ptr); }

}  // extern "C"
