// See keyvalq.h.
#include "http/keyvalq.h"

#include <cstring>

#include <event2/keyvalq_struct.h>
#include <event2/util.h>

#include "http/encoding.h"
#include "http/mem.h"

namespace reevent::http {
namespace {

evkeyval *find_entry(const evkeyvalq *headers, const char *key) noexcept {
    for (evkeyval *e = headers->tqh_first; e; e = e->next.tqe_next) {
        if (evutil_ascii_strcasecmp(e->key, key) == 0) return e;
    }
    return nullptr;
}

void unlink_entry(evkeyvalq *headers, evkeyval *e) noexcept {
    if (e->next.tqe_next)
        e->next.tqe_next->next.tqe_prev = e->next.tqe_prev;
    else
        headers->tqh_last = e->next.tqe_prev;
    *e->next.tqe_prev = e->next.tqe_next;
}

void free_entry(evkeyval *e) noexcept {
    event_mm_free_(e->key);
    event_mm_free_(e->value);
    event_mm_free_(e);
}

void init_list(evkeyvalq *headers) noexcept {
    headers->tqh_first = nullptr;
    headers->tqh_last = &headers->tqh_first;
}

}  // namespace

const char *find_header(const evkeyvalq *headers, const char *key) noexcept {
    evkeyval *e = find_entry(headers, key);
    return e ? e->value : nullptr;
}

bool remove_header(evkeyvalq *headers, const char *key) noexcept {
    evkeyval *e = find_entry(headers, key);
    if (!e) return false;
    unlink_entry(headers, e);
    free_entry(e);
    return true;
}

bool append_header(evkeyvalq *headers, const char *key, const char *value) noexcept {
    auto *e = static_cast<evkeyval *>(event_mm_calloc_(1, sizeof(evkeyval)));
    if (!e) return false;
    e->key = event_mm_strdup_(key);
    e->value = event_mm_strdup_(value);
    if (!e->key || !e->value) {
        free_entry(e);
        return false;
    }
    e->next.tqe_next = nullptr;
    e->next.tqe_prev = headers->tqh_last;
    *headers->tqh_last = e;
    headers->tqh_last = &e->next.tqe_next;
    return true;
}

bool add_checked_header(evkeyvalq *headers, const char *key, const char *value) noexcept {
    if (std::strpbrk(key, "\r\n") || std::strpbrk(value, "\r\n")) return false;
    return append_header(headers, key, value);
}

void clear_headers(evkeyvalq *headers) noexcept {
    while (evkeyval *e = headers->tqh_first) {
        unlink_entry(headers, e);
        free_entry(e);
    }
}

bool parse_query_into(std::string_view query, evkeyvalq *headers) noexcept {
    init_list(headers);
    // One scratch buffer holds each key and its decoded value in turn.
    OwnedStr scratch = copy_str(query);
    if (!scratch) return query.empty();
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair(query.data(), amp == std::string_view::npos ? query.size() : amp);
        query = amp == std::string_view::npos
                    ? std::string_view{}
                    : std::string_view(query.data() + amp + 1, query.size() - amp - 1);
        size_t eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) {
            clear_headers(headers);
            return false;
        }
        char *key = scratch.get();
        std::memcpy(key, pair.data(), eq);
        key[eq] = '\0';
        std::string_view raw(pair.data() + eq + 1, pair.size() - eq - 1);
        OwnedStr value(percent_decode(raw, Plus::space, nullptr));
        if (!value || !append_header(headers, key, value.get())) {
            clear_headers(headers);
            return false;
        }
    }
    return true;
}

}  // namespace reevent::http
