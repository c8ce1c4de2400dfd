/* reevent: the event loop API (libevent 2.1 <event2/event.h>, compatible).
 *
 * Names, signatures and constant values are those of libevent 2.1.12, so programs compile
 * and link unchanged. An event_base watches file descriptors, signals and timeouts and runs
 * the callbacks of the events that became active. struct event is public (event_struct.h)
 * so it can be embedded; everything else is opaque. reevent specifics are noted in place. */
#ifndef EVENT2_EVENT_H_INCLUDED_
#define EVENT2_EVENT_H_INCLUDED_

#include <event2/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>
#include <stdio.h>

#include <event2/util.h>

struct event_base;
struct event;
struct event_config;

/* ---- debugging ------------------------------------------------------------------------- */

/* Tracks every event that is assigned, so that use of a never-assigned event, re-assigning a
 * pending event and similar mistakes are reported (fatally). Call before creating events. */
EVENT2_EXPORT_SYMBOL
void event_enable_debug_mode(void);

/* Forgets a non-pending event in debug mode (for events whose memory is released without
 * event_free). Does nothing when debug mode is off. */
EVENT2_EXPORT_SYMBOL
void event_debug_unassign(struct event *);

/* ---- event_base ------------------------------------------------------------------------ */

/* A base with the default configuration; NULL on failure. */
EVENT2_EXPORT_SYMBOL
struct event_base *event_base_new(void);

/* Call in a fork()ed child before using a base created by the parent: recreates kernel
 * state and re-adds every pending event. 0, or -1 if some event could not be re-added. */
EVENT2_EXPORT_SYMBOL
int event_reinit(struct event_base *base);

/* Runs the loop until no events remain or loopexit/loopbreak is called. 0 on a normal
 * exit, -1 on error, 1 when it returned because no events were pending or active. */
EVENT2_EXPORT_SYMBOL
int event_base_dispatch(struct event_base *);

/* "epoll", "poll" or "select". */
EVENT2_EXPORT_SYMBOL
const char *event_base_get_method(const struct event_base *);

/* NULL-terminated list of the compiled-in methods in order of preference. */
EVENT2_EXPORT_SYMBOL
const char **event_get_supported_methods(void);

/* The base's monotonic clock (as its timers see it). 0 on success, -1 on error. */
EVENT2_EXPORT_SYMBOL
int event_gettime_monotonic(struct event_base *base, struct timeval *tp);

/* Kinds of events counted by event_base_get_num_events / _get_max_events. */
#define EVENT_BASE_COUNT_ACTIVE                1U
#define EVENT_BASE_COUNT_VIRTUAL       2U
#define EVENT_BASE_COUNT_ADDED         4U

/* The number of events of the given kinds (an active added event counts under both). */
EVENT2_EXPORT_SYMBOL
int event_base_get_num_events(struct event_base *, unsigned int);

/* The largest number of events of the given kinds seen at once; clear resets it. */
EVENT2_EXPORT_SYMBOL
int event_base_get_max_events(struct event_base *, unsigned int, int);

/* ---- event_config ---------------------------------------------------------------------- */

EVENT2_EXPORT_SYMBOL
struct event_config *event_config_new(void);

EVENT2_EXPORT_SYMBOL
void event_config_free(struct event_config *cfg);

/* Never use the named method. 0 on success, -1 on failure. */
EVENT2_EXPORT_SYMBOL
int event_config_avoid_method(struct event_config *cfg, const char *method);

/* Features a method may offer (event_base_get_features, event_config_require_features). */
enum event_method_feature {
	/* Edge-triggered events (EV_ET). */
	EV_FEATURE_ET = 0x01,
	/* Adding, deleting and activating one event is O(1). */
	EV_FEATURE_O1 = 0x02,
	/* Any kind of file descriptor, not only sockets. */
	EV_FEATURE_FDS = 0x04,
	/* EV_CLOSED: the peer closed its side, reported without reading. */
	EV_FEATURE_EARLY_CLOSE = 0x08
};

/* Flags for event_config_set_flag. */
enum event_base_config_flag {
	/* No lock: the base must only be used from one thread at a time. */
	EVENT_BASE_FLAG_NOLOCK = 0x01,
	/* Ignore the EVENT_* environment variables. */
	EVENT_BASE_FLAG_IGNORE_ENV = 0x02,
	/* Windows only; accepted and ignored elsewhere. */
	EVENT_BASE_FLAG_STARTUP_IOCP = 0x04,
	/* Read the clock after every timeout callback instead of once per loop iteration. */
	EVENT_BASE_FLAG_NO_CACHE_TIME = 0x08,
	/* epoll: batch the changes of one loop iteration into as few epoll_ctl calls as
	 * possible. Not safe if a watched fd has dup()ed copies that outlive it. */
	EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST = 0x10,
	/* Use the most precise clock and timeouts available. */
	EVENT_BASE_FLAG_PRECISE_TIMER = 0x20
};

