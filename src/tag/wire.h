// The byte formats of <event2/tag.h>, on plain byte views (no evbuffer here):
//  - a tag: 7 bits per byte, least significant group first, high bit set on all but the
//    last byte; at most 5 bytes and 32 bits;
//  - a compact integer: the high nibble of the first byte is (number of nibbles - 1), then
//    the value's nibbles, least significant first, in nibble slots 1, 2, ...: slot k is the
//    low half of byte k/2 when k is odd and its high half when k is even (so 0x1234 is
//    34 32 10). Zero is one byte, 00.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace reevent::tag {

inline constexpr size_t kMaxTagBytes = 5;
inline constexpr size_t kMaxCompact32Bytes = 5;
inline constexpr size_t kMaxCompact64Bytes = 9;

// Writes value's compact form into out; returns its size.
size_t encode_compact(uint64_t value, std::span<uint8_t, kMaxCompact64Bytes> out) noexcept;

// Writes a tag into out; returns its size.
size_t encode_tag(uint32_t tag, std::span<uint8_t, kMaxTagBytes> out) noexcept;

// Reads a tag from the start of bytes; its size, or -1 when bytes end inside it or it
// does not fit 32 bits.
int decode_tag(std::span<const uint8_t> bytes, uint32_t *tag) noexcept;

// Reads a compact integer of at most max_nibbles nibbles (8 for 32 bits, 16 for 64) from
// the start of bytes; its size, or -1 when too long or cut short.
int decode_compact(std::span<const uint8_t> bytes, int max_nibbles, uint64_t *value) noexcept;

}  // namespace reevent::tag
