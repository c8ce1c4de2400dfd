/* reevent: buffered I/O on top of events (libevent 2.1 <event2/bufferevent.h>, compatible).
 *
 * A bufferevent owns an input and an output evbuffer and moves bytes between them and a
 * transport: a socket, the other half of a pair, or another bufferevent through a filter.
 * The user drains input in the read callback and fills output; the write callback runs when
 * output falls to the write low-water mark; the event callback reports EOF, errors,
 * timeouts and finished connects. Names, signatures and constant values are those of
 * libevent 2.1.12; the rules reevent follows are written in docs/parts/semantics-bufferevent.md. */
#ifndef EVENT2_BUFFEREVENT_H_INCLUDED_
#define EVENT2_BUFFEREVENT_H_INCLUDED_

#include <event2/visibility.h>
#include <event2/event-config.h>
#include <event2/util.h>
#include <sys/types.h>
#include <sys/time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- bits passed to the event callback ------------------------------------------------ */
#define BEV_EVENT_READING 0x01   /* the condition happened while reading */
#define BEV_EVENT_WRITING 0x02   /* ... while writing */
#define BEV_EVENT_EOF 0x10       /* the peer closed its side */
#define BEV_EVENT_ERROR 0x20     /* an error; errno (EVUTIL_SOCKET_ERROR()) says which */
#define BEV_EVENT_TIMEOUT 0x40   /* a read or write timeout expired */
#define BEV_EVENT_CONNECTED 0x80 /* bufferevent_socket_connect finished */

struct bufferevent;
struct event_base;
struct evbuffer;
struct sockaddr;
struct evdns_base;

/* Read and write callbacks. */
typedef void (*bufferevent_data_cb)(struct bufferevent *bev, void *ctx);
/* Event callback; `what` is BEV_EVENT_READING/WRITING or-ed with EOF/ERROR/TIMEOUT/CONNECTED. */
typedef void (*bufferevent_event_cb)(struct bufferevent *bev, short what, void *ctx);

/* Options for the constructors. */
enum bufferevent_options {
	BEV_OPT_CLOSE_ON_FREE = (1 << 0),    /* free closes the fd / frees the underlying bev */
	BEV_OPT_THREADSAFE = (1 << 1),       /* give the bufferevent a lock */
	BEV_OPT_DEFER_CALLBACKS = (1 << 2),  /* run callbacks from the loop, after the events */
	BEV_OPT_UNLOCK_CALLBACKS = (1 << 3)  /* with DEFER: run callbacks without the lock */
};

/* ---- socket bufferevents ------------------------------------------------------------- */

/* A bufferevent over a connected (or not yet connected: fd -1) socket; writing is enabled,
 * reading is not. NULL on failure. */
EVENT2_EXPORT_SYMBOL
struct bufferevent *bufferevent_socket_new(struct event_base *base, evutil_socket_t fd,
    int options);

/* Starts connecting to addr (creating a non-blocking socket when the bufferevent has none);
 * the event callback later gets BEV_EVENT_CONNECTED or BEV_EVENT_ERROR. With addr NULL the
 * socket is taken to be connecting already. 0 when started, -1 on an immediate failure. */
EVENT2_EXPORT_SYMBOL
int bufferevent_socket_connect(struct bufferevent *bufev, const struct sockaddr *addr,
    int socklen);

/* Resolves hostname (family AF_INET, AF_INET6 or AF_UNSPEC) and connects to the first
 * address. reevent has no evdns: dns_base must be NULL and the lookup blocks. A failed
 * lookup is reported as BEV_EVENT_ERROR with bufferevent_socket_get_dns_error() set. */
EVENT2_EXPORT_SYMBOL
int bufferevent_socket_connect_hostname(struct bufferevent *bufev,
    struct evdns_base *dns_base, int family, const char *hostname, int port);

/* The EVUTIL_EAI_* code of the last failed lookup, 0 if none. */
EVENT2_EXPORT_SYMBOL
int bufferevent_socket_get_dns_error(struct bufferevent *bev);

/* Moves a socket bufferevent to another base (its events must not be pending). */
EVENT2_EXPORT_SYMBOL
int bufferevent_base_set(struct event_base *base, struct bufferevent *bufev);

