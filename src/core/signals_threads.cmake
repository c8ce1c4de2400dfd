# Signal hub, evthread hooks and thread.h shims (owned by the signals/fork/threads work).
# Included from src/core/CMakeLists.txt; paths are relative to src/core.
target_sources(reevent_core_objs PRIVATE
  signal_hub.cpp
  evthread.cpp
  ../capi/thread_capi.cpp)
