// The evbuffer: a 24-byte header (callbacks, refcount, freeze state, size hints) and a State
// with the ring of segments (see block.h), length, spares, lock and deferred-callback hook,
// which a buffer holds only while it needs one (an idle connection's buffers have none).
//
// This header is also the internal interface for the bufferevent area. What it may use:
//   - Buffer::from(evbuffer*) / the public evbuffer_* functions;
//   - use_lock(): make the buffer use the bufferevent's lock (shared, not owned);
//   - read_from_fd()/write_to_fd(): the I/O paths of evbuffer_read/_write_atmost;
//   - freeze()/unfreeze()/frozen_front()/frozen_back();
//   - incref()/decref(): keep a buffer alive across a deferred callback;
//   - add_cb(..., kCbNoDefer) through set_cb_flags: a callback that runs immediately even
//     when the buffer defers its callbacks.
// All methods lock internally (the lock is recursive); callers may hold lock() around a
// sequence of calls.
#pragma once

#include <event2/buffer.h>
#include <event2/buffer_compat.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <sys/types.h>

#include "buffer/block.h"
#include "core/lock.h"

namespace reevent::core {
class Deferred;
}

namespace reevent::buffer {

// Callback flags: EVBUFFER_CB_ENABLED is public; the others are ours.
inline constexpr uint32_t kCbEnabled = EVBUFFER_CB_ENABLED;
inline constexpr uint32_t kCbNoDefer = 2;    // runs immediately even in deferred mode
inline constexpr uint32_t kCbObsolete = 4;   // an evbuffer_setcb (old-style) callback
inline constexpr uint32_t kCbRemoved = 8;    // unlinked while callbacks were running
inline constexpr uint32_t kCbPublicFlags = kCbEnabled;

class Buffer;

}  // namespace reevent::buffer

// One registered callback (the public handle is a pointer to this).
struct evbuffer_cb_entry {
    evbuffer_cb_entry *next;
    union {
        evbuffer_cb_func fn;
        evbuffer_cb obsolete;
    } cb;
    void *arg;
    uint32_t flags;
};

namespace reevent::buffer {

// What a buffer holds beyond its header: the segment ring, counters, spare blocks, lock,
// deferred-callback hook. A buffer without data, lock or deferral points at kEmptyState
// (constant: in read-only memory, so a write that missed Buffer::own() faults at once
// instead of corrupting every empty buffer). The first need takes a State (with its ring)
// from the per-thread cache in block.cpp, or allocates one; an unlocked buffer that becomes
// empty with nothing else in its State gives it back there (Buffer::release_if_idle), so
// an idle connection holds none and a busy one pays a cache take and put per message, no
// malloc. A locked buffer keeps its State until it is freed (its s_ never changes while
// other threads may read it).
// Spare block slots of a State (see State::spare_): evbuffer_reserve_space may hand out the
// free tail plus this many empty blocks, as libevent's chain of empty chains does (libevent
// has no such limit; a request beyond it gets one block for the rest instead, which the
// API allows). Drained blocks are kept in the first kKeptSpares slots only, so a busy buffer
// keeps at most that many.
inline constexpr size_t kMaxSpares = 4;
inline constexpr size_t kKeptSpares = 2;

struct State {
    Segment *ring_ = nullptr;
    size_t total_ = 0;
    // Stream position of the first byte: grows as bytes are drained, shrinks on prepend.
    // Every segment records its own, so a position hint can be checked exactly and a byte
    // position found by binary search.
    uint64_t front_abs_ = 0;
    // Empty blocks after the data, in order: what evbuffer_reserve_space hands out behind
    // the free tail (kMaxSpares of them at most) and, in the first kKeptSpares slots only,
    // drained blocks kept for reuse. Compacted (no holes) by reserve_space before it counts.
    Block *spare_[kMaxSpares] = {};
    core::Lock *lock_ = nullptr;
    void *user_lock_ = nullptr;
    // Changes not yet reported to the callbacks (zero while there are none).
    size_t n_added_ = 0;
    size_t n_deleted_ = 0;
    core::Deferred *deferred_ = nullptr;  // allocated by defer_callbacks
    uint32_t cap_ = 0;   // power of two (0 until the first segment)
    uint32_t head_ = 0;
    uint32_t count_ = 0;
    // Sequence number of seg(0), for evbuffer_ptr hints. Neither it nor front_abs_ need
    // survive an emptied buffer's State: a hint is only taken when its segment's stream
    // position matches the position asked for, which is exact within one State.
    uint32_t front_seq_ = 1;
};
inline constexpr State kEmptyState{};

// The per-thread State cache (block.cpp, with the block cache): a State in it is empty,
// unlocked, without spares, deferral or pending counts, and keeps its ring (if at most
// kCachedRingMax slots). At most kMaxCachedStates per thread.
inline constexpr uint32_t kCachedRingMax = 4;
inline constexpr uint32_t kMaxCachedStates = 64;
// Caches or frees (with its ring) a State in the condition above (Buffer::own_slow takes
// from the cache).
void state_cache_put(State *st) noexcept;

class Buffer {
public:
    Buffer() noexcept = default;
    ~Buffer();
    Buffer(const Buffer &) = delete;
    Buffer &operator=(const Buffer &) = delete;

