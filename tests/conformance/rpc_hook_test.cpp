// <event2/rpc.h>, hooks and meta data: input and output hooks on the server (evrpc_base)
// and on the client (evrpc_pool) that go on, pause and resume later, or stop the call;
// meta data attached by one hook and found by a later one. Every backend, both libraries.
#include <string>

#include "rpc_fixture.h"

namespace rpct {
namespace {

// One hook's script and record.
struct HookProbe {
    int answer = EVRPC_CONTINUE;
    int calls = 0;
    size_t buffer_len = 0;
    void *vbase = nullptr;
    void *paused_ctx = nullptr;
    std::function<void(void *ctx, evhttp_request *, evbuffer *)> extra;
};

int probe_hook(void *ctx, evhttp_request *req, evbuffer *buf, void *arg) {
    auto *p = static_cast<HookProbe *>(arg);
    ++p->calls;
    p->buffer_len = evbuffer_get_length(buf);
    if (p->extra) p->extra(ctx, req, buf);
    if (p->answer == EVRPC_PAUSE) p->paused_ctx = ctx;
    return p->answer;
}

class RpcHook : public RpcTest {
protected:
    // Hooks at all four places, in this order: server in, server out, pool out, pool in.
    HookProbe probes[4];
    void add_all() {
        probes[0].vbase = probes[1].vbase = rpc_base_;
        probes[2].vbase = probes[3].vbase = pool_;
        ASSERT_NE(evrpc_add_hook(rpc_base_, EVRPC_INPUT, probe_hook, &probes[0]), nullptr);
        ASSERT_NE(evrpc_add_hook(rpc_base_, EVRPC_OUTPUT, probe_hook, &probes[1]), nullptr);
        ASSERT_NE(evrpc_add_hook(pool_, EVRPC_OUTPUT, probe_hook, &probes[2]), nullptr);
        ASSERT_NE(evrpc_add_hook(pool_, EVRPC_INPUT, probe_hook, &probes[3]), nullptr);
    }
};

TEST_P(RpcHook, EveryHookSeesItsBufferAndContinues) {
    add_all();
    probes[0].extra = [](void *, evhttp_request *req, evbuffer *) {
        EXPECT_EQ(evhttp_request_get_command(req), EVHTTP_REQ_POST);
        EXPECT_STREQ(evhttp_request_get_uri(req), "/.rpc.Double");
    };
    // The server's output hook adds a header; the client's input hook sees it.
    probes[1].extra = [](void *, evhttp_request *req, evbuffer *) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "X-Rpc-Hook", "yes");
    };
    std::string header;
    probes[3].extra = [&](void *, evhttp_request *req, evbuffer *) {
        const char *v = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Rpc-Hook");
        header = v ? v : "";
    };
    ASSERT_EQ(send(8, 0), 0);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_NONE);
    EXPECT_EQ(outcomes[0].value, 16u);
    for (auto &p : probes) {
        EXPECT_EQ(p.calls, 1);
        EXPECT_GT(p.buffer_len, 0u);
    }
    EXPECT_EQ(header, "yes");
}

// An output hook may rewrite what goes out.
TEST_P(RpcHook, PoolOutputHookRewritesTheRequest) {
    HookProbe p;
    p.extra = [](void *, evhttp_request *, evbuffer *buf) {
        evbuffer_drain(buf, evbuffer_get_length(buf));
        evtag_marshal_int(buf, kNumTag, 50);
    };
    ASSERT_NE(evrpc_add_hook(pool_, EVRPC_OUTPUT, probe_hook, &p), nullptr);
    ASSERT_EQ(send(1, 0), 0);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(outcomes[0].value, 100u);
}

