/* reevent: byte buffers for network I/O (libevent 2.1 <event2/buffer.h>, compatible).
 *
 * An evbuffer is a queue of bytes: data is appended at the end and consumed from the front,
 * with as few copies as possible. Names, signatures, constants and struct layouts are those
 * of libevent 2.1.12; the comments are ours. Rules that hold for every function here:
 *  - any call that adds, removes or rearranges data invalidates evbuffer_ptr values, the
 *    extents returned by evbuffer_peek and evbuffer_reserve_space;
 *  - bad arguments (NULL data with a non-zero length, sizes that overflow, positions past
 *    the end) give an error return and leave the buffer unchanged. */
#ifndef EVENT2_BUFFER_H_INCLUDED_
#define EVENT2_BUFFER_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/event-config.h>

#include <stdarg.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <event2/util.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque buffer handle. */
struct evbuffer;

/* A position inside a buffer: from the first byte up to just past the last one. Set it
 * with evbuffer_ptr_set or get it from a search; the internal_ fields are ours. */
struct evbuffer_ptr {
	ev_ssize_t pos;
	struct {
		void *chain;
		size_t pos_in_chain;
	} internal_;
};

/* The extent type of the zero-copy calls is the system's struct iovec. */
#define evbuffer_iovec iovec
#define EVBUFFER_IOVEC_IS_NATIVE_

EVENT2_EXPORT_SYMBOL
struct evbuffer *evbuffer_new(void);
/* Frees the buffer and everything it holds (reference cleanups run; no callbacks). */
EVENT2_EXPORT_SYMBOL
void evbuffer_free(struct evbuffer *buf);

/* Makes the buffer usable from several threads; lock NULL means "make one". 0 / -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_enable_locking(struct evbuffer *buf, void *lock);
EVENT2_EXPORT_SYMBOL
void evbuffer_lock(struct evbuffer *buf);
EVENT2_EXPORT_SYMBOL
void evbuffer_unlock(struct evbuffer *buf);

/* The buffer will be drained by writing to a file descriptor (allows sendfile). */
#define EVBUFFER_FLAG_DRAINS_TO_FD 1

EVENT2_EXPORT_SYMBOL
int evbuffer_set_flags(struct evbuffer *buf, ev_uint64_t flags);
EVENT2_EXPORT_SYMBOL
int evbuffer_clear_flags(struct evbuffer *buf, ev_uint64_t flags);

EVENT2_EXPORT_SYMBOL
size_t evbuffer_get_length(const struct evbuffer *buf);
/* Bytes readable in one piece at the front of the buffer. */
EVENT2_EXPORT_SYMBOL
size_t evbuffer_get_contiguous_space(const struct evbuffer *buf);

/* Makes room so that appending datlen bytes needs no further allocation. 0 / -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_expand(struct evbuffer *buf, size_t datlen);

/* Hands out writable space at the end (at least size bytes, in at most two extents), to be
 * made part of the buffer by evbuffer_commit_space. Returns the number of extents or -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_reserve_space(struct evbuffer *buf, ev_ssize_t size,
    struct evbuffer_iovec *vec, int n_vec);
/* Appends the first iov_len bytes of each reserved extent. 0 / -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_commit_space(struct evbuffer *buf,
    struct evbuffer_iovec *vec, int n_vecs);

EVENT2_EXPORT_SYMBOL
int evbuffer_add(struct evbuffer *buf, const void *data, size_t datlen);
/* Copies up to datlen bytes out of the front and drains them; the count or -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_remove(struct evbuffer *buf, void *data, size_t datlen);
/* Like evbuffer_remove without draining. */
EVENT2_EXPORT_SYMBOL
ev_ssize_t evbuffer_copyout(struct evbuffer *buf, void *data_out, size_t datlen);
EVENT2_EXPORT_SYMBOL
ev_ssize_t evbuffer_copyout_from(struct evbuffer *buf, const struct evbuffer_ptr *pos,
    void *data_out, size_t datlen);
/* Moves up to datlen bytes from the front of src to the end of dst; the count moved. */
EVENT2_EXPORT_SYMBOL
int evbuffer_remove_buffer(struct evbuffer *src, struct evbuffer *dst,
    size_t datlen);

/* What ends a line for evbuffer_readln and evbuffer_search_eol. */
enum evbuffer_eol_style {
	EVBUFFER_EOL_ANY,         /* any run of CR and LF characters */
	EVBUFFER_EOL_CRLF,        /* LF, or CR LF */
	EVBUFFER_EOL_CRLF_STRICT, /* exactly CR LF */
	EVBUFFER_EOL_LF,          /* LF */
	EVBUFFER_EOL_NUL          /* a zero byte */
};

