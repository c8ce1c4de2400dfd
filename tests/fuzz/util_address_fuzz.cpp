// Fuzz target for the util.h address parsers: evutil_inet_pton(_scope), evutil_inet_ntop and
// evutil_parse_sockaddr_port.
//
// Checks, for every input: no crash and no read past the input (libFuzzer hands us exactly
// `size` bytes, copied into a heap string so ASan sees any over-read), and agreement with
// the real libevent 2.1.12 loaded with dlopen as an independent reference (if installed).
// Known, deliberate differences (numbers that wrap modulo 2^32, see docs/parts/
// semantics-netutil.md) are excluded by re-checking with the strict reading.
// Built as a libFuzzer target (tests/fuzz/util.cmake); with -DUTIL_FUZZ_STANDALONE it is a
// plain program that runs random and corpus inputs (used by ctest).
#include <dlfcn.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "util/address.h"

namespace {

struct Reference {
    int (*pton)(int, const char *, void *) = nullptr;
    int (*pton_scope)(int, const char *, void *, unsigned *) = nullptr;
    const char *(*ntop)(int, const void *, char *, size_t) = nullptr;
    int (*parse)(const char *, sockaddr *, int *) = nullptr;
    bool loaded = false;
};

Reference load_reference() {
    Reference r;
    void *h = dlopen("libevent_core-2.1.so.7", RTLD_NOW | RTLD_LOCAL);
    if (!h) return r;
    r.pton = reinterpret_cast<decltype(r.pton)>(dlsym(h, "evutil_inet_pton"));
    r.pton_scope = reinterpret_cast<decltype(r.pton_scope)>(dlsym(h, "evutil_inet_pton_scope"));
    r.ntop = reinterpret_cast<decltype(r.ntop)>(dlsym(h, "evutil_inet_ntop"));
    r.parse = reinterpret_cast<decltype(r.parse)>(dlsym(h, "evutil_parse_sockaddr_port"));
    r.loaded = r.pton && r.pton_scope && r.ntop && r.parse;
    return r;
}

Reference &reference() {
    static Reference r = load_reference();
    return r;
}

// True if the text contains a run of more than 9 digits: where libevent's scanf/atoi
// readings wrap modulo 2^32 and reevent deliberately rejects. Such inputs are only checked
// for safety.
bool has_long_number(const char *s) {
    int run = 0;
    for (; *s; ++s) {
        run = (*s >= '0' && *s <= '9') ? run + 1 : 0;
        if (run > 9) return true;
    }
    return false;
}

[[noreturn]] void mismatch(const char *what, const char *input, long ours, long theirs) {
    std::fprintf(stderr, "%s mismatch on \"%s\": reevent %ld, libevent %ld\n", what, input, ours,
                 theirs);
    std::abort();
}

void check_text(const char *s) {
    Reference &ref = reference();
    bool compare = ref.loaded && !has_long_number(s);
    for (int af : {AF_INET, AF_INET6}) {
        unsigned char a[16] = {}, b[16] = {};
        int ours = reevent::util::inet_pton(af, s, a);
        if (compare) {
            int theirs = ref.pton(af, s, b);
            if (ours != theirs) mismatch("inet_pton", s, ours, theirs);
            if (ours == 1 && std::memcmp(a, b, af == AF_INET ? 4 : 16) != 0)
                mismatch("inet_pton bytes", s, 0, 1);
        }
        unsigned ia = 1, ib = 1;
        ours = reevent::util::inet_pton_scope(af, s, a, &ia);
        if (compare) {
            int theirs = ref.pton_scope(af, s, b, &ib);
            if (ours != theirs) mismatch("inet_pton_scope", s, ours, theirs);
            if (ia != ib) mismatch("inet_pton_scope index", s, ia, ib);
        }
    }
    sockaddr_storage x, y;
    std::memset(&x, 0, sizeof x);
    std::memset(&y, 0, sizeof y);
    int lx = sizeof x, ly = sizeof y;
    int ours = reevent::util::parse_sockaddr_port(s, reinterpret_cast<sockaddr *>(&x), &lx);
    if (compare) {
        int theirs = ref.parse(s, reinterpret_cast<sockaddr *>(&y), &ly);
        if (ours != theirs) mismatch("parse_sockaddr_port", s, ours, theirs);
        if (lx != ly) mismatch("parse_sockaddr_port outlen", s, lx, ly);
        if (ours == 0 && std::memcmp(&x, &y, sizeof x) != 0)
            mismatch("parse_sockaddr_port bytes", s, 0, 1);
    }
}

void check_binary(const uint8_t *data, size_t size) {
    if (size < 16) return;
    Reference &ref = reference();
    for (int af : {AF_INET, AF_INET6}) {
        for (size_t len : {size_t{0}, size_t{7}, size_t{16}, size_t{46}, size_t{64}}) {
            char a[64], b[64];
            const char *ours = reevent::util::inet_ntop(af, data, a, len);
            if (ours) {
                // Whatever is printed must parse back to the same bytes.
                unsigned char back[16];
                if (reevent::util::inet_pton(af, a, back) != 1 ||
                    std::memcmp(back, data, af == AF_INET ? 4 : 16) != 0)
                    mismatch("inet_ntop round trip", a, 0, 1);
            }
            if (!ref.loaded || len < 64) continue;
            const char *theirs = ref.ntop(af, data, b, len);
            if (!ours != !theirs || (ours && std::strcmp(a, b) != 0))
                mismatch("inet_ntop", ours ? a : "(null)", 0, 1);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // An exact-size heap copy: any read past the terminator is an ASan report.
    char *s = static_cast<char *>(std::malloc(size + 1));
    if (!s) return 0;
    std::memcpy(s, data, size);
    s[size] = '\0';
    check_text(s);
    std::free(s);
    check_binary(data, size);
    return 0;
}

#ifdef UTIL_FUZZ_STANDALONE
// Random inputs from an alphabet that hits every branch of the grammars, plus argv files.
int main(int argc, char **argv) {
    static const char kAlphabet[] = "0123456789abcdefxX:.[]%+- lo\t";
    unsigned seed = 12345;
    long iterations = argc > 1 ? std::atol(argv[1]) : 200000;
    // Valid forms to mutate, so the random inputs stay near the grammar.
    static const char *kSeeds[] = {"1.2.3.4", "1.2.3.4:80", "[::1]:80", "::1", "fe80::1%1",
                                   "[fe80::1%lo]:8080", "::ffff:1.2.3.4", "1:2:3:4:5:6:7:8",
                                   "0x1::2", "[1::2:3.4.5.6]:65535", " 1. 2.3.4", "::"};
    auto next = [&seed] {
        seed = seed * 1103515245u + 12345u;
        return seed >> 16;
    };
    char buf[48];
    for (long i = 0; i < iterations; ++i) {
        size_t len;
        if (i % 2) {
            len = next() % 40;
            for (size_t k = 0; k < len; ++k) buf[k] = kAlphabet[next() % (sizeof kAlphabet - 1)];
        } else {
            const char *base = kSeeds[next() % (sizeof kSeeds / sizeof *kSeeds)];
            len = std::strlen(base);
            std::memcpy(buf, base, len);
            for (unsigned m = next() % 3 + 1; m > 0; --m) {
                char c = kAlphabet[next() % (sizeof kAlphabet - 1)];
                size_t at = len ? next() % len : 0;
                switch (next() % 3) {
                    case 0: if (len) buf[at] = c; break;                    // replace
                    case 1: if (len) { std::memmove(buf + at, buf + at + 1, len - at - 1); --len; } break;
                    default: if (len < 46) { std::memmove(buf + at + 1, buf + at, len - at); buf[at] = c; ++len; }
                }
            }
        }
        buf[len] = '\0';
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(buf), len);
        uint8_t bin[16];
        for (auto &b : bin) {
            seed = seed * 1103515245u + 12345u;
            b = ((seed >> 16) % 3 == 0) ? static_cast<uint8_t>(seed >> 24) : 0;
        }
        check_binary(bin, sizeof bin);
    }
    std::printf("%ld inputs, reference %s\n", iterations,
                reference().loaded ? "libevent 2.1.12" : "absent");
    return 0;
}
#endif
