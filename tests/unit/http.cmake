# The http helpers' fuzz target as a plain program (random URI-shaped inputs, compared with
# the real libevent_extra through dlopen), so every ctest run exercises it without clang.
add_executable(unit_http_uri_diff ${CMAKE_CURRENT_SOURCE_DIR}/../fuzz/http_uri_fuzz.cpp)
target_compile_definitions(unit_http_uri_diff PRIVATE HTTP_FUZZ_STANDALONE=1 _GNU_SOURCE)
target_include_directories(unit_http_uri_diff PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
target_compile_options(unit_http_uri_diff PRIVATE ${REEVENT_WARNINGS})
target_link_libraries(unit_http_uri_diff PRIVATE event_extra_static Threads::Threads ${CMAKE_DL_LIBS})
add_test(NAME unit.HttpUriDiff.MatchesLibeventOnRandomInput COMMAND unit_http_uri_diff 100000)
set_tests_properties(unit.HttpUriDiff.MatchesLibeventOnRandomInput PROPERTIES TIMEOUT 120 LABELS "unit;http")
