// Conformance of <event2/bufferevent_ssl.h>: TLS bufferevents over sockets (socketpair and
// loopback TCP) and as filters (over socket bufferevents and over a bufferevent pair), on
// every backend. Each test runs every connection way in turn.
#include "ssl_support.h"

#include <cstring>
#include <string>

namespace {

using bevtest::Recorder;
using bevtest::run_for;
using bevtest::run_until;
using ssltest::kAllWays;
using ssltest::TlsPair;
using ssltest::Way;

// Subsets of ssltest::kAllWays (each test that leaves the pair out says why).
constexpr Way kNotOverAPair[] = {Way::kSocketUnix, Way::kSocketTcp, Way::kFilterUnix,
                                 Way::kFilterTcp};
constexpr Way kSocketWays[] = {Way::kSocketUnix, Way::kSocketTcp};
constexpr Way kFilterWays[] = {Way::kFilterUnix, Way::kFilterTcp};
constexpr Way kTcpWays[] = {Way::kSocketTcp, Way::kFilterTcp};

// A TlsPair whose client and server report to the recorders c and s.
struct Session : TlsPair {
    Session(event_base *base, Way w, SSL_CTX *cctx, SSL_CTX *sctx, Recorder &c, Recorder &s,
            int options = BEV_OPT_CLOSE_ON_FREE)
        : TlsPair(base, w, cctx, sctx, options), way(w), base_(base), c_(c), s_(s) {
        if (cli) c.attach(cli);
        if (srv) s.attach(srv);
    }
    const Way way;

    void read_both() {
        bufferevent_enable(cli, EV_READ);
        bufferevent_enable(srv, EV_READ);
    }
    bool handshake() { return ssltest::handshake(base_, c_, s_); }
    bool read_both_and_handshake() {
        read_both();
        return handshake();
    }

private:
    event_base *base_;
    Recorder &c_, &s_;
};

// A TLS bufferevent over a socket (or none yet: -1) that closes what it owns when freed.
bufferevent *tls_socket(event_base *base, evutil_socket_t fd, SSL *ssl, bufferevent_ssl_state st) {
    return bufferevent_openssl_socket_new(base, fd, ssl, st, BEV_OPT_CLOSE_ON_FREE);
}

// The client and server contexts most tests use; a test that needs others replaces them.
class BevSsl : public conf::BackendTest {
protected:
    ssltest::Ctx cctx = ssltest::client_ctx();
    ssltest::Ctx sctx = ssltest::server_ctx();

    // Writes msg to `from` and runs until the recorder `to` has read exactly that.
    bool arrives(bufferevent *from, const Recorder &to, const std::string &msg) {
        bufferevent_write(from, msg.data(), msg.size());
        return run_until(base(), [&] { return to.data == msg; });
    }

    // A TLS client socket bufferevent without an fd yet, reporting to c and reading.
    bufferevent *reading_client_without_fd(Recorder &c) {
        bufferevent *cli = tls_socket(base(), -1, SSL_new(cctx.get()), BUFFEREVENT_SSL_CONNECTING);
        if (cli) {
            c.attach(cli);
            bufferevent_enable(cli, EV_READ);
        }
        return cli;
    }

    // The TLS server socket bufferevent on the next connection l accepts, reporting to s and
    // reading; null if none was accepted.
    bufferevent *reading_server_accepted_from(bevtest::Listener &l, Recorder &s) {
        int fd = l.accept_one();
        if (fd < 0) return nullptr;
        bufferevent *srv = tls_socket(base(), fd, SSL_new(sctx.get()), BUFFEREVENT_SSL_ACCEPTING);
        s.attach(srv);
        bufferevent_enable(srv, EV_READ);
        return srv;
    }

    // Runs `body` once for each way, on a fresh Session of the two contexts.
    template <size_t N, class Body>
    void each_way(const Way (&ways)[N], Body body, int options = BEV_OPT_CLOSE_ON_FREE) {
        for (Way w : ways) {
            SCOPED_TRACE(ssltest::name(w));
            Recorder c, s;
            Session p(base(), w, cctx.get(), sctx.get(), c, s, options);
            body(p, c, s);
        }
    }
};

std::string str(evbuffer *b) {
    std::string s(evbuffer_get_length(b), '\0');
    evbuffer_copyout(b, s.data(), s.size());
    return s;
}

TEST_P(BevSsl, HandshakeReportsConnectedOnBothSidesThenDataFlows) {
    cctx = ssltest::client_ctx(true, true);
    each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
        ASSERT_NE(p.cli, nullptr);
        ASSERT_NE(p.srv, nullptr);
        ASSERT_TRUE(p.read_both_and_handshake());
        EXPECT_EQ(c.events.size(), 1u);
        EXPECT_EQ(s.events.size(), 1u);
        EXPECT_EQ(c.events[0], BEV_EVENT_CONNECTED);
        EXPECT_EQ(SSL_is_init_finished(p.cli_ssl), 1);
        ASSERT_TRUE(arrives(p.cli, s, "ping"));
        ASSERT_TRUE(arrives(p.srv, c, "pong!"));
        EXPECT_GE(c.writes, 1);
        EXPECT_GE(s.writes, 1);
    });
}

// (Not over a pair: libevent's server filter never reads the hello that reached its
// underlying before the filter existed.)
TEST_P(BevSsl, DataWrittenBeforeTheHandshakeIsSentAfterIt) {
    each_way(kNotOverAPair, [&](Session &p, Recorder &c, Recorder &s) {
        bufferevent_enable(p.srv, EV_READ);
        ASSERT_TRUE(arrives(p.cli, s, "early bytes"));
        EXPECT_TRUE(c.got(BEV_EVENT_CONNECTED));
        EXPECT_TRUE(s.got(BEV_EVENT_CONNECTED));
    });
}

TEST_P(BevSsl, GetSslUnderlyingAndFd) {
    for (Way w : kAllWays) {
        SCOPED_TRACE(ssltest::name(w));
        TlsPair p(base(), w, cctx.get(), sctx.get());
        EXPECT_EQ(bufferevent_openssl_get_ssl(p.cli), p.cli_ssl);
        EXPECT_EQ(bufferevent_openssl_get_ssl(p.srv), p.srv_ssl);
        if (ssltest::is_filter(w)) {
            EXPECT_EQ(bufferevent_get_underlying(p.cli), p.cli_under);
            EXPECT_EQ(bufferevent_openssl_get_ssl(p.cli_under), nullptr);
            EXPECT_EQ(bufferevent_getfd(p.cli), bufferevent_getfd(p.cli_under));
        } else {
            EXPECT_EQ(bufferevent_get_underlying(p.cli), nullptr);
            EXPECT_GE(bufferevent_getfd(p.cli), 0);
            EXPECT_EQ(bufferevent_getfd(p.cli), SSL_get_fd(p.cli_ssl));
        }
    }
}

TEST_P(BevSsl, AllowDirtyShutdownIsOffByDefaultAndCanBeSet) {
    TlsPair p(base(), Way::kSocketUnix, cctx.get(), sctx.get());
    EXPECT_EQ(bufferevent_openssl_get_allow_dirty_shutdown(p.cli), 0);
    bufferevent_openssl_set_allow_dirty_shutdown(p.cli, 1);
    EXPECT_EQ(bufferevent_openssl_get_allow_dirty_shutdown(p.cli), 1);
    bufferevent_openssl_set_allow_dirty_shutdown(p.cli, 0);
    EXPECT_EQ(bufferevent_openssl_get_allow_dirty_shutdown(p.cli), 0);
    EXPECT_EQ(bufferevent_get_openssl_error(p.cli), 0u);
}

