// Runs a test on every backend with the "current base": the one event_init() makes and that
// a NULL event_base stands for in libevent 1.x-style programs.
//
// event_init() takes no configuration, so the backend is chosen the only way it can be:
// the EVENT_NOEPOLL / EVENT_NOPOLL / EVENT_EPOLL_USE_CHANGELIST variables, set around the
// call and removed after it. Usage:
//
//   class NullBase : public conf::CurrentBaseTest {};
//   TEST_P(NullBase, EventNew) { event *ev = event_new(nullptr, ...); ... loop(); }
//   CONF_INSTANTIATE_BACKENDS(NullBase);
#pragma once

#include <event2/event.h>
#include <event2/event_compat.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "backend_fixture.h"

namespace conf {

// event_init() on exactly this backend (nullptr if it cannot be had).
inline event_base *event_init_on(const Backend &b) {
    const bool epoll = std::strcmp(b.method, "epoll") == 0;
    const bool poll = std::strcmp(b.method, "poll") == 0;
    if (!epoll) setenv("EVENT_NOEPOLL", "1", 1);
    if (!epoll && !poll) setenv("EVENT_NOPOLL", "1", 1);
    if (b.flags & EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) setenv("EVENT_EPOLL_USE_CHANGELIST", "1", 1);
    event_base *base = event_init();
    unsetenv("EVENT_NOEPOLL");
    unsetenv("EVENT_NOPOLL");
    unsetenv("EVENT_EPOLL_USE_CHANGELIST");
    return base;
}

class CurrentBaseTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        base_ = event_init_on(GetParam());
        ASSERT_NE(base_, nullptr) << "no base for " << GetParam().label;
        ASSERT_STREQ(event_base_get_method(base_), GetParam().reported);
    }
    void TearDown() override {
        if (base_) event_base_free(base_);
        base_ = nullptr;
    }
    // The current base.
    event_base *base() { return base_; }

    event_base *base_ = nullptr;
};

}  // namespace conf
