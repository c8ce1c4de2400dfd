// The process-wide signal hub behind SignalPort (see signal_hub.h for the contract).
//
// Shared state, all static and constant-initialised:
//   g_caught[signum]   how many times signum arrived in this process (wrapping counter);
//   g_slots[i]         one entry per port that watches at least one signal: its pipe's
//                      write end and the set of signums it watches, both atomics because the
//                      handler reads them from any thread at any moment;
//   g_watchers/g_saved how many ports watch each signum and the disposition we replaced,
//                      guarded by g_hub_mutex (normal context only, never in the handler).
// The handler only bumps g_caught and writes one byte to each watching port's pipe. A port
// turns counts into calls by comparing g_caught with the values it last saw (its private
// PortState), so several bases each see every signal, and a full pipe loses nothing.
//
// Closing a pipe while a handler in another thread may be about to write to it would let
// the byte land in whatever file reuses the fd number, so a port first unpublishes its fd
// and then waits until no handler is running (g_in_handler) before closing it.
#include "core/signal_hub.h"

#include "core/log.h"
#include "core/mm.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

namespace reevent::core {
namespace {

constexpr int kNumSignals = NSIG;  // valid signums are 1 .. NSIG-1
constexpr int kMaskWords = (kNumSignals + 63) / 64;
constexpr int kMaxSlots = 512;

struct SignalSet {
    uint64_t bits[kMaskWords] = {};
    bool has(int s) const noexcept { return (bits[s / 64] >> (s % 64)) & 1u; }
    void add(int s) noexcept { bits[s / 64] |= uint64_t{1} << (s % 64); }
    void remove(int s) noexcept { bits[s / 64] &= ~(uint64_t{1} << (s % 64)); }
    bool empty() const noexcept {
        for (uint64_t w : bits)
            if (w) return false;
        return true;
    }
};

// What a port remembers between drains; touched only by the port's owner (under its base's
// lock), never by the handler.
struct PortState {
    SignalSet watching;
    uint32_t seen[kNumSignals] = {};
};

struct Slot {
    std::atomic<int> write_fd{-1};
    std::atomic<uint64_t> mask[kMaskWords] = {};
    PortState *state = nullptr;  // owner-only
    bool used = false;           // under g_hub_mutex
};

std::atomic<uint32_t> g_caught[kNumSignals] = {};
Slot g_slots[kMaxSlots];
std::atomic<int> g_slot_limit{0};  // slots at or above this index were never used
std::atomic<int> g_in_handler{0};
std::atomic<pid_t> g_hub_pid{0};  // the process the hub's mutex and counters belong to

pthread_mutex_t g_hub_mutex = PTHREAD_MUTEX_INITIALIZER;
int g_watchers[kNumSignals] = {};
struct sigaction g_saved[kNumSignals];

static_assert(std::atomic<int>::is_always_lock_free && std::atomic<uint32_t>::is_always_lock_free &&
                  std::atomic<uint64_t>::is_always_lock_free,
              "the signal handler needs lock-free atomics");

class HubGuard {
public:
    HubGuard() noexcept { pthread_mutex_lock(&g_hub_mutex); }
    ~HubGuard() { pthread_mutex_unlock(&g_hub_mutex); }
    HubGuard(const HubGuard &) = delete;
    HubGuard &operator=(const HubGuard &) = delete;
};

void on_signal(int signum) {
    const int saved_errno = errno;
    g_in_handler.fetch_add(1, std::memory_order_seq_cst);
    if (signum > 0 && signum < kNumSignals) {
        g_caught[signum].fetch_add(1, std::memory_order_seq_cst);
        const int limit = g_slot_limit.load(std::memory_order_seq_cst);
        const uint64_t bit = uint64_t{1} << (signum % 64);
        for (int i = 0; i < limit; ++i) {
            Slot &s = g_slots[i];
            if (!(s.mask[signum / 64].load(std::memory_order_seq_cst) & bit)) continue;
            const int fd = s.write_fd.load(std::memory_order_seq_cst);
            if (fd < 0) continue;
            const unsigned char byte = static_cast<unsigned char>(signum);
            // Non-blocking: EAGAIN on a full pipe is fine, the count is already recorded.
            ssize_t r;
            do {
                r = ::write(fd, &byte, 1);
            } while (r < 0 && errno == EINTR);
        }
    }
    g_in_handler.fetch_sub(1, std::memory_order_seq_cst);
    errno = saved_errno;
}

// Waits until no handler can still be using a write fd that was just unpublished.
void wait_for_handlers() noexcept {
    for (int spins = 0; g_in_handler.load(std::memory_order_seq_cst) != 0; ++spins) {
        if (spins > 1000000) {  // a handler cannot take this long; do not hang forever
            log::warn("signal hub: a signal handler seems stuck; closing its pipe anyway");
            return;
        }
        sched_yield();
    }
}

bool catchable(int signum) noexcept {
    return signum > 0 && signum < kNumSignals && signum != SIGKILL && signum != SIGSTOP;
}

int make_pipe(int fds[2]) noexcept {
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) return 0;
    log::warn_errno("signal hub: pipe2");
    return -1;
}

// Installs our handler for signum if no port watched it yet. Under g_hub_mutex.
int retain_signal(int signum) noexcept {
    if (g_watchers[signum] == 0) {
        struct sigaction sa = {};
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigfillset(&sa.sa_mask);
        if (::sigaction(signum, &sa, &g_saved[signum]) != 0) {
            log::warn_errno("signal hub: sigaction(%d)", signum);
            return -1;
        }
    }
    ++g_watchers[signum];
    return 0;
}

// Restores the disposition we replaced once the last port stops watching. Under g_hub_mutex.
void release_signal(int signum) noexcept {
    if (g_watchers[signum] <= 0) return;
    if (--g_watchers[signum] == 0 && ::sigaction(signum, &g_saved[signum], nullptr) != 0)
        log::warn_errno("signal hub: restoring the handler of signal %d", signum);
}

// A free slot for a port, or -1. Under g_hub_mutex.
int claim_slot(int write_fd) noexcept {
    for (int i = 0; i < kMaxSlots; ++i) {
        Slot &s = g_slots[i];
        if (s.used) continue;
        auto *state = static_cast<PortState *>(mm::calloc(1, sizeof(PortState)));
        if (!state) {
            errno = ENOMEM;
            return -1;
        }
        ::new (state) PortState();
        s.used = true;
        s.state = state;
        for (auto &w : s.mask) w.store(0, std::memory_order_seq_cst);
        s.write_fd.store(write_fd, std::memory_order_seq_cst);
        if (g_slot_limit.load(std::memory_order_relaxed) <= i)
            g_slot_limit.store(i + 1, std::memory_order_seq_cst);
        return i;
    }
    log::warn("signal hub: more than %d bases watch signals", kMaxSlots);
    errno = ENOMEM;
    return -1;
}

// Unpublishes a slot (the handler stops writing to its fd). Under g_hub_mutex.
void free_slot(int i) noexcept {
    Slot &s = g_slots[i];
    for (auto &w : s.mask) w.store(0, std::memory_order_seq_cst);
    s.write_fd.store(-1, std::memory_order_seq_cst);
    mm::free(s.state);
    s.state = nullptr;
    s.used = false;
}

}  // namespace