TEST_P(RpcHook, PauseEverywhereThenResume) {
    add_all();
    for (auto &p : probes) p.answer = EVRPC_PAUSE;
    ASSERT_EQ(send(9, 0), 0);
    // In the order the call meets them: pool out, server in, server out, pool in.
    const int order[] = {2, 0, 1, 3};
    for (int k = 0; k < 4; ++k) {
        HookProbe &p = probes[order[k]];
        ASSERT_TRUE(run_until([&] { return p.paused_ctx != nullptr; })) << k;
        // Nothing moves while paused.
        run_until([] { return false; }, 0.05);
        if (k + 1 < 4) {
            EXPECT_EQ(probes[order[k + 1]].calls, 0) << k;
        }
        EXPECT_EQ(completed, 0);
        void *ctx = p.paused_ctx;
        EXPECT_EQ(evrpc_resume_request(p.vbase, ctx, EVRPC_CONTINUE), 0);
        // Resumed once only (the server's call pauses again at once in its output hook:
        // the same context on the same base).
        if (k != 1) {
            EXPECT_EQ(evrpc_resume_request(p.vbase, ctx, EVRPC_CONTINUE), -1) << k;
        }
    }
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_NONE);
    EXPECT_EQ(outcomes[0].value, 18u);
}

TEST_P(RpcHook, ResumeFromATimer) {
    add_all();
    probes[3].answer = EVRPC_PAUSE;
    ASSERT_EQ(send(2, 0), 0);
    ASSERT_TRUE(run_until([&] { return probes[3].paused_ctx != nullptr; }));
    event *t = evtimer_new(
        base(),
        [](evutil_socket_t, short, void *arg) {
            auto *p = static_cast<HookProbe *>(arg);
            evrpc_resume_request(p->vbase, p->paused_ctx, EVRPC_CONTINUE);
        },
        &probes[3]);
    timeval tv{0, 30000};
    evtimer_add(t, &tv);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    event_free(t);
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_NONE);
    EXPECT_EQ(outcomes[0].value, 4u);
}

TEST_P(RpcHook, ResumeOfAnUnknownContextFails) {
    int dummy = 0;
    EXPECT_EQ(evrpc_resume_request(rpc_base_, &dummy, EVRPC_CONTINUE), -1);
    EXPECT_EQ(evrpc_resume_request(pool_, &dummy, EVRPC_CONTINUE), -1);
}

// What a TERMINATE at each place gives the client.
struct TerminateCase {
    int place;  // index into probes
    int error;
    int served;
    int code;  // the HTTP status the client saw (0: none)
};

TEST_P(RpcHook, TerminateAtEachPlace) {
    const TerminateCase cases[] = {
        {0, EVRPC_STATUS_ERR_BADPAYLOAD, 0, HTTP_SERVUNAVAIL},
        {1, EVRPC_STATUS_ERR_BADPAYLOAD, 1, HTTP_SERVUNAVAIL},
        {2, EVRPC_STATUS_ERR_UNSTARTED, 0, 0},
        {3, EVRPC_STATUS_ERR_HOOKABORTED, 1, HTTP_OK},
    };
    add_all();
    size_t slot = 0;
    for (const auto &c : cases) {
        for (auto &p : probes) p.answer = EVRPC_CONTINUE;
        probes[c.place].answer = EVRPC_TERMINATE;
        served = 0;
        completed = 0;
        ASSERT_EQ(send(6, slot), 0);
        ASSERT_TRUE(run_until([&] { return completed == 1; })) << c.place;
        EXPECT_EQ(outcomes[slot].error, c.error) << c.place;
        EXPECT_EQ(served, c.served) << c.place;
        EXPECT_EQ(outcomes[slot].response_code, c.code) << c.place;
        EXPECT_EQ(outcomes[slot].value_set, c.error == EVRPC_STATUS_ERR_UNSTARTED ? 0 : 0) << c.place;
        ++slot;
    }
}

TEST_P(RpcHook, ResumeWithTerminateAbortsTheReply) {
    probes[3].vbase = pool_;
    probes[3].answer = EVRPC_PAUSE;
    ASSERT_NE(evrpc_add_hook(pool_, EVRPC_INPUT, probe_hook, &probes[3]), nullptr);
    ASSERT_EQ(send(2, 0), 0);
    ASSERT_TRUE(run_until([&] { return probes[3].paused_ctx != nullptr; }));
    EXPECT_EQ(evrpc_resume_request(pool_, probes[3].paused_ctx, EVRPC_TERMINATE), 0);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_HOOKABORTED);
    EXPECT_EQ(outcomes[0].value_set, 0);
}