TEST_P(BevSsl, NonTlsBufferevents) {
    bufferevent *plain = bufferevent_socket_new(base(), -1, 0);
    EXPECT_EQ(bufferevent_openssl_get_ssl(plain), nullptr);
    EXPECT_EQ(bufferevent_get_openssl_error(plain), 0u);
    EXPECT_EQ(bufferevent_ssl_renegotiate(plain), -1);
    bufferevent_free(plain);
}

// A few MiB both ways at once, checked byte for byte.
TEST_P(BevSsl, LargeTransfersBothWays) {
    constexpr size_t kTotal = 3u << 20;
    for (Way w : kAllWays) {
        SCOPED_TRACE(ssltest::name(w));
        TlsPair p(base(), w, cctx.get(), sctx.get());
        struct Side {
            size_t sent = 0, got = 0;
            uint64_t h_tx = bevtest::kFnvInit, h_rx = bevtest::kFnvInit;
            bool bad = false;
        } side[2];
        auto fill = [&](bufferevent *b, Side &sd) {
            while (sd.sent < kTotal && evbuffer_get_length(bufferevent_get_output(b)) < 256 * 1024) {
                // Odd piece sizes, so records and reads do not line up with writes.
                size_t n = std::min<size_t>(kTotal - sd.sent, 70001);
                std::string chunk(n, '\0');
                for (size_t i = 0; i < n; ++i) chunk[i] = static_cast<char>(bevtest::pattern_byte(sd.sent + i));
                sd.h_tx = bevtest::fnv(sd.h_tx, reinterpret_cast<const uint8_t *>(chunk.data()), n);
                sd.sent += n;
                bufferevent_write(b, chunk.data(), n);
            }
        };
        Recorder r[2];
        bufferevent *bev[2] = {p.cli, p.srv};
        for (int i = 0; i < 2; ++i) {
            r[i].drain = false;
            r[i].on_read = [&, i](bufferevent *b) {
                evbuffer *in = bufferevent_get_input(b);
                size_t n = evbuffer_get_length(in);
                side[i].h_rx = bevtest::fnv(side[i].h_rx, evbuffer_pullup(in, -1), n);
                side[i].got += n;
                evbuffer_drain(in, n);
            };
            r[i].on_write = [&, i](bufferevent *b) { fill(b, side[i]); };
            r[i].attach(bev[i]);
            bufferevent_enable(bev[i], EV_READ);
        }
        fill(p.cli, side[0]);
        fill(p.srv, side[1]);
        ASSERT_TRUE(run_until(base(), [&] { return side[0].got == kTotal && side[1].got == kTotal; },
                              30000))
            << side[0].got << " " << side[1].got;
        EXPECT_EQ(side[0].h_rx, side[1].h_tx);
        EXPECT_EQ(side[1].h_rx, side[0].h_tx);
        EXPECT_FALSE(r[0].got(BEV_EVENT_ERROR));
        EXPECT_FALSE(r[1].got(BEV_EVENT_ERROR));
    }
}

// One big write: the output is encrypted in steps as the peer reads.
TEST_P(BevSsl, OneBigWriteArrivesWhole) {
    each_way({Way::kSocketTcp, Way::kFilterUnix}, [&](Session &p, Recorder &c, Recorder &s) {
        bufferevent_enable(p.srv, EV_READ);
        std::string big(4u << 20, 'x');
        for (size_t i = 0; i < big.size(); i += 4093) big[i] = static_cast<char>('a' + i % 26);
        bufferevent_write(p.cli, big.data(), big.size());
        ASSERT_TRUE(run_until(base(), [&] { return s.data.size() == big.size(); }, 30000));
        EXPECT_TRUE(s.data == big);
        EXPECT_GE(c.writes, 1);
    });
}

TEST_P(BevSsl, CloseNotifyIsEof) {
    each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
        ASSERT_TRUE(p.read_both_and_handshake());
        ASSERT_TRUE(arrives(p.srv, c, "last words"));
        SSL_shutdown(bufferevent_openssl_get_ssl(p.srv));
        ASSERT_TRUE(run_until(base(), [&] { return c.events.size() > 1; }));
        EXPECT_EQ(c.events.back(), BEV_EVENT_EOF | BEV_EVENT_READING);
        // Unlike a socket bufferevent's EOF, reading stays enabled.
        EXPECT_EQ(bufferevent_get_enabled(p.cli) & EV_READ, EV_READ);
    });
}

// The server goes away without close_notify.
void dirty_shutdown(event_base *base, Way w, bool allow, short expect) {
    SCOPED_TRACE(ssltest::name(w));
    auto cctx = ssltest::client_ctx();
    auto sctx = ssltest::server_ctx();
    Recorder c, s;
    Session p(base, w, cctx.get(), sctx.get(), c, s);
    bufferevent_openssl_set_allow_dirty_shutdown(p.cli, allow);
    ASSERT_TRUE(p.read_both_and_handshake());
    bufferevent_write(p.srv, "bye", 3);
    ASSERT_TRUE(run_until(base, [&] { return c.data == "bye"; }));
    bufferevent_free(p.srv);  // CLOSE_ON_FREE: the SSL goes without a close_notify
    p.srv = nullptr;
    ASSERT_TRUE(run_until(base, [&] { return c.events.size() > 1; }));
    EXPECT_EQ(c.events.back(), expect);
}

// Over a socket the SSL_read that meets the end says so (READING); a filter hears it from
// its underlying as a bare ERROR or EOF. (Not over a pair: libevent does not tell a pair's
// other half that one was freed, differences.h kPairFreeGivesPartnerEof.)
TEST_P(BevSsl, DirtyShutdownIsAnErrorByDefault) {
    for (Way w : kNotOverAPair)
        dirty_shutdown(base(), w, false,
                       ssltest::is_filter(w) ? BEV_EVENT_ERROR : BEV_EVENT_ERROR | BEV_EVENT_READING);
}

TEST_P(BevSsl, DirtyShutdownIsEofWhenAllowed) {
    for (Way w : kNotOverAPair) {
        short expect = BEV_EVENT_EOF;
        if (!ssltest::is_filter(w))
            expect = conf::kSslAllowedDirtyShutdownIsEof ? BEV_EVENT_EOF | BEV_EVENT_READING
                                                         : BEV_EVENT_ERROR | BEV_EVENT_READING;
        dirty_shutdown(base(), w, true, expect);
    }
}

TEST_P(BevSsl, FailedCertificateCheckFailsTheHandshake) {
    cctx = ssltest::client_ctx(true, false);  // verifies against an empty store
    each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
        p.read_both();
        ASSERT_TRUE(run_until(base(), [&] { return !c.events.empty() && !s.events.empty(); }));
        EXPECT_FALSE(c.got(BEV_EVENT_CONNECTED));
        EXPECT_FALSE(s.got(BEV_EVENT_CONNECTED));
        EXPECT_TRUE(c.events[0] & BEV_EVENT_ERROR);
        EXPECT_TRUE(s.events[0] & BEV_EVENT_ERROR);
        EXPECT_EQ(SSL_get_verify_result(p.cli_ssl), X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
        // Among the errors kept (a few at most) is OpenSSL's verdict.
        bool verify_failed = false;
        int n = 0;
        while (unsigned long e = bufferevent_get_openssl_error(p.cli)) {
            ++n;
            if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED)
                verify_failed = true;
            ASSERT_LE(n, 3);
        }
        EXPECT_TRUE(verify_failed);
        EXPECT_EQ(bufferevent_get_openssl_error(p.cli), 0u);
        // The server heard an alert; it keeps its error too.
        EXPECT_NE(bufferevent_get_openssl_error(p.srv), 0u);
        EXPECT_EQ(ERR_peek_error(), 0u) << "errors stay with the bufferevent";
    });
}