    // ---- lifetime ---------------------------------------------------------------------
    void incref() noexcept;
    // Drops a reference; destroys the buffer on the last. Call unlocked.
    void decref() noexcept;
    // evbuffer_free: marks the buffer dead (no more callbacks) and drops the owner's ref.
    void release() noexcept;

    // ---- locking ----------------------------------------------------------------------
    int enable_locking(void *user_lock) noexcept;
    // bufferevent: share its lock. False when out of memory.
    [[nodiscard]] bool use_lock(core::Lock *shared) noexcept;
    // Inline: the common unlocked or core::Lock case costs one branch.
    void lock() noexcept {
        if (s_->lock_)
            s_->lock_->lock();
        else if (s_->user_lock_)
            lock_user();
    }
    void unlock() noexcept {
        if (s_->lock_)
            s_->lock_->unlock();
        else if (s_->user_lock_)
            unlock_user();
    }
    bool locking() const noexcept { return s_->lock_ != nullptr || s_->user_lock_ != nullptr; }

    // ---- flags and state --------------------------------------------------------------
    int set_flags(uint64_t f) noexcept;
    int clear_flags(uint64_t f) noexcept;
    uint64_t flags() const noexcept { return flags_; }
    int freeze(bool at_front) noexcept;
    int unfreeze(bool at_front) noexcept;
    bool frozen_front() const noexcept { return freeze_front_; }
    bool frozen_back() const noexcept { return freeze_back_; }
    size_t length() const noexcept { return s_->total_; }
    size_t contiguous_space() const noexcept;

    // ---- adding -----------------------------------------------------------------------
    // Inline fast path (a small append into the free tail of the last block, no lock, no
    // callbacks); everything else goes to add_slow.
    int add(const void *data, size_t len) noexcept {
        if (plain_.load(std::memory_order_relaxed) && s_->count_ && data) {
            Segment &l = s_->ring_[(s_->head_ + s_->count_ - 1) & (s_->cap_ - 1)];
            Block *b = l.block;
            size_t end = l.off + l.len;
            if (b->kind == BlockKind::kOwned && len <= b->cap - end &&
                b->refs.load(std::memory_order_relaxed) == 1) {
                std::memcpy(b->data + end, data, len);
                l.len += len;
                s_->total_ += len;
                return 0;
            }
        }
        return add_slow(data, len);
    }
    int add_slow(const void *data, size_t len) noexcept;
    size_t add_iovec(const iovec *vec, int n) noexcept;
    int add_vprintf(const char *fmt, va_list ap) noexcept;
    int add_reference(const void *data, size_t len, evbuffer_ref_cleanup_cb cb,
                      void *arg) noexcept;
    int add_file_segment(FileSegment *seg, off_t offset, off_t length) noexcept;
    int prepend(const void *data, size_t len) noexcept;
    int expand(size_t len) noexcept;
    int reserve_space(ssize_t size, iovec *vec, int n_vec) noexcept;
    int commit_space(const iovec *vec, int n_vec) noexcept;
    // reserve_space with n_vec >= 2 and more wanted than the free tail's `space`.
    int reserve_extents(size_t want, size_t space, iovec *vec, int n_vec) noexcept;

    // ---- between buffers (static: two locks, taken in address order) ----------------------
    static int add_buffer(Buffer *out, Buffer *in) noexcept;
    static int add_buffer_reference(Buffer *out, Buffer *in) noexcept;
    static int prepend_buffer(Buffer *dst, Buffer *src) noexcept;
    static int remove_buffer(Buffer *src, Buffer *dst, size_t len) noexcept;

