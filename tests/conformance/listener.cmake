# Conformance tests of <event2/listener.h> (owned by the netutil work).
reevent_conformance(listener SOURCES
  listener_basic_test.cpp
  listener_stress_test.cpp
  listener_thread_test.cpp
)

# The programs in examples/, run as processes and driven over loopback. Same test source per
# library, pointed at that library's build of the examples (see examples/CMakeLists.txt).
if(EXISTS ${PROJECT_SOURCE_DIR}/examples/CMakeLists.txt)
  # The sides REEVENT_CONFORMANCE_SIDES asks for, as for every conformance program.
  set(example_sides)
  if("libevent" IN_LIST REEVENT_CONFORMANCE_SIDES)
    list(APPEND example_sides libevent)
  endif()
  if(EXISTS ${PROJECT_SOURCE_DIR}/src/capi/bufferevent_capi.cpp AND
     "reevent" IN_LIST REEVENT_CONFORMANCE_SIDES)
    list(APPEND example_sides reevent)
  endif()
  foreach(side ${example_sides})
    if(side STREQUAL "reevent")
      set(suffix "")
    else()
      set(suffix "_libevent")
    endif()
    add_executable(examples_test_${side} listener_examples_test.cpp)
    target_compile_definitions(examples_test_${side} PRIVATE
      EXAMPLES_DIR="${PROJECT_BINARY_DIR}/examples/${side}")
    target_compile_options(examples_test_${side} PRIVATE ${REEVENT_WARNINGS})
    target_link_libraries(examples_test_${side} PRIVATE GTest::gtest_main Threads::Threads)
    foreach(ex echo_server chat_server tcp_proxy)
      add_dependencies(examples_test_${side} example_${ex}${suffix})
    endforeach()
    gtest_discover_tests(examples_test_${side} TEST_PREFIX "${side}." DISCOVERY_MODE PRE_TEST
      PROPERTIES TIMEOUT 120 LABELS "examples")
  endforeach()
endif()
