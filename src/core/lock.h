// The lock used by event_base, evbuffer and bufferevent.
//
// reevent locks by default (libevent only locks after evthread_use_pthreads(), a famous
// trap); EVENT_BASE_FLAG_NOLOCK opts a base out. Lock order, outermost first:
// event_base -> bufferevent -> evbuffer. User callbacks run with no reevent lock held.
//
// A recursive mutex on a 32-bit futex word (0 free, 1 held, 2 held and maybe contended):
// taking it is one compare-and-swap, releasing it one exchange (a FUTEX_WAKE only when
// somebody sleeps), re-entry by the holder no atomic read-modify-write at all. A recursive
// pthread mutex costs ~3x that per lock/unlock pair, and every public call pays a pair.
// The owner is a relaxed atomic: only the owning thread can ever read its own id back, so
// "owner == me" proves the lock is held by the caller. Unlocking a lock the caller does not
// hold does nothing (as a recursive pthread mutex, which returns EPERM).
//
// The event_base lock is also *biased* to the thread that created the base (Lock::kBiased):
// while no other thread has ever taken it, that thread takes and releases it with plain
// loads and stores (no atomic read-modify-write at all, as cheap as libevent without
// evthread_use_pthreads). The first other thread revokes the bias once, for good: it marks
// the lock revoking, runs membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) so that the owner
// either sees the mark or is seen inside its critical section (an asymmetric Dekker
// handshake), waits for the owner to leave it, and from then on everyone uses the futex
// word. Without membarrier, with lock debugging or under ThreadSanitizer (which cannot see
// the handshake) the lock is never biased.
//
// A Lock created after evthread_enable_lock_debugging() makes misuse fatal (as libevent's
// debug locks do): unlocking a lock the calling thread does not hold, destroying a held
// lock, and waiting on a condition while the lock is held more than once (the wait would
// release only one level and deadlock). Conditions are core::Cond, waited on with
// Lock::wait and signalled with Cond::notify_all (with the lock held).
#pragma once

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <cstdint>

#include "core/evthread.h"

namespace reevent::core {

// A condition for Lock::wait: a futex sequence number that notify_all bumps. Notify with
// the lock held (the waiter reads the number before releasing the lock, so no wake-up is
// lost). Zero-initialised memory is a valid Cond.
class Cond {
public:
    Cond() noexcept = default;
    Cond(const Cond &) = delete;
    Cond &operator=(const Cond &) = delete;
    void notify_all() noexcept;

private:
    friend class Lock;
    std::atomic<uint32_t> seq_{0};
};

class Lock {
public:
    enum Biased { kBiased };
    Lock() noexcept : debug_(evthread::lock_debugging_enabled()) {}
    explicit Lock(Biased) noexcept;
    ~Lock() {
        if (debug_) debug_check_free();
    }
    Lock(const Lock &) = delete;
    Lock &operator=(const Lock &) = delete;

    void lock() noexcept {
        const unsigned long me = self();
        if (me == bias_owner_ && lock_biased()) [[likely]]
            return;
        lock_unbiased(me);
    }
    // lock(), and whether the calling thread now holds the lock biased exactly once (see
    // release_biased()).
    bool lock_biased_once() noexcept {
        const unsigned long me = self();
        if (me == bias_owner_) [[likely]] {
            const uint32_t d = in_cs_.load(std::memory_order_relaxed);
            if (d == 0) [[likely]] {
                if (reacquire_biased()) [[likely]]
                    return true;
            } else {
                in_cs_.store(d + 1, std::memory_order_relaxed);
                return false;
            }
        }
        lock_unbiased(me);
        return false;
    }
    // The futex path of lock() (revoking the bias first if needed).
    void lock_unbiased(unsigned long me) noexcept {
        if (bias_state_.load(std::memory_order_acquire) != kRevoked) revoke();
        if (owner_.load(std::memory_order_relaxed) == me) {
            depth_.store(depth_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            return;
        }
        uint32_t expected = 0;
        if (!word_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                           std::memory_order_relaxed))
            lock_slow();
        owner_.store(me, std::memory_order_relaxed);
        depth_.store(1, std::memory_order_relaxed);
    }
    void unlock() noexcept {
        const unsigned long me = self();
        if (me == bias_owner_) [[likely]] {
            const uint32_t d = in_cs_.load(std::memory_order_relaxed);
            if (d > 0) [[likely]] {
                // Release on the way out (d == 1) publishes the critical section to a
                // revoker waiting for 0; for d > 1 it costs nothing extra on x86.
                in_cs_.store(d - 1, std::memory_order_release);
                return;
            }
        }
        if (owner_.load(std::memory_order_relaxed) != me) {
            if (debug_) debug_bad_unlock();
            return;
        }
        const int d = depth_.load(std::memory_order_relaxed) - 1;
        depth_.store(d, std::memory_order_relaxed);
        if (d > 0) return;
        owner_.store(0, std::memory_order_relaxed);
        if (word_.exchange(0, std::memory_order_release) == 2) wake_one();
    }
    bool try_lock() noexcept {
        const unsigned long me = self();
        if (me == bias_owner_ && lock_biased()) return true;
        if (bias_state_.load(std::memory_order_acquire) != kRevoked) revoke();
        if (owner_.load(std::memory_order_relaxed) == me) {
            depth_.store(depth_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
            return true;
        }
        uint32_t expected = 0;
        if (!word_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                           std::memory_order_relaxed))
            return false;
        owner_.store(me, std::memory_order_relaxed);
        depth_.store(1, std::memory_order_relaxed);
        return true;
    }
    // For a caller that keeps the lock across a long stretch and drops it only around
    // blocking work (the loop), after lock_biased_once() returned true: an unlock/lock pair
    // that skips the owner and depth tests. reacquire_biased() returns false (and holds
    // nothing) once the bias was revoked meanwhile; the caller then takes the lock with
    // lock() and uses the general pair from then on.
    void release_biased() noexcept { in_cs_.store(0, std::memory_order_release); }
    bool reacquire_biased() noexcept {
        in_cs_.store(1, std::memory_order_relaxed);
        std::atomic_signal_fence(std::memory_order_seq_cst);  // as lock_biased()
        if (bias_state_.load(std::memory_order_relaxed) == kActive) [[likely]]
            return true;
        in_cs_.store(0, std::memory_order_release);
        return false;
    }
    // Waits on cond (the lock must be held exactly once; it is released while waiting and
    // held again on return). abstime: CLOCK_REALTIME deadline, or nullptr to wait forever.
    // 0 (notified, or a spurious wake-up: callers re-check their predicate), or ETIMEDOUT.
    int wait(Cond *cond, const timespec *abstime = nullptr) noexcept;

