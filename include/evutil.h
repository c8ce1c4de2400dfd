/* reevent: 1.x compatibility header; everything lives in <event2/util.h> now. */
#ifndef EVENT1_EVUTIL_H_INCLUDED_
#define EVENT1_EVUTIL_H_INCLUDED_

#include <event2/util.h>

#endif /* EVENT1_EVUTIL_H_INCLUDED_ */
