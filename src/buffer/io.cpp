// evbuffer and file descriptors: readv into free space, writev/sendfile out, and file
// segments (a range of a file that is sent with sendfile when the buffer drains to a
// socket, and mapped or read into memory when its bytes are needed).
#include "buffer/evbuffer.h"

#include "core/mm.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace reevent::buffer {

namespace {
// Most bytes one evbuffer_read takes in; a read that fills its space doubles the next one
// up to this (there is no FIONREAD ioctl to ask the kernel first).
constexpr size_t kMaxRead = 64 * 1024;
constexpr size_t kMinRead = 4096;
// Most extents handed to one writev.
constexpr int kMaxIov = IOV_MAX < 128 ? IOV_MAX : 128;
}  // namespace

// ---- reading -----------------------------------------------------------------------------

// plain_ does not depend on the front's freeze: only a thawed end recomputes it (frozen
// again, the end makes it false, as update_plain would).
Buffer::Thaw::Thaw(Buffer *b, bool front, bool on) noexcept : b_(b), front_(front), on_(on) {
    if (!on_) return;
    if (front_) {
        b_->freeze_front_ = false;
    } else {
        b_->freeze_back_ = false;
        b_->update_plain();
    }
}

Buffer::Thaw::~Thaw() {
    if (!on_) return;
    if (front_) {
        b_->freeze_front_ = true;
    } else {
        b_->freeze_back_ = true;
        b_->plain_.store(false, std::memory_order_relaxed);
    }
}

int Buffer::read_from_fd(int fd, int howmuch, bool thaw) noexcept {
    Guard g(this);
    Thaw t(this, false, thaw);
    if (freeze_back_) return -1;
    size_t want = howmuch < 0 ? read_hint() : size_t(howmuch);
    if (want > kMaxRead) want = kMaxRead;
    if (would_overflow_len(want)) return -1;
    if (!ring_reserve(1)) return -1;
    iovec iov[2];
    int n = 0;
    size_t space = tail_space();
    if (space > want) space = want;
    if (space) {
        iov[n].iov_base = tail_ptr();
        iov[n].iov_len = space;
        ++n;
    }
    Block *b = nullptr;
    int spare_slot = -1;
    if (want > space) {
        size_t rest = want - space;
        if (howmuch < 0) {
            // Our own size: a block whose allocation is a power of two (the sizes the
            // block cache keeps; at the top 64 KiB of data plus the header), all of it
            // read into.
            size_t alloc = 4096;
            while (alloc < rest && alloc < kMaxAutoBlock) alloc <<= 1;
            if (alloc == kMaxAutoBlock) alloc = kReadBlockAlloc;
            rest = alloc - block_header_for(alloc);
        }
        spare_slot = expand_spare(rest);
        if (spare_slot < 0) {
            if (!n) return -1;
        } else {
            b = s_->spare_[spare_slot];
            iov[n].iov_base = b->data;
            iov[n].iov_len = howmuch < 0 ? b->cap : rest;
            want = space + iov[n].iov_len;
            ++n;
        }
    }
    // One extent (the usual case: an empty input reads into a fresh block) goes through
    // read(2): readv(2) first copies in and checks the iovec array. On loopback TCP a
    // 512-byte write+read pair measured 8.4 us with write/read against 8.9-9.2 us with
    // writev/readv (the raw-epoll echo server, the benchmark's ceiling, uses read/write).
    ssize_t r;
    do {
        r = n == 1 ? ::read(fd, iov[0].iov_base, iov[0].iov_len) : n ? ::readv(fd, iov, n) : 0;
    } while (r < 0 && errno == EINTR);
    if (r <= 0) {
        // An empty buffer keeps no spare (drop_spares_if_empty) and no State
        // (release_if_idle): the block and State taken for this read go back to the
        // per-thread caches.
        if (!s_->total_) {
            int err = errno;
            if (b) {
                s_->spare_[spare_slot] = nullptr;
                block_unref(b);
            }
            release_if_idle();
            errno = err;
        }
        return int(r);
    }
    size_t got = size_t(r);
    size_t in_tail = got < space ? got : space;
    if (in_tail) {
        seg(s_->count_ - 1).len += in_tail;
        s_->total_ += in_tail;
    }
    if (got > in_tail) {
        s_->spare_[spare_slot] = nullptr;
        push_back(Segment{b, 0, got - in_tail, 0, 0});
    }
    if (howmuch < 0) {
        // A small read right after one that filled its space is the tail of that burst
        // (a block holds its header too, so a 16 KiB message fills a 16 KiB block but for
        // the header's 112 bytes): it must not shrink the size back, or every such message
        // takes two reads, the size swinging between the two.
        if (got == want) {
            if (read_hint() < kMaxRead) ++read_hint_shift_;
            read_filled_ = true;
        } else {
            if (got < want / 4 && read_hint() > kMinRead && !read_filled_) --read_hint_shift_;
            read_filled_ = false;
        }
    }
    note_added(got);
    invoke_callbacks();
    return int(got);
}

