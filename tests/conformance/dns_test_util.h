// Shared helpers of the evdns conformance tests: running a loop until something happened,
// the results a resolve callback saw, and temporary files for resolv.conf/hosts parsing.
#pragma once

#include <event2/event.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "helpers.h"

namespace dnstest {

// What an evdns_callback_type callback was given (addresses as text).
struct Result {
    int calls = 0;
    int result = -1;
    int type = -1;
    int count = -1;
    int ttl = -1;
    bool addrs_null = false;
    std::vector<std::string> addrs;
};

// Runs base's loop in short steps until done() holds or ms have passed; true if done().
template <class Pred>
bool run_until(event_base *base, Pred done, int ms = 3000) {
    double end = conf::now_ms() + ms;
    while (!done()) {
        if (conf::now_ms() > end) return false;
        timeval tv = conf::tv_ms(10);
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    return true;
}

// A file with the given text, removed on destruction.
class TempFile {
public:
    explicit TempFile(const std::string &text) {
        char name[] = "/tmp/evdns-test-XXXXXX";
        int fd = mkstemp(name);
        path_ = name;
        if (fd >= 0) {
            if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) path_.clear();
            close(fd);
        }
    }
    ~TempFile() {
        if (!path_.empty()) unlink(path_.c_str());
    }
    TempFile(const TempFile &) = delete;
    TempFile &operator=(const TempFile &) = delete;
    const char *path() const { return path_.c_str(); }

private:
    std::string path_;
};

}  // namespace dnstest
