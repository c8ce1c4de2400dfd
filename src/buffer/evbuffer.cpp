// The evbuffer data path: the segment ring, adding, draining, copying out, pullup,
// prepend, reserve/commit and moves between buffers. Every operation that can fail does
// all of its allocation before it changes anything, so a failure leaves the buffer as it
// was.
#include "buffer/evbuffer.h"

#include "core/log.h"
#include "core/mm.h"

#include <climits>
#include <cstdio>
#include <cstring>
#include <utility>

namespace reevent::buffer {

namespace {
// The largest length a buffer may hold (lengths are reported as ev_ssize_t).
constexpr size_t kMaxLength = size_t(SSIZE_MAX);
// Blocks kept for reuse after they drained (bigger ones go back to malloc).
constexpr size_t kKeepSpare = 16 * 1024;
// Partial moves of at most this many bytes copy instead of sharing the block.
constexpr size_t kCopyPartial = 512;
// Small tails are moved to the front of their block instead of starting a new block.
constexpr size_t kRealignMax = 256;

bool would_overflow(size_t have, size_t add) noexcept {
    return add > kMaxLength || have > kMaxLength - add;
}
}  // namespace

// ---- ring ----------------------------------------------------------------------------

bool Buffer::ring_grow(size_t extra) noexcept {
    REEVENT_ASSERT(owned());
    if (s_->count_ + extra <= s_->cap_) return true;
    // A first ring of 2 slots (one segment is the common case: an echo's message, a
    // request); it doubles when needed and keeps its size after.
    size_t cap = s_->cap_ ? s_->cap_ : 2;
    while (cap < s_->count_ + extra) {
        if (cap >= (size_t(1) << 30)) return false;  // indices are 32-bit
        cap *= 2;
    }
    auto *ring = static_cast<Segment *>(mm::malloc(cap * sizeof(Segment)));
    if (!ring) return false;
    for (size_t i = 0; i < s_->count_; ++i) ring[i] = seg(i);
    mm::free(s_->ring_);
    s_->ring_ = ring;
    s_->cap_ = uint32_t(cap);
    s_->head_ = 0;
    return true;
}

unsigned char *Buffer::tail_ptr() noexcept {
    Segment &s = seg(s_->count_ - 1);
    return s.block->data + s.off + s.len;
}

Block *Buffer::take_block(size_t need) noexcept {
    for (Block *&sp : s_->spare_) {
        if (sp && sp->cap >= need) {
            Block *b = sp;
            sp = nullptr;
            return b;
        }
    }
    Block *b = block_new_owned(need > next_block() ? need : next_block());
    // Only a block added behind data grows the next one: a buffer that is filled and
    // emptied message by message (it keeps no spare, see drop_spares) keeps taking
    // blocks of the size it needed so far instead of ever bigger ones.
    if (b && s_->count_ && next_block() < kMaxAutoBlock / 2) ++next_block_shift_;
    return b;
}

void Buffer::drop_spares() noexcept {
    for (Block *&sp : s_->spare_) {
        if (sp) {
            block_unref(sp);
            sp = nullptr;
        }
    }
}

void Buffer::give_back(Block *b) noexcept {
    if (b->owned() && b->cap <= kKeepSpare && b->refs.load(std::memory_order_acquire) == 1) {
        for (size_t i = 0; i < kKeptSpares; ++i) {
            if (!s_->spare_[i]) {
                s_->spare_[i] = b;
                return;
            }
        }
    }
    block_unref(b);
}

void Buffer::compact_spares() noexcept {
    size_t to = 0;
    for (size_t from = 0; from < kMaxSpares; ++from) {
        if (Block *b = s_->spare_[from]) {
            s_->spare_[from] = nullptr;
            s_->spare_[to++] = b;
        }
    }
}

void Buffer::free_all_segments() noexcept {
    while (s_->count_) {
        Block *b = seg(0).block;
        pop_front();
        block_unref(b);
    }
}

bool Buffer::has_views_or_files() const noexcept {
    for (size_t i = 0; i < s_->count_; ++i) {
        const Segment &s = seg(i);
        if ((s.flags & kSegView) || s.block->kind == BlockKind::kFile) return true;
    }
    return false;
}

size_t Buffer::contiguous_space() const noexcept {
    return s_->count_ ? seg(0).len : 0;
}

bool Buffer::check_invariants() const noexcept {
    if (s_->cap_ & (s_->cap_ - 1)) return false;
    if (s_->count_ > s_->cap_) return false;
    size_t sum = 0;
    uint64_t abs = s_->front_abs_;
    for (size_t i = 0; i < s_->count_; ++i) {
        const Segment &s = seg(i);
        if (!s.len || !s.block) return false;
        if (s.abs != abs) return false;
        if (s.block->owned() && s.off + s.len > s.block->cap) return false;
        abs += s.len;
        sum += s.len;
    }
    return sum == s_->total_;
}

// ---- positions ---------------------------------------------------------------------

void Buffer::locate(size_t pos, size_t *idx, size_t *off) const noexcept {
    if (pos >= s_->total_) {
        *idx = s_->count_;
        *off = 0;
        return;
    }
    // Most positions asked for are in the first segment (copying out from the front).
    if (pos < seg(0).len) {
        *idx = 0;
        *off = pos;
        return;
    }
    // Segments are ordered by stream position: binary search for the last one that
    // starts at or before pos.
    uint64_t target = s_->front_abs_ + pos;
    size_t lo = 0, hi = s_->count_ - 1;
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        if (seg(mid).abs - s_->front_abs_ <= target - s_->front_abs_)
            lo = mid;
        else
            hi = mid - 1;
    }
    *idx = lo;
    *off = size_t(target - seg(lo).abs);
}

