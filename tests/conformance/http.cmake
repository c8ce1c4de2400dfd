# Conformance tests of the <event2/http.h> helpers that need no server (libevent_extra).
reevent_conformance(http SOURCES http_util_test.cpp)
# The HTTP server: raw requests and answers on loopback sockets, settings, callbacks.
reevent_conformance(http_server SOURCES http_server_test.cpp TIMEOUT 300)
# The HTTP client: requests to a scripted raw server, responses, errors and callbacks.
reevent_conformance(http_client SOURCES http_client_test.cpp TIMEOUT 120)
# The evhttp server and client over TLS bufferevents (libevent_extra with libevent_openssl).
find_package(OpenSSL 3 REQUIRED)
if(NOT TARGET PkgConfig::SYSLIBEVENT_OPENSSL)
  pkg_check_modules(SYSLIBEVENT_OPENSSL REQUIRED IMPORTED_TARGET libevent_openssl)
endif()
reevent_conformance(http_tls TIMEOUT 60 SOURCES http_tls_test.cpp)
if(TARGET conf_http_tls_reevent)
  target_link_libraries(conf_http_tls_reevent PRIVATE event_openssl OpenSSL::SSL OpenSSL::Crypto)
endif()
if(TARGET conf_http_tls_libevent)
  target_link_libraries(conf_http_tls_libevent PRIVATE PkgConfig::SYSLIBEVENT_OPENSSL
    OpenSSL::SSL OpenSSL::Crypto)
endif()
# libevent_extra's exported internal names (parsers, URI decoder, connection failure).
reevent_conformance(http_internal_abi SOURCES http_internal_abi_test.cpp TIMEOUT 60)
# The two Transfer-Encoding helpers Debian's deb12u1 build of libevent_extra exports.
reevent_conformance(http_transfer_coding SOURCES http_transfer_coding_test.cpp TIMEOUT 60)
# Debian deb12u1's request-smuggling rules: ambiguous bodies refused, "chunked" when last.
reevent_conformance(http_smuggling SOURCES http_smuggling_test.cpp TIMEOUT 120)
# Request methods: unknown ones (libevent's 1 << 15) against the allowed methods, the ones
# 2.1.12 knows; and the client's reading of an interim 100 that carries a body framing.
reevent_conformance(http_method SOURCES http_method_test.cpp http_method_c.c TIMEOUT 120)
