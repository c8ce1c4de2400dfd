// C API of <event2/bufferevent.h>: argument checks and one call into src/bufferevent each,
// in header order. NULL handles give -1/NULL/0 instead of libevent's crash.
#include <event2/bufferevent.h>

#include "bufferevent/kinds.h"
#include "core/log.h"

#include <cerrno>

using reevent::bev::Bev;
namespace bev = reevent::bev;

#define BEV_REQUIRE(x, ret) \
    do {                    \
        if (!(x)) return ret; \
    } while (0)

struct bufferevent *bufferevent_socket_new(struct event_base *base, evutil_socket_t fd,
                                           int options) {
    return bev::socket_new(base, fd, options);
}

int bufferevent_socket_connect(struct bufferevent *bufev, const struct sockaddr *addr,
                               int socklen) {
    BEV_REQUIRE(bufev, -1);
    Bev *b = bev::socket_part(bev::from(bufev));
    BEV_REQUIRE(b, -1);
    return bev::socket_connect(b, addr, socklen);
}

int bufferevent_socket_connect_hostname(struct bufferevent *bufev, struct evdns_base *dns_base,
                                        int family, const char *hostname, int port) {
    BEV_REQUIRE(bufev && hostname, -1);
    Bev *b = bev::socket_part(bev::from(bufev));
    BEV_REQUIRE(b, -1);
    return bev::socket_connect_hostname(b, dns_base, family, hostname, port);
}

int bufferevent_socket_get_dns_error(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, 0);
    Bev *b = bev::from(bufev);
    bev::lock(b);
    int e = b->dns_error;
    bev::unlock(b);
    return e;
}

int bufferevent_base_set(struct event_base *base, struct bufferevent *bufev) {
    BEV_REQUIRE(base && bufev, -1);
    Bev *b = bev::from(bufev);
    BEV_REQUIRE(bev::is_socket(b), -1);
    bev::lock(b);
    int r = -1;
    if (event_base_set(base, &b->pub.ev_read) == 0 && event_base_set(base, &b->pub.ev_write) == 0) {
        b->pub.ev_base = base;
        bev::deferred_rebind(b, base, -1);
        r = 0;
    }
    bev::unlock(b);
    return r;
}

struct event_base *bufferevent_get_base(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, nullptr);
    return bufev->ev_base;
}

int bufferevent_priority_set(struct bufferevent *bufev, int pri) {
    BEV_REQUIRE(bufev, -1);
    Bev *b = bev::from(bufev);
    BEV_REQUIRE(bev::is_socket(b), -1);
    bev::lock(b);
    int r = -1;
    if (event_priority_set(&b->pub.ev_read, pri) == 0 &&
        event_priority_set(&b->pub.ev_write, pri) == 0) {
        bev::deferred_rebind(b, bev::base_of(b), pri);
        r = 0;
    }
    bev::unlock(b);
    return r;
}

int bufferevent_get_priority(const struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, -1);
    if (event_initialized(&bufev->ev_read)) return event_get_priority(&bufev->ev_read);
    return event_base_get_npriorities(bufev->ev_base) / 2;
}

void bufferevent_free(struct bufferevent *bufev) {
    if (!bufev) return;
    bev::release(bev::from(bufev));
}

void bufferevent_setcb(struct bufferevent *bufev, bufferevent_data_cb readcb,
                       bufferevent_data_cb writecb, bufferevent_event_cb eventcb, void *cbarg) {
    if (!bufev) return;
    Bev *b = bev::from(bufev);
    bev::lock(b);
    bufev->readcb = readcb;
    bufev->writecb = writecb;
    bufev->errorcb = eventcb;
    bufev->cbarg = cbarg;
    bev::unlock(b);
}

void bufferevent_getcb(struct bufferevent *bufev, bufferevent_data_cb *readcb_ptr,
                       bufferevent_data_cb *writecb_ptr, bufferevent_event_cb *eventcb_ptr,
                       void **cbarg_ptr) {
    if (!bufev) return;
    Bev *b = bev::from(bufev);
    bev::lock(b);
    if (readcb_ptr) *readcb_ptr = bufev->readcb;
    if (writecb_ptr) *writecb_ptr = bufev->writecb;
    if (eventcb_ptr) *eventcb_ptr = bufev->errorcb;
    if (cbarg_ptr) *cbarg_ptr = bufev->cbarg;
    bev::unlock(b);
}