bool Buffer::ptr_to_location(const evbuffer_ptr *p, size_t *idx, size_t *off) const noexcept {
    if (p->pos < 0 || size_t(p->pos) > s_->total_) return false;
    size_t pos = size_t(p->pos);
    size_t i = uint32_t(uint32_t(reinterpret_cast<uintptr_t>(p->internal_.chain)) - s_->front_seq_);
    size_t o = p->internal_.pos_in_chain;
    if (i < s_->count_ && o < seg(i).len && seg(i).abs + o == s_->front_abs_ + pos) {
        *idx = i;
        *off = o;
        return true;
    }
    locate(pos, idx, off);
    return true;
}

bool Buffer::materialize_range(size_t from, size_t len) noexcept {
    if (!len) return true;
    size_t idx, off;
    locate(from, &idx, &off);
    size_t left = len;
    for (size_t i = idx; i < s_->count_ && left; ++i) {
        Segment &s = seg(i);
        if (!block_materialize(s.block)) return false;
        size_t n = s.len - off;
        left -= n < left ? n : left;
        off = 0;
    }
    return true;
}

// Copies len bytes from offset `from`; with kMaterialize, file data not in memory yet is
// read in first (false if that fails), otherwise the caller knows it is materialized.
template <bool kMaterialize>
bool Buffer::copy_range(size_t from, void *out, size_t len) noexcept {
    size_t idx, off;
    locate(from, &idx, &off);
    auto *dst = static_cast<unsigned char *>(out);
    for (size_t i = idx; i < s_->count_ && len; ++i) {
        const Segment &s = seg(i);
        if constexpr (kMaterialize) {
            if (!block_materialize(s.block)) return false;
        }
        size_t n = s.len - off;
        if (n > len) n = len;
        std::memcpy(dst, s.block->data + s.off + off, n);
        dst += n;
        len -= n;
        off = 0;
    }
    return true;
}

bool Buffer::copy_out(size_t from, void *out, size_t len) noexcept {
    return copy_range<true>(from, out, len);
}

void Buffer::copy_bytes(size_t from, void *out, size_t len) noexcept {
    (void)copy_range<false>(from, out, len);
}

// ---- adding ----------------------------------------------------------------------------

bool Buffer::append_bytes(const void *data, size_t len) noexcept {
    auto *src = static_cast<const unsigned char *>(data);
    size_t space = tail_space();
    if (len <= space) {
        std::memcpy(tail_ptr(), src, len);
        seg(s_->count_ - 1).len += len;
        s_->total_ += len;
        return true;
    }
    // A short remainder at the end of a block: slide it to the front of its block when
    // that makes room, rather than starting a new block.
    if (s_->count_) {
        Segment &l = seg(s_->count_ - 1);
        Block *b = l.block;
        if (b->owned() && l.off && l.len <= kRealignMax && l.len + len <= b->cap &&
            b->refs.load(std::memory_order_acquire) == 1) {
            std::memmove(b->data, b->data + l.off, l.len);
            l.off = 0;
            std::memcpy(b->data + l.len, src, len);
            l.len += len;
            s_->total_ += len;
            return true;
        }
    }
    size_t rest = len - space;
    if (!ring_reserve(1)) return false;
    Block *b = take_block(rest);
    if (!b) return false;
    if (space) {
        std::memcpy(tail_ptr(), src, space);
        seg(s_->count_ - 1).len += space;
        s_->total_ += space;
    }
    std::memcpy(b->data, src + space, rest);
    push_back(Segment{b, 0, rest, 0, 0});
    return true;
}

