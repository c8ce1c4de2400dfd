// Differential fuzz target for <event2/tag.h>: the input is an evbuffer's content, and every
// reader (peek, peek_length, payload_length, consume, unmarshal, unmarshal_header/int/int64/
// fixed/string/timeval) runs on a fresh copy of it, in reevent and in the real libevent
// 2.1.12 (libevent_extra and its core loaded with dlopen). Return values, outputs and what is
// left in the buffer must agree. The writers marshal values taken from the input and must
// produce the same bytes. Built as a libFuzzer target (tests/fuzz/tag.cmake); with
// -DTAG_FUZZ_STANDALONE a plain program on random record-shaped input (used by ctest).
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <event2/buffer.h>
#include <event2/tag.h>

namespace {

#define TAG_FNS(X)                                                                           \
    X(evbuffer_new) X(evbuffer_free) X(evbuffer_add) X(evbuffer_get_length)                  \
    X(evbuffer_copyout) X(evtag_peek) X(evtag_peek_length) X(evtag_payload_length)           \
    X(evtag_consume) X(evtag_unmarshal) X(evtag_unmarshal_header) X(evtag_unmarshal_int)     \
    X(evtag_unmarshal_int64) X(evtag_unmarshal_fixed) X(evtag_unmarshal_string)              \
    X(evtag_unmarshal_timeval) X(evtag_marshal) X(evtag_marshal_int) X(evtag_marshal_int64)  \
    X(evtag_marshal_string) X(evtag_marshal_timeval) X(evtag_encode_int)                     \
    X(evtag_encode_int64) X(evtag_marshal_buffer)

struct Api {
#define DECLARE(name) decltype(&::name) name = nullptr;
    TAG_FNS(DECLARE)
    bool ok = false;
};

Api ours() {
    Api a;
#define OURS(name) a.name = &::name;
    TAG_FNS(OURS)
    a.ok = true;
    return a;
}

Api reference() {
    Api a;
    void *h = dlopen("libevent_extra-2.1.so.7", RTLD_NOW | RTLD_LOCAL);
    if (!h) return a;
    a.ok = true;
#define LOAD(name)                                                     \
    a.name = reinterpret_cast<decltype(a.name)>(dlsym(h, #name));      \
    if (!a.name) a.ok = false;
    TAG_FNS(LOAD)
    return a;
}

std::string hex(const void *p, size_t n) {
    static const char d[] = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i) {
        auto b = static_cast<const unsigned char *>(p)[i];
        s += d[b >> 4];
        s += d[b & 15];
    }
    return s;
}

std::string rest(const Api &api, evbuffer *b) {
    size_t n = api.evbuffer_get_length(b);
    std::string tmp(n, '\0');
    api.evbuffer_copyout(b, tmp.data(), n);
    return " rest=" + hex(tmp.data(), n);
}

// Runs every reader on its own copy of the input, then the writers.
std::string run(const Api &api, const unsigned char *in, size_t len) {
    std::string s;
    auto fresh = [&]() {
        evbuffer *b = api.evbuffer_new();
        api.evbuffer_add(b, in, len);
        return b;
    };
    uint32_t need = len ? in[0] & 0x7f : 0;
    {
        evbuffer *b = fresh();
        ev_uint32_t t = 0xdead;
        int r = api.evtag_peek(b, &t);
        s += "peek=" + std::to_string(r) + "/" + std::to_string(t) + rest(api, b) + "\n";
        ev_uint32_t l = 0xdead;
        r = api.evtag_peek_length(b, &l);
        s += "peek_length=" + std::to_string(r) + "/" + std::to_string(l) + "\n";
        l = 0xdead;
        r = api.evtag_payload_length(b, &l);
        s += "payload_length=" + std::to_string(r) + "/" + std::to_string(l) + "\n";
        r = api.evtag_consume(b);
        s += "consume=" + std::to_string(r) + rest(api, b) + "\n";
        api.evbuffer_free(b);
    }
    {
        evbuffer *b = fresh(), *dst = api.evbuffer_new();
        ev_uint32_t t = 0xdead;
        int r = api.evtag_unmarshal(b, &t, dst);
        s += "unmarshal=" + std::to_string(r) + "/" + std::to_string(t) + rest(api, b) + " dst" + rest(api, dst) + "\n";
        api.evbuffer_free(dst);
        api.evbuffer_free(b);
    }
    {
        evbuffer *b = fresh();
        ev_uint32_t t = 0xdead;
        int r = api.evtag_unmarshal_header(b, &t);
        s += "header=" + std::to_string(r) + "/" + std::to_string(t) + rest(api, b) + "\n";
        api.evbuffer_free(b);
    }
    {
        evbuffer *b = fresh();
        ev_uint32_t v = 0xdead;
        int r = api.evtag_unmarshal_int(b, need, &v);
        s += "int=" + std::to_string(r) + "/" + std::to_string(v) + rest(api, b) + "\n";
        api.evbuffer_free(b);
    }
    {
        evbuffer *b = fresh();
        ev_uint64_t v = 0xdead;
        int r = api.evtag_unmarshal_int64(b, need, &v);
        s += "int64=" + std::to_string(r) + "/" + std::to_string(v) + rest(api, b) + "\n";
        api.evbuffer_free(b);
    }
    {
        evbuffer *b = fresh();
        unsigned char out[8] = {0};
        size_t want = len > 1 ? in[1] % 9 : 0;
        int r = api.evtag_unmarshal_fixed(b, need, out, want);
        s += "fixed=" + std::to_string(r) + "/" + hex(out, want) + rest(api, b) + "\n";
        api.evbuffer_free(b);
    }
    {
        evbuffer *b = fresh();
        char *str = nullptr;
        int r = api.evtag_unmarshal_string(b, need, &str);
        s += "string=" + std::to_string(r) + "/" + (r == 0 && str ? hex(str, std::strlen(str)) : "-") + rest(api, b) + "\n";
        if (r == 0) std::free(str);
        api.evbuffer_free(b);
    }
    {
        evbuffer *b = fresh();
        struct timeval tv = {-1, -1};
        int r = api.evtag_unmarshal_timeval(b, need, &tv);
        s += "timeval=" + std::to_string(r) + "/" + std::to_string(tv.tv_sec) + "." + std::to_string(tv.tv_usec) + rest(api, b) + "\n";
        api.evbuffer_free(b);
    }
    {
        // Writers: values from the input bytes.
        uint64_t v = 0;
        for (size_t i = 0; i < len && i < 8; ++i) v = (v << 8) | in[i];
        evbuffer *b = api.evbuffer_new();
        api.evtag_encode_int(b, static_cast<uint32_t>(v));
        api.evtag_encode_int64(b, v);
        api.evtag_marshal_int(b, static_cast<uint32_t>(v >> 3), static_cast<uint32_t>(v));
        api.evtag_marshal_int64(b, static_cast<uint32_t>(v), v >> (len % 64));
        api.evtag_marshal(b, need, in, static_cast<ev_uint32_t>(len));
        std::string text(reinterpret_cast<const char *>(in), len);
        api.evtag_marshal_string(b, static_cast<uint32_t>(len), text.c_str());
        struct timeval tv = {static_cast<time_t>(v & 0xffffffffu), static_cast<suseconds_t>(v % 1000000)};
        api.evtag_marshal_timeval(b, 7, &tv);
        evbuffer *payload = fresh();
        api.evtag_marshal_buffer(b, 0xffffffffu, payload);
        api.evbuffer_free(payload);
        s += "written" + rest(api, b) + "\n";
        api.evbuffer_free(b);
    }
    return s;
}

const Api &ref() {
    static const Api r = reference();
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    std::string a = run(ours(), data, size);
    if (ref().ok) {
        std::string b = run(ref(), data, size);
        if (a != b) {
            std::fprintf(stderr, "mismatch for input %s\n--- reevent\n%s--- libevent\n%s",
                         hex(data, size).c_str(), a.c_str(), b.c_str());
            std::abort();
        }
    }
    return 0;
}

#ifdef TAG_FUZZ_STANDALONE
// Random inputs: well-formed records (tags and compact integers of every size, payloads of
// the announced length or not), with random bytes mixed in.
int main(int argc, char **argv) {
    if (!ref().ok) {
        std::printf("no reference libevent_extra: compared nothing\n");
        return 0;
    }
    unsigned seed = 77;
    auto rnd = [&seed](unsigned n) {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 8) % n;
    };
    long iterations = argc > 1 ? std::atol(argv[1]) : 50000;
    for (long i = 0; i < iterations; ++i) {
        evbuffer *b = evbuffer_new();
        unsigned parts = 1 + rnd(4);
        for (unsigned k = 0; k < parts; ++k) {
            switch (rnd(6)) {
            case 0: evtag_marshal_int(b, rnd(300), rnd(2) ? rnd(70000) : 0xffffffffu - rnd(3)); break;
            case 1: evtag_marshal_int64(b, rnd(200), (uint64_t(rnd(1u << 30)) << rnd(34))); break;
            case 2: {
                struct timeval tv = {time_t(rnd(1u << 31)), suseconds_t(rnd(1000000))};
                evtag_marshal_timeval(b, rnd(130), &tv);
                break;
            }
            case 3: evtag_marshal_string(b, rnd(5), "hello"); break;
            case 4: evtag_encode_int(b, rnd(1u << 31)); break;
            default: {
                unsigned char junk[6];
                unsigned n = rnd(6);
                for (unsigned j = 0; j < n; ++j) junk[j] = static_cast<unsigned char>(rnd(256));
                evbuffer_add(b, junk, n);
            }
            }
        }
        size_t n = evbuffer_get_length(b);
        std::string bytes(n, '\0');
        evbuffer_copyout(b, bytes.data(), n);
        evbuffer_free(b);
        // Sometimes cut the input short.
        if (n && rnd(3) == 0) bytes.resize(rnd(static_cast<unsigned>(n)));
        LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
    }
    std::printf("%ld inputs: reevent and libevent agree\n", iterations);
    return 0;
}
#endif
