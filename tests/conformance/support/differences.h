// The one place that lists where reevent deliberately differs from libevent 2.1.12.
// A test that meets one of these asserts both behaviours, choosing with the constant here,
// and docs/semantics.md names the rule. CONFORMANCE_IS_REEVENT is set by CMake.
#pragma once

#ifndef CONFORMANCE_IS_REEVENT
#error "CONFORMANCE_IS_REEVENT must be defined by the build"
#endif

namespace conf {

inline constexpr bool kIsReevent = CONFORMANCE_IS_REEVENT != 0;

// libevent 2.1 delivers a signal to one base only (the last to add a signal event);
// reevent delivers it to every base that has an event for that signal.
inline constexpr bool kSignalsOnEveryBase = kIsReevent;

}  // namespace conf

namespace conf {
// libevent parses the port of evutil_parse_sockaddr_port with atoi, so "1.2.3.4:4294967376"
// wraps to port 80; reevent rejects ports that are not 1..65535 as written.
inline constexpr bool kStrictSockaddrPort = kIsReevent;
}  // namespace conf

// libevent 2.1 asserts (aborts) when a signal event with a signum outside 1..NSIG-1 is added;
// reevent refuses it: event_add returns -1.
namespace conf { inline constexpr bool kBadSignumAddFails = kIsReevent; }

// libevent 2.1 unlinks a pair silently when one side is freed; reevent also gives the
// surviving side BEV_EVENT_EOF|BEV_EVENT_READING, as a socketpair would (issue #93).
namespace conf { inline constexpr bool kPairFreeGivesPartnerEof = kIsReevent; }

// evbuffer_add_buffer / prepend_buffer / remove_buffer of a buffer into itself: libevent
// returns 0 and does nothing; reevent reports the misuse with -1 (buffer unchanged too).
namespace conf {
inline constexpr bool kBufferSelfAddFails = kIsReevent;
}  // namespace conf

namespace conf {
// evutil_inet_ntop(AF_INET6) with a buffer exactly one byte short (room for the text but not
// its NUL): libevent returns a silently truncated string; reevent returns NULL.
inline constexpr bool kStrictInetNtopLength = kIsReevent;
}  // namespace conf

// evbuffer_add_file / evbuffer_file_segment_new with length -1: libevent uses the file's
// size as the length even when offset > 0 (the tail reads as zeros); reevent takes the
// bytes from offset to the end of the file.
namespace conf {
inline constexpr bool kFileToEndIsSizeMinusOffset = kIsReevent;
}  // namespace conf

namespace conf {
// When accept() fails with EMFILE/ENFILE, libevent runs the error callback and retries at
// once, spinning at 100% CPU; reevent runs the error callback, pauses the listener with a
// growing delay (a few ms up to 100 ms) and resumes by itself.
inline constexpr bool kListenerBacksOffOnEmfile = kIsReevent;
}  // namespace conf

// A buffer freed while its deferred callbacks are queued: libevent still runs them (on the
// freed buffer's remains); reevent drops them.
namespace conf {
inline constexpr bool kFreedBufferSkipsDeferredCallbacks = kIsReevent;
// libevent's binary heap runs timers with equal deadlines in no defined order (in practice
// the reverse of adding); reevent's timer heap breaks ties by insertion order (FIFO).
inline constexpr bool kTimersFifoOnTies = kIsReevent;

// A timeout expiring on an event that is already active (say with EV_READ from event_active)
// replaces its flags with EV_TIMEOUT in libevent 2.1.12 (#1530, fixed later by #1734); reevent
// ORs EV_TIMEOUT into the flags already there.
inline constexpr bool kTimeoutKeepsActiveFlags = kIsReevent;

}  // namespace conf

// libevent 2.1 saves the previous handler per base, so after several bases watched one
// signal and were freed, its own handler can stay installed; reevent restores the
// program's handler once the last watcher in the process is gone.
namespace conf { inline constexpr bool kHandlerRestoredAfterSeveralBases = kIsReevent; }

// Rate-limit groups: reevent refills on tick boundaries and gives each member a share fixed
// at refill, so a group stays within 10% of its rate and members within 25% of a fair share;
// libevent 2.1 drifts and favours whoever the loop serves first (its tests get 2x the slack).
namespace conf { inline constexpr bool kPreciseRateGroups = kIsReevent; }

// bufferevent_setfd re-assigns the socket events: libevent 2.1 resets their priority to the
// middle one (#56); reevent keeps the priority set with bufferevent_priority_set.
namespace conf { inline constexpr bool kBevSetfdKeepsPriority = kIsReevent; }

namespace conf {
// evconnlistener_disable/free from another thread while the loop thread is accepting:
// libevent holds the listener lock while event_del waits for the running accept callback,
// which waits for that lock (a deadlock); reevent never waits while holding it.
inline constexpr bool kListenerCrossThreadDisableSafe = kIsReevent;
}  // namespace conf

// The <event2/http.h> helpers given a NULL URI, string or list (evhttp_uri_free(NULL),
// evhttp_encode_uri(NULL), evhttp_find_header(NULL, k) ...): libevent dereferences it and
// crashes; reevent answers NULL / -1 / nothing. Only asserted on reevent.
namespace conf { inline constexpr bool kHttpHelpersTakeNull = kIsReevent; }