SignalPort::~SignalPort() { close(); }

int SignalPort::open() noexcept {
    if (is_open()) return 0;
    pid_t none = 0;
    g_hub_pid.compare_exchange_strong(none, ::getpid());
    int fds[2];
    if (make_pipe(fds) != 0) return -1;
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    return 0;
}

int SignalPort::watch(int signum) noexcept {
    if (!catchable(signum)) {
        errno = EINVAL;
        return -1;
    }
    if (!is_open()) {
        errno = EBADF;
        return -1;
    }
    HubGuard guard;
    if (slot_ >= 0 && g_slots[slot_].state->watching.has(signum)) return 0;
    bool new_slot = false;
    if (slot_ < 0) {
        slot_ = claim_slot(write_fd_);
        if (slot_ < 0) return -1;
        new_slot = true;
    }
    // Publish first, install last. The handler may run the instant sigaction() has put it in
    // place (and /proc shows the signal caught from then on, which is what a harness waits
    // for), so by then our pipe must be in the mask and our snapshot taken: a signal counted
    // after the snapshot then also writes our byte. The other order (install, snapshot,
    // publish) lost a signal arriving in between for good: counted into the snapshot, written
    // to no pipe. Mask before snapshot: a signal between the two (only possible when another
    // port already installed the handler) wakes us in vain; the reverse would leave a counted
    // signal without a wake-up.
    Slot &s = g_slots[slot_];
    const uint64_t bit = uint64_t{1} << (signum % 64);
    s.mask[signum / 64].fetch_or(bit, std::memory_order_seq_cst);
    s.state->seen[signum] = g_caught[signum].load(std::memory_order_seq_cst);
    if (retain_signal(signum) != 0) {
        const int err = errno;
        s.mask[signum / 64].fetch_and(~bit, std::memory_order_seq_cst);
        if (new_slot) {
            free_slot(slot_);
            slot_ = -1;
        }
        errno = err == 0 ? EINVAL : err;
        return -1;
    }
    s.state->watching.add(signum);
    return 0;
}