EVENT2_EXPORT_SYMBOL
struct event_base *bufferevent_get_base(struct bufferevent *bev);

/* Priority of a socket bufferevent's events and deferred callbacks. */
EVENT2_EXPORT_SYMBOL
int bufferevent_priority_set(struct bufferevent *bufev, int pri);
EVENT2_EXPORT_SYMBOL
int bufferevent_get_priority(const struct bufferevent *bufev);

/* Releases the caller's reference: no callback runs afterwards; pending output is not
 * flushed; with BEV_OPT_CLOSE_ON_FREE the transport is closed once the last reference
 * (held by an in-flight deferred callback, for example) goes. */
EVENT2_EXPORT_SYMBOL
void bufferevent_free(struct bufferevent *bufev);

EVENT2_EXPORT_SYMBOL
void bufferevent_setcb(struct bufferevent *bufev,
    bufferevent_data_cb readcb, bufferevent_data_cb writecb,
    bufferevent_event_cb eventcb, void *cbarg);

/* Each non-NULL pointer receives the current value. */
EVENT2_EXPORT_SYMBOL
void bufferevent_getcb(struct bufferevent *bufev,
    bufferevent_data_cb *readcb_ptr,
    bufferevent_data_cb *writecb_ptr,
    bufferevent_event_cb *eventcb_ptr,
    void **cbarg_ptr);

/* Replaces the fd of a socket bufferevent (the old one is not closed). */
EVENT2_EXPORT_SYMBOL
int bufferevent_setfd(struct bufferevent *bufev, evutil_socket_t fd);
/* The fd, or -1. */
EVENT2_EXPORT_SYMBOL
evutil_socket_t bufferevent_getfd(struct bufferevent *bufev);

/* The bufferevent a filter sits on, NULL for the other kinds. */
EVENT2_EXPORT_SYMBOL
struct bufferevent *bufferevent_get_underlying(struct bufferevent *bufev);

/* Appends to the output buffer. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int bufferevent_write(struct bufferevent *bufev, const void *data, size_t size);
/* Moves all of buf to the output buffer. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int bufferevent_write_buffer(struct bufferevent *bufev, struct evbuffer *buf);

/* Removes up to size bytes from the input buffer; returns how many. */
EVENT2_EXPORT_SYMBOL
size_t bufferevent_read(struct bufferevent *bufev, void *data, size_t size);
/* Moves all of the input buffer to buf. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int bufferevent_read_buffer(struct bufferevent *bufev, struct evbuffer *buf);

/* The buffers themselves (do not set callbacks on them). */
EVENT2_EXPORT_SYMBOL
struct evbuffer *bufferevent_get_input(struct bufferevent *bufev);
EVENT2_EXPORT_SYMBOL
struct evbuffer *bufferevent_get_output(struct bufferevent *bufev);

/* Turns reading and/or writing (EV_READ | EV_WRITE) on or off. */
EVENT2_EXPORT_SYMBOL
int bufferevent_enable(struct bufferevent *bufev, short event);
EVENT2_EXPORT_SYMBOL
int bufferevent_disable(struct bufferevent *bufev, short event);
EVENT2_EXPORT_SYMBOL
short bufferevent_get_enabled(struct bufferevent *bufev);

/* Timeouts counted from the last successful read / write while that direction is wanted;
 * NULL or a zero timeval turns one off. When one expires the event callback gets
 * BEV_EVENT_TIMEOUT|READING (or WRITING) and that direction is disabled. */
EVENT2_EXPORT_SYMBOL
int bufferevent_set_timeouts(struct bufferevent *bufev,
    const struct timeval *timeout_read, const struct timeval *timeout_write);

/* Read: the read callback waits for `lowmark` bytes; at `highmark` (0: none) reading
 * pauses until the input drains. Write: the write callback runs when output falls to
 * `lowmark`; filters try not to fill an underlying output past `highmark`. */
EVENT2_EXPORT_SYMBOL
void bufferevent_setwatermark(struct bufferevent *bufev, short events,
    size_t lowmark, size_t highmark);