    // ---- removing and reading ---------------------------------------------------------
    int drain(size_t len) noexcept;
    int remove(void *out, size_t len) noexcept;
    ssize_t copyout_from(const evbuffer_ptr *pos, void *out, size_t len) noexcept;
    unsigned char *pullup(ssize_t size) noexcept;
    char *readln(size_t *n_read_out, evbuffer_eol_style style) noexcept;
    char *readln_general(size_t *n_read_out, evbuffer_eol_style style) noexcept;
    unsigned char *find(const unsigned char *what, size_t len) noexcept;

    // ---- positions --------------------------------------------------------------------
    int ptr_set(evbuffer_ptr *ptr, size_t position, evbuffer_ptr_how how) noexcept;
    evbuffer_ptr search_range(const char *what, size_t len, const evbuffer_ptr *start,
                              const evbuffer_ptr *end) noexcept;
    evbuffer_ptr search_eol(const evbuffer_ptr *start, size_t *eol_len_out,
                            evbuffer_eol_style style) noexcept;
    int peek(ssize_t len, const evbuffer_ptr *start, iovec *vec, int n_vec) noexcept;

    // ---- file descriptors -------------------------------------------------------------
    // howmuch < 0: as much as convenient. Bytes read, 0 on EOF, -1 with errno.
    // `thaw`: the bufferevent's read - the end is unfrozen for the call (callbacks see it
    // unfrozen) and frozen again after, as evbuffer_unfreeze/_read/_freeze would, under
    // one lock.
    int read_from_fd(int fd, int howmuch, bool thaw = false) noexcept;
    // howmuch < 0: everything. Bytes written or -1 with errno. `thaw`: the same for the
    // front (the bufferevent's write). `recycle_to`: a buffer under the same lock that
    // users cannot reserve space in (the bufferevent's input, frozen at its end); a block
    // written out completely becomes its spare when it has none and holds data (an empty
    // buffer keeps no spare), so its next read reuses it without a trip through the block
    // cache.
    int write_to_fd(int fd, ssize_t howmuch, bool thaw = false,
                    Buffer *recycle_to = nullptr) noexcept;

    // ---- callbacks --------------------------------------------------------------------
    evbuffer_cb_entry *add_cb(evbuffer_cb_func fn, void *arg) noexcept;
    int remove_cb_entry(evbuffer_cb_entry *ent) noexcept;
    int remove_cb(evbuffer_cb_func fn, void *arg) noexcept;
    // The live entry registered with (fn, arg), nullptr if none (callers that add one
    // entry of their own need not keep the handle).
    evbuffer_cb_entry *find_cb(evbuffer_cb_func fn, void *arg) noexcept;
    int cb_set_flags(evbuffer_cb_entry *ent, uint32_t flags) noexcept;
    int cb_clear_flags(evbuffer_cb_entry *ent, uint32_t flags) noexcept;
    int setcb(evbuffer_cb fn, void *arg) noexcept;
    int defer_callbacks(event_base *base) noexcept;

    // ---- introspection (tests) ----------------------------------------------------------
    // True when the ring is consistent: lengths add up, no empty segment, stream positions
    // contiguous, capacity a power of two.
    bool check_invariants() const noexcept;
    // The buffer holds a State of its own (not the shared empty one).
    bool holds_state() const noexcept { return owned(); }
    size_t segment_count() const noexcept { return s_->count_; }
    size_t spare_count() const noexcept {
        size_t n = 0;
        for (const Block *sp : s_->spare_) n += sp != nullptr;
        return n;
    }

private:
    friend class Guard;
    // Unfreezes one end for a bufferevent's I/O call and freezes it again after.
    class Thaw {
    public:
        Thaw(Buffer *b, bool front, bool on) noexcept;
        ~Thaw();
        Thaw(const Thaw &) = delete;
        Thaw &operator=(const Thaw &) = delete;