int Buffer::add_slow(const void *data, size_t len) noexcept {
    if (plain_.load(std::memory_order_relaxed) && data && len &&
        len <= kMaxLength - s_->total_) {
        // No lock, no callbacks, end not frozen (an empty buffer, a full last block): the
        // path below without its lock and callback steps.
        if (!append_bytes(data, len)) return -1;
        clear_counts();
        return 0;
    }
    return add_general(data, len);
}

__attribute__((noinline)) int Buffer::add_general(const void *data, size_t len) noexcept {
    Guard g(this);
    // Fast path: a small append into the free tail of the last block.
    if (s_->count_ && data && !freeze_back_) {
        Segment &l = seg(s_->count_ - 1);
        Block *b = l.block;
        size_t end = l.off + l.len;
        if (b->owned() && len <= b->cap - end && len <= kMaxLength - s_->total_ &&
            b->refs.load(std::memory_order_acquire) == 1) {
            std::memcpy(b->data + end, data, len);
            l.len += len;
            s_->total_ += len;
            note_added(len);
            invoke_callbacks();
            return 0;
        }
    }
    if (freeze_back_) return -1;
    if (!len) return 0;
    if (!data || would_overflow(s_->total_, len)) return -1;
    if (!append_bytes(data, len)) return -1;
    note_added(len);
    invoke_callbacks();
    return 0;
}

int Buffer::expand(size_t len) noexcept {
    Guard g(this);
    if (len > kMaxLength) return -1;
    size_t space = tail_space();
    if (len <= space) return 0;
    if (!ring_reserve(1)) return -1;
    size_t rest = len - space;
    for (Block *sp : s_->spare_)
        if (sp && sp->cap >= rest) return 0;
    Block *b = block_new_owned(rest);
    if (!b) return -1;
    // Keep it where take_block finds it.
    if (!s_->spare_[0]) {
        s_->spare_[0] = b;
    } else if (!s_->spare_[1]) {
        s_->spare_[1] = b;
    } else {
        Block *old = s_->spare_[0];
        s_->spare_[0] = b;
        block_unref(old);
    }
    return 0;
}

size_t Buffer::add_iovec(const iovec *vec, int n) noexcept {
    Guard g(this);
    if (freeze_back_ || !vec || n <= 0) return 0;
    size_t sum = 0;
    for (int i = 0; i < n; ++i) {
        if (vec[i].iov_len && !vec[i].iov_base) return 0;
        if (would_overflow(sum, vec[i].iov_len)) return 0;
        sum += vec[i].iov_len;
    }
    if (!sum) return 0;
    if (would_overflow(s_->total_, sum)) return 0;
    // One block for everything that does not fit the tail, so nothing can fail midway.
    size_t space = tail_space();
    Block *b = nullptr;
    if (sum > space) {
        if (!ring_reserve(1)) return 0;
        b = take_block(sum - space);
        if (!b) return 0;
    }
    size_t done = 0;
    for (int i = 0; i < n; ++i) {
        auto *src = static_cast<const unsigned char *>(vec[i].iov_base);
        size_t len = vec[i].iov_len;
        while (len) {
            if (space) {
                size_t k = len < space ? len : space;
                std::memcpy(tail_ptr(), src, k);
                seg(s_->count_ - 1).len += k;
                s_->total_ += k;
                space -= k;
                src += k;
                len -= k;
                done += k;
                continue;
            }
            // The rest goes to the new block, which becomes the tail.
            push_back(Segment{b, 0, 0, 0, 0});
            b = nullptr;
            space = tail_space();
        }
    }
    if (b) give_back(b);
    note_added(done);
    invoke_callbacks();
    return done;
}

int Buffer::add_vprintf(const char *fmt, va_list ap) noexcept {
    Guard g(this);
    if (freeze_back_ || !fmt) return -1;
    size_t space = tail_space();
    va_list aq;
    va_copy(aq, ap);
    int n = std::vsnprintf(space ? reinterpret_cast<char *>(tail_ptr()) : nullptr, space,
                           fmt, aq);
    va_end(aq);
    if (n < 0) return -1;
    size_t len = size_t(n);
    if (would_overflow(s_->total_, len)) return -1;
    if (len < space) {
        seg(s_->count_ - 1).len += len;
        s_->total_ += len;
    } else {
        if (!ring_reserve(1)) return -1;
        Block *b = take_block(len + 1);
        if (!b) return -1;
        va_copy(aq, ap);
        std::vsnprintf(reinterpret_cast<char *>(b->data), len + 1, fmt, aq);
        va_end(aq);
        if (len)
            push_back(Segment{b, 0, len, 0, 0});
        else
            give_back(b);
    }
    if (len) {
        note_added(len);
        invoke_callbacks();
    }
    return n;
}

