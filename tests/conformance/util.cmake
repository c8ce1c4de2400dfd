# Conformance tests of <event2/util.h> (owned by the netutil work).
set(util_sources
  util_parse_test.cpp
  util_string_test.cpp
  util_socket_test.cpp
  util_addrinfo_test.cpp
  util_misc_test.cpp
  util_robustness_test.cpp
  util_internal_abi_test.cpp)
# The log-capturing test needs event_set_log_callback from the core's event.h shim.
if(EXISTS ${PROJECT_SOURCE_DIR}/src/capi/event_capi.cpp)
  list(APPEND util_sources util_log_test.cpp)
endif()
reevent_conformance(util SOURCES ${util_sources})
