// bufferevent throughput: a bufferevent pair (data handed from one side's output to the
// other's input inside the process) and two socket bufferevents on an AF_UNIX pair (the
// full read/write path through the kernel). One iteration writes one message on side A
// and runs the loop until side B's read callback has consumed it.
#include "common/backend.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include <cstdio>
#include <memory>
#include <string>

namespace bench {

namespace {

struct Sink {
    size_t got = 0;
    static void on_read(bufferevent *bev, void *arg) {
        evbuffer *in = bufferevent_get_input(bev);
        size_t n = evbuffer_get_length(in);
        static_cast<Sink *>(arg)->got += n;
        evbuffer_drain(in, n);
    }
};

void throughput(benchmark::State &st, const Backend &be, bool pair, int size) {
    event_base *base = new_base(be);
    if (!base) {
        st.SkipWithError("backend unavailable");
        return;
    }
    bufferevent *ends[2] = {nullptr, nullptr};
    std::unique_ptr<SocketPairs> sp;
    if (pair) {
        if (bufferevent_pair_new(base, 0, ends) != 0) {
            st.SkipWithError("bufferevent_pair_new failed");
            event_base_free(base);
            return;
        }
    } else {
        sp = std::make_unique<SocketPairs>(1, 512 * 1024);
        ends[0] = bufferevent_socket_new(base, sp->fds[0], 0);
        ends[1] = bufferevent_socket_new(base, sp->fds[1], 0);
    }
    Sink sink;
    bufferevent_setcb(ends[1], Sink::on_read, nullptr, nullptr, &sink);
    bufferevent_enable(ends[1], EV_READ);
    bufferevent_enable(ends[0], EV_WRITE);
    std::string msg(static_cast<size_t>(size), 'm');
    size_t want = 0;
    {
        Measured m(st);
        for (auto _ : st) {
            bufferevent_write(ends[0], msg.data(), msg.size());
            want += msg.size();
            while (sink.got < want) event_base_loop(base, EVLOOP_ONCE);
        }
    }
    st.counters["ops"] = 1;
    st.SetBytesProcessed(st.iterations() * size);
    bufferevent_free(ends[0]);
    bufferevent_free(ends[1]);
    event_base_free(base);
}

}  // namespace

void register_all() {
    char name[128];
    for (const Backend &be : kBackends) {
        for (int pair : {1, 0}) {
            for (int size : {64, 16384}) {
                std::snprintf(name, sizeof name, "bufferevent/%s/%s/size:%d", be.label,
                              pair ? "pair" : "socket", size);
                add(name, [be, pair, size](benchmark::State &st) { throughput(st, be, pair, size); });
            }
        }
    }
}

}  // namespace bench