void SignalPort::unwatch(int signum) noexcept {
    if (!catchable(signum) || slot_ < 0) return;
    HubGuard guard;
    Slot &s = g_slots[slot_];
    if (!s.state->watching.has(signum)) return;
    s.mask[signum / 64].fetch_and(~(uint64_t{1} << (signum % 64)), std::memory_order_seq_cst);
    s.state->watching.remove(signum);
    release_signal(signum);
    if (s.state->watching.empty()) {
        // Our pipe stays open, so a handler still holding its fd only wakes us in vain.
        free_slot(slot_);
        slot_ = -1;
    }
}

void SignalPort::drain(void (*on_signal_cb)(void *ctx, int signum, int count), void *ctx) noexcept {
    if (!is_open()) return;
    unsigned char buf[256];
    for (;;) {
        ssize_t n = ::read(read_fd_, buf, sizeof buf);
        if (n > 0) continue;
        if (n < 0 && errno == EINTR) continue;
        break;  // empty (EAGAIN), or EOF/error: the counts below are what matter
    }
    if (slot_ < 0) return;
    PortState *st = g_slots[slot_].state;
    for (int signum = 1; signum < kNumSignals; ++signum) {
        if (!st->watching.has(signum)) continue;
        const uint32_t now = g_caught[signum].load(std::memory_order_seq_cst);
        uint32_t diff = now - st->seen[signum];
        if (diff == 0) continue;
        st->seen[signum] = now;
        if (on_signal_cb) on_signal_cb(ctx, signum, diff > INT_MAX ? INT_MAX : static_cast<int>(diff));
        // The callback may have unwatched everything (the slot is then gone).
        if (slot_ < 0) return;
        st = g_slots[slot_].state;
    }
}

int SignalPort::reinit_after_fork() noexcept {
    // The child has one thread, which is not inside the hub: a mutex some other parent
    // thread held at fork time and an in-flight handler count are stale copies.
    const pid_t me = ::getpid();
    if (g_hub_pid.exchange(me) != me) {
        pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
        g_hub_mutex = fresh;
        g_in_handler.store(0, std::memory_order_seq_cst);
    }
    if (!is_open()) return 0;
    int fds[2];
    if (make_pipe(fds) != 0) return -1;
    {
        HubGuard guard;
        if (slot_ >= 0) g_slots[slot_].write_fd.store(fds[1], std::memory_order_seq_cst);
    }
    wait_for_handlers();
    // These are the child's copies of the parent's pipe; closing them leaves the parent's.
    ::close(read_fd_);
    ::close(write_fd_);
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    return 0;
}

void SignalPort::close() noexcept {
    if (slot_ >= 0) {
        HubGuard guard;
        Slot &s = g_slots[slot_];
        for (int signum = 1; signum < kNumSignals; ++signum)
            if (s.state->watching.has(signum)) release_signal(signum);
        free_slot(slot_);
        slot_ = -1;
    }
    if (!is_open()) return;
    wait_for_handlers();
    ::close(read_fd_);
    ::close(write_fd_);
    read_fd_ = write_fd_ = -1;
}

}  // namespace reevent::core
