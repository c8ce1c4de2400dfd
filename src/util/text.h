// Locale-independent text helpers: ASCII case-insensitive comparison (HTTP header names and
// the like must not change meaning under a Turkish locale), bounded printf, RFC 1123 dates.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <ctime>

namespace reevent::util {

// -1/0/1. Only A-Z are folded; other bytes compare as (signed) char, as libevent does.
int ascii_strcasecmp(const char *a, const char *b) noexcept;
int ascii_strncasecmp(const char *a, const char *b, size_t n) noexcept;

// vsnprintf that always terminates; 0 (nothing written) when buflen is 0.
int vsnprintf(char *buf, size_t buflen, const char *fmt, va_list ap) noexcept
    __attribute__((format(printf, 3, 0)));

// "Sun, 06 Nov 1994 08:49:37 GMT" for tm (now, in UTC, when tm is null). The snprintf
// result, or -1 when tm_wday/tm_mon are out of range (libevent would index past its tables).
int date_rfc1123(char *buf, size_t buflen, const struct tm *tm) noexcept;

}  // namespace reevent::util
