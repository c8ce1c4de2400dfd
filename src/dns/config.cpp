// See config.h.
#include "dns/config.h"

#include <arpa/inet.h>
#include <event2/util.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace reevent::dns {
namespace {

// A whole-string integer; false on junk or overflow.
// An empty text is 0, as strtol makes it.
bool parse_int(const char *text, long lo, long hi, int *out) noexcept {
    char *end;
    errno = 0;
    long v = std::strtol(text, &end, 10);
    if (*end || errno || v < lo || v > hi) return false;
    *out = static_cast<int>(v);
    return true;
}

// Seconds as a decimal ("5", "0.25") into a timeval; false on junk or a value <= 0.
bool parse_seconds(const char *text, timeval *out) noexcept {
    if (!*text) return false;
    char *end;
    double d = std::strtod(text, &end);
    if (*end || !(d > 0) || d > 1e9) return false;
    out->tv_sec = static_cast<time_t>(d);
    out->tv_usec = static_cast<suseconds_t>(std::lround((d - std::floor(d)) * 1e6));
    if (out->tv_usec >= 1000000) {
        out->tv_sec++;
        out->tv_usec -= 1000000;
    }
    return true;
}

// "name" or "name:" against the option's plain name.
bool is_option(const char *given, const char *plain) noexcept {
    size_t n = std::strlen(plain);
    return std::strncmp(given, plain, n) == 0 && (given[n] == '\0' || (given[n] == ':' && given[n + 1] == '\0'));
}

void search_from_hostname(Base *b) noexcept {
    char host[256];
    if (gethostname(host, sizeof host) != 0) return;
    host[sizeof host - 1] = '\0';
    const char *dot = std::strchr(host, '.');
    if (dot && dot[1]) search_add(b, dot + 1);
}

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r'; }

int split_words(char *line, char **words, int max) noexcept {
    int count = 0;
    char *w = line;
    while (*w && count < max) {
        while (is_space(*w)) *w++ = '\0';
        if (!*w) break;
        words[count++] = w;
        while (*w && !is_space(*w)) ++w;
    }
    return count;
}

void parse_line(Base *b, char *line, int flags, bool *saw_search) noexcept {
    if (char *hash = std::strpbrk(line, "#;")) *hash = '\0';
    char *words[64];
    int n = split_words(line, words, 64);
    if (n == 0) return;
    if (std::strcmp(words[0], "nameserver") == 0 && n >= 2) {
        if (flags & DNS_OPTION_NAMESERVERS) add_nameserver_text(b, words[1]);
    } else if (std::strcmp(words[0], "domain") == 0 && n >= 2) {
        if (flags & DNS_OPTION_SEARCH) {
            search_clear(b);
            search_add(b, words[1]);
            *saw_search = true;
        }
    } else if (std::strcmp(words[0], "search") == 0 && n >= 2) {
        if (flags & DNS_OPTION_SEARCH) {
            // search_add puts the newest first; the file's order is the order of trying.
            search_clear(b);
            for (int i = n - 1; i >= 1; --i) search_add(b, words[i]);
            *saw_search = true;
        }
    } else if (std::strcmp(words[0], "options") == 0) {
        for (int i = 1; i < n; ++i) {
            char *colon = std::strchr(words[i], ':');
            if (!colon) continue;
            char name[64];
            size_t len = static_cast<size_t>(colon - words[i]);
            if (len >= sizeof name) continue;
            std::memcpy(name, words[i], len);
            name[len] = '\0';
            apply_option(b, name, colon + 1, flags);
        }
    }
}

void add_default_nameserver(Base *b, int flags) noexcept {
    if ((flags & DNS_OPTION_NAMESERVERS) && !(flags & DNS_OPTION_NAMESERVERS_NO_DEFAULT))
        add_nameserver_text(b, "127.0.0.1");
}

}  // namespace