TEST_P(BevSsl, SocketWithoutFdThenSocketConnect) {
    cctx = ssltest::client_ctx(true, true);
    bevtest::Listener l;
    Recorder c, s;
    bufferevent *cli = reading_client_without_fd(c);
    ASSERT_NE(cli, nullptr);
    EXPECT_EQ(bufferevent_getfd(cli), -1);
    ASSERT_EQ(bufferevent_socket_connect(cli, reinterpret_cast<const sockaddr *>(&l.addr()),
                                         sizeof(sockaddr_in)),
              0);
    EXPECT_GE(bufferevent_getfd(cli), 0);
    bufferevent *srv = reading_server_accepted_from(l, s);
    ASSERT_NE(srv, nullptr);
    ASSERT_TRUE(ssltest::handshake(base(), c, s));
    int connected = 0;
    for (short e : c.events) connected += (e == BEV_EVENT_CONNECTED);
    EXPECT_EQ(connected, 1);
    ASSERT_TRUE(arrives(cli, s, "via connect"));
    bufferevent_free(cli);
    bufferevent_free(srv);
}

TEST_P(BevSsl, SocketWithoutFdThenConnectHostname) {
    cctx = ssltest::client_ctx(true, true);
    bevtest::Listener l;
    Recorder c, s;
    bufferevent *cli = reading_client_without_fd(c);
    ASSERT_EQ(bufferevent_socket_connect_hostname(cli, nullptr, AF_INET, "127.0.0.1", l.port()), 0);
    bufferevent *srv = reading_server_accepted_from(l, s);
    ASSERT_NE(srv, nullptr);
    ASSERT_TRUE(ssltest::handshake(base(), c, s));
    ASSERT_TRUE(arrives(cli, s, "by name"));
    bufferevent_free(cli);
    bufferevent_free(srv);
}

// The fd given later with bufferevent_setfd (the socket is already connected).
TEST_P(BevSsl, SocketWithoutFdThenSetfd) {
    conf::SocketPair sp;
    bufferevent *cli = tls_socket(base(), -1, SSL_new(cctx.get()), BUFFEREVENT_SSL_CONNECTING);
    bufferevent *srv =
        tls_socket(base(), sp.release(1), SSL_new(sctx.get()), BUFFEREVENT_SSL_ACCEPTING);
    Recorder c, s;
    c.attach(cli);
    s.attach(srv);
    bufferevent_enable(cli, EV_READ);
    bufferevent_enable(srv, EV_READ);
    run_for(base(), 20);
    EXPECT_TRUE(c.events.empty());
    ASSERT_EQ(bufferevent_setfd(cli, sp.release(0)), 0);
    ASSERT_TRUE(ssltest::handshake(base(), c, s));
    ASSERT_TRUE(arrives(srv, c, "late fd"));
    bufferevent_free(cli);
    bufferevent_free(srv);
}

TEST_P(BevSsl, SocketConnectToAClosedPortIsAnError) {
    sockaddr_in a = bevtest::closed_port_addr();
    Recorder c;
    bufferevent *cli = reading_client_without_fd(c);
    ASSERT_EQ(bufferevent_socket_connect(cli, reinterpret_cast<const sockaddr *>(&a), sizeof a), 0);
    ASSERT_TRUE(run_until(base(), [&] { return !c.events.empty(); }));
    EXPECT_TRUE(c.events[0] & BEV_EVENT_ERROR);
    EXPECT_FALSE(c.got(BEV_EVENT_CONNECTED));
    bufferevent_free(cli);
}

TEST_P(BevSsl, SocketNewTakesTheFdOfTheSsl) {
    conf::SocketPair sp;
    SSL *cs = SSL_new(cctx.get());
    SSL_set_fd(cs, sp[0]);
    bufferevent *cli = bufferevent_openssl_socket_new(base(), -1, cs, BUFFEREVENT_SSL_CONNECTING,
                                                      BEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(cli, nullptr);
    EXPECT_EQ(bufferevent_getfd(cli), sp[0]);
    bufferevent *srv = tls_socket(base(), sp[1], SSL_new(sctx.get()), BUFFEREVENT_SSL_ACCEPTING);
    sp.release(0);
    sp.release(1);
    Recorder c, s;
    c.attach(cli);
    s.attach(srv);
    bufferevent_enable(srv, EV_READ);
    ASSERT_TRUE(arrives(cli, s, "fd from ssl"));
    bufferevent_free(cli);
    bufferevent_free(srv);
}

// (Not over a pair: there libevent completes no handshake while neither side reads.)
TEST_P(BevSsl, ReadIsOffUntilEnabledAndCanBeDisabled) {
    each_way(kNotOverAPair, [&](Session &p, Recorder &c, Recorder &s) {
        // Neither side reads, yet the handshake completes.
        ASSERT_TRUE(p.handshake());
        EXPECT_EQ(bufferevent_get_enabled(p.cli), EV_WRITE);
        bufferevent_write(p.srv, "held", 4);
        run_for(base(), 50);
        EXPECT_EQ(c.reads, 0);
        EXPECT_EQ(evbuffer_get_length(bufferevent_get_input(p.cli)), 0u);
        bufferevent_enable(p.cli, EV_READ);
        ASSERT_TRUE(run_until(base(), [&] { return c.data == "held"; }));
        bufferevent_disable(p.cli, EV_READ);
        bufferevent_write(p.srv, "more", 4);
        run_for(base(), 50);
        EXPECT_EQ(c.data, "held");
        bufferevent_enable(p.cli, EV_READ);
        ASSERT_TRUE(run_until(base(), [&] { return c.data == "heldmore"; }));
    });
}

TEST_P(BevSsl, ReadWatermarks) {
    each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
        c.drain = false;
        bufferevent_setwatermark(p.cli, EV_READ, 10, 1000);
        bufferevent_enable(p.cli, EV_READ);
        ASSERT_TRUE(p.handshake());
        bufferevent_write(p.srv, "12345", 5);
        run_for(base(), 50);
        EXPECT_EQ(c.reads, 0) << "below the low-water mark";
        std::string big(5000, 'z');
        bufferevent_write(p.srv, big.data(), big.size());
        ASSERT_TRUE(run_until(base(), [&] { return c.reads > 0; }));
        run_for(base(), 50);
        evbuffer *in = bufferevent_get_input(p.cli);
        // Reading pauses near the mark (libevent's socket kind may pass it by one read).
        EXPECT_LE(evbuffer_get_length(in), 2000u) << "stops at the high-water mark";
        EXPECT_GE(evbuffer_get_length(in), 10u);
        if (!ssltest::is_filter(p.way) && !conf::kSslResumesFromSslBuffer) return;
        std::string got;
        ASSERT_TRUE(run_until(base(), [&] {
            got += str(in);
            evbuffer_drain(in, evbuffer_get_length(in));
            return got.size() == 5005;
        }));
        EXPECT_EQ(got.substr(0, 5), "12345");
    });
}

TEST_P(BevSsl, ReadTimeout) {
    each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
        ASSERT_TRUE(p.read_both_and_handshake());
        timeval tv = conf::tv_ms(100);
        bufferevent_set_timeouts(p.cli, &tv, nullptr);
        double t0 = conf::now_ms();
        ASSERT_TRUE(run_until(base(), [&] { return c.events.size() > 1; }));
        EXPECT_GE(conf::now_ms() - t0, 80);
        EXPECT_EQ(c.events.back(), BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
    });
}

