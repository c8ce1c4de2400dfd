// <event2/rpc.h> the way old programs (and libevent's own rpc tests) set it up: one base
// from event_init, and an evhttp server and client connection made without a base, which
// then run on that base.
#include <event2/event_compat.h>
#include <event2/http_compat.h>

#include "rpc_fixture.h"

namespace rpct {
namespace {

TEST(RpcLegacy, ServerAndConnectionWithoutABaseRunOnTheEventInitBase) {
    event_base *base = event_init();
    ASSERT_NE(base, nullptr);
    evhttp *http = evhttp_new(nullptr);
    ASSERT_NE(http, nullptr);
    evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
    ASSERT_NE(bound, nullptr);
    sockaddr_in sa{};
    socklen_t len = sizeof sa;
    getsockname(evhttp_bound_socket_get_fd(bound), reinterpret_cast<sockaddr *>(&sa), &len);
    evrpc_base *rpc = evrpc_init(http);
    struct Served {
        int calls = 0;
    } served;
    ASSERT_EQ(EVRPC_REGISTER(rpc, Double, num_msg, num_msg,
                             +[](EVRPC_STRUCT(Double) * call, void *arg) {
                                 ++static_cast<Served *>(arg)->calls;
                                 call->reply->value = 2 * call->request->value;
                                 call->reply->value_set = 1;
                                 EVRPC_REQUEST_DONE(call);
                             },
                             &served),
              0);
    evrpc_pool *pool = evrpc_pool_new(nullptr);
    evhttp_connection *evcon = evhttp_connection_new("127.0.0.1", ntohs(sa.sin_port));
    ASSERT_NE(evcon, nullptr);
    evrpc_pool_add_connection(pool, evcon);
    num_msg *req = num_msg_new();
    num_msg *rpl = num_msg_new();
    req->value = 11;
    req->value_set = 1;
    struct Got {
        int error = -1;
        ev_uint32_t value = 0;
    } got;
    ASSERT_EQ(EVRPC_MAKE_REQUEST(Double, pool, req, rpl,
                                 +[](evrpc_status *st, num_msg *, num_msg *r, void *arg) {
                                     auto *g = static_cast<Got *>(arg);
                                     g->error = st->error;
                                     g->value = r->value;
                                     event_loopexit(nullptr);
                                 },
                                 &got),
              0);
    timeval limit{10, 0};
    event_base_loopexit(base, &limit);
    event_dispatch();
    EXPECT_EQ(got.error, EVRPC_STATUS_ERR_NONE);
    EXPECT_EQ(got.value, 22u);
    EXPECT_EQ(served.calls, 1);
    evrpc_pool_free(pool);
    evrpc_free(rpc);
    evhttp_free(http);
    num_msg_free(req);
    num_msg_free(rpl);
    event_base_free(base);
}

}  // namespace
}  // namespace rpct