// Every reevent base is locked and can be woken from another thread without
// evthread_use_pthreads; libevent needs lock callbacks installed before the base is made.
namespace conf { inline constexpr bool kLockedWithoutLockCallbacks = kIsReevent; }

namespace conf {
// evdns server ports: a datagram shorter than a DNS header makes libevent 2.1 read past it
// (it crashes); reevent ignores it like any other malformed query.
inline constexpr bool kDnsServerIgnoresShortPackets = kIsReevent;
// A server reply longer than 512 bytes: libevent cuts the message at byte 512, mid-record,
// and its counts still name every record added; reevent ends it with the last whole record
// and counts the records it holds. Both set TC.
inline constexpr bool kDnsServerCutsWholeRecords = kIsReevent;
}  // namespace conf

// TLS bufferevents (bufferevent_ssl.h). libevent 2.1.12 built with OpenSSL 3 reports a peer
// that closes the socket without close_notify as BEV_EVENT_ERROR|BEV_EVENT_READING even with
// bufferevent_openssl_set_allow_dirty_shutdown(bev, 1) (OpenSSL 3 calls that "unexpected
// eof", SSL_ERROR_SSL, and libevent only looks for SSL_ERROR_SYSCALL); reevent gives
// BEV_EVENT_EOF|BEV_EVENT_READING, as the option says.
namespace conf { inline constexpr bool kSslAllowedDirtyShutdownIsEof = kIsReevent; }

// libevent 2.1's TLS socket bufferevent stops reading at a read high-water mark and may
// leave decrypted bytes inside the SSL object when the socket has nothing more to read:
// draining the input then does not bring them (the stream stalls). reevent delivers them.
namespace conf { inline constexpr bool kSslResumesFromSslBuffer = kIsReevent; }


// bufferevent_ssl_renegotiate on a TLS 1.2 filter bufferevent: libevent 2.1 sends the new
// hello but never finishes the handshake (no BEV_EVENT_CONNECTED, the stream stalls);
// reevent finishes it as over a socket.
namespace conf { inline constexpr bool kSslFilterRenegotiationCompletes = kIsReevent; }

namespace conf {
// evdns_base_nameserver_sockaddr_add with an address that is not IPv4/IPv6 (or too short for
// its family): libevent adds it (0) and fails only later at send time; reevent refuses it (2).
inline constexpr bool kDnsRefusesNonIpNameservers = kIsReevent;
}  // namespace conf

// evrpc_make_request on a pool without connections: libevent 2.1 asserts (aborts); reevent
// queues the request until evrpc_pool_add_connection gives the pool one.
// Registering an RPC name twice: libevent 2.1 lists both and aborts in evrpc_free (the
// second unregister finds no path); reevent refuses the second with -1.
namespace conf { inline constexpr bool kRpcForgivesMisuse = kIsReevent; }

// A CONNECT request line with a userinfo ("CONNECT user@host:1 HTTP/1.1"): libevent parses
// the target in place and its evhttp_request_get_uri then gives only "user"; reevent keeps
// the whole target (the parsed parts are the same).
namespace conf { inline constexpr bool kConnectUriKeepsUserinfo = kIsReevent; }

// bufferevent_socket_connect from a thread other than the loop's, on a bufferevent without
// BEV_OPT_THREADSAFE (sslsplit makes them so): libevent 2.1 arms the write event before it
// marks the bufferevent connecting, and a loop that runs that event in between takes it for
// a plain write-ready with nothing to write and drops it: BEV_EVENT_CONNECTED never comes.
// reevent marks it connecting first. (Held open deterministically in thread_race_test.cpp.)
namespace conf { inline constexpr bool kCrossThreadConnectAlwaysConnects = kIsReevent; }

// An evbuffer without a lock whose callbacks are deferred to a base (evbuffer_defer_callbacks)
// filled from a thread other than that base's loop: libevent 2.1 queues the deferred run
// before it takes the reference that run drops, and a loop that runs it in between frees
// the buffer under the caller. reevent takes the reference first. (thread_race_test.cpp)
namespace conf { inline constexpr bool kCrossThreadDeferredBufferKept = kIsReevent; }

// evdns_cancel_request and evdns_getaddrinfo_cancel from a thread other than the loop's
// (evthread_use_pthreads on): libevent 2.1 schedules the CANCEL callback before it has
// finished with the request, and the loop thread may run that callback (freeing the
// request's handle) without the resolver's lock while the cancelling thread still uses the
// handle: now and then evdns.c's request_finished assertion aborts the program (seen in
// about half the runs of the test below). reevent finishes the request under the resolver's
// lock before the callback can run. (dns_thread_test.cpp, skipped on libevent.)
namespace conf { inline constexpr bool kDnsCancelFromAnyThread = kIsReevent; }

// evdns_base_clear_nameservers_and_suspend (then nameserver add and resume) from a thread
// other than the loop's while answers arrive: libevent 2.1 frees each nameserver and its
// event at once, while the loop thread may be running, or waiting for the resolver's lock
// in, that nameserver's read callback; in the test below it hung (lookups never completed,
// the 120 s timeout) or died in about half of the runs. reevent marks a removed nameserver
// dead and frees it through event finalizers, so a waiting callback finds it gone, not freed.
// (dns_thread_test.cpp, skipped on libevent.)
namespace conf { inline constexpr bool kDnsClearNameserversFromAnyThread = kIsReevent; }
