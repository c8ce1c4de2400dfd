/* reevent: the structures behind <event2/rpc.h> (libevent 2.1 <event2/rpc_struct.h>,
 * same layouts). Programs rarely need them: struct evrpc is what evrpc_register_rpc takes,
 * and struct evrpc_status is what a client's reply callback is handed. */
#ifndef EVENT2_RPC_STRUCT_H_INCLUDED_
#define EVENT2_RPC_STRUCT_H_INCLUDED_

#ifdef __cplusplus
extern "C" {
#endif

struct evbuffer;
struct evhttp_request;
struct evrpc_base;
struct evrpc_req_generic;

/* The list link of struct evrpc, spelled out when <sys/queue.h> is not included. */
#ifndef TAILQ_ENTRY
#define EVENT_DEFINED_TQENTRY_
#define TAILQ_ENTRY(type)                                                                  \
    struct {                                                                               \
        struct type *tqe_next;                                                             \
        struct type **tqe_prev;                                                            \
    }
#endif

/* How a client's request ended; error is one of the EVRPC_STATUS_ERR_* values. */
struct evrpc_status {
#define EVRPC_STATUS_ERR_NONE 0
#define EVRPC_STATUS_ERR_TIMEOUT 1
#define EVRPC_STATUS_ERR_BADPAYLOAD 2
#define EVRPC_STATUS_ERR_UNSTARTED 3
#define EVRPC_STATUS_ERR_HOOKABORTED 4
    int error;
    /* The HTTP reply (NULL after a timeout); valid during the callback only. */
    struct evhttp_request *http_req;
};

/* One registered RPC: its name and what makes, reads, checks and writes its messages. */
struct evrpc {
    TAILQ_ENTRY(evrpc) next;
    const char *uri; /* the name; it is served at "/.rpc.<uri>" */
    void *(*request_new)(void *);
    void *request_new_arg;
    void (*request_free)(void *);
    int (*request_unmarshal)(void *, struct evbuffer *);
    void *(*reply_new)(void *);
    void *reply_new_arg;
    void (*reply_free)(void *);
    int (*reply_complete)(void *);
    void (*reply_marshal)(struct evbuffer *, void *);
    void (*cb)(struct evrpc_req_generic *, void *);
    void *cb_arg;
    struct evrpc_base *base;
};

#ifdef EVENT_DEFINED_TQENTRY_
#undef TAILQ_ENTRY
#endif

#ifdef __cplusplus
}
#endif

#endif /* EVENT2_RPC_STRUCT_H_INCLUDED_ */
