// libevent_extra's two Transfer-Encoding helpers that Debian's libevent 2.1.12-stable-8+deb12u1
// exports with its request-smuggling fix (no public header declares them; the prototypes and
// the answer values are those of that build): whether a coding is "chunked", and whether a
// Transfer-Encoding value has "chunked" last, nowhere, or before another coding. libevent's
// own regress http group calls them (http/is_chunked, http/check_transfer_encoding).
#include <gtest/gtest.h>

#include <cstring>

extern "C" {
enum evhttp_transfer_encoding_header_status {
    TE_INVALID = 0,
    TE_ENDS_IN_CHUNKED = 1,
    TE_NO_CHUNKED = 2
};
int evhttp_str_is_chunked_(const char *value, const char *eos);
enum evhttp_transfer_encoding_header_status evhttp_check_transfer_encoding_(const char *value);
}

namespace {

TEST(HttpTransferCoding, ChunkedInAnyCaseWithSpacesAndParameters) {
    EXPECT_TRUE(evhttp_str_is_chunked_("chunked", nullptr));
    EXPECT_TRUE(evhttp_str_is_chunked_("Chunked", nullptr));
    EXPECT_TRUE(evhttp_str_is_chunked_("CHUNKED", nullptr));
    EXPECT_TRUE(evhttp_str_is_chunked_("\t chunked\t ", nullptr));
    EXPECT_TRUE(evhttp_str_is_chunked_("chunked;q=1", nullptr));
    EXPECT_TRUE(evhttp_str_is_chunked_("  chunked ;level=2", nullptr));
    // Only the first word is the coding's name; what follows it is not examined.
    EXPECT_TRUE(evhttp_str_is_chunked_("chunked trailing words", nullptr));
}

TEST(HttpTransferCoding, OtherNamesAreNotChunked) {
    EXPECT_FALSE(evhttp_str_is_chunked_("", nullptr));
    EXPECT_FALSE(evhttp_str_is_chunked_("   ", nullptr));
    EXPECT_FALSE(evhttp_str_is_chunked_("gzip", nullptr));
    EXPECT_FALSE(evhttp_str_is_chunked_("chunk", nullptr));
    EXPECT_FALSE(evhttp_str_is_chunked_("chunkedness", nullptr));
    EXPECT_FALSE(evhttp_str_is_chunked_("x-chunked", nullptr));
    EXPECT_FALSE(evhttp_str_is_chunked_("deflate chunked", nullptr));
    EXPECT_FALSE(evhttp_str_is_chunked_("gzip;chunked", nullptr));
}

TEST(HttpTransferCoding, EndPointerBoundsTheCoding) {
    const char *list = "chunked,gzip";
    EXPECT_TRUE(evhttp_str_is_chunked_(list, std::strchr(list, ',')));
    EXPECT_FALSE(evhttp_str_is_chunked_(list, list + 5));  // "chunk"
    const char *spaced = " chunked , br";
    EXPECT_TRUE(evhttp_str_is_chunked_(spaced, std::strchr(spaced, ',')));
    const char *longer = "chunkedgzip";
    EXPECT_TRUE(evhttp_str_is_chunked_(longer, longer + 7));
    EXPECT_FALSE(evhttp_str_is_chunked_(longer, nullptr));
}

TEST(HttpTransferCoding, ValueWithoutChunked) {
    EXPECT_EQ(evhttp_check_transfer_encoding_("gzip"), TE_NO_CHUNKED);
    EXPECT_EQ(evhttp_check_transfer_encoding_("deflate, gzip"), TE_NO_CHUNKED);
    EXPECT_EQ(evhttp_check_transfer_encoding_(""), TE_NO_CHUNKED);
    EXPECT_EQ(evhttp_check_transfer_encoding_("x-chunked, chunkedish"), TE_NO_CHUNKED);
}

TEST(HttpTransferCoding, ChunkedAsTheLastCoding) {
    EXPECT_EQ(evhttp_check_transfer_encoding_("chunked"), TE_ENDS_IN_CHUNKED);
    EXPECT_EQ(evhttp_check_transfer_encoding_("gzip, chunked"), TE_ENDS_IN_CHUNKED);
    EXPECT_EQ(evhttp_check_transfer_encoding_("br,deflate,CHUNKED\t"), TE_ENDS_IN_CHUNKED);
    // An empty element before it does not matter.
    EXPECT_EQ(evhttp_check_transfer_encoding_(" , chunked"), TE_ENDS_IN_CHUNKED);
}

TEST(HttpTransferCoding, ChunkedBeforeAnotherCodingIsInvalid) {
    EXPECT_EQ(evhttp_check_transfer_encoding_("chunked, gzip"), TE_INVALID);
    EXPECT_EQ(evhttp_check_transfer_encoding_("gzip, chunked, br"), TE_INVALID);
    EXPECT_EQ(evhttp_check_transfer_encoding_("chunked, chunked"), TE_INVALID);
    // Even an empty element after it.
    EXPECT_EQ(evhttp_check_transfer_encoding_("chunked,"), TE_INVALID);
    EXPECT_EQ(evhttp_check_transfer_encoding_("gzip, chunked ,  "), TE_INVALID);
}

}  // namespace
