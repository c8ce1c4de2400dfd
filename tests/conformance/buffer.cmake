# evbuffer conformance tests (owned by the buffer work). Same sources against libevent and
# reevent.
reevent_conformance(buffer SOURCES
  buffer_basic_test.cpp
  buffer_search_test.cpp
  buffer_move_test.cpp
  buffer_callback_test.cpp
  buffer_io_test.cpp
  buffer_model_test.cpp
  buffer_reserve_test.cpp)

# With an event_base: deferred callbacks and event-driven reads, on every backend.
reevent_conformance(buffer_base SOURCES buffer_deferred_test.cpp)

# Allocation failures: its own executable, since the failing hooks must be installed before
# the library allocates anything.
reevent_conformance(buffer_oom SOURCES buffer_oom_test.cpp)

# Threaded tests, also labelled "thread" so the TSan preset runs them: concurrent use of a
# locked buffer, and a user-allocated lock through evthread_set_lock_callbacks (its own
# executable, since lock callbacks can be installed once per process).
reevent_conformance(buffer_threads SOURCES buffer_thread_test.cpp TIMEOUT 120 LABELS thread)
reevent_conformance(buffer_lock SOURCES buffer_user_lock_test.cpp TIMEOUT 120 LABELS thread)
