# Conformance tests of the <event2/http.h> helpers that need no server (libevent_extra).
reevent_conformance(http SOURCES http_util_test.cpp)
