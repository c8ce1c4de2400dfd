# event_reinit after fork (owned by the signals/fork/threads work).
reevent_conformance(fork SOURCES fork_reinit_test.cpp TIMEOUT 60)
