# Signal events (owned by the signals/fork/threads work).
reevent_conformance(signal SOURCES signal_events_test.cpp TIMEOUT 60)

# CMake 3.25's gtest_discover_tests flattens the list in PROPERTIES LABELS "a;b;c" (the
# tests get only the first label), so `ctest -L '^thread$'` would select nothing. This
# sets the full label list at ctest time from the discovered test list (<target>_TESTS).
# Used by signal.cmake, thread.cmake and fork.cmake; harmless once the harness is fixed.
function(reevent_signals_fix_labels area)
  foreach(side libevent reevent)
    set(exe conf_${area}_${side})
    if(TARGET ${exe})
      set(f ${CMAKE_CURRENT_BINARY_DIR}/${exe}_labels.cmake)
      file(WRITE ${f} "if(${exe}_TESTS)\n  set_tests_properties(\${${exe}_TESTS} PROPERTIES LABELS \"conformance;${area};${side}\")\nendif()\n")
      set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${f})
    endif()
  endforeach()
endfunction()
reevent_signals_fix_labels(signal)
