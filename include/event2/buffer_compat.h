/* reevent: old evbuffer calls kept for programs written against libevent 1.4
 * (libevent 2.1 <event2/buffer_compat.h>, compatible). New code uses buffer.h. */
#ifndef EVENT2_BUFFER_COMPAT_H_INCLUDED_
#define EVENT2_BUFFER_COMPAT_H_INCLUDED_

#include <event2/visibility.h>
/* Self-contained (libevent's is not): size_t, struct evbuffer, evbuffer_get_length and
 * evbuffer_pullup for the macros below. */
#include <event2/buffer.h>

#ifdef __cplusplus
extern "C" {
#endif

/* evbuffer_readln(buffer, NULL, EVBUFFER_EOL_ANY). */
EVENT2_EXPORT_SYMBOL
char *evbuffer_readline(struct evbuffer *buffer);

/* Old-style change callback: the length before and after. */
typedef void (*evbuffer_cb)(struct evbuffer *buffer, size_t old_len, size_t new_len, void *arg);

/* Replaces every callback of the buffer with cb (NULL: removes them all). 0 / -1. */
EVENT2_EXPORT_SYMBOL
int evbuffer_setcb(struct evbuffer *buffer, evbuffer_cb cb, void *cbarg);

/* Address of the first occurrence of what[0..len) after making the buffer contiguous up
 * to it, or NULL. */
EVENT2_EXPORT_SYMBOL
unsigned char *evbuffer_find(struct evbuffer *buffer, const unsigned char *what, size_t len);

#define EVBUFFER_LENGTH(x)	evbuffer_get_length(x)
#define EVBUFFER_DATA(x)	evbuffer_pullup((x), -1)

/* In libevent these two live in bufferevent_compat.h; defining them here as well (same
 * expansion) lets either header provide them. */
#ifndef EVBUFFER_INPUT
#define EVBUFFER_INPUT(x)	bufferevent_get_input(x)
#endif
#ifndef EVBUFFER_OUTPUT
#define EVBUFFER_OUTPUT(x)	bufferevent_get_output(x)
#endif

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_BUFFER_COMPAT_H_INCLUDED_ */
