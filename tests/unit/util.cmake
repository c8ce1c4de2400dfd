# The util address fuzz target as a plain program (random inputs near the grammar, compared
# with the real libevent through dlopen), so every ctest run exercises it without clang.
reevent_fuzz_as_unit(unit_util_address_diff SOURCE util_address_fuzz.cpp DEFINE UTIL_FUZZ_STANDALONE
  LIB event_core_static TEST unit.UtilAddressDiff.MatchesLibeventOnRandomInput AREA util ARGS 300000)

# evutil_getaddrinfo compared case by case with the real libevent (dlopen).
add_executable(unit_util_addrinfo_diff ${CMAKE_CURRENT_SOURCE_DIR}/util_addrinfo_diff.cpp)
target_include_directories(unit_util_addrinfo_diff PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
target_compile_definitions(unit_util_addrinfo_diff PRIVATE _GNU_SOURCE)
target_compile_options(unit_util_addrinfo_diff PRIVATE ${REEVENT_WARNINGS})
target_link_libraries(unit_util_addrinfo_diff PRIVATE event_core_static Threads::Threads ${CMAKE_DL_LIBS})
add_test(NAME unit.UtilAddrinfoDiff.MatchesLibevent COMMAND unit_util_addrinfo_diff)
set_tests_properties(unit.UtilAddrinfoDiff.MatchesLibevent PROPERTIES TIMEOUT 120 LABELS "unit;util")
