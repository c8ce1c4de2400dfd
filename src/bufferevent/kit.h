// What a bufferevent kind built outside libevent_core (libevent_openssl's) needs from core.
//
// The add-on library cannot link to core's internals: core exports libevent's public names
// only (tests/abi). So core hands out this table through the ops of any bufferevent it made
// (bufferevent_ops::kit), and the add-on reads it from the underlying bufferevent it is
// given or creates. No name appears in the dynamic symbol table for it.
#pragma once

#include "bufferevent/bev.h"

namespace reevent::bev {

struct Kit {
    bool (*init_common)(Bev *b, event_base *base, const bufferevent_ops *ops, int options,
                        core::Lock *shared_lock);
    void (*destroy_unlinked)(Bev *b);
    void (*lock)(Bev *b);
    void (*unlock)(Bev *b);
    bool (*decref_and_unlock)(Bev *b);
    void (*run_readcb)(Bev *b, int options);
    void (*run_writecb)(Bev *b, int options);
    void (*run_eventcb)(Bev *b, short what, int options);
    void (*trigger_nolock)(Bev *b, short iotype, int options);
    void (*suspend_read)(Bev *b, uint8_t why);
    void (*unsuspend_read)(Bev *b, uint8_t why);
    void (*generic_init_timeouts)(Bev *b);
    void (*generic_arm)(Bev *b, short what);
    void (*generic_disarm)(Bev *b, short what);
    void (*generic_adj_timeouts)(Bev *b);
    void (*release)(Bev *b);
    event_base *(*base_of)(const Bev *b);
    // Writes the output buffer of a socket bufferevent to its fd now, as far as the kernel
    // takes it without blocking.
    void (*socket_write_now)(Bev *b);
    // Rate limits (rate_limit.cpp): how much one read/write may move now, accounting for
    // what moved, and pausing a starved direction until its buckets refill.
    ssize_t (*limit_max)(Bev *b, bool write);
    void (*decrement_read_buckets)(Bev *b, ssize_t n);
    void (*decrement_write_buckets)(Bev *b, ssize_t n);
    void (*rate_starved)(Bev *b, bool write);
};

extern const Kit kKit;

}  // namespace reevent::bev