TEST_P(BevSsl, FreeInsideTheReadCallback) {
    each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
        s.on_read = [&](bufferevent *b) {
            bufferevent_free(b);
            p.srv = nullptr;
        };
        p.read_both();
        std::string big(200000, 'q');
        bufferevent_write(p.cli, big.data(), big.size());
        ASSERT_TRUE(run_until(base(), [&] { return s.reads > 0; }));
        run_for(base(), 50);
        EXPECT_EQ(s.reads, 1);
        EXPECT_EQ(p.srv, nullptr);
    });
}

// What the socket flavour took from the output by the time its write callback ran has
// been handed to the fd: taking the fd away then (bufferevent_setfd(-1), as evhttp does
// with a bevcb's bufferevent before it closes the fd itself) loses none of it.
TEST_P(BevSsl, SetfdAfterTheWriteCallbackLosesNothing) {
    each_way(kSocketWays, [&](Session &p, Recorder &c, Recorder &s) {
        bufferevent_openssl_set_allow_dirty_shutdown(p.cli, 1);
        ASSERT_TRUE(p.read_both_and_handshake());
        const int before = s.writes;
        const std::string tail = "8\r\nbwv 1052\r\n0\r\n\r\n";
        bufferevent_write(p.srv, tail.data(), tail.size());
        ASSERT_TRUE(run_until(base(), [&] { return s.writes > before; }));
        ASSERT_EQ(evbuffer_get_length(bufferevent_get_output(p.srv)), 0u);
        const evutil_socket_t fd = bufferevent_getfd(p.srv);
        bufferevent_setfd(p.srv, -1);
        evutil_closesocket(fd);
        bufferevent_free(p.srv);
        p.srv = nullptr;
        ASSERT_TRUE(run_until(base(), [&] { return c.events.size() > 1; }));
        EXPECT_EQ(c.data, tail);
    });
}

TEST_P(BevSsl, FreeInsideTheConnectedCallback) {
    each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
        c.on_event = [&](bufferevent *b, short what) {
            if (what & BEV_EVENT_CONNECTED) {
                bufferevent_free(b);
                p.cli = nullptr;
            }
        };
        p.read_both();
        bufferevent_write(p.cli, "never", 5);
        ASSERT_TRUE(run_until(base(), [&] { return p.cli == nullptr; }));
        run_for(base(), 50);
        EXPECT_EQ(c.events.size(), 1u);
    });
}

TEST_P(BevSsl, DeferredCallbacks) {
    each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
        ASSERT_TRUE(p.read_both_and_handshake());
        bufferevent_write(p.cli, "deferred", 8);
        EXPECT_EQ(c.writes, 0) << "not from inside bufferevent_write";
        ASSERT_TRUE(run_until(base(), [&] { return s.data == "deferred"; }));
        EXPECT_GE(c.writes, 1);
    }, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
}

TEST_P(BevSsl, FlushDoesNotBreakTheStream) {
    each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
        ASSERT_TRUE(p.read_both_and_handshake());
        bufferevent_write(p.cli, "flushed", 7);
        EXPECT_EQ(bufferevent_flush(p.cli, EV_WRITE, BEV_FLUSH), 0);
        ASSERT_TRUE(run_until(base(), [&] { return s.data == "flushed"; }));
    });
}

// Without CLOSE_ON_FREE the caller keeps the SSL and the fd: the SSL still works on it.
TEST_P(BevSsl, WithoutCloseOnFreeTheSslAndFdStayUsable) {
    Recorder c, s;
    Session p(base(), Way::kSocketUnix, cctx.get(), sctx.get(), c, s, 0);
    bufferevent_enable(p.srv, EV_READ);
    ASSERT_TRUE(p.handshake());
    int fd = bufferevent_getfd(p.cli);
    bufferevent_free(p.cli);
    p.cli = nullptr;
    EXPECT_NE(fcntl(fd, F_GETFD), -1) << "fd still open";
    EXPECT_EQ(SSL_write(p.cli_ssl, "direct", 6), 6);
    ASSERT_TRUE(run_until(base(), [&] { return s.data == "direct"; }));
    SSL_shutdown(p.cli_ssl);
    ASSERT_TRUE(run_until(base(), [&] { return s.events.size() > 1; }));
    EXPECT_EQ(s.events.back(), BEV_EVENT_EOF | BEV_EVENT_READING);
    int sfd = bufferevent_getfd(p.srv);
    bufferevent_free(p.srv);
    p.srv = nullptr;
    ::close(fd);
    ::close(sfd);
}

// Without BEV_OPT_CLOSE_ON_FREE the SSL is the caller's after bufferevent_free even when the
// bufferevent has no fd (never had one, or evhttp's setfd(-1) before freeing): it is left
// with a plain socket BIO or none, as libevent leaves it, and holds nothing of the bufferevent or
// of its base, so freeing the base and then the SSL is fine. (reevent used to leave its
// own BIO there, holding a reference to the hidden socket bufferevent and through it the
// base: libevent's regress https cases, which never free the client's SSL, leaked it under
// LeakSanitizer, and an SSL_free after event_base_free touched the freed base.)
TEST_P(BevSsl, WithoutCloseOnFreeAnSslWithoutFdHoldsNothingOfTheBase) {
    for (int round = 0; round < 2; ++round) {
        event_base *b = conf::new_base_on(GetParam());
        ASSERT_NE(b, nullptr);
        SSL *ssl = SSL_new(cctx.get());
        ASSERT_NE(ssl, nullptr);
        int sv[2] = {-1, -1};
        if (round == 1) {
            ASSERT_EQ(evutil_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        }
        bufferevent *bev = bufferevent_openssl_socket_new(b, sv[0], ssl, BUFFEREVENT_SSL_CONNECTING, 0);
        ASSERT_NE(bev, nullptr);
        if (round == 1) {
            EXPECT_EQ(bufferevent_setfd(bev, -1), 0);
        }
        bufferevent_free(bev);
        // libevent: no BIO when the fd was -1 from the start, else a socket BIO.
        BIO *rb = SSL_get_rbio(ssl);
        if (rb) {
            EXPECT_EQ(BIO_method_type(rb), BIO_TYPE_SOCKET) << round;
        }
        EXPECT_EQ(SSL_get_wbio(ssl), rb) << round;
        event_base_free(b);
        SSL_free(ssl);
        if (round == 1) {
            ::close(sv[0]);
            ::close(sv[1]);
        }
    }
}

// The handshake done by hand before the bufferevents take the SSLs (state OPEN).
TEST_P(BevSsl, OpenStateSkipsTheHandshake) {
    conf::SocketPair sp;
    SSL *cs = SSL_new(cctx.get());
    SSL *ss = SSL_new(sctx.get());
    SSL_set_fd(cs, sp[0]);
    SSL_set_fd(ss, sp[1]);
    SSL_set_connect_state(cs);
    SSL_set_accept_state(ss);
    int rc = 0, rs = 0;
    for (int i = 0; i < 1000 && (rc != 1 || rs != 1); ++i) {
        if (rc != 1) rc = SSL_do_handshake(cs);
        if (rs != 1) rs = SSL_do_handshake(ss);
    }
    ASSERT_EQ(rc, 1);
    ASSERT_EQ(rs, 1);
    bufferevent *cli = bufferevent_openssl_socket_new(base(), sp[0], cs, BUFFEREVENT_SSL_OPEN,
                                                      BEV_OPT_CLOSE_ON_FREE);
    bufferevent *srv = bufferevent_openssl_socket_new(base(), sp[1], ss, BUFFEREVENT_SSL_OPEN,
                                                      BEV_OPT_CLOSE_ON_FREE);
    sp.release(0);
    sp.release(1);
    Recorder c, s;
    c.attach(cli);
    s.attach(srv);
    bufferevent_enable(cli, EV_READ);
    bufferevent_enable(srv, EV_READ);
    ASSERT_TRUE(arrives(cli, s, "open"));
    ASSERT_TRUE(arrives(srv, c, "state"));
    EXPECT_FALSE(c.got(BEV_EVENT_CONNECTED));
    EXPECT_FALSE(s.got(BEV_EVENT_CONNECTED));
    bufferevent_free(cli);
    bufferevent_free(srv);
}

// A TLS 1.2 renegotiation starts (0: under way) and ends with CONNECTED again. (Over a
// filter libevent 2.1 stalls: differences.h kSslFilterRenegotiationCompletes.)
TEST_P(BevSsl, RenegotiateOnTls12) {
    cctx = ssltest::client_ctx(false, true, TLS1_2_VERSION);
    sctx = ssltest::server_ctx(TLS1_2_VERSION);
    each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
        ASSERT_TRUE(p.read_both_and_handshake());
        EXPECT_EQ(SSL_version(p.cli_ssl), TLS1_2_VERSION);
        EXPECT_EQ(bufferevent_ssl_renegotiate(p.cli), 0);
        if (ssltest::is_filter(p.way) && !conf::kSslFilterRenegotiationCompletes) return;
        ASSERT_TRUE(run_until(base(), [&] { return c.events.size() > 1; }));
        EXPECT_EQ(c.events.back(), BEV_EVENT_CONNECTED);
        EXPECT_EQ(SSL_num_renegotiations(p.cli_ssl), 1);
        EXPECT_FALSE(s.got(BEV_EVENT_ERROR));
        bufferevent_write(p.cli, "after", 5);
        bufferevent_write(p.srv, "again", 5);
        ASSERT_TRUE(run_until(base(), [&] { return s.data == "after" && c.data == "again"; }));
    });
}

