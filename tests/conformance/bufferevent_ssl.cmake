# Conformance tests of bufferevent_ssl.h (libevent_openssl; owned by the TLS work). Built
# against both libraries like every area, plus each side's libevent_openssl and OpenSSL.
find_package(OpenSSL 3 REQUIRED)
pkg_check_modules(SYSLIBEVENT_OPENSSL REQUIRED IMPORTED_TARGET libevent_openssl)

reevent_conformance(bufferevent_ssl TIMEOUT 300 SOURCES bufferevent_ssl_test.cpp)
reevent_conformance(bufferevent_ssl_thread TIMEOUT 120 LABELS thread
  SOURCES bufferevent_ssl_thread_test.cpp)
foreach(area bufferevent_ssl bufferevent_ssl_thread)
  if(TARGET conf_${area}_reevent)
    target_link_libraries(conf_${area}_reevent PRIVATE event_openssl OpenSSL::SSL OpenSSL::Crypto)
  endif()
  if(TARGET conf_${area}_libevent)
    target_link_libraries(conf_${area}_libevent PRIVATE PkgConfig::SYSLIBEVENT_OPENSSL
      OpenSSL::SSL OpenSSL::Crypto)
  endif()
endforeach()
