/* chat_server: a line-based chat room.
 *
 *   chat_server <port>        (port 0: let the kernel choose)
 *
 * Listens on 127.0.0.1 and prints "listening on port N (backend)" once ready. A new client
 * is told "* you are userN"; every line it then sends (ended by "\n" or "\r\n") reaches
 * every other client as "userN: <line>"; when it leaves the others get "* userN left".
 * Lines longer than MAX_LINE bytes end the offending connection. SIGINT or SIGTERM stops
 * the server; everything is freed before exit. */
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

#define MAX_LINE 4096

struct client {
	struct bufferevent *bev;
	unsigned id;
	LIST_ENTRY(client) link;
};

static LIST_HEAD(, client) clients = LIST_HEAD_INITIALIZER(clients);
static unsigned next_id = 1;

/* Sends a formatted line to every client except `from` (NULL: to everyone). */
static void broadcast(const struct client *from, const char *fmt, const char *a, size_t alen,
    unsigned id)
{
	struct client *c;
	LIST_FOREACH(c, &clients, link) {
		if (c == from)
			continue;
		evbuffer_add_printf(bufferevent_get_output(c->bev), fmt, id, (int)alen, a);
	}
}

static void client_remove(struct client *c, int announce)
{
	LIST_REMOVE(c, link);
	bufferevent_free(c->bev);
	if (announce)
		broadcast(NULL, "* user%u left%.*s\n", "", 0, c->id);
	free(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	size_t len;

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF)) != NULL) {
		broadcast(c, "user%u: %.*s\n", line, len, c->id);
		free(line);
	}
	if (evbuffer_get_length(in) > MAX_LINE)
		client_remove(c, 1); /* a line without end: drop the client */
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		client_remove(arg, 1);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *addr,
    int socklen, void *arg)
{
	struct event_base *base = arg;
	struct client *c;
	(void)lev; (void)addr; (void)socklen;

	c = calloc(1, sizeof(*c));
	if (!c || !(c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE))) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->id = next_id++;
	LIST_INSERT_HEAD(&clients, c, link);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	evbuffer_add_printf(bufferevent_get_output(c->bev), "* you are user%u\n", c->id);
}

int main(int argc, char **argv)
{
	struct example_server srv;
	long port;

	if (argc != 2 || (port = example_parse_port(argv[1])) < 0) {
		fprintf(stderr, "usage: %s <port>\n", argv[0]);
		return 2;
	}
	if (example_server_start(&srv, "chat_server", port, on_accept) < 0)
		return 1;

	event_base_dispatch(srv.base);

	while (!LIST_EMPTY(&clients))
		client_remove(LIST_FIRST(&clients), 0);
	example_server_finish(&srv);
	return 0;
}
