// Text helpers; see text.h.
#include "util/text.h"

#include <cstdint>
#include <cstdio>

namespace reevent::util {
namespace {

char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Compares as plain (signed on x86) char so bytes >= 0x80 sort below ASCII, like libevent.
int compare(const char *a, const char *b, size_t n) noexcept {
    for (size_t i = 0; i < n; ++i) {
        char x = ascii_lower(a[i]);
        char y = ascii_lower(b[i]);
        if (x < y) return -1;
        if (x > y) return 1;
        if (x == '\0') return 0;
    }
    return 0;
}

}  // namespace

int ascii_strcasecmp(const char *a, const char *b) noexcept { return compare(a, b, SIZE_MAX); }

int ascii_strncasecmp(const char *a, const char *b, size_t n) noexcept { return compare(a, b, n); }

int vsnprintf(char *buf, size_t buflen, const char *fmt, va_list ap) noexcept {
    if (buflen == 0) return 0;
    int r = std::vsnprintf(buf, buflen, fmt, ap);
    buf[buflen - 1] = '\0';
    return r;
}

namespace {
int bounded_snprintf(char *buf, size_t buflen, const char *fmt, ...) noexcept
    __attribute__((format(printf, 3, 4)));
int bounded_snprintf(char *buf, size_t buflen, const char *fmt, ...) noexcept {
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, buflen, fmt, ap);
    va_end(ap);
    return r;
}
}  // namespace

int date_rfc1123(char *buf, size_t buflen, const struct tm *tm) noexcept {
    static const char kDays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char kMonths[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm now;
    if (!tm) {
        time_t t = time(nullptr);
        if (!gmtime_r(&t, &now)) return -1;
        tm = &now;
    }
    if (tm->tm_wday < 0 || tm->tm_wday > 6 || tm->tm_mon < 0 || tm->tm_mon > 11) {
        if (buflen) buf[0] = '\0';
        return -1;
    }
    return bounded_snprintf(buf, buflen, "%s, %02d %s %4ld %02d:%02d:%02d GMT", kDays[tm->tm_wday],
                            tm->tm_mday, kMonths[tm->tm_mon], 1900L + tm->tm_year, tm->tm_hour,
                            tm->tm_min, tm->tm_sec);
}

}  // namespace reevent::util
