// Storage behind an evbuffer: blocks and the segments that view them.
//
// A Block is a refcounted piece of memory: bytes we own (allocated in one piece with the
// header), a caller's memory added by reference (with its cleanup callback), or a range of
// a file (evbuffer_file_segment, mapped or read on first byte access). A Segment is a view
// [off, off+len) of one block; a buffer is a ring of segments. Several segments (in one or
// several buffers) may view the same block: that is how add_buffer_reference and partial
// moves avoid copying. Only a block with a single viewer may grow in place.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <event2/buffer.h>

namespace reevent::buffer {

class FileSegment;

enum class BlockKind : uint8_t { kOwned, kReference, kFile };

struct Block {
    std::atomic<uint32_t> refs;
    BlockKind kind;
    size_t cap;           // kOwned: bytes of storage; otherwise the data length
    unsigned char *data;  // kFile: nullptr until the file was mapped or read
    // kReference
    evbuffer_ref_cleanup_cb cleanup;
    void *cleanup_arg;
    // kFile
    FileSegment *file;

    bool owned() const noexcept { return kind == BlockKind::kOwned; }
};

// Segment flags.
inline constexpr uint32_t kSegView = 1;  // added by add_buffer_reference (libevent refuses
                                         // to reference such data again)

struct Segment {
    Block *block;
    size_t off;  // first readable byte in block->data
    size_t len;  // readable bytes (never 0 inside the ring)
    uint64_t abs;  // stream position of the first byte (see Buffer::front_abs_)
    uint32_t flags;
};

// Owned block with room for at least `need` bytes (nullptr if allocation fails).
Block *block_new_owned(size_t need) noexcept;
// A block over caller memory / a file segment range; refs = 1.
Block *block_new_reference(const void *data, size_t len, evbuffer_ref_cleanup_cb cb,
                           void *arg) noexcept;
Block *block_new_file(FileSegment *seg) noexcept;
inline void block_ref(Block *b) noexcept { b->refs.fetch_add(1, std::memory_order_relaxed); }
// Drops one view; frees the block (running the reference cleanup) on the last.
void block_unref(Block *b) noexcept;
// Frees the calling thread's cache of spare blocks (libevent_global_shutdown: a program that
// calls it before exiting leaves no memory of ours behind, not even cached blocks).
void release_thread_block_cache() noexcept;
// Makes block data readable (maps or reads a file range). False on failure.
bool block_materialize_file(Block *b) noexcept;
// A file block shared by buffers with different locks may be made readable by two threads
// at once (both store the same pointer): the pointer is read and written atomically.
inline bool block_readable(const Block *b) noexcept {
    return __atomic_load_n(&b->data, __ATOMIC_ACQUIRE) != nullptr;
}
inline bool block_materialize(Block *b) noexcept {
    return block_readable(b) || block_materialize_file(b);
}

// Data sizes of owned blocks: the first block is small (most buffers stay small), later
// ones double up to kMaxAutoBlock so long streams use few blocks.
inline constexpr size_t kMinBlockData = 1024 - 64;
inline constexpr size_t kMaxAutoBlock = 64 * 1024;
// Bytes in front of an owned block's data (the header shares the allocation).
inline constexpr size_t kBlockHeader = (sizeof(Block) + 15) & ~size_t(15);
// Blocks of kAlignedFrom bytes and more (the ones socket reads and writes go through)
// start their data on a cache-line boundary: the kernel's copy into user memory
// (_copy_to_iter, rep movsb) is several times slower into a destination 16 bytes past
// one (on the AMD EPYC measured, a 16 KiB write+read pair on loopback TCP: 14.3 us
// against 9.1 us at the boundary; echo 16 KiB x 1 connection spent 21-24% of the
// server's samples in that copy against raw epoll's 5%, whose buffer is aligned).
// malloc (or an event_set_mem_functions hook) aligns less, so the boundary is anywhere
// in the 64 bytes after the header: such blocks reserve kAlignedHeader bytes, whatever
// the boundary leaves unused.
inline constexpr size_t kDataAlign = 64;
inline constexpr size_t kAlignedFrom = 4096;
inline constexpr size_t kAlignedHeader = (sizeof(Block) + kDataAlign - 1 + 15) & ~size_t(15);
// Bytes of an owned block's allocation that are not data.
inline constexpr size_t block_header_for(size_t alloc) noexcept {
    return alloc >= kAlignedFrom ? kAlignedHeader : kBlockHeader;
}
// Allocation of the biggest block evbuffer_read fills: 64 KiB of data plus the header
// (a peer with 64 KiB in flight is read in one call, not 64 KiB minus a header and then
// the rest).
inline constexpr size_t kReadBlockAlloc = kMaxAutoBlock + 4096;

}  // namespace reevent::buffer
