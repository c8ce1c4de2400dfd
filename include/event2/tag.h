/* reevent: tagged data on evbuffers (libevent 2.1 <event2/tag.h>, compatible).
 *
 * A record is a tag (7 bits per byte, high bit = more), a length, and that many bytes of
 * payload. Integers are written in libevent's compact form: one nibble holding how many
 * nibbles follow, minus one, then the nibbles, least significant first. Lives in
 * libevent_extra. */
#ifndef EVENT2_TAG_H_INCLUDED_
#define EVENT2_TAG_H_INCLUDED_

#include <event2/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>

#include <event2/util.h>

struct evbuffer;

/* Does nothing; kept for programs written for older libevents. */
EVENT2_EXPORT_SYMBOL
void evtag_init(void);

/* Reads and drains a record's tag and length; returns the length, or -1 when the header is
 * malformed or the buffer holds fewer payload bytes than it announces. */
EVENT2_EXPORT_SYMBOL
int evtag_unmarshal_header(struct evbuffer *evbuf, ev_uint32_t *ptag);

/* Appends a record: tag, len, and len bytes of data. */
EVENT2_EXPORT_SYMBOL
void evtag_marshal(struct evbuffer *evbuf, ev_uint32_t tag, const void *data, ev_uint32_t len);

/* Appends a record whose payload is all of data (moved out of it). */
EVENT2_EXPORT_SYMBOL
void evtag_marshal_buffer(struct evbuffer *evbuf, ev_uint32_t tag, struct evbuffer *data);

/* Appends an integer in the compact form (no tag, no length). */
EVENT2_EXPORT_SYMBOL
void evtag_encode_int(struct evbuffer *evbuf, ev_uint32_t number);
EVENT2_EXPORT_SYMBOL
void evtag_encode_int64(struct evbuffer *evbuf, ev_uint64_t number);

/* Appends a record holding an integer in the compact form. */
EVENT2_EXPORT_SYMBOL
void evtag_marshal_int(struct evbuffer *evbuf, ev_uint32_t tag, ev_uint32_t integer);
EVENT2_EXPORT_SYMBOL
void evtag_marshal_int64(struct evbuffer *evbuf, ev_uint32_t tag, ev_uint64_t integer);

/* Appends a record holding the string without its NUL. */
EVENT2_EXPORT_SYMBOL
void evtag_marshal_string(struct evbuffer *buf, ev_uint32_t tag, const char *string);

/* Appends a record holding tv_sec and tv_usec as two compact integers. */
EVENT2_EXPORT_SYMBOL
void evtag_marshal_timeval(struct evbuffer *evbuf, ev_uint32_t tag, struct timeval *tv);

/* Moves one record's payload from src to dst; returns its length or -1. */
EVENT2_EXPORT_SYMBOL
int evtag_unmarshal(struct evbuffer *src, ev_uint32_t *ptag, struct evbuffer *dst);

/* The next record's tag without draining: the tag's size in bytes, or -1 (also when empty). */
EVENT2_EXPORT_SYMBOL
int evtag_peek(struct evbuffer *evbuf, ev_uint32_t *ptag);

/* The next record's whole size (header and payload) without draining; 0 or -1. */
EVENT2_EXPORT_SYMBOL
int evtag_peek_length(struct evbuffer *evbuf, ev_uint32_t *plength);

/* The next record's payload length without draining; 0 or -1. */
EVENT2_EXPORT_SYMBOL
int evtag_payload_length(struct evbuffer *evbuf, ev_uint32_t *plength);

/* Drains the next record whole; 0 or -1. */
EVENT2_EXPORT_SYMBOL
int evtag_consume(struct evbuffer *evbuf);

/* Reads a record that must carry need_tag and hold one compact integer; the header is
 * drained even when that fails. Returns the integer's size in bytes, or -1. */
EVENT2_EXPORT_SYMBOL
int evtag_unmarshal_int(struct evbuffer *evbuf, ev_uint32_t need_tag, ev_uint32_t *pinteger);
EVENT2_EXPORT_SYMBOL
int evtag_unmarshal_int64(struct evbuffer *evbuf, ev_uint32_t need_tag, ev_uint64_t *pinteger);

/* Reads a record that must carry need_tag and exactly len bytes into data; 0 or -1. */
EVENT2_EXPORT_SYMBOL
int evtag_unmarshal_fixed(struct evbuffer *src, ev_uint32_t need_tag, void *data, size_t len);

/* Reads a record that must carry need_tag into a new NUL-terminated string (free it with
 * free() or the event_set_mem_functions free hook); 0 or -1. */
EVENT2_EXPORT_SYMBOL
int evtag_unmarshal_string(struct evbuffer *evbuf, ev_uint32_t need_tag, char **pstring);

/* Reads a record that must carry need_tag and hold a timeval; 0 or -1. */
EVENT2_EXPORT_SYMBOL
int evtag_unmarshal_timeval(struct evbuffer *evbuf, ev_uint32_t need_tag, struct timeval *ptv);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_TAG_H_INCLUDED_ */
