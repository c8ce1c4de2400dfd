// <event2/rpc.h>, calls: a round trip, queueing on a one-connection pool, replies made
// later, request contexts, failures (timeout, bad payloads, incomplete replies, unknown
// RPCs) and freeing a server that still has RPCs. Every backend, both libraries.
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>

#include "differences.h"
#include "helpers.h"
#include "rpc_fixture.h"

namespace rpct {
namespace {

class RpcCall : public RpcTest {};

TEST_P(RpcCall, RoundTripDoublesTheNumber) {
    ASSERT_EQ(send(21, 0), 0);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_NONE);
    EXPECT_TRUE(outcomes[0].had_http_req);
    EXPECT_EQ(outcomes[0].response_code, HTTP_OK);
    EXPECT_EQ(outcomes[0].value, 42u);
    EXPECT_EQ(outcomes[0].value_set, 1);
    EXPECT_EQ(served, 1);
}

// The reply goes out as application/octet-stream at /.rpc.<name>, a POST.
TEST_P(RpcCall, ReplyIsOctetStreamAt200) {
    struct Seen {
        std::string type;
        int code = 0;
    } seen;
    auto *h = evrpc_add_hook(
        pool_, EVRPC_INPUT,
        [](void *, evhttp_request *req, evbuffer *, void *arg) {
            auto *s = static_cast<Seen *>(arg);
            const char *t = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
            s->type = t ? t : "";
            s->code = evhttp_request_get_response_code(req);
            return static_cast<int>(EVRPC_CONTINUE);
        },
        &seen);
    ASSERT_NE(h, nullptr);
    ASSERT_EQ(send(1, 0), 0);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(seen.type, "application/octet-stream");
    EXPECT_EQ(seen.code, 200);
}

// One connection: the pool queues what it cannot send and sends it in order.
TEST_P(RpcCall, OneConnectionQueuesRequestsInOrder) {
    serve = Serve::later;
    for (ev_uint32_t i = 0; i < 5; ++i) ASSERT_EQ(send(10 + i, i), 0);
    // Only one reaches the server while it is unanswered.
    ASSERT_TRUE(run_until([&] { return served == 1; }));
    run_until([] { return false; }, 0.2);
    EXPECT_EQ(served, 1);
    serve = Serve::now;
    for (auto *call : held) {
        call->reply->value = 2 * call->request->value;
        call->reply->value_set = 1;
        EVRPC_REQUEST_DONE(call);
    }
    held.clear();
    ASSERT_TRUE(run_until([&] { return completed == 5; }));
    for (size_t i = 0; i < 5; ++i) {
        EXPECT_EQ(outcomes[i].error, EVRPC_STATUS_ERR_NONE) << i;
        EXPECT_EQ(outcomes[i].value, 2 * (10 + i)) << i;
        EXPECT_EQ(outcomes[i].order, static_cast<int>(i + 1)) << i;
    }
    EXPECT_EQ(served, 5);
}

// The server callback may answer from a later callback of its own.
TEST_P(RpcCall, RequestDoneFromALaterCallback) {
    serve = Serve::later;
    ASSERT_EQ(send(7, 0), 0);
    ASSERT_TRUE(run_until([&] { return held.size() == 1; }));
    EXPECT_EQ(evrpc_get_request(reinterpret_cast<evrpc_req_generic *>(held[0])), held[0]->request);
    EXPECT_EQ(evrpc_get_reply(reinterpret_cast<evrpc_req_generic *>(held[0])), held[0]->reply);
    EXPECT_NE(EVRPC_REQUEST_HTTP(held[0]), nullptr);
    event *later = evtimer_new(
        base(),
        [](evutil_socket_t, short, void *arg) {
            auto *call = static_cast<EVRPC_STRUCT(Double) *>(arg);
            call->reply->value = call->request->value + 100;
            call->reply->value_set = 1;
            EVRPC_REQUEST_DONE(call);
        },
        held[0]);
    timeval tv{0, 50000};
    evtimer_add(later, &tv);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    event_free(later);
    held.clear();
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_NONE);
    EXPECT_EQ(outcomes[0].value, 107u);
}

TEST_P(RpcCall, MakeRequestCtxWithReplacedCallback) {
    num_msg *req = num_msg_new();
    num_msg *rpl = num_msg_new();
    msgs.push_back(req);
    msgs.push_back(rpl);
    req->value = 5;
    req->value_set = 1;
    int unused = 0;
    evrpc_request_wrapper *ctx = EVRPC_MAKE_CTX(Double, num_msg, num_msg, pool_, req, rpl,
                                                reply_cb, &unused);
    ASSERT_NE(ctx, nullptr);
    EXPECT_EQ(evrpc_request_get_pool(ctx), pool_);
    evrpc_pool *other = evrpc_pool_new(base());
    evrpc_request_set_pool(ctx, other);
    EXPECT_EQ(evrpc_request_get_pool(ctx), other);
    evrpc_request_set_pool(ctx, pool_);
    evrpc_pool_free(other);
    struct Got {
        int error = -1;
        ev_uint32_t value = 0;
    } got;
    evrpc_request_set_cb(
        ctx,
        [](evrpc_status *st, void *, void *reply, void *arg) {
            auto *g = static_cast<Got *>(arg);
            g->error = st->error;
            g->value = static_cast<num_msg *>(reply)->value;
        },
        &got);
    ASSERT_EQ(evrpc_make_request(ctx), 0);
    ASSERT_TRUE(run_until([&] { return got.error != -1; }));
    EXPECT_EQ(got.error, EVRPC_STATUS_ERR_NONE);
    EXPECT_EQ(got.value, 10u);
    EXPECT_EQ(completed, 0);  // the first callback never ran
}

