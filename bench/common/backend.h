// Backend selection through the public API only (event_config_avoid_method for every other
// method), so the same code forces a method on reevent and on libevent.
#pragma once

#include "common/bench_support.h"

#include <event2/event.h>

#include <cstring>
#include <vector>

namespace bench {

struct Backend {
    const char *label;   // name part of the benchmark
    const char *method;  // what event_base_get_method must report
    int flags;           // extra EVENT_BASE_FLAG_*
};

inline constexpr Backend kEpoll{"epoll", "epoll", 0};
inline constexpr Backend kEpollChangelist{"epoll_cl", "epoll", EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST};
inline constexpr Backend kPoll{"poll", "poll", 0};
inline constexpr Backend kSelect{"select", "select", 0};
inline const std::vector<Backend> kBackends{kEpoll, kPoll, kSelect};

// Largest N a select benchmark registers: select is only measured below FD_SETSIZE (1024).
inline constexpr int kSelectFdLimit = 1000;

inline bool is_select(const Backend &b) { return std::strcmp(b.method, "select") == 0; }

// A base forced onto one method; nullptr if the library cannot give that method.
inline event_base *new_base(const Backend &b, int extra_flags = 0) {
    event_config *cfg = event_config_new();
    if (!cfg) return nullptr;
    for (const char *m : {"epoll", "poll", "select"})
        if (std::strcmp(m, b.method) != 0) event_config_avoid_method(cfg, m);
    event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV | b.flags | extra_flags);
    event_base *base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    // Prefix match: libevent names the changelist variant "epoll (with changelist)".
    if (base && std::strncmp(event_base_get_method(base), b.method, std::strlen(b.method)) != 0) {
        event_base_free(base);
        return nullptr;
    }
    return base;
}

}  // namespace bench
