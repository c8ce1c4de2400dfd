// libFuzzer target: evdns reading a nameserver's reply. Each input is
//   byte 0   options: bits 0-2 the lookup (A, AAAA, reverse v4, reverse v6, getaddrinfo for
//            IPv4, getaddrinfo for any family, A through the search list), bit 3 keeps case
//            randomization on, bit 4 sends the reply twice, bit 5 leaves the base with
//            requests still pending when the base is freed (evdns_base_free fails them)
//   rest     the reply datagram; its first two bytes are replaced by the query's id, so that
//            the parser goes past the id check
// The nameserver is a UDP socket on 127.0.0.1 the target reads the queries from itself.
// Every query seen is answered with the same bytes; what is still pending then is cancelled.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

namespace {

enum : uint8_t {
    kKindMask = 0x07,
    kRandomCase = 0x08,
    kTwice = 0x10,
    kFreePending = 0x20,
};

struct Run {
    int pending = 0;
    size_t seen = 0;
};

int ns_fd = -1;
sockaddr_in ns_addr{};

// evdns's warnings ("nameserver failed") would flood the fuzzer's output.
void quiet(int, const char *) {}

[[noreturn]] void fail(const char *what) {
    std::fprintf(stderr, "dns_reply_fuzz: %s\n", what);
    std::abort();
}

void on_resolve(int result, char type, int count, int ttl, void *addresses, void *arg) {
    auto *run = static_cast<Run *>(arg);
    --run->pending;
#ifdef FUZZ_STANDALONE
    std::printf("resolve: result %d type %d count %d ttl %d\n", result, type, count, ttl);
#endif
    if (result != DNS_ERR_NONE || !addresses) return;
    // Touch every answer the parser produced.
    size_t sum = size_t(ttl);
    if (type == DNS_IPv4_A) {
        for (int i = 0; i < count; ++i) sum += static_cast<const uint32_t *>(addresses)[i];
    } else if (type == DNS_IPv6_AAAA) {
        for (int i = 0; i < count; ++i) sum += static_cast<const uint8_t *>(addresses)[i * 16 + 15];
    } else if (type == DNS_PTR) {
        sum += std::strlen(*static_cast<char **>(addresses));
    }
    run->seen += sum;
}

void on_addrinfo(int result, evutil_addrinfo *res, void *arg) {
    auto *run = static_cast<Run *>(arg);
    --run->pending;
#ifdef FUZZ_STANDALONE
    std::printf("getaddrinfo: result %d\n", result);
#endif
    if (result != 0) return;
    for (evutil_addrinfo *ai = res; ai; ai = ai->ai_next) {
        run->seen += ai->ai_addrlen + size_t(ai->ai_family);
        if (ai->ai_canonname) run->seen += std::strlen(ai->ai_canonname);
    }
    evutil_freeaddrinfo(res);
}

// Answers every query waiting on the nameserver socket; the number answered.
int answer_queries(const uint8_t *data, size_t size, bool twice) {
    int answered = 0;
    uint8_t query[1500];
    uint8_t reply[65536];
    if (size > sizeof reply) size = sizeof reply;
    if (size) std::memcpy(reply, data, size);
    for (;;) {
        sockaddr_storage from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(ns_fd, query, sizeof query, MSG_DONTWAIT,
                             reinterpret_cast<sockaddr *>(&from), &flen);
        if (n < 0) return answered;
        if (n >= 2 && size >= 2) std::memcpy(reply, query, 2);
        for (int k = twice ? 2 : 1; k > 0; --k)
            sendto(ns_fd, reply, size, 0, reinterpret_cast<sockaddr *>(&from), flen);
        ++answered;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    event_set_log_callback(quiet);
    if (ns_fd < 0) {
        ns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ns_addr.sin_family = AF_INET;
        ns_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof ns_addr;
        if (ns_fd < 0 || bind(ns_fd, reinterpret_cast<sockaddr *>(&ns_addr), len) < 0 ||
            getsockname(ns_fd, reinterpret_cast<sockaddr *>(&ns_addr), &len) < 0)
            fail("bind");
    }
    answer_queries(nullptr, 0, false);  // nothing left over from the last run
    uint8_t opts = data[0];
    ++data;
    --size;

    Run run;
    event_base *base = event_base_new();
    if (!base) fail("event_base_new");
    evdns_base *dns = evdns_base_new(base, 0);
    if (!dns) fail("evdns_base_new");
    if (evdns_base_nameserver_sockaddr_add(dns, reinterpret_cast<sockaddr *>(&ns_addr),
                                           sizeof ns_addr, 0) != 0)
        fail("nameserver");
    evdns_base_set_option(dns, "randomize-case:", (opts & kRandomCase) ? "1" : "0");
    evdns_base_set_option(dns, "max-timeouts:", "3");

    evdns_request *req = nullptr;
    evdns_getaddrinfo_request *gai = nullptr;
    evutil_addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = EVUTIL_AI_CANONNAME;
    in_addr v4;
    v4.s_addr = htonl(0xc0000201);  // 192.0.2.1
    in6_addr v6{};
    v6.s6_addr[0] = 0x20;
    v6.s6_addr[1] = 0x01;
    v6.s6_addr[15] = 1;
    run.pending = 1;
    switch (opts & kKindMask) {
    case 0:
        req = evdns_base_resolve_ipv4(dns, "www.example.com", DNS_QUERY_NO_SEARCH, on_resolve, &run);
        break;
    case 1:
        req = evdns_base_resolve_ipv6(dns, "www.example.com", DNS_QUERY_NO_SEARCH, on_resolve, &run);
        break;
    case 2:
        req = evdns_base_resolve_reverse(dns, &v4, 0, on_resolve, &run);
        break;
    case 3:
        req = evdns_base_resolve_reverse_ipv6(dns, &v6, 0, on_resolve, &run);
        break;
    case 4:
        hints.ai_family = AF_INET;
        gai = evdns_getaddrinfo(dns, "www.example.com", "80", &hints, on_addrinfo, &run);
        break;
    case 5:
        hints.ai_family = AF_UNSPEC;
        gai = evdns_getaddrinfo(dns, "www.example.com", "http", &hints, on_addrinfo, &run);
        break;
    default:
        evdns_base_search_add(dns, "example.com");
        evdns_base_search_ndots_set(dns, 2);
        req = evdns_base_resolve_ipv4(dns, "www", 0, on_resolve, &run);
        break;
    }
    if (run.pending && !req && !gai) fail("no request");

    // Loopback delivery is synchronous: a query sent is waiting for us at once, and so is
    // the reply for evdns. Answer what comes until nothing more does.
    for (int idle = 0; run.pending > 0 && idle < 3; ++idle) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (answer_queries(data, size, opts & kTwice)) idle = -1;
        event_base_loop(base, EVLOOP_NONBLOCK);
    }
    if (run.pending > 0 && !(opts & kFreePending)) {
        if (req) evdns_cancel_request(dns, req);
        if (gai) evdns_getaddrinfo_cancel(gai);
        for (int i = 0; run.pending > 0 && i < 10; ++i) event_base_loop(base, EVLOOP_NONBLOCK);
        if (run.pending > 0) fail("a cancelled request never had its callback");
    }
    evdns_base_free(dns, 1);
    for (int i = 0; run.pending > 0 && i < 10; ++i) event_base_loop(base, EVLOOP_NONBLOCK);
    event_base_free(base);
    return 0;
}

#ifdef FUZZ_STANDALONE
#include "standalone_main.h"
#endif
