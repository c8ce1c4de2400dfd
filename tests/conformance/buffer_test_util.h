// Helpers shared by the evbuffer conformance tests (public API only).
#pragma once

#include <event2/buffer.h>
// libevent's buffer_compat.h has no extern "C" block of its own.
extern "C" {
#include <event2/buffer_compat.h>
}
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace buftest {

struct BufferDeleter {
    void operator()(evbuffer *b) const { evbuffer_free(b); }
};
using BufPtr = std::unique_ptr<evbuffer, BufferDeleter>;

inline BufPtr make() { return BufPtr(evbuffer_new()); }

// The whole content, read without changing the buffer.
inline std::string contents(evbuffer *b) {
    std::string s(evbuffer_get_length(b), '\0');
    if (!s.empty()) {
        ev_ssize_t n = evbuffer_copyout(b, s.data(), s.size());
        EXPECT_EQ(n, ev_ssize_t(s.size()));
    }
    return s;
}

// Appends each piece as its own segment (memory by reference, so neither library can
// coalesce them); the pieces stay alive in `keep` until the test ends.
class Pieces {
public:
    void add(evbuffer *b, const std::vector<std::string> &parts) {
        for (const auto &p : parts) {
            keep_.push_back(std::make_unique<std::string>(p));
            ASSERT_EQ(evbuffer_add_reference(b, keep_.back()->data(), keep_.back()->size(),
                                             nullptr, nullptr), 0);
        }
    }

private:
    std::vector<std::unique_ptr<std::string>> keep_;
};

// Takes ownership of a readln result.
inline std::string take_line(char *line, size_t n) {
    std::string s(line, n);
    std::free(line);
    return s;
}

}  // namespace buftest
