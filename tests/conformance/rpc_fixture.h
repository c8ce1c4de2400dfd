// Shared by the rpc_*_test.cpp files: a hand-written message type with the functions
// event_rpcgen.py would generate (so EVRPC_REGISTER / EVRPC_GENERATE / EVRPC_MAKE_CTX work
// on it), one RPC "Double" (reply = 2 x request), and a fixture with an evhttp server, an
// evrpc_base on it and a pool with one connection to it, all on one base per backend.
#pragma once

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/rpc.h>
#include <event2/rpc_struct.h>
#include <event2/tag.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <vector>

#include "backend_fixture.h"

// ---- the message: one 32-bit number under tag 1 ----------------------------------------
struct num_msg {
    ev_uint32_t value;
    int value_set;
};

inline constexpr ev_uint32_t kNumTag = 1;

inline num_msg *num_msg_new() { return static_cast<num_msg *>(calloc(1, sizeof(num_msg))); }
inline num_msg *num_msg_new_with_arg(void *) { return num_msg_new(); }
inline void num_msg_free(num_msg *m) { free(m); }
inline void num_msg_clear(num_msg *m) { m->value = 0, m->value_set = 0; }
inline void num_msg_marshal(evbuffer *buf, const num_msg *m) {
    evtag_marshal_int(buf, kNumTag, m->value);
}
// The whole buffer must be exactly one record.
inline int num_msg_unmarshal(num_msg *m, evbuffer *buf) {
    if (evtag_unmarshal_int(buf, kNumTag, &m->value) == -1) return -1;
    if (evbuffer_get_length(buf) != 0) return -1;
    m->value_set = 1;
    return 0;
}
inline int num_msg_complete(num_msg *m) { return EVTAG_HAS(m, value) ? 0 : -1; }

EVRPC_HEADER(Double, num_msg, num_msg)

namespace rpct {

// What a reply callback saw.
struct Outcome {
    int error = -1;
    bool had_http_req = false;
    int response_code = 0;
    ev_uint32_t value = 0;
    int value_set = -1;
    int order = 0;
};

// The argument reply_cb gets: where to put the outcome.
class RpcTest;
struct SendCtx {
    RpcTest *test;
    size_t slot;
};

// How the server's Double callback behaves.
enum class Serve { now, later, incomplete, hold };

class RpcTest : public conf::BackendTest {
protected:
    void SetUp() override;
    void TearDown() override;

    // Runs the loop until pred() holds or seconds pass; whether pred() holds.
    bool run_until(const std::function<bool()> &pred, double seconds = 10);

    // Sends Double(value) through the pool; the outcome lands in outcomes[slot].
    int send(ev_uint32_t value, size_t slot);

    static void reply_cb(evrpc_status *st, num_msg *req, num_msg *rpl, void *arg);
    static void double_cb(EVRPC_STRUCT(Double) * call, void *arg);

    evhttp *http_ = nullptr;
    evrpc_base *rpc_base_ = nullptr;
    evrpc_pool *pool_ = nullptr;
    evhttp_connection *evcon_ = nullptr;
    int port_ = 0;

    Serve serve = Serve::now;
    int served = 0;  // server callbacks run
    std::vector<EVRPC_STRUCT(Double) *> held;  // Serve::later / hold
    std::vector<Outcome> outcomes{8};
    std::vector<num_msg *> msgs;  // freed in TearDown
    int completed = 0;
};

}  // namespace rpct
