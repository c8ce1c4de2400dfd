// RFC 3986 character classes and the checks libevent 2.1 applies to each part of a URI
// reference. Every check takes the part as a view (no NUL inside) and bytes >= 0x80 are
// never accepted, except where EVHTTP_URI_NONCONFORMANT lifts the path/query/fragment rules.
#pragma once

#include <cstddef>
#include <string_view>

namespace reevent::http {

enum class Part { path, query, fragment };

bool is_unreserved(char c) noexcept;   // ALPHA DIGIT - . _ ~
bool is_sub_delim(char c) noexcept;    // ! $ & ' ( ) * + , ; =
bool is_hex(char c) noexcept;

// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), at least one character.
bool scheme_ok(std::string_view s) noexcept;
// unreserved / pct-encoded / sub-delims / ":"
bool userinfo_ok(std::string_view s) noexcept;
// unreserved / pct-encoded / sub-delims (an IPv4 address is one too); may be empty.
bool regname_ok(std::string_view s) noexcept;
// "[" IPv6address "]" or "[v" 1*HEXDIG "." *( unreserved / sub-delims / ":" ) "]".
bool ip_literal_ok(std::string_view s) noexcept;

// How many leading bytes of s belong to the given part: the rest starts with the byte that
// ends it ('?' or '#' for a path, '#' for a query, anything disallowed). `nonconformant`
// accepts any byte but those delimiters.
size_t part_extent(std::string_view s, Part part, bool nonconformant) noexcept;

// A path of a reference without a scheme must not have a ':' in its first segment.
bool first_segment_colon_free(std::string_view path) noexcept;

}  // namespace reevent::http
