// Blocks: allocation, sharing and release (see block.h).
#include "buffer/block.h"

#include "buffer/evbuffer.h"
#include "core/mm.h"

#include <new>

namespace reevent::buffer {
namespace {

constexpr size_t kHeader = (sizeof(Block) + 15) & ~size_t(15);

// Allocation size for `need` data bytes: powers of two up to 64 KiB keep malloc's size
// classes happy; beyond that, whole pages.
size_t alloc_size_for(size_t need) noexcept {
    if (need > SIZE_MAX - kHeader - 4096) return 0;
    size_t want = need + kHeader;
    if (want <= 1024) return 1024;
    if (want <= kMaxAutoBlock) {
        size_t s = 1024;
        while (s < want) s <<= 1;
        return s;
    }
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

}  // namespace

Block *block_new_owned(size_t need) noexcept {
    size_t size = alloc_size_for(need);
    if (size == 0) return nullptr;
    void *mem = mm::malloc(size);
    if (!mem) return nullptr;
    Block *b = init_block(mem, BlockKind::kOwned);
    b->cap = size - kHeader;
    b->data = static_cast<unsigned char *>(mem) + kHeader;
    return b;
}

Block *block_new_reference(const void *data, size_t len, evbuffer_ref_cleanup_cb cb,
                           void *arg) noexcept {
    void *mem = mm::malloc(sizeof(Block));
    if (!mem) return nullptr;
    Block *b = init_block(mem, BlockKind::kReference);
    b->cap = len;
    b->data = static_cast<unsigned char *>(const_cast<void *>(data));
    b->cleanup = cb;
    b->cleanup_arg = arg;
    return b;
}

Block *block_new_file(FileSegment *seg) noexcept {
    void *mem = mm::malloc(sizeof(Block));
    if (!mem) return nullptr;
    Block *b = init_block(mem, BlockKind::kFile);
    b->cap = seg->length();
    b->file = seg;
    seg->ref();
    return b;
}

void block_unref(Block *b) noexcept {
    if (b->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
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
    mm::free(b);
}

bool block_materialize_file(Block *b) noexcept {
    if (block_readable(b)) return true;
    if (b->kind != BlockKind::kFile) return false;
    unsigned char *d = b->file->data();
    if (!d) return false;
    __atomic_store_n(&b->data, d, __ATOMIC_RELEASE);
    return true;
}

}  // namespace reevent::buffer
