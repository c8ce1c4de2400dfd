// evbuffer benchmarks (no event loop involved): small appends then one drain, 4 KiB and
// 64 KiB chunks through add/remove, readln on short/long lines and on lines split across
// reads (CRLF and LF, also one byte per read), search for a delimiter, add_buffer moves,
// add_reference, peek over 64 segments, reserve/commit, read/write through a socket pair,
// and a 1 MiB file segment written to a socket (sendfile vs mapped). Backend-independent,
// so each runs once (reported under backend "none").
#include "common/bench_support.h"

#include <event2/buffer.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace bench {

namespace {

// Many small appends (16 bytes) then one drain of everything.
void small_appends(benchmark::State &st, int count, int size) {
    evbuffer *b = evbuffer_new();
    std::string piece(static_cast<size_t>(size), 'a');
    Measured m(st);
    for (auto _ : st) {
        for (int i = 0; i < count; ++i) evbuffer_add(b, piece.data(), piece.size());
        evbuffer_drain(b, evbuffer_get_length(b));
    }
    st.counters["ops"] = count;
    st.SetBytesProcessed(st.iterations() * count * size);
    evbuffer_free(b);
}

// A chunk in, the same chunk out (copying both ways, as a program would).
void chunks(benchmark::State &st, int size) {
    evbuffer *b = evbuffer_new();
    std::string in(static_cast<size_t>(size), 'b');
    std::string out(static_cast<size_t>(size), '\0');
    Measured m(st);
    for (auto _ : st) {
        evbuffer_add(b, in.data(), in.size());
        evbuffer_remove(b, out.data(), out.size());
    }
    st.counters["ops"] = 1;
    st.SetBytesProcessed(st.iterations() * size);
    evbuffer_free(b);
}

std::string make_lines(int count, int len, const char *eol) {
    std::string s;
    for (int i = 0; i < count; ++i) {
        s.append(static_cast<size_t>(len), static_cast<char>('a' + i % 26));
        s.append(eol);
    }
    return s;
}

// One add of `count` complete lines, then readln until empty.
void readln_whole(benchmark::State &st, int count, int len) {
    evbuffer *b = evbuffer_new();
    std::string data = make_lines(count, len, "\r\n");
    Measured m(st);
    for (auto _ : st) {
        evbuffer_add(b, data.data(), data.size());
        size_t n;
        while (char *line = evbuffer_readln(b, &n, EVBUFFER_EOL_CRLF)) std::free(line);
    }
    st.counters["ops"] = count;
    st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(data.size()));
    evbuffer_free(b);
}

// Protocol parser shape: data arrives in 4000-byte reads that cut lines anywhere; after each
// read every complete line is taken out.
void readln_split(benchmark::State &st, int len) {
    evbuffer *b = evbuffer_new();
    std::string data = make_lines(4000, len, "\r\n");
    int lines = 0;
    Measured m(st);
    for (auto _ : st) {
        for (size_t off = 0; off < data.size(); off += 4000) {
            size_t n = data.size() - off < 4000 ? data.size() - off : 4000;
            evbuffer_add(b, data.data() + off, n);
            while (char *line = evbuffer_readln(b, &n, EVBUFFER_EOL_CRLF)) {
                std::free(line);
                ++lines;
            }
        }
    }
    st.counters["ops"] = 4000;
    st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(data.size()));
    evbuffer_free(b);
}

// Search for "\r\n\r\n" at the end of 64 KiB held in 16 separately added 4 KiB pieces.
void search(benchmark::State &st, int total) {
    evbuffer *b = evbuffer_new();
    std::string piece(4096, 'c');
    for (int i = 0; i < total / 4096; ++i) {
        evbuffer *tmp = evbuffer_new();  // add_buffer keeps the pieces as separate blocks
        evbuffer_add(tmp, piece.data(), piece.size());
        evbuffer_add_buffer(b, tmp);
        evbuffer_free(tmp);
    }
    evbuffer_add(b, "\r\n\r\n", 4);
    Measured m(st);
    for (auto _ : st) {
        evbuffer_ptr p = evbuffer_search(b, "\r\n\r\n", 4, nullptr);
        benchmark::DoNotOptimize(p);
    }
    st.counters["ops"] = 1;
    st.SetBytesProcessed(st.iterations() * total);
    evbuffer_free(b);
}

