// C API of event2/thread.h (libevent_core part): thin shims over core::evthread.
#include <event2/thread.h>

#include "core/addon_abi.h"
#include "core/base.h"
#include "core/evthread.h"

namespace ev = reevent::core::evthread;

extern "C" {

int evthread_set_lock_callbacks(const struct evthread_lock_callbacks *cbs) {
    return ev::set_lock_callbacks(cbs);
}

int evthread_set_condition_callbacks(const struct evthread_condition_callbacks *cbs) {
    return ev::set_condition_callbacks(cbs);
}

void evthread_set_id_callback(unsigned long (*id_fn)(void)) { ev::set_id_callback(id_fn); }

void evthread_enable_lock_debugging(void) { ev::enable_lock_debugging(); }

// The misspelled 2.0 name, still exported by 2.1.12.
void evthread_enable_lock_debuging(void) { ev::enable_lock_debugging(); }

// libevent exports these two without declaring them in a header: the live tables the two
// setters above fill (the program's own callbacks, also while lock debugging is on; all
// zero when none are set). libevent's regress suite copies the lock table to wrap it.
REEVENT_ADDON_ABI struct evthread_lock_callbacks *evthread_get_lock_callbacks(void) {
    return ev::lock_callbacks();
}

REEVENT_ADDON_ABI struct evthread_condition_callbacks *evthread_get_condition_callbacks(void) {
    return ev::condition_callbacks();
}

// Locked bases own a wake-up fd from birth; this gives one to a NOLOCK base too.
int evthread_make_base_notifiable(struct event_base *base) {
    if (!base) return -1;
    return reevent::core::make_notifiable(base);
}

}  // extern "C"
