// Helpers shared by the bufferevent conformance tests: loopback TCP pairs, a bounded loop
// runner, and a recorder of bufferevent callbacks. Public API only.
#pragma once

#include "backend_fixture.h"
#include "differences.h"
#include "helpers.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bevtest {

inline void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// A listening TCP socket on 127.0.0.1 with a kernel-chosen port.
class Listener {
public:
    Listener() {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || listen(fd_, 64) != 0) {
            ::close(fd_);
            fd_ = -1;
            return;
        }
        socklen_t len = sizeof addr_;
        getsockname(fd_, reinterpret_cast<sockaddr *>(&addr_), &len);
    }
    ~Listener() { if (fd_ >= 0) ::close(fd_); }
    int fd() const { return fd_; }
    const sockaddr_in &addr() const { return addr_; }
    int port() const { return ntohs(addr_.sin_port); }
    // Blocking accept; the result is made non-blocking.
    int accept_one() {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c >= 0) set_nonblocking(c);
        return c;
    }

private:
    int fd_ = -1;
    sockaddr_in addr_{};
};

// Two connected non-blocking TCP sockets over loopback.
class TcpPair {
public:
    TcpPair() {
        Listener l;
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (::connect(c, reinterpret_cast<const sockaddr *>(&l.addr()), sizeof(sockaddr_in)) != 0) {
            ::close(c);
            return;
        }
        fd_[0] = c;
        set_nonblocking(c);
        fd_[1] = l.accept_one();
    }
    ~TcpPair() { close(0); close(1); }
    int operator[](int i) const { return fd_[i]; }
    void close(int i) {
        if (fd_[i] >= 0) ::close(fd_[i]);
        fd_[i] = -1;
    }
    int release(int i) { int f = fd_[i]; fd_[i] = -1; return f; }

private:
    int fd_[2] = {-1, -1};
};

// A loopback address whose port nobody listens on (bound then closed).
inline sockaddr_in closed_port_addr() {
    sockaddr_in a{};
    Listener l;
    a = l.addr();
    return a;  // l's destructor closes the socket: the port is now closed
}

// Runs the loop until pred() is true or ms milliseconds pass; returns pred().
inline bool run_until(event_base *base, const std::function<bool()> &pred, int ms = 3000) {
    struct Ctx {
        const std::function<bool()> *pred;
        double deadline;
        event_base *base;
    } ctx{&pred, conf::now_ms() + ms, base};
    event *tick = event_new(base, -1, EV_PERSIST, [](evutil_socket_t, short, void *p) {
        auto *c = static_cast<Ctx *>(p);
        if ((*c->pred)() || conf::now_ms() > c->deadline) event_base_loopbreak(c->base);
    }, &ctx);
    timeval tv = conf::tv_ms(1);
    event_add(tick, &tv);
    if (!pred()) event_base_dispatch(base);
    event_free(tick);
    return pred();
}

// Runs the loop for about ms milliseconds.
inline void run_for(event_base *base, int ms) {
    timeval tv = conf::tv_ms(ms);
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

// Records every callback of the bufferevents it is attached to.
struct Recorder {
    int reads = 0;
    int writes = 0;
    std::vector<short> events;
    std::vector<int> event_errnos;
    std::string data;      // what the read callback drained (when drain is true)
    bool drain = true;
    std::function<void(bufferevent *)> on_read;
    std::function<void(bufferevent *)> on_write;
    std::function<void(bufferevent *, short)> on_event;

    void attach(bufferevent *bev) { bufferevent_setcb(bev, &read_cb, &write_cb, &event_cb, this); }

    bool got(short bits) const {
        for (short e : events)
            if ((e & bits) == bits) return true;
        return false;
    }

    static void read_cb(bufferevent *bev, void *p) {
        auto *r = static_cast<Recorder *>(p);
        ++r->reads;
        if (r->drain) {
            evbuffer *in = bufferevent_get_input(bev);
            size_t n = evbuffer_get_length(in);
            std::string s(n, '\0');
            evbuffer_remove(in, s.data(), n);
            r->data += s;
        }
        if (r->on_read) r->on_read(bev);
    }
    static void write_cb(bufferevent *bev, void *p) {
        auto *r = static_cast<Recorder *>(p);
        ++r->writes;
        if (r->on_write) r->on_write(bev);
    }
    static void event_cb(bufferevent *bev, short what, void *p) {
        auto *r = static_cast<Recorder *>(p);
        r->event_errnos.push_back(EVUTIL_SOCKET_ERROR());
        r->events.push_back(what);
        if (r->on_event) r->on_event(bev, what);
    }
};

// A deterministic byte pattern and a simple checksum (FNV-1a 64).
inline uint8_t pattern_byte(uint64_t i) { return static_cast<uint8_t>((i * 2654435761u) >> 13); }
inline uint64_t fnv(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}
inline constexpr uint64_t kFnvInit = 1469598103934665603ull;

// A checked bulk transfer of `total` bytes (byte i is byte(i)). attach(tx, rx): tx's write
// callback (and refill) keeps up to `window` bytes queued, added in pieces of at most
// `piece` (<= 64 KiB); rx's read callback takes all that arrived. Both ends count and
// checksum, so a test runs until received == total and compares h_tx with h_rx.
struct BulkTransfer {
    BulkTransfer(uint64_t total_bytes, size_t window_bytes, size_t piece_bytes,
                 uint8_t (*byte_at)(uint64_t) = pattern_byte)
        : total(total_bytes), window(window_bytes), piece(piece_bytes), byte(byte_at) {}
    BulkTransfer(const BulkTransfer &) = delete;
    BulkTransfer &operator=(const BulkTransfer &) = delete;

    void attach(bufferevent *tx, bufferevent *rx) {
        wr.on_write = [this](bufferevent *b) { refill(b); };
        rd.drain = false;
        rd.on_read = [this](bufferevent *b) {
            evbuffer *in = bufferevent_get_input(b);
            size_t n = evbuffer_get_length(in);
            h_rx = fnv(h_rx, evbuffer_pullup(in, -1), n);
            received += n;
            evbuffer_drain(in, n);
        };
        wr.attach(tx);
        rd.attach(rx);
    }
    void refill(bufferevent *b) {
        if (filling_) return;  // the write callback may run from inside evbuffer_add
        filling_ = true;
        evbuffer *out = bufferevent_get_output(b);
        while (sent < total && evbuffer_get_length(out) < window) {
            uint8_t chunk[65536];
            size_t n = static_cast<size_t>(std::min<uint64_t>(piece, total - sent));
            for (size_t i = 0; i < n; ++i) chunk[i] = byte(sent + i);
            h_tx = fnv(h_tx, chunk, n);
            sent += n;
            evbuffer_add(out, chunk, n);
        }
        filling_ = false;
    }

    const uint64_t total;
    const size_t window;
    const size_t piece;
    uint8_t (*const byte)(uint64_t);
    uint64_t sent = 0, received = 0, h_tx = kFnvInit, h_rx = kFnvInit;
    Recorder wr, rd;  // of tx and rx

private:
    bool filling_ = false;
};

}  // namespace bevtest