TEST_P(BevSsl, RenegotiateOnTls13) {
    Recorder c, s;
    Session p(base(), Way::kSocketUnix, cctx.get(), sctx.get(), c, s);
    ASSERT_TRUE(p.handshake());
    EXPECT_EQ(SSL_version(p.cli_ssl), TLS1_3_VERSION);
    // TLS 1.3 has no renegotiation: the handshake step finds nothing to do and says done.
    size_t before = c.events.size();
    EXPECT_EQ(bufferevent_ssl_renegotiate(p.cli), 1);
    EXPECT_EQ(c.events.size(), before + 1);
    EXPECT_EQ(c.events.back(), BEV_EVENT_CONNECTED);
    ERR_clear_error();
}

// A plain connection turned into TLS: the server's underlying socket bufferevent has already
// read the client's hello when the filter is put on it (sslsplit's STARTTLS upgrade).
TEST_P(BevSsl, FilterFindsTheHelloTheUnderlyingAlreadyRead) {
    cctx = ssltest::client_ctx(true, true);
    conf::SocketPair sp;
    bufferevent *cli =
        tls_socket(base(), sp.release(0), SSL_new(cctx.get()), BUFFEREVENT_SSL_CONNECTING);
    bufferevent *plain = bufferevent_socket_new(base(), sp.release(1), BEV_OPT_CLOSE_ON_FREE);
    bufferevent_enable(plain, EV_READ);
    Recorder c, s;
    c.attach(cli);
    bufferevent_enable(cli, EV_READ);
    ASSERT_TRUE(run_until(base(), [&] {
        return evbuffer_get_length(bufferevent_get_input(plain)) > 0;
    }));
    bufferevent *srv = bufferevent_openssl_filter_new(base(), plain, SSL_new(sctx.get()),
                                                      BUFFEREVENT_SSL_ACCEPTING,
                                                      BEV_OPT_CLOSE_ON_FREE);
    s.attach(srv);
    bufferevent_enable(srv, EV_READ);
    ASSERT_TRUE(ssltest::handshake(base(), c, s));
    ASSERT_TRUE(arrives(cli, s, "upgraded"));
    bufferevent_free(cli);
    bufferevent_free(srv);
}

// A rate limit on a TLS bufferevent paces the plaintext it reads or writes: 200 KB/s
// (20 KB per 100 ms tick) measured over 2 s, on the reading or the writing end: never more
// than 10% above, and at least half (libevent moves whole 16 KiB records and falls 10-35%
// short; reevent lands within 10% on an idle machine, less under load or ASan).
double measured_tls_rate(event_base *base, Way w, bool limit_reader) {
    auto cctx = ssltest::client_ctx();
    auto sctx = ssltest::server_ctx();
    Recorder c, s;
    Session p(base, w, cctx.get(), sctx.get(), c, s);
    uint64_t received = 0;
    s.drain = false;
    s.on_read = [&](bufferevent *b) {
        evbuffer *in = bufferevent_get_input(b);
        received += evbuffer_get_length(in);
        evbuffer_drain(in, evbuffer_get_length(in));
    };
    c.on_write = [](bufferevent *b) {
        static const std::string block(64 * 1024, 'r');
        bufferevent_write(b, block.data(), block.size());
    };
    bufferevent_enable(p.srv, EV_READ);
    if (!p.handshake()) return -1;
    timeval tick = conf::tv_ms(100);
    ev_token_bucket_cfg *cfg =
        limit_reader ? ev_token_bucket_cfg_new(20000, 20000, EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, &tick)
                     : ev_token_bucket_cfg_new(EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, 20000, 20000, &tick);
    bufferevent_set_rate_limit(limit_reader ? p.srv : p.cli, cfg);
    bufferevent_setwatermark(p.cli, EV_WRITE, 64 * 1024, 0);
    std::string block(256 * 1024, 'r');
    bufferevent_write(p.cli, block.data(), block.size());
    run_for(base, 300);
    uint64_t start = received;
    double t0 = conf::now_ms();
    run_for(base, 2000);
    double rate = (received - start) / ((conf::now_ms() - t0) / 1000.0);
    bufferevent_set_rate_limit(limit_reader ? p.srv : p.cli, nullptr);
    ev_token_bucket_cfg_free(cfg);
    return rate;
}

TEST_P(BevSsl, ReadRateLimit) {
    for (Way w : kTcpWays) {
        SCOPED_TRACE(ssltest::name(w));
        const double rate = measured_tls_rate(base(), w, true);
        EXPECT_LE(rate, 220000.0);
        EXPECT_GE(rate, 100000.0);
    }
}

TEST_P(BevSsl, WriteRateLimit) {
    for (Way w : kTcpWays) {
        SCOPED_TRACE(ssltest::name(w));
        const double rate = measured_tls_rate(base(), w, false);
        EXPECT_LE(rate, 220000.0);
        EXPECT_GE(rate, 100000.0);
    }
}

