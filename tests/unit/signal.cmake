# Unit tests of the signal hub (owned by the signals/fork/threads work).
reevent_unit(signal_hub SOURCES signal_hub_test.cpp TIMEOUT 60)
