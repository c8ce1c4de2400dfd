/* echo_server: sends every byte it receives straight back.
 *
 *   echo_server <port>        (port 0: let the kernel choose)
 *
 * Listens on 127.0.0.1 and prints "listening on port N (backend)" once ready. Each
 * connection gets a socket bufferevent whose read callback moves the input buffer to the
 * output buffer without copying. A client that sends faster than it reads is throttled
 * with a write high-water mark instead of growing the output buffer without bound. SIGINT
 * or SIGTERM stops the loop; everything is freed before exit. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "example_util.h"

/* Stop reading from a client while this much of its echo is still unsent. */
#define MAX_PENDING_OUTPUT (512 * 1024)

/* Open connections, so that shutdown can free them all. */
struct conn {
	struct bufferevent *bev;
	LIST_ENTRY(conn) link;
};
static LIST_HEAD(, conn) conns = LIST_HEAD_INITIALIZER(conns);

static void conn_close(struct conn *c)
{
	LIST_REMOVE(c, link);
	bufferevent_free(c->bev); /* BEV_OPT_CLOSE_ON_FREE closes the socket */
	free(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
	if (evbuffer_get_length(bufferevent_get_output(bev)) >= MAX_PENDING_OUTPUT) {
		/* Resume once the output has drained (see on_write). */
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(bev, EV_WRITE, MAX_PENDING_OUTPUT / 2, 0);
	}
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(bev, EV_READ);
	}
}

/* Write callback after the client's EOF: close once the last echo is out. */
static void on_drained(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_close(arg);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
		/* The client stopped sending but may still be reading: finish the echo first. */
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_setcb(bev, NULL, on_drained, on_event, arg);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		conn_close(arg);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *addr,
    int socklen, void *arg)
{
	struct event_base *base = arg;
	struct conn *c;
	(void)lev; (void)addr; (void)socklen;

	c = calloc(1, sizeof(*c));
	if (!c || !(c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE))) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	LIST_INSERT_HEAD(&conns, c, link);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	(void)lev; (void)arg;
	/* Out of descriptors and the like: the listener pauses and retries by itself. */
	fprintf(stderr, "echo_server: accept failed: %s\n",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

int main(int argc, char **argv)
{
	struct example_server srv;
	long port;

	if (argc != 2 || (port = example_parse_port(argv[1])) < 0) {
		fprintf(stderr, "usage: %s <port>\n", argv[0]);
		return 2;
	}
	if (example_server_start(&srv, "echo_server", port, on_accept) < 0)
		return 1;
	evconnlistener_set_error_cb(srv.lev, on_accept_error);

	event_base_dispatch(srv.base);

	while (!LIST_EMPTY(&conns))
		conn_close(LIST_FIRST(&conns));
	example_server_finish(&srv);
	return 0;
}
