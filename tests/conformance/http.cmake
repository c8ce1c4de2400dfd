# Conformance tests of the <event2/http.h> helpers that need no server (libevent_extra).
reevent_conformance(http SOURCES http_util_test.cpp)
# The HTTP server: raw requests and answers on loopback sockets, settings, callbacks.
reevent_conformance(http_server SOURCES http_server_test.cpp TIMEOUT 300)
# The HTTP client: requests to a scripted raw server, responses, errors and callbacks.
reevent_conformance(http_client SOURCES http_client_test.cpp TIMEOUT 120)
