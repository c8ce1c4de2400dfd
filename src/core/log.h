// Diagnostics: the log callback (event_set_log_callback), debug logging
// (event_enable_debug_logging) and the fatal path (event_set_fatal_callback).
//
// Messages are formatted into a bounded stack buffer and handed to the user's callback, or
// written to stderr as "[warn] message" like libevent does when no callback is set.
#pragma once

#include <cstdarg>
#include <cstdint>

namespace reevent::log {

// Severities, equal to EVENT_LOG_DEBUG/MSG/WARN/ERR.
enum Severity : int { kDebug = 0, kMsg = 1, kWarn = 2, kErr = 3 };

using Callback = void (*)(int severity, const char *msg);
using FatalCallback = void (*)(int err);

void set_callback(Callback cb) noexcept;
void set_fatal_callback(FatalCallback cb) noexcept;
void enable_debug(uint32_t mask) noexcept;  // EVENT_DBG_ALL / EVENT_DBG_NONE
bool debug_enabled() noexcept;

void debug(const char *fmt, ...) noexcept __attribute__((format(printf, 1, 2)));
void msg(const char *fmt, ...) noexcept __attribute__((format(printf, 1, 2)));
void warn(const char *fmt, ...) noexcept __attribute__((format(printf, 1, 2)));
// Like warn, with ": strerror(errno)" appended (errno as it was on entry).
void warn_errno(const char *fmt, ...) noexcept __attribute__((format(printf, 1, 2)));
// Logs at kErr, calls the fatal callback (if any) with `code`, then aborts. Used only for
// broken internal invariants and misuse that libevent also treats as fatal.
[[noreturn]] void fatal(int code, const char *fmt, ...) noexcept
    __attribute__((format(printf, 2, 3)));

// libevent's own logging entries (log_abi.cpp): a message at `severity` with ": errstr"
// appended when errstr is set (debug ones only while debug logging is on) ...
void logv(int severity, const char *errstr, const char *fmt, va_list ap) noexcept;
// ... and libevent's exit after an error it logged: the fatal callback (if any) with
// `code`, then exit(code); abort() instead when there is no callback and `code` is
// libevent's internal-assertion code.
[[noreturn]] void exit_after_error(int code) noexcept;

}  // namespace reevent::log

// Internal invariant checks that stay on in release builds (cheap, and a corrupted event
// loop is worse than a clear abort).
#define REEVENT_ASSERT(cond)                                                              \
    do {                                                                                  \
        if (__builtin_expect(!(cond), 0))                                                 \
            ::reevent::log::fatal(0xdeaddead, "%s:%d: assertion %s failed in %s",         \
                                  __FILE__, __LINE__, #cond, __func__);                  \
    } while (0)