int Buffer::add_reference(const void *data, size_t len, evbuffer_ref_cleanup_cb cb,
                          void *arg) noexcept {
    // A plain buffer (no lock, no callbacks, end not frozen) with a free ring slot: only
    // the block to make (what the general path below does, without its lock and
    // callback steps).
    if (plain_.load(std::memory_order_relaxed) && len && data &&
        len <= kMaxLength - s_->total_ && ring_reserve(1)) {
        Block *b = block_new_reference(data, len, cb, arg);
        if (!b) return -1;
        push_back(Segment{b, 0, len, 0, 0});
        clear_counts();
        return 0;
    }
    return add_reference_general(data, len, cb, arg);
}

__attribute__((noinline)) int Buffer::add_reference_general(const void *data, size_t len,
                                                         evbuffer_ref_cleanup_cb cb,
                                                         void *arg) noexcept {
    Guard g(this);
    if (freeze_back_) return -1;
    if (len && !data) return -1;
    if (would_overflow(s_->total_, len)) return -1;
    if (!len) {
        // Nothing to hold on to: the memory is released at once.
        if (cb) cb(data, 0, arg);
        return 0;
    }
    if (!ring_reserve(1)) return -1;
    Block *b = block_new_reference(data, len, cb, arg);
    if (!b) return -1;
    push_back(Segment{b, 0, len, 0, 0});
    note_added(len);
    invoke_callbacks();
    return 0;
}

int Buffer::prepend(const void *data, size_t len) noexcept {
    Guard g(this);
    if (freeze_front_) return -1;
    if (!len) return 0;
    if (!data || would_overflow(s_->total_, len)) return -1;
    if (s_->count_) {
        Segment &f = seg(0);
        Block *b = f.block;
        if (b->owned() && f.off >= len && b->refs.load(std::memory_order_acquire) == 1) {
            f.off -= len;
            f.len += len;
            f.abs -= len;
            s_->front_abs_ -= len;
            s_->total_ += len;
            std::memcpy(b->data + f.off, data, len);
            note_added(len);
            invoke_callbacks();
            return 0;
        }
    }
    if (!ring_reserve(1)) return -1;
    Block *b = take_block(len);
    if (!b) return -1;
    // Data at the end of the block leaves room for further prepends.
    size_t off = b->cap - len;
    std::memcpy(b->data + off, data, len);
    push_front(Segment{b, off, len, 0, 0});
    note_added(len);
    invoke_callbacks();
    return 0;
}

// ---- reserve / commit -------------------------------------------------------------------

int Buffer::reserve_space(ssize_t size, iovec *vec, int n_vec) noexcept {
    Guard g(this);
    if (freeze_back_ || size < 0 || n_vec < 1 || !vec) return -1;
    size_t want = size_t(size);
    if (would_overflow(s_->total_, want)) return -1;
    // Nothing asked for with room for two extents: none handed out (as libevent).
    if (!want && n_vec >= 2) return 0;
    // The commit appends one segment per spare extent: make sure it cannot fail for that
    // (ring room for the usual one or two now; reserve_extents claims more if it needs).
    if (!ring_reserve(2)) return -1;
    size_t space = tail_space();
    if (space && space >= want) {
        vec[0].iov_base = tail_ptr();
        vec[0].iov_len = space;
        return 1;
    }
    if (n_vec >= 2) return reserve_extents(want, space, vec, n_vec);
    // One vector: one contiguous block.
    int k = expand_spare(want);
    if (k < 0) return -1;
    vec[0].iov_base = s_->spare_[k]->data;
    vec[0].iov_len = s_->spare_[k]->cap;
    return 1;
}

