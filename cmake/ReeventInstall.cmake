# Install rules: headers, the five libraries (shared + static) with their dev links,
# pkg-config files and a CMake package (find_package(Libevent) -> libevent::core, ::extra,
# ::pthreads, ::openssl, as libevent's own package exports them).
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")

# Exported names: the same for the shared and the static flavour; the package config
# includes one of the two target files.
set_target_properties(event_core event_core_static PROPERTIES EXPORT_NAME core)
set_target_properties(event_extra event_extra_static PROPERTIES EXPORT_NAME extra)
set_target_properties(event_pthreads event_pthreads_static PROPERTIES EXPORT_NAME pthreads)
# libevent_openssl only when OpenSSL 3 was found (src/CMakeLists.txt).
set(reevent_ssl_shared "")
set(reevent_ssl_static "")
set(reevent_ssl_names "")
set(REEVENT_HAS_OPENSSL FALSE)
if(TARGET event_openssl)
  set(REEVENT_HAS_OPENSSL TRUE)
  set_target_properties(event_openssl event_openssl_static PROPERTIES EXPORT_NAME openssl)
  set(reevent_ssl_shared event_openssl)
  set(reevent_ssl_static event_openssl_static)
  set(reevent_ssl_names event_openssl)
endif()
set_target_properties(event event_static PROPERTIES EXPORT_NAME event)

install(TARGETS event_core event_extra event_pthreads ${reevent_ssl_shared} event EXPORT LibeventTargetsShared
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS event_core_static event_extra_static event_pthreads_static ${reevent_ssl_static}
        event_static
        EXPORT LibeventTargetsStatic
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

# Plain dev links (libevent_core.so -> libevent_core-2.1.so.7.0.1), as Debian ships them.
foreach(name event_core event_extra event_pthreads ${reevent_ssl_names})
  install(CODE "execute_process(COMMAND ${CMAKE_COMMAND} -E create_symlink
      lib${name}-2.1.so.${REEVENT_SO_VERSION}
      \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/lib${name}.so)")
endforeach()

install(FILES ${PROJECT_BINARY_DIR}/libevent.so.ldscript DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RENAME libevent.so)

set(cmakedir ${CMAKE_INSTALL_LIBDIR}/cmake/libevent)
install(EXPORT LibeventTargetsShared NAMESPACE libevent:: DESTINATION ${cmakedir}
        FILE LibeventTargets-shared.cmake)
install(EXPORT LibeventTargetsStatic NAMESPACE libevent:: DESTINATION ${cmakedir}
        FILE LibeventTargets-static.cmake)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/LibeventConfig.cmake.in
  ${PROJECT_BINARY_DIR}/LibeventConfig.cmake INSTALL_DESTINATION ${cmakedir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/LibeventConfigVersion.cmake
  VERSION ${REEVENT_LIBEVENT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/LibeventConfig.cmake
              ${PROJECT_BINARY_DIR}/LibeventConfigVersion.cmake DESTINATION ${cmakedir})

# pkg-config files.
set(reevent_pcs libevent libevent_core libevent_extra libevent_pthreads)
if(TARGET event_openssl)
  list(APPEND reevent_pcs libevent_openssl)
endif()
foreach(pc ${reevent_pcs})
  configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/pkgconfig/${pc}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
