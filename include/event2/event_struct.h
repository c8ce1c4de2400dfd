/* reevent: the public layout of struct event (libevent 2.1 <event2/event_struct.h>).
 *
 * Programs embed struct event by value (event_set/event_assign on their own memory) and
 * some read or write ev_fd, ev_events and ev_base directly, so the layout is ABI: 128 bytes
 * on LP64 with ev_fd at 56, ev_base at 64, ev_events at 104 (tests/c checks every offset).
 * reevent keeps all of its per-event state inside these bytes. Use the accessor functions
 * of event.h in new code. */
#ifndef EVENT2_EVENT_STRUCT_H_INCLUDED_
#define EVENT2_EVENT_STRUCT_H_INCLUDED_

#include <event2/event-config.h>
#include <event2/util.h>
#include <sys/types.h>
#include <sys/time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bits of ev_evcallback.evcb_flags: which queues an event is on. */
#define EVLIST_TIMEOUT 0x01
#define EVLIST_INSERTED 0x02
#define EVLIST_SIGNAL 0x04
#define EVLIST_ACTIVE 0x08
#define EVLIST_INTERNAL 0x10
#define EVLIST_ACTIVE_LATER 0x20
#define EVLIST_FINALIZING 0x40
#define EVLIST_INIT 0x80
#define EVLIST_ALL 0xff

struct event_base;
struct event;
struct event_callback;

/* The callback header shared by events and deferred callbacks. The link fields have the
 * member names of <sys/queue.h> TAILQ_ENTRY, so its macros work on them. */
struct event_callback {
	struct {
		struct event_callback *tqe_next;
		struct event_callback **tqe_prev;
	} evcb_active_next;
	short evcb_flags;
	ev_uint8_t evcb_pri;
	ev_uint8_t evcb_closure;
	union {
		void (*evcb_callback)(evutil_socket_t, short, void *);
		void (*evcb_selfcb)(struct event_callback *, void *);
		void (*evcb_evfinalize)(struct event *, void *);
		void (*evcb_cbfinalize)(struct event_callback *, void *);
	} evcb_cb_union;
	void *evcb_arg;
};

struct event {
	struct event_callback ev_evcallback;

	/* Either a link in a common-timeout queue or the index in the timer heap. */
	union {
		struct {
			struct event *tqe_next;
			struct event **tqe_prev;
		} ev_next_with_common_timeout;
		int min_heap_idx;
	} ev_timeout_pos;
	evutil_socket_t ev_fd;

	struct event_base *ev_base;

	union {
		/* I/O events: a link among the events of one fd, and the relative timeout. */
		struct {
			struct {
				struct event *le_next;
				struct event **le_prev;
			} ev_io_next;
			struct timeval ev_timeout;
		} ev_io;

		/* Signal events: a link among the events of one signal, and the call count. */
		struct {
			struct {
				struct event *le_next;
				struct event **le_prev;
			} ev_signal_next;
			short ev_ncalls;
			short *ev_pncalls;
		} ev_signal;
	} ev_;

	short ev_events;
	short ev_res; /* the result passed to the callback */
	struct timeval ev_timeout;
};

/* List heads with <sys/queue.h> member names. */
struct event_list {
	struct event *tqh_first;
	struct event **tqh_last;
};

struct event_dlist {
	struct event *lh_first;
};

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_EVENT_STRUCT_H_INCLUDED_ */