bool Buffer::would_overflow_len(size_t add) const noexcept {
    return add > size_t(SSIZE_MAX) || s_->total_ > size_t(SSIZE_MAX) - add;
}

// ---- writing -----------------------------------------------------------------------------

int Buffer::write_to_fd(int fd, ssize_t howmuch, bool thaw, Buffer *recycle_to) noexcept {
    Guard g(this);
    Thaw t(this, true, thaw);
    if (freeze_front_) return -1;
    size_t want = (howmuch < 0 || size_t(howmuch) > s_->total_) ? s_->total_ : size_t(howmuch);
    if (want > size_t(INT_MAX)) want = size_t(INT_MAX);
    // Nothing to write is reported as -1, as libevent does.
    if (!want) return -1;
    ssize_t r = -1;
    Segment &f = seg(0);
    bool sent = false;
    if (f.block->kind == BlockKind::kFile && !block_readable(f.block) &&
        f.block->file->can_sendfile()) {
        FileSegment *fs = f.block->file;
        off_t off = fs->offset() + off_t(f.off);
        size_t n = f.len < want ? f.len : want;
        do {
            r = ::sendfile(fd, fs->fd(), &off, n);
        } while (r < 0 && errno == EINTR);
        // Not every fd pair supports sendfile: fall back to reading the file.
        if (r < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOVERFLOW)) {
            if (!block_materialize(f.block)) return -1;
        } else {
            sent = true;
        }
    }
    if (!sent) {
        iovec iov[kMaxIov];
        int n = 0;
        size_t sum = 0;
        for (size_t i = 0; i < s_->count_ && n < kMaxIov && sum < want; ++i) {
            Segment &s = seg(i);
            if (!block_readable(s.block)) {
                // A sendfile segment is written by itself on a later call.
                if (n && s.block->file->can_sendfile()) break;
                if (!block_materialize(s.block)) {
                    if (n) break;
                    errno = ENOMEM;
                    return -1;
                }
            }
            size_t len = s.len < want - sum ? s.len : want - sum;
            iov[n].iov_base = s.block->data + s.off;
            iov[n].iov_len = len;
            sum += len;
            ++n;
        }
        // One extent: write(2), for the same reason reads use read(2).
        do {
            r = n == 1 ? ::write(fd, iov[0].iov_base, iov[0].iov_len) : ::writev(fd, iov, n);
        } while (r < 0 && errno == EINTR);
    }
    if (r <= 0) return int(r);
    if (recycle_to &&
        (recycle_to == this || recycle_to->s_->lock_ != s_->lock_ ||
         recycle_to->s_->user_lock_ != s_->user_lock_))
        recycle_to = nullptr;
    // Only an input that holds data takes the spare (so it has a State): an empty one
    // keeps no spare (drop_spares_if_empty), the block goes to the block cache instead,
    // from which the input's next read takes it back.
    if (recycle_to && !recycle_to->s_->total_) recycle_to = nullptr;
    drain_bytes(size_t(r), recycle_to);
    note_deleted(size_t(r));
    invoke_callbacks();
    release_if_idle();
    return int(r);
}

