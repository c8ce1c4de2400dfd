// Text <-> binary network addresses: inet_pton with IPv6 scope ids, the "host:port" parser
// behind evutil_parse_sockaddr_port, and the sockaddr ordering of evutil_sockaddr_cmp.
//
// These take untrusted text (config files, command lines, peers), so every routine works on
// bounded stack copies, never reads past the terminating NUL, and never allocates.
#pragma once

#include <sys/socket.h>

#include <cstddef>

namespace reevent::util {

// libevent's address grammar (wider than inet_pton's): IPv4 is four decimal fields 0..255
// separated by dots, each optionally preceded by blanks and a sign ("01.2.3.4", " 1.2.3.4"
// and "-0.1.2.3" parse); IPv6 words are 1-4 hex digits read like strtol base 16 (so "0x1"
// is a word) with one "::" gap and an optional dotted IPv4 tail. 1, 0, or -1 (bad family).
int inet_pton(int af, const char *src, void *dst) noexcept;

// inet_ntop, formatted as libevent does ("::1:0", not "::0.1.0.0"). Null if len is short.
const char *inet_ntop(int af, const void *src, char *dst, size_t len) noexcept;

// inet_pton for AF_INET6 that also accepts "addr%scope" (interface name or number). The
// scope goes to *index (0 when absent), even when the address part then fails to parse.
// 1 parsed, 0 malformed, -1 unknown family (errno EAFNOSUPPORT).
int inet_pton_scope(int af, const char *src, void *dst, unsigned *index) noexcept;

// "1.2.3.4", "1.2.3.4:80", "[v6]", "[v6]:80", "v6" (no port) into out. *outlen is the room
// in out on entry, the size written on success. 0, or -1 (malformed, port not 1..65535,
// too little room); on failure neither out nor *outlen changes.
int parse_sockaddr_port(const char *str, sockaddr *out, int *outlen) noexcept;

// libevent's ordering: family difference, then address, then (optionally) the port.
int sockaddr_cmp(const sockaddr *a, const sockaddr *b, bool include_port) noexcept;

}  // namespace reevent::util