int bufferevent_setfd(struct bufferevent *bufev, evutil_socket_t fd) {
    BEV_REQUIRE(bufev, -1);
    Bev *b = bev::from(bufev);
    bev::lock(b);
    int r = b->pub.be_ops->set_fd(b, fd);
    bev::unlock(b);
    return r;
}

evutil_socket_t bufferevent_getfd(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, -1);
    Bev *b = bev::from(bufev);
    bev::lock(b);
    int fd = b->pub.be_ops->get_fd(b);
    bev::unlock(b);
    return fd;
}

struct bufferevent *bufferevent_get_underlying(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, nullptr);
    Bev *b = bev::from(bufev);
    Bev *u = b->pub.be_ops->underlying(b);
    return u ? bev::handle(u) : nullptr;
}

int bufferevent_write(struct bufferevent *bufev, const void *data, size_t size) {
    BEV_REQUIRE(bufev, -1);
    return evbuffer_add(bufev->output, data, size) == -1 ? -1 : 0;
}

int bufferevent_write_buffer(struct bufferevent *bufev, struct evbuffer *buf) {
    BEV_REQUIRE(bufev && buf, -1);
    return evbuffer_add_buffer(bufev->output, buf) == -1 ? -1 : 0;
}

size_t bufferevent_read(struct bufferevent *bufev, void *data, size_t size) {
    BEV_REQUIRE(bufev, 0);
    int n = evbuffer_remove(bufev->input, data, size);
    return n < 0 ? 0 : static_cast<size_t>(n);
}

int bufferevent_read_buffer(struct bufferevent *bufev, struct evbuffer *buf) {
    BEV_REQUIRE(bufev && buf, -1);
    return evbuffer_add_buffer(buf, bufev->input) == -1 ? -1 : 0;
}

struct evbuffer *bufferevent_get_input(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, nullptr);
    return bufev->input;
}

struct evbuffer *bufferevent_get_output(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, nullptr);
    return bufev->output;
}

int bufferevent_enable(struct bufferevent *bufev, short event) {
    BEV_REQUIRE(bufev, -1);
    return bev::enable(bev::from(bufev), event);
}

int bufferevent_disable(struct bufferevent *bufev, short event) {
    BEV_REQUIRE(bufev, -1);
    return bev::disable(bev::from(bufev), event);
}

short bufferevent_get_enabled(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, 0);
    Bev *b = bev::from(bufev);
    bev::lock(b);
    short e = bufev->enabled;
    bev::unlock(b);
    return e;
}

int bufferevent_set_timeouts(struct bufferevent *bufev, const struct timeval *timeout_read,
                             const struct timeval *timeout_write) {
    BEV_REQUIRE(bufev, -1);
    return bev::set_timeouts(bev::from(bufev), timeout_read, timeout_write);
}

void bufferevent_setwatermark(struct bufferevent *bufev, short events, size_t lowmark,
                              size_t highmark) {
    if (!bufev) return;
    bev::set_watermark(bev::from(bufev), events, lowmark, highmark);
}

int bufferevent_getwatermark(struct bufferevent *bufev, short events, size_t *lowmark,
                             size_t *highmark) {
    BEV_REQUIRE(bufev, -1);
    Bev *b = bev::from(bufev);
    const event_watermark *wm;
    if (events == EV_READ) wm = &bufev->wm_read;
    else if (events == EV_WRITE) wm = &bufev->wm_write;
    else return -1;
    bev::lock(b);
    if (lowmark) *lowmark = wm->low;
    if (highmark) *highmark = wm->high;
    bev::unlock(b);
    return 0;
}

void bufferevent_lock(struct bufferevent *bufev) {
    if (bufev) bev::lock(bev::from(bufev));
}

