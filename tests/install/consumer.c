/* A plain C consumer of the installed reevent: a timer and a socketpair read on one base.
 * Built by consumer_test.sh through pkg-config (shared and static) and find_package. */
#include <event2/event.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int got_read, got_timer;

static void on_read(evutil_socket_t fd, short what, void *arg) {
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf);
    got_read = (n == 5 && memcmp(buf, "hello", 5) == 0);
    (void)what; (void)arg;
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
    got_timer = (what & EV_TIMEOUT) != 0;
    event_base_loopexit((struct event_base *)arg, NULL);
    (void)fd;
}

int main(void) {
    int sv[2];
    struct timeval tv = {0, 20000};
    struct event_base *base = event_base_new();
    if (!base || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 2;
    struct event *rd = event_new(base, sv[0], EV_READ, on_read, NULL);
    struct event *tm = evtimer_new(base, on_timer, base);
    event_add(rd, NULL);
    evtimer_add(tm, &tv);
    if (write(sv[1], "hello", 5) != 5) return 3;
    event_base_dispatch(base);
    printf("consumer: %s %s method=%s version=%s\n", got_read ? "read" : "no-read",
           got_timer ? "timer" : "no-timer", event_base_get_method(base), event_get_version());
    event_free(rd);
    event_free(tm);
    event_base_free(base);
    close(sv[0]);
    close(sv[1]);
    return got_read && got_timer ? 0 : 1;
}
