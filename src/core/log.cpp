// Diagnostics; see log.h.
#include "core/log.h"

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace reevent::log {
namespace {
std::atomic<Callback> g_callback{nullptr};
std::atomic<FatalCallback> g_fatal{nullptr};
std::atomic<uint32_t> g_debug_mask{0};

void emit(int severity, const char *text) noexcept {
    if (Callback cb = g_callback.load(std::memory_order_acquire)) {
        cb(severity, text);
        return;
    }
    const char *tag = "???";
    switch (severity) {
        case kDebug: tag = "debug"; break;
        case kMsg: tag = "msg"; break;
        case kWarn: tag = "warn"; break;
        case kErr: tag = "err"; break;
    }
    std::fprintf(stderr, "[%s] %s\n", tag, text);
}

void vlog(int severity, const char *errstr, const char *fmt, va_list ap) noexcept {
    char buf[1024];
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0) buf[0] = '\0';
    if (errstr) {
        size_t len = std::strlen(buf);
        std::snprintf(buf + len, sizeof buf - len, ": %s", errstr);
    }
    emit(severity, buf);
}
}  // namespace

void set_callback(Callback cb) noexcept { g_callback.store(cb, std::memory_order_release); }
void set_fatal_callback(FatalCallback cb) noexcept { g_fatal.store(cb, std::memory_order_release); }
void enable_debug(uint32_t mask) noexcept { g_debug_mask.store(mask, std::memory_order_relaxed); }
bool debug_enabled() noexcept { return g_debug_mask.load(std::memory_order_relaxed) != 0; }

void debug(const char *fmt, ...) noexcept {
    if (!debug_enabled()) return;
    va_list ap;
    va_start(ap, fmt);
    vlog(kDebug, nullptr, fmt, ap);
    va_end(ap);
}

void msg(const char *fmt, ...) noexcept {
    va_list ap;
    va_start(ap, fmt);
    vlog(kMsg, nullptr, fmt, ap);
    va_end(ap);
}

void warn(const char *fmt, ...) noexcept {
    va_list ap;
    va_start(ap, fmt);
    vlog(kWarn, nullptr, fmt, ap);
    va_end(ap);
}

void warn_errno(const char *fmt, ...) noexcept {
    int saved = errno;
    va_list ap;
    va_start(ap, fmt);
    vlog(kWarn, std::strerror(saved), fmt, ap);
    va_end(ap);
    errno = saved;
}

void logv(int severity, const char *errstr, const char *fmt, va_list ap) noexcept {
    if (severity == kDebug && !debug_enabled()) return;
    if (!fmt) fmt = "";
    vlog(severity, errstr, fmt, ap);
}

void exit_after_error(int code) noexcept {
    if (FatalCallback cb = g_fatal.load(std::memory_order_acquire)) cb(code);
    else if (code == int(0xdeaddead)) std::abort();
    std::exit(code);
}

void fatal(int code, const char *fmt, ...) noexcept {
    va_list ap;
    va_start(ap, fmt);
    vlog(kErr, nullptr, fmt, ap);
    va_end(ap);
    if (FatalCallback cb = g_fatal.load(std::memory_order_acquire)) cb(code);
    std::abort();
}

}  // namespace reevent::log
