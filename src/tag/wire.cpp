// See wire.h.
#include "tag/wire.h"

namespace reevent::tag {

size_t encode_compact(uint64_t value, std::span<uint8_t, kMaxCompact64Bytes> out) noexcept {
    for (auto &b : out) b = 0;
    size_t digits = 0;
    // Nibble slot k (from 1) is the low half of byte k/2 when k is odd, the high half when even.
    for (size_t slot = 1; value != 0; ++slot, ++digits, value >>= 4) {
        uint8_t nibble = value & 0x0f;
        out[slot / 2] |= (slot & 1) ? nibble : static_cast<uint8_t>(nibble << 4);
    }
    size_t count_field = digits > 1 ? digits - 1 : 0;
    out[0] |= static_cast<uint8_t>(count_field << 4);
    return (digits + 2) / 2;
}

size_t encode_tag(uint32_t tag, std::span<uint8_t, kMaxTagBytes> out) noexcept {
    size_t n = 0;
    do {
        uint8_t group = tag & 0x7f;
        tag >>= 7;
        out[n++] = tag ? static_cast<uint8_t>(group | 0x80) : group;
    } while (tag);
    return n;
}

int decode_tag(std::span<const uint8_t> bytes, uint32_t *tag) noexcept {
    uint32_t value = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
        unsigned shift = 7 * static_cast<unsigned>(i);
        uint8_t group = bytes[i] & 0x7f;
        // The fifth group may hold only the 4 bits left of 32; there is no sixth.
        if (shift > 28 || (shift == 28 && group > 15)) return -1;
        value |= static_cast<uint32_t>(group) << shift;
        if (!(bytes[i] & 0x80)) {
            if (tag) *tag = value;
            return static_cast<int>(i + 1);
        }
    }
    return -1;
}

int decode_compact(std::span<const uint8_t> bytes, int max_nibbles, uint64_t *value) noexcept {
    if (bytes.empty()) return -1;
    int nibbles = (bytes[0] >> 4) + 1;
    size_t size = static_cast<size_t>(nibbles / 2) + 1;
    if (nibbles > max_nibbles || size > bytes.size()) return -1;
    uint64_t v = 0;
    for (int slot = nibbles; slot > 0; --slot) {
        uint8_t b = bytes[static_cast<size_t>(slot / 2)];
        v = (v << 4) | ((slot & 1) ? (b & 0x0f) : (b >> 4));
    }
    *value = v;
    return static_cast<int>(size);
}

}  // namespace reevent::tag
