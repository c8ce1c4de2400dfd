# Conformance tests of <event2/tag.h> (libevent_extra).
reevent_conformance(tag SOURCES tag_test.cpp)
