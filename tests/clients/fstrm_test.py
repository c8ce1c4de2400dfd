#!/usr/bin/env python3
"""fstrm_capture 0.6.1 (Debian's fstrm-bin, the Frame Streams capture daemon) as an
end-to-end client of the library.

fstrm_capture takes Frame Streams writers on a Unix or TCP listener (evconnlistener_new_bind,
disabled at -c connections and enabled again when one closes), gives each a socket
bufferevent with a read high-water mark of -b bytes (frames that do not fit are skipped), runs
the bidirectional handshake (READY -> ACCEPT, START, data frames, STOP -> FINISH, and closes
once FINISH is written: a write callback), peeks data frames out of the input evbuffer
(evbuffer_peek) into one output file, rotates that file on SIGUSR1 (an EV_SIGNAL event) or
every -s seconds, flushes it on SIGHUP, and stops on SIGINT/SIGTERM through a plain
sigaction handler that calls event_base_loopexit.

The Frame Streams encoding used here, in our own words: a data frame is a 32-bit big-endian
length (never 0) and that many bytes; a control frame is a 0 "escape" length, a 32-bit
length of the rest, a 32-bit type (ACCEPT 1, START 2, STOP 3, READY 4, FINISH 5) and fields
(32-bit type, 32-bit length, bytes; field 1 = content type). A file is START(content type),
data frames, STOP. Every payload starts with "<writer>:<seq>:" so the output can be checked
per writer, frame by frame.

  1. Unix socket, default 256 KiB buffer, -ddd: fstrm_replay of a file written here, and ten
     writers at once: four with 150 random frames in one burst, two with frames of
     64 KiB - 256 KiB (just under the high-water mark), one dribbling 40 frames in 1-9 byte
     writes, one that drops mid-frame after 10 frames, one with the wrong content type
     (closed without ACCEPT), one with a 300000-byte frame between small ones (skipped,
     "Skipping 300004 byte message"). Every completed writer gets FINISH then EOF; the
     capture's "closing (read N frames, M bytes)" lines match the writers exactly.
     SIGHUP flushes: the file then holds every frame so far. Rotation: the file is renamed,
     SIGUSR1 closes it (STOP) and opens a fresh one, which the next writers fill. SIGTERM
     with a writer still connected: exit 0, "shutting down", the file ends with STOP.
  2. TCP on 127.0.0.1, -c 2 -b 65536 -s 1 --gmtime: a third writer gets no ACCEPT while two
     are connected and gets it as soon as one finishes; a 70000-byte frame is skipped, also
     when it comes in one write after a pause (reevent hung there: see w_oversize_at_once); one
     writer sending a frame every 0.2 s for about 2.4 s makes the capture rotate its
     time-named files (at least two, each a complete START..STOP file); SIGINT: exit 0.
Each output file is read by fstrm_dump too (its frame lengths must match our parser's).
"""

import os
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (recv_exact, Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, show_on_failure, TestFailure,
                       skip_unless_installed)

CAPTURE = "/usr/bin/fstrm_capture"
REPLAY = "/usr/bin/fstrm_replay"
DUMP = "/usr/bin/fstrm_dump"
CT = b"reev:test"
ACCEPT, START, STOP, READY, FINISH = 1, 2, 3, 4, 5


# ---- Frame Streams encoding ----

def control(kind, ctype=None):
    body = struct.pack(">I", kind)
    if ctype is not None:
        body += struct.pack(">II", 1, len(ctype)) + ctype
    return struct.pack(">II", 0, len(body)) + body


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def parse_stream(blob):
    """Frame Streams file -> (content type, [payloads], ended with STOP)."""
    pos, ctype, frames, stopped = 0, None, [], False

    def u32(p):
        check(p + 4 <= len(blob), "truncated Frame Streams data at byte %d" % p)
        return struct.unpack(">I", blob[p:p + 4])[0]
    while pos < len(blob):
        check(not stopped, "data after STOP at byte %d" % pos)
        n = u32(pos)
        pos += 4
        if n:
            check(ctype is not None, "data frame before START")
            check(pos + n <= len(blob), "truncated data frame at byte %d" % pos)
            frames.append(blob[pos:pos + n])
            pos += n
            continue
        clen = u32(pos)
        body = blob[pos + 4:pos + 4 + clen]
        check(len(body) == clen and clen >= 4, "bad control frame at byte %d" % pos)
        pos += 4 + clen
        kind = struct.unpack(">I", body[:4])[0]
        if kind == START:
            check(ctype is None, "second START")
            ftype, flen = struct.unpack(">II", body[4:12])
            check(ftype == 1, "START field type %d" % ftype)
            ctype = body[12:12 + flen]
        elif kind == STOP:
            stopped = True
        else:
            raise TestFailure("control frame type %d in a file" % kind)
    return ctype, frames, stopped