// A pool timeout ends a request whose reply does not come.
TEST_P(RpcCall, PoolTimeoutGivesErrTimeout) {
    // A listening socket nobody accepts from: connections are made and never answered.
    sockaddr_in sin;
    int lfd = conf::loopback_socket(SOCK_STREAM, &sin);
    ASSERT_GE(lfd, 0);
    ASSERT_EQ(listen(lfd, 8), 0);
    // The pool's base runs its timer; the connection (made without a base, around a
    // bufferevent of ours) gets it from the pool.
    evrpc_pool *silent = evrpc_pool_new(base());
    bufferevent *bev = bufferevent_socket_new(base(), -1, BEV_OPT_CLOSE_ON_FREE);
    evrpc_pool_add_connection(silent, evhttp_connection_base_bufferevent_new(
                                          nullptr, nullptr, bev, "127.0.0.1", ntohs(sin.sin_port)));
    evrpc_pool_set_timeout(silent, 1);
    std::swap(silent, pool_);
    auto start = std::chrono::steady_clock::now();
    ASSERT_EQ(send(3, 0), 0);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::swap(silent, pool_);
    evrpc_pool_free(silent);
    close(lfd);
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_TIMEOUT);
    EXPECT_FALSE(outcomes[0].had_http_req);
    EXPECT_EQ(outcomes[0].value_set, 0);  // cleared
    EXPECT_GT(took, 0.8);
    EXPECT_LT(took, 5.0);
}

// A reply that does not unmarshal: the client gets ERR_BADPAYLOAD and a cleared reply.
TEST_P(RpcCall, GarbageReplyIsBadPayload) {
    ASSERT_EQ(evrpc_unregister_rpc(rpc_base_, "Double"), 0);
    evhttp_set_cb(
        http_, "/.rpc.Double",
        [](evhttp_request *req, void *) {
            evbuffer *b = evbuffer_new();
            evbuffer_add_printf(b, "not a tagged record");
            evhttp_send_reply(req, 200, "OK", b);
            evbuffer_free(b);
        },
        nullptr);
    ASSERT_EQ(send(3, 0), 0);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_BADPAYLOAD);
    EXPECT_TRUE(outcomes[0].had_http_req);
    EXPECT_EQ(outcomes[0].value_set, 0);
}

// A request that does not unmarshal never reaches the callback: the server answers 503.
TEST_P(RpcCall, GarbageRequestIsRefusedWith503) {
    num_msg *req = num_msg_new();
    num_msg *rpl = num_msg_new();
    msgs.push_back(req);
    msgs.push_back(rpl);
    ASSERT_EQ(evrpc_send_request_generic(
                  pool_, req, rpl,
                  reinterpret_cast<void (*)(evrpc_status *, void *, void *, void *)>(reply_cb),
                  new SendCtx{this, 0}, "Double",
                  [](evbuffer *b, void *) { evbuffer_add_printf(b, "junk"); },
                  reinterpret_cast<void (*)(void *)>(num_msg_clear),
                  reinterpret_cast<int (*)(void *, evbuffer *)>(num_msg_unmarshal)),
              0);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(served, 0);
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_BADPAYLOAD);
    EXPECT_EQ(outcomes[0].response_code, HTTP_SERVUNAVAIL);
}

TEST_P(RpcCall, IncompleteReplyIs503AndBadPayload) {
    serve = Serve::incomplete;
    ASSERT_EQ(send(4, 0), 0);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(served, 1);
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_BADPAYLOAD);
    EXPECT_EQ(outcomes[0].response_code, HTTP_SERVUNAVAIL);
}

TEST_P(RpcCall, UnregisteredRpcIsNotServed) {
    EXPECT_EQ(EVRPC_UNREGISTER(rpc_base_, Double), 0);
    EXPECT_EQ(EVRPC_UNREGISTER(rpc_base_, Double), -1);
    EXPECT_EQ(evrpc_unregister_rpc(rpc_base_, "Nothing"), -1);
    ASSERT_EQ(send(4, 0), 0);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(served, 0);
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_BADPAYLOAD);
    EXPECT_EQ(outcomes[0].response_code, HTTP_NOTFOUND);
}

