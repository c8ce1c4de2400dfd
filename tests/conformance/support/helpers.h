// Small RAII helpers for conformance tests: socket pairs, loopback sockets, recursive
// mutexes, fd-leak checks, log capture, and clocks. Header-only, public API only.
#pragma once

#include <event2/event.h>
#include <event2/util.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace conf {

// A connected AF_UNIX stream pair, non-blocking, closed on destruction.
class SocketPair {
public:
    SocketPair() {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0) {
            fd_[0] = sv[0];
            fd_[1] = sv[1];
            for (int fd : fd_) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        }
    }
    ~SocketPair() { close_all(); }
    SocketPair(const SocketPair &) = delete;
    SocketPair &operator=(const SocketPair &) = delete;
    int operator[](int i) const { return fd_[i]; }
    void close(int i) {
        if (fd_[i] >= 0) ::close(fd_[i]);
        fd_[i] = -1;
    }
    // Gives up ownership of one end (the caller closes it).
    int release(int i) { return std::exchange(fd_[i], -1); }
    void close_all() { close(0); close(1); }

private:
    int fd_[2] = {-1, -1};
};

// A socket of `type` (SOCK_STREAM or SOCK_DGRAM) bound to 127.0.0.1 on a port the kernel
// chose, with that address in *bound; -1, nothing left open, if it could not be made.
inline int loopback_socket(int type, sockaddr_in *bound) {
    int fd = socket(AF_INET, type, 0);
    if (fd < 0) return -1;
    *bound = sockaddr_in{};
    bound->sin_family = AF_INET;
    bound->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof *bound;
    if (bind(fd, reinterpret_cast<sockaddr *>(bound), sizeof *bound) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr *>(bound), &len) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Makes *m a recursive mutex: what the lock_alloc of an evthread_lock_callbacks gives.
inline void init_recursive_mutex(pthread_mutex_t *m) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
}

// Number of open fds of this process.
inline int count_open_fds() {
    int n = 0;
    if (DIR *d = opendir("/proc/self/fd")) {
        while (dirent *e = readdir(d))
            if (e->d_name[0] != '.') ++n;
        closedir(d);
        --n;  // the DIR's own fd
    }
    return n;
}

// Captures libevent log messages while alive.
class LogCapture {
public:
    LogCapture() {
        current() = this;
        event_set_log_callback(&LogCapture::on_log);
    }
    ~LogCapture() {
        event_set_log_callback(nullptr);
        current() = nullptr;
    }
    const std::vector<std::pair<int, std::string>> &messages() const { return msgs_; }
    bool contains(const std::string &needle) const {
        for (auto &m : msgs_)
            if (m.second.find(needle) != std::string::npos) return true;
        return false;
    }

private:
    static LogCapture *&current() {
        static LogCapture *c = nullptr;
        return c;
    }
    static void on_log(int severity, const char *msg) {
        if (current()) current()->msgs_.emplace_back(severity, msg ? msg : "");
    }
    std::vector<std::pair<int, std::string>> msgs_;
};

inline double now_ms() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

inline timeval tv_ms(long ms) {
    timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return tv;
}

}  // namespace conf
