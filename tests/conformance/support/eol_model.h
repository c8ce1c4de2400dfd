// The line-end rules of evbuffer_eol_style written out plainly: the model the evbuffer
// model test and the evbuffer fuzz target hold the library's readln/search_eol against.
#pragma once

#include <event2/buffer.h>

#include <cstddef>
#include <string>

namespace eolmodel {

// Start and length of the first terminator at or after `from` in s, or npos (length 0).
inline size_t find_eol(const std::string &s, size_t from, evbuffer_eol_style st, size_t *len) {
    for (size_t i = from; i < s.size(); ++i) {
        const char c = s[i];
        const bool crlf_here = c == '\r' && i + 1 < s.size() && s[i + 1] == '\n';
        switch (st) {
        case EVBUFFER_EOL_LF:
            if (c == '\n') return *len = 1, i;
            break;
        case EVBUFFER_EOL_NUL:
            if (c == '\0') return *len = 1, i;
            break;
        case EVBUFFER_EOL_CRLF_STRICT:
            if (crlf_here) return *len = 2, i;
            break;
        case EVBUFFER_EOL_CRLF:
            if (c == '\n') return *len = 1, i;
            if (crlf_here) return *len = 2, i;
            break;
        case EVBUFFER_EOL_ANY:
            if (c == '\r' || c == '\n') {
                size_t j = i;
                while (j < s.size() && (s[j] == '\r' || s[j] == '\n')) ++j;
                *len = j - i;
                return i;
            }
            break;
        }
    }
    *len = 0;
    return std::string::npos;
}

}  // namespace eolmodel
