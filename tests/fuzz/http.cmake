# libFuzzer target for the <event2/http.h> helpers (URI, encoding, query, headers), compared
# with the real libevent_extra loaded at run time with dlopen.
reevent_fuzz(http_uri SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_uri_fuzz.cpp)
target_link_libraries(fuzz_http_uri PRIVATE event_extra_static ${CMAKE_DL_LIBS})
# An evhttp server fed a client's bytes over a Unix socket, and an evhttp client reading a
# loopback server's bytes (seeds in corpus/http_server and corpus/http_client).
reevent_fuzz(http_server SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_server_fuzz.cpp)
target_link_libraries(fuzz_http_server PRIVATE event_extra_static)
reevent_fuzz(http_client SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_client_fuzz.cpp)
target_link_libraries(fuzz_http_client PRIVATE event_extra_static)
