// event_reinit after fork (user-needs B.13): in the child the base keeps working with every
// event that was pending before the fork.
#include <sys/wait.h>

#include "event_test_util.h"

using namespace conf::ev;

class EventReinit : public conf::BackendTest {};

TEST_P(EventReinit, ChildKeepsIoAndTimerEvents) {
    conf::SocketPair sp;
    Recorder rec;
    Tagged r{&rec, 1}, t{&rec, 2};
    event *io = event_new(base(), sp[0], EV_READ | EV_PERSIST, record_cb, &r);
    event *tm = evtimer_new(base(), record_cb, &t);
    event_add(io, nullptr);
    timeval tv = conf::tv_ms(5);
    event_add(tm, &tv);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        int code = 0;
        if (event_reinit(base()) != 0) code |= 1;
        if (::write(sp[1], "x", 1) != 1) code |= 2;
        run_until(base(), [&] { return rec.count(1) && rec.count(2); }, 2000);
        if (!rec.count(1)) code |= 4;
        if (!rec.count(2)) code |= 8;
        _exit(code);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    // The parent's base is unaffected by the child's reinit.
    drain(sp[0]);
    write_byte(sp[1]);
    ASSERT_TRUE(run_until(base(), [&] { return rec.count(1) >= 1; }));
    event_free(io);
    event_free(tm);
}

CONF_INSTANTIATE_BACKENDS(EventReinit);