// Several vectors, more wanted than the free tail holds (libevent's way with its chain of
// empty chains): the tail and the spares in order offer what they hold, at most n_vec of
// them. Short of the request, a new spare for the rest is added behind them while a vector
// is left for it; otherwise one spare for everything past the tail replaces them all. So
// asking again for more keeps the extents already handed out where they are.
int Buffer::reserve_extents(size_t want, size_t space, iovec *vec, int n_vec) noexcept {
    compact_spares();
    size_t avail = space;
    size_t used = space ? 1 : 0;
    size_t k = 0;
    while (avail < want && used < size_t(n_vec) && k < kMaxSpares && s_->spare_[k]) {
        avail += s_->spare_[k]->cap;
        ++used;
        ++k;
    }
    if (avail < want) {
        if (used < size_t(n_vec) && k < kMaxSpares) {
            Block *b = new_spare_block(want - avail);
            if (!b) return -1;
            s_->spare_[k] = b;
        } else {
            Block *b = new_spare_block(want - space);
            if (!b) return -1;
            drop_spares();
            s_->spare_[0] = b;
        }
    }
    int n = 0;
    size_t so_far = 0;
    if (space) {
        vec[n].iov_base = tail_ptr();
        vec[n].iov_len = space;
        so_far = space;
        ++n;
    }
    for (k = 0; n < n_vec && so_far < want && k < kMaxSpares && s_->spare_[k]; ++k, ++n) {
        vec[n].iov_base = s_->spare_[k]->data;
        vec[n].iov_len = s_->spare_[k]->cap;
        so_far += s_->spare_[k]->cap;
    }
    if (!ring_reserve(size_t(n))) return -1;
    return n;
}

int Buffer::expand_spare(size_t need) noexcept {
    for (size_t i = 0; i < kMaxSpares; ++i)
        if (s_->spare_[i] && s_->spare_[i]->cap >= need) return int(i);
    Block *b = new_spare_block(need);
    if (!b) return -1;
    // A free kept slot, else the first one's block makes room.
    if (!s_->spare_[0]) {
        s_->spare_[0] = b;
        return 0;
    }
    if (!s_->spare_[1]) {
        s_->spare_[1] = b;
        return 1;
    }
    block_unref(s_->spare_[0]);
    s_->spare_[0] = b;
    return 0;
}

int Buffer::commit_space(const iovec *vec, int n_vec) noexcept {
    Guard g(this);
    constexpr int kMaxExtents = 1 + int(kMaxSpares);
    if (freeze_back_ || n_vec < 0 || n_vec > kMaxExtents) return -1;
    if (!n_vec) return 0;
    if (!vec) return -1;
    // Check everything first: each extent must continue the current end of the buffer
    // (the free tail of the last block, or a reserved spare block).
    struct Step {
        int spare;  // -1: extend the tail
        size_t len;
    } steps[kMaxExtents];
    unsigned char *tail = s_->count_ ? tail_ptr() : nullptr;
    size_t space = tail_space();
    bool used[kMaxSpares] = {};
    size_t sum = 0;
    size_t new_segments = 0;
    for (int i = 0; i < n_vec; ++i) {
        auto *base = static_cast<unsigned char *>(vec[i].iov_base);
        size_t len = vec[i].iov_len;
        steps[i] = Step{-1, 0};
        if (!len) continue;
        if (space && base == tail && len <= space) {
            steps[i] = Step{-1, len};
        } else {
            int k = -1;
            for (size_t j = 0; j < kMaxSpares; ++j)
                if (s_->spare_[j] && !used[j] && base == s_->spare_[j]->data &&
                    len <= s_->spare_[j]->cap)
                    k = int(j);
            if (k < 0) return -1;
            used[k] = true;
            steps[i] = Step{k, len};
            space = s_->spare_[k]->cap;
            tail = s_->spare_[k]->data;
            ++new_segments;
        }
        tail += len;
        space -= len;
        sum += len;
    }
    if (would_overflow(s_->total_, sum)) return -1;
    if (!ring_reserve(new_segments)) return -1;
    for (int i = 0; i < n_vec; ++i) {
        if (!steps[i].len) continue;
        if (steps[i].spare < 0) {
            seg(s_->count_ - 1).len += steps[i].len;
            s_->total_ += steps[i].len;
        } else {
            Block *b = s_->spare_[steps[i].spare];
            s_->spare_[steps[i].spare] = nullptr;
            push_back(Segment{b, 0, steps[i].len, 0, 0});
        }
    }
    if (sum) {
        note_added(sum);
        invoke_callbacks();
    }
    return 0;
}

// ---- removing ----------------------------------------------------------------------------

void Buffer::drain_all() noexcept {
    // The blocks are released at once: an emptied buffer keeps no spare
    // (drop_spares_if_empty), so parking them there first only delays that. Each segment
    // leaves the ring before its block goes (a reference's cleanup then sees a consistent
    // buffer; what it might add to the buffer stays).
    for (size_t n = s_->count_; n; --n) {
        Block *b = seg(0).block;
        pop_front();
        block_unref(b);
    }
    drop_spares_if_empty();
}