void bufferevent_unlock(struct bufferevent *bufev) {
    if (bufev) bev::unlock(bev::from(bufev));
}

void bufferevent_incref(struct bufferevent *bufev) {
    if (!bufev) return;
    Bev *b = bev::from(bufev);
    bev::incref_and_lock(b);
    bev::unlock(b);
}

int bufferevent_decref(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, -1);
    Bev *b = bev::from(bufev);
    bev::lock(b);
    return bev::decref_and_unlock(b) ? 1 : 0;
}

int bufferevent_flush(struct bufferevent *bufev, short iotype, enum bufferevent_flush_mode mode) {
    BEV_REQUIRE(bufev, -1);
    Bev *b = bev::from(bufev);
    bev::incref_and_lock(b);
    int r = b->pub.be_ops->flush(b, iotype, mode);
    bev::decref_and_unlock(b);
    return r;
}

void bufferevent_trigger(struct bufferevent *bufev, short iotype, int options) {
    if (!bufev) return;
    Bev *b = bev::from(bufev);
    bev::incref_and_lock(b);
    // Only libevent's two trigger bits count; ours says the program asked (see bev.h).
    bev::trigger_nolock(b, iotype,
                        (options & (BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS)) |
                            bev::kTrigByProgram);
    bev::decref_and_unlock(b);
}

void bufferevent_trigger_event(struct bufferevent *bufev, short what, int options) {
    if (!bufev) return;
    Bev *b = bev::from(bufev);
    bev::incref_and_lock(b);
    bev::run_eventcb(b, what, options);
    bev::decref_and_unlock(b);
}

struct bufferevent *bufferevent_filter_new(struct bufferevent *underlying,
                                           bufferevent_filter_cb input_filter,
                                           bufferevent_filter_cb output_filter, int options,
                                           void (*free_context)(void *), void *ctx) {
    BEV_REQUIRE(underlying, nullptr);
    return bev::filter_new(bev::from(underlying), input_filter, output_filter, options,
                           free_context, ctx);
}

int bufferevent_pair_new(struct event_base *base, int options, struct bufferevent *pair[2]) {
    BEV_REQUIRE(pair, -1);  // a NULL base is the current base of event_init (checked below)
    return bev::pair_new(base, options, pair);
}

struct bufferevent *bufferevent_pair_get_partner(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, nullptr);
    return bev::pair_get_partner(bev::from(bufev));
}

struct ev_token_bucket_cfg *ev_token_bucket_cfg_new(size_t read_rate, size_t read_burst,
                                                    size_t write_rate, size_t write_burst,
                                                    const struct timeval *tick_len) {
    return bev::cfg_new(read_rate, read_burst, write_rate, write_burst, tick_len);
}

void ev_token_bucket_cfg_free(struct ev_token_bucket_cfg *cfg) {
    bev::cfg_free(cfg);
}

int bufferevent_set_rate_limit(struct bufferevent *bufev, struct ev_token_bucket_cfg *cfg) {
    BEV_REQUIRE(bufev, -1);
    return bev::set_rate_limit(bev::from(bufev), cfg);
}

struct bufferevent_rate_limit_group *bufferevent_rate_limit_group_new(
    struct event_base *base, const struct ev_token_bucket_cfg *cfg) {
    return bev::group_new(base, cfg);
}

int bufferevent_rate_limit_group_set_cfg(struct bufferevent_rate_limit_group *group,
                                         const struct ev_token_bucket_cfg *cfg) {
    return bev::group_set_cfg(group, cfg);
}

int bufferevent_rate_limit_group_set_min_share(struct bufferevent_rate_limit_group *group,
                                               size_t share) {
    return bev::group_set_min_share(group, share);
}

void bufferevent_rate_limit_group_free(struct bufferevent_rate_limit_group *group) {
    bev::group_free(group);
}

int bufferevent_add_to_rate_limit_group(struct bufferevent *bufev,
                                        struct bufferevent_rate_limit_group *g) {
    BEV_REQUIRE(bufev, -1);
    return bev::group_add(bev::from(bufev), g);
}

int bufferevent_remove_from_rate_limit_group(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, -1);
    return bev::group_remove(bev::from(bufev));
}

