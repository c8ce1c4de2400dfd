// Runs a test on every backend: epoll, epoll with the changelist, poll, select.
//
// The method is forced through the public API only (event_config_avoid_method for every
// other method), so the same code works against reevent and libevent. Usage:
//
//   class TimerTest : public conf::BackendTest {};
//   TEST_P(TimerTest, FiresOnce) { event_base *b = base(); ... }
//   CONF_INSTANTIATE_BACKENDS(TimerTest);
#pragma once

#include <event2/event.h>
#include <gtest/gtest.h>

#include <cstring>
#include <ostream>
#include <string>

namespace conf {

struct Backend {
    const char *label;     // test-name suffix
    const char *method;    // the method kept (all others are avoided)
    int flags;             // extra EVENT_BASE_FLAG_*
    const char *reported;  // what event_base_get_method must report
};

// libevent names the changelist flavour of epoll "epoll (with changelist)" while avoiding
// and choosing it as "epoll"; reevent does the same.
inline const Backend kBackends[] = {
    {"epoll", "epoll", 0, "epoll"},
    {"epoll_changelist", "epoll", EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST, "epoll (with changelist)"},
    {"poll", "poll", 0, "poll"},
    {"select", "select", 0, "select"},
};

// gtest prints the parameter of a failing or skipped test with this.
inline void PrintTo(const Backend &b, std::ostream *os) { *os << b.label; }

// A base on exactly this method (nullptr if it cannot be had). Ignores EVENT_NO* variables.
inline event_base *new_base_on(const Backend &b, int extra_flags = 0) {
    event_config *cfg = event_config_new();
    if (!cfg) return nullptr;
    for (const char *m : {"epoll", "poll", "select"})
        if (std::strcmp(m, b.method) != 0) event_config_avoid_method(cfg, m);
    event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV);
    if (b.flags | extra_flags) event_config_set_flag(cfg, b.flags | extra_flags);
    event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    return base;
}

class BackendTest : public ::testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        base_ = new_base_on(GetParam(), base_flags());
        ASSERT_NE(base_, nullptr) << "no base for " << GetParam().label;
        ASSERT_STREQ(event_base_get_method(base_), GetParam().reported);
    }
    void TearDown() override {
        if (base_) event_base_free(base_);
        base_ = nullptr;
    }
    // Override to add EVENT_BASE_FLAG_* to every base of a suite.
    virtual int base_flags() const { return 0; }
    event_base *base() { return base_; }
    const char *method() const { return GetParam().method; }
    bool is_epoll() const { return std::strcmp(GetParam().method, "epoll") == 0; }

    event_base *base_ = nullptr;
};

struct BackendName {
    std::string operator()(const ::testing::TestParamInfo<Backend> &info) const {
        return info.param.label;
    }
};

}  // namespace conf

#define CONF_INSTANTIATE_BACKENDS(Suite) \
    INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::ValuesIn(::conf::kBackends), ::conf::BackendName())
