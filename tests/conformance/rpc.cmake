# Conformance tests of <event2/rpc.h> (libevent_extra): an evrpc server and a pool on one
# base per backend, with a hand-written message type.
reevent_conformance(rpc SOURCES rpc_fixture.cpp rpc_call_test.cpp rpc_hook_test.cpp rpc_legacy_test.cpp rpc_tag_test.cpp TIMEOUT 180)
