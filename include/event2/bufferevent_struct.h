/* reevent: the public layout of struct bufferevent (libevent 2.1 <event2/bufferevent_struct.h>).
 *
 * Old programs (tmux, tmate, redsocks) read bev->input/output, the callbacks, wm_write and
 * enabled, take &bev->ev_read, and even overwrite readcb/writecb. So this struct is ABI: 392
 * bytes on LP64 (ev_read at 16, ev_write at 144, input at 272, output at 280, readcb at 320,
 * enabled at 384). reevent places it at the start of its private bufferevent object and
 * reads the callbacks from these very slots. New code should use the bufferevent.h calls. */
#ifndef EVENT2_BUFFEREVENT_STRUCT_H_INCLUDED_
#define EVENT2_BUFFEREVENT_STRUCT_H_INCLUDED_

#include <event2/event-config.h>
#include <event2/util.h>
#include <event2/event_struct.h>
/* The callback typedefs (libevent leaves this include to the user; having it is harmless). */
#include <event2/bufferevent.h>
#include <sys/types.h>
#include <sys/time.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evbuffer;
struct bufferevent;
struct bufferevent_ops;

/* A low and a high byte count; 0 as high means "no limit". */
struct event_watermark {
	size_t low;
	size_t high;
};

struct bufferevent {
	struct event_base *ev_base;          /* the base it was created on */
	const struct bufferevent_ops *be_ops; /* which kind: socket, pair, filter */

	struct event ev_read;   /* socket kinds: readiness + read timeout */
	struct event ev_write;  /* socket kinds: readiness + write timeout */

	struct evbuffer *input;   /* filled by the bufferevent, drained by the user */
	struct evbuffer *output;  /* filled by the user, drained by the bufferevent */

	struct event_watermark wm_read;
	struct event_watermark wm_write;

	bufferevent_data_cb readcb;
	bufferevent_data_cb writecb;
	bufferevent_event_cb errorcb; /* the "event" callback; the old name is ABI */
	void *cbarg;

	struct timeval timeout_read;
	struct timeval timeout_write;

	short enabled; /* EV_READ and/or EV_WRITE, as the user asked */
};

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_BUFFEREVENT_STRUCT_H_INCLUDED_ */
