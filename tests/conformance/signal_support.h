// Helpers shared by the signal, fork and thread conformance tests: a "program's own"
// counting handler to see what disposition the library leaves behind, bounded child
// processes, and a bounded loop runner.
#pragma once

#include <event2/event.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <functional>

#include "helpers.h"

namespace conf {

// A handler the "program" installed before touching the library.
inline std::atomic<int> g_program_handler_calls{0};
inline void program_handler(int) { g_program_handler_calls.fetch_add(1); }

inline void set_handler(int sig, void (*fn)(int)) {
    struct sigaction sa = {};
    sa.sa_handler = fn;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
}

inline void (*current_handler(int sig))(int) {
    struct sigaction sa = {};
    sigaction(sig, nullptr, &sa);
    return sa.sa_handler;
}

// Runs the loop until stop() is true or ms elapse; every call of the loop is bounded by a
// short loopexit so a missing wake-up shows as a timeout, not a hang. True if stop() held.
inline bool loop_until(event_base *base, const std::function<bool()> &stop, long ms = 2000) {
    const double deadline = now_ms() + ms;
    while (!stop()) {
        if (now_ms() > deadline) return false;
        timeval tv = tv_ms(20);
        event_base_loopexit(base, &tv);
        event_base_loop(base, EVLOOP_ONCE);
    }
    return true;
}

// Runs fn in a forked child and returns its exit code (or 128+signal, or -1 on timeout,
// after killing it). The child never returns into gtest.
inline int run_in_child(const std::function<int()> &fn, long timeout_ms = 10000) {
    fflush(nullptr);
    pid_t pid = fork();
    if (pid < 0) return -2;
    if (pid == 0) {
        int code = fn();
        _exit(code);
    }
    const double deadline = now_ms() + timeout_ms;
    for (;;) {
        int status = 0;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status)) return WEXITSTATUS(status);
            if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
            return -3;
        }
        if (r < 0 && errno != EINTR) return -4;
        if (now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        timespec ts{0, 2 * 1000 * 1000};
        nanosleep(&ts, nullptr);
    }
}

}  // namespace conf
