// libevent_extra's two Transfer-Encoding helpers that Debian's libevent 2.1.12-stable-8+deb12u1
// exports with its request-smuggling fix (no public header declares them; the prototypes and
// the answer values are those of that build): whether a coding is "chunked", and whether a
// Transfer-Encoding value has "chunked" last, nowhere, or before another coding. libevent's
// own regress http group calls them (http/is_chunked, http/check_transfer_encoding).
#include <gtest/gtest.h>

#include <cstring>
#include <initializer_list>

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

// Each value, read to its end (no end pointer), is or is not the coding "chunked".
void expect_chunked(std::initializer_list<const char *> values, bool chunked) {
    for (const char *v : values)
        EXPECT_EQ(evhttp_str_is_chunked_(v, nullptr) != 0, chunked) << '"' << v << '"';
}

// Each Transfer-Encoding value gets the status `want`.
void expect_status(std::initializer_list<const char *> values,
                   evhttp_transfer_encoding_header_status want) {
    for (const char *v : values)
        EXPECT_EQ(evhttp_check_transfer_encoding_(v), want) << '"' << v << '"';
}

TEST(HttpTransferCoding, ChunkedInAnyCaseWithSpacesAndParameters) {
    expect_chunked({"chunked", "Chunked", "CHUNKED", "\t chunked\t ", "chunked;q=1",
                    "  chunked ;level=2",
                    // Only the first word is the coding's name; what follows it is not examined.
                    "chunked trailing words"},
                   true);
}

TEST(HttpTransferCoding, OtherNamesAreNotChunked) {
    expect_chunked({"", "   ", "gzip", "chunk", "chunkedness", "x-chunked", "deflate chunked",
                    "gzip;chunked"},
                   false);
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
    expect_status({"gzip", "deflate, gzip", "", "x-chunked, chunkedish"}, TE_NO_CHUNKED);
}

TEST(HttpTransferCoding, ChunkedAsTheLastCoding) {
    expect_status({"chunked", "gzip, chunked", "br,deflate,CHUNKED\t",
                   " , chunked"},  // an empty element before it does not matter
                  TE_ENDS_IN_CHUNKED);
}

TEST(HttpTransferCoding, ChunkedBeforeAnotherCodingIsInvalid) {
    expect_status({"chunked, gzip", "gzip, chunked, br", "chunked, chunked",
                   // Even an empty element after it.
                   "chunked,", "gzip, chunked ,  "},
                  TE_INVALID);
}

}  // namespace
