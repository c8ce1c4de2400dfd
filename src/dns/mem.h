// Memory for the resolver: every object lives on the event_set_mem_functions hooks, reached
// through the allocation entry points core exports (core/mm_abi.h). No operator new: a
// failed allocation is a nullptr, never an exception.
#pragma once

#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "core/mm_abi.h"

namespace reevent::dns {

template <class T, class... Args>
T *make_obj(Args &&...args) noexcept {
    void *p = event_mm_malloc_(sizeof(T));
    return p ? ::new (p) T(std::forward<Args>(args)...) : nullptr;
}

template <class T>
void destroy_obj(T *p) noexcept {
    if (!p) return;
    p->~T();
    event_mm_free_(p);
}

struct Deleter {
    template <class T>
    void operator()(T *p) const noexcept { destroy_obj(p); }
};
template <class T>
using Owned = std::unique_ptr<T, Deleter>;

struct FreeDeleter {
    void operator()(void *p) const noexcept { event_mm_free_(p); }
};
using OwnedStr = std::unique_ptr<char, FreeDeleter>;

inline OwnedStr dup_str(const char *s) noexcept { return OwnedStr(event_mm_strdup_(s)); }

}  // namespace reevent::dns
