# Unit tests of src/core (owned by the core reactor work).
reevent_unit(mm SOURCES mm_test.cpp)
