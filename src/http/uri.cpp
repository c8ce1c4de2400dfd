// See uri.h. The parse splits the reference left to right: scheme ':' , '//' authority,
// path, '?' query, '#' fragment; whatever is left over makes the whole text invalid.
#include "http/uri.h"

#include <cstdio>
#include <cstring>

#include "http/grammar.h"

namespace reevent::http {
namespace {

std::string_view drop(std::string_view s, size_t n) noexcept { return {s.data() + n, s.size() - n}; }
std::string_view take(std::string_view s, size_t n) noexcept { return {s.data(), n}; }

bool fits_part(const char *v, Part part, bool nonconformant) noexcept {
    std::string_view s(v);
    return part_extent(s, part, nonconformant) == s.size();
}

}  // namespace

bool Uri::assign(OwnedStr &part, const char *v) noexcept {
    if (!v) {
        part.reset();
        return true;
    }
    OwnedStr copy = copy_str(v);
    if (!copy) return false;
    part = std::move(copy);
    return true;
}

// authority = [ userinfo "@" ] host [ ":" port ]; an empty authority is an empty host.
bool Uri::parse_authority(std::string_view auth) noexcept {
    if (size_t at = auth.find('@'); at != std::string_view::npos) {
        std::string_view info = take(auth, at);
        if (!userinfo_ok(info) || !(userinfo_ = copy_str(info))) return false;
        auth = drop(auth, at + 1);
    }
    // A port is the run of digits at the end after a ':' ("host:" leaves it unset).
    size_t digits = auth.size();
    while (digits > 0 && auth[digits - 1] >= '0' && auth[digits - 1] <= '9') --digits;
    if (digits > 0 && auth[digits - 1] == ':') {
        int port = -1;
        for (char c : drop(auth, digits)) {
            port = (port < 0 ? 0 : port) * 10 + (c - '0');
            if (port > 65535) return false;
        }
        port_ = port;
        auth = take(auth, digits - 1);
    }
    bool literal = auth.size() >= 2 && auth.front() == '[' && auth.back() == ']';
    if (literal ? !ip_literal_ok(auth) : !regname_ok(auth)) return false;
    host_ = copy_str(auth);
    return host_ != nullptr;
}

bool Uri::parse(std::string_view text, unsigned flags) noexcept {
    flags_ = flags;
    std::string_view rest = text;
    if (size_t colon = rest.find(':');
        colon != std::string_view::npos && scheme_ok(take(rest, colon))) {
        if (!(scheme_ = copy_str(take(rest, colon)))) return false;
        rest = drop(rest, colon + 1);
    }
    bool authority = rest.size() >= 2 && rest[0] == '/' && rest[1] == '/';
    if (authority) {
        rest = drop(rest, 2);
        size_t end = rest.find_first_of("/?#");
        if (end == std::string_view::npos) end = rest.size();
        if (!parse_authority(take(rest, end))) return false;
        rest = drop(rest, end);
    }
    std::string_view path = take(rest, part_extent(rest, Part::path, nonconformant()));
    rest = drop(rest, path.size());
    std::string_view query, fragment;
    bool has_query = !rest.empty() && rest[0] == '?';
    if (has_query) {
        rest = drop(rest, 1);
        query = take(rest, part_extent(rest, Part::query, nonconformant()));
        rest = drop(rest, query.size());
    }
    bool has_fragment = !rest.empty() && rest[0] == '#';
    if (has_fragment) {
        rest = drop(rest, 1);
        fragment = take(rest, part_extent(rest, Part::fragment, nonconformant()));
        rest = drop(rest, fragment.size());
    }
    if (!rest.empty()) return false;
    // With an authority the path is empty or absolute; without one it cannot start
    // with "//"; without a scheme its first segment cannot hold a ':'.
    if (authority && !path.empty() && path[0] != '/') return false;
    if (!authority && path.size() >= 2 && path[0] == '/' && path[1] == '/') return false;
    if (!scheme_ && !first_segment_colon_free(path)) return false;
    if (!(path_ = copy_str(path))) return false;
    if (has_query && !(query_ = copy_str(query))) return false;
    if (has_fragment && !(fragment_ = copy_str(fragment))) return false;
    return true;
}

bool Uri::parse_authority_form(std::string_view text) noexcept {
    flags_ = 0;
    size_t end = text.find_first_of("/?#");
    if (end == std::string_view::npos) end = text.size();
    if (!parse_authority(take(text, end))) return false;
    path_ = copy_str("");
    return path_ != nullptr;
}

bool Uri::set_scheme(const char *v) noexcept {
    if (v && !scheme_ok(v)) return false;
    return assign(scheme_, v);
}

bool Uri::set_userinfo(const char *v) noexcept {
    if (v && !userinfo_ok(v)) return false;
    return assign(userinfo_, v);
}

bool Uri::set_host(const char *v) noexcept {
    if (v && !(v[0] == '[' ? ip_literal_ok(v) : regname_ok(v))) return false;
    return assign(host_, v);
}

bool Uri::set_port(int port) noexcept {
    if (port < -1) return false;
    port_ = port;
    return true;
}

bool Uri::set_path(const char *v) noexcept {
    if (v && !fits_part(v, Part::path, nonconformant())) return false;
    return assign(path_, v);
}

bool Uri::set_query(const char *v) noexcept {
    if (v && !fits_part(v, Part::query, nonconformant())) return false;
    return assign(query_, v);
}

bool Uri::set_fragment(const char *v) noexcept {
    if (v && !fits_part(v, Part::fragment, nonconformant())) return false;
    return assign(fragment_, v);
}

char *Uri::join(char *out, size_t limit) const noexcept {
    const char *path = path_.get();
    if (host_ && path && path[0] != '/' && path[0] != '\0') return nullptr;
    char port[16] = "";
    if (host_ && port_ >= 0) std::snprintf(port, sizeof port, ":%d", port_);
    // The pieces in order; a null piece is left out.
    const char *pieces[] = {
        scheme_.get(), scheme_ ? ":" : nullptr,
        host_ ? "//" : nullptr, host_ ? userinfo_.get() : nullptr,
        host_ && userinfo_ ? "@" : nullptr, host_.get(), port,
        path, query_ ? "?" : nullptr, query_.get(), fragment_ ? "#" : nullptr, fragment_.get(),
    };
    size_t total = 1;  // the NUL
    for (const char *p : pieces) total += p ? std::strlen(p) : 0;
    if (total > limit) return nullptr;
    char *w = out;
    for (const char *p : pieces) {
        if (!p) continue;
        size_t n = std::strlen(p);
        std::memcpy(w, p, n);
        w += n;
    }
    *w = '\0';
    return out;
}

}  // namespace reevent::http