    private:
        Buffer *b_;
        bool front_;
        bool on_;
    };
    // Ring access.
    size_t mask() const noexcept { return s_->cap_ - 1; }
    Segment &seg(size_t i) noexcept { return s_->ring_[(s_->head_ + i) & mask()]; }
    const Segment &seg(size_t i) const noexcept { return s_->ring_[(s_->head_ + i) & mask()]; }
    Segment *last() noexcept { return s_->count_ ? &seg(s_->count_ - 1) : nullptr; }
    // Room for `extra` more segments (claims the State first). Inline: the ring nearly
    // always has the room already.
    bool ring_reserve(size_t extra) noexcept {
        return (owned() && s_->count_ + extra <= s_->cap_) || ring_reserve_slow(extra);
    }
    // Claims a State (with the cached one's ring, which usually has the room) and grows
    // the ring if needed.
    bool ring_reserve_slow(size_t extra) noexcept;
    bool ring_grow(size_t extra) noexcept;  // needs an owned State
    // Both take a segment whose len is set; they fix abs and total_.
    void push_back(Segment s) noexcept {
        s.abs = s_->front_abs_ + s_->total_;
        s_->total_ += s.len;
        seg(s_->count_++) = s;
    }
    void push_front(Segment s) noexcept {
        s_->head_ = (s_->head_ - 1) & mask();
        ++s_->count_;
        --s_->front_seq_;
        s_->front_abs_ -= s.len;
        s.abs = s_->front_abs_;
        s_->total_ += s.len;
        s_->ring_[s_->head_] = s;
    }
    // Removes seg(0) from the ring (fixing total_ and front_abs_); the caller releases its
    // block.
    void pop_front() noexcept {
        s_->total_ -= s_->ring_[s_->head_].len;
        s_->front_abs_ += s_->ring_[s_->head_].len;
        s_->head_ = (s_->head_ + 1) & mask();
        --s_->count_;
        ++s_->front_seq_;
    }
    // Free room after the last segment's data, 0 if that block cannot grow. Inline: every
    // read and append asks, and an empty buffer answers with one test.
    size_t tail_space() const noexcept {
        if (!s_->count_) return 0;
        const Segment &s = seg(s_->count_ - 1);
        const Block *b = s.block;
        if (!b->owned() || b->refs.load(std::memory_order_acquire) != 1) return 0;
        return b->cap - (s.off + s.len);
    }
    unsigned char *tail_ptr() noexcept;
    // An owned block for `need` bytes: a spare or a new one (sized by the growth rule).
    Block *take_block(size_t need) noexcept;
    void give_back(Block *b) noexcept;
    // An emptied buffer keeps no spare block: they go back to the per-thread block cache
    // (block.cpp), which the next block_new_owned of this thread takes from. An idle
    // connection then holds no block, and a busy one pays a cache put and take per
    // message instead of keeping its own.
    void drop_spares_if_empty() noexcept {
        if (!s_->total_ && has_spares()) drop_spares();
    }
    bool has_spares() const noexcept {
        static_assert(kMaxSpares == 4);
        const State *s = s_;
        return (uintptr_t(s->spare_[0]) | uintptr_t(s->spare_[1]) | uintptr_t(s->spare_[2]) |
                uintptr_t(s->spare_[3])) != 0;
    }
    // Moves the spares to the front slots, keeping their order.
    void compact_spares() noexcept;
    void drop_spares() noexcept;
    // The slot of a spare block with at least `need` bytes, made if none has them; -1 when
    // out of memory.
    int expand_spare(size_t need) noexcept;
    // A new owned block for `need` bytes (at least the growth rule's size).
    Block *new_spare_block(size_t need) noexcept {
        return block_new_owned(need > next_block() ? need : next_block());
    }
    bool would_overflow_len(size_t add) const noexcept;  // drained block: keep as spare or free
    // Appends bytes; the caller checked freeze and overflow. False if allocation failed
    // (buffer unchanged).
    bool append_bytes(const void *data, size_t len) noexcept;
    void drain_bytes(size_t len, Buffer *recycle_to = nullptr) noexcept;
    void drain_all() noexcept;  // drain_bytes(length())
    // The paths of add_reference and drain with lock and callbacks (the public functions
    // take a shorter one for a plain buffer).
    int add_reference_general(const void *data, size_t len, evbuffer_ref_cleanup_cb cb,
                              void *arg) noexcept;
    int drain_general(size_t len) noexcept;
    int remove_general(void *out, size_t len) noexcept;
    int add_general(const void *data, size_t len) noexcept;
    void copy_bytes(size_t from, void *out, size_t len) noexcept;  // needs materialized
    // Copies out, making file data readable on the way; false if that fails (`out` may
    // then hold part of the bytes, the buffer is unchanged).
    bool copy_out(size_t from, void *out, size_t len) noexcept;
    template <bool kMaterialize>
    bool copy_range(size_t from, void *out, size_t len) noexcept;
    bool materialize_range(size_t from, size_t len) noexcept;
    // Locates byte position pos: segment index and offset in it (idx == count_ at end).
    void locate(size_t pos, size_t *idx, size_t *off) const noexcept;
    bool ptr_to_location(const evbuffer_ptr *p, size_t *idx, size_t *off) const noexcept;
    evbuffer_ptr make_ptr(size_t pos, size_t idx, size_t off) const noexcept {
        evbuffer_ptr p;
        p.pos = ssize_t(pos);
        p.internal_.chain = reinterpret_cast<void *>(uintptr_t(uint32_t(s_->front_seq_ + idx)));
        p.internal_.pos_in_chain = off;
        return p;
    }
    void free_all_segments() noexcept;
    bool has_views_or_files() const noexcept;
    // Scanning (positions.cpp). A cursor is (segment index, offset in it, byte position);
    // scanning makes file data readable as it enters a segment.
    struct Cursor {
        size_t i, o, pos;
    };
    const unsigned char *seg_bytes(size_t i) noexcept;  // nullptr if unreadable
    // Moves c to the first byte equal to c1 or c2 before `limit`; false if none.
    bool find_bytes(Cursor &c, size_t limit, unsigned char c1, unsigned char c2) noexcept;
    bool match_at(Cursor c, const unsigned char *what, size_t len) noexcept;
    int byte_after(Cursor c) noexcept;  // the byte after c, -1 at the end
    void advance(Cursor &c, size_t n) const noexcept;
    bool find_eol(Cursor &c, evbuffer_eol_style style, size_t *eol_len) noexcept;

