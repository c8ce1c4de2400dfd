# libFuzzer target for evbuffer operation sequences (owned by the buffer work).
reevent_fuzz(buffer_ops SOURCES ${CMAKE_CURRENT_LIST_DIR}/buffer_ops_fuzz.cpp)
