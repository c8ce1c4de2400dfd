// Blocks: allocation, sharing and release (see block.h).
//
// Freed owned blocks of 1-64 KiB (power-of-two allocations, and evbuffer_read's biggest
// block) go to a small per-thread cache (at most kCacheBytes) that the next
// block_new_owned of the same size takes from, newest first. That keeps a busy
// connection's memory warm: an echo server reads into a block, moves it to the output,
// writes it, and the next read (of any connection served by that thread) gets the same
// cache-hot block back instead of a malloc/free pair - which for 64 KiB blocks also made
// glibc trim and regrow its heap (brk and page faults per message). Per thread, so no
// lock; a thread's cache is released when the thread exits. Blocks remember nothing of
// their buffer, so any thread may reuse them. The headers of reference and file blocks
// (evbuffer_add_reference, evbuffer_add_file_segment: one per call, freed when the bytes
// drain) are kept the same way, at most kMaxHeaders of them: a malloc/free pair was two
// thirds of an add_reference and drain. The States of emptied buffers (evbuffer.h) are
// kept the same way, with their rings, at most kMaxCachedStates of them: an echo's
// buffers give theirs back after each message and take one for the next. A change of the
// event_set_mem_functions hooks drops what was cached before, with the free function it
// was allocated for.
#include "buffer/block.h"

#include "buffer/evbuffer.h"
#include "core/mm.h"

#include <climits>
#include <pthread.h>

#include <new>