    // Callbacks.
    // Only a change (n > 0) writes: the buffer owns its State by then.
    void note_added(size_t n) noexcept { if (n) s_->n_added_ += n; }
    void note_deleted(size_t n) noexcept { if (n) s_->n_deleted_ += n; }
    void invoke_callbacks() noexcept {
        if (!callbacks_) {
            clear_counts();
            return;
        }
        invoke_callbacks_slow();
    }
    // Nobody listens: forget the counts (written only when non-zero, which an unowned
    // buffer's are not).
    void clear_counts() noexcept {
        if (s_->n_added_ | s_->n_deleted_) s_->n_added_ = s_->n_deleted_ = 0;
    }
    void invoke_callbacks_slow() noexcept;
    void lock_user() noexcept;
    void unlock_user() noexcept;
    void run_callbacks(bool running_deferred) noexcept;
    void sweep_callbacks() noexcept;
    static void deferred_cb(core::Deferred *d, void *arg) noexcept;

    // Claims a State of its own (the shared empty one is read-only); false when out of
    // memory. Every path that writes a State field calls it first (ring_reserve does).
    bool own() noexcept { return s_ != empty_state() || own_slow(); }
    bool own_slow() noexcept;
    bool owned() const noexcept { return s_ != empty_state(); }
    static State *empty_state() noexcept { return const_cast<State *>(&kEmptyState); }
    // An emptied buffer gives its State back (to the per-thread cache) when nothing in it
    // must persist: called at the end of the operations that empty a buffer, after its
    // callbacks ran (pending change counts keep the State until then). Not while this
    // buffer's callbacks run (the operation that invoked them may go on writing its
    // State); the outer operation's own call catches that case.
    void release_if_idle() noexcept {
        if (!s_->total_ && owned() && !cb_running_) release_state();
    }
    void release_state() noexcept;
    // True if the State holds nothing but an empty ring (what the cache keeps; the shared
    // empty State is idle too).
    bool state_idle() const noexcept {
        const State *s = s_;
        static_assert(kMaxSpares == 4);
        return !(s->count_ | uintptr_t(s->spare_[0]) | uintptr_t(s->spare_[1]) |
                 uintptr_t(s->spare_[2]) | uintptr_t(s->spare_[3]) | uintptr_t(s->lock_) | uintptr_t(s->user_lock_) | uintptr_t(s->deferred_) |
                 s->n_added_ | s->n_deleted_);
    }
    static bool can_hand_over(const Buffer *out, const Buffer *in) noexcept;
    size_t next_block() const noexcept { return kMinBlockData << next_block_shift_; }
    size_t read_hint() const noexcept { return size_t(1) << read_hint_shift_; }

