/* example_util.h: the start and the end the example servers share.
 *
 * Each example listens on 127.0.0.1:<port> (0: the kernel chooses), prints
 * "listening on port N (backend)" once ready, leaves its loop on SIGINT or SIGTERM and
 * prints "bye" after freeing everything. Only the public libevent 2.1 API is used, so the
 * examples build unchanged against reevent or the system libevent. */
#ifndef EXAMPLE_UTIL_H
#define EXAMPLE_UTIL_H

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* What example_server_start makes and example_server_finish frees. */
struct example_server {
	struct event_base *base;
	struct evconnlistener *lev;
	struct event *sigint, *sigterm;
};

/* The port number in `arg` (decimal, 0 to 65535), or -1 if it is not one. */
static inline long example_parse_port(const char *arg)
{
	char *end;
	long port = strtol(arg, &end, 10);
	if (*end != '\0' || port < 0 || port > 65535)
		return -1;
	return port;
}

static inline void example_on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig; (void)what;
	event_base_loopexit(arg, NULL);
}

/* Makes the base, listens on 127.0.0.1:port with on_accept (its argument: the base),
 * stops the loop on SIGINT and SIGTERM and prints the listening line. On failure prints
 * why, prefixed with `name`, frees what it made and returns -1; 0 on success. */
static inline int example_server_start(struct example_server *srv, const char *name,
    long port, evconnlistener_cb on_accept)
{
	struct sockaddr_in sin;
	struct sockaddr_storage bound;
	ev_socklen_t len = sizeof(bound);

	memset(srv, 0, sizeof(*srv));
	srv->base = event_base_new();
	if (!srv->base) {
		fprintf(stderr, "%s: cannot create an event base\n", name);
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv->lev = evconnlistener_new_bind(srv->base, on_accept, srv->base,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, -1,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (!srv->lev) {
		fprintf(stderr, "%s: cannot listen: %s\n", name, strerror(errno));
		event_base_free(srv->base);
		return -1;
	}
	srv->sigint = evsignal_new(srv->base, SIGINT, example_on_signal, srv->base);
	srv->sigterm = evsignal_new(srv->base, SIGTERM, example_on_signal, srv->base);
	event_add(srv->sigint, NULL);
	event_add(srv->sigterm, NULL);

	getsockname(evconnlistener_get_fd(srv->lev), (struct sockaddr *)&bound, &len);
	printf("listening on port %d (%s)\n", ntohs(((struct sockaddr_in *)&bound)->sin_port),
	    event_base_get_method(srv->base));
	fflush(stdout);
	return 0;
}

/* Frees what example_server_start made (after the caller freed its connections) and
 * prints "bye". */
static inline void example_server_finish(struct example_server *srv)
{
	event_free(srv->sigint);
	event_free(srv->sigterm);
	evconnlistener_free(srv->lev);
	event_base_free(srv->base);
	printf("bye\n");
}

#endif