TEST_P(RpcHook, RemovedHookIsNotCalled) {
    HookProbe p;
    void *h = evrpc_add_hook(rpc_base_, EVRPC_INPUT, probe_hook, &p);
    ASSERT_NE(h, nullptr);
    EXPECT_EQ(evrpc_remove_hook(rpc_base_, EVRPC_OUTPUT, h), 0);  // wrong list
    EXPECT_EQ(evrpc_remove_hook(rpc_base_, EVRPC_INPUT, h), 1);
    EXPECT_EQ(evrpc_remove_hook(rpc_base_, EVRPC_INPUT, h), 0);
    ASSERT_EQ(send(2, 0), 0);
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(p.calls, 0);
    EXPECT_EQ(outcomes[0].error, EVRPC_STATUS_ERR_NONE);
}

// Meta data added by one hook of a call is there for its later hooks (and, on the server,
// for the RPC callback through its call structure); the connection is known too.
TEST_P(RpcHook, MetaDataTravelsWithTheCall) {
    add_all();
    struct Found {
        std::string client;
        int server_hook = -1;
        int server_cb = -1;
        bool client_conn = false;
        bool server_conn = false;
        int missing = 0;
    } f;
    evhttp_connection *evcon = evcon_;
    probes[2].extra = [&](void *ctx, evhttp_request *, evbuffer *) {
        evrpc_hook_add_meta(ctx, "who", "client", 7);
        evrpc_hook_add_meta(ctx, "who", "second", 7);
        f.client_conn = evrpc_hook_get_connection(ctx) == evcon;
    };
    probes[3].extra = [&](void *ctx, evhttp_request *, evbuffer *) {
        void *data = nullptr;
        size_t size = 0;
        if (evrpc_hook_find_meta(ctx, "who", &data, &size) == 0)
            f.client.assign(static_cast<char *>(data), size);
        f.missing += evrpc_hook_find_meta(ctx, "nobody", &data, &size);
    };
    probes[0].extra = [&](void *ctx, evhttp_request *, evbuffer *) {
        int seven = 7;
        evrpc_hook_add_meta(ctx, "seen", &seven, sizeof seven);
        f.server_conn = evrpc_hook_get_connection(ctx) != nullptr;
    };
    probes[1].extra = [&](void *ctx, evhttp_request *, evbuffer *) {
        void *data = nullptr;
        size_t size = 0;
        if (evrpc_hook_find_meta(ctx, "seen", &data, &size) == 0 && size == sizeof(int))
            f.server_hook = *static_cast<int *>(data);
        // The client's meta data stays on the client.
        f.missing += evrpc_hook_find_meta(ctx, "who", &data, &size);
    };
    serve = Serve::later;
    ASSERT_EQ(send(2, 0), 0);
    ASSERT_TRUE(run_until([&] { return held.size() == 1; }));
    void *data = nullptr;
    size_t size = 0;
    if (evrpc_hook_find_meta(held[0], "seen", &data, &size) == 0) f.server_cb = *static_cast<int *>(data);
    held[0]->reply->value = 1;
    held[0]->reply->value_set = 1;
    EVRPC_REQUEST_DONE(held[0]);
    held.clear();
    ASSERT_TRUE(run_until([&] { return completed == 1; }));
    EXPECT_EQ(f.client, std::string("client", 7));
    EXPECT_EQ(f.server_hook, 7);
    EXPECT_EQ(f.server_cb, 7);
    EXPECT_TRUE(f.client_conn);
    EXPECT_TRUE(f.server_conn);
    EXPECT_EQ(f.missing, -2);
}

CONF_INSTANTIATE_BACKENDS(RpcHook);

}  // namespace
}  // namespace rpct