void Buffer::drain_bytes(size_t len, Buffer *recycle_to) noexcept {
    REEVENT_ASSERT(!recycle_to || recycle_to->owned());  // its State takes the block
    if (len >= s_->total_ && !recycle_to) return drain_all();
    while (len && s_->count_) {
        Segment &s = seg(0);
        if (len >= s.len) {
            len -= s.len;
            Block *b = s.block;
            pop_front();
            if (recycle_to && !recycle_to->has_spares() &&
                b->owned() &&
                b->cap <= kKeepSpare && b->refs.load(std::memory_order_acquire) == 1) {
                recycle_to->s_->spare_[0] = b;
                recycle_to = nullptr;
                continue;
            }
            give_back(b);
        } else {
            s.off += len;
            s.len -= len;
            s.abs += len;
            s_->total_ -= len;
            s_->front_abs_ += len;
            len = 0;
        }
    }
    drop_spares_if_empty();
}

int Buffer::drain(size_t len) noexcept {
    if (front_plain()) {
        // No lock, no callbacks: the general path below without its lock and callback
        // steps.
        if (!len || !s_->total_) return 0;
        if (len >= s_->total_) {
            drain_all();
            clear_counts();
            release_if_idle();
        } else {
            drain_bytes(len);
            clear_counts();
        }
        return 0;
    }
    return drain_general(len);
}

__attribute__((noinline)) int Buffer::drain_general(size_t len) noexcept {
    Guard g(this);
    if (freeze_front_) return -1;
    size_t n = len < s_->total_ ? len : s_->total_;
    if (!n) return 0;
    drain_bytes(n);
    note_deleted(n);
    invoke_callbacks();
    release_if_idle();
    return 0;
}

int Buffer::remove(void *out, size_t len) noexcept {
    if (front_plain()) {
        // No lock, no callbacks: the path below without its lock and callback steps.
        if (len && !out) return -1;
        size_t total = s_->total_;
        size_t n = len < total ? len : total;
        if (n > size_t(INT_MAX)) n = size_t(INT_MAX);
        if (!n) return 0;
        if (!copy_out(0, out, n)) return -1;
        if (n == total) {
            drain_all();
            clear_counts();
            release_if_idle();
        } else {
            drain_bytes(n);
            clear_counts();
        }
        return int(n);
    }
    return remove_general(out, len);
}

__attribute__((noinline)) int Buffer::remove_general(void *out, size_t len) noexcept {
    Guard g(this);
    if (freeze_front_) return -1;
    if (len && !out) return -1;
    size_t n = len < s_->total_ ? len : s_->total_;
    if (n > size_t(INT_MAX)) n = size_t(INT_MAX);
    if (!n) return 0;
    if (!copy_out(0, out, n)) return -1;
    drain_bytes(n);
    note_deleted(n);
    invoke_callbacks();
    release_if_idle();
    return int(n);
}

ssize_t Buffer::copyout_from(const evbuffer_ptr *pos, void *out, size_t len) noexcept {
    Guard g(this);
    // libevent treats copying out as a front operation: refused while the front is frozen.
    if (freeze_front_) return -1;
    size_t from = 0;
    if (pos) {
        if (pos->pos < 0 || size_t(pos->pos) > s_->total_) return -1;
        from = size_t(pos->pos);
    }
    if (len && !out) return -1;
    size_t n = s_->total_ - from;
    if (len < n) n = len;
    if (n > kMaxLength) n = kMaxLength;
    if (!n) return 0;
    if (!copy_out(from, out, n)) return -1;
    return ssize_t(n);
}

unsigned char *Buffer::pullup(ssize_t size) noexcept {
    Guard g(this);
    size_t want = size < 0 ? s_->total_ : size_t(size);
    if (want > s_->total_) return nullptr;
    if (!want) {
        // Nothing to make contiguous; give the front if there is one.
        if (!s_->count_ || !block_materialize(seg(0).block)) return nullptr;
        return seg(0).block->data + seg(0).off;
    }
    Segment &f = seg(0);
    if (f.len >= want) {
        if (!block_materialize(f.block)) return nullptr;
        return f.block->data + f.off;
    }
    if (!materialize_range(0, want)) return nullptr;
    // The first block can take the rest when it is ours alone and has the room after
    // its data; otherwise the bytes go to a new block.
    Block *fb = f.block;
    if (fb->owned() && fb->refs.load(std::memory_order_acquire) == 1 &&
        fb->cap - f.off >= want) {
        size_t have = f.len;
        unsigned char *dst = fb->data + f.off + have;
        size_t left = want - have;
        // Copy from the following segments, then drop what was copied.
        for (size_t i = 1; i < s_->count_ && left; ++i) {
            const Segment &s = seg(i);
            size_t n = s.len < left ? s.len : left;
            std::memcpy(dst, s.block->data + s.off, n);
            dst += n;
            left -= n;
        }
        size_t moved = want - have;
        // Remove `moved` bytes from segments 1.. and add them to segment 0.
        while (moved) {
            Segment &s = seg(1);
            if (moved >= s.len) {
                moved -= s.len;
                Block *b = s.block;
                // Remove ring slot 1 by shifting seg(0) forward.
                Segment first = seg(0);
                seg(1) = first;
                s_->head_ = (s_->head_ + 1) & mask();
                --s_->count_;
                ++s_->front_seq_;
                give_back(b);
            } else {
                s.off += moved;
                s.len -= moved;
                s.abs += moved;
                moved = 0;
            }
        }
        seg(0).len = want;
        return seg(0).block->data + seg(0).off;
    }
    Block *b = block_new_owned(want);
    if (!b) return nullptr;
    copy_bytes(0, b->data, want);
    size_t saved_total = s_->total_;
    uint64_t saved_abs = s_->front_abs_;
    drain_bytes(want);
    // drain_bytes freed at least one slot, so there is room in front.
    push_front(Segment{b, 0, want, 0, 0});
    REEVENT_ASSERT(s_->total_ == saved_total && s_->front_abs_ == saved_abs);
    return b->data;
}