int bufferevent_set_max_single_read(struct bufferevent *bufev, size_t size) {
    BEV_REQUIRE(bufev, -1);
    Bev *b = bev::from(bufev);
    bev::lock(b);
    // 0 or beyond EV_SSIZE_MAX: the default. One read never exceeds INT_MAX anyway.
    b->max_single_read = (size == 0 || size > size_t(EV_SSIZE_MAX))
                             ? 0 : int32_t(size > size_t(INT32_MAX) ? INT32_MAX : size);
    bev::unlock(b);
    return 0;
}

int bufferevent_set_max_single_write(struct bufferevent *bufev, size_t size) {
    BEV_REQUIRE(bufev, -1);
    Bev *b = bev::from(bufev);
    bev::lock(b);
    b->max_single_write = (size == 0 || size > size_t(EV_SSIZE_MAX))
                              ? 0 : int32_t(size > size_t(INT32_MAX) ? INT32_MAX : size);
    bev::unlock(b);
    return 0;
}

ev_ssize_t bufferevent_get_max_single_read(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, -1);
    return bev::max_single_read(bev::from(bufev));
}

ev_ssize_t bufferevent_get_max_single_write(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, -1);
    return bev::max_single_write(bev::from(bufev));
}

ev_ssize_t bufferevent_get_read_limit(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, -1);
    return bev::get_limit(bev::from(bufev), false);
}

ev_ssize_t bufferevent_get_write_limit(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, -1);
    return bev::get_limit(bev::from(bufev), true);
}

ev_ssize_t bufferevent_get_max_to_read(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, -1);
    Bev *b = bev::from(bufev);
    bev::lock(b);
    ssize_t v = bev::limit_max(b, false);
    bev::unlock(b);
    return v;
}

ev_ssize_t bufferevent_get_max_to_write(struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, -1);
    Bev *b = bev::from(bufev);
    bev::lock(b);
    ssize_t v = bev::limit_max(b, true);
    bev::unlock(b);
    return v;
}

const struct ev_token_bucket_cfg *bufferevent_get_token_bucket_cfg(const struct bufferevent *bufev) {
    BEV_REQUIRE(bufev, nullptr);
    return bev::get_cfg(bev::from(bufev));
}

ev_ssize_t bufferevent_rate_limit_group_get_read_limit(struct bufferevent_rate_limit_group *group) {
    BEV_REQUIRE(group, -1);
    return bev::group_get_limit(group, false);
}

ev_ssize_t bufferevent_rate_limit_group_get_write_limit(struct bufferevent_rate_limit_group *group) {
    BEV_REQUIRE(group, -1);
    return bev::group_get_limit(group, true);
}

int bufferevent_decrement_read_limit(struct bufferevent *bufev, ev_ssize_t decr) {
    BEV_REQUIRE(bufev, -1);
    return bev::decrement_limit(bev::from(bufev), decr, false);
}

int bufferevent_decrement_write_limit(struct bufferevent *bufev, ev_ssize_t decr) {
    BEV_REQUIRE(bufev, -1);
    return bev::decrement_limit(bev::from(bufev), decr, true);
}

int bufferevent_rate_limit_group_decrement_read(struct bufferevent_rate_limit_group *group,
                                                ev_ssize_t decr) {
    BEV_REQUIRE(group, -1);
    return bev::group_decrement(group, decr, false);
}

int bufferevent_rate_limit_group_decrement_write(struct bufferevent_rate_limit_group *group,
                                                 ev_ssize_t decr) {
    BEV_REQUIRE(group, -1);
    return bev::group_decrement(group, decr, true);
}

void bufferevent_rate_limit_group_get_totals(struct bufferevent_rate_limit_group *grp,
                                             ev_uint64_t *total_read_out,
                                             ev_uint64_t *total_written_out) {
    if (!grp) return;
    bev::group_totals(grp, total_read_out, total_written_out);
}

void bufferevent_rate_limit_group_reset_totals(struct bufferevent_rate_limit_group *grp) {
    if (grp) bev::group_reset_totals(grp);
}
