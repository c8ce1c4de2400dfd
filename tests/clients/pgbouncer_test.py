#!/usr/bin/env python3
"""pgbouncer 1.18 (Debian's PostgreSQL connection pooler) as an end-to-end client.

pgbouncer keeps every client and server socket in a caller-owned struct event (event_assign),
re-arms them as connections move between its pools, runs periodic timers and handles
SIGHUP/SIGINT/SIGTERM/SIGUSR1/SIGUSR2 as libevent signal events; it binds lazily (no
BIND_NOW). A throw-away PostgreSQL cluster (initdb, trust auth, Unix socket only, in the
test's temp dir) sits behind it; postgres and pgbouncer refuse to run as root, so when the
test runs as root both run as the `postgres` user the package creates (else as whoever runs
the test). pgbouncer listens on 127.0.0.1 (transaction pooling, 4 server connections) and on
a Unix socket in the temp dir. The test:
  1. psql through pgbouncer: exact results of queries, a table written and read back, the
     admin console (SHOW VERSION, SHOW DATABASES);
  2. 40 concurrent connections of our own protocol client x 25 transactions each, all
     multiplexed onto the 4 server connections, every result checked; then a bounded pgbench
     run (4 clients, 100 transactions each, 0 failures) over TCP and over the Unix socket;
  3. SIGUSR1 (PAUSE) holds a new query back until SIGUSR2 (RESUME); SIGHUP reloads an edited
     config (a new database alias becomes usable);
  4. SIGINT (safe shutdown) waits for an open transaction, which still commits, then exits 0;
     a second pgbouncer, on the poll backend (EVENT_NOEPOLL), serves the committed row and
     takes its fast exit (status 1, as on libevent) promptly on SIGTERM with a client
     connected; no process is left. Each logs the libevent version and backend it got.
"""

import os
import pwd
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (check, log, main_wrapper, start, verify_mapped, show_on_failure,  # noqa
                       TestFailure)

PGBOUNCER = "/usr/sbin/pgbouncer"
PSQL = "/usr/bin/psql"
PGBENCH = "/usr/bin/pgbench"


def pg_bindir():
    base = "/usr/lib/postgresql"
    for v in sorted(os.listdir(base), key=lambda s: int(s) if s.isdigit() else 0, reverse=True):
        if os.path.exists(os.path.join(base, v, "bin", "postgres")):
            return os.path.join(base, v, "bin")
    raise TestFailure("no PostgreSQL server under %s" % base)


class PgConn:
    """A minimal PostgreSQL frontend (protocol 3.0, trust auth, simple queries)."""

    def __init__(self, port, db, user="postgres", timeout=20):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        body = struct.pack("!I", 196608) + b"user\0%s\0database\0%s\0\0" % (
            user.encode(), db.encode())
        self.s.sendall(struct.pack("!I", len(body) + 4) + body)
        self.buf = b""
        self._until_ready()

    def _msg(self):
        while len(self.buf) < 5 or len(self.buf) < 1 + struct.unpack("!I", self.buf[1:5])[0]:
            d = self.s.recv(65536)
            if not d:
                raise TestFailure("server closed the connection (buffered %r)" % self.buf[:200])
            self.buf += d
        n = struct.unpack("!I", self.buf[1:5])[0]
        t, body = self.buf[:1], self.buf[5:1 + n]
        self.buf = self.buf[1 + n:]
        return t, body

    def _until_ready(self):
        rows, tags, err = [], [], None
        while True:
            t, body = self._msg()
            if t == b"R":
                check(struct.unpack("!I", body[:4])[0] == 0, "authentication asked: %r" % body)
            elif t == b"E":
                err = body
            elif t == b"D":
                n = struct.unpack("!H", body[:2])[0]
                off, row = 2, []
                for _ in range(n):
                    ln = struct.unpack("!i", body[off:off + 4])[0]
                    off += 4
                    row.append(None if ln < 0 else body[off:off + ln].decode())
                    off += max(ln, 0)
                rows.append(tuple(row))
            elif t == b"C":
                tags.append(body.rstrip(b"\0").decode())
            elif t == b"Z":
                if err is not None:
                    raise TestFailure("server error: %r" % err)
                return rows, tags

    def send_query(self, sql):
        q = sql.encode() + b"\0"
        self.s.sendall(b"Q" + struct.pack("!I", len(q) + 4) + q)

    def query(self, sql):
        self.send_query(sql)
        return self._until_ready()

    def close(self):
        try:
            self.s.sendall(b"X" + struct.pack("!I", 4))
        except OSError:
            pass
        self.s.close()


