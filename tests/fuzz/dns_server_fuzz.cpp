// libFuzzer target: an evdns server port reading a request packet. Each input is
//   byte 0   options (when and how the callback answers, which records it adds)
//   rest     the UDP datagram sent to the port from a loopback client socket
// The callback answers each question it is given with records of the asked type (A, AAAA,
// PTR, CNAME, or a raw record), at once or after the loop, or drops the request; the client
// reads whatever reply comes back.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <event2/event.h>

namespace {

enum : uint8_t {
    kLater = 0x01,      // answer after the loop, not in the callback
    kDrop = 0x02,       // drop the request instead of answering
    kAuthority = 0x04,  // evdns_server_request_set_flags(AA)
    kCname = 0x08,      // a CNAME record before each answer
    kExtra = 0x10,      // records in the authority and additional sections too
    kNxdomain = 0x20,   // respond with error 3
    kCloseFirst = 0x40, // close the port before answering a request kept for later
    kMany = 0x80,       // many addresses per record (the reply outgrows 512 bytes)
};

struct Run {
    uint8_t opts = 0;
    int requests = 0;
    evdns_server_request *kept[4];
    int nkept = 0;
};

int client_fd = -1;

// evdns's warnings ("nameserver failed") would flood the fuzzer's output.
void quiet(int, const char *) {}

[[noreturn]] void fail(const char *what) {
    std::fprintf(stderr, "dns_server_fuzz: %s\n", what);
    std::abort();
}

void answer(evdns_server_request *req, uint8_t opts) {
    sockaddr_storage from;
    evdns_server_request_get_requesting_addr(req, reinterpret_cast<sockaddr *>(&from), sizeof from);
    if (opts & kDrop) {
        evdns_server_request_drop(req);
        return;
    }
    if (opts & kAuthority) evdns_server_request_set_flags(req, EVDNS_FLAGS_AA);
    static const uint8_t v4[64 * 4] = {192, 0, 2, 1, 192, 0, 2, 2, 198, 51, 100, 7};
    static const uint8_t v6[32 * 16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    int n = (opts & kMany) ? 40 : 2;
    for (int i = 0; i < req->nquestions; ++i) {
        const evdns_server_question *q = req->questions[i];
        const char *name = q->name;
        if (opts & kCname) evdns_server_request_add_cname_reply(req, name, "alias.example.", 60);
        switch (q->type) {
        case EVDNS_TYPE_A:
            evdns_server_request_add_a_reply(req, name, n, v4, 300);
            break;
        case EVDNS_TYPE_AAAA:
            evdns_server_request_add_aaaa_reply(req, name, n / 2, v6, 300);
            break;
        case EVDNS_TYPE_PTR: {
            in_addr in;
            in.s_addr = htonl(0xc0000201);
            evdns_server_request_add_ptr_reply(req, nullptr, name, "host.example", 300);
            if (opts & kMany) evdns_server_request_add_ptr_reply(req, &in, nullptr, name, 300);
            break;
        }
        case EVDNS_TYPE_CNAME:
            evdns_server_request_add_cname_reply(req, name, name, 300);
            break;
        default:
            evdns_server_request_add_reply(req, EVDNS_ANSWER_SECTION, name, q->type,
                                           q->dns_question_class, 30, 5, 0, "\x04text");
        }
        if (opts & kExtra) {
            evdns_server_request_add_reply(req, EVDNS_AUTHORITY_SECTION, name, EVDNS_TYPE_NS,
                                           EVDNS_CLASS_INET, 60, -1, 1, "ns.example.");
            evdns_server_request_add_reply(req, EVDNS_ADDITIONAL_SECTION, "ns.example.",
                                           EVDNS_TYPE_A, EVDNS_CLASS_INET, 60, 4, 0,
                                           reinterpret_cast<const char *>(v4));
        }
    }
    evdns_server_request_respond(req, (opts & kNxdomain) ? 3 : 0);
}

void on_request(evdns_server_request *req, void *arg) {
    auto *run = static_cast<Run *>(arg);
    ++run->requests;
#ifdef FUZZ_STANDALONE
    std::printf("request flags %x, %d questions\n", req->flags, req->nquestions);
#endif
    if ((run->opts & kLater) && run->nkept < int(sizeof run->kept / sizeof run->kept[0])) {
        run->kept[run->nkept++] = req;
        return;
    }
    answer(req, run->opts);
}

void drain_client() {
    char buf[2048];
    for (ssize_t n; (n = recv(client_fd, buf, sizeof buf, MSG_DONTWAIT)) >= 0;) {
#ifdef FUZZ_STANDALONE
        unsigned sum = 0;
        for (ssize_t i = 0; i < n; ++i) sum = sum * 31 + static_cast<unsigned char>(buf[i]);
        std::printf("reply %zd bytes, hash %08x\n", n, sum);
        if (std::getenv("FUZZ_DUMP"))
            for (ssize_t i = 0; i < n; ++i)
                std::printf("%02x%s", static_cast<unsigned char>(buf[i]), i % 32 == 31 ? "\n" : " ");
#endif
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    event_set_log_callback(quiet);
    if (client_fd < 0) {
        client_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (client_fd < 0) fail("socket");
    }
    drain_client();
    Run run;
    run.opts = data[0];
    ++data;
    --size;

    event_base *base = event_base_new();
    if (!base) fail("event_base_new");
    int sfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    if (sfd < 0 || bind(sfd, reinterpret_cast<sockaddr *>(&sin), len) < 0 ||
        getsockname(sfd, reinterpret_cast<sockaddr *>(&sin), &len) < 0)
        fail("bind");
    evdns_server_port *port = evdns_add_server_port_with_base(base, sfd, 0, on_request, &run);
    if (!port) fail("evdns_add_server_port_with_base");

    if (sendto(client_fd, data, size, 0, reinterpret_cast<sockaddr *>(&sin), len) < 0)
        fail("sendto");
    // Loopback delivery is synchronous: the datagram is waiting for the first turn.
    for (int i = 0; i < 3; ++i) event_base_loop(base, EVLOOP_NONBLOCK);
    if ((run.opts & kCloseFirst) && run.nkept) {
        evdns_close_server_port(port);
        port = nullptr;
    }
    for (int i = 0; i < run.nkept; ++i) answer(run.kept[i], run.opts);
    for (int i = 0; i < 3; ++i) event_base_loop(base, EVLOOP_NONBLOCK);
    drain_client();
    if (port) evdns_close_server_port(port);
    event_base_free(base);
#ifdef FUZZ_STANDALONE
    std::printf("requests=%d\n", run.requests);
#endif
    return 0;
}

#ifdef FUZZ_STANDALONE
#include "standalone_main.h"
#endif
