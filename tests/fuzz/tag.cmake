# libFuzzer target for <event2/tag.h>, compared with the real libevent_extra (dlopen).
reevent_fuzz(tag_records SOURCES ${CMAKE_CURRENT_LIST_DIR}/tag_fuzz.cpp)
target_link_libraries(fuzz_tag_records PRIVATE event_extra_static ${CMAKE_DL_LIBS})
