# libFuzzer target for the <event2/http.h> helpers (URI, encoding, query, headers), compared
# with the real libevent_extra loaded at run time with dlopen.
reevent_fuzz(http_uri SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_uri_fuzz.cpp)
target_link_libraries(fuzz_http_uri PRIVATE event_extra_static ${CMAKE_DL_LIBS})