def wait_until(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        try:
            if cond():
                return
        except (OSError, TestFailure):
            pass
        check(time.monotonic() < deadline, "%s within %d s" % (what, timeout))
        time.sleep(0.05)


def body():
    e = start("pgbouncer", PGBOUNCER)
    bindir = pg_bindir()

    # postgres and pgbouncer refuse to run as root.
    drop, owner = [], None
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        owner = (pw.pw_uid, pw.pw_gid)
        os.chown(e.tmp, *owner)
        # The postgres user may not reach the build tree (a 0700 clone dir): it gets a copy of
        # the libraries under test in the test's own dir, else the loader falls back silently.
        if e.side == "reevent":
            libs = os.path.join(e.tmp, "lib")
            shutil.copytree(e.lib_dir, libs, symlinks=True)
            os.chmod(libs, 0o755)
            e.lib_dir = os.path.realpath(libs)
        drop = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % pw.pw_gid,
                "--init-groups", "--"]

    def as_service(path, content):
        with open(path, "w") as f:
            f.write(content)
        if owner:
            os.chown(path, *owner)
        return path

    data = os.path.join(e.tmp, "data")
    t0 = time.monotonic()
    e.run(drop + [os.path.join(bindir, "initdb"), "-D", data, "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8", "--locale=C"], timeout=60, on_reevent=False)
    pgport = e.free_port()
    pg = e.spawn(drop + [os.path.join(bindir, "postgres"), "-D", data, "-p", str(pgport),
                         "-k", e.tmp, "-c", "listen_addresses=", "-c", "fsync=off",
                         "-c", "shared_buffers=16MB", "-c", "max_connections=30"],
                 on_reevent=False,
                 stdout=open(show_on_failure(os.path.join(e.tmp, "postgres.log")), "w"),
                 stderr=subprocess.STDOUT)
    wait_until(lambda: os.path.exists(os.path.join(e.tmp, ".s.PGSQL.%d" % pgport))
               and subprocess.run([PSQL, "-h", e.tmp, "-p", str(pgport), "-U", "postgres",
                                   "-d", "postgres", "-Atc", "select 1"],
                                  capture_output=True, timeout=10).returncode == 0,
               30, "postgres did not accept connections")
    check(pg.poll() is None, "postgres exited")
    log("PostgreSQL cluster up (initdb + start %.1f s)" % (time.monotonic() - t0))

    bport = e.free_port()
    ini = os.path.join(e.tmp, "pgbouncer.ini")
    blog = show_on_failure(as_service(os.path.join(e.tmp, "pgbouncer.log"), ""))
    as_service(os.path.join(e.tmp, "users.txt"), '"postgres" ""\n')

    def write_ini(extra_db=""):
        as_service(ini, """[databases]
testdb = host=%(d)s port=%(pg)d dbname=postgres user=postgres
%(extra)s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %(b)d
unix_socket_dir = %(d)s
auth_type = trust
auth_file = %(d)s/users.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = 4
max_client_conn = 200
logfile = %(log)s
pidfile = %(d)s/pgbouncer.pid
log_connections = 1
log_disconnections = 1
""" % {"d": e.tmp, "pg": pgport, "b": bport, "log": blog, "extra": extra_db})
    write_ini()

    def start_bouncer(method):
        # The first pgbouncer runs on the default backend (epoll), the second on poll.
        noenv = ["env", "-u", "EVENT_NOEPOLL", "-u", "EVENT_NOPOLL", "-u", "EVENT_NOSELECT"]
        p = e.spawn(noenv + (["EVENT_NOEPOLL=1"] if method == "poll" else []) + drop
                    + [PGBOUNCER, ini],
                    stdout=open(show_on_failure(os.path.join(e.tmp, "pgbouncer.stderr")), "a"),
                    stderr=subprocess.STDOUT)
        def up():
            check(p.poll() is None, "pgbouncer exited at start with %s" % p.returncode)
            socket.create_connection(("127.0.0.1", bport), timeout=1).close()
            return True
        wait_until(up, 15, "pgbouncer did not listen")
        verify_mapped(e, p.pid, "pgbouncer")
        want = re.compile(r"process up: PgBouncer [0-9.]+, libevent 2\.1\.12-stable \(%s\),"
                          % method)
        wait_until(lambda: len(want.findall(open(blog).read())) == 1, 10,
                   "pgbouncer did not log %r once" % want.pattern)
        return p

    p = start_bouncer("epoll")

    def psql(sql, db="testdb", host="127.0.0.1"):
        r = e.run([PSQL, "-h", host, "-p", str(bport), "-U", "postgres", "-d", db,
                   "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], timeout=30,
                  on_reevent=False)
        return r.stdout.strip()

    # 1. exact results through the pooler
    got = psql("select 6*7, 'reevent' || '-' || 'pgbouncer', current_user")
    check(got == "42|reevent-pgbouncer|postgres", "first query: %r" % got)
    psql("create table kv(k int primary key, v text)")
    psql("insert into kv select g, md5(g::text) from generate_series(1, 1000) g")
    got = psql("select count(*), sum(k), min(v) from kv")
    want = psql("select 1000, 500500, min(md5(g::text)) from generate_series(1, 1000) g")
    check(got == want, "table read back: %r, want %r" % (got, want))
    got = psql("select v from kv where k = 500", host=e.tmp)
    check(got == "cee631121c2ec9232f3a2f028ad5c89b", "Unix socket query: %r" % got)
    ver = psql("show version", db="pgbouncer")
    check(ver.startswith("PgBouncer 1."), "SHOW VERSION: %r" % ver)
    dbs = psql("show databases", db="pgbouncer")
    check(any(l.startswith("testdb|%s|%d|postgres|" % (e.tmp, pgport)) for l in dbs.splitlines()),
          "SHOW DATABASES lacks testdb: %r" % dbs)
    log("psql through pgbouncer (TCP and Unix socket): exact results; admin console: %s" % ver)

    # 2. concurrency: 40 clients on 4 server connections, then pgbench
    def client(k):
        c = PgConn(bport, "testdb")
        try:
            for i in range(25):
                rows, tags = c.query("begin; insert into kv values (%d, 'c%d'); "
                                     "select v, k %% 1000 from kv where k = %d; commit"
                                     % (10000 + k * 100 + i, k * 31 + i, 10000 + k * 100 + i))
                check(rows == [("c%d" % (k * 31 + i), str((10000 + k * 100 + i) % 1000))],
                      "client %d txn %d: rows %r" % (k, i, rows))
                check(tags == ["BEGIN", "INSERT 0 1", "SELECT 1", "COMMIT"],
                      "client %d txn %d: tags %r" % (k, i, tags))
        finally:
            c.close()
    conns = [PgConn(bport, "testdb") for _ in range(40)]
    check(psql("select count(*) from kv where k >= 10000") == "0", "stray rows")
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=40) as ex:
        list(ex.map(client, range(40)))
    clients = psql("show clients", db="pgbouncer").splitlines()
    check(len(clients) >= 41, "SHOW CLIENTS with 40 idle clients open: %d rows" % len(clients))
    for c in conns:
        c.close()
    got = psql("select count(*), count(distinct v) from kv where k >= 10000")
    check(got == "1000|1000", "rows written by the 40 clients: %r" % got)
    servers = psql("show servers", db="pgbouncer").splitlines()
    check(0 < len(servers) <= 4, "server connections: %d (pool size 4)" % len(servers))
    log("40 concurrent clients x 25 transactions on %d server connections, %.2f s; 40 more "
        "idle clients held open" % (len(servers), time.monotonic() - t0))

    e.run([PGBENCH, "-i", "-s", "1", "-q", "-h", "127.0.0.1", "-p", str(bport), "-U",
           "postgres", "testdb"], timeout=60, on_reevent=False)
    for host in ("127.0.0.1", e.tmp):
        r = e.run([PGBENCH, "-n", "-c", "4", "-j", "2", "-t", "100", "-h", host, "-p",
                   str(bport), "-U", "postgres", "testdb"], timeout=60, on_reevent=False)
        check("number of transactions actually processed: 400/400" in r.stdout,
              "pgbench via %s:\n%s" % (host, r.stdout[-1500:]))
        check("number of failed transactions: 0 " in r.stdout,
              "pgbench failures via %s:\n%s" % (host, r.stdout[-1500:]))
        tps = [l for l in r.stdout.splitlines() if l.startswith("tps")]
        log("pgbench via %s: 400/400 transactions, 0 failed, %s"
            % ("TCP" if host[0] == "1" else "Unix socket", tps[0] if tps else ""))
    got = psql("select count(*) from pgbench_history")
    check(got == "800", "pgbench_history rows: %r" % got)

    # 3. PAUSE/RESUME by signal, reload by SIGHUP
    c = PgConn(bport, "testdb")
    check(c.query("select 1")[0] == [("1",)], "query before PAUSE")
    p.send_signal(signal.SIGUSR1)
    wait_until(lambda: "got SIGUSR1, pausing" in open(blog).read(), 10,
               "pgbouncer did not log the PAUSE")
    time.sleep(0.2)
    c.send_query("select 'after resume'")
    c.s.settimeout(0.5)
    try:
        d = c.s.recv(65536)
        raise TestFailure("paused pgbouncer answered a query: %r" % d)
    except socket.timeout:
        pass
    c.s.settimeout(20)
    p.send_signal(signal.SIGUSR2)
    rows, _ = c._until_ready()
    check(rows == [("after resume",)], "query held during PAUSE: %r" % rows)
    c.close()
    log("SIGUSR1 paused: a query waited; SIGUSR2 resumed: it was answered")

    write_ini("aliasdb = host=%s port=%d dbname=postgres user=postgres" % (e.tmp, pgport))
    p.send_signal(signal.SIGHUP)
    wait_until(lambda: psql("select 'via alias'", db="aliasdb") == "via alias", 10,
               "aliasdb not usable after SIGHUP")
    log("SIGHUP: edited config reloaded, the new database alias works")

    # 4. SIGINT waits for the open transaction; SIGTERM is immediate
    c = PgConn(bport, "testdb")
    c.query("begin; insert into kv values (-1, 'during shutdown')")
    p.send_signal(signal.SIGINT)
    time.sleep(0.5)
    check(p.poll() is None, "pgbouncer exited on SIGINT with a transaction open")
    rows, tags = c.query("select v from kv where k = -1; commit")
    check(rows == [("during shutdown",)] and tags[-1] == "COMMIT",
          "transaction across SIGINT: %r %r" % (rows, tags))
    try:
        rc = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        raise TestFailure("pgbouncer did not exit within 15 s of SIGINT and the commit")
    c.s.close()
    check(rc == 0, "pgbouncer exited %d after SIGINT" % rc)
    with open(blog) as f:
        text = f.read()
    for line in ("got SIGUSR2, continuing", "got SIGHUP, re-reading config",
                 "got SIGINT, shutting down", "server connections dropped, exiting"):
        check(line in text, "pgbouncer's log lacks %r" % line)
    log("SIGINT: safe shutdown waited for the open transaction, then exited 0")

    p = start_bouncer("poll")
    got = psql("select v from kv where k = -1")
    check(got == "during shutdown", "committed row after restart: %r" % got)
    idle = PgConn(bport, "testdb")
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise TestFailure("pgbouncer did not exit within 10 s of SIGTERM")
    # pgbouncer's "fast exit" on SIGTERM is exit(1), on libevent as well.
    check(rc == 1, "pgbouncer exited %d after SIGTERM (its fast exit is 1)" % rc)
    with open(blog) as f:
        text = f.read()
    check(text.count("got SIGTERM, fast exit") == 1, "no SIGTERM line in pgbouncer's log")
    idle.s.close()
    log("poll backend: SIGTERM with a client connected: fast exit (1) in %.2f s"
        % (time.monotonic() - t0))

    pg.send_signal(signal.SIGINT)  # postgres' fast shutdown
    try:
        pg.wait(timeout=20)
    except subprocess.TimeoutExpired:
        raise TestFailure("postgres did not stop")
    deadline = time.monotonic() + 10
    while e.tagged_pids() and time.monotonic() < deadline:
        time.sleep(0.05)
    check(not e.tagged_pids(), "processes left: %s" % e.tagged_pids())


if __name__ == "__main__":
    main_wrapper(body)