namespace reevent::buffer {
namespace {

constexpr size_t kHeader = kBlockHeader;

// ---- per-thread cache of free blocks --------------------------------------------------------

constexpr int kClasses = 8;  // allocations of 1, 2, 4, ..., 64 KiB, and kReadBlockAlloc
constexpr size_t kCacheBytes = 256 * 1024;
constexpr uint32_t kMaxHeaders = 64;  // cached headers of reference and file blocks

struct Cache {
    void *head[kClasses];  // free memory, linked through its first word
    size_t bytes;
    void *headers;  // free Block headers (sizeof(Block)), linked the same way
    uint32_t n_headers;
    uint32_t n_states;
    State *states;  // idle States (see state_cache_put), linked through spare_[0]
    mm::FreeFn owner;  // the free hook the cached blocks were allocated under
    bool registered;   // the thread-exit key points here
    bool closed;       // the thread is exiting: no more caching
};
// Plain zero-initialised TLS (no constructor, so no C++ runtime support is needed).
// Initial-exec: an emptied buffer gives its block back here and the next read or append
// takes it, so this is on every message's path, and the general-dynamic model's
// __tls_get_addr call per access (~22 instructions) was a third of a put/take pair. The
// struct is small (120 bytes), well within the static TLS that glibc keeps free for
// libraries loaded with dlopen.
__thread Cache t_cache __attribute__((tls_model("initial-exec")));

pthread_key_t g_key;
pthread_once_t g_once = PTHREAD_ONCE_INIT;
bool g_key_ok = false;

void flush(Cache &c) noexcept {
    for (void *&h : c.head) {
        while (h) {
            void *next = *static_cast<void **>(h);
            mm::free_with(c.owner, h);
            h = next;
        }
    }
    c.bytes = 0;
    while (c.headers) {
        void *next = *static_cast<void **>(c.headers);
        mm::free_with(c.owner, c.headers);
        c.headers = next;
    }
    c.n_headers = 0;
    while (c.states) {
        State *next = reinterpret_cast<State *>(c.states->spare_[0]);
        mm::free_with(c.owner, c.states->ring_);
        mm::free_with(c.owner, c.states);
        c.states = next;
    }
    c.n_states = 0;
}

void thread_exit(void *p) noexcept {
    auto *c = static_cast<Cache *>(p);
    c->closed = true;
    flush(*c);
}

void make_key() noexcept { g_key_ok = pthread_key_create(&g_key, thread_exit) == 0; }

// The library may be unloaded (dlclose) while threads still run: they must not call into
// it when they exit.
__attribute__((destructor)) void drop_key() noexcept {
    if (g_key_ok) pthread_key_delete(g_key);
    g_key_ok = false;
}

// Class of a power-of-two allocation of 1-64 KiB or of a read block, -1 otherwise.
inline int class_of(size_t alloc) noexcept {
    if (alloc == kReadBlockAlloc) return kClasses - 1;
    if (alloc < 1024 || alloc > kMaxAutoBlock || (alloc & (alloc - 1))) return -1;
    return __builtin_ctzl(alloc) - 10;
}
inline size_t class_size(int k) noexcept {
    return k == kClasses - 1 ? kReadBlockAlloc : size_t(1024) << k;
}

inline void *cache_take(size_t alloc) noexcept {
    int k = class_of(alloc);
    if (k < 0) return nullptr;
    Cache &c = t_cache;
    void *m = c.head[k];
    if (!m || __builtin_expect(c.owner != mm::free_function(), 0)) return nullptr;
    c.head[k] = *static_cast<void **>(m);
    c.bytes -= alloc;
    return m;
}

bool cache_put_slow(void *mem, size_t alloc, int k) noexcept;
bool header_put_slow(void *mem) noexcept;

// True if the cache took the (unused) block memory.
inline bool cache_put(void *mem, size_t alloc) noexcept {
    int k = class_of(alloc);
    if (k < 0) return false;
    Cache &c = t_cache;
    // Common case: registered, same hooks, room.
    if (__builtin_expect(c.registered && !c.closed && c.bytes + alloc <= kCacheBytes &&
                             c.owner == mm::free_function(),
                         1)) {
        *static_cast<void **>(mem) = c.head[k];
        c.head[k] = mem;
        c.bytes += alloc;
        return true;
    }
    return cache_put_slow(mem, alloc, k);
}

// A free Block header, nullptr if none is cached.
inline void *header_take() noexcept {
    Cache &c = t_cache;
    void *m = c.headers;
    if (!m || __builtin_expect(c.owner != mm::free_function(), 0)) return nullptr;
    c.headers = *static_cast<void **>(m);
    --c.n_headers;
    return m;
}

// True if the cache took the header of a destroyed reference or file block.
inline bool header_put(void *mem) noexcept {
    Cache &c = t_cache;
    if (__builtin_expect(c.registered && !c.closed && c.n_headers < kMaxHeaders &&
                             c.owner == mm::free_function(),
                         1)) {
        *static_cast<void **>(mem) = c.headers;
        c.headers = mem;
        ++c.n_headers;
        return true;
    }
    return header_put_slow(mem);
}

// The cache may take memory: the thread is not exiting, the memory was allocated under the
// hooks of what is cached (otherwise that is released first), and the thread-exit key is
// set. False if caching is not possible.
bool cache_usable(Cache &c) noexcept {
    if (c.closed) return false;
    mm::FreeFn f = mm::free_function();
    if (c.owner != f) {
        flush(c);
        c.owner = f;
    }
    if (!c.registered) {
        pthread_once(&g_once, make_key);
        if (!g_key_ok || pthread_setspecific(g_key, &c) != 0) return false;
        c.registered = true;
    }
    return true;
}

__attribute__((noinline)) bool header_put_slow(void *mem) noexcept {
    Cache &c = t_cache;
    if (!cache_usable(c) || c.n_headers >= kMaxHeaders) return false;
    *static_cast<void **>(mem) = c.headers;
    c.headers = mem;
    ++c.n_headers;
    return true;
}

// Out of line (the common case above then saves no registers): first use on this thread,
// changed hooks, a full cache, an exiting thread.
__attribute__((noinline)) bool cache_put_slow(void *mem, size_t alloc, int k) noexcept {
    Cache &c = t_cache;
    if (!cache_usable(c)) return false;
    // Full: make room by dropping blocks of other sizes (a connection's read size grows
    // from 4 KiB; the small blocks of that start would otherwise crowd out the big ones
    // it uses later). A size that fills the cache alone is not cached further.
    for (int j = 0; c.bytes + alloc > kCacheBytes; ++j) {
        if (j == kClasses) return false;
        while (j != k && c.head[j] && c.bytes + alloc > kCacheBytes) {
            void *m = c.head[j];
            c.head[j] = *static_cast<void **>(m);
            c.bytes -= class_size(j);
            mm::free_with(c.owner, m);
        }
    }
    *static_cast<void **>(mem) = c.head[k];
    c.head[k] = mem;
    c.bytes += alloc;
    return true;
}

// Allocation size for `need` data bytes: powers of two up to 64 KiB keep malloc's size
// classes happy; beyond that, whole pages. 0 when no block can hold `need`: a block is at
// most SSIZE_MAX bytes (libevent's chain limit too), so an impossible length such as
// evbuffer_expand(b, SSIZE_MAX) fails without asking the allocator for 2^63 bytes (which an
// ASan-built program treats as a fatal error rather than a NULL).
size_t alloc_size_for(size_t need) noexcept {
    if (need > size_t(SSIZE_MAX) - kAlignedHeader - 4096) return 0;
    size_t want = need + kHeader;
    if (want <= 1024) return 1024;
    if (want <= 2048) return 2048;
    want = need + kAlignedHeader;
    if (want <= kAlignedFrom) return kAlignedFrom;
    if (want <= kMaxAutoBlock)  // the next power of two
        return size_t(1) << (64 - __builtin_clzll(static_cast<unsigned long long>(want - 1)));
    return (want + 4095) & ~size_t(4095);
}

Block *init_block(void *mem, BlockKind kind) noexcept {
    Block *b = ::new (mem) Block;
    b->refs.store(1, std::memory_order_relaxed);
    b->kind = kind;
    b->cap = 0;
    b->data = nullptr;
    b->cleanup = nullptr;
    b->cleanup_arg = nullptr;
    b->file = nullptr;
    return b;
}

// A State that cannot be cached (full, changed hooks, exiting thread) is freed.
__attribute__((noinline)) void state_put_slow(State *st) noexcept {
    Cache &c = t_cache;
    if (!cache_usable(c) || c.n_states >= kMaxCachedStates) {
        mm::free(st->ring_);
        mm::destroy(st);
        return;
    }
    st->spare_[0] = reinterpret_cast<Block *>(c.states);
    c.states = st;
    ++c.n_states;
}

}  // namespace

void release_thread_block_cache() noexcept { flush(t_cache); }

// ---- States ---------------------------------------------------------------------------------

namespace {
// Both inline here: a State is taken and given back once per message of a connection.
inline State *state_take() noexcept {
    Cache &c = t_cache;
    State *st = c.states;
    if (!st || __builtin_expect(c.owner != mm::free_function(), 0)) return nullptr;
    c.states = reinterpret_cast<State *>(st->spare_[0]);
    --c.n_states;
    st->spare_[0] = nullptr;
    return st;
}

inline void state_put(State *st) noexcept {
    // A big ring (a buffer that held many segments) is not kept: the next user may not
    // need it.
    if (__builtin_expect(st->cap_ > kCachedRingMax, 0)) {
        mm::free(st->ring_);
        st->ring_ = nullptr;
        st->cap_ = 0;
    }
    Cache &c = t_cache;
    if (__builtin_expect(c.registered && !c.closed && c.n_states < kMaxCachedStates &&
                             c.owner == mm::free_function(),
                         1)) {
        st->spare_[0] = reinterpret_cast<Block *>(c.states);
        c.states = st;
        ++c.n_states;
        return;
    }
    state_put_slow(st);
}
}  // namespace

void state_cache_put(State *st) noexcept { state_put(st); }

bool Buffer::own_slow() noexcept {
    State *st = state_take();
    if (!st) {
        st = mm::make<State>();
        if (!st) return false;
    }
    s_ = st;
    return true;
}

bool Buffer::ring_reserve_slow(size_t extra) noexcept {
    if (!owned()) {
        if (!own_slow()) return false;
        if (s_->count_ + extra <= s_->cap_) return true;  // the cached ring has the room
    }
    return ring_grow(extra);
}

void Buffer::release_state() noexcept {
    // Locked (s_ must not change), spares, deferral, pending counts: the State stays.
    if (!state_idle()) return;
    State *st = s_;
    s_ = empty_state();
    state_put(st);
}

Block *block_new_owned(size_t need) noexcept {
    size_t size = alloc_size_for(need);
    if (size == 0) return nullptr;
    void *mem = cache_take(size);
    if (!mem) mem = mm::malloc(size);
    if (!mem) return nullptr;
    Block *b = init_block(mem, BlockKind::kOwned);
    auto *base = static_cast<unsigned char *>(mem);
    b->cap = size - block_header_for(size);
    if (size >= kAlignedFrom) {
        uintptr_t d = (reinterpret_cast<uintptr_t>(base) + sizeof(Block) + kDataAlign - 1) &
                      ~uintptr_t(kDataAlign - 1);
        b->data = base + (d - reinterpret_cast<uintptr_t>(base));
    } else {
        b->data = base + kHeader;
    }
    return b;
}

Block *block_new_reference(const void *data, size_t len, evbuffer_ref_cleanup_cb cb,
                           void *arg) noexcept {
    void *mem = header_take();
    if (!mem) mem = mm::malloc(sizeof(Block));
    if (!mem) return nullptr;
    Block *b = init_block(mem, BlockKind::kReference);
    b->cap = len;
    b->data = static_cast<unsigned char *>(const_cast<void *>(data));
    b->cleanup = cb;
    b->cleanup_arg = arg;
    return b;
}

Block *block_new_file(FileSegment *seg) noexcept {
    void *mem = header_take();
    if (!mem) mem = mm::malloc(sizeof(Block));
    if (!mem) return nullptr;
    Block *b = init_block(mem, BlockKind::kFile);
    b->cap = seg->length();
    b->file = seg;
    seg->ref();
    return b;
}

namespace {
// A reference or file block's last view is gone (out of line: the owned case is the hot
// one).
__attribute__((noinline)) void block_destroy_other(Block *b) noexcept {
    switch (b->kind) {
    case BlockKind::kOwned:
        break;
    case BlockKind::kReference:
        if (b->cleanup) b->cleanup(b->data, b->cap, b->cleanup_arg);
        break;
    case BlockKind::kFile:
        b->file->unref();
        break;
    }
    b->~Block();
    if (!header_put(b)) mm::free(b);
}
}  // namespace

void block_unref(Block *b) noexcept {
    if (b->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    if (__builtin_expect(b->kind != BlockKind::kOwned, 0)) return block_destroy_other(b);
    // Caps are alloc - header: 976 and 2000 below kAlignedFrom, 3984 and more from it.
    size_t alloc = b->cap + (b->cap >= kAlignedFrom - kAlignedHeader ? kAlignedHeader : kHeader);
    b->~Block();
    if (!cache_put(b, alloc)) mm::free(b);
}

bool block_materialize_file(Block *b) noexcept {
    if (block_readable(b)) return true;
    if (b->kind != BlockKind::kFile) return false;
    // Another block of the segment (or evbuffer_add_file_segment) may have made the range
    // readable already: then no lock is needed.
    unsigned char *d = b->file->readable();
    if (!d) d = b->file->data();
    if (!d) return false;
    __atomic_store_n(&b->data, d, __ATOMIC_RELEASE);
    return true;
}

}  // namespace reevent::buffer
