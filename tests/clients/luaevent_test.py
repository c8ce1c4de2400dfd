#!/usr/bin/env python3
"""lua-event 0.4.6 (luaevent, Debian's Lua binding of libevent) as an end-to-end client of
the library, under Debian's lua5.4.

luaevent.core (liblua5.4-event.so.0) uses the old API: event_init for every base (so the
newest base is libevent's current base), event_set + event_base_set + event_add with
EV_PERSIST for every Lua event (fd events, timers with fd -1, EV_SIGNAL), event_del when a
callback returns LEAVE or an event object is closed or collected, and a re-set + re-add when a
callback returns another event kind or timeout; event_base_loop, event_base_loopexit, and
event_base_loopbreak when a Lua callback raises. Its buffer object is an evbuffer (add,
add_buffer, pullup, readline, drain, evbuffer_read/evbuffer_write on a socket) and its
bufferevent object is bufferevent_new on the current base with the old struct fields
(input/output), bufferevent_setwatermark, bufferevent_settimeout, enable/disable. luaevent.lua
puts coroutines on top (addserver, addthread, connect, send, receive) on a base of its own,
re-arming each socket's event with a zero timeout from the callback (so an I/O event that
fires by timeout is re-set every time: a busy retry until the socket is ready).

The Lua scripts are in tests/clients/luaevent/ (written for this test); each prints a
transcript in which every timing is a verdict with a tolerance ("ok"), so the transcript must
be identical to tests/clients/luaevent/<script>.expected on both libraries and on every
backend (epoll, poll, select via EVENT_NOEPOLL/EVENT_NOPOLL; only the "method" line differs):
  timers.lua  one-shot timers in deadline order, repeating timers (one changes its interval
              from its callback), closing another pending timer and itself from a callback,
              loopexit with a timeout (and the next loop goes on), a Lua error breaking the
              loop with later timers kept, SIGUSR1 as an EV_SIGNAL event (kill from a timer),
              events added from a callback (a zero timeout fires on the next pass), loop
              return values (1 with no events, 0 after loopexit);
  io.lua      the evbuffer object, a TCP echo on loopback (6 clients x ~300 KB at once; the
              server's single event per connection switches between EV_READ and EV_WRITE by
              returning the next kind; it reads and writes with evbuffer_read/_write), and the
              bufferevent object without its callbacks (luaevent 0.4.6 cannot run them: it
              looks the object up in a weak table nothing fills; Debian's libevent then
              crashes), freed when Lua collects it;
  coro.lua    luaevent.lua's coroutine API: a line server and 4 clients, one line of 800 KB.
The scripts end with os.exit without closing the Lua state: luaevent frees a bufferevent's
evbuffers twice at lua_close (Debian's libevent asserts).
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, TestFailure, skip_unless_installed)

LUA = "/usr/bin/lua5.4"
CORE = "/usr/lib/x86_64-linux-gnu/lua/5.4/luaevent/core.so"
HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "luaevent")
BACKENDS = (("epoll", {}), ("poll", {"EVENT_NOEPOLL": "1"}),
            ("select", {"EVENT_NOEPOLL": "1", "EVENT_NOPOLL": "1"}))


def body():
    args = parse_args()
    e = Env(args, "luaevent")
    skip_unless_installed((LUA, "lua5.4"), (CORE, "lua-event"),
                          ("/usr/share/lua/5.4/socket.lua", "lua-socket"))
    verify_ldd(e, CORE)
    skip_unless_importable(e, CORE)
    maps_out = os.path.join(e.tmp, "maps.txt")
    t_all = time.monotonic()
    times = []
    for backend, extra in BACKENDS:
        for script in ("timers", "io", "coro"):
            env = e.env()
            for k in ("EVENT_NOEPOLL", "EVENT_NOPOLL", "EVENT_NOSELECT", "EVENT_SHOW_METHOD"):
                env.pop(k, None)
            env.update(extra)
            env["LUAEVENT_MAPS_OUT"] = maps_out
            t0 = time.monotonic()
            try:
                r = subprocess.run([LUA, os.path.join(SCRIPTS, script + ".lua")], env=env,
                                   capture_output=True, text=True, timeout=40,
                                   start_new_session=True)
            except subprocess.TimeoutExpired as ex:
                raise TestFailure("%s.lua on %s: still running after 40 s; output so far:\n%s"
                                  % (script, backend, ex.stdout))
            dt = time.monotonic() - t0
            times.append("%s/%s %.2f s" % (script, backend, dt))
            with open(os.path.join(SCRIPTS, script + ".expected")) as f:
                want = f.read().replace("\nmethod epoll\n", "\nmethod %s\n" % backend)
            if r.returncode != 0 or r.stdout != want:
                import difflib
                diff = "".join(difflib.unified_diff(want.splitlines(True),
                                                    r.stdout.splitlines(True),
                                                    "%s.expected" % script, "output"))
                raise TestFailure("%s.lua on %s (%s): exit %d, transcript differs:\n%s\n"
                                  "stderr:\n%s" % (script, backend, e.side, r.returncode, diff,
                                                   r.stderr[-2000:]))
            if script == "timers":
                with open(maps_out) as f:
                    maps = [os.path.realpath(l.strip()) for l in f if l.strip()]
                ours = [m for m in maps if os.path.dirname(m) == e.lib_dir]
                if e.side == "reevent":
                    check(ours and len(ours) == len(maps), "lua5.4 on %s mapped %s, not only "
                          "our libraries in %s" % (backend, maps, e.lib_dir))
                else:
                    check(maps and not ours, "lua5.4 mapped %s on the libevent side" % maps)
                if backend == "epoll":
                    log("lua5.4 with luaevent.core maps %s" % sorted(set(maps)))
            log("%s.lua on %s: transcript identical to %s.expected (%.2f s)"
                % (script, backend, script, dt))
    check(not e.tagged_pids(), "processes left: %s" % e.tagged_pids())
    e.record("luaevent on %s: 3 scripts x 3 backends, %.1f s (%s)"
             % (e.side, time.monotonic() - t_all, ", ".join(times)))


if __name__ == "__main__":
    main_wrapper(body)
