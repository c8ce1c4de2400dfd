// The process-wide signal hub and each base's port on it.
//
// A signal is caught by one sigaction handler per signum, installed when the first base in
// the process watches it and removed (the previous disposition restored) when the last
// stops. The handler only counts the signal and writes one byte to the self-pipe of every
// base that watches that signum (errno saved, never blocking; a full pipe is fine because
// the counts live in memory). Each base reads its pipe as an ordinary internal read event
// and turns the counts into callbacks in loop context. Unlike libevent 2.1, where only one
// base at a time receives signals, every watching base gets every signal (a compatible
// superset; never a base without an event for that signum).
//
// Interface used by the core (src/core/base side); implemented by the
// signals/fork/threads work in signal_hub.cpp.
#pragma once

#include <csignal>

namespace reevent::core {

class SignalPort {
public:
    SignalPort() noexcept = default;
    ~SignalPort();
    SignalPort(const SignalPort &) = delete;
    SignalPort &operator=(const SignalPort &) = delete;

    // Creates the self-pipe (non-blocking, close-on-exec). 0, or -1 with errno set.
    int open() noexcept;
    bool is_open() const noexcept { return read_fd_ >= 0; }
    // The fd the base watches for EV_READ while any signal is watched.
    int read_fd() const noexcept { return read_fd_; }

    // The first event for signum was added to this base: start delivery here (installs the
    // process handler if this is the first watcher). 0, or -1 (errno EINVAL for a bad or
    // uncatchable signum).
    int watch(int signum) noexcept;
    // The last event for signum left this base: stop delivery (restores the previous
    // handler if no other base watches it).
    void unwatch(int signum) noexcept;

    // Reads the pipe and reports each signal that arrived since the last call, with the
    // number of times it arrived: on_signal(ctx, signum, count).
    void drain(void (*on_signal)(void *ctx, int signum, int count), void *ctx) noexcept;

    // In a forked child: a new pipe, same watched set. 0 or -1.
    int reinit_after_fork() noexcept;

    // Unwatches everything (restoring handlers) and closes the pipe.
    void close() noexcept;

private:
    int read_fd_ = -1;
    int write_fd_ = -1;
    int slot_ = -1;  // this port's index in the hub's table
};

}  // namespace reevent::core