// A TLS filter over a socket bufferevent without an fd: bufferevent_socket_connect on the
// filter connects the socket below it, and the handshake follows.
TEST_P(BevSsl, SocketConnectOnAFilterConnectsItsSocketUnderlying) {
    bevtest::Listener l;
    bufferevent *under = bufferevent_socket_new(base(), -1, BEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(under, nullptr);
    bufferevent *cli = bufferevent_openssl_filter_new(base(), under, SSL_new(cctx.get()),
                                                      BUFFEREVENT_SSL_CONNECTING,
                                                      BEV_OPT_CLOSE_ON_FREE);
    ASSERT_NE(cli, nullptr);
    Recorder c, s;
    c.attach(cli);
    ASSERT_EQ(bufferevent_socket_connect(cli, reinterpret_cast<const sockaddr *>(&l.addr()),
                                         sizeof(sockaddr_in)),
              0);
    // Enabled after the connect (libevent's own order: enabling the filter before it
    // breaks libevent's handshake).
    bufferevent_enable(cli, EV_READ);
    EXPECT_GE(bufferevent_getfd(under), 0);
    EXPECT_EQ(bufferevent_getfd(cli), bufferevent_getfd(under));
    bufferevent *srv = reading_server_accepted_from(l, s);
    ASSERT_NE(srv, nullptr);
    ASSERT_TRUE(ssltest::handshake(base(), c, s));
    ASSERT_TRUE(arrives(cli, s, "through the filter"));
    ASSERT_TRUE(arrives(srv, c, "back"));
    bufferevent_free(cli);
    bufferevent_free(srv);
}

// On a filter the fd belongs to the underlying: bufferevent_setfd on the TLS bufferevent
// succeeds and leaves it alone.
TEST_P(BevSsl, SetfdOnAFilterLeavesTheUnderlyingsFd) {
    each_way(kFilterWays, [&](Session &p, Recorder &c, Recorder &s) {
        ASSERT_TRUE(p.handshake());
        const int fd = bufferevent_getfd(p.cli_under);
        ASSERT_GE(fd, 0);
        EXPECT_EQ(bufferevent_setfd(p.cli, -1), 0);
        EXPECT_EQ(bufferevent_getfd(p.cli), fd);
        EXPECT_EQ(bufferevent_getfd(p.cli_under), fd);
    });
}

// Socket flavour: disabling both directions before the handshake holds it; the side that
// is off does not answer, so neither side connects (the other's read timeout fires, as
// BEV_EVENT_TIMEOUT: libevent reports it bare during a handshake, reevent with READING),
// and enabling resumes it. A filter handshakes all the same (libevent).
TEST_P(BevSsl, DisablingTheSocketFlavourBeforeTheHandshakeHoldsIt) {
    each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
        bufferevent_enable(p.cli, EV_READ | EV_WRITE);
        bufferevent_disable(p.srv, EV_READ | EV_WRITE);
        if (ssltest::is_filter(p.way)) {
            ASSERT_TRUE(p.handshake());
            return;
        }
        const timeval tv{0, 300000};
        bufferevent_set_timeouts(p.cli, &tv, nullptr);
        ASSERT_TRUE(run_until(base(), [&] { return !c.events.empty(); }, 3000));
        EXPECT_TRUE(c.events[0] & BEV_EVENT_TIMEOUT) << c.events[0];
        EXPECT_FALSE(c.events[0] & BEV_EVENT_CONNECTED);
        EXPECT_TRUE(s.events.empty());
        EXPECT_FALSE(SSL_is_init_finished(p.srv_ssl));
        bufferevent_set_timeouts(p.cli, nullptr, nullptr);
        bufferevent_enable(p.cli, EV_READ);
        bufferevent_enable(p.srv, EV_READ | EV_WRITE);
        ASSERT_TRUE(p.handshake());
    });
}

// ---- when the write callback runs -----------------------------------------------------------
//
// A program's write does not run the write callback inside the call that added the output
// (bufferevent_write, bufferevent_write_buffer, evbuffer_add on the output): it runs from
// the loop afterwards. The socket flavour leaves the output queued until the loop writes
// it; the filter encrypts it into its underlying at once (libevent 2.1 does both), but its
// write callback too waits for the loop.

// The three ways a program adds output.
enum class Add { kWrite, kWriteBuffer, kEvbufferAdd };
constexpr Add kAllAdds[] = {Add::kWrite, Add::kWriteBuffer, Add::kEvbufferAdd};
const char *name(Add a) {
    switch (a) {
        case Add::kWrite: return "bufferevent_write";
        case Add::kWriteBuffer: return "bufferevent_write_buffer";
        case Add::kEvbufferAdd: return "evbuffer_add";
    }
    return "?";
}
void add_output(bufferevent *b, Add how, const std::string &data) {
    switch (how) {
        case Add::kWrite:
            bufferevent_write(b, data.data(), data.size());
            break;
        case Add::kWriteBuffer: {
            evbuffer *tmp = evbuffer_new();
            evbuffer_add(tmp, data.data(), data.size());
            bufferevent_write_buffer(b, tmp);
            evbuffer_free(tmp);
            break;
        }
        case Add::kEvbufferAdd:
            evbuffer_add(bufferevent_get_output(b), data.data(), data.size());
            break;
    }
}

TEST_P(BevSsl, AWriteOutsideACallbackRunsTheWriteCallbackFromTheLoop) {
    for (Add how : kAllAdds) {
        SCOPED_TRACE(name(how));
        each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
            ASSERT_TRUE(p.read_both_and_handshake());
            run_for(base(), 20);  // nothing of the handshake left to run
            const int before = c.writes;
            bool returned = false;
            int saw_returned = -1;
            c.on_write = [&](bufferevent *) {
                if (saw_returned < 0) saw_returned = returned ? 1 : 0;
            };
            add_output(p.cli, how, "hello");
            EXPECT_EQ(c.writes, before) << "the write callback ran inside the write";
            // The socket flavour writes from the loop; the filter encrypts at once.
            EXPECT_EQ(evbuffer_get_length(bufferevent_get_output(p.cli)),
                      ssltest::is_filter(p.way) ? 0u : 5u);
            returned = true;
            ASSERT_TRUE(run_until(base(), [&] { return s.data == "hello" && c.writes > before; }));
            EXPECT_EQ(saw_returned, 1);
            EXPECT_EQ(c.writes, before + 1);
        });
    }
}

TEST_P(BevSsl, AWriteInsideTheReadCallbackRunsTheWriteCallbackAfterIt) {
    for (Add how : kAllAdds) {
        SCOPED_TRACE(name(how));
        each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
            ASSERT_TRUE(p.read_both_and_handshake());
            run_for(base(), 20);
            const int before = s.writes;
            bool read_cb_returned = false;
            int writes_inside = -1, saw_returned = -1;
            size_t left_inside = 99;
            s.on_read = [&](bufferevent *b) {
                add_output(b, how, "answer");
                writes_inside = s.writes - before;
                left_inside = evbuffer_get_length(bufferevent_get_output(b));
                read_cb_returned = true;
            };
            s.on_write = [&](bufferevent *) {
                if (saw_returned < 0) saw_returned = read_cb_returned ? 1 : 0;
            };
            bufferevent_write(p.cli, "question", 8);
            ASSERT_TRUE(run_until(base(), [&] { return c.data == "answer" && s.writes > before; }));
            EXPECT_EQ(writes_inside, 0);
            EXPECT_EQ(left_inside, ssltest::is_filter(p.way) ? 0u : 6u);
            EXPECT_EQ(saw_returned, 1);
        });
    }
}

// "When the output has drained, close": the write callback frees the bufferevent
// (BEV_OPT_CLOSE_ON_FREE). The program still uses the bufferevent after its write returns.
// Over a socket all it wrote has reached the kernel by then and arrives. A filter's write
// callback runs once the ciphertext is in its underlying's output (libevent 2.1), which
// the free drops: no delivery is promised there. (No session tickets: a TCP socket closed
// with unread bytes in its receive buffer resets the connection, and the peer loses what it
// had not read yet.)

// n letters of the alphabet in turn, from `first` ('a' or 'A').
std::string letters(size_t n, char first) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(first + i % 26);
    return s;
}

// r's write callback frees bev (and forgets it) once bev's output is empty, counting frees.
void free_once_drained(Recorder &r, bufferevent *&bev, int &frees) {
    r.on_write = [&bev, &frees](bufferevent *b) {
        if (evbuffer_get_length(bufferevent_get_output(b)) == 0) {
            ++frees;
            bufferevent_free(b);
            bev = nullptr;
        }
    };
}

