/* A small libevent program for the signal soak (tests/soak/signals.sh): a FIFO read event and
 * an EV_SIGNAL event for SIGINT (and one for SIGUSR1), like libevent's event-read-fifo sample,
 * in a few shapes. SIGINT ends the loop; the program then exits 0. Built against reevent or the
 * system libevent by signals.py; plain C, public API only.
 *
 *   sigsoak MODE FIFO
 *     plain    one thread: SIGINT + SIGUSR1 signal events, FIFO read event, dispatch.
 *     thread   the loop runs on a second thread; the main thread waits in pthread_join with
 *              every signal unblocked, so the kernel usually runs the handler there while the
 *              loop thread sleeps in poll/epoll_wait/select.
 *     churn    as plain, plus a 0 s timer, re-added by its callback (so it runs once per loop
 *              pass, with a non-blocking backend poll between), whose callback adds and deletes a second
 *              SIGINT event, a SIGWINCH event (its handler installed and restored each time)
 *              and an fd event, so SIGINT arrives during event_add/event_del.
 *     selfrace as plain, plus a helper thread that spins on sigaction(SIGUSR1) and raises
 *              SIGUSR1 the moment a handler appears (during event_add of the SIGUSR1 event);
 *              the SIGUSR1 callback ends the loop, so a signal lost there is a hang.
 *     racer N  the selfrace probe N times in one process, on SIGWINCH (ignored by default, so
 *              a late one is harmless): event_add, the helper sends SIGWINCH as soon as the
 *              handler appears, the loop must run the callback (500 ms bound), event_del
 *              (the handler is restored), again. Prints "lost L of N"; exit status 3 if L > 0.
 *
 * Before creating the base it prints "Write data to FIFO" on stderr (as the sample does); after
 * the last event_add, before dispatch, "ready" on stdout. */
#include <event2/event.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct event_base *base;
static struct event *ev_int, *ev_int2, *ev_usr1, *ev_fifo, *ev_churn, *ev_winch, *ev_pipe;
static int pipe_fds[2];
static long churns;
static const struct timeval zero = {0, 0};

static void on_fifo(evutil_socket_t fd, short what, void *arg) {
    char buf[256];
    ssize_t n = read(fd, buf, sizeof buf);
    (void)what;
    (void)arg;
    if (n == 0) event_del(ev_fifo); /* writer gone; keep waiting for SIGINT */
}

static void on_int(evutil_socket_t sig, short what, void *arg) {
    (void)sig;
    (void)what;
    (void)arg;
    event_base_loopbreak(base);
}

static void on_usr1(evutil_socket_t sig, short what, void *arg) {
    (void)sig;
    (void)what;
    if (arg) event_base_loopbreak(base);
}

static void on_nothing(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    (void)arg;
}

static void on_churn(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    (void)arg;
    event_add(ev_int2, NULL);
    event_add(ev_winch, NULL);
    event_add(ev_pipe, NULL);
    event_del(ev_pipe);
    event_del(ev_winch);
    event_del(ev_int2);
    ++churns;
    event_add(ev_churn, &zero); /* a 0 s timer: once per loop pass, the backend polls between */
}

