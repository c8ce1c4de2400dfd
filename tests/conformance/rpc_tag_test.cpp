// The four evtag functions libevent_extra exports without declaring them in <event2/tag.h>
// (event_rpcgen.py's generated code calls them), declared here as libevent defines them.
#include <event2/buffer.h>
#include <event2/tag.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

extern "C" {
int evtag_decode_int(ev_uint32_t *pnumber, struct evbuffer *evbuf);
int evtag_decode_int64(ev_uint64_t *pnumber, struct evbuffer *evbuf);
int evtag_decode_tag(ev_uint32_t *ptag, struct evbuffer *evbuf);
int evtag_encode_tag(struct evbuffer *evbuf, ev_uint32_t tag);
}

namespace {

std::vector<uint8_t> bytes_of(evbuffer *b) {
    std::vector<uint8_t> v(evbuffer_get_length(b));
    evbuffer_copyout(b, v.data(), v.size());
    return v;
}

TEST(RpcTagHelpers, EncodeTagWritesSevenBitGroupsAndCountsThem) {
    evbuffer *b = evbuffer_new();
    EXPECT_EQ(evtag_encode_tag(b, 5), 1);
    EXPECT_EQ(evtag_encode_tag(b, 300), 2);
    EXPECT_EQ(bytes_of(b), (std::vector<uint8_t>{0x05, 0xac, 0x02}));
    // No buffer: only the size.
    EXPECT_EQ(evtag_encode_tag(nullptr, 0xffffffffu), 5);
    evbuffer_free(b);
}

TEST(RpcTagHelpers, DecodeTagDrainsWhatItRead) {
    evbuffer *b = evbuffer_new();
    evtag_encode_tag(b, 300);
    evbuffer_add(b, "x", 1);
    ev_uint32_t t = 0;
    EXPECT_EQ(evtag_decode_tag(&t, b), 2);
    EXPECT_EQ(t, 300u);
    EXPECT_EQ(evbuffer_get_length(b), 1u);
    evbuffer_drain(b, 1);
    EXPECT_EQ(evtag_decode_tag(&t, b), -1);  // empty
    const uint8_t cut[] = {0x80};
    evbuffer_add(b, cut, 1);
    EXPECT_EQ(evtag_decode_tag(&t, b), -1);  // the tag goes on past the end
    EXPECT_EQ(evbuffer_get_length(b), 1u);
    evbuffer_free(b);
}

TEST(RpcTagHelpers, DecodeIntAndInt64ReadCompactIntegers) {
    evbuffer *b = evbuffer_new();
    evtag_encode_int(b, 0x1234);
    evtag_encode_int64(b, 0x123456789abcULL);
    evbuffer_add(b, "z", 1);
    ev_uint32_t v32 = 0;
    ev_uint64_t v64 = 0;
    EXPECT_EQ(evtag_decode_int(&v32, b), 0);
    EXPECT_EQ(v32, 0x1234u);
    EXPECT_EQ(evtag_decode_int64(&v64, b), 0);
    EXPECT_EQ(v64, 0x123456789abcULL);
    EXPECT_EQ(evbuffer_get_length(b), 1u);
    evbuffer_drain(b, 1);
    EXPECT_EQ(evtag_decode_int(&v32, b), -1);
    EXPECT_EQ(evtag_decode_int64(&v64, b), -1);
    // A 64-bit number is too long for decode_int.
    evtag_encode_int64(b, 0x123456789abcULL);
    size_t len = evbuffer_get_length(b);
    EXPECT_EQ(evtag_decode_int(&v32, b), -1);
    EXPECT_EQ(evbuffer_get_length(b), len);
    evbuffer_free(b);
}

}  // namespace
