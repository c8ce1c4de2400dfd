// Entry points core exports for its add-on libraries beyond memory (see mm_abi.h): the hook
// through which libevent_extra's evdns offers core an asynchronous getaddrinfo, used by
// bufferevent_socket_connect_hostname when given an evdns_base, and the general log
// (event_set_log_callback's function, or stderr) for evdns messages when no evdns log
// function is set. They carry the names libevent 2.1's core exports for the same purposes,
// so no reevent-specific name is exported.
#pragma once

#include <event2/util.h>

#if defined(__GNUC__)
#define REEVENT_ADDON_ABI __attribute__((visibility("default")))
#else
#define REEVENT_ADDON_ABI
#endif

#ifdef __cplusplus
extern "C" {
#endif

struct evdns_base;
struct evdns_getaddrinfo_request;
typedef void (*reevent_gai_cb)(int result, struct evutil_addrinfo *res, void *arg);
// evdns_getaddrinfo's shape: answers inside the call (returning NULL) or later from the loop.
typedef struct evdns_getaddrinfo_request *(*reevent_gai_fn)(struct evdns_base *base, const char *node,
                                                            const char *service,
                                                            const struct evutil_addrinfo *hints,
                                                            reevent_gai_cb cb, void *arg);
typedef void (*reevent_gai_cancel_fn)(struct evdns_getaddrinfo_request *req);

// Set by libevent_extra whenever an evdns_base is made (the same functions every time).
REEVENT_ADDON_ABI void evutil_set_evdns_getaddrinfo_fn_(reevent_gai_fn fn);
REEVENT_ADDON_ABI void evutil_set_evdns_getaddrinfo_cancel_fn_(reevent_gai_cancel_fn fn);

// libevent's exported (header-less) getter of the installed lock callbacks (thread_capi.cpp):
// evdns allocates its base's lock with them, as libevent does, only when they are set.
struct evthread_lock_callbacks;
REEVENT_ADDON_ABI struct evthread_lock_callbacks *evthread_get_lock_callbacks(void);

// The general log at EVENT_LOG_WARN / EVENT_LOG_MSG.
REEVENT_ADDON_ABI void event_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
REEVENT_ADDON_ABI void event_msgx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}

namespace reevent::addon {
// What was registered (null until libevent_extra made an evdns_base).
reevent_gai_fn evdns_getaddrinfo_fn() noexcept;
reevent_gai_cancel_fn evdns_getaddrinfo_cancel_fn() noexcept;
}  // namespace reevent::addon
#endif
