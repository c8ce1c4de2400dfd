/* reevent: symbol visibility for the public API (libevent 2.1 compatible).
 *
 * The library is compiled with -fvisibility=hidden; every public declaration carries
 * EVENT2_EXPORT_SYMBOL, which gives it default visibility while reevent itself is being
 * built and expands to nothing for callers. */
#ifndef EVENT2_VISIBILITY_H_INCLUDED_
#define EVENT2_VISIBILITY_H_INCLUDED_

#include <event2/event-config.h>

#if defined(REEVENT_BUILDING_LIBRARY) && defined(__GNUC__)
#define EVENT2_EXPORT_SYMBOL __attribute__((visibility("default")))
#else
#define EVENT2_EXPORT_SYMBOL
#endif

#ifndef EVENT2_CORE_EXPORT_SYMBOL
#define EVENT2_CORE_EXPORT_SYMBOL EVENT2_EXPORT_SYMBOL
#endif

#endif /* EVENT2_VISIBILITY_H_INCLUDED_ */