// The reader r gets all of `sent`, then sees the connection end.
void expect_all_then_the_end(event_base *base, const Recorder &r, const std::string &sent) {
    ASSERT_TRUE(run_until(base, [&] { return r.data.size() == sent.size(); })) << r.data.size();
    EXPECT_TRUE(r.data == sent);
    ASSERT_TRUE(run_until(base, [&] { return r.events.size() > 1; }));
    EXPECT_TRUE(r.events.back() & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) << r.events.back();
}

constexpr size_t kFreeTestSizes[] = {5, 200000};

TEST_P(BevSsl, AWriteCallbackThatFreesTheBuffereventAfterAWriteFromOutside) {
    SSL_CTX_set_num_tickets(sctx.get(), 0);  // see above
    for (size_t size : kFreeTestSizes) {
        SCOPED_TRACE(size);
        each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
            bufferevent_openssl_set_allow_dirty_shutdown(p.srv, 1);
            ASSERT_TRUE(p.read_both_and_handshake());
            run_for(base(), 20);
            int frees = 0;
            free_once_drained(c, p.cli, frees);
            const std::string msg = letters(size, 'a');
            bufferevent_write(p.cli, msg.data(), msg.size());
            ASSERT_NE(p.cli, nullptr) << "freed inside bufferevent_write";
            // What a program does next with its bufferevent.
            EXPECT_EQ(bufferevent_get_enabled(p.cli) & EV_READ, EV_READ);
            bufferevent_setwatermark(p.cli, EV_WRITE, 0, 0);
            ASSERT_TRUE(run_until(base(), [&] { return p.cli == nullptr; }));
            EXPECT_EQ(frees, 1);
            if (!ssltest::is_filter(p.way)) expect_all_then_the_end(base(), s, msg);
        });
    }
}

// The same with the answer written inside the read callback (a server's request/response).
TEST_P(BevSsl, AWriteCallbackThatFreesTheBuffereventAfterAWriteInTheReadCallback) {
    SSL_CTX_set_num_tickets(sctx.get(), 0);
    for (size_t size : kFreeTestSizes) {
        SCOPED_TRACE(size);
        each_way(kAllWays, [&](Session &p, Recorder &c, Recorder &s) {
            bufferevent_openssl_set_allow_dirty_shutdown(p.cli, 1);
            ASSERT_TRUE(p.read_both_and_handshake());
            run_for(base(), 20);
            const std::string answer = letters(size, 'A');
            int frees = 0;
            bool freed_inside_read = false;
            s.on_read = [&](bufferevent *b) {
                if (s.data != "request") return;
                bufferevent_write(b, answer.data(), answer.size());
                freed_inside_read = p.srv == nullptr;
                if (!freed_inside_read) bufferevent_setwatermark(b, EV_WRITE, 0, 0);
            };
            free_once_drained(s, p.srv, frees);
            bufferevent_write(p.cli, "request", 7);
            ASSERT_TRUE(run_until(base(), [&] { return p.srv == nullptr; }));
            EXPECT_FALSE(freed_inside_read);
            EXPECT_EQ(frees, 1);
            if (!ssltest::is_filter(p.way)) expect_all_then_the_end(base(), c, answer);
        });
    }
}

// ---- a BIO of the caller's on the socket (libevent's socket flavour does its I/O through
// whatever BIO the SSL has and only waits for the fd's readiness) ----

// What a counting BIO saw; owned by the test, so it outlives the BIO.
struct FdCounts {
    int fd = -1;
    int reads = 0, writes = 0, destroyed = 0;
    size_t bytes_in = 0, bytes_out = 0;
};

int counting_read(BIO *b, char *out, int len) {
    auto *n = static_cast<FdCounts *>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    ++n->reads;
    const ssize_t r = ::recv(n->fd, out, static_cast<size_t>(len), 0);
    if (r > 0) n->bytes_in += static_cast<size_t>(r);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
    return static_cast<int>(r);
}

int counting_write(BIO *b, const char *in, int len) {
    auto *n = static_cast<FdCounts *>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    ++n->writes;
    const ssize_t r = ::send(n->fd, in, static_cast<size_t>(len), MSG_NOSIGNAL);
    if (r > 0) n->bytes_out += static_cast<size_t>(r);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(b);
    return static_cast<int>(r);
}

long counting_ctrl(BIO *b, int cmd, long num, void *ptr) {
    auto *n = static_cast<FdCounts *>(BIO_get_data(b));
    switch (cmd) {
        case BIO_C_GET_FD:
            if (ptr) *static_cast<int *>(ptr) = n->fd;
            return n->fd;
        case BIO_CTRL_GET_CLOSE: return BIO_get_shutdown(b);
        case BIO_CTRL_SET_CLOSE: BIO_set_shutdown(b, static_cast<int>(num)); return 1;
        case BIO_CTRL_FLUSH: return 1;
        default: return 0;
    }
}

int counting_destroy(BIO *b) {
    if (auto *n = static_cast<FdCounts *>(BIO_get_data(b))) ++n->destroyed;
    return 1;
}

// A BIO that reads and writes the socket `n.fd` itself and counts its calls (shutdown flag
// BIO_CLOSE: it never closes the fd, the flag only shows what libevent sets).
BIO *counting_bio(FdCounts &n) {
    static BIO_METHOD *m = [] {
        BIO_METHOD *mm = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "counting fd");
        BIO_meth_set_read(mm, counting_read);
        BIO_meth_set_write(mm, counting_write);
        BIO_meth_set_ctrl(mm, counting_ctrl);
        BIO_meth_set_destroy(mm, counting_destroy);
        return mm;
    }();
    BIO *b = BIO_new(m);
    BIO_set_data(b, &n);
    BIO_set_shutdown(b, BIO_CLOSE);
    BIO_set_init(b, 1);
    return b;
}

// Half a MiB each way, so that the kernel's buffers fill and the SSL waits for writability.
void exchange_through(event_base *base, bufferevent *cli, Recorder &c, bufferevent *srv, Recorder &s) {
    const std::string up = letters(512 * 1024, 'a'), down = letters(512 * 1024, 'A');
    c.data.clear();
    s.data.clear();
    bufferevent_write(cli, up.data(), up.size());
    bufferevent_write(srv, down.data(), down.size());
    ASSERT_TRUE(run_until(base, [&] { return s.data.size() >= up.size() && c.data.size() >= down.size(); }));
    EXPECT_TRUE(s.data == up);
    EXPECT_TRUE(c.data == down);
}

// Every call moved bytes or met a would-block: no spinning on the fd (half a MiB is 32
// records; OpenSSL reads a record's header and body apart).
void expect_few_calls(const FdCounts &n) {
    EXPECT_GT(n.reads, 0);
    EXPECT_GT(n.writes, 0);
    EXPECT_GE(n.bytes_out, 512u * 1024);
    EXPECT_GE(n.bytes_in, 512u * 1024);
    EXPECT_LE(n.reads, 600);
    EXPECT_LE(n.writes, 300);
}

