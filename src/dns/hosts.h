// Host entries for evdns_getaddrinfo: what evdns_base_load_hosts read from a hosts file
// (name -> addresses, in file order; names compare case-insensitively).
#pragma once

#include <sys/socket.h>

#include "dns/mem.h"

namespace reevent::dns {

struct HostEntry {
    HostEntry *next = nullptr;
    OwnedStr name;
    sockaddr_storage addr{};  // port 0
    socklen_t addrlen = 0;
};

struct Hosts {
    HostEntry *head = nullptr;
    HostEntry *tail = nullptr;
    Hosts() = default;
    Hosts(const Hosts &) = delete;
    Hosts &operator=(const Hosts &) = delete;
    ~Hosts() { clear(); }
    void clear() noexcept;
    bool add(const char *name, const sockaddr *sa, socklen_t len) noexcept;
    // Parses hosts-file text ("address name alias..." lines, '#' comments). False on memory.
    bool parse(const char *text) noexcept;
    // Reads a hosts file: 0, or -1 if it cannot be read (then nothing changes).
    int load_file(const char *path) noexcept;
    // The localhost entries libevent adds when given no file.
    bool add_localhost() noexcept;
};

}  // namespace reevent::dns