// Moving 64 KiB (16 blocks) from one buffer to another and back: must not copy.
void add_buffer_moves(benchmark::State &st, int total) {
    evbuffer *a = evbuffer_new();
    evbuffer *c = evbuffer_new();
    std::string piece(4096, 'd');
    for (int i = 0; i < total / 4096; ++i) {
        evbuffer *tmp = evbuffer_new();
        evbuffer_add(tmp, piece.data(), piece.size());
        evbuffer_add_buffer(a, tmp);
        evbuffer_free(tmp);
    }
    Measured m(st);
    for (auto _ : st) {
        evbuffer_add_buffer(c, a);
        evbuffer_add_buffer(a, c);
    }
    st.counters["ops"] = 2;
    evbuffer_free(a);
    evbuffer_free(c);
}

// reserve 4 KiB, fill it, commit, drain.
void reserve_commit(benchmark::State &st, int size) {
    evbuffer *b = evbuffer_new();
    Measured m(st);
    for (auto _ : st) {
        evbuffer_iovec v[2];
        int nv = evbuffer_reserve_space(b, size, v, 2);
        size_t left = static_cast<size_t>(size);
        for (int i = 0; i < nv && left; ++i) {
            size_t k = v[i].iov_len < left ? v[i].iov_len : left;
            std::memset(v[i].iov_base, 'e', k);
            v[i].iov_len = k;
            left -= k;
        }
        evbuffer_commit_space(b, v, nv);
        evbuffer_drain(b, static_cast<size_t>(size));
    }
    st.counters["ops"] = 1;
    st.SetBytesProcessed(st.iterations() * size);
    evbuffer_free(b);
}

// 16 KiB written with evbuffer_write into one end, read with evbuffer_read from the other.
void socket_io(benchmark::State &st, int size) {
    SocketPairs sp(1, 256 * 1024);
    evbuffer *out = evbuffer_new();
    evbuffer *in = evbuffer_new();
    std::string chunk(static_cast<size_t>(size), 'f');
    Measured m(st);
    for (auto _ : st) {
        evbuffer_add(out, chunk.data(), chunk.size());
        while (evbuffer_get_length(out) > 0)
            if (evbuffer_write(out, sp.fds[0]) < 0) std::abort();
        while (evbuffer_get_length(in) < static_cast<size_t>(size))
            if (evbuffer_read(in, sp.fds[1], -1) <= 0) std::abort();
        evbuffer_drain(in, static_cast<size_t>(size));
    }
    st.counters["ops"] = 1;
    st.SetBytesProcessed(st.iterations() * size);
    evbuffer_free(out);
    evbuffer_free(in);
}

// Worst fragmentation for a line parser: LF lines arrive one byte per read, and after every
// byte the parser asks for a complete line.
void readln_bytewise(benchmark::State &st, int lines, int len) {
    evbuffer *b = evbuffer_new();
    std::string data = make_lines(lines, len, "\n");
    Measured m(st);
    for (auto _ : st) {
        for (char c : data) {
            evbuffer_add(b, &c, 1);
            size_t n;
            if (char *line = evbuffer_readln(b, &n, EVBUFFER_EOL_LF)) std::free(line);
        }
    }
    st.counters["ops"] = lines;
    evbuffer_free(b);
}

// LF lines cut by 4000-byte reads (as readln_split, other end-of-line style).
void readln_split_lf(benchmark::State &st, int len) {
    evbuffer *b = evbuffer_new();
    std::string data = make_lines(4000, len, "\n");
    Measured m(st);
    for (auto _ : st) {
        for (size_t off = 0; off < data.size(); off += 4000) {
            size_t n = data.size() - off < 4000 ? data.size() - off : 4000;
            evbuffer_add(b, data.data() + off, n);
            while (char *line = evbuffer_readln(b, &n, EVBUFFER_EOL_LF)) std::free(line);
        }
    }
    st.counters["ops"] = 4000;
    evbuffer_free(b);
}

// A caller's 64 KiB added by reference, then drained: must not copy.
void add_reference(benchmark::State &st, int size) {
    evbuffer *b = evbuffer_new();
    std::string data(static_cast<size_t>(size), 'r');
    Measured m(st);
    for (auto _ : st) {
        evbuffer_add_reference(b, data.data(), data.size(), nullptr, nullptr);
        evbuffer_drain(b, data.size());
    }
    st.counters["ops"] = 1;
    evbuffer_free(b);
}

