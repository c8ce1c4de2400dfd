// extern "C" entry points of <event2/event.h>, in header order. Each one checks its
// arguments (a NULL handle is an error return and, where libevent logs, a warning), calls
// the core once and maps the result. No logic lives here.
#include <event2/event.h>
#include <event2/event_struct.h>

#include <sys/time.h>

#include "buffer/block.h"
#include "core/base.h"
#include "core/log.h"
#include "core/mm.h"

namespace core = reevent::core;
namespace rlog = reevent::log;

namespace {
// Logs and fails on a NULL argument.
#define REEVENT_REQUIRE(ptr, fail)                                   \
    do {                                                             \
        if (__builtin_expect((ptr) == nullptr, 0)) {                 \
            rlog::warn("%s: %s is NULL", __func__, #ptr);            \
            return fail;                                             \
        }                                                            \
    } while (0)
}  // namespace

extern "C" {

void event_enable_debug_mode(void) { core::debug::enable(); }

void event_debug_unassign(struct event *ev) {
    REEVENT_REQUIRE(ev, );
    core::debug::unassign(ev);
}

struct event_base *event_base_new(void) { return core::base_new(nullptr); }

int event_reinit(struct event_base *base) {
    REEVENT_REQUIRE(base, -1);
    return core::base_reinit(base);
}

int event_base_dispatch(struct event_base *base) {
    REEVENT_REQUIRE(base, -1);
    return core::loop(base, 0);
}

const char *event_base_get_method(const struct event_base *base) {
    REEVENT_REQUIRE(base, nullptr);
    return base->method_name_;
}

const char **event_get_supported_methods(void) { return core::supported_methods(); }

int event_gettime_monotonic(struct event_base *base, struct timeval *tp) {
    if (!base || !tp) return -1;
    int64_t ns = core::clock_ns();
    tp->tv_sec = static_cast<time_t>(ns / 1000000000);
    tp->tv_usec = static_cast<suseconds_t>((ns % 1000000000) / 1000);
    return 0;
}

int event_base_get_num_events(struct event_base *base, unsigned int what) {
    REEVENT_REQUIRE(base, -1);
    return core::num_events(base, what);
}

int event_base_get_max_events(struct event_base *base, unsigned int what, int clear) {
    REEVENT_REQUIRE(base, -1);
    return core::max_events(base, what, clear != 0);
}

struct event_config *event_config_new(void) { return core::config_new(); }

void event_config_free(struct event_config *cfg) { core::config_free(cfg); }

int event_config_avoid_method(struct event_config *cfg, const char *method) {
    if (!cfg || !method) return -1;
    return core::config_avoid_method(cfg, method);
}

int event_base_get_features(const struct event_base *base) {
    REEVENT_REQUIRE(base, 0);
    return base->ops_->features;
}

int event_config_require_features(struct event_config *cfg, int feature) {
    if (!cfg) return -1;
    cfg->require_features = feature;
    return 0;
}

int event_config_set_flag(struct event_config *cfg, int flag) {
    if (!cfg) return -1;
    cfg->flags |= flag;
    return 0;
}

int event_config_set_num_cpus_hint(struct event_config *cfg, int cpus) {
    if (!cfg) return -1;
    cfg->n_cpus_hint = cpus;
    return 0;
}

int event_config_set_max_dispatch_interval(struct event_config *cfg,
    const struct timeval *max_interval, int max_callbacks, int min_priority) {
    if (!cfg) return -1;
    return core::config_set_max_dispatch_interval(cfg, max_interval, max_callbacks, min_priority);
}

struct event_base *event_base_new_with_config(const struct event_config *cfg) {
    return core::base_new(cfg);
}

void event_base_free(struct event_base *base) { core::base_free(base, true); }

void event_base_free_nofinalize(struct event_base *base) { core::base_free(base, false); }

void event_set_log_callback(event_log_cb cb) { rlog::set_callback(cb); }

void event_set_fatal_callback(event_fatal_cb cb) { rlog::set_fatal_callback(cb); }

void event_enable_debug_logging(ev_uint32_t which) { rlog::enable_debug(which); }

int event_base_set(struct event_base *base, struct event *ev) {
    if (!base || !ev) return -1;
    return core::base_set(base, ev);
}

int event_base_loop(struct event_base *base, int flags) {
    REEVENT_REQUIRE(base, -1);
    return core::loop(base, flags);
}

int event_base_loopexit(struct event_base *base, const struct timeval *tv) {
    REEVENT_REQUIRE(base, -1);
    return core::loopexit(base, tv);
}

int event_base_loopbreak(struct event_base *base) {
    if (!base) return -1;
    return core::loopbreak(base);
}

int event_base_loopcontinue(struct event_base *base) {
    if (!base) return -1;
    return core::loopcontinue(base);
}

int event_base_got_exit(struct event_base *base) {
    if (!base) return 0;
    reevent::core::LockGuard g(base->lock_);
    return base->gotterm_;
}

int event_base_got_break(struct event_base *base) {
    if (!base) return 0;
    reevent::core::LockGuard g(base->lock_);
    return base->break_;
}

void *event_self_cbarg(void) { return core::self_cbarg_marker(); }

struct event *event_new(struct event_base *base, evutil_socket_t fd, short events,
                        event_callback_fn cb, void *arg) {
    auto *ev = static_cast<struct event *>(reevent::mm::malloc(sizeof(struct event)));
    if (!ev) return nullptr;
    if (core::assign(ev, base, fd, events, cb, arg) < 0) {
        reevent::mm::free(ev);
        return nullptr;
    }
    return ev;
}

int event_assign(struct event *ev, struct event_base *base, evutil_socket_t fd, short events,
                 event_callback_fn cb, void *arg) {
    REEVENT_REQUIRE(ev, -1);
    return core::assign(ev, base, fd, events, cb, arg);
}

void event_free(struct event *ev) {
    if (!ev) return;
    // No "is set up" check in debug mode: a finalized event is already torn down for debug
    // mode when its finalizer runs, and freeing it (there or later) is legal; libevent 2.1
    // keeps this check disabled for the same reason.
    if (ev->ev_base) core::del(ev, core::DelMode::kFree);
    if (core::debug::g_on) core::debug::note_teardown(ev);
    reevent::mm::free(ev);
}

int event_finalize(unsigned flags, struct event *ev, event_finalize_callback_fn cb) {
    REEVENT_REQUIRE(ev, -1);
    return core::finalize(flags, ev, cb, false);
}

int event_free_finalize(unsigned flags, struct event *ev, event_finalize_callback_fn cb) {
    REEVENT_REQUIRE(ev, -1);
    return core::finalize(flags, ev, cb, true);
}

int event_base_once(struct event_base *base, evutil_socket_t fd, short events,
                    event_callback_fn cb, void *arg, const struct timeval *tv) {
    REEVENT_REQUIRE(base, -1);
    if (!cb) return -1;
    return core::once(base, fd, events, cb, arg, tv);
}

int event_add(struct event *ev, const struct timeval *tv) {
    REEVENT_REQUIRE(ev, -1);
    return core::add(ev, tv);
}

int event_remove_timer(struct event *ev) {
    REEVENT_REQUIRE(ev, -1);
    return core::remove_timer(ev);
}

int event_del(struct event *ev) {
    REEVENT_REQUIRE(ev, -1);
    return core::del(ev, core::DelMode::kAuto);
}

int event_del_noblock(struct event *ev) {
    REEVENT_REQUIRE(ev, -1);
    return core::del(ev, core::DelMode::kNoBlock);
}

int event_del_block(struct event *ev) {
    REEVENT_REQUIRE(ev, -1);
    return core::del(ev, core::DelMode::kBlock);
}

void event_active(struct event *ev, int res, short ncalls) {
    REEVENT_REQUIRE(ev, );
    core::activate(ev, res, ncalls);
}

int event_pending(const struct event *ev, short events, struct timeval *tv) {
    REEVENT_REQUIRE(ev, 0);
    return core::pending(ev, events, tv);
}

struct event *event_base_get_running_event(struct event_base *base) {
    if (!base) return nullptr;
    reevent::core::LockGuard g(base->lock_);
    if (!core::in_loop_thread(base) || !base->current_) return nullptr;
    if (!(base->current_->evcb_flags & EVLIST_INIT)) return nullptr;
    return core::to_event(base->current_);
}

int event_initialized(const struct event *ev) {
    if (!ev) return 0;
    return (ev->ev_evcallback.evcb_flags & EVLIST_INIT) ? 1 : 0;
}

evutil_socket_t event_get_fd(const struct event *ev) {
    REEVENT_REQUIRE(ev, -1);
    return ev->ev_fd;
}

struct event_base *event_get_base(const struct event *ev) {
    REEVENT_REQUIRE(ev, nullptr);
    return ev->ev_base;
}

short event_get_events(const struct event *ev) {
    REEVENT_REQUIRE(ev, 0);
    return ev->ev_events;
}

event_callback_fn event_get_callback(const struct event *ev) {
    REEVENT_REQUIRE(ev, nullptr);
    return ev->ev_evcallback.evcb_cb_union.evcb_callback;
}

void *event_get_callback_arg(const struct event *ev) {
    REEVENT_REQUIRE(ev, nullptr);
    return ev->ev_evcallback.evcb_arg;
}

int event_get_priority(const struct event *ev) {
    REEVENT_REQUIRE(ev, -1);
    return ev->ev_evcallback.evcb_pri;
}

void event_get_assignment(const struct event *ev, struct event_base **base_out,
                          evutil_socket_t *fd_out, short *events_out,
                          event_callback_fn *callback_out, void **arg_out) {
    REEVENT_REQUIRE(ev, );
    if (base_out) *base_out = ev->ev_base;
    if (fd_out) *fd_out = ev->ev_fd;
    if (events_out) *events_out = ev->ev_events;
    if (callback_out) *callback_out = ev->ev_evcallback.evcb_cb_union.evcb_callback;
    if (arg_out) *arg_out = ev->ev_evcallback.evcb_arg;
}

size_t event_get_struct_event_size(void) { return sizeof(struct event); }

const char *event_get_version(void) { return EVENT__VERSION; }

ev_uint32_t event_get_version_number(void) { return EVENT__NUMERIC_VERSION; }

int event_base_priority_init(struct event_base *base, int npriorities) {
    REEVENT_REQUIRE(base, -1);
    return core::base_priority_init(base, npriorities);
}

int event_base_get_npriorities(struct event_base *base) {
    base = core::base_or_current(base);
    if (!base) return 0;
    reevent::core::LockGuard g(base->lock_);
    return base->nactiveq_;
}

int event_priority_set(struct event *ev, int pri) {
    REEVENT_REQUIRE(ev, -1);
    return core::priority_set(ev, pri);
}

const struct timeval *event_base_init_common_timeout(struct event_base *base,
                                                     const struct timeval *duration) {
    REEVENT_REQUIRE(base, nullptr);
    REEVENT_REQUIRE(duration, nullptr);
    return core::init_common_timeout(base, duration);
}

void event_set_mem_functions(void *(*malloc_fn)(size_t sz), void *(*realloc_fn)(void *ptr, size_t sz),
                             void (*free_fn)(void *ptr)) {
    reevent::mm::set_functions(malloc_fn, realloc_fn, free_fn);
}

void event_base_dump_events(struct event_base *base, FILE *output) {
    if (!base || !output) return;
    core::dump_events(base, output);
}

void event_base_active_by_fd(struct event_base *base, evutil_socket_t fd, short events) {
    REEVENT_REQUIRE(base, );
    core::active_by_fd(base, fd, events);
}

void event_base_active_by_signal(struct event_base *base, int sig) {
    REEVENT_REQUIRE(base, );
    core::active_by_signal(base, sig);
}

int event_base_foreach_event(struct event_base *base, event_base_foreach_event_cb fn, void *arg) {
    if (!base || !fn) return -1;
    return core::foreach_event(base, fn, arg);
}

int event_base_gettimeofday_cached(struct event_base *base, struct timeval *tv) {
    if (!tv) return -1;
    base = core::base_or_current(base);
    if (!base) return gettimeofday(tv, nullptr);
    reevent::core::LockGuard g(base->lock_);
    if (!base->cached_ns_ && !base->time_lazy_) return gettimeofday(tv, nullptr);
    const int64_t now = core::now_ns(base);  // fills the loop's cache if still empty
    if (base->wall_off_at_ != now) {
        base->wall_off_ = core::wall_minus_mono_ns();
        base->wall_off_at_ = now;
    }
    int64_t wall = now + base->wall_off_;
    tv->tv_sec = static_cast<time_t>(wall / 1000000000);
    tv->tv_usec = static_cast<suseconds_t>((wall % 1000000000) / 1000);
    return 0;
}

int event_base_update_cache_time(struct event_base *base) {
    base = core::base_or_current(base);
    if (!base) return -1;
    reevent::core::LockGuard g(base->lock_);
    if (base->running_) core::update_time_cache(base);
    return 0;
}

void libevent_global_shutdown(void) {
    core::debug::shutdown();
    reevent::buffer::release_thread_block_cache();
}

}  // extern "C"
