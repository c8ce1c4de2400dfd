// C API of <event2/buffer.h>: argument checks, one call into reevent::buffer::Buffer.
#include <event2/buffer.h>

#include "buffer/evbuffer.h"
#include "core/base.h"
#include "core/log.h"
#include "core/mm.h"

#include <cstdarg>

using reevent::buffer::Buffer;
using reevent::buffer::FileSegment;

extern "C" {

struct evbuffer *evbuffer_new(void) {
    return reevent::mm::make<evbuffer>();
}

void evbuffer_free(struct evbuffer *buf) {
    if (buf) buf->release();
}

int evbuffer_enable_locking(struct evbuffer *buf, void *lock) {
    return buf ? buf->enable_locking(lock) : -1;
}

void evbuffer_lock(struct evbuffer *buf) {
    if (buf) buf->lock();
}

void evbuffer_unlock(struct evbuffer *buf) {
    if (buf) buf->unlock();
}

int evbuffer_set_flags(struct evbuffer *buf, ev_uint64_t flags) {
    return buf ? buf->set_flags(flags) : -1;
}

int evbuffer_clear_flags(struct evbuffer *buf, ev_uint64_t flags) {
    return buf ? buf->clear_flags(flags) : -1;
}

size_t evbuffer_get_length(const struct evbuffer *buf) {
    return buf ? buf->length() : 0;
}

size_t evbuffer_get_contiguous_space(const struct evbuffer *buf) {
    return buf ? buf->contiguous_space() : 0;
}

int evbuffer_expand(struct evbuffer *buf, size_t datlen) {
    return buf ? buf->expand(datlen) : -1;
}

int evbuffer_reserve_space(struct evbuffer *buf, ev_ssize_t size, struct evbuffer_iovec *vec,
                           int n_vec) {
    return buf ? buf->reserve_space(size, vec, n_vec) : -1;
}

int evbuffer_commit_space(struct evbuffer *buf, struct evbuffer_iovec *vec, int n_vecs) {
    return buf ? buf->commit_space(vec, n_vecs) : -1;
}

int evbuffer_add(struct evbuffer *buf, const void *data, size_t datlen) {
    return buf ? buf->add(data, datlen) : -1;
}

int evbuffer_remove(struct evbuffer *buf, void *data, size_t datlen) {
    return buf ? buf->remove(data, datlen) : -1;
}

ev_ssize_t evbuffer_copyout(struct evbuffer *buf, void *data_out, size_t datlen) {
    return buf ? buf->copyout_from(nullptr, data_out, datlen) : -1;
}

ev_ssize_t evbuffer_copyout_from(struct evbuffer *buf, const struct evbuffer_ptr *pos,
                                 void *data_out, size_t datlen) {
    return buf ? buf->copyout_from(pos, data_out, datlen) : -1;
}

int evbuffer_remove_buffer(struct evbuffer *src, struct evbuffer *dst, size_t datlen) {
    if (!src || !dst) return -1;
    return Buffer::remove_buffer(src, dst, datlen);
}

char *evbuffer_readln(struct evbuffer *buffer, size_t *n_read_out,
                      enum evbuffer_eol_style eol_style) {
    if (!buffer) {
        if (n_read_out) *n_read_out = 0;
        return nullptr;
    }
    return buffer->readln(n_read_out, eol_style);
}

int evbuffer_add_buffer(struct evbuffer *outbuf, struct evbuffer *inbuf) {
    if (!outbuf || !inbuf) return -1;
    return Buffer::add_buffer(outbuf, inbuf);
}

int evbuffer_add_buffer_reference(struct evbuffer *outbuf, struct evbuffer *inbuf) {
    if (!outbuf || !inbuf) return -1;
    return Buffer::add_buffer_reference(outbuf, inbuf);
}

int evbuffer_add_reference(struct evbuffer *outbuf, const void *data, size_t datlen,
                           evbuffer_ref_cleanup_cb cleanupfn, void *cleanupfn_arg) {
    return outbuf ? outbuf->add_reference(data, datlen, cleanupfn, cleanupfn_arg) : -1;
}

int evbuffer_add_file(struct evbuffer *outbuf, int fd, ev_off_t offset, ev_off_t length) {
    if (!outbuf) return -1;
    FileSegment *seg = FileSegment::create(fd, offset, length, EVBUF_FS_CLOSE_ON_FREE);
    if (!seg) return -1;
    int r = outbuf->add_file_segment(seg, 0, -1);
    if (r < 0) seg->forget_fd();  // on failure the caller keeps the fd
    seg->unref();
    return r;
}

struct evbuffer_file_segment *evbuffer_file_segment_new(int fd, ev_off_t offset,
                                                        ev_off_t length, unsigned flags) {
    return static_cast<evbuffer_file_segment *>(FileSegment::create(fd, offset, length, flags));
}

void evbuffer_file_segment_free(struct evbuffer_file_segment *seg) {
    if (seg) seg->unref();
}

void evbuffer_file_segment_add_cleanup_cb(struct evbuffer_file_segment *seg,
                                          evbuffer_file_segment_cleanup_cb cb, void *arg) {
    if (seg) seg->set_cleanup(cb, arg);
}

int evbuffer_add_file_segment(struct evbuffer *buf, struct evbuffer_file_segment *seg,
                              ev_off_t offset, ev_off_t length) {
    if (!buf || !seg) return -1;
    return buf->add_file_segment(seg, offset, length);
}

int evbuffer_add_printf(struct evbuffer *buf, const char *fmt, ...) {
    if (!buf) return -1;
    va_list ap;
    va_start(ap, fmt);
    int r = buf->add_vprintf(fmt, ap);
    va_end(ap);
    return r;
}

int evbuffer_add_vprintf(struct evbuffer *buf, const char *fmt, va_list ap) {
    return buf ? buf->add_vprintf(fmt, ap) : -1;
}

int evbuffer_drain(struct evbuffer *buf, size_t len) {
    return buf ? buf->drain(len) : -1;
}

int evbuffer_write(struct evbuffer *buffer, evutil_socket_t fd) {
    return buffer ? buffer->write_to_fd(fd, -1) : -1;
}

int evbuffer_write_atmost(struct evbuffer *buffer, evutil_socket_t fd, ev_ssize_t howmuch) {
    return buffer ? buffer->write_to_fd(fd, howmuch) : -1;
}

int evbuffer_read(struct evbuffer *buffer, evutil_socket_t fd, int howmuch) {
    return buffer ? buffer->read_from_fd(fd, howmuch) : -1;
}

struct evbuffer_ptr evbuffer_search(struct evbuffer *buffer, const char *what, size_t len,
                                    const struct evbuffer_ptr *start) {
    // As evbuffer_search_range(buffer, what, len, start, NULL), without the second call.
    if (!buffer) {
        evbuffer_ptr p{};
        p.pos = -1;
        return p;
    }
    return buffer->search_range(what, len, start, nullptr);
}

struct evbuffer_ptr evbuffer_search_range(struct evbuffer *buffer, const char *what,
                                          size_t len, const struct evbuffer_ptr *start,
                                          const struct evbuffer_ptr *end) {
    if (!buffer) {
        evbuffer_ptr p{};
        p.pos = -1;
        return p;
    }
    return buffer->search_range(what, len, start, end);
}

int evbuffer_ptr_set(struct evbuffer *buffer, struct evbuffer_ptr *ptr, size_t position,
                     enum evbuffer_ptr_how how) {
    return buffer ? buffer->ptr_set(ptr, position, how) : -1;
}

struct evbuffer_ptr evbuffer_search_eol(struct evbuffer *buffer, struct evbuffer_ptr *start,
                                        size_t *eol_len_out, enum evbuffer_eol_style eol_style) {
    if (!buffer) {
        if (eol_len_out) *eol_len_out = 0;
        evbuffer_ptr p{};
        p.pos = -1;
        return p;
    }
    return buffer->search_eol(start, eol_len_out, eol_style);
}

int evbuffer_peek(struct evbuffer *buffer, ev_ssize_t len, struct evbuffer_ptr *start_at,
                  struct evbuffer_iovec *vec_out, int n_vec) {
    return buffer ? buffer->peek(len, start_at, vec_out, n_vec) : -1;
}

struct evbuffer_cb_entry *evbuffer_add_cb(struct evbuffer *buffer, evbuffer_cb_func cb,
                                          void *cbarg) {
    if (!buffer || !cb) return nullptr;
    return buffer->add_cb(cb, cbarg);
}

int evbuffer_remove_cb_entry(struct evbuffer *buffer, struct evbuffer_cb_entry *ent) {
    if (!buffer || !ent) return -1;
    return buffer->remove_cb_entry(ent);
}

int evbuffer_remove_cb(struct evbuffer *buffer, evbuffer_cb_func cb, void *cbarg) {
    return buffer ? buffer->remove_cb(cb, cbarg) : -1;
}

int evbuffer_cb_set_flags(struct evbuffer *buffer, struct evbuffer_cb_entry *cb,
                          ev_uint32_t flags) {
    if (!buffer || !cb) return -1;
    return buffer->cb_set_flags(cb, flags);
}

int evbuffer_cb_clear_flags(struct evbuffer *buffer, struct evbuffer_cb_entry *cb,
                            ev_uint32_t flags) {
    if (!buffer || !cb) return -1;
    return buffer->cb_clear_flags(cb, flags);
}

unsigned char *evbuffer_pullup(struct evbuffer *buf, ev_ssize_t size) {
    return buf ? buf->pullup(size) : nullptr;
}

int evbuffer_prepend(struct evbuffer *buf, const void *data, size_t size) {
    return buf ? buf->prepend(data, size) : -1;
}

int evbuffer_prepend_buffer(struct evbuffer *dst, struct evbuffer *src) {
    if (!dst || !src) return -1;
    return Buffer::prepend_buffer(dst, src);
}

int evbuffer_freeze(struct evbuffer *buf, int at_front) {
    return buf ? buf->freeze(at_front != 0) : -1;
}

int evbuffer_unfreeze(struct evbuffer *buf, int at_front) {
    return buf ? buf->unfreeze(at_front != 0) : -1;
}

#if REEVENT_BUFFER_HAS_DEFERRED
int evbuffer_defer_callbacks(struct evbuffer *buffer, struct event_base *base) {
    // A NULL base: the current base of event_init.
    return buffer ? buffer->defer_callbacks(reevent::core::base_or_current(base)) : -1;
}
#endif

size_t evbuffer_add_iovec(struct evbuffer *buffer, struct evbuffer_iovec *vec, int n_vec) {
    return buffer ? buffer->add_iovec(vec, n_vec) : 0;
}

}  // extern "C"
