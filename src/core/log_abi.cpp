// libevent's logging entry points that its core exports without a public header
// (log-internal.h): programs and test suites written against libevent call them directly
// (libevent's regress suite does), so reevent exports them with libevent's signatures and
// behaviour: the message goes to event_set_log_callback's function (or stderr), the *err
// ones then end the process through the fatal callback or exit. event_warnx/event_msgx are
// in addon_abi.cpp (libevent_extra logs through them).
#include <event2/util.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>

#include "core/addon_abi.h"
#include "core/log.h"

using namespace reevent;

extern "C" {

REEVENT_ADDON_ABI void event_logv_(int severity, const char *errstr, const char *fmt, va_list ap) {
    log::logv(severity, errstr, fmt, ap);
}

REEVENT_ADDON_ABI void event_warn(const char *fmt, ...) {
    const char *err = std::strerror(errno);
    va_list ap;
    va_start(ap, fmt);
    log::logv(log::kWarn, err, fmt, ap);
    va_end(ap);
}

// On POSIX a socket's error is errno, as evutil_socket_geterror says.
REEVENT_ADDON_ABI void event_sock_warn(evutil_socket_t sock, const char *fmt, ...) {
    const char *err = evutil_socket_error_to_string(evutil_socket_geterror(sock));
    va_list ap;
    va_start(ap, fmt);
    log::logv(log::kWarn, err, fmt, ap);
    va_end(ap);
}

REEVENT_ADDON_ABI void event_debugx_(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log::logv(log::kDebug, nullptr, fmt, ap);
    va_end(ap);
}

REEVENT_ADDON_ABI void event_err(int eval, const char *fmt, ...) {
    const char *err = std::strerror(errno);
    va_list ap;
    va_start(ap, fmt);
    log::logv(log::kErr, err, fmt, ap);
    va_end(ap);
    log::exit_after_error(eval);
}

REEVENT_ADDON_ABI void event_errx(int eval, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    log::logv(log::kErr, nullptr, fmt, ap);
    va_end(ap);
    log::exit_after_error(eval);
}

REEVENT_ADDON_ABI void event_sock_err(int eval, evutil_socket_t sock, const char *fmt, ...) {
    const char *err = evutil_socket_error_to_string(evutil_socket_geterror(sock));
    va_list ap;
    va_start(ap, fmt);
    log::logv(log::kErr, err, fmt, ap);
    va_end(ap);
    log::exit_after_error(eval);
}

}  // extern "C"
