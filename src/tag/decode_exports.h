// Four evtag functions libevent_extra exports without declaring them in <event2/tag.h>:
// event_rpcgen.py's generated code and libevent's tests call them, so we export them too
// (same signatures). Defined in capi/tag_capi.cpp next to the declared ones.
#pragma once

#include <event2/util.h>
#include <event2/visibility.h>

struct evbuffer;

extern "C" {

// Reads and drains a compact integer from the front; 0, or -1 when there is none.
EVENT2_EXPORT_SYMBOL int evtag_decode_int(ev_uint32_t *pnumber, struct evbuffer *evbuf);
EVENT2_EXPORT_SYMBOL int evtag_decode_int64(ev_uint64_t *pnumber, struct evbuffer *evbuf);
// Reads and drains a tag from the front; its size in bytes, or -1.
EVENT2_EXPORT_SYMBOL int evtag_decode_tag(ev_uint32_t *ptag, struct evbuffer *evbuf);
// Appends a tag (when evbuf is not NULL); its size in bytes.
EVENT2_EXPORT_SYMBOL int evtag_encode_tag(struct evbuffer *evbuf, ev_uint32_t tag);

}