def payload(writer, seq, size, rng):
    head = b"%d:%d:" % (writer, seq)
    return head + rng.randbytes(max(0, size - len(head)))


def writer_of(p):
    return int(p.split(b":", 1)[0])


# ---- a writer (the Frame Streams sender side) ----

def read_control(s):
    zero, clen = struct.unpack(">II", recv_exact(s, 8))
    if zero != 0:
        raise TestFailure("expected a control frame, got a %d-byte data frame" % zero)
    body = recv_exact(s, clen)
    return struct.unpack(">I", body[:4])[0], body[4:]


def expect_eof(s, what):
    s.settimeout(10)
    rest = s.recv(100)
    check(rest == b"", "%s: expected EOF from fstrm_capture, got %r" % (what, rest[:40]))


def open_writer(addr, ctype=CT):
    s = socket.socket(socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET)
    s.settimeout(10)
    s.connect(addr)
    s.sendall(control(READY, ctype))
    return s


def handshake(s, what):
    kind, fields = read_control(s)
    check(kind == ACCEPT and fields == struct.pack(">II", 1, len(CT)) + CT,
          "%s: expected ACCEPT(%s), got type %d %r" % (what, CT.decode(), kind, fields))
    s.sendall(control(START, CT))


def finish(s, what):
    s.sendall(control(STOP))
    kind, _ = read_control(s)
    check(kind == FINISH, "%s: expected FINISH, got control type %d" % (what, kind))
    expect_eof(s, what)
    s.close()


class Writers:
    """Runs writer functions in threads; keeps what each one got through (writer -> frames)
    and its expected "closing (read N frames, M bytes)" pair."""

    def __init__(self):
        self.sent = {}
        self.closings = []
        self.errors = []
        self.threads = []
        self.lock = threading.Lock()

    def start(self, fn, *args):
        def run():
            try:
                fn(self, *args)
            except Exception as ex:  # noqa: BLE001 - reported by join()
                with self.lock:
                    self.errors.append("%s%r: %s: %s" % (fn.__name__, args, type(ex).__name__,
                                                         ex))
        t = threading.Thread(target=run, daemon=True)
        t.start()
        self.threads.append(t)

    def done(self, writer, frames, closing=True):
        with self.lock:
            self.sent[writer] = frames
            if closing:
                self.closings.append((len(frames), sum(len(f) + 4 for f in frames)))

    def join(self, timeout=30):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.1, deadline - time.monotonic()))
            check(not t.is_alive(), "a writer is still running after %d s" % timeout)
        self.threads = []
        check(not self.errors, "writers failed:\n  " + "\n  ".join(self.errors))


def w_burst(ws, addr, writer, n, lo, hi):
    rng = random.Random(writer)
    frames = [payload(writer, i, rng.randint(lo, hi), rng) for i in range(n)]
    s = open_writer(addr)
    handshake(s, "writer %d" % writer)
    s.sendall(b"".join(frame(f) for f in frames))
    finish(s, "writer %d" % writer)
    ws.done(writer, frames)


def w_large(ws, addr, writer):
    rng = random.Random(writer)
    sizes = [200000, 262000, 131072, 65536, 250000, 1 << 16 | 1, 17]
    frames = [payload(writer, i, n, rng) for i, n in enumerate(sizes)]
    s = open_writer(addr)
    handshake(s, "writer %d" % writer)
    for f in frames:
        s.sendall(frame(f))
    finish(s, "writer %d" % writer)
    ws.done(writer, frames)


