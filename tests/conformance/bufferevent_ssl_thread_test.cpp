// BEV_OPT_THREADSAFE TLS bufferevents: other threads write while the loop thread runs the
// connection (label "thread": run under TSan).
#include "ssl_support.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace {

using bevtest::Recorder;
using bevtest::run_until;
using ssltest::TlsPair;
using ssltest::Way;

class BevSslThread : public conf::BackendTest {
protected:
    void SetUp() override {
        ASSERT_EQ(evthread_use_pthreads(), 0);
        conf::BackendTest::SetUp();
    }
};

TEST_P(BevSslThread, WritesFromOtherThreadsArriveWhole) {
    auto cctx = ssltest::client_ctx();
    auto sctx = ssltest::server_ctx();
    for (Way w : {Way::kSocketUnix, Way::kFilterTcp}) {
        SCOPED_TRACE(ssltest::name(w));
        TlsPair p(base(), w, cctx.get(), sctx.get(), BEV_OPT_CLOSE_ON_FREE | BEV_OPT_THREADSAFE);
        std::atomic<size_t> got{0};
        std::string data;
        Recorder c, s;
        s.drain = false;
        s.on_read = [&](bufferevent *b) {
            evbuffer *in = bufferevent_get_input(b);
            size_t n = evbuffer_get_length(in);
            std::string chunk(n, '\0');
            evbuffer_remove(in, chunk.data(), n);
            data += chunk;
            got += n;
        };
        c.attach(p.cli);
        s.attach(p.srv);
        bufferevent_enable(p.srv, EV_READ);
        constexpr int kThreads = 4, kWrites = 200, kLen = 1000;
        std::vector<std::thread> ts;
        for (int t = 0; t < kThreads; ++t)
            ts.emplace_back([&, t] {
                std::string rec(kLen, static_cast<char>('A' + t));
                for (int i = 0; i < kWrites; ++i) bufferevent_write(p.cli, rec.data(), rec.size());
            });
        ASSERT_TRUE(run_until(base(), [&] { return got == size_t(kThreads) * kWrites * kLen; },
                              20000));
        for (auto &t : ts) t.join();
        // Each write went in whole: the stream is a sequence of 1000-byte runs.
        for (size_t i = 0; i < data.size(); i += kLen)
            ASSERT_EQ(data.substr(i, kLen), std::string(kLen, data[i])) << i;
        EXPECT_FALSE(s.got(BEV_EVENT_ERROR));
    }
}

CONF_INSTANTIATE_BACKENDS(BevSslThread);

}  // namespace
