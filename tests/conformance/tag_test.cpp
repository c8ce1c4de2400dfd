// <event2/tag.h>: tagged records on evbuffers. Byte layouts are checked literally (they are
// a wire format other programs read), then every reader on good, mismatched and cut-short
// records. Pure buffer work, so no backend parameter. The random differential test against
// libevent is tests/fuzz/tag_fuzz.cpp (ctest: unit.TagDiff.*).
#include <event2/buffer.h>
#include <event2/tag.h>
#include <event2/tag_compat.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

class Tag : public ::testing::Test {
protected:
    void SetUp() override { buf_ = evbuffer_new(); }
    void TearDown() override { evbuffer_free(buf_); }

    std::string bytes() const {
        std::string s(evbuffer_get_length(buf_), '\0');
        evbuffer_copyout(buf_, s.data(), s.size());
        return s;
    }
    void put(const std::string &s) { evbuffer_add(buf_, s.data(), s.size()); }

    evbuffer *buf_ = nullptr;
};

TEST_F(Tag, CompactIntegersCountTheirNibblesInTheFirstHalfByte) {
    evtag_encode_int(buf_, 0);
    EXPECT_EQ(bytes(), std::string("\x00", 1));
    evbuffer_drain(buf_, 100);
    evtag_encode_int(buf_, 0xf);
    EXPECT_EQ(bytes(), "\x0f");
    evbuffer_drain(buf_, 100);
    evtag_encode_int(buf_, 0x1234);
    // four nibbles: count 3 and the lowest nibble share the first byte, then the rest go
    // high half first: 0x3_ and _2, 0x1_
    EXPECT_EQ(bytes(), "\x34\x32\x10");
    evbuffer_drain(buf_, 100);
    evtag_encode_int(buf_, 0xffffffffu);
    EXPECT_EQ(bytes(), "\x7f\xff\xff\xff\xf0");
    evbuffer_drain(buf_, 100);
    evtag_encode_int64(buf_, 0x123456789abcdef0ull);
    EXPECT_EQ(bytes(), "\xf0\xfe\xdc\xba\x98\x76\x54\x32\x10");
    evbuffer_drain(buf_, 100);
    encode_int(buf_, 5);  // tag_compat.h's old name
    EXPECT_EQ(bytes(), "\x05");
}

TEST_F(Tag, RecordsAreTagLengthPayload) {
    evtag_marshal(buf_, 1, "abc", 3);
    evtag_marshal_string(buf_, 200, "hi");  // tag 200 takes two 7-bit groups
    EXPECT_EQ(bytes(), std::string("\x01\x03" "abc" "\xc8\x01\x02" "hi", 10));
    evbuffer_drain(buf_, 100);
    evtag_marshal_int(buf_, 2, 0x1234);
    EXPECT_EQ(bytes(), "\x02\x03\x34\x32\x10");
    evbuffer_drain(buf_, 100);
    struct timeval tv = {0x12, 0x345};
    evtag_marshal_timeval(buf_, 3, &tv);
    EXPECT_EQ(bytes(), "\x03\x04\x12\x10\x25\x43");
    evbuffer_drain(buf_, 100);
    evbuffer *payload = evbuffer_new();
    evbuffer_add(payload, "xyz", 3);
    evtag_marshal_buffer(buf_, 4, payload);
    EXPECT_EQ(evbuffer_get_length(payload), 0u);  // moved
    EXPECT_EQ(bytes(), "\x04\x03xyz");
    evbuffer_free(payload);
}

TEST_F(Tag, IntegersRoundTripAtEverySize) {
    const ev_uint64_t values[] = {0, 1, 15, 16, 255, 256, 0xffff, 0x10000, 0xffffffffull,
                                  0x100000000ull, 0xffffffffffffffffull};
    for (ev_uint64_t v : values) {
        SCOPED_TRACE(v);
        evtag_marshal_int64(buf_, 9, v);
        ev_uint64_t got = 0;
        EXPECT_GT(evtag_unmarshal_int64(buf_, 9, &got), 0);
        EXPECT_EQ(got, v);
        if (v <= 0xffffffffull) {
            evtag_marshal_int(buf_, 8, static_cast<ev_uint32_t>(v));
            ev_uint32_t got32 = 0;
            EXPECT_GT(evtag_unmarshal_int(buf_, 8, &got32), 0);
            EXPECT_EQ(got32, v);
        }
        EXPECT_EQ(evbuffer_get_length(buf_), 0u);
    }
}

