#!/usr/bin/env python3
"""remctl-shell 3.18 (Debian's remctl-server: the restricted shell that runs remctl commands
over ssh) as an end-to-end client of the library.

remctl-shell shares remctld's command runner (server/process.c), written on libevent 2: a
base per command, an EV_SIGNAL event for SIGCHLD (evsignal_new), the fork itself from an
immediate event_base_once, socketpairs to the child (stdin+stdout, stderr) under
bufferevent_socket_new with setcb / setwatermark / enable / disable / read_buffer /
write_buffer, evbuffer_write to its own stdout and stderr, event_base_loopexit once the
child is reaped, then EVLOOP_NONBLOCK rounds of event_base_loop until no more output comes
(event_base_got_break, loopbreak on errors), event_set_log_callback and
event_set_fatal_callback. It is started the way sshd would start it (SSH_CONNECTION and
REMCTL_USER in the environment, the command in -c) with a config of test commands:
  1. a command writing 3 MiB to stdout and 70000 bytes to stderr: both arrive exact (sha256),
     exit 0, and again when our end of stdout reads nothing for 1 s first (our pipe fills
     up: remctl-shell must wait for it while the child keeps writing);
  2. stdout and stderr interleaved, exit 7: both streams in order, remctl-shell exits 7;
  3. stdin=last: the last argument reaches the command's stdin (100 KiB, more than the
     socketpair holds at once), the command's output comes back;
  4. the environment the command gets (REMOTE_USER, REMCTL_COMMAND), and the help summary;
  5. an unknown command: "Unknown command", exit 255; a command under an ACL that alice is
     not in: "Access denied", exit 255;
  6. our end of stdout closes after 10 bytes: remctl-shell gives up and exits (it logs the
     broken pipe to syslog).
"""

import hashlib
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, TestFailure)

REMCTL_SHELL = "/usr/sbin/remctl-shell"
BIG = 3 << 20
ERR = 70000

SCRIPT = r"""#!/usr/bin/env python3
import hashlib, os, random, sys, time
cmd = sys.argv[1]
if cmd == "big":
    sys.stdout.buffer.write(random.Random(5).randbytes(%d))
    sys.stdout.flush()
    sys.stderr.write("E" * %d)
elif cmd == "mixed":
    for i in range(1, 4):
        print("out%%d" %% i, flush=True)
        print("err%%d" %% i, file=sys.stderr, flush=True)
        time.sleep(0.05)
    sys.exit(7)
elif cmd == "stdin":
    data = sys.stdin.buffer.read()
    print(len(data), hashlib.sha256(data).hexdigest(), " ".join(sys.argv[2:]))
elif cmd == "env":
    print(os.environ.get("REMOTE_USER"), os.environ.get("REMCTL_COMMAND"), sys.argv[2:])
elif cmd == "summary":
    print("test: big mixed stdin env")
""" % (BIG, ERR)


