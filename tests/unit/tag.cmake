# The tag fuzz target as a plain program (random records compared with the real
# libevent_extra through dlopen), so every ctest run exercises it without clang.
add_executable(unit_tag_diff ${CMAKE_CURRENT_SOURCE_DIR}/../fuzz/tag_fuzz.cpp)
target_compile_definitions(unit_tag_diff PRIVATE TAG_FUZZ_STANDALONE=1 _GNU_SOURCE)
target_include_directories(unit_tag_diff PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
target_compile_options(unit_tag_diff PRIVATE ${REEVENT_WARNINGS})
target_link_libraries(unit_tag_diff PRIVATE event_extra_static Threads::Threads ${CMAKE_DL_LIBS})
add_test(NAME unit.TagDiff.MatchesLibeventOnRandomRecords COMMAND unit_tag_diff 50000)
set_tests_properties(unit.TagDiff.MatchesLibeventOnRandomRecords PROPERTIES TIMEOUT 120 LABELS "unit;tag")