/* Removes one line (and its terminator) from the front; returns it NUL-terminated in
 * memory the caller frees, or NULL when no complete line is buffered. */
EVENT2_EXPORT_SYMBOL
char *evbuffer_readln(struct evbuffer *buffer, size_t *n_read_out,
    enum evbuffer_eol_style eol_style);

/* Moves all of inbuf to the end of outbuf without copying the bytes. 0 / -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_add_buffer(struct evbuffer *outbuf, struct evbuffer *inbuf);
/* Appends the contents of inbuf to outbuf by sharing its memory; inbuf is unchanged. */
EVENT2_EXPORT_SYMBOL
int evbuffer_add_buffer_reference(struct evbuffer *outbuf,
    struct evbuffer *inbuf);

/* Called once when memory added with evbuffer_add_reference is no longer used. */
typedef void (*evbuffer_ref_cleanup_cb)(const void *data,
    size_t datalen, void *extra);

EVENT2_EXPORT_SYMBOL
int evbuffer_add_reference(struct evbuffer *outbuf,
    const void *data, size_t datlen,
    evbuffer_ref_cleanup_cb cleanupfn, void *cleanupfn_arg);

/* Appends length bytes (-1: to the end of the file) of fd from offset; the buffer owns
 * and closes fd. */
EVENT2_EXPORT_SYMBOL
int evbuffer_add_file(struct evbuffer *outbuf, int fd, ev_off_t offset,
    ev_off_t length);

/* A range of a file that can be added to any number of buffers. */
struct evbuffer_file_segment;

#define EVBUF_FS_CLOSE_ON_FREE    0x01 /* close the fd when the last user is gone */
#define EVBUF_FS_DISABLE_MMAP     0x02 /* never map the file */
#define EVBUF_FS_DISABLE_SENDFILE 0x04 /* never send it fd-to-fd */
#define EVBUF_FS_DISABLE_LOCKING  0x08 /* single-threaded use only */

typedef void (*evbuffer_file_segment_cleanup_cb)(
    struct evbuffer_file_segment const* seg, int flags, void* arg);

EVENT2_EXPORT_SYMBOL
struct evbuffer_file_segment *evbuffer_file_segment_new(
	int fd, ev_off_t offset, ev_off_t length, unsigned flags);
/* Drops the caller's hold; the segment lives on while buffers still use it. */
EVENT2_EXPORT_SYMBOL
void evbuffer_file_segment_free(struct evbuffer_file_segment *seg);
EVENT2_EXPORT_SYMBOL
void evbuffer_file_segment_add_cleanup_cb(struct evbuffer_file_segment *seg,
	evbuffer_file_segment_cleanup_cb cb, void* arg);
/* Appends length bytes (-1: all) of the segment starting offset bytes into it. */
EVENT2_EXPORT_SYMBOL
int evbuffer_add_file_segment(struct evbuffer *buf,
    struct evbuffer_file_segment *seg, ev_off_t offset, ev_off_t length);

/* Appends formatted text; the number of bytes added or -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_add_printf(struct evbuffer *buf, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 2, 3)))
#endif
;
EVENT2_EXPORT_SYMBOL
int evbuffer_add_vprintf(struct evbuffer *buf, const char *fmt, va_list ap)
#ifdef __GNUC__
	__attribute__((format(printf, 2, 0)))
#endif
;

/* Discards len bytes (or everything, if fewer) from the front. 0 / -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_drain(struct evbuffer *buf, size_t len);

/* Writes (and drains) as much as the fd takes; bytes written or -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_write(struct evbuffer *buffer, evutil_socket_t fd);
/* Same, at most howmuch bytes (-1: no limit). */
EVENT2_EXPORT_SYMBOL
int evbuffer_write_atmost(struct evbuffer *buffer, evutil_socket_t fd,
						  ev_ssize_t howmuch);
/* Reads at most howmuch bytes (negative: as many as convenient) and appends them;
 * bytes read, 0 at end of file, or -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_read(struct evbuffer *buffer, evutil_socket_t fd, int howmuch);

/* First occurrence of what[0..len) at or after start (NULL: the front); pos -1 if none. */
EVENT2_EXPORT_SYMBOL
struct evbuffer_ptr evbuffer_search(struct evbuffer *buffer, const char *what, size_t len, const struct evbuffer_ptr *start);
/* Same, for a match that ends no later than end (NULL: the end of the buffer). */
EVENT2_EXPORT_SYMBOL
struct evbuffer_ptr evbuffer_search_range(struct evbuffer *buffer, const char *what, size_t len, const struct evbuffer_ptr *start, const struct evbuffer_ptr *end);

