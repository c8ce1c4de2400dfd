# Unit tests of src/core (owned by the core reactor work).
reevent_unit(mm SOURCES mm_test.cpp)
reevent_unit(core_heap SOURCES core_heap_test.cpp)
reevent_unit(core_iomap SOURCES core_iomap_test.cpp)
reevent_unit(core_lock SOURCES core_lock_test.cpp TIMEOUT 60)
reevent_unit(core_callback SOURCES core_callback_test.cpp)
