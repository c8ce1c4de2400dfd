// See wire.h.
#include "dns/wire.h"

#include <cstring>

namespace reevent::dns {
namespace {

uint16_t get16(const unsigned char *p) noexcept { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t get32(const unsigned char *p) noexcept {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
void put16(unsigned char *p, uint16_t v) noexcept {
    p[0] = static_cast<unsigned char>(v >> 8);
    p[1] = static_cast<unsigned char>(v & 0xff);
}

}  // namespace

size_t build_query(uint16_t id, const char *name, uint16_t type, unsigned char *out) noexcept {
    size_t n = std::strlen(name);
    if (n > kMaxName) return 0;
    std::memset(out, 0, 12);
    put16(out, id);
    out[2] = 0x01;  // RD: ask for recursion
    put16(out + 4, 1);
    size_t pos = 12;
    const char *p = name;
    while (*p) {
        const char *dot = std::strchr(p, '.');
        size_t len = dot ? static_cast<size_t>(dot - p) : std::strlen(p);
        if (len == 0 || len > 63) return 0;  // empty label or too long
        out[pos++] = static_cast<unsigned char>(len);
        std::memcpy(out + pos, p, len);
        pos += len;
        p += len;
        if (*p == '.') ++p;
    }
    out[pos++] = 0;
    put16(out + pos, type);
    put16(out + pos + 2, kClassIn);
    return pos + 4;
}

bool read_name(const unsigned char *msg, size_t len, size_t *pos, char *out, size_t outsize) noexcept {
    size_t p = *pos;
    size_t written = 0;
    bool jumped = false;
    int jumps = 0;
    for (;;) {
        if (p >= len) return false;
        unsigned char l = msg[p];
        if (l == 0) {
            ++p;
            break;
        }
        if ((l & 0xc0) == 0xc0) {
            if (p + 1 >= len || ++jumps > 64) return false;
            size_t target = static_cast<size_t>(((l & 0x3f) << 8) | msg[p + 1]);
            if (!jumped) *pos = p + 2;
            jumped = true;
            p = target;
            continue;
        }
        if (l & 0xc0) return false;
        ++p;
        if (p + l > len) return false;
        if (written + l + 2 > outsize) return false;
        if (written) out[written++] = '.';
        std::memcpy(out + written, msg + p, l);
        written += l;
        p += l;
    }
    if (!jumped) *pos = p;
    out[written] = '\0';
    return true;
}

namespace {

// One resource record's fixed part; the owner name is read past and dropped.
struct Record {
    uint16_t type, cls, rdlen;
    uint32_t ttl;
    size_t rdata;  // offset of the record's data in the message
};

// Reads the record at *pos and moves *pos past its data; false when it runs off the end.
bool read_record(const unsigned char *msg, size_t len, size_t *pos, Record &rr) noexcept {
    char owner[kMaxName + 1];
    if (!read_name(msg, len, pos, owner, sizeof owner) || *pos + 10 > len) return false;
    const unsigned char *f = msg + *pos;
    rr.type = get16(f);
    rr.cls = get16(f + 2);
    rr.ttl = get32(f + 4);
    rr.rdlen = get16(f + 8);
    rr.rdata = *pos + 10;
    if (rr.rdata + rr.rdlen > len) return false;
    *pos = rr.rdata + rr.rdlen;
    return true;
}

}  // namespace

bool parse_reply(const unsigned char *msg, size_t len, uint16_t want, Reply &out) noexcept {
    if (len < 12) return false;
    out.id = get16(msg);
    if (!(msg[2] & 0x80)) return false;  // a query, not a response
    out.truncated = (msg[2] & 0x02) != 0;
    out.rcode = msg[3] & 0x0f;
    uint16_t qd = get16(msg + 4), an = get16(msg + 6), ns = get16(msg + 8);
    size_t pos = 12;
    if (qd != 1) return false;
    if (!read_name(msg, len, &pos, out.question, sizeof out.question)) return false;
    if (pos + 4 > len) return false;
    out.qtype = get16(msg + pos);
    pos += 4;
    if (want == 0) want = out.qtype;
    bool have_ttl = false;
    for (uint16_t i = 0; i < an; ++i) {
        Record rr;
        if (!read_record(msg, len, &pos, rr)) return false;
        const uint16_t type = rr.type, cls = rr.cls, rdlen = rr.rdlen;
        const uint32_t ttl = rr.ttl;
        const size_t rdata = rr.rdata;
        if (type == kTypeCname && !out.cname[0]) {
            // Kept for AI_CANONNAME (an unreadable target is simply not kept).
            size_t p = rdata;
            if (!read_name(msg, len, &p, out.cname, sizeof out.cname)) out.cname[0] = '\0';
            continue;
        }
        if (cls != kClassIn || type != want) continue;  // other records are skipped
        bool kept = false;
        if (type == kTypeA && rdlen == 4 && out.count < kMaxAddrs) {
            std::memcpy(&out.a[out.count++], msg + rdata, 4);
            kept = true;
        } else if (type == kTypeAaaa && rdlen == 16 && out.count < kMaxAddrs) {
            std::memcpy(&out.aaaa[out.count++], msg + rdata, 16);
            kept = true;
        } else if (type == kTypePtr && out.count == 0) {
            size_t p = rdata;
            if (!read_name(msg, len, &p, out.ptr, sizeof out.ptr)) return false;
            out.count = 1;
            kept = true;
        }
        if (kept && (!have_ttl || ttl < out.ttl)) {
            out.ttl = ttl;
            have_ttl = true;
        }
    }
    if (out.count > 0) return true;
    // A negative answer: the caller gets the SOA's caching time (RFC 2308), as libevent gives.
    for (uint16_t i = 0; i < ns; ++i) {
        Record rr;
        if (!read_record(msg, len, &pos, rr)) return false;
        if (rr.type != kTypeSoa || rr.cls != kClassIn) continue;
        const uint32_t ttl = rr.ttl;
        size_t p = rr.rdata;
        char mname[kMaxName + 1], rname[kMaxName + 1];
        if (!read_name(msg, len, &p, mname, sizeof mname) || !read_name(msg, len, &p, rname, sizeof rname) ||
            p + 20 > len)
            return false;
        uint32_t minimum = get32(msg + p + 16);
        uint32_t t = ttl < minimum ? ttl : minimum;
        if (!have_ttl || t < out.ttl) {
            out.ttl = t;
            have_ttl = true;
        }
    }
    return true;
}

}  // namespace reevent::dns