// evrpc_free unregisters every RPC (their paths are free on the evhttp again) and drops
// the hooks.
TEST_P(RpcCall, FreeReleasesRegisteredRpcsAndHooks) {
    ASSERT_EQ(evrpc_register_generic(
                  rpc_base_, "Triple", [](evrpc_req_generic *, void *) {}, nullptr,
                  reinterpret_cast<void *(*)(void *)>(num_msg_new_with_arg), nullptr,
                  reinterpret_cast<void (*)(void *)>(num_msg_free),
                  reinterpret_cast<int (*)(void *, evbuffer *)>(num_msg_unmarshal),
                  reinterpret_cast<void *(*)(void *)>(num_msg_new_with_arg), nullptr,
                  reinterpret_cast<void (*)(void *)>(num_msg_free),
                  reinterpret_cast<int (*)(void *)>(num_msg_complete),
                  reinterpret_cast<void (*)(evbuffer *, void *)>(num_msg_marshal)),
              0);
    auto hook = [](void *, evhttp_request *, evbuffer *, void *) { return static_cast<int>(EVRPC_CONTINUE); };
    ASSERT_NE(evrpc_add_hook(rpc_base_, EVRPC_INPUT, hook, nullptr), nullptr);
    ASSERT_NE(evrpc_add_hook(rpc_base_, EVRPC_OUTPUT, hook, nullptr), nullptr);
    // Taken: the paths are served.
    auto noop = [](evhttp_request *, void *) {};
    EXPECT_EQ(evhttp_set_cb(http_, "/.rpc.Double", noop, nullptr), -1);
    EXPECT_EQ(evhttp_set_cb(http_, "/.rpc.Triple", noop, nullptr), -1);
    evrpc_free(rpc_base_);
    rpc_base_ = nullptr;
    EXPECT_EQ(evhttp_set_cb(http_, "/.rpc.Double", noop, nullptr), 0);
    EXPECT_EQ(evhttp_set_cb(http_, "/.rpc.Triple", noop, nullptr), 0);
}

// A plain GET at an RPC's path is refused with 503.
TEST_P(RpcCall, GetIsRefused) {
    int code = -1;
    evhttp_connection *c = evhttp_connection_base_new(base(), nullptr, "127.0.0.1", static_cast<ev_uint16_t>(port_));
    evhttp_request *req = evhttp_request_new(
        [](evhttp_request *r, void *arg) { *static_cast<int *>(arg) = r ? evhttp_request_get_response_code(r) : 0; },
        &code);
    ASSERT_EQ(evhttp_make_request(c, req, EVHTTP_REQ_GET, "/.rpc.Double"), 0);
    ASSERT_TRUE(run_until([&] { return code != -1; }));
    evhttp_connection_free(c);
    EXPECT_EQ(code, HTTP_SERVUNAVAIL);
    EXPECT_EQ(served, 0);
}

// A connection taken back from the pool is the caller's again (the pool does not free it)
// and gets no more requests.
TEST_P(RpcCall, RemovedConnectionIsTheCallersAgain) {
    evhttp_connection *second = evhttp_connection_base_new(base(), nullptr, "127.0.0.1", static_cast<ev_uint16_t>(port_));
    evrpc_pool_add_connection(pool_, second);
    evrpc_pool_remove_connection(pool_, evcon_);
    evhttp_connection_free(evcon_);
    evcon_ = second;
    ASSERT_EQ(send(30, 0), 0);
    ASSERT_EQ(send(31, 1), 0);
    ASSERT_TRUE(run_until([&] { return completed == 2; }));
    EXPECT_EQ(outcomes[0].value, 60u);
    EXPECT_EQ(outcomes[1].value, 62u);
}

// A connection that cannot be made gives the request back with a reply of code 0, which
// does not unmarshal.
TEST_P(RpcCall, RefusedConnectionIsBadPayload) {
    sockaddr_in sin;
    int fd = conf::loopback_socket(SOCK_STREAM, &sin);
    ASSERT_GE(fd, 0);
    close(fd);  // nobody listens on that port now
    evrpc_pool *refused = evrpc_pool_new(nullptr);
    evrpc_pool_add_connection(refused, evhttp_connection_base_new(base(), nullptr, "127.0.0.1", ntohs(sin.sin_port)));
    std::swap(refused, pool_);
    ASSERT_EQ(send(3, 0), 0);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    std::swap(refused, pool_);
    evrpc_pool_free(refused);
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_BADPAYLOAD);
    EXPECT_EQ(outcomes[0].response_code, 0);
    EXPECT_EQ(served, 0);
}

// differences.h kRpcForgivesMisuse: a request made on a pool without connections waits
// for one; a name registered twice is refused.
TEST_P(RpcCall, ReeventQueuesWithoutConnectionsAndRefusesADoubleRegistration) {
    if (!conf::kRpcForgivesMisuse) GTEST_SKIP() << "libevent 2.1 aborts on these";
    EXPECT_EQ(EVRPC_REGISTER(rpc_base_, Double, num_msg, num_msg, double_cb, this), -1);
    evrpc_pool_remove_connection(pool_, evcon_);
    ASSERT_EQ(send(5, 0), 0);
    run_until([] { return false; }, 0.1);
    EXPECT_EQ(completed, 0);
    evrpc_pool_add_connection(pool_, evcon_);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(outcomes[0].value, 10u);
}

CONF_INSTANTIATE_BACKENDS(RpcCall);

}  // namespace
}  // namespace rpct
