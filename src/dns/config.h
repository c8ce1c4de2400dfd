// Configuration from text: resolv.conf files (evdns_base_resolv_conf_parse) and the
// options of evdns_base_set_option.
#pragma once

#include "dns/resolver.h"

namespace reevent::dns {

// libevent's return codes: 0, 1 cannot open, 2 cannot stat, 3 too large, 4 out of memory,
// 5 short read, 6 no nameserver listed (a default 127.0.0.1 is added unless told not to).
int resolv_conf_parse(Base *b, int flags, const char *path) noexcept;

// One option, checked against the DNS_OPTION_* class it belongs to (resolv.conf's
// "options" line passes DNS_OPTION_MISC; evdns_base_set_option passes DNS_OPTIONS_ALL).
int apply_option(Base *b, const char *name, const char *value, int flags) noexcept;

}  // namespace reevent::dns
