# Conformance tests of <event2/dns.h> (libevent_extra): the client resolver against a fake
# DNS server on 127.0.0.1, resolv.conf and hosts parsing, evdns_getaddrinfo.
reevent_conformance(dns SOURCES dns_client_test.cpp dns_config_test.cpp dns_getaddrinfo_test.cpp dns_compat_test.cpp
  dns_bufferevent_test.cpp)
reevent_conformance(dns_server SOURCES dns_server_test.cpp)
# One evdns_base used from several threads (evthread_use_pthreads is process-wide, so an
# executable of its own). Label "thread": runs under TSan.
reevent_conformance(dns_thread SOURCES dns_thread_test.cpp LABELS thread TIMEOUT 120)