/* Bitwise OR of the event_method_feature values of the base's method. */
EVENT2_EXPORT_SYMBOL
int event_base_get_features(const struct event_base *base);

/* Only accept methods offering all these features (replaces earlier calls). 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_config_require_features(struct event_config *cfg, int feature);

/* Adds event_base_config_flag bits. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_config_set_flag(struct event_config *cfg, int flag);

/* A hint of how many CPUs to use (only meaningful on Windows). 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_config_set_num_cpus_hint(struct event_config *cfg, int cpus);

/* Limits how long (max_interval, may be NULL) and how many callbacks (max_callbacks, -1 for
 * no limit) the loop runs before checking for new events, for priorities numerically at or
 * above min_priority. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_config_set_max_dispatch_interval(struct event_config *cfg,
    const struct timeval *max_interval, int max_callbacks,
    int min_priority);

/* A base with the given configuration, or NULL if none of the methods fits it. */
EVENT2_EXPORT_SYMBOL
struct event_base *event_base_new_with_config(const struct event_config *);

/* Frees a base. Does not close fds or free events or callback arguments; pending events are
 * deleted and pending finalizers run. */
EVENT2_EXPORT_SYMBOL
void event_base_free(struct event_base *);

/* Like event_base_free, without running finalizers. */
EVENT2_EXPORT_SYMBOL
void event_base_free_nofinalize(struct event_base *);

/* ---- logging --------------------------------------------------------------------------- */

#define EVENT_LOG_DEBUG 0
#define EVENT_LOG_MSG   1
#define EVENT_LOG_WARN  2
#define EVENT_LOG_ERR   3

/* Old spellings kept for old programs. */
#define _EVENT_LOG_DEBUG EVENT_LOG_DEBUG
#define _EVENT_LOG_MSG EVENT_LOG_MSG
#define _EVENT_LOG_WARN EVENT_LOG_WARN
#define _EVENT_LOG_ERR EVENT_LOG_ERR

typedef void (*event_log_cb)(int severity, const char *msg);

/* Sends log messages to cb (NULL: back to stderr). cb must not call into the library. */
EVENT2_EXPORT_SYMBOL
void event_set_log_callback(event_log_cb cb);

typedef void (*event_fatal_cb)(int err);

/* Called on a fatal internal error instead of aborting; the process still ends. */
EVENT2_EXPORT_SYMBOL
void event_set_fatal_callback(event_fatal_cb cb);

#define EVENT_DBG_ALL 0xffffffffu
#define EVENT_DBG_NONE 0

/* Turns debug-level log messages on (EVENT_DBG_ALL) or off (EVENT_DBG_NONE). */
EVENT2_EXPORT_SYMBOL
void event_enable_debug_logging(ev_uint32_t which);

/* Moves a non-pending event to another base. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_base_set(struct event_base *, struct event *);

/* ---- the loop -------------------------------------------------------------------------- */

/* Flags for event_base_loop. */
#define EVLOOP_ONCE	0x01
#define EVLOOP_NONBLOCK	0x02
#define EVLOOP_NO_EXIT_ON_EMPTY 0x04

/* Runs the loop (see the EVLOOP_ flags). 0, -1 on error, 1 when no events were left. */
EVENT2_EXPORT_SYMBOL
int event_base_loop(struct event_base *, int);

/* Makes the loop exit after tv (NULL: after the current round of callbacks). 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_base_loopexit(struct event_base *, const struct timeval *);

/* Makes the running loop exit after the current callback. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_base_loopbreak(struct event_base *);

/* Makes the running loop poll for new events after the current callback. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_base_loopcontinue(struct event_base *);

/* True from event_base_loopexit until the loop is entered again. */
EVENT2_EXPORT_SYMBOL
int event_base_got_exit(struct event_base *);

/* True from event_base_loopbreak until the loop is entered again. */
EVENT2_EXPORT_SYMBOL
int event_base_got_break(struct event_base *);

/* ---- events ---------------------------------------------------------------------------- */

/* Event flags. */
#define EV_TIMEOUT	0x01
#define EV_READ		0x02
#define EV_WRITE	0x04
#define EV_SIGNAL	0x08
/* Stays pending after its callback runs. */
#define EV_PERSIST	0x10
/* Edge-triggered (only where EV_FEATURE_ET is offered). */
#define EV_ET		0x20
/* event_del does not wait for a callback running in another thread. */
#define EV_FINALIZE     0x40
/* The peer closed the connection (where EV_FEATURE_EARLY_CLOSE is offered). */
#define EV_CLOSED	0x80

