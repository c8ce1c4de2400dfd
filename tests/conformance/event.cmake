# Conformance tests of event.h / event_compat.h (owned by the core reactor work). One file per
# feature; I/O and timing tests run on every backend (conf::BackendTest).
reevent_conformance(event SOURCES
  event_struct_test.cpp
  event_base_test.cpp
  event_config_test.cpp
  event_io_test.cpp
  event_timer_test.cpp
  event_persist_test.cpp
  event_priority_test.cpp
  event_loopexit_test.cpp
  event_active_test.cpp
  event_callback_test.cpp
  event_finalize_test.cpp
  event_once_test.cpp
  event_compat_test.cpp
  event_badinput_test.cpp
  event_debug_test.cpp
  event_foreach_test.cpp
  event_reinit_test.cpp
  event_nullbase_test.cpp
  TIMEOUT 120)

# libevent-internal loop entries core exports for binary compatibility (src/core/internal_abi.cpp).
# ... and the callback entries over a bare struct event_callback (deferred callbacks, finalizers).
reevent_conformance(event_internal SOURCES event_internal_abi_test.cpp
  event_callback_internal_test.cpp)
