# Unit tests of src/bufferevent (owned by the bufferevent work).
reevent_unit(bufferevent SOURCES bufferevent_memory_test.cpp)
