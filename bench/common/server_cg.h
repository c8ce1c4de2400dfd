// Instruction counts for the benchmark servers (separate processes driven by a load
// generator). Run under `valgrind --tool=callgrind --collect-atstart=no` with BENCH_CG_WARM
// and BENCH_CG_COUNT set, the server turns collection on once it has handled WARM units
// (echoed bytes, answered requests) and off again COUNT units later, then prints
// "CG_UNITS <n>" on stderr with the units handled inside the window and exits at once
// (valgrind writes its output at exit; no library teardown with live connections). Steady
// state only: start-up, handshakes and the warm-up are not counted. Without the variables
// it is inert.
#pragma once

#include <valgrind/callgrind.h>

#include <cstdio>
#include <cstdlib>

namespace bench_cg {

struct Window {
    unsigned long long warm = 0, count = 0, seen = 0, started_at = 0;
    int state = -1;  // -1 inert, 0 before the window, 1 collecting

    Window() {
        const char *w = std::getenv("BENCH_CG_WARM");
        const char *c = std::getenv("BENCH_CG_COUNT");
        if (w && c) {
            warm = std::strtoull(w, nullptr, 10);
            count = std::strtoull(c, nullptr, 10);
            state = 0;
        }
    }

    void add(unsigned long long units) {
        if (state < 0) return;
        seen += units;
        if (state == 0 && seen >= warm) {
            state = 1;
            started_at = seen;
            CALLGRIND_TOGGLE_COLLECT;
        } else if (state == 1 && seen - started_at >= count) {
            CALLGRIND_TOGGLE_COLLECT;
            std::fprintf(stderr, "CG_UNITS %llu\n", seen - started_at);
            std::fflush(stderr);
            std::_Exit(0);
        }
    }
};

}  // namespace bench_cg