// ---- between buffers ---------------------------------------------------------------------

namespace {
// Locks two distinct buffers in address order.
class Guard2 {
public:
    Guard2(Buffer *a, Buffer *b) noexcept : a_(a < b ? a : b), b_(a < b ? b : a) {
        a_->lock();
        b_->lock();
    }
    ~Guard2() {
        b_->unlock();
        a_->unlock();
    }

private:
    Buffer *a_;
    Buffer *b_;
};
}  // namespace

int Buffer::add_buffer(Buffer *out, Buffer *in) noexcept {
    if (out == in) return -1;
    Guard2 g(out, in);
    if (in->freeze_front_ || out->freeze_back_) return -1;
    size_t n = in->s_->total_;
    if (!n) return 0;
    if (would_overflow(out->s_->total_, n)) return -1;
    // Segments always move, never copied even when small: the extents a later peek sees
    // and the moment a reference's cleanup runs (when its bytes are drained from `out`)
    // are then libevent's.
    if (!out->s_->count_ && can_hand_over(out, in)) {
        // Empty destination, both unlocked: `out` takes the source's whole State (ring,
        // length, stream positions, spares) and `in` the destination's empty one (often
        // the shared kEmptyState) - an echo's move from input to output then neither
        // takes a State from the cache nor gives one back.
        std::swap(out->s_, in->s_);
        if (in->callbacks_) in->note_deleted(n);  // `in` owns a State then (can_hand_over)
        out->note_added(n);
        in->invoke_callbacks();
        out->invoke_callbacks();
        in->release_if_idle();
        return 0;
    }
    if (!out->own()) return -1;
    if (!out->s_->count_) {
        // Empty destination: take the source's ring as it is (its stream positions too).
        std::swap(out->s_->ring_, in->s_->ring_);
        std::swap(out->s_->cap_, in->s_->cap_);
        out->s_->head_ = in->s_->head_;
        out->s_->count_ = in->s_->count_;
        out->s_->total_ = in->s_->total_;
        out->s_->front_abs_ = in->s_->front_abs_;
    } else {
        if (!out->ring_reserve(in->s_->count_)) return -1;
        uint64_t shift = out->s_->front_abs_ + out->s_->total_ - in->s_->front_abs_;
        for (size_t i = 0; i < in->s_->count_; ++i) {
            Segment &d = out->seg(out->s_->count_ + i);
            d = in->seg(i);
            d.abs += shift;
        }
        out->s_->count_ += in->s_->count_;
        out->s_->total_ += n;
    }
    // `in` is empty now, its stream positions past what it held.
    in->s_->front_abs_ += n;
    in->s_->front_seq_ += in->s_->count_;
    in->s_->head_ = in->s_->count_ = 0;
    in->s_->total_ = 0;
    in->drop_spares_if_empty();
    in->note_deleted(n);
    out->note_added(n);
    in->invoke_callbacks();
    out->invoke_callbacks();
    in->release_if_idle();
    return 0;
}

// add_buffer may give `in`'s State to an empty `out` (and `out`'s to `in`) when: both are
// unlocked (a locked buffer's s_ never changes: other threads read it to find the lock),
// neither has deferred callbacks (the Deferred points at its buffer) or pending counts or
// running callbacks (the operation that runs them may still use its State), `out`'s State
// holds nothing (no spares: a reserve_space in flight on `out` keeps its extents), and
// `in` keeps a State of its own if it has callbacks (to count the deletion in).
bool Buffer::can_hand_over(const Buffer *out, const Buffer *in) noexcept {
    if (out->cb_running_ | in->cb_running_) return false;
    const State *i = in->s_;
    if (uintptr_t(i->lock_) | uintptr_t(i->user_lock_) | uintptr_t(i->deferred_) |
        i->n_added_ | i->n_deleted_)
        return false;
    if (out->s_ == empty_state()) return !in->callbacks_;
    return out->state_idle();
}

