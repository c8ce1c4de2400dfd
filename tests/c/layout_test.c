/* Public struct layouts, checked against libevent 2.1.12 on x86-64 (sizes and member
 * offsets from shared/reference/abi.md). Programs embed struct event by value and read
 * struct bufferevent fields directly, so these are ABI. Blocks compile when HAVE_<HEADER>
 * (set by CMake) says our header exists. */
#include <stddef.h>
#include <stdio.h>

#define OFF(T, m, v) _Static_assert(offsetof(T, m) == (v), #T "." #m)
#define SIZE(T, v) _Static_assert(sizeof(T) == (v), "sizeof " #T)

#include <event2/event_struct.h>
SIZE(struct event_callback, 40);
OFF(struct event_callback, evcb_active_next, 0);
OFF(struct event_callback, evcb_flags, 16);
OFF(struct event_callback, evcb_pri, 18);
OFF(struct event_callback, evcb_closure, 19);
OFF(struct event_callback, evcb_cb_union, 24);
OFF(struct event_callback, evcb_arg, 32);
SIZE(struct event, 128);
OFF(struct event, ev_evcallback, 0);
OFF(struct event, ev_timeout_pos, 40);
OFF(struct event, ev_timeout_pos.min_heap_idx, 40);
OFF(struct event, ev_fd, 56);
OFF(struct event, ev_base, 64);
OFF(struct event, ev_, 72);
OFF(struct event, ev_.ev_io.ev_io_next, 72);
OFF(struct event, ev_.ev_io.ev_timeout, 88);
OFF(struct event, ev_.ev_signal.ev_signal_next, 72);
OFF(struct event, ev_.ev_signal.ev_ncalls, 88);
OFF(struct event, ev_.ev_signal.ev_pncalls, 96);
OFF(struct event, ev_events, 104);
OFF(struct event, ev_res, 106);
OFF(struct event, ev_timeout, 112);
SIZE(struct event_list, 16);
SIZE(struct event_dlist, 8);

#if HAVE_EVENT2_BUFFEREVENT_STRUCT_H
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>
SIZE(struct event_watermark, 16);
SIZE(struct bufferevent, 392);
OFF(struct bufferevent, ev_base, 0);
OFF(struct bufferevent, be_ops, 8);
OFF(struct bufferevent, ev_read, 16);
OFF(struct bufferevent, ev_write, 144);
OFF(struct bufferevent, input, 272);
OFF(struct bufferevent, output, 280);
OFF(struct bufferevent, wm_read, 288);
OFF(struct bufferevent, wm_write, 304);
OFF(struct bufferevent, readcb, 320);
OFF(struct bufferevent, writecb, 328);
OFF(struct bufferevent, errorcb, 336);
OFF(struct bufferevent, cbarg, 344);
OFF(struct bufferevent, timeout_read, 352);
OFF(struct bufferevent, timeout_write, 368);
OFF(struct bufferevent, enabled, 384);
#endif

#if HAVE_EVENT2_BUFFER_H
#include <event2/buffer.h>
SIZE(struct evbuffer_ptr, 24);
OFF(struct evbuffer_ptr, pos, 0);
OFF(struct evbuffer_ptr, internal_, 8);
OFF(struct evbuffer_ptr, internal_.chain, 8);
OFF(struct evbuffer_ptr, internal_.pos_in_chain, 16);
SIZE(struct evbuffer_iovec, 16);
SIZE(struct evbuffer_cb_info, 24);
OFF(struct evbuffer_cb_info, orig_size, 0);
OFF(struct evbuffer_cb_info, n_added, 8);
OFF(struct evbuffer_cb_info, n_deleted, 16);
#endif

#if HAVE_EVENT2_KEYVALQ_STRUCT_H
#include <event2/keyvalq_struct.h>
SIZE(struct evkeyval, 32);
OFF(struct evkeyval, key, 16);
OFF(struct evkeyval, value, 24);
SIZE(struct evkeyvalq, 16);
#endif

