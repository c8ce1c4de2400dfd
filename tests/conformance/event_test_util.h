// Small helpers shared by the event_*_test.cpp files (public API only).
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <vector>

#include "backend_fixture.h"
#include "differences.h"
#include "helpers.h"

namespace conf::ev {

// Records every callback invocation: (tag, what).
struct Recorder {
    std::vector<std::pair<int, short>> calls;
    int count(int tag) const {
        int n = 0;
        for (auto &c : calls) n += c.first == tag;
        return n;
    }
};

struct Tagged {
    Recorder *rec;
    int tag;
};

inline void record_cb(evutil_socket_t, short what, void *arg) {
    auto *t = static_cast<Tagged *>(arg);
    t->rec->calls.emplace_back(t->tag, what);
}

// Runs the loop until pred() holds or limit_ms passes; false on timeout.
template <class Pred>
bool run_until(event_base *b, Pred pred, int limit_ms = 2000) {
    double end = now_ms() + limit_ms;
    while (!pred()) {
        if (now_ms() > end) return false;
        timeval tv = tv_ms(5);
        event_base_loopexit(b, &tv);
        event_base_loop(b, EVLOOP_ONCE);
    }
    return true;
}

inline void write_byte(int fd) { ASSERT_EQ(::write(fd, "x", 1), 1); }
inline void drain(int fd) {
    char buf[256];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
}

inline short flags_of(const event *ev) { return ev->ev_evcallback.evcb_flags; }

}  // namespace conf::ev