/* Timers: events with no fd and no flags. */
#define evtimer_assign(ev, b, cb, arg) \
	event_assign((ev), (b), -1, 0, (cb), (arg))
#define evtimer_new(b, cb, arg)		event_new((b), -1, 0, (cb), (arg))
#define evtimer_add(ev, tv)		event_add((ev), (tv))
#define evtimer_del(ev)			event_del(ev)
#define evtimer_pending(ev, tv)		event_pending((ev), EV_TIMEOUT, (tv))
#define evtimer_initialized(ev)		event_initialized(ev)

/* Signals: persistent events on a signal number. */
#define evsignal_add(ev, tv)		event_add((ev), (tv))
#define evsignal_assign(ev, b, x, cb, arg)			\
	event_assign((ev), (b), (x), EV_SIGNAL|EV_PERSIST, cb, (arg))
#define evsignal_new(b, x, cb, arg)				\
	event_new((b), (x), EV_SIGNAL|EV_PERSIST, (cb), (arg))
#define evsignal_del(ev)		event_del(ev)
#define evsignal_pending(ev, tv)	event_pending((ev), EV_SIGNAL, (tv))
#define evsignal_initialized(ev)	event_initialized(ev)

/* User-triggered events: only ever activated by evuser_trigger. */
#define evuser_new(b, cb, arg)		event_new((b), -1, 0, (cb), (arg))
#define evuser_del(ev)			event_del(ev)
#define evuser_pending(ev, tv)		event_pending((ev), 0, (tv))
#define evuser_initialized(ev)		event_initialized(ev)
#define evuser_trigger(ev)		event_active((ev), 0, 0)

typedef void (*event_callback_fn)(evutil_socket_t, short, void *);

/* A marker for event_new/event_assign: pass it as the callback argument to have the event
 * itself passed to its callback. */
EVENT2_EXPORT_SYMBOL
void *event_self_cbarg(void);

/* Allocates and assigns an event; NULL on failure or bad arguments. */
EVENT2_EXPORT_SYMBOL
struct event *event_new(struct event_base *, evutil_socket_t, short, event_callback_fn, void *);

/* Prepares caller-owned storage as an event (never on a pending event). 0 or -1. A NULL base
 * means the current base of event_init(). */
EVENT2_EXPORT_SYMBOL
int event_assign(struct event *, struct event_base *, evutil_socket_t, short, event_callback_fn, void *);

/* Deletes (if pending) and frees an event from event_new. */
EVENT2_EXPORT_SYMBOL
void event_free(struct event *);

typedef void (*event_finalize_callback_fn)(struct event *, void *);

/* Deletes the event without waiting for a running callback and has the loop call cb(ev, arg)
 * afterwards; event_free_finalize also frees it then. Afterwards the event may not be added
 * or activated. 0 or -1. flags must be 0. */
EVENT2_EXPORT_SYMBOL
int event_finalize(unsigned, struct event *, event_finalize_callback_fn);
EVENT2_EXPORT_SYMBOL
int event_free_finalize(unsigned, struct event *, event_finalize_callback_fn);

/* Runs the callback once, when the fd is ready or the timeout expires; the library frees
 * its memory. No EV_SIGNAL or EV_PERSIST. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_base_once(struct event_base *, evutil_socket_t, short, event_callback_fn, void *, const struct timeval *);

/* Makes an event pending, with an optional timeout (relative). On a pending event, replaces
 * the timeout; NULL keeps the existing one. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_add(struct event *ev, const struct timeval *timeout);

/* Removes only the timeout of a pending event. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_remove_timer(struct event *ev);

/* Makes an event non-pending and non-active. From another thread it waits for the event's
 * running callback to return, unless the event has EV_FINALIZE. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_del(struct event *);

/* event_del that never waits. */
EVENT2_EXPORT_SYMBOL
int event_del_noblock(struct event *ev);

/* event_del that always waits for a callback running in another thread. */
EVENT2_EXPORT_SYMBOL
int event_del_block(struct event *ev);

/* Makes an event active with result res, whether or not it is pending. */
EVENT2_EXPORT_SYMBOL
void event_active(struct event *ev, int res, short ncalls);

/* Which of `events` the event is pending or active on; with EV_TIMEOUT and tv, also the
 * time its timeout expires (wall clock). */
EVENT2_EXPORT_SYMBOL
int event_pending(const struct event *ev, short events, struct timeval *tv);

/* The event whose callback is running in the calling thread's loop, or NULL. */
EVENT2_EXPORT_SYMBOL
struct event *event_base_get_running_event(struct event_base *base);

