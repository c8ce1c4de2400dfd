/* reevent's own version, apart from the libevent version it is compatible with
 * (event_get_version() reports "2.1.12-stable" because programs compare against it). */
#ifndef REEVENT_VERSION_H_INCLUDED_
#define REEVENT_VERSION_H_INCLUDED_

#define REEVENT_VERSION_MAJOR 0
#define REEVENT_VERSION_MINOR 1
#define REEVENT_VERSION_PATCH 0
#define REEVENT_VERSION "0.1.0"
/* 0xMMmmpp00, ordered like LIBEVENT_VERSION_NUMBER. */
#define REEVENT_VERSION_NUMBER 0x00010000

#endif /* REEVENT_VERSION_H_INCLUDED_ */
