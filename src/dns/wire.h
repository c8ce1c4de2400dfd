// The DNS message format (RFC 1035) as the resolver needs it: building a one-question
// query, and reading the answer records of a reply (A, AAAA, PTR, with name compression).
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>

namespace reevent::dns {

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypeSoa = 6;
inline constexpr uint16_t kTypePtr = 12;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kClassIn = 1;
inline constexpr size_t kMaxName = 255;       // text form, without the final NUL
inline constexpr size_t kMaxUdp = 512;        // a plain (non-EDNS) UDP message
inline constexpr int kMaxAddrs = 32;          // addresses kept from one reply

// Writes a recursive query for name/type with the given id into out (room for kMaxUdp
// bytes). Returns the length, or 0 if the name cannot be encoded.
size_t build_query(uint16_t id, const char *name, uint16_t type, unsigned char *out) noexcept;

// What a reply holds, as far as one question is concerned.
struct Reply {
    uint16_t id = 0;
    bool truncated = false;
    int rcode = 0;
    char question[kMaxName + 1] = {};  // the question's name, as the server sent it back
    uint16_t qtype = 0;
    int count = 0;                     // records of the asked type kept below
    uint32_t ttl = 0;                  // smallest ttl among them; with none, the smallest of
                                       // each authority SOA's ttl and minimum (0 if none)
    char cname[kMaxName + 1] = {};     // the first CNAME target in the answer section ("": none)
    uint32_t a[kMaxAddrs] = {};        // network order
    in6_addr aaaa[kMaxAddrs] = {};
    char ptr[kMaxName + 1] = {};       // the first PTR target
};

// Parses a reply, keeping the records of type `want` (0: the question's type). False if the
// message is malformed (or not a response).
bool parse_reply(const unsigned char *msg, size_t len, uint16_t want, Reply &out) noexcept;

// Reads a (possibly compressed) name at *pos into out; advances *pos past it.
bool read_name(const unsigned char *msg, size_t len, size_t *pos, char *out, size_t outsize) noexcept;

}  // namespace reevent::dns
