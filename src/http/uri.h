// A URI reference (RFC 3986) as libevent 2.1's evhttp_uri holds it: seven optional parts,
// kept exactly as written (no percent-decoding), each checked against its grammar when it is
// parsed or set.
#pragma once

#include <cstddef>
#include <string_view>

#include "http/mem.h"

namespace reevent::http {

class Uri {
public:
    static constexpr unsigned kNonconformant = 0x01;  // EVHTTP_URI_NONCONFORMANT

    // Fills a fresh Uri from text; false when text is not a URI reference (or memory runs
    // out), the Uri then holding some parts and fit only to be destroyed.
    bool parse(std::string_view text, unsigned flags) noexcept;
    // Fills a fresh Uri from a CONNECT request's target (authority-form, "host:port"), as
    // libevent reads it: [userinfo@]host[:port] up to the first '/', '?' or '#' (what
    // follows is ignored), no scheme, an empty path.
    bool parse_authority_form(std::string_view text) noexcept;

    const char *scheme() const noexcept { return scheme_.get(); }
    const char *userinfo() const noexcept { return userinfo_.get(); }
    const char *host() const noexcept { return host_.get(); }
    int port() const noexcept { return port_; }
    const char *path() const noexcept { return path_.get(); }
    const char *query() const noexcept { return query_.get(); }
    const char *fragment() const noexcept { return fragment_.get(); }

    void set_flags(unsigned flags) noexcept { flags_ = flags; }

    // nullptr clears the part. false (part unchanged) when the value does not fit the
    // part's grammar or memory runs out.
    bool set_scheme(const char *v) noexcept;
    bool set_userinfo(const char *v) noexcept;
    bool set_host(const char *v) noexcept;
    bool set_port(int port) noexcept;  // -1 clears; below -1 is refused
    bool set_path(const char *v) noexcept;
    bool set_query(const char *v) noexcept;
    bool set_fragment(const char *v) noexcept;

    // Writes the reference and a NUL into out[0, limit); nullptr when it does not fit or a
    // host is set with a path that neither is empty nor starts with '/'.
    char *join(char *out, size_t limit) const noexcept;

private:
    bool nonconformant() const noexcept { return (flags_ & kNonconformant) != 0; }
    bool parse_authority(std::string_view auth) noexcept;
    static bool assign(OwnedStr &part, const char *v) noexcept;

    OwnedStr scheme_, userinfo_, host_, path_, query_, fragment_;
    int port_ = -1;
    unsigned flags_ = 0;
};

}  // namespace reevent::http

// The C handle (struct evhttp_uri of <event2/http.h>) is the Uri itself.
struct evhttp_uri {
    reevent::http::Uri uri;
};
