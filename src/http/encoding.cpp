// See encoding.h.
#include "http/encoding.h"

#include <cstdint>
#include <cstring>

#include "http/grammar.h"
#include "http/mem.h"

namespace reevent::http {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

const char *html_entity(char c) noexcept {
    switch (c) {
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#039;";
    case '&': return "&amp;";
    default: return nullptr;
    }
}

}  // namespace

char *percent_encode(std::string_view text, bool space_to_plus) noexcept {
    // Worst case three bytes out per byte in.
    if (text.size() > (SIZE_MAX - 1) / 3) return nullptr;
    auto *out = static_cast<char *>(event_mm_malloc_(text.size() * 3 + 1));
    if (!out) return nullptr;
    static const char kHex[] = "0123456789ABCDEF";
    char *w = out;
    for (char c : text) {
        if (is_unreserved(c)) {
            *w++ = c;
        } else if (c == ' ' && space_to_plus) {
            *w++ = '+';
        } else {
            auto b = static_cast<unsigned char>(c);
            *w++ = '%';
            *w++ = kHex[b >> 4];
            *w++ = kHex[b & 0xf];
        }
    }
    *w = '\0';
    return out;
}

size_t percent_decode_into(std::string_view text, Plus plus, char *out) noexcept {
    bool plus_is_space = plus == Plus::space;
    size_t w = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '?' && plus == Plus::space_after_question_mark) {
            plus_is_space = true;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '%' && i + 2 < text.size() && is_hex(text[i + 1]) && is_hex(text[i + 2])) {
            c = static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        }
        out[w++] = c;
    }
    out[w] = '\0';
    return w;
}

char *percent_decode(std::string_view text, Plus plus, size_t *size_out) noexcept {
    auto *out = static_cast<char *>(event_mm_malloc_(text.size() + 1));
    if (!out) return nullptr;
    size_t n = percent_decode_into(text, plus, out);
    if (size_out) *size_out = n;
    return out;
}

char *html_escape(std::string_view text) noexcept {
    size_t size = 1;
    for (char c : text) {
        const char *e = html_entity(c);
        size += e ? std::strlen(e) : 1;
    }
    auto *out = static_cast<char *>(event_mm_malloc_(size));
    if (!out) return nullptr;
    char *w = out;
    for (char c : text) {
        if (const char *e = html_entity(c)) {
            size_t n = std::strlen(e);
            std::memcpy(w, e, n);
            w += n;
        } else {
            *w++ = c;
        }
    }
    *w = '\0';
    return out;
}

}  // namespace reevent::http
