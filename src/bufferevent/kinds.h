// Entry points of the bufferevent kinds and rate limiting for the C API shims
// (src/capi/bufferevent_capi.cpp); everything else stays private to src/bufferevent.
#pragma once

#include "bufferevent/bev.h"

namespace reevent::bev {

// bev_socket.cpp
bufferevent *socket_new(event_base *base, int fd, int options) noexcept;
bool is_socket(const Bev *b) noexcept;
// The socket bufferevent that bufferevent_socket_connect* work on: b itself, or the socket
// bufferevent a kind such as libevent_openssl's talks through; null for other kinds.
inline Bev *socket_part(Bev *b) noexcept {
    if (is_socket(b)) return b;
    Bev *u = b->pub.be_ops->socket_of ? b->pub.be_ops->socket_of(b) : nullptr;
    return u && is_socket(u) ? u : nullptr;
}
// Writes what the output holds to the fd now, as far as the kernel takes it.
void socket_write_now(Bev *b) noexcept;
int socket_connect(Bev *b, const sockaddr *sa, int socklen) noexcept;
int socket_connect_hostname(Bev *b, void *dns_base, int family, const char *hostname,
                            int port) noexcept;

// bev_pair.cpp
int pair_new(event_base *base, int options, bufferevent *pair[2]) noexcept;
bufferevent *pair_get_partner(Bev *b) noexcept;

// bev_filter.cpp
bufferevent *filter_new(Bev *under, bufferevent_filter_cb in, bufferevent_filter_cb out,
                        int options, void (*free_ctx)(void *), void *ctx) noexcept;

// rate_limit.cpp
ev_token_bucket_cfg *cfg_new(size_t read_rate, size_t read_burst, size_t write_rate,
                             size_t write_burst, const timeval *tick_len) noexcept;
void cfg_free(ev_token_bucket_cfg *cfg) noexcept;
int set_rate_limit(Bev *b, ev_token_bucket_cfg *cfg) noexcept;
const ev_token_bucket_cfg *get_cfg(const Bev *b) noexcept;
ssize_t get_limit(Bev *b, bool write) noexcept;
int decrement_limit(Bev *b, ssize_t decr, bool write) noexcept;
bufferevent_rate_limit_group *group_new(event_base *base, const ev_token_bucket_cfg *cfg) noexcept;
int group_set_cfg(bufferevent_rate_limit_group *g, const ev_token_bucket_cfg *cfg) noexcept;
int group_set_min_share(bufferevent_rate_limit_group *g, size_t share) noexcept;
void group_free(bufferevent_rate_limit_group *g) noexcept;
int group_add(Bev *b, bufferevent_rate_limit_group *g) noexcept;
int group_remove(Bev *b) noexcept;
ssize_t group_get_limit(bufferevent_rate_limit_group *g, bool write) noexcept;
int group_decrement(bufferevent_rate_limit_group *g, ssize_t decr, bool write) noexcept;
void group_totals(bufferevent_rate_limit_group *g, uint64_t *r, uint64_t *w) noexcept;
void group_reset_totals(bufferevent_rate_limit_group *g) noexcept;

}  // namespace reevent::bev
