// Percent-encoding and HTML escaping, with libevent 2.1's rules. Results are NUL-terminated
// strings on hook memory (the caller frees them with free() or its own free hook).
#pragma once

#include <cstddef>
#include <string_view>

namespace reevent::http {

// Every byte but the unreserved ones as %XX (upper-case hex); ' ' as '+' if space_to_plus.
char *percent_encode(std::string_view text, bool space_to_plus) noexcept;

// How '+' is treated when decoding.
enum class Plus { keep, space, space_after_question_mark };

// Decodes %XX (either case of hex) into out, which has room for text.size() + 1 bytes;
// a '%' not followed by two hex digits stays as it is. Returns the decoded length (out is
// NUL-terminated after it).
size_t percent_decode_into(std::string_view text, Plus plus, char *out) noexcept;

// percent_decode_into a fresh buffer; *size_out (if given) gets the decoded length.
char *percent_decode(std::string_view text, Plus plus, size_t *size_out) noexcept;

// < > " ' & as &lt; &gt; &quot; &#039; &amp;.
char *html_escape(std::string_view text) noexcept;

}  // namespace reevent::http
