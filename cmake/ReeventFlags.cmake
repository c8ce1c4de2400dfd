# Compiler flags shared by every reevent target.
#
# The libraries are C++ inside but must link from a plain C program with nothing but
# -levent: no exceptions, no RTTI, no thread-safe-static guards, and the shared libraries
# are linked as C with --no-undefined, so any accidental libstdc++ dependency is a link error.
set(REEVENT_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)
if(REEVENT_WERROR)
  list(APPEND REEVENT_WARNINGS -Werror)
endif()

# Flags for the library's own C++ code (not for tests, which may use the full C++ runtime).
set(REEVENT_LIB_CXX_FLAGS -fno-exceptions -fno-rtti -fno-threadsafe-statics
    -fvisibility=hidden -fvisibility-inlines-hidden)
set(REEVENT_LIB_C_FLAGS -fvisibility=hidden)

# Sanitizer builds (set by presets): REEVENT_SANITIZE=address,undefined | thread
set(REEVENT_SANITIZE "" CACHE STRING "Sanitizers to build with (e.g. address,undefined or thread)")
if(REEVENT_SANITIZE)
  add_compile_options(-fsanitize=${REEVENT_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${REEVENT_SANITIZE})
endif()
