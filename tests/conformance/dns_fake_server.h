// A small DNS server for the evdns conformance tests: a UDP socket on 127.0.0.1 served by
// its own thread, answering from a table the test fills in. Each name has one behaviour
// (records, an error code, silence or a truncated reply), and the server counts what it was
// asked, so a test can check retransmits and search order.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "helpers.h"

namespace dnsfake {

enum Type : uint16_t { A = 1, PTR = 12, AAAA = 28 };

struct Answer {
    uint16_t type;
    std::string rdata;  // raw rdata bytes (a PTR's target is encoded by ptr())
    uint32_t ttl;
};

struct Behaviour {
    int rcode = 0;                 // 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN ...
    bool silent = false;           // never answer
    bool truncated = false;        // answer with TC set and no records
    std::vector<Answer> answers;   // given when the question's type matches
    std::string cname;             // if set: a CNAME to this name first in the answer section
    long soa_ttl = -1;             // if >= 0: an SOA with this ttl in the authority section
    uint32_t soa_minimum = 3600;   // ... and this negative-caching minimum
    bool from_other_port = false;  // answer from a second socket: 127.0.0.1, another port
    bool from_other_address = false;  // answer from a third socket: 127.0.0.2
};

inline std::string lower(std::string s) {
    for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

inline std::string encode_name(const std::string &name) {
    std::string out;
    size_t start = 0;
    while (start < name.size()) {
        size_t dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        out.push_back(static_cast<char>(dot - start));
        out.append(name, start, dot - start);
        start = dot + 1;
    }
    out.push_back('\0');
    return out;
}

inline Answer a(const char *ip, uint32_t ttl = 300) {
    in_addr in{};
    inet_pton(AF_INET, ip, &in);
    return {A, std::string(reinterpret_cast<char *>(&in), 4), ttl};
}
inline Answer aaaa(const char *ip, uint32_t ttl = 300) {
    in6_addr in{};
    inet_pton(AF_INET6, ip, &in);
    return {AAAA, std::string(reinterpret_cast<char *>(&in), 16), ttl};
}
inline Answer ptr(const std::string &target, uint32_t ttl = 300) {
    return {PTR, encode_name(target), ttl};
}

class Server {
public:
    Server() {
        sockaddr_in sin;
        fd_ = conf::loopback_socket(SOCK_DGRAM, &sin);
        port_ = ntohs(sin.sin_port);
        other_fd_ = socket(AF_INET, SOCK_DGRAM, 0);
        sin.sin_port = 0;
        bind(other_fd_, reinterpret_cast<sockaddr *>(&sin), sizeof sin);
        other_addr_fd_ = socket(AF_INET, SOCK_DGRAM, 0);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1);
        bind(other_addr_fd_, reinterpret_cast<sockaddr *>(&sin), sizeof sin);
        thread_ = std::thread([this] { run(); });
    }
    ~Server() {
        stop_ = true;
        thread_.join();
        close(fd_);
        close(other_fd_);
        close(other_addr_fd_);
    }
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    int port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

    void set(const std::string &name, Behaviour b) {
        std::lock_guard<std::mutex> g(mu_);
        table_[lower(name)] = std::move(b);
    }
    // How many queries of any type named `name` arrived.
    int count(const std::string &name) {
        std::lock_guard<std::mutex> g(mu_);
        auto it = counts_.find(lower(name));
        return it == counts_.end() ? 0 : it->second;
    }
    // Names asked, in order of arrival.
    std::vector<std::string> asked() {
        std::lock_guard<std::mutex> g(mu_);
        return asked_;
    }
    int total() {
        std::lock_guard<std::mutex> g(mu_);
        return static_cast<int>(asked_.size());
    }

private:
    void run() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0) continue;
            unsigned char buf[1500];
            sockaddr_storage from{};
            socklen_t flen = sizeof from;
            ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr *>(&from), &flen);
            if (n < 12) continue;
            handle(buf, static_cast<size_t>(n), from, flen);
        }
    }

    void handle(const unsigned char *q, size_t n, const sockaddr_storage &from, socklen_t flen) {
        // Question: the name as sent (case kept), type and class.
        size_t pos = 12;
        std::string name;
        while (pos < n && q[pos] != 0) {
            size_t len = q[pos++];
            if (pos + len > n) return;
            if (!name.empty()) name.push_back('.');
            name.append(reinterpret_cast<const char *>(q + pos), len);
            pos += len;
        }
        if (pos + 5 > n) return;
        size_t qend = pos + 5;
        uint16_t qtype = static_cast<uint16_t>((q[pos + 1] << 8) | q[pos + 2]);
        Behaviour b;
        {
            std::lock_guard<std::mutex> g(mu_);
            std::string key = lower(name);
            counts_[key]++;
            asked_.push_back(key);
            auto it = table_.find(key);
            if (it == table_.end()) {
                b.rcode = 3;
            } else {
                b = it->second;
            }
        }
        if (b.silent) return;
        std::string out(reinterpret_cast<const char *>(q), qend);  // header + question
        out[2] = static_cast<char>(0x80 | (q[2] & 0x01) | (b.truncated ? 0x02 : 0) | 0x04);
        out[3] = static_cast<char>(0x80 | (b.rcode & 0x0f));
        out[4] = 0;
        out[5] = 1;
        uint16_t ancount = 0;
        std::string records;
        auto put16 = [](std::string &o, unsigned v) {
            o.push_back(static_cast<char>((v >> 8) & 0xff));
            o.push_back(static_cast<char>(v & 0xff));
        };
        auto put32 = [&](std::string &o, uint32_t v) {
            put16(o, v >> 16);
            put16(o, v & 0xffff);
        };
        uint16_t nscount = 0;
        if (!b.truncated && !b.cname.empty()) {
            ++ancount;
            std::string target = encode_name(b.cname);
            records += std::string("\xc0\x0c", 2);
            put16(records, 5);
            put16(records, 1);
            put32(records, 300);
            put16(records, static_cast<unsigned>(target.size()));
            records += target;
        }
        std::string authority;
        if (!b.truncated && b.soa_ttl >= 0) {
            ++nscount;
            std::string rdata = encode_name("ns.test") + encode_name("admin.test");
            for (uint32_t v : {1u, 7200u, 3600u, 1209600u, b.soa_minimum}) put32(rdata, v);
            authority += encode_name("test");
            put16(authority, 6);
            put16(authority, 1);
            put32(authority, static_cast<uint32_t>(b.soa_ttl));
            put16(authority, static_cast<unsigned>(rdata.size()));
            authority += rdata;
        }
        if (!b.truncated) {
            for (const Answer &ans : b.answers) {
                if (ans.type != qtype) continue;
                ++ancount;
                records += std::string("\xc0\x0c", 2);
                records.push_back(static_cast<char>(ans.type >> 8));
                records.push_back(static_cast<char>(ans.type & 0xff));
                records += std::string("\x00\x01", 2);
                for (int shift = 24; shift >= 0; shift -= 8)
                    records.push_back(static_cast<char>((ans.ttl >> shift) & 0xff));
                records.push_back(static_cast<char>(ans.rdata.size() >> 8));
                records.push_back(static_cast<char>(ans.rdata.size() & 0xff));
                records += ans.rdata;
            }
        }
        out[6] = static_cast<char>(ancount >> 8);
        out[7] = static_cast<char>(ancount & 0xff);
        out[8] = static_cast<char>(nscount >> 8);
        out[9] = static_cast<char>(nscount & 0xff);
        out[10] = out[11] = 0;
        out += records;
        out += authority;
        int via = b.from_other_address ? other_addr_fd_ : b.from_other_port ? other_fd_ : fd_;
        sendto(via, out.data(), out.size(), 0,
               reinterpret_cast<const sockaddr *>(&from), flen);
    }

    int fd_ = -1;
    int other_fd_ = -1;
    int other_addr_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::mutex mu_;
    std::map<std::string, Behaviour> table_;
    std::map<std::string, int> counts_;
    std::vector<std::string> asked_;
    std::thread thread_;
};

}  // namespace dnsfake
