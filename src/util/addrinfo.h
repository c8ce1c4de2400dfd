// Name resolution behind evutil_getaddrinfo: the C library's getaddrinfo with libevent's
// conventions (null hints mean all-zero hints, libevent-only flag bits are stripped) and
// libevent's error texts.
#pragma once

struct addrinfo;

namespace reevent::util {

int getaddrinfo(const char *node, const char *service, const addrinfo *hints,
                addrinfo **res) noexcept;
void freeaddrinfo(addrinfo *ai) noexcept;
const char *gai_strerror(int err) noexcept;

}  // namespace reevent::util