int Buffer::prepend_buffer(Buffer *dst, Buffer *src) noexcept {
    if (dst == src) return -1;
    Guard2 g(dst, src);
    if (src->freeze_front_ || dst->freeze_front_) return -1;
    size_t n = src->s_->total_;
    if (!n) return 0;
    if (would_overflow(dst->s_->total_, n)) return -1;
    if (!dst->ring_reserve(src->s_->count_)) return -1;
    while (src->s_->count_) {
        Segment s = src->seg(src->s_->count_ - 1);
        --src->s_->count_;
        src->s_->total_ -= s.len;
        dst->push_front(s);
    }
    src->s_->front_abs_ += n;
    src->s_->head_ = 0;
    src->drop_spares_if_empty();
    src->note_deleted(n);
    dst->note_added(n);
    src->invoke_callbacks();
    dst->invoke_callbacks();
    src->release_if_idle();
    return 0;
}

int Buffer::add_buffer_reference(Buffer *out, Buffer *in) noexcept {
    if (out == in) return -1;
    Guard2 g(out, in);
    if (out->freeze_back_) return -1;
    if (in->has_views_or_files()) return -1;
    size_t n = in->s_->total_;
    if (!n) return 0;
    if (would_overflow(out->s_->total_, n)) return -1;
    if (!out->ring_reserve(in->s_->count_)) return -1;
    for (size_t i = 0; i < in->s_->count_; ++i) {
        Segment s = in->seg(i);
        block_ref(s.block);
        s.flags |= kSegView;
        out->push_back(s);
    }
    out->note_added(n);
    out->invoke_callbacks();
    return 0;
}

int Buffer::remove_buffer(Buffer *src, Buffer *dst, size_t len) noexcept {
    if (src == dst) return -1;
    Guard2 g(src, dst);
    if (src->freeze_front_ || dst->freeze_back_) return -1;
    size_t n = len < src->s_->total_ ? len : src->s_->total_;
    if (n > size_t(INT_MAX)) n = size_t(INT_MAX);
    if (!n) return 0;
    if (would_overflow(dst->s_->total_, n)) return -1;
    // Whole segments move; a partial last one is copied when short, shared when long.
    size_t idx, off;
    src->locate(n, &idx, &off);
    size_t whole = idx;
    size_t part = off;
    if (!dst->ring_reserve(whole + 1)) return -1;
    Block *copy_to = nullptr;
    bool copy_part = false;
    if (part) {
        const Segment &p = src->seg(whole);
        copy_part = part <= kCopyPartial && block_readable(p.block);
        if (copy_part) {
            // Room for the copy: the tail the buffer will have after the move, or a block.
            size_t tail_after = whole ? 0 : dst->tail_space();
            if (whole) {
                const Segment &lastmoved = src->seg(whole - 1);
                const Block *lb = lastmoved.block;
                if (lb->owned() && lb->refs.load(std::memory_order_acquire) == 1)
                    tail_after = lb->cap - (lastmoved.off + lastmoved.len);
            }
            if (tail_after < part) {
                copy_to = dst->take_block(part);
                if (!copy_to) return -1;
            }
        }
    }
    for (size_t i = 0; i < whole; ++i) {
        Segment s = src->seg(0);
        src->pop_front();
        dst->push_back(s);
    }
    if (part) {
        Segment &p = src->seg(0);
        if (copy_part) {
            if (copy_to) {
                std::memcpy(copy_to->data, p.block->data + p.off, part);
                dst->push_back(Segment{copy_to, 0, part, 0, 0});
            } else {
                std::memcpy(dst->tail_ptr(), p.block->data + p.off, part);
                dst->seg(dst->s_->count_ - 1).len += part;
                dst->s_->total_ += part;
            }
        } else {
            block_ref(p.block);
            dst->push_back(Segment{p.block, p.off, part, 0, p.flags});
        }
        p.off += part;
        p.len -= part;
        p.abs += part;
        src->s_->total_ -= part;
        src->s_->front_abs_ += part;
    }
    src->drop_spares_if_empty();
    src->note_deleted(n);
    dst->note_added(n);
    src->invoke_callbacks();
    dst->invoke_callbacks();
    src->release_if_idle();
    return int(n);
}

}  // namespace reevent::buffer
