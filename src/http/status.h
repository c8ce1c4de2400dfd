// Reason phrases of HTTP status codes, as libevent 2.1 words them (RFC 2616's phrases, and
// a word for the class of a code it does not know).
#pragma once

namespace reevent::http {

const char *status_phrase(int code) noexcept;

}  // namespace reevent::http
