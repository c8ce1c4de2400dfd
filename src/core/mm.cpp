// Memory hooks: see mm.h. The hooks are plain globals read on every allocation; libevent
// documents that event_set_mem_functions must be called before anything is allocated, so
// they are not synchronised.
#include "core/mm.h"

#include <cstdint>
#include <cstdlib>

namespace reevent::mm {
namespace detail {
FreeFn g_free = nullptr;
}  // namespace detail
using detail::g_free;
namespace {
MallocFn g_malloc = nullptr;
ReallocFn g_realloc = nullptr;
}  // namespace

void set_functions(MallocFn m, ReallocFn r, FreeFn f) noexcept {
    g_malloc = m;
    g_realloc = r;
    g_free = f;
}


void free_with(FreeFn f, void *ptr) noexcept {
    if (!ptr) return;
    if (f)
        f(ptr);
    else
        std::free(ptr);
}

void *malloc(size_t size) noexcept {
    if (size == 0) return nullptr;
    return g_malloc ? g_malloc(size) : std::malloc(size);
}

void *calloc(size_t count, size_t size) noexcept {
    if (count == 0 || size == 0) return nullptr;
    if (count > SIZE_MAX / size) return nullptr;
    size_t total = count * size;
    if (!g_malloc) return std::calloc(count, size);
    void *p = g_malloc(total);
    if (p) std::memset(p, 0, total);
    return p;
}

void *realloc(void *ptr, size_t size) noexcept {
    return g_realloc ? g_realloc(ptr, size) : std::realloc(ptr, size);
}

void free(void *ptr) noexcept {
    if (!ptr) return;
    if (g_free)
        g_free(ptr);
    else
        std::free(ptr);
}

char *strdup(const char *s) noexcept {
    if (!s) return nullptr;
    size_t n = std::strlen(s) + 1;
    char *p = static_cast<char *>(mm::malloc(n));
    if (p) std::memcpy(p, s, n);
    return p;
}

}  // namespace reevent::mm
