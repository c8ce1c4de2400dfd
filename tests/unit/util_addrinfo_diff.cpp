// evutil_getaddrinfo against the real libevent 2.1.12 (loaded with dlopen, so its symbols
// never meet ours): every combination of numeric/loopback/empty/NULL node, service, flags,
// family and socket type, plus NULL hints, must give the same return code and the same
// result list (family, type, protocol, flags, address, port, canonical name). No network:
// names come from /etc/hosts and /etc/services; the names that are in neither (" 1.2.3.4",
// "[::1]") would go to the system's DNS server, so the resolver is pointed at a closed local
// port first (an immediate refusal, the same for both libraries, instead of a round trip or a
// timeout per case). Exit status 0 when identical.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "util/addrinfo.h"
typedef int (*gai_t)(const char *, const char *, const addrinfo *, addrinfo **);
typedef void (*fai_t)(addrinfo *);
std::string dump(int r, addrinfo *a) {
    std::string s = "r=" + std::to_string(r);
    for (; a; a = a->ai_next) {
        char t[64] = "";
        int port = 0;
        if (a->ai_family == AF_INET) {
            auto *x = (sockaddr_in *)a->ai_addr;
            inet_ntop(AF_INET, &x->sin_addr, t, 64);
            port = ntohs(x->sin_port);
        } else if (a->ai_family == AF_INET6) {
            auto *x = (sockaddr_in6 *)a->ai_addr;
            inet_ntop(AF_INET6, &x->sin6_addr, t, 64);
            port = ntohs(x->sin6_port);
        }
        char b[256];
        snprintf(b, 256, " [%d %d %d fl=%x %s:%d cn=%s]", a->ai_family, a->ai_socktype,
                 a->ai_protocol, a->ai_flags, t, port, a->ai_canonname ? a->ai_canonname : "-");
        s += b;
    }
    return s;
}
// A UDP port on 127.0.0.1 that nobody listens on: bound, its number read, closed again.
static void resolve_nothing_over_dns() {
    sockaddr_in ns{};
    ns.sin_family = AF_INET;
    ns.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    socklen_t len = sizeof ns;
    if (fd < 0 || bind(fd, (sockaddr *)&ns, sizeof ns) != 0 ||
        getsockname(fd, (sockaddr *)&ns, &len) != 0)
        ns.sin_port = htons(9);
    if (fd >= 0) close(fd);
    res_init();
    _res.nscount = 1;
    _res.nsaddr_list[0] = ns;
    _res.retry = 1;
    _res.retrans = 1;
}
int main() {
    resolve_nothing_over_dns();
    if (!dlopen("libevent_core-2.1.so.7", RTLD_NOW)) {
        printf("no reference libevent: skipped\n");
        return 0;
    }
    void *h = dlopen("libevent_core-2.1.so.7", RTLD_NOW);
    gai_t lg = (gai_t)dlsym(h, "evutil_getaddrinfo");
    fai_t lf = (fai_t)dlsym(h, "evutil_freeaddrinfo");
    const char *nodes[] = {nullptr,      "",          "1.2.3.4", " 1.2.3.4", "::1",
                           "[::1]",      "localhost", "127.1",   "0x7f.1",   "::ffff:1.2.3.4",
                           "fe80::1%lo", "01.2.3.4"};
    const char *servs[] = {nullptr, "", "0", "80", "-1", "65536", "http", "80x", " 80"};
    int flagsets[] = {0,
                      AI_PASSIVE,
                      AI_NUMERICHOST,
                      AI_NUMERICSERV,
                      AI_CANONNAME,
                      AI_V4MAPPED,
                      AI_V4MAPPED | AI_ALL,
                      AI_ADDRCONFIG,
                      AI_PASSIVE | AI_NUMERICHOST};
    int fams[] = {AF_UNSPEC, AF_INET, AF_INET6};
    int types[] = {0, SOCK_STREAM, SOCK_DGRAM};
    int n = 0, d = 0;
    for (auto nd : nodes)
        for (auto sv : servs)
            for (int fl : flagsets)
                for (int fa : fams)
                    for (int ty : types) {
                        addrinfo hh{};
                        hh.ai_flags = fl;
                        hh.ai_family = fa;
                        hh.ai_socktype = ty;
                        addrinfo *a = nullptr, *b = nullptr;
                        int ra = reevent::util::getaddrinfo(nd, sv, &hh, &a);
                        int rb = lg(nd, sv, &hh, &b);
                        std::string x = dump(ra, a), y = dump(rb, b);
                        n++;
                        if (x != y) {
                            if (d++ < 10)
                                printf("node=%s serv=%s fl=%x fam=%d type=%d\n ours %s\n libe %s\n",
                                       nd ? nd : "NULL", sv ? sv : "NULL", fl, fa, ty, x.c_str(),
                                       y.c_str());
                        }
                        reevent::util::freeaddrinfo(a);
                        if (b) lf(b);
                    }
    // NULL hints
    for (auto nd : nodes)
        for (auto sv : servs) {
            addrinfo *a = nullptr, *b = nullptr;
            int ra = reevent::util::getaddrinfo(nd, sv, nullptr, &a);
            int rb = lg(nd, sv, nullptr, &b);
            std::string x = dump(ra, a), y = dump(rb, b);
            n++;
            if (x != y) {
                if (d++ < 20)
                    printf("NULLHINTS node=%s serv=%s\n ours %s\n libe %s\n", nd ? nd : "NULL",
                           sv ? sv : "NULL", x.c_str(), y.c_str());
            }
            reevent::util::freeaddrinfo(a);
            if (b) lf(b);
        }
    printf("%d cases, %d differ\n", n, d);
    return d == 0 ? 0 : 1;
}