TEST_F(Tag, PeeksLeaveTheBufferAlone) {
    evtag_marshal(buf_, 300, "hello", 5);
    std::string before = bytes();
    ev_uint32_t tag = 0, len = 0;
    EXPECT_EQ(evtag_peek(buf_, &tag), 2);  // the tag's own size
    EXPECT_EQ(tag, 300u);
    EXPECT_EQ(evtag_payload_length(buf_, &len), 0);
    EXPECT_EQ(len, 5u);
    EXPECT_EQ(evtag_peek_length(buf_, &len), 0);
    EXPECT_EQ(len, 8u);  // 2 + 1 + 5
    EXPECT_EQ(bytes(), before);
    EXPECT_EQ(evtag_consume(buf_), 0);
    EXPECT_EQ(evbuffer_get_length(buf_), 0u);
    EXPECT_EQ(evtag_peek(buf_, &tag), -1);  // nothing there
}

TEST_F(Tag, UnmarshalMovesThePayload) {
    evtag_marshal(buf_, 7, "data", 4);
    evtag_marshal_string(buf_, 8, "text");
    evbuffer *dst = evbuffer_new();
    ev_uint32_t tag = 0;
    EXPECT_EQ(evtag_unmarshal(buf_, &tag, dst), 4);
    EXPECT_EQ(tag, 7u);
    char out[5] = {0};
    evbuffer_remove(dst, out, 4);
    EXPECT_STREQ(out, "data");
    char *s = nullptr;
    EXPECT_EQ(evtag_unmarshal_string(buf_, 8, &s), 0);
    EXPECT_STREQ(s, "text");
    std::free(s);
    evbuffer_free(dst);
}

TEST_F(Tag, FixedAndTimevalChecksTheirRecord) {
    evtag_marshal(buf_, 5, "abcd", 4);
    char four[4];
    EXPECT_EQ(evtag_unmarshal_fixed(buf_, 5, four, 4), 0);
    EXPECT_EQ(std::memcmp(four, "abcd", 4), 0);
    evtag_marshal(buf_, 5, "abcd", 4);
    EXPECT_EQ(evtag_unmarshal_fixed(buf_, 5, four, 3), -1);  // wrong size: header gone, payload left
    EXPECT_EQ(bytes(), "abcd");
    evbuffer_drain(buf_, 100);
    struct timeval in = {1700000000, 999999}, out = {0, 0};
    evtag_marshal_timeval(buf_, 6, &in);
    EXPECT_EQ(evtag_unmarshal_timeval(buf_, 6, &out), 0);
    EXPECT_EQ(out.tv_sec, in.tv_sec);
    EXPECT_EQ(out.tv_usec, in.tv_usec);
    evtag_marshal_timeval(buf_, 6, &in);
    EXPECT_EQ(evtag_unmarshal_timeval(buf_, 7, &out), -1);  // wrong tag: the record is dropped
    EXPECT_EQ(evbuffer_get_length(buf_), 0u);
}

TEST_F(Tag, AWrongTagFailsAfterTheTagIsRead) {
    evtag_marshal_int(buf_, 1, 42);
    ev_uint32_t v = 0;
    EXPECT_EQ(evtag_unmarshal_int(buf_, 2, &v), -1);
    EXPECT_EQ(bytes(), "\x02\x1a\x20");  // length and payload are still there
    evbuffer_drain(buf_, 100);
    evtag_marshal_string(buf_, 1, "x");
    char *s = nullptr;
    EXPECT_EQ(evtag_unmarshal_string(buf_, 2, &s), -1);
    EXPECT_EQ(bytes(), "x");  // the header went, the payload stays
}

TEST_F(Tag, CutShortOrOverlongHeadersAreRefused) {
    put("\x81");  // a tag that says more follows
    ev_uint32_t tag = 0, len = 0;
    EXPECT_EQ(evtag_peek(buf_, &tag), -1);
    evbuffer_drain(buf_, 100);
    put("\xff\xff\xff\xff\x1f");  // 35 bits: does not fit a 32-bit tag
    EXPECT_EQ(evtag_peek(buf_, &tag), -1);
    evbuffer_drain(buf_, 100);
    put("\xff\xff\xff\xff\x0f");  // exactly 32 bits
    EXPECT_EQ(evtag_peek(buf_, &tag), 5);
    EXPECT_EQ(tag, 0xffffffffu);
    evbuffer_drain(buf_, 100);
    put("\x01\x05" "ab");  // announces 5 payload bytes, holds 2
    EXPECT_EQ(evtag_peek_length(buf_, &len), 0);
    EXPECT_EQ(len, 7u);
    EXPECT_EQ(evtag_unmarshal_header(buf_, &tag), -1);
    EXPECT_EQ(bytes(), "ab");  // the header is consumed even so
    evbuffer_drain(buf_, 100);
    put("\x01\x05" "ab");
    EXPECT_EQ(evtag_consume(buf_), -1);
    evbuffer_drain(buf_, 100);
    put("\x01\x90");  // a length whose compact form needs two bytes, cut after one
    EXPECT_EQ(evtag_payload_length(buf_, &len), -1);
}

}  // namespace
