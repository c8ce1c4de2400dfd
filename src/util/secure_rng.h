// Cryptographic random bytes behind evutil_secure_rng_*.
//
// glibc's arc4random (kernel getrandom, reseeded by the C library, fork-safe) is the source,
// as in Debian's libevent build: there is nothing to seed, so init always succeeds, added
// bytes are not needed, and no device file can be chosen.
#pragma once

#include <cstddef>

namespace reevent::util {

int secure_rng_init() noexcept;
void secure_rng_get_bytes(void *buf, size_t n) noexcept;

}  // namespace reevent::util