/* How evbuffer_ptr_set moves a pointer. */
enum evbuffer_ptr_how {
	EVBUFFER_PTR_SET, /* to an absolute position (ptr may be uninitialised) */
	EVBUFFER_PTR_ADD  /* forward from where it is */
};

/* 0, or -1 (and pos -1) when the result would lie past the end of the buffer. */
EVENT2_EXPORT_SYMBOL
int
evbuffer_ptr_set(struct evbuffer *buffer, struct evbuffer_ptr *ptr,
    size_t position, enum evbuffer_ptr_how how);

/* Finds the next line terminator at or after start; its length goes to eol_len_out. */
EVENT2_EXPORT_SYMBOL
struct evbuffer_ptr evbuffer_search_eol(struct evbuffer *buffer,
    struct evbuffer_ptr *start, size_t *eol_len_out,
    enum evbuffer_eol_style eol_style);

/* Fills vec_out with extents covering len bytes (negative: as many as fit) from start_at
 * (NULL: the front). Returns how many extents that takes, which may exceed n_vec. */
EVENT2_EXPORT_SYMBOL
int evbuffer_peek(struct evbuffer *buffer, ev_ssize_t len,
    struct evbuffer_ptr *start_at,
    struct evbuffer_iovec *vec_out, int n_vec);

/* What a callback is told about the changes since callbacks last ran. */
struct evbuffer_cb_info {
	size_t orig_size; /* length when callbacks last ran */
	size_t n_added;   /* bytes added since */
	size_t n_deleted; /* bytes removed since */
};

typedef void (*evbuffer_cb_func)(struct evbuffer *buffer, const struct evbuffer_cb_info *info, void *arg);

/* Handle of one registered callback. */
struct evbuffer_cb_entry;

EVENT2_EXPORT_SYMBOL
struct evbuffer_cb_entry *evbuffer_add_cb(struct evbuffer *buffer, evbuffer_cb_func cb, void *cbarg);
EVENT2_EXPORT_SYMBOL
int evbuffer_remove_cb_entry(struct evbuffer *buffer,
			     struct evbuffer_cb_entry *ent);
EVENT2_EXPORT_SYMBOL
int evbuffer_remove_cb(struct evbuffer *buffer, evbuffer_cb_func cb, void *cbarg);

/* The callback runs (set by default); clear it to silence a callback. */
#define EVBUFFER_CB_ENABLED 1

EVENT2_EXPORT_SYMBOL
int evbuffer_cb_set_flags(struct evbuffer *buffer,
			  struct evbuffer_cb_entry *cb, ev_uint32_t flags);
EVENT2_EXPORT_SYMBOL
int evbuffer_cb_clear_flags(struct evbuffer *buffer,
			  struct evbuffer_cb_entry *cb, ev_uint32_t flags);

/* Makes the first size bytes (-1: all) contiguous and returns them; NULL if the buffer
 * holds fewer bytes. */
EVENT2_EXPORT_SYMBOL
unsigned char *evbuffer_pullup(struct evbuffer *buf, ev_ssize_t size);

EVENT2_EXPORT_SYMBOL
int evbuffer_prepend(struct evbuffer *buf, const void *data, size_t size);
/* Moves all of src in front of dst's data. */
EVENT2_EXPORT_SYMBOL
int evbuffer_prepend_buffer(struct evbuffer *dst, struct evbuffer* src);

/* Makes calls that remove from the front (at_front) or add at the end fail. */
EVENT2_EXPORT_SYMBOL
int evbuffer_freeze(struct evbuffer *buf, int at_front);
EVENT2_EXPORT_SYMBOL
int evbuffer_unfreeze(struct evbuffer *buf, int at_front);

struct event_base;
/* From now on callbacks run from base's loop instead of inside the modifying call. */
EVENT2_EXPORT_SYMBOL
int evbuffer_defer_callbacks(struct evbuffer *buffer, struct event_base *base);

/* Appends the bytes of n_vec extents (into one block); the number of bytes added. */
EVENT2_EXPORT_SYMBOL
size_t evbuffer_add_iovec(struct evbuffer * buffer, struct evbuffer_iovec * vec, int n_vec);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_BUFFER_H_INCLUDED_ */