TEST_P(BevSsl, ABioSetAfterSocketConnectDoesTheIo) {
    bevtest::Listener l;
    Recorder c, s;
    SSL *cs = SSL_new(cctx.get());
    bufferevent *cli = tls_socket(base(), -1, cs, BUFFEREVENT_SSL_CONNECTING);
    ASSERT_NE(cli, nullptr);
    c.attach(cli);
    bufferevent_enable(cli, EV_READ);
    ASSERT_EQ(bufferevent_socket_connect(cli, reinterpret_cast<const sockaddr *>(&l.addr()),
                                         sizeof(sockaddr_in)),
              0);
    FdCounts n;
    n.fd = bufferevent_getfd(cli);
    ASSERT_GE(n.fd, 0);
    BIO *bio = counting_bio(n);
    SSL_set_bio(cs, bio, bio);
    bufferevent *srv = reading_server_accepted_from(l, s);
    ASSERT_NE(srv, nullptr);
    ASSERT_TRUE(ssltest::handshake(base(), c, s));
    EXPECT_GT(n.reads, 0) << "the server's answer came through the caller's BIO";
    EXPECT_EQ(SSL_get_rbio(cs), bio);
    EXPECT_EQ(SSL_get_wbio(cs), bio);
    EXPECT_EQ(bufferevent_getfd(cli), n.fd);
    exchange_through(base(), cli, c, srv, s);
    expect_few_calls(n);
    bufferevent_free(cli);
    ASSERT_TRUE(run_until(base(), [&] { return s.got(BEV_EVENT_EOF) || s.got(BEV_EVENT_ERROR); }));
    EXPECT_EQ(n.destroyed, 1);  // with the SSL (BEV_OPT_CLOSE_ON_FREE; libevent frees it from the loop)
    bufferevent_free(srv);
}

// An SSL whose BIO answers BIO_get_fd keeps that BIO: with the same fd, and with -1 (the
// fd is the BIO's). libevent turns the BIO's close flag off: the fd is the bufferevent's.
TEST_P(BevSsl, ABioOnTheFdBeforeCreationIsKept) {
    for (bool give_fd : {true, false}) {
        SCOPED_TRACE(give_fd ? "fd given" : "fd -1");
        conf::SocketPair sp;
        FdCounts n;
        n.fd = sp[0];
        SSL *cs = SSL_new(cctx.get());
        BIO *bio = counting_bio(n);
        SSL_set_bio(cs, bio, bio);
        bufferevent *cli = tls_socket(base(), give_fd ? sp[0] : -1, cs, BUFFEREVENT_SSL_CONNECTING);
        ASSERT_NE(cli, nullptr);
        sp.release(0);
        bufferevent *srv = tls_socket(base(), sp.release(1), SSL_new(sctx.get()), BUFFEREVENT_SSL_ACCEPTING);
        EXPECT_EQ(SSL_get_rbio(cs), bio);
        EXPECT_EQ(SSL_get_wbio(cs), bio);
        EXPECT_EQ(BIO_get_close(bio), BIO_NOCLOSE);
        EXPECT_EQ(bufferevent_getfd(cli), n.fd);
        EXPECT_EQ(bufferevent_get_underlying(cli), nullptr);
        Recorder c, s;
        c.attach(cli);
        s.attach(srv);
        bufferevent_enable(cli, EV_READ);
        bufferevent_enable(srv, EV_READ);
        ASSERT_TRUE(ssltest::handshake(base(), c, s));
        exchange_through(base(), cli, c, srv, s);
        expect_few_calls(n);
        EXPECT_EQ(c.events.size(), 1u);
        bufferevent_free(cli);
        // BEV_OPT_CLOSE_ON_FREE closed the fd: the server hears the end.
        ASSERT_TRUE(run_until(base(), [&] { return s.got(BEV_EVENT_EOF) || s.got(BEV_EVENT_ERROR); }));
        EXPECT_EQ(n.destroyed, 1);
        bufferevent_free(srv);
    }
}

TEST_P(BevSsl, ASslOnAnotherFdThanTheOneGivenIsRefused) {
    conf::SocketPair sp;
    SSL *cs = SSL_new(cctx.get());
    SSL_set_fd(cs, sp[0]);
    EXPECT_EQ(bufferevent_openssl_socket_new(base(), sp[1], cs, BUFFEREVENT_SSL_CONNECTING, 0),
              nullptr);
    SSL_free(cs);
}

// Without BEV_OPT_CLOSE_ON_FREE the SSL keeps the caller's BIO, which still reaches the peer.
TEST_P(BevSsl, ACallersBioStaysWithTheSslWithoutCloseOnFree) {
    conf::SocketPair sp;
    FdCounts n;
    n.fd = sp[0];
    SSL *cs = SSL_new(cctx.get());
    BIO *bio = counting_bio(n);
    SSL_set_bio(cs, bio, bio);
    bufferevent *cli = bufferevent_openssl_socket_new(base(), sp[0], cs, BUFFEREVENT_SSL_CONNECTING, 0);
    ASSERT_NE(cli, nullptr);
    bufferevent *srv = tls_socket(base(), sp.release(1), SSL_new(sctx.get()), BUFFEREVENT_SSL_ACCEPTING);
    Recorder c, s;
    c.attach(cli);
    s.attach(srv);
    bufferevent_enable(cli, EV_READ);
    bufferevent_enable(srv, EV_READ);
    ASSERT_TRUE(ssltest::handshake(base(), c, s));
    ASSERT_TRUE(arrives(cli, s, "before the free"));
    bufferevent_free(cli);
    EXPECT_EQ(n.destroyed, 0);
    EXPECT_EQ(SSL_get_rbio(cs), bio);
    const int writes = n.writes;
    ASSERT_EQ(SSL_write(cs, "after", 5), 5);
    EXPECT_GT(n.writes, writes);
    ASSERT_TRUE(run_until(base(), [&] { return s.data == "before the freeafter"; }));
    SSL_free(cs);
    EXPECT_EQ(n.destroyed, 1);
    bufferevent_free(srv);
}

// bufferevent_setfd gives the SSL a BIO of the bufferevent's on the new fd: the caller's
// goes, and the handshake starts again over the new socket.
TEST_P(BevSsl, SetfdReplacesTheCallersBio) {
    conf::SocketPair sp, sp2;
    FdCounts n;
    n.fd = sp[0];
    SSL *cs = SSL_new(cctx.get());
    BIO *bio = counting_bio(n);
    SSL_set_bio(cs, bio, bio);
    bufferevent *cli = tls_socket(base(), sp.release(0), cs, BUFFEREVENT_SSL_CONNECTING);
    ASSERT_NE(cli, nullptr);
    bufferevent *srv = tls_socket(base(), sp.release(1), SSL_new(sctx.get()), BUFFEREVENT_SSL_ACCEPTING);
    Recorder c, s, s2;
    c.attach(cli);
    s.attach(srv);
    bufferevent_enable(cli, EV_READ);
    bufferevent_enable(srv, EV_READ);
    ASSERT_TRUE(ssltest::handshake(base(), c, s));
    ASSERT_TRUE(arrives(cli, s, "first"));
    bufferevent *srv2 = tls_socket(base(), sp2.release(1), SSL_new(sctx.get()), BUFFEREVENT_SSL_ACCEPTING);
    s2.attach(srv2);
    bufferevent_enable(srv2, EV_READ);
    const int old_fd = n.fd;
    ASSERT_EQ(bufferevent_setfd(cli, sp2.release(0)), 0);
    EXPECT_EQ(n.destroyed, 1);
    EXPECT_NE(SSL_get_rbio(cs), nullptr);
    EXPECT_EQ(SSL_get_fd(cs), bufferevent_getfd(cli));
    c.events.clear();
    ASSERT_TRUE(ssltest::handshake(base(), c, s2));
    ASSERT_TRUE(arrives(cli, s2, "second"));
    ASSERT_TRUE(arrives(srv2, c, "back"));
    bufferevent_free(cli);
    bufferevent_free(srv);
    bufferevent_free(srv2);
    evutil_closesocket(old_fd);  // setfd does not close the old fd
}

CONF_INSTANTIATE_BACKENDS(BevSsl);

}  // namespace
