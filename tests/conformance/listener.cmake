# Conformance tests of <event2/listener.h> (owned by the netutil work).
reevent_conformance(listener SOURCES
  listener_basic_test.cpp
  listener_stress_test.cpp
)