    // 24 bytes (a 32-byte malloc chunk): an idle connection's two buffers are just this.
    // Everything else is in the State, shared read-only while the buffer needs none. The
    // size hints are here, not in the State, so that they survive its release.
    State *s_ = empty_state();
    evbuffer_cb_entry *callbacks_ = nullptr;
    // The owner's reference and one for a queued deferred callback run: 16 bits suffice.
    std::atomic<uint16_t> refs_{1};
    uint16_t cb_running_ = 0;
    // No lock, no callbacks, back not frozen: evbuffer_add may take its inline path.
    // Atomic (relaxed) because a locked buffer's flag may be updated under its lock while
    // another thread tests it before locking; for such a buffer it is always false.
    std::atomic<bool> plain_{true};
    uint8_t flags_ : 1 = 0;  // EVBUFFER_FLAG_DRAINS_TO_FD is the only one
    bool freeze_front_ : 1 = false;
    bool freeze_back_ : 1 = false;
    bool dead_ : 1 = false;
    bool own_lock_ : 1 = false;
    bool cb_needs_sweep_ : 1 = false;
    bool deferred_cbs_ : 1 = false;
    bool read_filled_ : 1 = false;  // the last read filled its space (the next may be a tail)
    // Growth rule for new owned blocks (kMinBlockData << next_block_shift_) and the
    // adaptive read size (1 << read_hint_shift_).
    uint8_t next_block_shift_ = 0;
    uint8_t read_hint_shift_ = 12;
    // The front's short paths (drain, remove): no lock, no callbacks, front not frozen
    // (the end's freeze does not matter there: a bufferevent's input is frozen at its end).
    // The locks are tested first: a locked buffer's other fields may be changing under its
    // lock in another thread.
    bool front_plain() const noexcept {
        return !s_->lock_ && !s_->user_lock_ && !callbacks_ && !freeze_front_;
    }
    void update_plain() noexcept {
        plain_.store(!s_->lock_ && !s_->user_lock_ && !callbacks_ && !freeze_back_,
                     std::memory_order_relaxed);
    }
};

// Scoped buffer lock.
class Guard {
public:
    explicit Guard(Buffer *b) noexcept : b_(b) { b_->lock(); }
    ~Guard() { b_->unlock(); }
    Guard(const Guard &) = delete;
    Guard &operator=(const Guard &) = delete;

private:
    Buffer *b_;
};

// A file range shared by buffers (the public evbuffer_file_segment).
class FileSegment {
public:
    static FileSegment *create(int fd, off_t offset, off_t length, unsigned flags) noexcept;
    void ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void unref() noexcept;
    void set_cleanup(evbuffer_file_segment_cleanup_cb cb, void *arg) noexcept {
        cleanup_ = cb;
        cleanup_arg_ = arg;
    }
    // Makes the bytes readable (mmap, or pread into memory). Thread-safe.
    unsigned char *data() noexcept;
    // The readable bytes if data() made them so already, else nullptr (no lock taken).
    unsigned char *readable() const noexcept { return data_.load(std::memory_order_acquire); }
    int fd() const noexcept { return fd_; }
    off_t offset() const noexcept { return offset_; }
    size_t length() const noexcept { return length_; }
    unsigned flags() const noexcept { return flags_; }
    bool can_sendfile() const noexcept { return !(flags_ & EVBUF_FS_DISABLE_SENDFILE); }
    // Leaves the fd open when the segment goes (evbuffer_add_file failed: caller keeps it).
    void forget_fd() noexcept { flags_ &= ~unsigned(EVBUF_FS_CLOSE_ON_FREE); }

    FileSegment() noexcept = default;
    ~FileSegment();

private:
    std::atomic<uint32_t> refs_{1};
    int fd_ = -1;
    off_t offset_ = 0;
    size_t length_ = 0;
    unsigned flags_ = 0;
    // Readable bytes of the range, set once under lock_ by data() and read without it by
    // readable() (atomic for that).
    std::atomic<unsigned char *> data_{nullptr};
    void *map_ = nullptr;            // mmap base (page aligned) when mapped
    size_t map_len_ = 0;
    evbuffer_file_segment_cleanup_cb cleanup_ = nullptr;
    void *cleanup_arg_ = nullptr;
    core::Lock lock_;
};

}  // namespace reevent::buffer

// The public handles are our types.
struct evbuffer final : reevent::buffer::Buffer {};
struct evbuffer_file_segment final : reevent::buffer::FileSegment {};

namespace reevent::buffer {
inline Buffer *from(evbuffer *b) noexcept { return b; }
inline evbuffer *to_handle(Buffer *b) noexcept { return static_cast<evbuffer *>(b); }
}  // namespace reevent::buffer
