// See hosts.h.
#include "dns/hosts.h"

#include <event2/util.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace reevent::dns {
namespace {

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r'; }

// An address as hosts files write it: IPv4 or IPv6 text, no port.
bool parse_address(const char *text, sockaddr_storage *ss, socklen_t *len) noexcept {
    std::memset(ss, 0, sizeof *ss);
    auto *sin = reinterpret_cast<sockaddr_in *>(ss);
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(ss);
    if (evutil_inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        *len = sizeof(sockaddr_in);
        return true;
    }
    if (evutil_inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        *len = sizeof(sockaddr_in6);
        return true;
    }
    return false;
}

}  // namespace

void Hosts::clear() noexcept {
    while (head) {
        HostEntry *next = head->next;
        destroy_obj(head);
        head = next;
    }
    tail = nullptr;
}

bool Hosts::add(const char *name, const sockaddr *sa, socklen_t len) noexcept {
    HostEntry *e = make_obj<HostEntry>();
    if (!e) return false;
    e->name = dup_str(name);
    if (!e->name) {
        destroy_obj(e);
        return false;
    }
    std::memcpy(&e->addr, sa, len);
    e->addrlen = len;
    if (tail)
        tail->next = e;
    else
        head = e;
    tail = e;
    return true;
}

bool Hosts::parse(const char *text) noexcept {
    const char *p = text;
    while (*p) {
        const char *eol = std::strchr(p, '\n');
        size_t n = eol ? static_cast<size_t>(eol - p) : std::strlen(p);
        char line[1024];
        if (n >= sizeof line) n = sizeof line - 1;  // longer lines are cut, as a reader would
        std::memcpy(line, p, n);
        line[n] = '\0';
        p += eol ? (eol - p) + 1 : std::strlen(p);
        if (char *hash = std::strchr(line, '#')) *hash = '\0';
        // Split into words: the address, then any number of names.
        char *words[64];
        int count = 0;
        char *w = line;
        while (*w && count < 64) {
            while (is_space(*w)) *w++ = '\0';
            if (!*w) break;
            words[count++] = w;
            while (*w && !is_space(*w)) ++w;
        }
        if (count < 2) continue;
        sockaddr_storage ss;
        socklen_t len;
        if (!parse_address(words[0], &ss, &len)) continue;
        for (int i = 1; i < count; ++i)
            if (!add(words[i], reinterpret_cast<sockaddr *>(&ss), len)) return false;
    }
    return true;
}

int Hosts::load_file(const char *path) noexcept {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size > 64 * 1024 * 1024) {
        close(fd);
        return -1;
    }
    size_t size = static_cast<size_t>(st.st_size);
    OwnedStr text(static_cast<char *>(event_mm_malloc_(size + 1)));
    if (!text) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, text.get() + got, size - got);
        if (r <= 0) break;
        got += static_cast<size_t>(r);
    }
    close(fd);
    text.get()[got] = '\0';
    return parse(text.get()) ? 0 : -1;
}

bool Hosts::add_localhost() noexcept {
    return parse("127.0.0.1 localhost\n::1 localhost\n");
}

}  // namespace reevent::dns
