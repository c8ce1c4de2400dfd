// Header lists (struct evkeyvalq, a public TAILQ that callers walk themselves) and query
// strings parsed into them. Entries, keys and values live on hook memory.
#pragma once

#include <string_view>

struct evkeyvalq;

namespace reevent::http {

// Value of the first entry whose key equals key ignoring ASCII case, or nullptr.
const char *find_header(const evkeyvalq *headers, const char *key) noexcept;
// Unlinks and frees the first such entry; false when there is none.
bool remove_header(evkeyvalq *headers, const char *key) noexcept;
// Appends copies of key and value; false (nothing added) on allocation failure.
bool append_header(evkeyvalq *headers, const char *key, const char *value) noexcept;
// Refuses (false) a key or value holding CR or LF, so no header can be smuggled in (libevent
// 2.1.12 refuses folded continuation lines too); else append_header.
bool add_checked_header(evkeyvalq *headers, const char *key, const char *value) noexcept;
void clear_headers(evkeyvalq *headers) noexcept;

// "k=v&k2=v2" into headers (initialised first): values %-decoded with '+' as space, keys
// kept as written. A pair with no '=' or an empty key fails the whole query (false, list
// emptied). An empty query is no pairs.
bool parse_query_into(std::string_view query, evkeyvalq *headers) noexcept;

}  // namespace reevent::http
