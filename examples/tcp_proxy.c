/* tcp_proxy: forwards TCP connections to another address.
 *
 *   tcp_proxy <port> <target>     e.g. tcp_proxy 8080 127.0.0.1:80   or   [::1]:80
 *
 * Listens on 127.0.0.1:<port> (0: let the kernel choose) and prints "listening on port N
 * (backend)" once ready. Every accepted client gets its own connection to <target>; bytes
 * are copied both ways.
 *
 * Back-pressure: when one side reads faster than the other side writes, reading from it
 * stops until the other side's output drains below half of MAX_BUFFERED, so a slow peer
 * cannot make the proxy buffer without bound.
 *
 * Closing: an orderly close (EOF) of one side is passed on as a half-close. Once everything
 * it sent has been written to the other side, the proxy shuts down writing there and keeps
 * copying the other direction until that side closes too. An error on one side closes it;
 * the other side gets what is still buffered for it, then is closed.
 *
 * SIGINT or SIGTERM stops the proxy; everything is freed before exit. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "example_util.h"

#define MAX_BUFFERED (256 * 1024)

/* One proxied connection: the accepted client and our connection to the target. */
struct session {
	struct bufferevent *side[2]; /* 0: client, 1: target; NULL once closed */
	int eof[2];                  /* side i has sent EOF */
	int shut[2];                 /* writing to side i has been shut down */
	LIST_ENTRY(session) link;
};

static LIST_HEAD(, session) sessions = LIST_HEAD_INITIALIZER(sessions);
static struct sockaddr_storage target;
static int target_len;

static int side_of(const struct session *s, const struct bufferevent *bev)
{
	return s->side[0] == bev ? 0 : 1;
}

static void session_free(struct session *s)
{
	int i;
	LIST_REMOVE(s, link);
	for (i = 0; i < 2; ++i)
		if (s->side[i])
			bufferevent_free(s->side[i]);
	free(s);
}

/* Closes one side; the session ends when neither side is left. */
static void close_side(struct session *s, int i)
{
	bufferevent_free(s->side[i]);
	s->side[i] = NULL;
	if (!s->side[0] && !s->side[1])
		session_free(s);
}

/* The peer of a closed side has written out everything: close it too. */
static void on_drained_close(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	close_side(s, side_of(s, bev));
}

/* Passes half-closes on and ends the session when both directions are finished. */
static void maybe_finish(struct session *s)
{
	int j;
	for (j = 0; j < 2; ++j) {
		if (s->eof[!j] && s->side[j] && !s->shut[j] &&
		    evbuffer_get_length(bufferevent_get_output(s->side[j])) == 0) {
			shutdown(bufferevent_getfd(s->side[j]), SHUT_WR);
			s->shut[j] = 1;
		}
	}
	if (s->eof[0] && s->eof[1] && s->shut[0] && s->shut[1])
		session_free(s);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	int i = side_of(s, bev);
	struct bufferevent *peer = s->side[!i];
	struct evbuffer *out;

	if (!peer) { /* nowhere to send it */
		evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
		return;
	}
	out = bufferevent_get_output(peer);
	evbuffer_add_buffer(out, bufferevent_get_input(bev));
	if (evbuffer_get_length(out) >= MAX_BUFFERED) {
		/* Back-pressure: stop reading here until the peer's output drains. */
		bufferevent_disable(bev, EV_READ);
		bufferevent_setwatermark(peer, EV_WRITE, MAX_BUFFERED / 2, 0);
	}
}

/* The output of `bev` fell below its low-water mark: resume reading from its peer. */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	int i = side_of(s, bev);
	struct bufferevent *peer = s->side[!i];
	bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
	if (peer && !s->eof[!i])
		bufferevent_enable(peer, EV_READ);
	maybe_finish(s);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	int i = side_of(s, bev);
	struct bufferevent *peer = s->side[!i];

	if (what & BEV_EVENT_CONNECTED)
		return;
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR)) {
		on_read(bev, s); /* whatever arrived with the EOF */
		s->eof[i] = 1;
		bufferevent_disable(bev, EV_READ);
		maybe_finish(s);
		return;
	}
	if (!(what & BEV_EVENT_ERROR))
		return;
	fprintf(stderr, "tcp_proxy: %s side: %s\n", i ? "target" : "client",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	if (peer) {
		/* Forward what is left, then let the peer finish writing before closing it. */
		on_read(bev, s);
		if (evbuffer_get_length(bufferevent_get_output(peer))) {
			bufferevent_setcb(peer, NULL, on_drained_close, on_event, s);
			bufferevent_setwatermark(peer, EV_WRITE, 0, 0);
			bufferevent_disable(peer, EV_READ);
		} else {
			close_side(s, !i);
		}
	}
	close_side(s, i);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *addr,
    int socklen, void *arg)
{
	struct event_base *base = arg;
	struct session *s;
	(void)lev; (void)addr; (void)socklen;

	s = calloc(1, sizeof(*s));
	if (!s) {
		evutil_closesocket(fd);
		return;
	}
	s->side[0] = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	s->side[1] = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	LIST_INSERT_HEAD(&sessions, s, link);
	if (!s->side[0] || !s->side[1]) {
		if (!s->side[0])
			evutil_closesocket(fd);
		session_free(s);
		return;
	}
	bufferevent_setcb(s->side[0], on_read, on_write, on_event, s);
	bufferevent_setcb(s->side[1], on_read, on_write, on_event, s);
	if (bufferevent_socket_connect(s->side[1], (struct sockaddr *)&target, target_len) < 0) {
		session_free(s);
		return;
	}
	bufferevent_enable(s->side[0], EV_READ | EV_WRITE);
	bufferevent_enable(s->side[1], EV_READ | EV_WRITE);
}

int main(int argc, char **argv)
{
	struct example_server srv;
	long port;

	target_len = (int)sizeof(target);
	if (argc != 3 || (port = example_parse_port(argv[1])) < 0 ||
	    evutil_parse_sockaddr_port(argv[2], (struct sockaddr *)&target, &target_len) < 0) {
		fprintf(stderr, "usage: %s <port> <target-address:port>\n", argv[0]);
		return 2;
	}
	if (example_server_start(&srv, "tcp_proxy", port, on_accept) < 0)
		return 1;

	event_base_dispatch(srv.base);

	while (!LIST_EMPTY(&sessions))
		session_free(LIST_FIRST(&sessions));
	example_server_finish(&srv);
	return 0;
}
