# evbuffer conformance tests (owned by the buffer work). Same sources against libevent and
# reevent.
reevent_conformance(buffer SOURCES
  buffer_basic_test.cpp
  buffer_search_test.cpp
  buffer_move_test.cpp
  buffer_callback_test.cpp
  buffer_io_test.cpp
  buffer_model_test.cpp)