// evbuffer_peek over a buffer of 64 separate 1 KiB segments.
void peek_segments(benchmark::State &st, int segments) {
    evbuffer *b = evbuffer_new();
    std::string piece(1024, 'p');
    for (int i = 0; i < segments; ++i) {
        evbuffer *tmp = evbuffer_new();
        evbuffer_add(tmp, piece.data(), piece.size());
        evbuffer_add_buffer(b, tmp);
        evbuffer_free(tmp);
    }
    std::vector<evbuffer_iovec> vec(static_cast<size_t>(segments));
    Measured m(st);
    for (auto _ : st) {
        int n = evbuffer_peek(b, -1, nullptr, vec.data(), segments);
        benchmark::DoNotOptimize(n);
    }
    st.counters["ops"] = 1;
    evbuffer_free(b);
}

// 1 MiB file segment written to a socket pair with evbuffer_write (the reader drains the
// other end with plain read()). With EVBUFFER_FLAG_DRAINS_TO_FD the library may use
// sendfile; without it the file is mapped or read into memory.
void file_write(benchmark::State &st, bool drains_to_fd) {
    constexpr size_t kSize = 1 << 20;
    char path[] = "/tmp/reevent-bench-file.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        st.SkipWithError("mkstemp failed");
        return;
    }
    unlink(path);
    std::string chunk(64 * 1024, 'z');
    for (size_t i = 0; i < kSize / chunk.size(); ++i)
        if (write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) std::abort();
    evbuffer_file_segment *seg = evbuffer_file_segment_new(fd, 0, kSize, EVBUF_FS_CLOSE_ON_FREE);
    SocketPairs sp(1, 1 << 20);
    evbuffer *out = evbuffer_new();
    if (drains_to_fd) evbuffer_set_flags(out, EVBUFFER_FLAG_DRAINS_TO_FD);
    std::vector<char> sink(256 * 1024);
    {
        Measured m(st);
        for (auto _ : st) {
            evbuffer_add_file_segment(out, seg, 0, kSize);
            size_t got = 0;
            while (got < kSize) {
                if (evbuffer_get_length(out) > 0 && evbuffer_write(out, sp.fds[0]) < 0 && errno != EAGAIN)
                    std::abort();
                ssize_t r = read(sp.fds[1], sink.data(), sink.size());
                if (r > 0) got += static_cast<size_t>(r);
            }
        }
    }
    st.counters["ops"] = 1;
    st.SetBytesProcessed(st.iterations() * static_cast<int64_t>(kSize));
    evbuffer_free(out);
    evbuffer_file_segment_free(seg);
}

}  // namespace

void register_all() {
    add("evbuffer/none/small_appends/n:1000/size:16", [](benchmark::State &st) { small_appends(st, 1000, 16); }, 200);
    add("evbuffer/none/small_appends/n:1000/size:64", [](benchmark::State &st) { small_appends(st, 1000, 64); }, 200);
    add("evbuffer/none/chunk_add_remove/size:4096", [](benchmark::State &st) { chunks(st, 4096); });
    add("evbuffer/none/chunk_add_remove/size:65536", [](benchmark::State &st) { chunks(st, 65536); }, 200);
    add("evbuffer/none/readln_short/lines:1000/len:16", [](benchmark::State &st) { readln_whole(st, 1000, 16); }, 100);
    add("evbuffer/none/readln_long/lines:100/len:1024", [](benchmark::State &st) { readln_whole(st, 100, 1024); }, 100);
    add("evbuffer/none/readln_split/lines:4000/len:61", [](benchmark::State &st) { readln_split(st, 61); }, 20);
    add("evbuffer/none/search/size:65536", [](benchmark::State &st) { search(st, 65536); }, 200);
    add("evbuffer/none/add_buffer_move/size:65536", [](benchmark::State &st) { add_buffer_moves(st, 65536); });
    add("evbuffer/none/reserve_commit/size:4096", [](benchmark::State &st) { reserve_commit(st, 4096); });
    add("evbuffer/none/readln_bytewise_lf/lines:200/len:61", [](benchmark::State &st) { readln_bytewise(st, 200, 61); }, 20);
    add("evbuffer/none/readln_split_lf/lines:4000/len:61", [](benchmark::State &st) { readln_split_lf(st, 61); }, 20);
    add("evbuffer/none/add_reference_drain/size:65536", [](benchmark::State &st) { add_reference(st, 65536); });
    add("evbuffer/none/peek/segments:64", [](benchmark::State &st) { peek_segments(st, 64); });
    add("evbuffer/none/file_write_sendfile/size:1048576", [](benchmark::State &st) { file_write(st, true); }, 50);
    add("evbuffer/none/file_write_mapped/size:1048576", [](benchmark::State &st) { file_write(st, false); }, 50);
    add("evbuffer/none/socket_read_write/size:16384", [](benchmark::State &st) { socket_io(st, 16384); }, 500);
}

}  // namespace bench
