// event_config: the settings event_base_new_with_config reads (see base.cpp for their use).
#include <climits>

#include "core/base.h"

namespace reevent::core {

event_config *config_new() noexcept {
    auto *cfg = static_cast<event_config *>(mm::calloc(1, sizeof(event_config)));
    if (!cfg) return nullptr;
    cfg->max_dispatch_interval.tv_sec = -1;
    cfg->max_dispatch_callbacks = INT_MAX;
    cfg->limit_callbacks_after_prio = 1;
    return cfg;
}

void config_free(event_config *cfg) noexcept {
    if (!cfg) return;
    for (int i = 0; i < cfg->n_avoid; ++i) mm::free(cfg->avoid[i]);
    mm::free(cfg);
}

int config_avoid_method(event_config *cfg, const char *method) noexcept {
    if (cfg->n_avoid == event_config::kMaxAvoid) return -1;
    char *copy = mm::strdup(method);
    if (!copy) return -1;
    cfg->avoid[cfg->n_avoid++] = copy;
    return 0;
}

int config_set_max_dispatch_interval(event_config *cfg, const timeval *max_interval,
                                     int max_callbacks, int min_priority) noexcept {
    if (max_interval)
        cfg->max_dispatch_interval = *max_interval;
    else
        cfg->max_dispatch_interval.tv_sec = -1;
    cfg->max_dispatch_callbacks = max_callbacks >= 0 ? max_callbacks : INT_MAX;
    cfg->limit_callbacks_after_prio = min_priority < 0 ? 0 : min_priority;
    return 0;
}

}  // namespace reevent::core
