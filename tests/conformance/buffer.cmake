# evbuffer conformance tests (owned by the buffer work). Same sources against libevent and
# reevent.
reevent_conformance(buffer SOURCES
  buffer_basic_test.cpp
  buffer_search_test.cpp
  buffer_move_test.cpp
  buffer_callback_test.cpp
  buffer_io_test.cpp
  buffer_model_test.cpp)

# With an event_base: deferred callbacks and event-driven reads, on every backend.
reevent_conformance(buffer_base SOURCES buffer_deferred_test.cpp)

# Allocation failures: its own executable, since the failing hooks must be installed before
# the library allocates anything.
reevent_conformance(buffer_oom SOURCES buffer_oom_test.cpp)

# Threaded tests, also labelled "thread" so the TSan preset runs them: concurrent use of a
# locked buffer, and a user-allocated lock through evthread_set_lock_callbacks (its own
# executable, since lock callbacks can be installed once per process). Built like
# reevent_conformance() does, with the label "thread" (one label: gtest_discover_tests
# splits a list-valued LABELS into separate property arguments).
function(buffer_threaded_conformance name)
  foreach(side libevent reevent)
    set(exe conf_${name}_${side})
    add_executable(${exe} ${ARGN} $<TARGET_OBJECTS:conformance_support_main>)
    target_include_directories(${exe} PRIVATE ${CONFORMANCE_SUPPORT})
    target_compile_options(${exe} PRIVATE ${REEVENT_WARNINGS})
    if(side STREQUAL "reevent")
      target_compile_definitions(${exe} PRIVATE CONFORMANCE_IS_REEVENT=1)
      target_link_libraries(${exe} PRIVATE event event_pthreads)
      target_include_directories(${exe} BEFORE PRIVATE ${PROJECT_SOURCE_DIR}/include)
    else()
      target_compile_definitions(${exe} PRIVATE CONFORMANCE_IS_REEVENT=0)
      target_link_libraries(${exe} PRIVATE PkgConfig::SYSLIBEVENT)
    endif()
    target_link_libraries(${exe} PRIVATE GTest::gtest Threads::Threads)
    gtest_discover_tests(${exe} TEST_PREFIX "${side}." DISCOVERY_MODE PRE_TEST
      PROPERTIES TIMEOUT 120 LABELS thread)
  endforeach()
endfunction()
buffer_threaded_conformance(buffer_threads ${CMAKE_CURRENT_LIST_DIR}/buffer_thread_test.cpp)
buffer_threaded_conformance(buffer_lock ${CMAKE_CURRENT_LIST_DIR}/buffer_user_lock_test.cpp)
