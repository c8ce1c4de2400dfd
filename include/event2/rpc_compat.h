/* reevent: the older, variadic spellings of the message accessor macros (libevent 2.1
 * <event2/rpc_compat.h>). */
#ifndef EVENT2_RPC_COMPAT_H_INCLUDED_
#define EVENT2_RPC_COMPAT_H_INCLUDED_

#ifdef __cplusplus
extern "C" {
#endif

/* GNU named variadic arguments: one macro covers both the plain and the _WITH_LEN forms. */
#if defined(__GNUC__) && !defined(__STRICT_ANSI__)
#undef EVTAG_ASSIGN
#undef EVTAG_GET
#undef EVTAG_ADD
#define EVTAG_ASSIGN(msg, member, args...) (*(msg)->base->member##_assign)(msg, ##args)
#define EVTAG_GET(msg, member, args...) (*(msg)->base->member##_get)(msg, ##args)
#define EVTAG_ADD(msg, member, args...) (*(msg)->base->member##_add)(msg, ##args)
#endif
#define EVTAG_LEN(msg, member) ((msg)->member##_length)

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_RPC_COMPAT_H_INCLUDED_ */
