# Signal events (owned by the signals/fork/threads work).
reevent_conformance(signal SOURCES signal_events_test.cpp TIMEOUT 60)
