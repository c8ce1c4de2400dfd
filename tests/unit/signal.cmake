# Unit tests of the signal hub and lock debugging (owned by the signals/fork/threads work).
reevent_unit(signal_hub SOURCES signal_hub_test.cpp TIMEOUT 60)
target_link_libraries(unit_signal_hub PRIVATE ${CMAKE_DL_LIBS})
reevent_unit(lock_debug SOURCES lock_debug_test.cpp TIMEOUT 60)
