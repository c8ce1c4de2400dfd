# libFuzzer target for the util.h address parsers (owned by the netutil work). The reference
# libevent is loaded at run time with dlopen, so nothing here links against it.
reevent_fuzz(util_address SOURCES ${CMAKE_CURRENT_LIST_DIR}/util_address_fuzz.cpp)
target_link_libraries(fuzz_util_address PRIVATE ${CMAKE_DL_LIBS})