def body():
    args = parse_args()
    e = Env(args, "remctl")
    verify_ldd(e, REMCTL_SHELL)
    skip_unless_importable(e, REMCTL_SHELL)

    script = os.path.join(e.tmp, "cmd.py")
    with open(script, "w") as f:
        f.write(SCRIPT)
    os.chmod(script, 0o755)
    conf = os.path.join(e.tmp, "remctl.conf")
    with open(conf, "w") as f:
        for sub, opts in (("big", ""), ("mixed", ""), ("stdin", "stdin=last"), ("env", ""),
                          ("summary", "")):
            f.write("test %s %s %s summary=summary ANYUSER\n" % (sub, script, opts))
        f.write("secret run %s princ:bob\n" % script)

    def shell(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw):
        env = e.env()
        env.update(SSH_CONNECTION="127.0.0.1 40000 127.0.0.1 22", REMCTL_USER="alice")
        return subprocess.Popen([REMCTL_SHELL, "-f", conf, "-c", command], env=env,
                                stdout=stdout, stderr=stderr, **kw)

    def run(command, stdin=None):
        p = shell(command, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        try:
            out, err = p.communicate(stdin, timeout=30)
        except subprocess.TimeoutExpired:
            raise TestFailure("remctl-shell -c %r still running after 30 s" % command)
        return p.returncode, out, err

    # 1. big output, read at once and read late
    want = hashlib.sha256(random.Random(5).randbytes(BIG)).hexdigest()
    rc, out, err = run("test big")
    check(rc == 0, "test big exited %d: %s" % (rc, err[-500:]))
    check(len(out) == BIG and hashlib.sha256(out).hexdigest() == want,
          "test big: %d bytes of stdout, want %d (sha256 match: %s)"
          % (len(out), BIG, hashlib.sha256(out).hexdigest() == want))
    check(err.count(b"E") == ERR, "test big: %d bytes of stderr, want %d" % (err.count(b"E"), ERR))
    r, w = os.pipe()
    # stderr to a file: a pipe we do not read would fill up and stop remctl-shell
    errfile = open(os.path.join(e.tmp, "late.err"), "wb")
    p = shell("test big", stdout=w, stderr=errfile, stdin=subprocess.DEVNULL)
    os.close(w)
    time.sleep(1.0)
    check(p.poll() is None, "remctl-shell finished although nobody read its stdout")
    data = b""
    while True:
        c = os.read(r, 1 << 16)
        if not c:
            break
        data += c
    os.close(r)
    p.wait(timeout=30)
    errfile.close()
    check(p.returncode == 0 and hashlib.sha256(data).hexdigest() == want,
          "test big read late: exit %d, %d bytes" % (p.returncode, len(data)))
    log("3 MiB stdout + %d B stderr exact, also when stdout was not read for 1 s" % ERR)

    # 2. interleaved output and an exit status
    rc, out, err = run("test mixed")
    check(rc == 7, "test mixed exited %d, want 7" % rc)
    check(out == b"out1\nout2\nout3\n", "test mixed stdout %r" % out)
    check(err == b"err1\nerr2\nerr3\n", "test mixed stderr %r" % err)
    log("stdout and stderr in order, exit status 7 passed on")

    # 3. stdin=last
    blob = "x" * (100 << 10)
    rc, out, err = run("test stdin one two %s" % blob)
    want_line = "%d %s one two" % (len(blob), hashlib.sha256(blob.encode()).hexdigest())
    check(rc == 0 and out.decode().strip() == want_line,
          "test stdin: exit %d, %r, want %r: %s" % (rc, out[:200], want_line, err[-300:]))
    log("stdin=last: 100 KiB argument arrived on the command's stdin")

    # 4. environment and summary
    rc, out, err = run("test env a b")
    check(rc == 0 and out.decode().strip() == "alice test ['a', 'b']",
          "test env: exit %d, %r" % (rc, out))
    rc, out, err = run("help")
    # (not its exit status: remctl-shell's help exits 255 here on both libraries, also with
    # a config of one command)
    check(out.decode().count("test: big mixed stdin env") == 5, "help: exit %d, %r %r"
          % (rc, out, err))
    log("the command saw REMOTE_USER alice and REMCTL_COMMAND test; help ran 5 summaries")

    # 5. refusals
    rc, out, err = run("test nope")
    check(rc == 255 and "Unknown command" in err.decode(), "unknown command: exit %d, %r"
          % (rc, err))
    rc, out, err = run("secret run")
    check(rc == 255 and "Access denied" in err.decode(), "ACL: exit %d, %r" % (rc, err))
    log("unknown command and ACL refusal: exit 255 with the message")

    # 6. a reader that goes away
    r, w = os.pipe()
    p = shell("test big", stdout=w, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    os.close(w)
    head = os.read(r, 10)
    os.close(r)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise TestFailure("remctl-shell did not exit after its stdout went away")
    check(len(head) == 10, "read %d bytes" % len(head))
    log("stdout closed after 10 bytes: remctl-shell exited %d" % p.returncode)
    e.record("remctl on %s: 3 MiB + 70000 B through remctl-shell, 100 KiB stdin: exact"
             % e.side)


if __name__ == "__main__":
    main_wrapper(body)
