// Threading hooks of thread.h and the debug bookkeeping of core::Lock.
//
// The user's lock/condition/id callbacks are copied into process-wide tables once, before
// any base exists (as thread.h asks); they are published with release stores and read with
// acquire loads, so a thread that sees "installed" also sees the function pointers.
// Installing a different table once one is set is refused with a warning, as libevent does;
// installing the same one again is accepted (evthread_use_pthreads() twice is harmless).
#include "core/evthread.h"

#include "core/lock.h"
#include "core/log.h"

#include <event2/thread.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace reevent::core {
namespace evthread {
namespace {

pthread_mutex_t g_setup_mutex = PTHREAD_MUTEX_INITIALIZER;
evthread_lock_callbacks g_lock_cbs = {};
evthread_condition_callbacks g_cond_cbs = {};
std::atomic<bool> g_have_locks{false};
std::atomic<bool> g_have_conds{false};
std::atomic<unsigned long (*)()> g_id_fn{nullptr};
std::atomic<bool> g_lock_debugging{false};

class SetupGuard {
public:
    SetupGuard() noexcept { pthread_mutex_lock(&g_setup_mutex); }
    ~SetupGuard() { pthread_mutex_unlock(&g_setup_mutex); }
    SetupGuard(const SetupGuard &) = delete;
    SetupGuard &operator=(const SetupGuard &) = delete;
};

bool same_locks(const evthread_lock_callbacks &a, const evthread_lock_callbacks &b) noexcept {
    return a.lock_api_version == b.lock_api_version &&
           a.supported_locktypes == b.supported_locktypes && a.alloc == b.alloc &&
           a.free == b.free && a.lock == b.lock && a.unlock == b.unlock;
}

bool same_conds(const evthread_condition_callbacks &a,
                const evthread_condition_callbacks &b) noexcept {
    return a.condition_api_version == b.condition_api_version &&
           a.alloc_condition == b.alloc_condition && a.free_condition == b.free_condition &&
           a.signal_condition == b.signal_condition && a.wait_condition == b.wait_condition;
}

unsigned long self_id() noexcept { return static_cast<unsigned long>(pthread_self()); }

// Lock debugging for locks the program hands us (allocated by its own callbacks): we cannot
// embed bookkeeping in them, so owner and depth live in a small side table keyed by the
// lock's address. A lock that does not fit is simply not checked.
struct UserLockRecord {
    void *lock;
    unsigned long owner;
    int depth;
};
constexpr int kUserLockRecords = 64;
UserLockRecord g_user_records[kUserLockRecords] = {};
pthread_mutex_t g_user_records_mutex = PTHREAD_MUTEX_INITIALIZER;

// The record of `lock`, creating one if `create`; nullptr if absent or the table is full.
// Under g_user_records_mutex.
UserLockRecord *user_record(void *lock, bool create) noexcept {
    UserLockRecord *free_slot = nullptr;
    for (auto &r : g_user_records) {
        if (r.lock == lock) return &r;
        if (!r.lock && !free_slot) free_slot = &r;
    }
    if (!create || !free_slot) return nullptr;
    *free_slot = {lock, 0, 0};
    return free_slot;
}

void debug_user_locked(void *lock) noexcept {
    pthread_mutex_lock(&g_user_records_mutex);
    if (UserLockRecord *r = user_record(lock, true)) {
        if (r->depth > 0) REEVENT_ASSERT(r->owner == self_id());
        r->owner = self_id();
        ++r->depth;
    }
    pthread_mutex_unlock(&g_user_records_mutex);
}

void debug_user_unlocking(void *lock) noexcept {
    pthread_mutex_lock(&g_user_records_mutex);
    UserLockRecord *r = user_record(lock, false);
    // Unknown here means never locked through us since debugging began: not held.
    const bool ok = r && r->depth > 0 && r->owner == self_id();
    if (ok && --r->depth == 0) *r = {};
    pthread_mutex_unlock(&g_user_records_mutex);
    REEVENT_ASSERT(ok);
}

}  // namespace

bool has_user_locks() noexcept { return g_have_locks.load(std::memory_order_acquire); }

int user_lock(unsigned mode, void *lock) noexcept {
    if (!lock || !has_user_locks()) return 0;
    // The table is reachable through evthread_get_lock_callbacks(): a program that cleared
    // it by hand has no lock function left to call.
    auto fn = g_lock_cbs.lock;
    if (!fn) return 0;
    const int r = fn(mode, lock);
    if (r == 0 && lock_debugging_enabled()) debug_user_locked(lock);
    return r;
}

int user_unlock(unsigned mode, void *lock) noexcept {
    if (!lock || !has_user_locks()) return 0;
    auto fn = g_lock_cbs.unlock;
    if (!fn) return 0;
    if (lock_debugging_enabled()) debug_user_unlocking(lock);
    return fn(mode, lock);
}

evthread_lock_callbacks *lock_callbacks() noexcept { return &g_lock_cbs; }

evthread_condition_callbacks *condition_callbacks() noexcept { return &g_cond_cbs; }

unsigned long current_thread_id() noexcept {
    if (auto fn = g_id_fn.load(std::memory_order_acquire)) return fn();
    return self_id();
}

bool lock_debugging_enabled() noexcept {
    return g_lock_debugging.load(std::memory_order_acquire);
}

int set_lock_callbacks(const evthread_lock_callbacks *cbs) noexcept {
    SetupGuard guard;
    const bool have = g_have_locks.load(std::memory_order_relaxed);
    if (!cbs) {
        if (have)
            log::warn("Disabling lock callbacks after they were set up is unlikely to work: "
                      "locks already allocated keep using them.");
        g_have_locks.store(false, std::memory_order_release);
        g_lock_cbs = {};
        return 0;
    }
    if (have) {
        if (same_locks(g_lock_cbs, *cbs)) return 0;
        log::warn("Can't change lock callbacks once they have been initialized.");
        return -1;
    }
    if (!cbs->alloc || !cbs->free || !cbs->lock || !cbs->unlock) return -1;
    g_lock_cbs = *cbs;
    g_have_locks.store(true, std::memory_order_release);
    return 0;
}

int set_condition_callbacks(const evthread_condition_callbacks *cbs) noexcept {
    SetupGuard guard;
    const bool have = g_have_conds.load(std::memory_order_relaxed);
    if (!cbs) {
        if (have)
            log::warn("Disabling condition callbacks after they were set up is unlikely to "
                      "work.");
        g_have_conds.store(false, std::memory_order_release);
        g_cond_cbs = {};
        return 0;
    }
    if (have) {
        if (same_conds(g_cond_cbs, *cbs)) return 0;
        log::warn("Can't change condition callbacks once they have been initialized.");
        return -1;
    }
    // An incomplete set installs nothing but, as in libevent, is not reported as an error.
    if (!cbs->alloc_condition || !cbs->free_condition || !cbs->signal_condition ||
        !cbs->wait_condition)
        return 0;
    g_cond_cbs = *cbs;
    g_have_conds.store(true, std::memory_order_release);
    return 0;
}

void set_id_callback(unsigned long (*id_fn)()) noexcept {
    g_id_fn.store(id_fn, std::memory_order_release);
}

void enable_lock_debugging() noexcept {
    g_lock_debugging.store(true, std::memory_order_release);
}

}  // namespace evthread