#if HAVE_EVENT2_HTTP_STRUCT_H
#include <event2/http.h>
#include <event2/http_struct.h>
SIZE(struct evhttp_request, 216);
OFF(struct evhttp_request, evcon, 16);
OFF(struct evhttp_request, flags, 24);
OFF(struct evhttp_request, input_headers, 32);
OFF(struct evhttp_request, output_headers, 40);
OFF(struct evhttp_request, remote_host, 48);
OFF(struct evhttp_request, remote_port, 56);
OFF(struct evhttp_request, host_cache, 64);
OFF(struct evhttp_request, kind, 72);
OFF(struct evhttp_request, type, 76);
OFF(struct evhttp_request, headers_size, 80);
OFF(struct evhttp_request, body_size, 88);
OFF(struct evhttp_request, uri, 96);
OFF(struct evhttp_request, uri_elems, 104);
OFF(struct evhttp_request, major, 112);
OFF(struct evhttp_request, minor, 113);
OFF(struct evhttp_request, response_code, 116);
OFF(struct evhttp_request, response_code_line, 120);
OFF(struct evhttp_request, input_buffer, 128);
OFF(struct evhttp_request, ntoread, 136);
OFF(struct evhttp_request, output_buffer, 152);
OFF(struct evhttp_request, cb, 160);
OFF(struct evhttp_request, cb_arg, 168);
OFF(struct evhttp_request, chunk_cb, 176);
OFF(struct evhttp_request, header_cb, 184);
OFF(struct evhttp_request, error_cb, 192);
OFF(struct evhttp_request, on_complete_cb, 200);
OFF(struct evhttp_request, on_complete_cb_arg, 208);
#endif

#if HAVE_EVENT2_DNS_STRUCT_H
#include <event2/dns_struct.h>
SIZE(struct evdns_server_request, 16);
OFF(struct evdns_server_request, flags, 0);
OFF(struct evdns_server_request, nquestions, 4);
OFF(struct evdns_server_request, questions, 8);
SIZE(struct evdns_server_question, 12);
OFF(struct evdns_server_question, type, 0);
OFF(struct evdns_server_question, dns_question_class, 4);
OFF(struct evdns_server_question, name, 8);
#endif

#if HAVE_EVENT2_RPC_STRUCT_H
#include <event2/rpc.h>
#include <event2/rpc_struct.h>
SIZE(struct evrpc_status, 16);
OFF(struct evrpc_status, error, 0);
OFF(struct evrpc_status, http_req, 8);
SIZE(struct evrpc, 120);
OFF(struct evrpc, next, 0);
OFF(struct evrpc, uri, 16);
OFF(struct evrpc, request_new, 24);
OFF(struct evrpc, request_new_arg, 32);
OFF(struct evrpc, request_free, 40);
OFF(struct evrpc, request_unmarshal, 48);
OFF(struct evrpc, reply_new, 56);
OFF(struct evrpc, reply_new_arg, 64);
OFF(struct evrpc, reply_free, 72);
OFF(struct evrpc, reply_complete, 80);
OFF(struct evrpc, reply_marshal, 88);
OFF(struct evrpc, cb, 96);
OFF(struct evrpc, cb_arg, 104);
OFF(struct evrpc, base, 112);
/* What EVRPC_HEADER makes callers declare: six pointers the library fills. */
struct layout_req;
struct layout_rply;
EVRPC_HEADER(layout, layout_req, layout_rply)
SIZE(struct evrpc_req__layout, 48);
OFF(struct evrpc_req__layout, hook_meta, 0);
OFF(struct evrpc_req__layout, request, 8);
OFF(struct evrpc_req__layout, reply, 16);
OFF(struct evrpc_req__layout, rpc, 24);
OFF(struct evrpc_req__layout, http_req, 32);
OFF(struct evrpc_req__layout, rpc_data, 40);
#endif

#if HAVE_EVENT2_THREAD_H
#include <event2/thread.h>
SIZE(struct evthread_lock_callbacks, 40);
OFF(struct evthread_lock_callbacks, alloc, 8);
OFF(struct evthread_lock_callbacks, unlock, 32);
SIZE(struct evthread_condition_callbacks, 40);
OFF(struct evthread_condition_callbacks, wait_condition, 32);
#endif

#include <event2/util.h>
SIZE(struct evutil_addrinfo, 48);
OFF(struct evutil_addrinfo, ai_addrlen, 16);
OFF(struct evutil_addrinfo, ai_addr, 24);
OFF(struct evutil_addrinfo, ai_canonname, 32);
SIZE(evutil_socket_t, 4);
SIZE(ev_ssize_t, 8);
SIZE(ev_off_t, 8);

int main(void) {
    puts("layouts ok");
    return 0;
}
