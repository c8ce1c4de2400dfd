// Secure random bytes; see secure_rng.h.
#include "util/secure_rng.h"

#include <stdlib.h>

namespace reevent::util {

int secure_rng_init() noexcept {
    (void)arc4random();  // forces the generator to seed now rather than on first use
    return 0;
}

void secure_rng_get_bytes(void *buf, size_t n) noexcept {
    if (buf && n) arc4random_buf(buf, n);
}

}  // namespace reevent::util
