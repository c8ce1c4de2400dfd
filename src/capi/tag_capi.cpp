// C API of <event2/tag.h>: records on evbuffers, built on the public evbuffer API (this is
// libevent_extra) and the byte formats of src/tag/wire.h. Headers are read from a small
// copied-out window, so reading never rearranges the buffer. NULL buffers get -1 (or
// nothing) instead of the crash libevent gives them.
#include <event2/buffer.h>
#include <event2/tag.h>

#include <cstring>
#include <span>

#include "core/mm_abi.h"
#include "tag/decode_exports.h"
#include "tag/wire.h"

using namespace reevent;

namespace {

// The first bytes of a buffer: enough for a tag and two compact integers.
struct Window {
    uint8_t bytes[16];
    size_t size = 0;

    explicit Window(evbuffer *buf) noexcept {
        ev_ssize_t n = evbuffer_copyout(buf, bytes, sizeof bytes);
        size = n > 0 ? static_cast<size_t>(n) : 0;
    }
    std::span<const uint8_t> from(size_t offset) const noexcept {
        return offset < size ? std::span<const uint8_t>(bytes + offset, size - offset)
                             : std::span<const uint8_t>();
    }
};

int peek_tag(evbuffer *buf, uint32_t *tag) {
    Window w(buf);
    return tag::decode_tag(w.from(0).first(w.size < tag::kMaxTagBytes ? w.size : tag::kMaxTagBytes), tag);
}

// A compact integer starting offset bytes into buf: its size, or -1.
template <class Int>
int peek_compact(evbuffer *buf, size_t offset, Int *out) {
    Window w(buf);
    uint64_t v = 0;
    int n = tag::decode_compact(w.from(offset), sizeof(Int) == 4 ? 8 : 16, &v);
    if (n >= 0) *out = static_cast<Int>(v);
    return n;
}

// A tag then a compact length, both drained; the length, or -1.
int take_header(evbuffer *buf, uint32_t *tag, uint32_t *len) {
    int n = peek_tag(buf, tag);
    if (n < 0) return -1;
    evbuffer_drain(buf, static_cast<size_t>(n));
    n = peek_compact(buf, 0, len);
    if (n < 0) return -1;
    evbuffer_drain(buf, static_cast<size_t>(n));
    return 0;
}

void add_compact(evbuffer *buf, uint64_t value) {
    uint8_t b[tag::kMaxCompact64Bytes];
    evbuffer_add(buf, b, tag::encode_compact(value, b));
}

void add_header(evbuffer *buf, uint32_t t, uint32_t len) {
    uint8_t b[tag::kMaxTagBytes];
    evbuffer_add(buf, b, tag::encode_tag(t, b));
    add_compact(buf, len);
}

// A record whose payload is one compact integer.
void marshal_compact(evbuffer *buf, uint32_t t, uint64_t value) {
    uint8_t b[tag::kMaxCompact64Bytes];
    size_t n = tag::encode_compact(value, b);
    add_header(buf, t, static_cast<uint32_t>(n));
    evbuffer_add(buf, b, n);
}

template <class Int>
int unmarshal_compact(evbuffer *buf, uint32_t need_tag, Int *out) {
    uint32_t t = 0;
    int n = peek_tag(buf, &t);
    if (n < 0) return -1;
    evbuffer_drain(buf, static_cast<size_t>(n));
    if (t != need_tag) return -1;
    uint32_t len = 0;
    n = peek_compact(buf, 0, &len);
    if (n < 0) return -1;
    evbuffer_drain(buf, static_cast<size_t>(n));
    if (evbuffer_get_length(buf) < len) return -1;
    int size = peek_compact(buf, 0, out);
    evbuffer_drain(buf, len);
    return size < 0 || static_cast<uint32_t>(size) > len ? -1 : size;
}

}  // namespace

