/* A small HTTP server on libevhtp (Debian's libevhtp 1.2.18, which runs on libevent), for
 * tests/clients/evhtp_test.py. Written for the test; built by it against the system headers.
 *
 *   evhtp_server PORT NTHREADS     (NTHREADS 0: everything on the main base)
 *
 * Routes:
 *   GET  /hello        "hello from evhtp\n"
 *   POST /echo         the request body, byte for byte
 *   GET  /big          BIG_LINES 64-byte lines "%07u:" + 55 letters/digits + "\n" (copied)
 *   GET  /bigref       the same bytes through evbuffer_add_reference (no copy)
 *   GET  /stream       chunked: STREAM_CHUNKS chunks "chunk N\n", one per 20 ms timer
 * Prints "listening PORT" once bound, exits 0 on SIGTERM (event_base_loopexit from an
 * EV_SIGNAL event) after freeing everything. */
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/thread.h>
#include <evhtp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG_LINES 16384 /* 16384 x 64 = 1 MiB */
#define STREAM_CHUNKS 5

static char big[BIG_LINES * 64];

static void fill_big(void)
{
    static const char alnum[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (unsigned i = 0; i < BIG_LINES; i++) {
        char *l = big + i * 64;
        snprintf(l, 9, "%07u:", i);
        for (unsigned j = 0; j < 55; j++)
            l[8 + j] = alnum[(i + j) % 62];
        l[63] = '\n';
    }
}

static void add_type(evhtp_request_t *req, const char *type)
{
    evhtp_headers_add_header(req->headers_out, evhtp_header_new("Content-Type", type, 0, 0));
}

static void hello_cb(evhtp_request_t *req, void *arg)
{
    (void)arg;
    evbuffer_add_printf(req->buffer_out, "hello from evhtp\n");
    add_type(req, "text/plain");
    evhtp_send_reply(req, EVHTP_RES_OK);
}

static void echo_cb(evhtp_request_t *req, void *arg)
{
    (void)arg;
    if (evhtp_request_get_method(req) != htp_method_POST) {
        evhtp_send_reply(req, EVHTP_RES_METHNALLOWED);
        return;
    }
    evbuffer_add_buffer(req->buffer_out, req->buffer_in);
    add_type(req, "application/octet-stream");
    evhtp_send_reply(req, EVHTP_RES_OK);
}

static void big_cb(evhtp_request_t *req, void *arg)
{
    if (arg)
        evbuffer_add_reference(req->buffer_out, big, sizeof big, NULL, NULL);
    else
        evbuffer_add(req->buffer_out, big, sizeof big);
    add_type(req, "text/plain");
    evhtp_send_reply(req, EVHTP_RES_OK);
}

struct stream {
    evhtp_request_t *req;
    struct event *timer;
    int sent;
};

static void stream_tick(evutil_socket_t fd, short what, void *arg)
{
    struct stream *s = arg;
    (void)fd;
    (void)what;
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "chunk %d\n", s->sent++);
    evhtp_send_reply_chunk(s->req, b);
    evbuffer_free(b);
    if (s->sent < STREAM_CHUNKS) {
        struct timeval tv = {0, 20000};
        event_add(s->timer, &tv);
    } else {
        evhtp_send_reply_chunk_end(s->req);
        event_free(s->timer);
        s->timer = NULL;
    }
}

/* The request is freed (client gone, or done): stop the timer if it still runs. */
static evhtp_res stream_fini(evhtp_request_t *req, void *arg)
{
    struct stream *s = arg;
    (void)req;
    if (s->timer)
        event_free(s->timer);
    free(s);
    return EVHTP_RES_OK;
}

static void stream_cb(evhtp_request_t *req, void *arg)
{
    (void)arg;
    struct stream *s = calloc(1, sizeof *s);
    struct timeval tv = {0, 20000};
    s->req = req;
    s->timer = evtimer_new(evhtp_request_get_connection(req)->evbase, stream_tick, s);
    evhtp_request_set_hook(req, evhtp_hook_on_request_fini, (evhtp_hook)stream_fini, s);
    add_type(req, "text/plain");
    evhtp_send_reply_chunk_start(req, EVHTP_RES_OK);
    event_add(s->timer, &tv);
}

static void on_term(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PORT NTHREADS\n", argv[0]);
        return 2;
    }
    int port = atoi(argv[1]), nthreads = atoi(argv[2]);
    fill_big();
    signal(SIGPIPE, SIG_IGN);
    if (nthreads > 0 && evthread_use_pthreads() != 0) {
        fprintf(stderr, "evthread_use_pthreads failed\n");
        return 1;
    }
    struct event_base *base = event_base_new();
    evhtp_t *htp = evhtp_new(base, NULL);
    if (!base || !htp) {
        fprintf(stderr, "event_base_new/evhtp_new failed\n");
        return 1;
    }
    evhtp_set_cb(htp, "/hello", hello_cb, NULL);
    evhtp_set_cb(htp, "/echo", echo_cb, NULL);
    evhtp_set_cb(htp, "/big", big_cb, NULL);
    evhtp_set_cb(htp, "/bigref", big_cb, big);
    evhtp_set_cb(htp, "/stream", stream_cb, NULL);
    if (nthreads > 0 && evhtp_use_threads_wexit(htp, NULL, NULL, nthreads, NULL) != 0) {
        fprintf(stderr, "evhtp_use_threads_wexit failed\n");
        return 1;
    }
    if (evhtp_bind_socket(htp, "127.0.0.1", (uint16_t)port, 128) != 0) {
        perror("evhtp_bind_socket");
        return 1;
    }
    struct event *term = evsignal_new(base, SIGTERM, on_term, base);
    event_add(term, NULL);
    printf("listening %d threads %d on %s\n", port, nthreads, event_base_get_method(base));
    fflush(stdout);
    int rc = event_base_dispatch(base);
    printf("loop returned %d\n", rc);
    event_free(term);
    evhtp_unbind_socket(htp);
    evhtp_free(htp);
    event_base_free(base);
    printf("exiting\n");
    return rc == 0 ? 0 : 1;
}
