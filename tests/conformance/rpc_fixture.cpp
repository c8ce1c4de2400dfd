// See rpc_fixture.h.
#include "rpc_fixture.h"

EVRPC_GENERATE(Double, num_msg, num_msg)

namespace rpct {

namespace {

int local_port(int fd) {
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    getsockname(fd, reinterpret_cast<sockaddr *>(&sa), &len);
    return ntohs(sa.sin_port);
}

}  // namespace

void RpcTest::SetUp() {
    conf::BackendTest::SetUp();
    http_ = evhttp_new(base());
    ASSERT_NE(http_, nullptr);
    evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http_, "127.0.0.1", 0);
    ASSERT_NE(bound, nullptr);
    port_ = local_port(evhttp_bound_socket_get_fd(bound));
    rpc_base_ = evrpc_init(http_);
    ASSERT_NE(rpc_base_, nullptr);
    ASSERT_EQ(EVRPC_REGISTER(rpc_base_, Double, num_msg, num_msg, double_cb, this), 0);
    // A pool without a base: its connection has one (libevent refuses to give a
    // connection that has a base another one).
    pool_ = evrpc_pool_new(nullptr);
    ASSERT_NE(pool_, nullptr);
    evcon_ = evhttp_connection_base_new(base(), nullptr, "127.0.0.1", static_cast<ev_uint16_t>(port_));
    ASSERT_NE(evcon_, nullptr);
    evrpc_pool_add_connection(pool_, evcon_);
}

void RpcTest::TearDown() {
    if (pool_) evrpc_pool_free(pool_);  // frees evcon_
    if (rpc_base_) evrpc_free(rpc_base_);
    if (http_) evhttp_free(http_);
    for (num_msg *m : msgs) num_msg_free(m);
    conf::BackendTest::TearDown();
}

bool RpcTest::run_until(const std::function<bool()> &pred, double seconds) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    // A ticking timer so that each EVLOOP_ONCE pass returns soon.
    event *tick = event_new(base(), -1, EV_PERSIST, [](evutil_socket_t, short, void *) {}, nullptr);
    timeval tv{0, 10000};
    event_add(tick, &tv);
    while (!pred() && std::chrono::steady_clock::now() < deadline)
        event_base_loop(base(), EVLOOP_ONCE);
    event_free(tick);
    return pred();
}

void RpcTest::reply_cb(evrpc_status *st, num_msg *, num_msg *rpl, void *arg) {
    auto *sc = static_cast<SendCtx *>(arg);
    RpcTest *t = sc->test;
    Outcome &o = t->outcomes[sc->slot];
    o.error = st->error;
    o.had_http_req = st->http_req != nullptr;
    if (st->http_req) o.response_code = evhttp_request_get_response_code(st->http_req);
    o.value = rpl->value;
    o.value_set = rpl->value_set;
    o.order = ++t->completed;
    delete sc;
}

int RpcTest::send(ev_uint32_t value, size_t slot) {
    num_msg *req = num_msg_new();
    num_msg *rpl = num_msg_new();
    msgs.push_back(req);
    msgs.push_back(rpl);
    req->value = value;
    req->value_set = 1;
    auto *ctx = new SendCtx{this, slot};
    return EVRPC_MAKE_REQUEST(Double, pool_, req, rpl, reply_cb, ctx);
}

void RpcTest::double_cb(EVRPC_STRUCT(Double) * call, void *arg) {
    auto *t = static_cast<RpcTest *>(arg);
    ++t->served;
    if (t->serve == Serve::later || t->serve == Serve::hold) {
        t->held.push_back(call);
        return;
    }
    if (t->serve == Serve::now) {
        call->reply->value = 2 * call->request->value;
        call->reply->value_set = 1;
    }
    EVRPC_REQUEST_DONE(call);
}

}  // namespace rpct