    // With debugging: whether the calling thread holds the lock. Without: always true
    // (kept as it was with the pthread mutex), so REEVENT_ASSERT(l.held()) is always safe.
    bool held() const noexcept {
        if (!debug_) return true;  // debug locks are never biased
        return owner_.load(std::memory_order_relaxed) == self();
    }
    bool debugging() const noexcept { return debug_; }

private:
    // A unique non-zero id of the calling thread: the thread pointer (one instruction) where
    // the compiler exposes it, else pthread_self().
    static unsigned long self() noexcept {
#if (defined(__x86_64__) || defined(__aarch64__)) && (defined(__clang__) || __GNUC__ >= 11)
        return reinterpret_cast<unsigned long>(__builtin_thread_pointer());
#else
        return static_cast<unsigned long>(pthread_self());
#endif
    }
    enum : uint32_t { kActive = 0, kRevoking = 1, kRevoked = 2 };
    // The bias owner's fast path: true if it now holds the lock biased. in_cs_ is the
    // depth of the biased hold, so re-entry is one increment (and holds whatever happened
    // to the bias meanwhile). A first entry announces itself and then looks at the state
    // once: after a revocation that costs two stores before the futex path, which is rare
    // (a lock is revoked once, for good) and saves a load and a branch on every biased lock.
    bool lock_biased() noexcept {
        const uint32_t d = in_cs_.load(std::memory_order_relaxed);
        if (d > 0) {
            in_cs_.store(d + 1, std::memory_order_relaxed);
            return true;
        }
        in_cs_.store(1, std::memory_order_relaxed);
        // Only the compiler must keep the order: a revoker's membarrier() orders the CPU.
        std::atomic_signal_fence(std::memory_order_seq_cst);
        if (bias_state_.load(std::memory_order_relaxed) == kActive) [[likely]]
            return true;
        in_cs_.store(0, std::memory_order_release);
        return false;
    }
    void revoke() noexcept;
    void lock_slow() noexcept;
    void wake_one() noexcept;
    void debug_bad_unlock() noexcept;
    void debug_check_free() noexcept;

    // Bias (see the top of this file). bias_owner_ is 0 for an unbiased lock; in_cs_ is
    // written by the owner thread only: the depth of its biased hold (0: not held biased).
    unsigned long bias_owner_ = 0;
    std::atomic<uint32_t> bias_state_{kRevoked};
    std::atomic<uint32_t> in_cs_{0};
    std::atomic<uint32_t> word_{0};
    std::atomic<int> depth_{0};  // written by the holder only
    std::atomic<unsigned long> owner_{0};
    const bool debug_;
};

// Scoped lock that tolerates a null lock (objects created without locking).
class LockGuard {
public:
    explicit LockGuard(Lock *l) noexcept : l_(l) { if (l_) l_->lock(); }
    explicit LockGuard(Lock &l) noexcept : l_(&l) { l_->lock(); }
    ~LockGuard() { if (l_) l_->unlock(); }
    LockGuard(const LockGuard &) = delete;
    LockGuard &operator=(const LockGuard &) = delete;

private:
    Lock *l_;
};

}  // namespace reevent::core
