/* reevent: the libevent 1.x API (libevent 2.1 <event2/event_compat.h>, compatible).
 *
 * These functions act on the "current" base: the one made by the last event_init(). Events
 * prepared with event_set() before any event_init() have no base until event_base_set(). */
#ifndef EVENT2_EVENT_COMPAT_H_INCLUDED_
#define EVENT2_EVENT_COMPAT_H_INCLUDED_

#include <event2/visibility.h>

#ifdef __cplusplus
extern "C" {
#endif

#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>

#include <event2/util.h>

struct event;
struct event_base;

/* Creates a base and makes it the current base. */
EVENT2_EXPORT_SYMBOL
struct event_base *event_init(void);

/* event_base_dispatch on the current base. */
EVENT2_EXPORT_SYMBOL
int event_dispatch(void);

/* event_base_loop on the current base. */
EVENT2_EXPORT_SYMBOL
int event_loop(int);

/* event_base_loopexit on the current base. */
EVENT2_EXPORT_SYMBOL
int event_loopexit(const struct timeval *);

/* event_base_loopbreak on the current base. */
EVENT2_EXPORT_SYMBOL
int event_loopbreak(void);

/* event_base_once on the current base. */
EVENT2_EXPORT_SYMBOL
int event_once(evutil_socket_t , short,
    void (*)(evutil_socket_t, short, void *), void *, const struct timeval *);

/* event_base_get_method of the current base. */
EVENT2_EXPORT_SYMBOL
const char *event_get_method(void);

/* event_base_priority_init on the current base. */
EVENT2_EXPORT_SYMBOL
int	event_priority_init(int);

/* event_assign with the current base (NULL before any event_init). */
EVENT2_EXPORT_SYMBOL
void event_set(struct event *, evutil_socket_t, short, void (*)(evutil_socket_t, short, void *), void *);

#define evtimer_set(ev, cb, arg)	event_set((ev), -1, 0, (cb), (arg))
#define evsignal_set(ev, x, cb, arg)	\
	event_set((ev), (x), EV_SIGNAL|EV_PERSIST, (cb), (arg))

/* Old names of the evtimer_ macros. */
#define timeout_add(ev, tv)		event_add((ev), (tv))
#define timeout_set(ev, cb, arg)	event_set((ev), -1, 0, (cb), (arg))
#define timeout_del(ev)			event_del(ev)
#define timeout_pending(ev, tv)		event_pending((ev), EV_TIMEOUT, (tv))
#define timeout_initialized(ev)		event_initialized(ev)

/* Old names of the evsignal_ macros. */
#define signal_add(ev, tv)		event_add((ev), (tv))
#define signal_set(ev, x, cb, arg)				\
	event_set((ev), (x), EV_SIGNAL|EV_PERSIST, (cb), (arg))
#define signal_del(ev)			event_del(ev)
#define signal_pending(ev, tv)		event_pending((ev), EV_SIGNAL, (tv))
#define signal_initialized(ev)		event_initialized(ev)

#ifndef EVENT_FD
/* Obsolete accessors; use event_get_fd / event_get_signal. */
#define EVENT_FD(ev)		((int)event_get_fd(ev))
#define EVENT_SIGNAL(ev)	event_get_signal(ev)
#endif

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_EVENT_COMPAT_H_INCLUDED_ */
