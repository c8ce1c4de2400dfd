// Positions in an evbuffer: evbuffer_ptr arithmetic, searching for strings and line ends
// across segment boundaries, readln, peek and the old evbuffer_find.
#include "buffer/evbuffer.h"

#include "core/mm.h"

#include <climits>
#include <cstring>

namespace reevent::buffer {

namespace {
evbuffer_ptr not_found() noexcept {
    evbuffer_ptr p;
    p.pos = -1;
    p.internal_.chain = nullptr;
    p.internal_.pos_in_chain = 0;
    return p;
}

// A block's bytes, made readable first if need be; nullptr if that fails.
inline const unsigned char *block_bytes(Block *b) noexcept {
    const unsigned char *d = __atomic_load_n(&b->data, __ATOMIC_ACQUIRE);
    if (__builtin_expect(d != nullptr, 1)) return d;
    return block_materialize_file(b) ? __atomic_load_n(&b->data, __ATOMIC_ACQUIRE) : nullptr;
}

// The segments search_range scans: the ring's storage and the segment where the scan ends,
// after stop_len of its bytes.
struct ScanRange {
    const Segment *ring, *ring_end, *stop;
    size_t stop_len;
};

// The next occurrence of `byte` from offset o of segment sg on; sg is left at the segment
// that holds it. nullptr if there is none (or a file range could not be read). Kept apart
// from the caller so that the loop keeps its few values in registers across memchr.
__attribute__((noinline)) const unsigned char *scan_for_byte(const ScanRange &r,
                                                             const Segment *&sg_io, size_t o,
                                                             unsigned char byte) noexcept {
    const Segment *sg = sg_io;
    const Segment *const stop = r.stop;
    {
        // The first segment, from o.
        const unsigned char *d = block_bytes(sg->block);
        if (!d) return nullptr;
        const size_t n = sg == stop ? r.stop_len : sg->len;
        const void *p = std::memchr(d + sg->off + o, byte, n - o);
        if (p || sg == stop) {
            sg_io = sg;
            return static_cast<const unsigned char *>(p);
        }
        if (++sg == r.ring_end) sg = r.ring;
    }
    // The others whole.
    for (;;) {
        const unsigned char *d = block_bytes(sg->block);
        if (!d) return nullptr;
        d += sg->off;
        if (sg == stop) {
            sg_io = sg;
            return static_cast<const unsigned char *>(std::memchr(d, byte, r.stop_len));
        }
        if (const void *p = std::memchr(d, byte, sg->len)) {
            sg_io = sg;
            return static_cast<const unsigned char *>(p);
        }
        if (++sg == r.ring_end) sg = r.ring;
    }
}
}  // namespace

const unsigned char *Buffer::seg_bytes(size_t i) noexcept {
    Segment &s = seg(i);
    if (!block_materialize(s.block)) return nullptr;
    return s.block->data + s.off;
}

void Buffer::advance(Cursor &c, size_t n) const noexcept {
    c.pos += n;
    while (n && c.i < s_->count_) {
        size_t left = seg(c.i).len - c.o;
        if (n < left) {
            c.o += n;
            return;
        }
        n -= left;
        ++c.i;
        c.o = 0;
    }
}

bool Buffer::find_bytes(Cursor &c, size_t limit, unsigned char c1, unsigned char c2) noexcept {
    while (c.pos < limit && c.i < s_->count_) {
        const unsigned char *d = seg_bytes(c.i);
        if (!d) return false;
        size_t span = seg(c.i).len - c.o;
        if (span > limit - c.pos) span = limit - c.pos;
        const unsigned char *from = d + c.o;
        auto *p = static_cast<const unsigned char *>(std::memchr(from, c1, span));
        if (c2 != c1) {
            size_t span2 = p ? size_t(p - from) : span;
            auto *q = static_cast<const unsigned char *>(std::memchr(from, c2, span2));
            if (q) p = q;
        }
        if (p) {
            size_t k = size_t(p - from);
            c.o += k;
            c.pos += k;
            return true;
        }
        c.pos += span;
        if (c.o + span < seg(c.i).len) return false;  // stopped by limit
        ++c.i;
        c.o = 0;
    }
    return false;
}

bool Buffer::match_at(Cursor c, const unsigned char *what, size_t len) noexcept {
    if (c.pos + len > s_->total_) return false;
    while (len) {
        const unsigned char *d = seg_bytes(c.i);
        if (!d) return false;
        size_t n = seg(c.i).len - c.o;
        if (n > len) n = len;
        if (std::memcmp(d + c.o, what, n) != 0) return false;
        what += n;
        len -= n;
        ++c.i;
        c.o = 0;
    }
    return true;
}

int Buffer::byte_after(Cursor c) noexcept {
    advance(c, 1);
    if (c.i >= s_->count_) return -1;
    const unsigned char *d = seg_bytes(c.i);
    return d ? d[c.o] : -1;
}

// Finds the next line end at or after c (see evbuffer_eol_style).
bool Buffer::find_eol(Cursor &c, evbuffer_eol_style style, size_t *eol_len) noexcept {
    switch (style) {
    case EVBUFFER_EOL_LF:
        if (!find_bytes(c, s_->total_, '\n', '\n')) return false;
        *eol_len = 1;
        return true;
    case EVBUFFER_EOL_NUL:
        if (!find_bytes(c, s_->total_, '\0', '\0')) return false;
        *eol_len = 1;
        return true;
    case EVBUFFER_EOL_CRLF_STRICT:
        while (find_bytes(c, s_->total_, '\r', '\r')) {
            int next = byte_after(c);
            if (next == '\n') {
                *eol_len = 2;
                return true;
            }
            if (next < 0) return false;
            advance(c, 1);
        }
        return false;
    case EVBUFFER_EOL_CRLF:
        while (find_bytes(c, s_->total_, '\r', '\n')) {
            const unsigned char *d = seg_bytes(c.i);
            if (d[c.o] == '\n') {
                *eol_len = 1;
                return true;
            }
            int next = byte_after(c);
            if (next == '\n') {
                *eol_len = 2;
                return true;
            }
            if (next < 0) return false;
            advance(c, 1);
        }
        return false;
    case EVBUFFER_EOL_ANY: {
        if (!find_bytes(c, s_->total_, '\r', '\n')) return false;
        // The terminator is the whole run of CR and LF characters.
        Cursor e = c;
        size_t n = 0;
        while (e.i < s_->count_) {
            const unsigned char *d = seg_bytes(e.i);
            if (!d) break;
            unsigned char ch = d[e.o];
            if (ch != '\r' && ch != '\n') break;
            ++n;
            advance(e, 1);
        }
        *eol_len = n;
        return true;
    }
    }
    return false;
}

// ---- public operations ----------------------------------------------------------------

int Buffer::ptr_set(evbuffer_ptr *ptr, size_t position, evbuffer_ptr_how how) noexcept {
    Guard g(this);
    if (!ptr) return -1;
    size_t target;
    if (how == EVBUFFER_PTR_SET) {
        target = position;
    } else if (how == EVBUFFER_PTR_ADD) {
        if (ptr->pos < 0 || size_t(ptr->pos) > s_->total_) return -1;
        if (position > size_t(SSIZE_MAX) - size_t(ptr->pos)) return -1;
        target = size_t(ptr->pos) + position;
        // Fast path: move forward from a valid location.
        size_t idx, off;
        if (target <= s_->total_ && ptr_to_location(ptr, &idx, &off)) {
            Cursor c{idx, off, size_t(ptr->pos)};
            advance(c, position);
            if (c.i >= s_->count_) c.o = 0;
            *ptr = make_ptr(target, c.i, c.o);
            return 0;
        }
    } else {
        return -1;
    }
    if (target > s_->total_) {
        *ptr = not_found();
        return -1;
    }
    size_t idx, off;
    locate(target, &idx, &off);
    *ptr = make_ptr(target, idx, off);
    return 0;
}

evbuffer_ptr Buffer::search_range(const char *what, size_t len, const evbuffer_ptr *start,
                                  const evbuffer_ptr *end) noexcept {
    Guard g(this);
    Cursor c{0, 0, 0};
    if (start) {
        if (!ptr_to_location(start, &c.i, &c.o)) return not_found();
        c.pos = size_t(start->pos);
    } else if (!s_->count_) {
        c.i = s_->count_;
    }
    size_t limit = s_->total_;
    if (end) {
        if (end->pos < 0) return not_found();
        if (size_t(end->pos) < limit) limit = size_t(end->pos);
    }
    if (len && !what) return not_found();
    if (c.pos > limit || len > limit - c.pos) return not_found();
    if (!len) return make_ptr(c.pos, c.i, c.o);
    const auto *w = reinterpret_cast<const unsigned char *>(what);
    // Candidates are positions where the whole string still fits before limit.
    size_t last_start = limit - len + 1;
    // The ring does not change during the scan: walk it with a pointer (wrapping at its
    // end) up to the segment that holds the last candidate start, whose scan stops after
    // it. Positions come from the segments' stream positions when a candidate turns up,
    // so the loop itself keeps little in registers across memchr.
    if (c.i >= s_->count_) return not_found();
    const Segment *const ring = s_->ring_;
    const Segment *const ring_end = ring + s_->cap_;
    const size_t mask = s_->cap_ - 1, head = s_->head_;
    const uint64_t front = s_->front_abs_;
    const size_t q = last_start - 1;  // the last candidate start
    const Segment *sg_stop = &seg(s_->count_ - 1);
    size_t stop_len;  // bytes of sg_stop that may start a match
    if (q >= sg_stop->abs - front) {
        stop_len = q - size_t(sg_stop->abs - front) + 1;  // the usual case: no end given
    } else {
        size_t idx, off;
        locate(q, &idx, &off);
        sg_stop = &seg(idx);
        stop_len = off + 1;
    }
    const Segment *sg = ring + ((head + c.i) & mask);
    const unsigned char first = w[0];
    size_t o = c.o;  // <= the scan length of its segment (c.pos < last_start)
    const ScanRange range{ring, ring_end, sg_stop, stop_len};
    for (;;) {
        const unsigned char *p = scan_for_byte(range, sg, o, first);
        if (!p) return not_found();
        // A candidate: memcmp in place when the match would end inside the segment, a
        // cross-segment compare otherwise.
        size_t at = size_t(p - (sg->block->data + sg->off));
        size_t i = (size_t(sg - ring) - head) & mask;
        size_t pos = size_t(sg->abs - front) + at;
        if (at + len <= sg->len ? std::memcmp(p, w, len) == 0
                                : match_at(Cursor{i, at, pos}, w, len))
            return make_ptr(pos, i, at);
        o = at + 1;
    }
}

evbuffer_ptr Buffer::search_eol(const evbuffer_ptr *start, size_t *eol_len_out,
                                evbuffer_eol_style style) noexcept {
    Guard g(this);
    Cursor c{0, 0, 0};
    if (start) {
        if (!ptr_to_location(start, &c.i, &c.o)) {
            if (eol_len_out) *eol_len_out = 0;
            return not_found();
        }
        c.pos = size_t(start->pos);
    } else if (!s_->count_) {
        c.i = s_->count_;
    }
    size_t eol = 0;
    if (!find_eol(c, style, &eol)) {
        if (eol_len_out) *eol_len_out = 0;
        return not_found();
    }
    if (eol_len_out) *eol_len_out = eol;
    return make_ptr(c.pos, c.i, c.o);
}

char *Buffer::readln(size_t *n_read_out, evbuffer_eol_style style) noexcept {
    Guard g(this);
    // The commonest case in one stretch: an LF or CRLF line whose terminator ends inside the
    // first segment (which keeps bytes after it), nobody to notify, front not frozen. The
    // segment is looked up once and held across memchr and malloc (neither touches the
    // buffer); anything else (including a line that ends exactly at the segment's end, which
    // empties it) goes to readln_general, which redoes the scan.
    State *const st = s_;
    if ((style == EVBUFFER_EOL_LF || style == EVBUFFER_EOL_CRLF) && st->count_ && !callbacks_ &&
        !freeze_front_) [[likely]] {
        Segment *const f = &st->ring_[st->head_ & (st->cap_ - 1)];
        const unsigned char *const base = __atomic_load_n(&f->block->data, __ATOMIC_ACQUIRE);
        if (base) [[likely]] {
            const unsigned char *const d = base + f->off;
            const size_t len = f->len;
            if (const void *p = std::memchr(d, '\n', len)) {
                size_t n = size_t(static_cast<const unsigned char *>(p) - d);
                size_t k = n + 1;  // the line and its terminator
                if (style == EVBUFFER_EOL_CRLF && n && d[n - 1] == '\r') --n;
                if (k < len) [[likely]] {
                    auto *line = static_cast<char *>(mm::malloc(n + 1));
                    if (!line) [[unlikely]] {
                        if (n_read_out) *n_read_out = 0;
                        return nullptr;
                    }
                    std::memcpy(line, d, n);
                    line[n] = '\0';
                    f->off += k;
                    f->len = len - k;
                    f->abs += k;
                    st->total_ -= k;
                    st->front_abs_ += k;
                    st->n_added_ = st->n_deleted_ = 0;
                    if (n_read_out) *n_read_out = n;
                    return line;
                }
            } else if (st->count_ == 1) {
                // No LF in the only segment: no line yet (a reader called per arriving
                // byte lands here nearly every time; readln_general would scan again).
                if (n_read_out) *n_read_out = 0;
                return nullptr;
            }
        }
    }
    return readln_general(n_read_out, style);
}

// readln for everything but readln's inline case (the lock is held).
[[gnu::noinline]] char *Buffer::readln_general(size_t *n_read_out, evbuffer_eol_style style) noexcept {
    if (n_read_out) *n_read_out = 0;
    if (freeze_front_) return nullptr;
    if (unsigned(style) > unsigned(EVBUFFER_EOL_NUL)) return nullptr;
    size_t eol = 0;
    size_t n = 0;
    bool found = false;
    bool scanned_first = false;
    // Fast path: an LF-terminated line that ends inside the first segment.
    if (s_->count_ && (style == EVBUFFER_EOL_LF || style == EVBUFFER_EOL_CRLF)) {
        const unsigned char *d = seg_bytes(0);
        if (d) {
            scanned_first = true;
            const void *p = std::memchr(d, '\n', seg(0).len);
            if (p) {
                n = size_t(static_cast<const unsigned char *>(p) - d);
                eol = 1;
                if (style == EVBUFFER_EOL_CRLF && n && d[n - 1] == '\r') {
                    --n;
                    eol = 2;
                }
                found = true;
            }
        }
    }
    if (!found) {
        Cursor c{0, 0, 0};
        if (scanned_first) {
            // The first segment was scanned above and holds no LF: go on from the second.
            if (s_->count_ == 1) return nullptr;
            c = Cursor{1, 0, seg(0).len};
        }
        if (!find_eol(c, style, &eol)) return nullptr;
        n = c.pos;
        if (style == EVBUFFER_EOL_CRLF && eol == 1 && n == seg(0).len &&
            seg_bytes(0)[n - 1] == '\r') {
            // CR at the end of the first segment, LF at the start of the second.
            --n;
            eol = 2;
        }
    }
    auto *line = static_cast<char *>(mm::malloc(n + 1));
    if (!line) return nullptr;
    if (found && !callbacks_ && n + eol < seg(0).len) {
        // Line and terminator inside the first segment, nobody to notify: copy and trim.
        Segment &f = seg(0);
        std::memcpy(line, f.block->data + f.off, n);
        line[n] = '\0';
        size_t k = n + eol;
        f.off += k;
        f.len -= k;
        f.abs += k;
        s_->total_ -= k;
        s_->front_abs_ += k;
        s_->n_added_ = s_->n_deleted_ = 0;
        if (n_read_out) *n_read_out = n;
        return line;
    }
    // The line lies in the segments the scan made readable.
    copy_bytes(0, line, n);
    line[n] = '\0';
    if (n_read_out) *n_read_out = n;
    // Two changes, as libevent reports them: the line, then its terminator.
    if (n) {
        drain_bytes(n);
        note_deleted(n);
        invoke_callbacks();
    }
    drain_bytes(eol);
    note_deleted(eol);
    invoke_callbacks();
    release_if_idle();
    return line;
}

int Buffer::peek(ssize_t len, const evbuffer_ptr *start, iovec *vec, int n_vec) noexcept {
    Guard g(this);
    if (n_vec < 0) return -1;
    if (n_vec > 0 && !vec) return -1;
    size_t idx = 0, off = 0;
    if (start) {
        if (!ptr_to_location(start, &idx, &off)) return -1;
    }
    if (len < 0 && n_vec == 0) len = ssize_t(s_->total_);
    int n = 0;
    size_t so_far = 0;
    if (start && idx < s_->count_) {
        // The first extent starts inside a segment.
        if (n_vec > 0) {
            const unsigned char *d = seg_bytes(idx);
            if (!d) return -1;
            vec[0].iov_base = const_cast<unsigned char *>(d + off);
            vec[0].iov_len = seg(idx).len - off;
        }
        so_far = seg(idx).len - off;
        n = 1;
        ++idx;
    }
    const Segment *const ring = s_->ring_;
    const size_t mask = s_->cap_ - 1, head = s_->head_, count = s_->count_;
    if (len < 0) {
        // The whole buffer: one extent per segment, as many as vec holds (n_vec is an int,
        // so n cannot overflow).
        size_t todo = count - idx;
        if (todo > size_t(n_vec - n)) todo = size_t(n_vec - n);
        // The ring holds the segments in at most two contiguous runs: walk each with a
        // pointer instead of masking every index.
        size_t first = (head + idx) & mask;
        while (todo) {
            size_t run = mask + 1 - first;
            if (run > todo) run = todo;
            for (const Segment *sg = ring + first, *e = sg + run; sg != e; ++sg, ++n) {
                if (!block_materialize(sg->block)) return -1;
                vec[n].iov_base = sg->block->data + sg->off;
                vec[n].iov_len = sg->len;
            }
            todo -= run;
            first = 0;
        }
        return n;
    }
    for (size_t i = idx; i < count; ++i) {
        if (so_far >= size_t(len)) break;
        const Segment &sg = ring[(head + i) & mask];
        if (n < n_vec) {
            if (!block_materialize(sg.block)) return -1;
            vec[n].iov_base = sg.block->data + sg.off;
            vec[n].iov_len = sg.len;
        }
        if (n == INT_MAX) break;
        ++n;
        so_far += sg.len;
    }
    return n;
}

unsigned char *Buffer::find(const unsigned char *what, size_t len) noexcept {
    Guard g(this);
    if (!what) return nullptr;
    evbuffer_ptr p = search_range(reinterpret_cast<const char *>(what), len, nullptr, nullptr);
    if (p.pos < 0) return nullptr;
    unsigned char *d = pullup(p.pos + ssize_t(len));
    return d ? d + p.pos : nullptr;
}

}  // namespace reevent::buffer
