# Unit tests of src/dns (libevent_extra): the DNS message code on malformed input and a
# server port fed random datagrams.
reevent_unit(dns_wire SOURCES dns_wire_test.cpp)
target_link_libraries(unit_dns_wire PRIVATE event_extra_static)