/* events must be exactly EV_READ or EV_WRITE: 0, otherwise -1. */
EVENT2_EXPORT_SYMBOL
int bufferevent_getwatermark(struct bufferevent *bufev, short events,
    size_t *lowmark, size_t *highmark);

/* The bufferevent's lock (a no-op without BEV_OPT_THREADSAFE). */
EVENT2_EXPORT_SYMBOL
void bufferevent_lock(struct bufferevent *bufev);
EVENT2_EXPORT_SYMBOL
void bufferevent_unlock(struct bufferevent *bufev);

/* Reference counting; decref returns 1 when it freed the object, else 0. */
EVENT2_EXPORT_SYMBOL
void bufferevent_incref(struct bufferevent *bufev);
EVENT2_EXPORT_SYMBOL
int bufferevent_decref(struct bufferevent *bufev);

/* How hard to push data through (filters, pairs). */
enum bufferevent_flush_mode {
	BEV_NORMAL = 0,   /* as convenient */
	BEV_FLUSH = 1,    /* everything buffered */
	BEV_FINISHED = 2  /* everything, then end of stream */
};

/* -1 on failure, 0 if nothing moved, 1 if data moved. */
EVENT2_EXPORT_SYMBOL
int bufferevent_flush(struct bufferevent *bufev, short iotype,
    enum bufferevent_flush_mode mode);

/* Options of bufferevent_trigger / bufferevent_trigger_event. */
enum bufferevent_trigger_options {
	BEV_TRIG_IGNORE_WATERMARKS = (1 << 16), /* run even if the watermark says no */
	BEV_TRIG_DEFER_CALLBACKS = BEV_OPT_DEFER_CALLBACKS /* defer this one */
};

/* Runs the read and/or write callback as if data had moved. */
EVENT2_EXPORT_SYMBOL
void bufferevent_trigger(struct bufferevent *bufev, short iotype, int options);
/* Runs the event callback with `what`. */
EVENT2_EXPORT_SYMBOL
void bufferevent_trigger_event(struct bufferevent *bufev, short what, int options);

/* ---- filters --------------------------------------------------------------------------- */

enum bufferevent_filter_result {
	BEV_OK = 0,         /* produced output */
	BEV_NEED_MORE = 1,  /* needs more input first */
	BEV_ERROR = 2       /* cannot go on */
};

/* Moves (transformed) bytes from src to dst, trying to add at most dst_limit (-1: any). */
typedef enum bufferevent_filter_result (*bufferevent_filter_cb)(
    struct evbuffer *src, struct evbuffer *dst, ev_ssize_t dst_limit,
    enum bufferevent_flush_mode mode, void *ctx);

/* A bufferevent whose input is input_filter(underlying's input) and whose output goes
 * through output_filter into underlying's output. A NULL filter copies bytes unchanged.
 * free_context(ctx) runs when the filter is freed. */
EVENT2_EXPORT_SYMBOL
struct bufferevent *bufferevent_filter_new(struct bufferevent *underlying,
    bufferevent_filter_cb input_filter,
    bufferevent_filter_cb output_filter,
    int options,
    void (*free_context)(void *),
    void *ctx);

/* ---- pairs ------------------------------------------------------------------------------ */

/* Two bufferevents connected to each other in memory. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int bufferevent_pair_new(struct event_base *base, int options, struct bufferevent *pair[2]);

/* The other half, or NULL once it is gone (or bev is no pair). */
EVENT2_EXPORT_SYMBOL
struct bufferevent *bufferevent_pair_get_partner(struct bufferevent *bev);

/* ---- rate limiting ------------------------------------------------------------------- */

struct ev_token_bucket_cfg;
struct bufferevent_rate_limit_group;

#define EV_RATE_LIMIT_MAX EV_SSIZE_MAX

/* Token buckets: up to *_rate bytes per tick on average, *_burst in one tick; tick_len NULL
 * means one second (sub-millisecond parts are ignored). */
EVENT2_EXPORT_SYMBOL
struct ev_token_bucket_cfg *ev_token_bucket_cfg_new(
    size_t read_rate, size_t read_burst,
    size_t write_rate, size_t write_burst,
    const struct timeval *tick_len);

