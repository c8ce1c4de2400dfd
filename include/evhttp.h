/* reevent: the libevent 1.x HTTP header, kept for old programs. New code includes
 * <event2/http.h> (and <event2/http_struct.h> to read requests' members). */
#ifndef EVENT1_EVHTTP_H_INCLUDED_
#define EVENT1_EVHTTP_H_INCLUDED_

#include <event.h>
#include <event2/http.h>
#include <event2/http_compat.h>
#include <event2/http_struct.h>

#endif /* EVENT1_EVHTTP_H_INCLUDED_ */