static void *raiser(void *arg) {
    (void)arg;
    for (;;) {
        struct sigaction sa;
        if (sigaction(SIGUSR1, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
            sa.sa_handler != SIG_IGN) {
            kill(getpid(), SIGUSR1);
            return NULL;
        }
    }
}

static atomic_int racer_gen, racer_done;

static void *racer(void *arg) {
    int gen = 0;
    (void)arg;
    for (;;) {
        struct sigaction sa;
        int want;
        while ((want = atomic_load(&racer_gen)) == gen) sched_yield();
        if (want < 0) return NULL;
        gen = want;
        do {
            sigaction(SIGWINCH, NULL, &sa);
        } while (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN);
        kill(getpid(), SIGWINCH);
        atomic_store(&racer_done, gen);
    }
}

static int racer_hits;
static void on_winch(evutil_socket_t sig, short what, void *arg) {
    (void)sig;
    (void)what;
    (void)arg;
    ++racer_hits;
    event_base_loopbreak(base);
}

static int run_racer(int n) {
    pthread_t t;
    struct timeval bound = {0, 500000};
    int i, lost = 0;
    struct event *ev = evsignal_new(base, SIGWINCH, on_winch, NULL);
    if (!ev || pthread_create(&t, NULL, racer, NULL) != 0) return 1;
    for (i = 1; i <= n; ++i) {
        int before = racer_hits;
        atomic_store(&racer_gen, i);
        event_add(ev, NULL);
        while (atomic_load(&racer_done) != i) sched_yield();
        event_base_loopexit(base, &bound);
        event_base_dispatch(base);
        if (racer_hits == before) ++lost;
        event_del(ev);
    }
    atomic_store(&racer_gen, -1);
    pthread_join(t, NULL);
    event_free(ev);
    printf("lost %d of %d\n", lost, n);
    return lost ? 3 : 0;
}

static void *run_loop(void *arg) {
    (void)arg;
    event_base_dispatch(base);
    return NULL;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "plain";
    const char *fifo = argc > 2 ? argv[2] : "sigsoak.fifo";
    int selfrace = strcmp(mode, "selfrace") == 0;
    pthread_t helper;
    int fd;

    setvbuf(stdout, NULL, _IONBF, 0);
    unlink(fifo);
    if (mkfifo(fifo, 0600) != 0) {
        perror("mkfifo");
        return 1;
    }
    fd = open(fifo, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        perror("open");
        return 1;
    }
    fprintf(stderr, "Write data to %s\n", fifo);
    base = event_base_new();
    if (!base) return 1;
    if (strcmp(mode, "racer") == 0) {
        int r = run_racer(argc > 3 ? atoi(argv[3]) : 200);
        event_base_free(base);
        close(fd);
        unlink(fifo);
        return r;
    }
    if (selfrace && pthread_create(&helper, NULL, raiser, NULL) != 0) return 1;
    ev_int = evsignal_new(base, SIGINT, on_int, NULL);
    ev_usr1 = evsignal_new(base, SIGUSR1, on_usr1, selfrace ? base : NULL);
    ev_fifo = event_new(base, fd, EV_READ | EV_PERSIST, on_fifo, NULL);
    if (!ev_int || !ev_usr1 || !ev_fifo) return 1;
    event_add(ev_int, NULL);
    event_add(ev_usr1, NULL);
    event_add(ev_fifo, NULL);
    if (strcmp(mode, "churn") == 0) {
        if (pipe(pipe_fds) != 0) return 1;
        ev_int2 = evsignal_new(base, SIGINT, on_nothing, NULL);
        ev_winch = evsignal_new(base, SIGWINCH, on_nothing, NULL);
        ev_pipe = event_new(base, pipe_fds[0], EV_READ, on_nothing, NULL);
        ev_churn = evtimer_new(base, on_churn, NULL);
        if (!ev_int2 || !ev_winch || !ev_pipe || !ev_churn) return 1;
        event_add(ev_churn, &zero);
    }
    printf("ready\n");
    if (strcmp(mode, "thread") == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, run_loop, NULL) != 0) return 1;
        pthread_join(t, NULL);
    } else {
        event_base_dispatch(base);
    }
    if (selfrace) pthread_join(helper, NULL);
    if (ev_churn) {
        event_free(ev_churn);
        event_free(ev_int2);
        event_free(ev_winch);
        event_free(ev_pipe);
        close(pipe_fds[0]);
        close(pipe_fds[1]);
    }
    event_free(ev_int);
    event_free(ev_usr1);
    event_free(ev_fifo);
    event_base_free(base);
    close(fd);
    unlink(fifo);
    return 0;
}