/* Not reference counted: free it only when nothing uses it. */
EVENT2_EXPORT_SYMBOL
void ev_token_bucket_cfg_free(struct ev_token_bucket_cfg *cfg);

/* Limits one bufferevent (NULL removes the limit). Socket bufferevents honour it. */
EVENT2_EXPORT_SYMBOL
int bufferevent_set_rate_limit(struct bufferevent *bev, struct ev_token_bucket_cfg *cfg);

/* A limit shared by all member bufferevents. */
EVENT2_EXPORT_SYMBOL
struct bufferevent_rate_limit_group *bufferevent_rate_limit_group_new(
    struct event_base *base, const struct ev_token_bucket_cfg *cfg);

EVENT2_EXPORT_SYMBOL
int bufferevent_rate_limit_group_set_cfg(struct bufferevent_rate_limit_group *group,
    const struct ev_token_bucket_cfg *cfg);

/* The smallest share handed to one member at a time (default 64 bytes). */
EVENT2_EXPORT_SYMBOL
int bufferevent_rate_limit_group_set_min_share(struct bufferevent_rate_limit_group *group,
    size_t share);

/* The group must have no members left. */
EVENT2_EXPORT_SYMBOL
void bufferevent_rate_limit_group_free(struct bufferevent_rate_limit_group *group);

/* Joins g (leaving any previous group); g NULL just leaves. */
EVENT2_EXPORT_SYMBOL
int bufferevent_add_to_rate_limit_group(struct bufferevent *bev,
    struct bufferevent_rate_limit_group *g);
EVENT2_EXPORT_SYMBOL
int bufferevent_remove_from_rate_limit_group(struct bufferevent *bev);

/* Largest single read / write; 0 restores the default. */
EVENT2_EXPORT_SYMBOL
int bufferevent_set_max_single_read(struct bufferevent *bev, size_t size);
EVENT2_EXPORT_SYMBOL
int bufferevent_set_max_single_write(struct bufferevent *bev, size_t size);
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_get_max_single_read(struct bufferevent *bev);
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_get_max_single_write(struct bufferevent *bev);

/* The bufferevent's own buckets (EV_SSIZE_MAX without a limit; may be negative). */
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_get_read_limit(struct bufferevent *bev);
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_get_write_limit(struct bufferevent *bev);

/* How much the next read / write may move, all limits considered. */
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_get_max_to_read(struct bufferevent *bev);
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_get_max_to_write(struct bufferevent *bev);

EVENT2_EXPORT_SYMBOL
const struct ev_token_bucket_cfg *bufferevent_get_token_bucket_cfg(
    const struct bufferevent *bev);

/* The group's buckets (may be negative). */
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_rate_limit_group_get_read_limit(
    struct bufferevent_rate_limit_group *group);
EVENT2_EXPORT_SYMBOL
ev_ssize_t bufferevent_rate_limit_group_get_write_limit(
    struct bufferevent_rate_limit_group *group);

/* Take bytes out of (or, negative, put bytes into) a bucket; reading/writing pauses or
 * resumes to match. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int bufferevent_decrement_read_limit(struct bufferevent *bev, ev_ssize_t decr);
EVENT2_EXPORT_SYMBOL
int bufferevent_decrement_write_limit(struct bufferevent *bev, ev_ssize_t decr);
EVENT2_EXPORT_SYMBOL
int bufferevent_rate_limit_group_decrement_read(struct bufferevent_rate_limit_group *group,
    ev_ssize_t decr);
EVENT2_EXPORT_SYMBOL
int bufferevent_rate_limit_group_decrement_write(struct bufferevent_rate_limit_group *group,
    ev_ssize_t decr);

/* Bytes read / written by the members since creation or the last reset. */
EVENT2_EXPORT_SYMBOL
void bufferevent_rate_limit_group_get_totals(struct bufferevent_rate_limit_group *grp,
    ev_uint64_t *total_read_out, ev_uint64_t *total_written_out);
EVENT2_EXPORT_SYMBOL
void bufferevent_rate_limit_group_reset_totals(struct bufferevent_rate_limit_group *grp);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_BUFFEREVENT_H_INCLUDED_ */