def w_dribble(ws, addr, writer):
    rng = random.Random(writer)
    frames = [payload(writer, i, rng.randint(12, 600), rng) for i in range(40)]
    blob = b"".join(frame(f) for f in frames)
    s = open_writer(addr)
    handshake(s, "writer %d" % writer)
    pos, k = 0, 0
    while pos < len(blob):
        n = rng.randint(1, 9)
        s.sendall(blob[pos:pos + n])
        pos += n
        k += 1
        if k % 40 == 0:
            time.sleep(0.002)
    finish(s, "writer %d" % writer)
    ws.done(writer, frames)


def w_drop(ws, addr, writer):
    rng = random.Random(writer)
    frames = [payload(writer, i, rng.randint(20, 900), rng) for i in range(10)]
    partial = frame(payload(writer, 10, 5000, rng))[:2000]
    s = open_writer(addr)
    handshake(s, "writer %d" % writer)
    s.sendall(b"".join(frame(f) for f in frames) + partial)
    time.sleep(0.05)
    s.close()  # mid-frame: the capture sees EOF with 2000 bytes of a 5004-byte frame
    ws.done(writer, frames)


def w_wrong_type(ws, addr, writer):
    s = open_writer(addr, b"other:type")
    expect_eof(s, "writer %d (wrong content type)" % writer)
    s.close()
    ws.done(writer, [], closing=True)


def w_oversize(ws, addr, writer, big):
    rng = random.Random(writer)
    small = [payload(writer, i, rng.randint(10, 200), rng) for i in range(6)]
    huge = frame(payload(writer, 99, big, rng))
    s = open_writer(addr)
    handshake(s, "writer %d" % writer)
    s.sendall(b"".join(frame(f) for f in small[:3]) + huge[:1000])
    time.sleep(0.05)  # the capture sees the oversized frame's length before it fills up
    s.sendall(huge[1000:])
    s.sendall(b"".join(frame(f) for f in small[3:]))
    finish(s, "writer %d" % writer)
    ws.done(writer, small)


def w_oversize_at_once(ws, addr, writer, big):
    """The oversized frame comes in one write after the capture drained everything: a
    library that reads it up to the high-water mark at once leaves the callback nothing it
    can drain (reevent did, before reading at most 4096 bytes at a time under a mark)."""
    rng = random.Random(writer)
    small = [payload(writer, i, rng.randint(10, 200), rng) for i in range(4)]
    s = open_writer(addr)
    handshake(s, "writer %d" % writer)
    s.sendall(b"".join(frame(f) for f in small[:2]))
    time.sleep(0.2)
    s.sendall(frame(payload(writer, 99, big, rng)))
    time.sleep(0.2)
    s.sendall(b"".join(frame(f) for f in small[2:]))
    finish(s, "writer %d (oversized frame in one write)" % writer)
    ws.done(writer, small)


# ---- the daemon ----

class Capture:
    def __init__(self, e, name, args):
        self.e = e
        self.name = name
        self.logpath = show_on_failure(os.path.join(e.tmp, name + ".log"))
        self.p = e.spawn([CAPTURE, "-t", CT.decode()] + args, stdout=subprocess.DEVNULL,
                         stderr=open(self.logpath, "w"))

    def text(self):
        with open(self.logpath, errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, count=1, timeout=10):
        deadline = time.monotonic() + timeout
        while len(re.findall(pattern, self.text(), re.M)) < count:
            check(self.p.poll() is None, "fstrm_capture %s exited %s: %s"
                  % (self.name, self.p.returncode, self.text()[-1500:]))
            check(time.monotonic() < deadline, "fstrm_capture %s did not log %r (x%d) within "
                  "%d s: %s" % (self.name, pattern, count, timeout, self.text()[-1500:]))
            time.sleep(0.02)

    def stop(self, sig):
        self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise TestFailure("fstrm_capture %s did not exit within 10 s of %s"
                              % (self.name, sig.name))
        text = self.text()
        check(rc == 0, "fstrm_capture %s exited %d after %s: %s" % (self.name, rc, sig.name,
                                                                  text[-1000:]))
        check(re.search(r"^fstrm_capture: shutting down$", text, re.M),
              "fstrm_capture %s did not log shutting down: %s" % (self.name, text[-1000:]))

    def closings(self):
        return sorted((int(a), int(b)) for a, b in re.findall(
            r"^fstrm_capture: connection fd \d+: closing \(read (\d+) frames, (\d+) bytes\)$",
            self.text(), re.M))


