#!/usr/bin/env python3
"""Open MPI 4.1.4 (Debian's openmpi-bin and libopenmpi3: mpirun/orterun, libopen-pal,
libopen-rte, libpmix and their MCA components) as an end-to-end client of the library.

Open MPI is built with --with-libevent=external: libopen-pal NEEDs libevent_core and
libevent_pthreads, calls evthread_use_pthreads, makes its bases with event_config_new /
event_config_avoid_method (every method but the one MCA parameter opal_event_include names:
poll by default) / event_base_new_with_config, event_base_priority_init, and runs them from
threads of its own (ORTE's progress thread; with btl_tcp_progress_thread 1 the TCP BTL's
own base and thread), with event_assign / event_priority_set / event_active from other
threads, event_base_loopbreak, event_reinit after fork. libpmix (the PMIx server inside
mpirun and the client inside every rank) does the same with event_base_new, event_new and
event_base_loopexit. The test builds a small MPI program of its own with mpicc
(libopenmpi-dev) and runs everything on one host over loopback TCP:
  1. `mpirun -np 3` of the program: a token goes 100 times round the ring (MPI_Send/Recv over
     the TCP BTL), an MPI_Allreduce and a 4 MiB MPI_Bcast; every rank prints its results and
     which libevent_core it has mapped (ours on the reevent side: mpirun passes
     LD_LIBRARY_PATH on to its ranks);
  2. the same with opal_event_include epoll and btl_tcp_progress_thread 1 (not under ASan:
     at MPI_Finalize the TCP BTL calls event_del on its events after it freed their base, a
     use after free that valgrind also shows on Debian's libevent);
  2b. MPI_Comm_spawn: one rank starts 2 more through mpirun's runtime, and they answer over
     the intercommunicator (also on our library);
  3. rank 1 exits 3 while rank 0 sleeps: mpirun aborts the job, kills rank 0, exits 3;
  4. stdin goes to rank 0 only, --tag-output tags every line, stderr comes through;
  5. --timeout 1 on ranks that sleep: mpirun gives up after ~1 s, says why and exits non-zero,
     and the ranks are gone;
  6. SIGTERM to mpirun while its ranks sleep: it kills them and exits within seconds.
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clientlib import (Env, check, log, main_wrapper, parse_args, skip_unless_importable,  # noqa
                       verify_ldd, verify_mapped, TestFailure, skip_unless_installed)

MPIRUN = "/usr/bin/orterun"  # mpirun -> mpirun.openmpi -> orterun
MPICC = "/usr/bin/mpicc.openmpi"
LIBS = ["/usr/lib/x86_64-linux-gnu/libopen-pal.so.40", "/usr/lib/x86_64-linux-gnu/libopen-rte.so.40",
        "/usr/lib/x86_64-linux-gnu/pmix2/lib/libpmix.so.2"]

COMMON = r"""
#include <mpi.h>
#include <stdio.h>
#include <string.h>

static const char *mapped_core(void) {
    static char path[4096];
    char line[4200];
    FILE *f = fopen("/proc/self/maps", "r");
    strcpy(path, "none");
    while (f && fgets(line, sizeof line, f)) {
        char *p = strchr(line, '/');
        if (p && strstr(p, "libevent_core")) {
            p[strcspn(p, "\n")] = 0;
            snprintf(path, sizeof path, "%s", p);
        }
    }
    if (f) fclose(f);
    return path;
}

