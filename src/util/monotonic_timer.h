// struct evutil_monotonic_timer: a clock chosen once (coarse, precise, or the wall-clock
// fallback) that never goes backwards.
#pragma once

#include <sys/time.h>
#include <time.h>

struct evutil_monotonic_timer {
    // EV_MONOT_* flags -> clock choice. Always 0 on Linux (a clock always exists).
    int configure(int flags) noexcept;
    // 0, or -1 if the clock cannot be read.
    int now(timeval *out) noexcept;

    clockid_t clock_ = CLOCK_MONOTONIC;
    bool wall_clock_ = false;  // EV_MONOT_FALLBACK: gettimeofday, clamped
    // Fallback mode only: the last value returned and the correction added since the wall
    // clock last stepped backwards, so the result stays monotonic across clock changes.
    timeval last_{0, 0};
    timeval adjust_{0, 0};
};
