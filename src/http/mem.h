// Memory for libevent_extra's code: the event_set_mem_functions hooks, reached through the
// allocation entry points core exports (core/mm_abi.h), so a program's hooks see every
// allocation of the add-on library too and strings handed to the caller can be released
// with the caller's free function.
#pragma once

#include <cstring>
#include <memory>
#include <new>
#include <string_view>

#include "core/mm_abi.h"

namespace reevent::http {

struct MemFree {
    void operator()(void *p) const noexcept { event_mm_free_(p); }
};

// An owned NUL-terminated string on hook memory.
using OwnedStr = std::unique_ptr<char, MemFree>;

// A NUL-terminated copy of text (which may hold no NUL); empty on allocation failure.
inline OwnedStr copy_str(std::string_view text) noexcept {
    auto *p = static_cast<char *>(event_mm_malloc_(text.size() + 1));
    if (!p) return OwnedStr{};
    if (!text.empty()) std::memcpy(p, text.data(), text.size());
    p[text.size()] = '\0';
    return OwnedStr{p};
}

// Objects on hook memory (no operator new in the libraries: a failed allocation is nullptr).
template <class T>
T *make_obj() noexcept {
    void *p = event_mm_malloc_(sizeof(T));
    return p ? ::new (p) T() : nullptr;
}

template <class T>
void destroy_obj(T *p) noexcept {
    if (!p) return;
    p->~T();
    event_mm_free_(p);
}

}  // namespace reevent::http
