// Process-wide threading hooks from thread.h: the lock and condition callbacks a program
// may install with evthread_set_lock_callbacks / evthread_set_condition_callbacks, the
// thread-id callback, and lock debugging.
//
// reevent's own objects lock with core::Lock (lock.h) whether or not these are set; the
// user callbacks matter only for locks the user hands us (evbuffer_enable_locking(buf,
// lock) with a lock allocated through them). Implemented by the signals/fork/threads work
// in evthread.cpp.
#pragma once

struct evthread_lock_callbacks;
struct evthread_condition_callbacks;

namespace reevent::core::evthread {

// True once evthread_set_lock_callbacks installed a lock API.
bool has_user_locks() noexcept;
// Lock/unlock a lock allocated by the user's alloc callback (mode: EVTHREAD_READ/WRITE/TRY
// bits as in thread.h). 0 on success, as the callbacks return.
int user_lock(unsigned mode, void *lock) noexcept;
int user_unlock(unsigned mode, void *lock) noexcept;

// The id of the calling thread (the user's id callback if set, else pthread_self).
unsigned long current_thread_id() noexcept;

// True after evthread_enable_lock_debugging(); core::Lock objects created from then on
// check their use (see lock.h).
bool lock_debugging_enabled() noexcept;

// The live tables set_lock_callbacks / set_condition_callbacks fill (all zero while none
// is installed, and again after set_*_callbacks(NULL)): what libevent's exported
// evthread_get_lock_callbacks / evthread_get_condition_callbacks return. Programs read them
// (libevent's regress suite copies the lock table to wrap it); reevent calls through them
// only after checking that a table is installed.
evthread_lock_callbacks *lock_callbacks() noexcept;
evthread_condition_callbacks *condition_callbacks() noexcept;

// The thread.h entry points (thread_capi.cpp forwards to these).
int set_lock_callbacks(const evthread_lock_callbacks *cbs) noexcept;
int set_condition_callbacks(const evthread_condition_callbacks *cbs) noexcept;
void set_id_callback(unsigned long (*id_fn)()) noexcept;
void enable_lock_debugging() noexcept;

}  // namespace reevent::core::evthread
