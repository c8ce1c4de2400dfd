// See addon_abi.h. Atomics: an evdns_base may be made in one thread while another connects.
#include "core/addon_abi.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>

#include "core/log.h"

namespace {
std::atomic<reevent_gai_fn> g_gai{nullptr};
std::atomic<reevent_gai_cancel_fn> g_gai_cancel{nullptr};
}  // namespace

extern "C" void evutil_set_evdns_getaddrinfo_fn_(reevent_gai_fn fn) {
    if (!g_gai.load(std::memory_order_acquire)) g_gai.store(fn, std::memory_order_release);
}

extern "C" void evutil_set_evdns_getaddrinfo_cancel_fn_(reevent_gai_cancel_fn fn) {
    if (!g_gai_cancel.load(std::memory_order_acquire)) g_gai_cancel.store(fn, std::memory_order_release);
}

extern "C" void event_warnx(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    reevent::log::warn("%s", buf);
}

extern "C" void event_msgx(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    reevent::log::msg("%s", buf);
}

namespace reevent::addon {
reevent_gai_fn evdns_getaddrinfo_fn() noexcept { return g_gai.load(std::memory_order_acquire); }
reevent_gai_cancel_fn evdns_getaddrinfo_cancel_fn() noexcept { return g_gai_cancel.load(std::memory_order_acquire); }
}  // namespace reevent::addon