extern "C" {

void evtag_init(void) {}

int evtag_unmarshal_header(struct evbuffer *evbuf, ev_uint32_t *ptag) {
    if (!evbuf) return -1;
    uint32_t len = 0;
    if (take_header(evbuf, ptag, &len) < 0) return -1;
    if (evbuffer_get_length(evbuf) < len) return -1;
    return static_cast<int>(len);
}

void evtag_marshal(struct evbuffer *evbuf, ev_uint32_t tag, const void *data, ev_uint32_t len) {
    if (!evbuf) return;
    add_header(evbuf, tag, len);
    evbuffer_add(evbuf, data, len);
}

void evtag_marshal_buffer(struct evbuffer *evbuf, ev_uint32_t tag, struct evbuffer *data) {
    if (!evbuf || !data) return;
    add_header(evbuf, tag, static_cast<uint32_t>(evbuffer_get_length(data)));
    evbuffer_add_buffer(evbuf, data);
}

void evtag_encode_int(struct evbuffer *evbuf, ev_uint32_t number) {
    if (evbuf) add_compact(evbuf, number);
}

void evtag_encode_int64(struct evbuffer *evbuf, ev_uint64_t number) {
    if (evbuf) add_compact(evbuf, number);
}

int evtag_encode_tag(struct evbuffer *evbuf, ev_uint32_t tag) {
    uint8_t b[tag::kMaxTagBytes];
    size_t n = tag::encode_tag(tag, b);
    if (evbuf) evbuffer_add(evbuf, b, n);
    return static_cast<int>(n);
}

int evtag_decode_tag(ev_uint32_t *ptag, struct evbuffer *evbuf) {
    if (!evbuf) return -1;
    int n = peek_tag(evbuf, ptag);
    if (n > 0) evbuffer_drain(evbuf, static_cast<size_t>(n));
    return n;
}

int evtag_decode_int(ev_uint32_t *pnumber, struct evbuffer *evbuf) {
    ev_uint32_t v = 0;
    int n = evbuf ? peek_compact(evbuf, 0, &v) : -1;
    if (n < 0) return -1;
    evbuffer_drain(evbuf, static_cast<size_t>(n));
    if (pnumber) *pnumber = v;
    return 0;
}

int evtag_decode_int64(ev_uint64_t *pnumber, struct evbuffer *evbuf) {
    ev_uint64_t v = 0;
    int n = evbuf ? peek_compact(evbuf, 0, &v) : -1;
    if (n < 0) return -1;
    evbuffer_drain(evbuf, static_cast<size_t>(n));
    if (pnumber) *pnumber = v;
    return 0;
}

void evtag_marshal_int(struct evbuffer *evbuf, ev_uint32_t tag, ev_uint32_t integer) {
    if (evbuf) marshal_compact(evbuf, tag, integer);
}

void evtag_marshal_int64(struct evbuffer *evbuf, ev_uint32_t tag, ev_uint64_t integer) {
    if (evbuf) marshal_compact(evbuf, tag, integer);
}

void evtag_marshal_string(struct evbuffer *buf, ev_uint32_t tag, const char *string) {
    if (!buf || !string) return;
    evtag_marshal(buf, tag, string, static_cast<ev_uint32_t>(std::strlen(string)));
}

void evtag_marshal_timeval(struct evbuffer *evbuf, ev_uint32_t tag, struct timeval *tv) {
    if (!evbuf || !tv) return;
    // Both fields as 32-bit compact integers, back to back.
    uint8_t sec[tag::kMaxCompact64Bytes], usec[tag::kMaxCompact64Bytes];
    size_t n = tag::encode_compact(static_cast<uint32_t>(tv->tv_sec), sec);
    size_t m = tag::encode_compact(static_cast<uint32_t>(tv->tv_usec), usec);
    uint8_t b[2 * tag::kMaxCompact64Bytes];
    std::memcpy(b, sec, n);
    std::memcpy(b + n, usec, m);
    evtag_marshal(evbuf, tag, b, static_cast<ev_uint32_t>(n + m));
}

int evtag_unmarshal(struct evbuffer *src, ev_uint32_t *ptag, struct evbuffer *dst) {
    if (!src || !dst) return -1;
    int len = evtag_unmarshal_header(src, ptag);
    if (len < 0) return -1;
    if (evbuffer_remove_buffer(src, dst, static_cast<size_t>(len)) != len) return -1;
    return len;
}

int evtag_peek(struct evbuffer *evbuf, ev_uint32_t *ptag) {
    if (!evbuf) return -1;
    return peek_tag(evbuf, ptag);
}

int evtag_peek_length(struct evbuffer *evbuf, ev_uint32_t *plength) {
    if (!evbuf || !plength) return -1;
    int tag_size = peek_tag(evbuf, nullptr);
    if (tag_size < 0) return -1;
    int len_size = peek_compact(evbuf, static_cast<size_t>(tag_size), plength);
    if (len_size < 0) return -1;
    *plength += static_cast<uint32_t>(tag_size + len_size);
    return 0;
}

int evtag_payload_length(struct evbuffer *evbuf, ev_uint32_t *plength) {
    if (!evbuf || !plength) return -1;
    int tag_size = peek_tag(evbuf, nullptr);
    if (tag_size < 0) return -1;
    return peek_compact(evbuf, static_cast<size_t>(tag_size), plength) < 0 ? -1 : 0;
}

int evtag_consume(struct evbuffer *evbuf) {
    // As libevent: the header is read (and drained) first, so a record cut short loses its
    // header and fails.
    int len = evtag_unmarshal_header(evbuf, nullptr);
    if (len < 0) return -1;
    evbuffer_drain(evbuf, static_cast<size_t>(len));
    return 0;
}

int evtag_unmarshal_int(struct evbuffer *evbuf, ev_uint32_t need_tag, ev_uint32_t *pinteger) {
    if (!evbuf || !pinteger) return -1;
    return unmarshal_compact(evbuf, need_tag, pinteger);
}

int evtag_unmarshal_int64(struct evbuffer *evbuf, ev_uint32_t need_tag, ev_uint64_t *pinteger) {
    if (!evbuf || !pinteger) return -1;
    return unmarshal_compact(evbuf, need_tag, pinteger);
}

int evtag_unmarshal_fixed(struct evbuffer *src, ev_uint32_t need_tag, void *data, size_t len) {
    if (!src) return -1;
    uint32_t t = 0;
    int got = evtag_unmarshal_header(src, &t);
    if (got < 0 || t != need_tag || static_cast<size_t>(got) != len) return -1;
    evbuffer_remove(src, data, len);
    return 0;
}

int evtag_unmarshal_string(struct evbuffer *evbuf, ev_uint32_t need_tag, char **pstring) {
    if (!evbuf || !pstring) return -1;
    uint32_t t = 0;
    int len = evtag_unmarshal_header(evbuf, &t);
    if (len < 0 || t != need_tag) return -1;
    auto *s = static_cast<char *>(event_mm_malloc_(static_cast<size_t>(len) + 1));
    *pstring = s;
    if (!s) return -1;
    evbuffer_remove(evbuf, s, static_cast<size_t>(len));
    s[len] = '\0';
    return 0;
}

int evtag_unmarshal_timeval(struct evbuffer *evbuf, ev_uint32_t need_tag, struct timeval *ptv) {
    if (!evbuf || !ptv) return -1;
    uint32_t t = 0;
    int len = evtag_unmarshal_header(evbuf, &t);
    if (len < 0) return -1;
    // The fields are read wherever they lie (even past a too-short record); the record is
    // drained in any case.
    int result = -1;
    uint32_t v = 0;
    int sec_size = -1, usec_size = -1;
    if (t == need_tag && (sec_size = peek_compact(evbuf, 0, &v)) >= 0) {
        ptv->tv_sec = v;
        if ((usec_size = peek_compact(evbuf, static_cast<size_t>(sec_size), &v)) >= 0) {
            ptv->tv_usec = v;
            if (sec_size + usec_size <= len) result = 0;
        }
    }
    evbuffer_drain(evbuf, static_cast<size_t>(len));
    return result;
}

}  // extern "C"