def read_file(path, want_stop=True):
    with open(path, "rb") as f:
        ctype, frames, stopped = parse_stream(f.read())
    check(ctype == CT, "%s: content type %r" % (path, ctype))
    check(stopped == want_stop, "%s: STOP at the end is %s, want %s" % (path, stopped,
                                                                      want_stop))
    return frames


def dump_agrees(e, path, frames):
    """fstrm_dump (no libevent) reads the file: same frame lengths as our parser."""
    r = subprocess.run([DUMP, path], capture_output=True, timeout=30)
    check(r.returncode == 0, "fstrm_dump %s exited %d: %s" % (path, r.returncode, r.stderr[-500:]))
    err = r.stderr.decode(errors="replace")
    lens = [int(n) for n in re.findall(r"^Data frame \((\d+)\) bytes\.$", err, re.M)]
    check(lens == [len(f) for f in frames], "fstrm_dump %s: %d frames %s..., ours %d"
          % (path, len(lens), lens[:5], len(frames)))
    check(err.startswith("FSTRM_CONTROL_START.\nFSTRM_CONTROL_FIELD_CONTENT_TYPE (%d bytes).\n"
                         " \"%s\"\n" % (len(CT), CT.decode())) and
          err.endswith("FSTRM_CONTROL_STOP.\n"), "fstrm_dump %s framing: %s ... %s"
          % (path, err[:200], err[-100:]))
    check(len(r.stdout.splitlines()) == len(frames), "fstrm_dump printed %d data lines for %d "
          "frames" % (len(r.stdout.splitlines()), len(frames)))


def check_per_writer(frames, sent, what):
    got = {}
    for f in frames:
        got.setdefault(writer_of(f), []).append(f)
    for w, want in sorted(sent.items()):
        have = got.pop(w, [])
        if have != want:
            n = next((i for i, (a, b) in enumerate(zip(have, want)) if a != b),
                     min(len(have), len(want)))
            raise TestFailure("%s: writer %d: %d frames captured, %d sent; first difference at "
                              "frame %d" % (what, w, len(have), len(want), n))
    check(not got, "%s: frames from unknown writers %s" % (what, sorted(got)))


