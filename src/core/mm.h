// Memory for everything reevent allocates.
//
// Every allocation of the library goes through these functions, which call the hooks set
// by event_set_mem_functions() (or libc's when none are set). There is no operator new in
// the library: objects are placed into mm::malloc'ed storage with mm::make and released
// with mm::destroy, so a failing allocation is a nullptr, never an exception.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace reevent::mm {

using MallocFn = void *(*)(size_t);
using ReallocFn = void *(*)(void *, size_t);
using FreeFn = void (*)(void *);

// Installs user hooks; all three NULL restores libc. Must be called before any allocation.
void set_functions(MallocFn m, ReallocFn r, FreeFn f) noexcept;
namespace detail {
extern FreeFn g_free;  // the free hook (mm.cpp)
}  // namespace detail
// The free hook in force (nullptr: libc's). Caches of freed memory remember it, so memory
// they hold from before a hook change is released with the function that matches. Inline:
// the block and State caches compare it on every take and put.
inline FreeFn free_function() noexcept { return detail::g_free; }
// Releases `ptr` with a free hook returned by free_function() earlier.
void free_with(FreeFn f, void *ptr) noexcept;

// malloc(0) returns nullptr, as libevent's does. calloc checks n*size for overflow.
void *malloc(size_t size) noexcept;
void *calloc(size_t count, size_t size) noexcept;
void *realloc(void *ptr, size_t size) noexcept;
void free(void *ptr) noexcept;
char *strdup(const char *s) noexcept;

template <class T, class... Args>
T *make(Args &&...args) noexcept {
    void *p = mm::malloc(sizeof(T));
    if (!p) return nullptr;
    return ::new (p) T(std::forward<Args>(args)...);
}

template <class T>
void destroy(T *p) noexcept {
    if (!p) return;
    p->~T();
    mm::free(const_cast<std::remove_cv_t<T> *>(p));
}

struct Deleter {
    template <class T>
    void operator()(T *p) const noexcept { destroy(p); }
};

template <class T>
using Unique = std::unique_ptr<T, Deleter>;

template <class T, class... Args>
Unique<T> make_unique(Args &&...args) noexcept {
    return Unique<T>(make<T>(std::forward<Args>(args)...));
}

// A growable array of trivially copyable values on mm memory (std::vector would pull in
// libstdc++'s throwing helpers). Operations that allocate return false on failure and
// leave the array unchanged.
template <class T>
class Vec {
    static_assert(std::is_trivially_copyable_v<T>, "mm::Vec holds trivially copyable types");

public:
    Vec() noexcept = default;
    Vec(const Vec &) = delete;
    Vec &operator=(const Vec &) = delete;
    Vec(Vec &&o) noexcept : data_(o.data_), size_(o.size_), cap_(o.cap_) {
        o.data_ = nullptr;
        o.size_ = o.cap_ = 0;
    }
    Vec &operator=(Vec &&o) noexcept {
        if (this != &o) {
            mm::free(data_);
            data_ = o.data_;
            size_ = o.size_;
            cap_ = o.cap_;
            o.data_ = nullptr;
            o.size_ = o.cap_ = 0;
        }
        return *this;
    }
    ~Vec() { mm::free(data_); }

    [[nodiscard]] bool reserve(size_t n) noexcept {
        if (n <= cap_) return true;
        size_t cap = cap_ ? cap_ : 8;
        while (cap < n) {
            if (cap > SIZE_MAX / 2 / sizeof(T)) return false;
            cap *= 2;
        }
        void *p = mm::realloc(data_, cap * sizeof(T));
        if (!p) return false;
        data_ = static_cast<T *>(p);
        cap_ = cap;
        return true;
    }
    // Grows (filling with `fill`) or shrinks to n elements.
    [[nodiscard]] bool resize(size_t n, const T &fill = T{}) noexcept {
        if (!reserve(n)) return false;
        for (size_t i = size_; i < n; ++i) data_[i] = fill;
        size_ = n;
        return true;
    }
    [[nodiscard]] bool push_back(const T &v) noexcept {
        if (size_ == cap_ && !reserve(size_ + 1)) return false;
        data_[size_++] = v;
        return true;
    }
    void pop_back() noexcept { --size_; }
    void truncate(size_t n) noexcept {
        if (n < size_) size_ = n;
    }
    void clear() noexcept { size_ = 0; }
    // Releases the memory too.
    void reset() noexcept {
        mm::free(data_);
        data_ = nullptr;
        size_ = cap_ = 0;
    }

    T &operator[](size_t i) noexcept { return data_[i]; }
    const T &operator[](size_t i) const noexcept { return data_[i]; }
    T &back() noexcept { return data_[size_ - 1]; }
    T *data() noexcept { return data_; }
    const T *data() const noexcept { return data_; }
    size_t size() const noexcept { return size_; }
    size_t capacity() const noexcept { return cap_; }
    bool empty() const noexcept { return size_ == 0; }
    T *begin() noexcept { return data_; }
    T *end() noexcept { return data_ + size_; }
    const T *begin() const noexcept { return data_; }
    const T *end() const noexcept { return data_ + size_; }

private:
    T *data_ = nullptr;
    size_t size_ = 0;
    size_t cap_ = 0;
};

}  // namespace reevent::mm
