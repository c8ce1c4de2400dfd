# libFuzzer targets for the DNS wire input: replies evdns reads from a nameserver, and
# requests an evdns server port reads (seeds in corpus/dns_reply and corpus/dns_server).
reevent_fuzz(dns_reply SOURCES ${CMAKE_CURRENT_LIST_DIR}/dns_reply_fuzz.cpp)
target_link_libraries(fuzz_dns_reply PRIVATE event_extra_static)
reevent_fuzz(dns_server SOURCES ${CMAKE_CURRENT_LIST_DIR}/dns_server_fuzz.cpp)
target_link_libraries(fuzz_dns_server PRIVATE event_extra_static)