int apply_option(Base *b, const char *name, const char *value, int flags) noexcept {
    int v;
    timeval tv;
    if (is_option(name, "ndots")) {
        if (!(flags & DNS_OPTION_SEARCH)) return 0;
        if (!parse_int(value, 0, INT_MAX, &v)) return -1;
        b->ndots = v;
    } else if (is_option(name, "timeout")) {
        if (!(flags & DNS_OPTION_MISC)) return 0;
        if (!parse_seconds(value, &tv)) return -1;
        b->timeout = tv;
    } else if (is_option(name, "max-timeouts")) {
        if (!(flags & DNS_OPTION_MISC)) return 0;
        if (!parse_int(value, 0, INT_MAX, &v)) return -1;
        b->max_timeouts = v < 1 ? 1 : v > 255 ? 255 : v;
    } else if (is_option(name, "max-inflight")) {
        if (!(flags & DNS_OPTION_MISC)) return 0;
        if (!parse_int(value, 0, INT_MAX, &v)) return -1;
        b->max_inflight = v < 1 ? 1 : v > 65000 ? 65000 : v;
    } else if (is_option(name, "attempts")) {
        if (!(flags & DNS_OPTION_MISC)) return 0;
        if (!parse_int(value, 0, INT_MAX, &v)) return -1;
        b->attempts = v < 1 ? 1 : v > 255 ? 255 : v;
    } else if (is_option(name, "initial-probe-timeout")) {
        if (!(flags & DNS_OPTION_MISC)) return 0;
        if (!parse_seconds(value, &tv)) return -1;
        if (tv.tv_sec > 3600) tv = {3600, 0};
        b->probe_delay = tv;
    } else if (is_option(name, "getaddrinfo-allow-skew")) {
        if (!(flags & DNS_OPTION_MISC)) return 0;
        if (!parse_seconds(value, &tv)) return -1;
        b->getaddrinfo_skew = tv;
    } else if (is_option(name, "bind-to")) {
        if (!(flags & DNS_OPTION_MISC)) return 0;
        sockaddr_storage ss{};
        int len = sizeof ss;
        if (evutil_parse_sockaddr_port(value, reinterpret_cast<sockaddr *>(&ss), &len) != 0) return -1;
        b->bind_addr = ss;
        b->bind_len = static_cast<socklen_t>(len);
    } else if (is_option(name, "so-rcvbuf") || is_option(name, "so-sndbuf")) {
        if (!(flags & DNS_OPTION_MISC)) return 0;
        if (!parse_int(value, 0, INT_MAX, &v)) return -1;
        (name[3] == 'r' ? b->so_rcvbuf : b->so_sndbuf) = v;
        set_buffer_sizes(b);
    } else if (is_option(name, "randomize-case")) {
        // Accepted and ignored: reevent sends names in the case it was given (no 0x20).
        if (!(flags & DNS_OPTION_MISC)) return 0;
        if (!parse_int(value, 0, INT_MAX, &v)) return -1;
    }
    return 0;
}

int resolv_conf_parse(Base *b, int flags, const char *path) noexcept {
    if (flags & DNS_OPTION_HOSTSFILE) b->hosts.add_localhost();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        add_default_nameserver(b, flags);
        if (flags & DNS_OPTION_SEARCH) search_from_hostname(b);
        return 1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return 2;
    }
    if (st.st_size > 65535) {
        close(fd);
        return 3;
    }
    size_t size = static_cast<size_t>(st.st_size);
    OwnedStr text(static_cast<char *>(event_mm_malloc_(size + 1)));
    if (!text) {
        close(fd);
        return 4;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, text.get() + got, size - got);
        if (r <= 0) break;
        got += static_cast<size_t>(r);
    }
    close(fd);
    if (got != size) return 5;
    text.get()[got] = '\0';
    bool saw_search = false;
    char *p = text.get();
    while (*p) {
        char *eol = std::strchr(p, '\n');
        if (eol) *eol = '\0';
        parse_line(b, p, flags, &saw_search);
        if (!eol) break;
        p = eol + 1;
    }
    if (!saw_search && (flags & DNS_OPTION_SEARCH)) search_from_hostname(b);
    // 6 reports the default nameserver added in place of missing ones.
    if (b->server_count == 0 && (flags & DNS_OPTION_NAMESERVERS) && !(flags & DNS_OPTION_NAMESERVERS_NO_DEFAULT)) {
        add_default_nameserver(b, flags);
        return 6;
    }
    return 0;
}

}  // namespace reevent::dns
