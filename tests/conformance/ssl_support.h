// TLS helpers for the bufferevent_ssl conformance tests: a key and a self-signed
// certificate made with the OpenSSL API at start-up, client and server SSL_CTXs, and a
// client/server pair of TLS bufferevents over a chosen transport. Public API only.
#pragma once

#include "bufferevent_test_helpers.h"

#include <event2/bufferevent_ssl.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace ssltest {

// A P-256 key and a self-signed certificate for CN=localhost, made once per process.
struct Identity {
    EVP_PKEY *key = nullptr;
    X509 *cert = nullptr;

    static const Identity &get() {
        static Identity id = make();
        return id;
    }

private:
    static Identity make() {
        Identity id;
        id.key = EVP_EC_gen("P-256");
        id.cert = X509_new();
        X509_set_version(id.cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(id.cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(id.cert), -3600);
        X509_gmtime_adj(X509_getm_notAfter(id.cert), 86400);
        X509_set_pubkey(id.cert, id.key);
        X509_NAME *name = X509_get_subject_name(id.cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char *>("localhost"), -1, -1, 0);
        X509_set_issuer_name(id.cert, name);
        X509_sign(id.cert, id.key, EVP_sha256());
        return id;
    }
};

struct CtxFree {
    void operator()(SSL_CTX *c) const { SSL_CTX_free(c); }
};
using Ctx = std::unique_ptr<SSL_CTX, CtxFree>;

inline Ctx server_ctx(int max_version = 0) {
    Ctx c(SSL_CTX_new(TLS_server_method()));
    // OpenSSL 3 servers refuse a client's renegotiation unless told otherwise.
    SSL_CTX_set_options(c.get(), SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
    SSL_CTX_use_certificate(c.get(), Identity::get().cert);
    SSL_CTX_use_PrivateKey(c.get(), Identity::get().key);
    if (max_version) SSL_CTX_set_max_proto_version(c.get(), max_version);
    return c;
}

// verify: the client checks the server's certificate; trust: against our certificate
// (else against an empty store, so the check fails).
inline Ctx client_ctx(bool verify = false, bool trust = true, int max_version = 0) {
    Ctx c(SSL_CTX_new(TLS_client_method()));
    if (verify) {
        SSL_CTX_set_verify(c.get(), SSL_VERIFY_PEER, nullptr);
        if (trust) X509_STORE_add_cert(SSL_CTX_get_cert_store(c.get()), Identity::get().cert);
    }
    if (max_version) SSL_CTX_set_max_proto_version(c.get(), max_version);
    return c;
}

// How the two TLS bufferevents are connected.
enum class Way {
    kSocketUnix,   // bufferevent_openssl_socket_new over a socketpair
    kSocketTcp,    // bufferevent_openssl_socket_new over loopback TCP
    kFilterUnix,   // bufferevent_openssl_filter_new over socket bufferevents (socketpair)
    kFilterTcp,    // ... over loopback TCP
    kFilterPair,   // ... over the two halves of a bufferevent_pair
};
inline constexpr Way kAllWays[] = {Way::kSocketUnix, Way::kSocketTcp, Way::kFilterUnix,
                                   Way::kFilterTcp, Way::kFilterPair};
inline const char *name(Way w) {
    switch (w) {
        case Way::kSocketUnix: return "socket/unix";
        case Way::kSocketTcp: return "socket/tcp";
        case Way::kFilterUnix: return "filter/unix";
        case Way::kFilterTcp: return "filter/tcp";
        case Way::kFilterPair: return "filter/pair";
    }
    return "?";
}
inline bool is_filter(Way w) { return w >= Way::kFilterUnix; }

// A client (CONNECTING) and a server (ACCEPTING) TLS bufferevent, connected to each other,
// created with `options` (BEV_OPT_CLOSE_ON_FREE unless told otherwise), freed on
// destruction unless a test freed them first (set the pointer to nullptr then).
struct TlsPair {
    bufferevent *cli = nullptr, *srv = nullptr;
    bufferevent *cli_under = nullptr, *srv_under = nullptr;  // filter ways only
    SSL *cli_ssl = nullptr, *srv_ssl = nullptr;

    TlsPair(event_base *base, Way way, SSL_CTX *cctx, SSL_CTX *sctx,
            int options = BEV_OPT_CLOSE_ON_FREE)
        : opts(options) {
        cli_ssl = SSL_new(cctx);
        srv_ssl = SSL_new(sctx);
        SSL_set_tlsext_host_name(cli_ssl, "localhost");
        int fd[2] = {-1, -1};
        if (way == Way::kSocketUnix || way == Way::kFilterUnix) {
            conf::SocketPair sp;
            fd[0] = sp.release(0);
            fd[1] = sp.release(1);
        } else if (way == Way::kSocketTcp || way == Way::kFilterTcp) {
            bevtest::TcpPair tp;
            fd[0] = tp.release(0);
            fd[1] = tp.release(1);
        }
        if (!is_filter(way)) {
            cli = bufferevent_openssl_socket_new(base, fd[0], cli_ssl, BUFFEREVENT_SSL_CONNECTING,
                                                 options);
            srv = bufferevent_openssl_socket_new(base, fd[1], srv_ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                 options);
            return;
        }
        if (way == Way::kFilterPair) {
            bufferevent *p[2];
            bufferevent_pair_new(base, options & ~BEV_OPT_DEFER_CALLBACKS, p);
            cli_under = p[0];
            srv_under = p[1];
        } else {
            cli_under = bufferevent_socket_new(base, fd[0], BEV_OPT_CLOSE_ON_FREE |
                                                               (options & BEV_OPT_THREADSAFE));
            srv_under = bufferevent_socket_new(base, fd[1], BEV_OPT_CLOSE_ON_FREE |
                                                               (options & BEV_OPT_THREADSAFE));
        }
        cli = bufferevent_openssl_filter_new(base, cli_under, cli_ssl, BUFFEREVENT_SSL_CONNECTING,
                                             options);
        srv = bufferevent_openssl_filter_new(base, srv_under, srv_ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             options);
    }
    ~TlsPair() {
        if (cli) bufferevent_free(cli);
        if (srv) bufferevent_free(srv);
        if (!(opts & BEV_OPT_CLOSE_ON_FREE)) {
            if (cli_under) bufferevent_free(cli_under);
            if (srv_under) bufferevent_free(srv_under);
            SSL_free(cli_ssl);
            SSL_free(srv_ssl);
        }
    }
    int opts;
    TlsPair(const TlsPair &) = delete;
    TlsPair &operator=(const TlsPair &) = delete;
};

// Runs until both recorders saw CONNECTED (or an error); true if both connected.
inline bool handshake(event_base *base, bevtest::Recorder &c, bevtest::Recorder &s) {
    return bevtest::run_until(base, [&] {
        return (c.got(BEV_EVENT_CONNECTED) || c.got(BEV_EVENT_ERROR)) &&
               (s.got(BEV_EVENT_CONNECTED) || s.got(BEV_EVENT_ERROR));
    }) && c.got(BEV_EVENT_CONNECTED) && s.got(BEV_EVENT_CONNECTED);
}

}  // namespace ssltest
