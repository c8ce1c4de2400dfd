# Conformance tests of bufferevent.h / bufferevent_struct.h / bufferevent_compat.h (owned by
# the bufferevent work). Each source is built against both libraries.
reevent_conformance(bufferevent TIMEOUT 120 SOURCES
  bufferevent_layout_test.cpp bufferevent_socket_test.cpp bufferevent_pair_test.cpp
  bufferevent_filter_test.cpp bufferevent_ratelim_test.cpp bufferevent_nullbase_test.cpp)