// ---- file segments -------------------------------------------------------------------------

FileSegment *FileSegment::create(int fd, off_t offset, off_t length, unsigned flags) noexcept {
    if (fd < 0 || offset < 0) return nullptr;
    if (length < 0) {
        struct stat st;
        if (::fstat(fd, &st) < 0) return nullptr;
        if (st.st_size < offset) return nullptr;
        length = st.st_size - offset;
    }
    if (uint64_t(length) > uint64_t(SSIZE_MAX)) return nullptr;
    FileSegment *seg = mm::make<evbuffer_file_segment>();
    if (!seg) return nullptr;
    seg->fd_ = fd;
    seg->offset_ = offset;
    seg->length_ = size_t(length);
    seg->flags_ = flags;
    return seg;
}

FileSegment::~FileSegment() {
    if (map_)
        ::munmap(map_, map_len_);
    else
        mm::free(data_);
    if ((flags_ & EVBUF_FS_CLOSE_ON_FREE) && fd_ >= 0) ::close(fd_);
    if (cleanup_) cleanup_(static_cast<evbuffer_file_segment *>(this), int(flags_), cleanup_arg_);
}

void FileSegment::unref() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1)
        mm::destroy(static_cast<evbuffer_file_segment *>(this));
}

unsigned char *FileSegment::data() noexcept {
    core::LockGuard g(lock_);
    if (data_) return data_;
    if (!length_) {
        // An empty range has no bytes to read; any non-null address will do.
        static unsigned char empty;
        return &empty;
    }
    if (!(flags_ & EVBUF_FS_DISABLE_MMAP)) {
        long page = ::sysconf(_SC_PAGESIZE);
        off_t base = offset_ - offset_ % page;
        size_t lead = size_t(offset_ - base);
        void *m = ::mmap(nullptr, length_ + lead, PROT_READ, MAP_PRIVATE, fd_, base);
        if (m != MAP_FAILED) {
            map_ = m;
            map_len_ = length_ + lead;
            data_ = static_cast<unsigned char *>(m) + lead;
            return data_;
        }
    }
    auto *mem = static_cast<unsigned char *>(mm::malloc(length_));
    if (!mem) return nullptr;
    size_t got = 0;
    while (got < length_) {
        ssize_t r = ::pread(fd_, mem + got, length_ - got, offset_ + off_t(got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            mm::free(mem);
            return nullptr;
        }
        got += size_t(r);
    }
    data_ = mem;
    return data_;
}

int Buffer::add_file_segment(FileSegment *fs, off_t offset, off_t length) noexcept {
    Guard g(this);
    if (freeze_back_ || offset < 0) return -1;
    if (size_t(offset) > fs->length()) return -1;
    size_t avail = fs->length() - size_t(offset);
    size_t len = length < 0 ? avail : size_t(length);
    if (len > avail) return -1;
    if (would_overflow_len(len)) return -1;
    if (!len) return 0;
    // Without EVBUFFER_FLAG_DRAINS_TO_FD (or with sendfile disabled) the bytes are made
    // readable now, as libevent does; otherwise on first use.
    bool lazy = (flags_ & EVBUFFER_FLAG_DRAINS_TO_FD) && fs->can_sendfile();
    if (!lazy && !fs->data()) return -1;
    if (!ring_reserve(1)) return -1;
    Block *b = block_new_file(fs);
    if (!b) return -1;
    if (!lazy) block_materialize(b);
    push_back(Segment{b, size_t(offset), len, 0, 0});
    note_added(len);
    invoke_callbacks();
    return 0;
}

}  // namespace reevent::buffer
