# evbuffer internals (owned by the buffer work): ring invariants under random operations,
# ring wrap-around and growth, block recycling, position hints.
reevent_unit(buffer SOURCES ${CMAKE_CURRENT_LIST_DIR}/buffer_ring_test.cpp)
