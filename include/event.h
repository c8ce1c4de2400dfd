/* reevent: the 1.x compatibility header. Old programs include <event.h> and get the whole
 * 2.x core API plus its compat layers, as with libevent 2.1. (libevent's version also pulls
 * in tag.h and tag_compat.h; evtag is not implemented in reevent yet.) */
#ifndef EVENT1_EVENT_H_INCLUDED_
#define EVENT1_EVENT_H_INCLUDED_

#include <event2/event-config.h>
#include <sys/types.h>
#include <sys/time.h>
#include <stdint.h>
#include <stdarg.h>

#include <evutil.h>

#include <event2/event_struct.h>
#include <event2/event.h>
#include <event2/event_compat.h>
#include <event2/buffer.h>
#include <event2/buffer_compat.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
#include <event2/bufferevent_compat.h>

#endif /* EVENT1_EVENT_H_INCLUDED_ */
