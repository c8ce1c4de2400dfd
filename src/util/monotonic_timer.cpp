// Monotonic timers; see monotonic_timer.h.
#include "util/monotonic_timer.h"

#include <event2/util.h>

int evutil_monotonic_timer::configure(int flags) noexcept {
    const bool precise = flags & EV_MONOT_PRECISE;
    const bool fallback = flags & EV_MONOT_FALLBACK;
    timespec ts;
    wall_clock_ = false;
    // The coarse clock is a vDSO read of the last tick (a few ms resolution): cheap, and
    // what libevent picks unless asked for precision.
    if (!precise && !fallback && clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0) {
        clock_ = CLOCK_MONOTONIC_COARSE;
        return 0;
    }
    if (!fallback && clock_gettime(CLOCK_MONOTONIC, &ts) == 0) {
        clock_ = CLOCK_MONOTONIC;
        return 0;
    }
    wall_clock_ = true;
    last_ = timeval{0, 0};
    adjust_ = timeval{0, 0};
    return 0;
}

int evutil_monotonic_timer::now(timeval *out) noexcept {
    if (!wall_clock_) {
        timespec ts;
        if (clock_gettime(clock_, &ts) != 0) return -1;
        out->tv_sec = ts.tv_sec;
        out->tv_usec = ts.tv_nsec / 1000;
        return 0;
    }
    timeval tv;
    if (gettimeofday(&tv, nullptr) != 0) return -1;
    timeval adjusted;
    timeradd(&tv, &adjust_, &adjusted);
    if (timercmp(&adjusted, &last_, <)) {
        // The wall clock stepped back: grow the correction so time stands still instead.
        timeval back;
        timersub(&last_, &adjusted, &back);
        timeradd(&adjust_, &back, &adjust_);
        adjusted = last_;
    }
    last_ = adjusted;
    *out = adjusted;
    return 0;
}
