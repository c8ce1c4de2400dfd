# Threads (owned by the signals/fork/threads work). Label "thread" runs under TSan in CI.
reevent_conformance(thread SOURCES thread_wakeup_test.cpp thread_stress_test.cpp
  TIMEOUT 120)

# thread.h set-up (process-wide, one forked child per test), with the getters of its
# callback tables that libevent exports without a header. Lock-debugging checks go
# through evbuffer_lock/unlock, so they are compiled where an evbuffer exists.
reevent_conformance(thread_setup SOURCES thread_setup_test.cpp thread_internal_abi_test.cpp
  TIMEOUT 60)
foreach(side libevent reevent)
  if(TARGET conf_thread_setup_${side})
    set(has_evbuffer 1)
    if(side STREQUAL "reevent" AND NOT EXISTS ${PROJECT_SOURCE_DIR}/src/capi/buffer_capi.cpp)
      set(has_evbuffer 0)
    endif()
    target_compile_definitions(conf_thread_setup_${side} PRIVATE
      CONFORMANCE_HAS_EVBUFFER=${has_evbuffer})
  endif()
endforeach()

# Timing program for docs/parts/design-signals.md (locking cost); not run by ctest, so built
# only on demand (ninja thread_lock_cost_reevent thread_lock_cost_libevent).
foreach(side libevent reevent)
  if(TARGET conf_thread_${side} OR side STREQUAL "libevent")
    add_executable(thread_lock_cost_${side} EXCLUDE_FROM_ALL thread_lock_cost.cpp)
    target_compile_options(thread_lock_cost_${side} PRIVATE -O2)
    if(side STREQUAL "reevent")
      target_include_directories(thread_lock_cost_${side} BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/include)
      target_link_libraries(thread_lock_cost_${side} PRIVATE event event_pthreads)
    else()
      target_link_libraries(thread_lock_cost_${side} PRIVATE PkgConfig::SYSLIBEVENT)
    endif()
  endif()
endforeach()

# Cross-thread set-up races held open with lock callbacks of the test's own (process-wide,
# so an executable of its own). Label "thread": runs under TSan.
# (TLS too: libevent_openssl and OpenSSL on each side.)
reevent_conformance(thread_race SOURCES thread_race_test.cpp LABELS thread TIMEOUT 120)
find_package(OpenSSL 3 REQUIRED)
if(TARGET conf_thread_race_reevent)
  target_link_libraries(conf_thread_race_reevent PRIVATE event_openssl OpenSSL::SSL OpenSSL::Crypto)
endif()
if(TARGET conf_thread_race_libevent)
  pkg_check_modules(THREAD_RACE_SSL REQUIRED IMPORTED_TARGET libevent_openssl)
  target_link_libraries(conf_thread_race_libevent PRIVATE PkgConfig::THREAD_RACE_SSL
    OpenSSL::SSL OpenSSL::Crypto)
endif()
