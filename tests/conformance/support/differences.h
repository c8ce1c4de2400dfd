// The one place that lists where reevent deliberately differs from libevent 2.1.12.
// A test that meets one of these asserts both behaviours, choosing with the constant here,
// and docs/semantics.md names the rule. CONFORMANCE_IS_REEVENT is set by CMake.
#pragma once

#ifndef CONFORMANCE_IS_REEVENT
#error "CONFORMANCE_IS_REEVENT must be defined by the build"
#endif

namespace conf {

inline constexpr bool kIsReevent = CONFORMANCE_IS_REEVENT != 0;

// libevent 2.1 delivers a signal to one base only (the last to add a signal event);
// reevent delivers it to every base that has an event for that signal.
inline constexpr bool kSignalsOnEveryBase = kIsReevent;

}  // namespace conf