// ---- core::Lock slow paths and debugging -------------------------------------------------
// Owners are named by pthread_self(), not the user's id callback: the check must not depend
// on a callback that may be unset or wrong.

namespace {

long futex(std::atomic<uint32_t> *word, int op, uint32_t val, const timespec *ts,
           uint32_t bitset) noexcept {
    return syscall(SYS_futex, reinterpret_cast<uint32_t *>(word), op | FUTEX_PRIVATE_FLAG, val,
                   ts, nullptr, bitset);
}

}  // namespace

// membarrier(2): MEMBARRIER_CMD_PRIVATE_EXPEDITED makes every running thread of the process
// execute a full memory barrier before it returns; the process registers when it makes its
// first biased lock (and again after fork, where the child starts unregistered).
#ifndef MEMBARRIER_CMD_QUERY
#define MEMBARRIER_CMD_QUERY 0
#endif
#ifndef MEMBARRIER_CMD_PRIVATE_EXPEDITED
#define MEMBARRIER_CMD_PRIVATE_EXPEDITED (1 << 3)
#define MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED (1 << 4)
#endif

namespace {

#if defined(__SANITIZE_THREAD__)
#define REEVENT_NO_BIASED_LOCKS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define REEVENT_NO_BIASED_LOCKS 1
#endif
#endif

long membarrier(int cmd) noexcept {
#ifdef SYS_membarrier
    return syscall(SYS_membarrier, cmd, 0, 0);
#else
    (void)cmd;
    errno = ENOSYS;
    return -1;
#endif
}

bool membarrier_supported() noexcept {
#ifdef REEVENT_NO_BIASED_LOCKS
    return false;
#else
    // Asked once per process (not a function-local static: no thread-safe statics in this
    // library). Two threads asking first both query and register, which is harmless.
    static std::atomic<int> state{0};  // 0 unknown, 1 usable, -1 not
    int s = state.load(std::memory_order_acquire);
    if (s == 0) {
        long mask = membarrier(MEMBARRIER_CMD_QUERY);
        // Register now (cheap while the process has one thread, as it usually has when it
        // makes its first base), so a revocation later needs only the barrier itself.
        s = mask > 0 && (mask & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
                    (mask & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) &&
                    membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0
                ? 1
                : -1;
        state.store(s, std::memory_order_release);
    }
    return s > 0;
#endif
}

void heavy_barrier() noexcept {
    if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
    if (membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0 &&
        membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
        return;
    // Slower, needs no registration (MEMBARRIER_CMD_GLOBAL).
    if (membarrier(1) == 0) return;
    log::fatal(errno, "membarrier failed: cannot revoke a biased lock");
}

}  // namespace

Lock::Lock(Biased) noexcept : debug_(evthread::lock_debugging_enabled()) {
    if (!debug_ && membarrier_supported()) {
        bias_owner_ = self();
        bias_state_.store(kActive, std::memory_order_relaxed);
    }
}

void Lock::revoke() noexcept {
    uint32_t st = kActive;
    if (bias_state_.compare_exchange_strong(st, kRevoking, std::memory_order_acq_rel,
                                            std::memory_order_acquire)) {
        // After the barrier the owner either sees kRevoking (and backs off to the futex
        // word) or its in_cs_ != 0 is visible here: wait until it leaves.
        heavy_barrier();
        for (int i = 0; in_cs_.load(std::memory_order_acquire) != 0; ++i) {
            if (i < 100) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            } else {
                timespec ts{0, 50000};
                nanosleep(&ts, nullptr);
            }
        }
        bias_state_.store(kRevoked, std::memory_order_release);
        return;
    }
    // Somebody else is revoking: wait for it to finish.
    while (bias_state_.load(std::memory_order_acquire) != kRevoked) {
        timespec ts{0, 50000};
        nanosleep(&ts, nullptr);
    }
}

void Lock::lock_slow() noexcept {
    // A short spin first: critical sections are a few hundred instructions.
    for (int i = 0; i < 100; ++i) {
        uint32_t expected = 0;
        if (word_.load(std::memory_order_relaxed) == 0 &&
            word_.compare_exchange_weak(expected, 1, std::memory_order_acquire,
                                        std::memory_order_relaxed))
            return;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    // Mark the word contended; whoever unlocks it then wakes one sleeper.
    while (word_.exchange(2, std::memory_order_acquire) != 0)
        futex(&word_, FUTEX_WAIT, 2, nullptr, 0);
}

void Lock::wake_one() noexcept { futex(&word_, FUTEX_WAKE, 1, nullptr, 0); }

void Cond::notify_all() noexcept {
    seq_.fetch_add(1, std::memory_order_release);
    futex(&seq_, FUTEX_WAKE, 0x7fffffff, nullptr, 0);
}

void Lock::debug_bad_unlock() noexcept {
    // Unlocking a lock this thread does not hold.
    REEVENT_ASSERT(owner_.load(std::memory_order_relaxed) == self());
}

void Lock::debug_check_free() noexcept {
    // Freeing a lock somebody still holds.
    REEVENT_ASSERT(owner_.load(std::memory_order_relaxed) == 0);
}

int Lock::wait(Cond *cond, const timespec *abstime) noexcept {
    if (debug_) {
        // Waiting with the lock held recursively would release one level only: deadlock.
        REEVENT_ASSERT(owner_.load(std::memory_order_relaxed) == self());
        REEVENT_ASSERT(depth_.load(std::memory_order_relaxed) == 1);
    }
    // Read under the lock: a notify_all after we release it changes the number, and the
    // futex wait then returns at once.
    const uint32_t seq = cond->seq_.load(std::memory_order_relaxed);
    int depth;
    const uint32_t bdepth = self() == bias_owner_ ? in_cs_.load(std::memory_order_relaxed) : 0;
    if (bdepth > 0) {
        depth = static_cast<int>(bdepth);
        in_cs_.store(0, std::memory_order_release);
    } else {
        depth = depth_.load(std::memory_order_relaxed);
        depth_.store(0, std::memory_order_relaxed);
        owner_.store(0, std::memory_order_relaxed);
        if (word_.exchange(0, std::memory_order_release) == 2) wake_one();
    }
    int r = 0;
    long rc;
    if (abstime)
        rc = futex(&cond->seq_, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, seq, abstime,
                   FUTEX_BITSET_MATCH_ANY);
    else
        rc = futex(&cond->seq_, FUTEX_WAIT, seq, nullptr, 0);
    if (rc < 0 && errno == ETIMEDOUT) r = ETIMEDOUT;
    lock();
    if (self() == bias_owner_ && in_cs_.load(std::memory_order_relaxed) > 0)
        in_cs_.store(static_cast<uint32_t>(depth), std::memory_order_relaxed);
    else
        depth_.store(depth, std::memory_order_relaxed);
    return r;
}

}  // namespace reevent::core