"""

RING = COMMON + r"""
int main(int argc, char **argv) {
    static char big[4 << 20];
    int rank, size;
    long token = 0, mine, sum = 0, count = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (int round = 0; round < 100; round++) {
        if (rank == 0) {
            token++;
            MPI_Send(&token, 1, MPI_LONG, 1 % size, 0, MPI_COMM_WORLD);
            MPI_Recv(&token, 1, MPI_LONG, size - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(&token, 1, MPI_LONG, rank - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            token++;
            MPI_Send(&token, 1, MPI_LONG, (rank + 1) % size, 0, MPI_COMM_WORLD);
        }
    }
    mine = rank + 1;
    MPI_Allreduce(&mine, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0)
        for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i * 7 + 1);
    MPI_Bcast(big, sizeof big, MPI_CHAR, 0, MPI_COMM_WORLD);
    for (size_t i = 0; i < sizeof big; i++) count += big[i] == (char)(i * 7 + 1);
    printf("rank %d of %d: token %ld sum %ld bcast %ld core %s\n", rank, size, token, sum,
           count, mapped_core());
    MPI_Finalize();
    return 0;
}
"""

# MPI_Comm_spawn: the parent starts 2 more processes through mpirun's runtime (ORTE and the
# PMIx server), each sends its rank + 10 back over the intercommunicator.
SPAWN = COMMON + r"""
int main(int argc, char **argv) {
    MPI_Comm parent, inter;
    MPI_Init(&argc, &argv);
    MPI_Comm_get_parent(&parent);
    if (parent == MPI_COMM_NULL) {
        int errs[2];
        long v = 0, got;
        MPI_Comm_spawn(argv[0], MPI_ARGV_NULL, 2, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter, errs);
        for (int i = 0; i < 2; i++) {
            MPI_Recv(&got, 1, MPI_LONG, i, 0, inter, MPI_STATUS_IGNORE);
            v += got;
        }
        printf("parent: %ld core %s\n", v, mapped_core());
        MPI_Comm_disconnect(&inter);
    } else {
        int rank;
        long mine;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        mine = 10 + rank;
        MPI_Send(&mine, 1, MPI_LONG, 0, 0, parent);
        printf("child %d: core %s\n", rank, mapped_core());
        MPI_Comm_disconnect(&parent);
    }
    MPI_Finalize();
    return 0;
}
"""

# Loopback only, for the runtime's own wire-up (oob) and for the MPI traffic (btl).
BASE_ARGS = ["--allow-run-as-root", "--oversubscribe", "--mca", "btl", "tcp,self",
             "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo"]


def body():
    args = parse_args()
    e = Env(args, "openmpi")
    skip_unless_installed((MPICC, "libopenmpi-dev"))
    for lib in [MPIRUN] + LIBS:
        verify_ldd(e, lib)
        skip_unless_importable(e, lib)
    want_core = e.lib_dir if e.side == "reevent" else "/usr/lib/x86_64-linux-gnu"

    def build(name, code):
        src = os.path.join(e.tmp, name + ".c")
        with open(src, "w") as f:
            f.write(code)
        r = subprocess.run([MPICC, "-O1", "-o", src[:-2], src], capture_output=True,
                           text=True, timeout=120)
        check(r.returncode == 0, "mpicc %s failed: %s" % (name, r.stderr[-2000:]))
        return src[:-2]

    prog = build("ring", RING)
    spawn = build("spawn", SPAWN)

    def mpirun(extra, np, argv, timeout=60, **kw):
        t0 = time.monotonic()
        r = e.run([MPIRUN] + BASE_ARGS + extra + ["-np", str(np)] + argv, timeout=timeout,
                  check_rc=False, **kw)
        return r, time.monotonic() - t0

    def ring(extra, what):
        r, took = mpirun(extra, 3, [prog])
        check(r.returncode == 0, "%s: mpirun exited %d: %s%s" % (what, r.returncode,
                                                                r.stdout[-1500:], r.stderr[-1500:]))
        lines = sorted(l for l in r.stdout.splitlines() if l.startswith("rank "))
        tokens = {0: 300, 1: 299, 2: 300}  # rank 0 adds last in each round; 1 and 2 pass on
        check(len(lines) == 3, "%s: %d rank lines: %s" % (what, len(lines), r.stdout[-1500:]))
        for rank, line in enumerate(lines):
            m = re.match(r"rank (\d) of 3: token (\d+) sum 6 bcast %d core (\S+)$" % (4 << 20),
                         line)
            check(m and int(m.group(1)) == rank and int(m.group(2)) == tokens[rank],
                  "%s: rank %d printed %r" % (what, rank, line))
            core = os.path.dirname(os.path.realpath(m.group(3)))
            check(core == want_core, "%s: rank %d runs on %s, not %s" % (what, rank,
                                                                      m.group(3), want_core))
        log("%s: 3 ranks, ring x100 + allreduce + 4 MiB bcast exact, all on %s, %.2f s"
            % (what, want_core, took))
        return took

    # 1, 2. the ring, on the default (poll) and on epoll with the TCP BTL's progress thread
    t_default = ring([], "default (poll)")
    if "address" in (e.sanitize or ""):
        # The TCP BTL's close calls event_del on its events after event_base_free of its
        # progress base (valgrind shows the same invalid reads on Debian's libevent): ASan
        # stops the rank there. Not ours; the thread variant runs in the plain build (and
        # under ASan the time goes to the other steps: the whole test must stay in 90 s).
        t_thread = 0.0
        log("epoll + btl_tcp_progress_thread: not run under ASan (Open MPI's use after free)")
    else:
        t_thread = ring(["--mca", "opal_event_include", "epoll", "--mca",
                         "btl_tcp_progress_thread", "1"], "epoll + btl_tcp_progress_thread")

    # 2b. dynamic processes
    r, took = mpirun([], 1, [spawn])
    check(r.returncode == 0, "spawn: mpirun exited %d: %s%s" % (r.returncode, r.stdout[-1500:],
                                                               r.stderr[-1500:]))
    lines = sorted(r.stdout.splitlines())
    check(len(lines) == 3 and lines[2].startswith("parent: 21 core ")
          and lines[0].startswith("child 0: core ") and lines[1].startswith("child 1: core "),
          "spawn printed %r" % lines)
    cores = {os.path.dirname(os.path.realpath(l.rsplit(" ", 1)[1])) for l in lines}
    check(cores == {want_core}, "spawn: processes run on %s, not %s" % (cores, want_core))
    log("MPI_Comm_spawn of 2: both answered the parent (10 + 11), all on %s, %.2f s"
        % (want_core, took))

    # 3. a failing rank (whether mpirun then also prints which rank failed is a race inside
    # ORTE, on either library: not checked)
    r, took = mpirun([], 2, ["sh", "-c", "[ $OMPI_COMM_WORLD_RANK = 1 ] && exit 3; sleep 30"])
    out = r.stdout + r.stderr
    check(r.returncode == 3, "a rank exiting 3: mpirun exited %d: %s" % (r.returncode, out[-1500:]))
    check("Per user-direction, the job has been aborted" in out,
          "mpirun did not say it aborted the job: %s" % out[-1500:])
    check(took < 15, "the job with a failed rank took %.2f s: rank 0 was not killed" % took)
    time.sleep(0.2)
    check(not e.tagged_pids(), "processes left after the abort: %s" % e.tagged_pids())
    log("rank 1 exits 3: mpirun aborts the job (rank 0 killed), exits 3 after %.2f s" % took)

    # 4. stdin to rank 0, tagged output, stderr
    r, _ = mpirun(["--tag-output"], 2,
                  ["sh", "-c", "cat; echo done $OMPI_COMM_WORLD_RANK; echo err >&2"],
                  input="hello\nworld\n")
    check(r.returncode == 0, "stdin job exited %d: %s" % (r.returncode, r.stderr[-1500:]))
    got = sorted(r.stdout.splitlines())
    want = sorted(["[1,0]<stdout>:hello", "[1,0]<stdout>:world", "[1,0]<stdout>:done 0",
                   "[1,1]<stdout>:done 1"])
    check(got == want, "tagged stdout %r, want %r" % (got, want))
    errs = sorted(l for l in r.stderr.splitlines() if "<stderr>" in l)
    check(errs == ["[1,0]<stderr>:err", "[1,1]<stderr>:err"], "tagged stderr %r" % r.stderr)
    log("stdin reached rank 0 only; stdout and stderr of both ranks tagged")

    # 5. --timeout
    r, took = mpirun(["--timeout", "1"], 2, ["sleep", "30"])
    check(r.returncode != 0 and "job execution time limit" in r.stdout + r.stderr,
          "--timeout 1: mpirun exited %d: %s" % (r.returncode, (r.stdout + r.stderr)[-1500:]))
    check(1.0 <= took < 10, "--timeout 1 ended the job after %.2f s" % took)
    time.sleep(0.2)
    check(not e.tagged_pids(), "ranks left after --timeout: %s" % e.tagged_pids())
    log("--timeout 1: ended after %.2f s, exit %d, no rank left" % (took, r.returncode))

    # 6. SIGTERM to mpirun
    p = e.spawn([MPIRUN] + BASE_ARGS + ["-np", "2", "sleep", "30"], stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 20
    while len(e.tagged_pids()) < 3:  # mpirun and its 2 ranks
        if p.poll() is not None:
            raise TestFailure("mpirun exited early: %s" % p.communicate()[0][-1500:])
        check(time.monotonic() < deadline, "the 2 ranks did not start within 20 s")
        time.sleep(0.05)
    verify_mapped(e, p.pid, "mpirun")
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    try:
        out, _ = p.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        raise TestFailure("mpirun did not exit within 15 s of SIGTERM")
    t_term = time.monotonic() - t0
    time.sleep(0.2)
    check(not e.tagged_pids(), "processes left after SIGTERM: %s" % e.tagged_pids())
    check(p.returncode != 0, "mpirun exited 0 after SIGTERM")
    log("SIGTERM: mpirun killed its ranks and exited %d after %.2f s" % (p.returncode, t_term))
    e.record("openmpi on %s: ring job %.2f s (epoll + BTL progress thread %.2f s); "
             "SIGTERM to exit %.2f s" % (e.side, t_default, t_thread, t_term))


if __name__ == "__main__":
    main_wrapper(body)
