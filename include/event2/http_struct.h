/* reevent: the HTTP request structure (libevent 2.1 <event2/http_struct.h>, same layout).
 *
 * Programs read these members directly (transmission reads uri, type, input_headers,
 * output_headers, input_buffer, remote_host and evcon), so every member sits at libevent
 * 2.1.12's offset. Prefer the evhttp_request_get_* accessors of <event2/http.h>. */
#ifndef EVENT2_HTTP_STRUCT_H_INCLUDED_
#define EVENT2_HTTP_STRUCT_H_INCLUDED_

#include <event2/event-config.h>
#include <event2/http.h> /* the enums the members use */
#include <event2/util.h>
#include <sys/types.h>
#include <sys/time.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evhttp_connection;
struct evkeyvalq;
struct evhttp_uri;
struct evbuffer;

/* Bits of evhttp_request.flags. */
#define EVHTTP_REQ_OWN_CONNECTION 0x0001 /* freeing the request frees its connection */
#define EVHTTP_PROXY_REQUEST 0x0002      /* absolute URI naming a host that is not ours */
#define EVHTTP_USER_OWNED 0x0004         /* evhttp_request_own: the program frees it */
#define EVHTTP_REQ_DEFER_FREE 0x0008     /* freeing is postponed while the library uses it */
#define EVHTTP_REQ_NEEDS_FREE 0x0010     /* ... and must happen afterwards */

struct evhttp_request {
	/* Link in the connection's queue of requests. */
#if defined(TAILQ_ENTRY)
	TAILQ_ENTRY(evhttp_request) next;
#else
	struct {
		struct evhttp_request *tqe_next;
		struct evhttp_request **tqe_prev;
	} next;
#endif

	struct evhttp_connection *evcon; /* NULL once the connection is gone */
	int flags;                       /* EVHTTP_REQ_* / EVHTTP_USER_OWNED ... */

	struct evkeyvalq *input_headers;
	struct evkeyvalq *output_headers;

	char *remote_host;               /* the peer's numeric address */
	ev_uint16_t remote_port;

	char *host_cache;                /* what evhttp_request_get_host returned */

	enum evhttp_request_kind kind;   /* EVHTTP_REQUEST, or EVHTTP_RESPONSE once answered */
	enum evhttp_cmd_type type;       /* the method */

	size_t headers_size;
	size_t body_size;

	char *uri;                       /* the request target as received */
	struct evhttp_uri *uri_elems;    /* ... parsed */

	char major;                      /* HTTP version */
	char minor;

	int response_code;
	char *response_code_line;        /* the reason phrase */

	struct evbuffer *input_buffer;   /* the request body */
	ev_int64_t ntoread;
	unsigned chunked:1,              /* chunked transfer coding */
	    userdone:1;                  /* the reply is complete */

	struct evbuffer *output_buffer;  /* the reply body */

	void (*cb)(struct evhttp_request *, void *);
	void *cb_arg;
	void (*chunk_cb)(struct evhttp_request *, void *);
	int (*header_cb)(struct evhttp_request *, void *);
	void (*error_cb)(enum evhttp_request_error, void *);
	void (*on_complete_cb)(struct evhttp_request *, void *);
	void *on_complete_cb_arg;
};

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_HTTP_STRUCT_H_INCLUDED_ */
