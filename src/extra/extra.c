/* libevent_extra: http, dns, rpc and tag will live here. Until they land the library
 * exists (programs that NEED libevent_extra-2.1.so.7 load) but exports no API: a missing
 * symbol is honest, a stub that pretends is not. */
typedef int reevent_extra_is_empty_for_now;