/* True if the event was assigned (with event_assign, event_set or event_new). */
EVENT2_EXPORT_SYMBOL
int event_initialized(const struct event *ev);

#define event_get_signal(ev) ((int)event_get_fd(ev))

EVENT2_EXPORT_SYMBOL
evutil_socket_t event_get_fd(const struct event *ev);
EVENT2_EXPORT_SYMBOL
struct event_base *event_get_base(const struct event *ev);
EVENT2_EXPORT_SYMBOL
short event_get_events(const struct event *ev);
EVENT2_EXPORT_SYMBOL
event_callback_fn event_get_callback(const struct event *ev);
EVENT2_EXPORT_SYMBOL
void *event_get_callback_arg(const struct event *ev);
EVENT2_EXPORT_SYMBOL
int event_get_priority(const struct event *ev);

/* Everything event_assign was given; any output pointer may be NULL. */
EVENT2_EXPORT_SYMBOL
void event_get_assignment(const struct event *event,
    struct event_base **base_out, evutil_socket_t *fd_out, short *events_out,
    event_callback_fn *callback_out, void **arg_out);

/* sizeof(struct event) inside the library: 128 on LP64. */
EVENT2_EXPORT_SYMBOL
size_t event_get_struct_event_size(void);

/* "2.1.12-stable": reevent reports the libevent version it is compatible with. */
EVENT2_EXPORT_SYMBOL
const char *event_get_version(void);

/* 0x02010c00 (2.1.12). */
EVENT2_EXPORT_SYMBOL
ev_uint32_t event_get_version_number(void);

#define LIBEVENT_VERSION EVENT__VERSION
#define LIBEVENT_VERSION_NUMBER EVENT__NUMERIC_VERSION

/* ---- priorities ------------------------------------------------------------------------ */

#define EVENT_MAX_PRIORITIES 256

/* Sets the number of priorities (1..255; default 1) while no event is active. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int	event_base_priority_init(struct event_base *, int);

EVENT2_EXPORT_SYMBOL
int	event_base_get_npriorities(struct event_base *eb);

/* Sets the priority of a non-active event (0 is the most important). 0 or -1. */
EVENT2_EXPORT_SYMBOL
int	event_priority_set(struct event *, int);

/* ---- timers ---------------------------------------------------------------------------- */

/* Returns a timeval standing for `duration` that event_add recognises: events added with it
 * share one queue, which makes large numbers of identical timeouts cheap. NULL on error. */
EVENT2_EXPORT_SYMBOL
const struct timeval *event_base_init_common_timeout(struct event_base *base,
    const struct timeval *duration);

/* ---- memory ---------------------------------------------------------------------------- */

/* Replaces malloc/realloc/free for every allocation of the library. Call before anything
 * else; all three NULL restores the C library's. */
EVENT2_EXPORT_SYMBOL
void event_set_mem_functions(
	void *(*malloc_fn)(size_t sz),
	void *(*realloc_fn)(void *ptr, size_t sz),
	void (*free_fn)(void *ptr));
#define EVENT_SET_MEM_FUNCTIONS_IMPLEMENTED

/* ---- inspection ------------------------------------------------------------------------ */

/* Writes a human-readable list of the base's events to output. */
EVENT2_EXPORT_SYMBOL
void event_base_dump_events(struct event_base *, FILE *);

/* Activates the events on fd (those waiting for any of `events`) as if the fd were ready. */
EVENT2_EXPORT_SYMBOL
void event_base_active_by_fd(struct event_base *base, evutil_socket_t fd, short events);

/* Activates the events on signal sig as if it had been delivered. */
EVENT2_EXPORT_SYMBOL
void event_base_active_by_signal(struct event_base *base, int sig);

typedef int (*event_base_foreach_event_cb)(const struct event_base *, const struct event *, void *);

/* Calls fn for every pending or active event (including a few internal ones) with the base
 * locked; stops early and returns fn's value when it is nonzero. fn must not modify events. */
EVENT2_EXPORT_SYMBOL
int event_base_foreach_event(struct event_base *base, event_base_foreach_event_cb fn, void *arg);

/* The wall-clock time cached by the loop for this iteration (or the current time when none
 * is cached). 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_base_gettimeofday_cached(struct event_base *base,
    struct timeval *tv);

/* Refreshes the base's cached time. 0 or -1. */
EVENT2_EXPORT_SYMBOL
int event_base_update_cache_time(struct event_base *base);

/* Releases global resources (debug-mode tables); no base may be used afterwards. */
EVENT2_EXPORT_SYMBOL
void libevent_global_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_EVENT_H_INCLUDED_ */