def wait_until(pred, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not pred():
        check(time.monotonic() < deadline, "%s: not within %d s" % (what, timeout))
        time.sleep(0.02)


def wait_socket(cap, sock):
    wait_until(lambda: os.path.exists(sock) or cap.p.poll() is not None, "socket " + sock)
    check(cap.p.poll() is None, "fstrm_capture exited at start: %s" % cap.text()[-1000:])


def body():
    args = parse_args()
    e = Env(args, "fstrm")
    verify_ldd(e, CAPTURE)
    skip_unless_importable(e, CAPTURE)
    skip_unless_installed((REPLAY, "fstrm-bin"), (DUMP, "fstrm-bin"))
    t_start = time.monotonic()

    # ---- 1. Unix socket ----
    sock = os.path.join(e.tmp, "cap.sock")
    out = os.path.join(e.tmp, "out.fstrm")
    cap = Capture(e, "unix", ["-u", sock, "-w", out, "-ddd"])
    wait_socket(cap, sock)
    cap.wait_log(r"^fstrm_capture: opened output file %s$" % re.escape(out))
    verify_mapped(e, cap.p.pid, "fstrm_capture")

    rng = random.Random(90)
    replayed = [payload(90, i, rng.randint(5, 2000), rng) for i in range(50)]
    rfile = os.path.join(e.tmp, "replay.fstrm")
    with open(rfile, "wb") as f:
        f.write(control(START, CT) + b"".join(frame(p) for p in replayed) + control(STOP))
    r = subprocess.run([REPLAY, "-t", CT.decode(), "-u", sock, "-r", rfile], capture_output=True,
                       text=True, timeout=20)
    check(r.returncode == 0, "fstrm_replay exited %d: %s%s" % (r.returncode, r.stdout, r.stderr))
    cap.wait_log(r"closing \(read 50 frames, ")

    ws = Writers()
    ws.done(90, replayed)
    t0 = time.monotonic()
    for w in range(1, 5):
        ws.start(w_burst, sock, w, 150, 1 + 12, 3000)
    ws.start(w_large, sock, 5)
    ws.start(w_large, sock, 6)
    ws.start(w_dribble, sock, 7)
    ws.start(w_drop, sock, 8)
    ws.start(w_wrong_type, sock, 9)
    ws.start(w_oversize, sock, 10, 300000)
    ws.join()
    n_conns = len(ws.closings)
    cap.wait_log(r"closing \(read", count=n_conns)
    t_writers = time.monotonic() - t0
    check(cap.closings() == sorted(ws.closings), "closing lines %s, expected %s"
          % (cap.closings(), sorted(ws.closings)))
    check(re.search(r"^fstrm_capture: connection fd \d+: Skipping 300004 byte message "
                    r"\(262144 buffer\)$", cap.text(), re.M),
          "no 'Skipping 300004 byte message' line: %s" % cap.text()[-1500:])
    check(re.search(r'no CONTENT_TYPE matching: "reev:test"', cap.text()),
          "the wrong content type was not logged")
    total = sum(len(v) for v in ws.sent.values())
    log("unix: replay + 10 writers at once (%d frames, %.1f MB) in %.2f s; %d closing lines "
        "match" % (total, sum(len(f) for v in ws.sent.values() for f in v) / 1e6, t_writers,
                   n_conns))

    # SIGHUP: everything so far is in the file (no STOP yet)
    cap.p.send_signal(signal.SIGHUP)
    cap.wait_log(r"^fstrm_capture: received SIGHUP, flushing output$")
    frames = read_file(out, want_stop=False)
    check_per_writer(frames, ws.sent, "after SIGHUP")
    log("SIGHUP: the file holds all %d frames, in order per writer" % len(frames))

    # SIGUSR1 rotation: the renamed file gets its STOP, a fresh one is opened
    first = os.path.join(e.tmp, "out.1.fstrm")
    os.rename(out, first)
    cap.p.send_signal(signal.SIGUSR1)
    cap.wait_log(r"^fstrm_capture: received SIGUSR1, rotating output file$")
    cap.wait_log(r"^fstrm_capture: opened output file %s$" % re.escape(out), count=2)
    frames = read_file(first)
    check_per_writer(frames, ws.sent, "rotated file")
    dump_agrees(e, first, frames)

    ws2 = Writers()
    for w in (11, 12):
        ws2.start(w_burst, sock, w, 100, 13, 5000)
    ws2.join()
    # a writer still connected at SIGTERM: what it sent (flushed by SIGHUP) is kept
    rng = random.Random(13)
    open_frames = [payload(13, i, rng.randint(20, 400), rng) for i in range(3)]
    s = open_writer(sock)
    handshake(s, "writer 13")
    s.sendall(b"".join(frame(f) for f in open_frames))
    ws2.done(13, open_frames, closing=False)
    n_hup = len(re.findall("received SIGHUP", cap.text()))

    def flushed():
        cap.p.send_signal(signal.SIGHUP)
        cap.wait_log(r"received SIGHUP", count=n_hup + 1)
        try:
            got = read_file(out, want_stop=False)
        except TestFailure:
            return False
        return sum(1 for f in got if writer_of(f) == 13) == 3
    wait_until(flushed, "writer 13's frames in the file")
    cap.stop(signal.SIGTERM)
    expect_eof(s, "writer 13 (open at SIGTERM)")
    s.close()
    frames = read_file(out)
    check_per_writer(frames, ws2.sent, "second file")
    dump_agrees(e, out, frames)
    check(re.search(r"^fstrm_capture: closed output file %s \(wrote %d frames, \d+ bytes\)$"
                    % (re.escape(out), len(frames) + 2), cap.text(), re.M),
          "no final 'closed output file' line: %s" % cap.text()[-600:])
    log("SIGUSR1 rotated (renamed file complete with STOP, %d frames in the new one); "
        "SIGTERM with a writer connected: exit 0, file ends with STOP" % len(frames))

    # ---- 2. TCP, -c 2, -b 65536, -s 1 ----
    port = e.free_port()
    pattern = os.path.join(e.tmp, "tcp-%s.fstrm")
    cap2 = Capture(e, "tcp", ["-a", "127.0.0.1", "-p", str(port), "-c", "2", "-b", "65536",
                              "-s", "1", "--gmtime", "-w", pattern, "-ddd"])
    addr = ("127.0.0.1", port)
    cap2.wait_log(r"^fstrm_capture: opened output file ")
    wait_until(lambda: socket.socket().connect_ex(addr) == 0, "TCP listener up")  # noqa
    cap2.wait_log(r"closing \(read 0 frames, 0 bytes\)")  # that probe
    ws3 = Writers()
    a = open_writer(addr)
    handshake(a, "tcp writer a")
    b = open_writer(addr)
    handshake(b, "tcp writer b")
    c = open_writer(addr)
    c.settimeout(0.5)
    try:
        kind, _ = read_control(c)
        raise TestFailure("a third connection got control type %d with -c 2" % kind)
    except socket.timeout:
        pass
    c.settimeout(10)
    finish(a, "tcp writer a")
    handshake(c, "tcp writer c (after a closed)")
    log("TCP -c 2: a third writer waited for ACCEPT until one of two finished")
    rng = random.Random(21)
    frames_b = []
    t0 = time.monotonic()
    for i in range(12):  # ~2.4 s: the capture rotates when a frame comes a second later
        frames_b.append(payload(21, i, rng.randint(100, 3000), rng))
        b.sendall(frame(frames_b[-1]))
        time.sleep(0.2)
    finish(b, "tcp writer b")
    ws3.done(21, frames_b)
    ws3.start(w_oversize, addr, 22, 70000)
    ws3.join()
    finish(c, "tcp writer c")
    ws3.start(w_burst, addr, 23, 60, 13, 20000)
    ws3.join()
    ws3.start(w_oversize_at_once, addr, 24, 70000)
    ws3.join()
    check(len(re.findall(r"Skipping 70004 byte message \(65536 buffer\)", cap2.text())) == 2,
          "not two 'Skipping 70004 byte message (65536 buffer)' lines")
    cap2.stop(signal.SIGINT)
    files = sorted(f for f in os.listdir(e.tmp) if re.match(r"tcp-\d+\.fstrm$", f))
    check(len(files) >= 2, "-s 1 over %.1f s made %d file(s): %s"
          % (time.monotonic() - t0, len(files), files))
    frames = []
    for f in files:
        got = read_file(os.path.join(e.tmp, f))
        dump_agrees(e, os.path.join(e.tmp, f), got)
        frames += got
    check_per_writer(frames, ws3.sent, "TCP files")
    n_open = len(re.findall(r"^fstrm_capture: opened output file ", cap2.text(), re.M))
    check(n_open == len(files), "%d 'opened output file' lines for %d files" % (n_open,
                                                                               len(files)))
    log("TCP: %d frames over %d time-split files, all complete; oversized frame skipped; "
        "SIGINT: exit 0" % (len(frames), len(files)))
    check(not e.tagged_pids(), "processes left: %s" % e.tagged_pids())
    e.record("fstrm on %s: %d connections, %.1f s in all" % (
        e.side, len(ws.closings) + len(ws2.closings) + len(ws3.closings) + 4,
        time.monotonic() - t_start))


if __name__ == "__main__":
    main_wrapper(body)
