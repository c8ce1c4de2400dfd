// Paired bufferevents: bytes written on one side arrive on the other without a socket.
#include "bufferevent_test_helpers.h"

#include <event2/bufferevent_struct.h>
#include <event2/event_compat.h>

namespace {

using bevtest::Recorder;
using bevtest::run_until;

class BevPair : public conf::BackendTest {
protected:
    void make(int opts = 0) {
        ASSERT_EQ(bufferevent_pair_new(base(), opts, p_), 0);
        ASSERT_NE(p_[0], nullptr);
        ASSERT_NE(p_[1], nullptr);
    }
    void TearDown() override {
        for (auto *&b : p_)
            if (b) bufferevent_free(b);
        conf::BackendTest::TearDown();
    }
    bufferevent *p_[2] = {nullptr, nullptr};
};

TEST_P(BevPair, PartnersKnowEachOther) {
    make();
    EXPECT_EQ(bufferevent_pair_get_partner(p_[0]), p_[1]);
    EXPECT_EQ(bufferevent_pair_get_partner(p_[1]), p_[0]);
    EXPECT_EQ(bufferevent_getfd(p_[0]), -1);
    EXPECT_EQ(bufferevent_get_underlying(p_[0]), nullptr);
    EXPECT_EQ(bufferevent_get_base(p_[1]), base());
    EXPECT_EQ(bufferevent_get_enabled(p_[0]), EV_WRITE);
    bufferevent *sock = bufferevent_socket_new(base(), -1, 0);
    EXPECT_EQ(bufferevent_pair_get_partner(sock), nullptr);
    bufferevent_free(sock);
}

// A pair's write timeout runs only while there is output waiting for the partner: enabling
// writing (or setting the timeouts) with nothing to write arms nothing.
TEST_P(BevPair, WriteTimeoutOnlyWhileOutputWaits) {
    make();
    Recorder r0;
    r0.attach(p_[0]);
    timeval tw = conf::tv_ms(30);
    bufferevent_set_timeouts(p_[0], nullptr, &tw);
    bufferevent_enable(p_[0], EV_WRITE);
    bevtest::run_for(base(), 100);
    EXPECT_TRUE(r0.events.empty());
    bufferevent_write(p_[0], "stuck", 5);  // the partner does not read
    bufferevent_enable(p_[0], EV_WRITE);    // enabling with output waiting arms it
    ASSERT_TRUE(run_until(base(), [&] { return !r0.events.empty(); }, 2000));
    EXPECT_EQ(r0.events[0], BEV_EVENT_WRITING | BEV_EVENT_TIMEOUT);
}

TEST_P(BevPair, DataWrittenOnOneSideIsReadOnTheOther) {
    make();
    Recorder r0, r1;
    r0.attach(p_[0]);
    r1.attach(p_[1]);
    bufferevent_enable(p_[1], EV_READ);
    bufferevent_enable(p_[0], EV_READ);
    bufferevent_write(p_[0], "ping", 4);
    ASSERT_TRUE(run_until(base(), [&] { return r1.data == "ping"; }));
    bufferevent_write(p_[1], "pong", 4);
    ASSERT_TRUE(run_until(base(), [&] { return r0.data == "pong"; }));
    EXPECT_GE(r0.writes, 1);
    EXPECT_TRUE(r0.events.empty());
    EXPECT_TRUE(r1.events.empty());
}

TEST_P(BevPair, NothingMovesUntilTheReaderEnablesReading) {
    make();
    Recorder r1;
    r1.attach(p_[1]);
    bufferevent_write(p_[0], "wait", 4);
    bevtest::run_for(base(), 20);
    EXPECT_EQ(r1.reads, 0);
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_output(p_[0])), 4u);
    bufferevent_enable(p_[1], EV_READ);
    ASSERT_TRUE(run_until(base(), [&] { return r1.data == "wait"; }));
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_output(p_[0])), 0u);
}

TEST_P(BevPair, ReadHighWatermarkLimitsTheTransfer) {
    make();
    Recorder r1;
    r1.drain = false;
    r1.attach(p_[1]);
    bufferevent_setwatermark(p_[1], EV_READ, 0, 10);
    bufferevent_enable(p_[1], EV_READ);
    bufferevent_write(p_[0], "0123456789abcdefghij", 20);
    ASSERT_TRUE(run_until(base(), [&] { return r1.reads > 0; }));
    evbuffer *in = bufferevent_get_input(p_[1]);
    EXPECT_EQ(evbuffer_get_length(in), 10u);
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_output(p_[0])), 10u);
    evbuffer_drain(in, 10);
    ASSERT_TRUE(run_until(base(), [&] { return evbuffer_get_length(in) == 10; }));
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_output(p_[0])), 0u);
}

TEST_P(BevPair, FlushFinishedGivesThePartnerEof) {
    make();
    Recorder r1;
    r1.attach(p_[1]);
    bufferevent_enable(p_[1], EV_READ);
    bufferevent_write(p_[0], "end", 3);
    ASSERT_TRUE(run_until(base(), [&] { return r1.data == "end"; }));
    EXPECT_GE(bufferevent_flush(p_[0], EV_WRITE, BEV_FINISHED), 0);
    ASSERT_TRUE(run_until(base(), [&] { return !r1.events.empty(); }));
    EXPECT_TRUE(r1.events[0] & BEV_EVENT_EOF);
}

TEST_P(BevPair, FreeingOneSideUnlinksThePartner) {
    make();
    Recorder r1;
    r1.attach(p_[1]);
    bufferevent_enable(p_[1], EV_READ);
    bufferevent_free(p_[0]);
    p_[0] = nullptr;
    bevtest::run_for(base(), 20);
    EXPECT_EQ(bufferevent_pair_get_partner(p_[1]), nullptr);
    if (conf::kPairFreeGivesPartnerEof) {
        ASSERT_EQ(r1.events.size(), 1u);
        EXPECT_EQ(r1.events[0], BEV_EVENT_EOF | BEV_EVENT_READING);
    } else {
        EXPECT_TRUE(r1.events.empty());
    }
    // Writing to a side without partner just queues.
    EXPECT_EQ(bufferevent_write(p_[1], "x", 1), 0);
}

TEST_P(BevPair, DeferredCallbacksRunFromTheLoop) {
    make(BEV_OPT_DEFER_CALLBACKS);
    Recorder r1;
    r1.attach(p_[1]);
    bufferevent_enable(p_[1], EV_READ);
    bufferevent_write(p_[0], "later", 5);
    EXPECT_EQ(r1.reads, 0);  // not from inside bufferevent_write
    ASSERT_TRUE(run_until(base(), [&] { return r1.data == "later"; }));
}

// Without BEV_OPT_DEFER_CALLBACKS too: a pair's callbacks never run inside the call that
// moved the data, and moves made before the loop runs give one callback each.
TEST_P(BevPair, CallbacksAlwaysRunFromTheLoop) {
    make();
    Recorder r0, r1;
    r0.attach(p_[0]);
    r1.attach(p_[1]);
    bufferevent_enable(p_[1], EV_READ);
    bufferevent_write(p_[0], "now", 3);
    EXPECT_EQ(evbuffer_get_length(bufferevent_get_input(p_[1])), 3u);  // moved at once
    EXPECT_EQ(r1.reads, 0);
    EXPECT_EQ(r0.writes, 0);
    EXPECT_EQ(bufferevent_flush(p_[0], EV_WRITE, BEV_FINISHED), 0);
    EXPECT_EQ(r1.reads, 0);
    EXPECT_TRUE(r1.events.empty());
    ASSERT_TRUE(run_until(base(), [&] { return !r1.events.empty(); }));
    EXPECT_EQ(r1.data, "now");
    EXPECT_EQ(r1.reads, 1);
    EXPECT_EQ(r0.writes, 1);
    EXPECT_EQ(r1.events[0], BEV_EVENT_EOF | BEV_EVENT_READING);
}

TEST_P(BevPair, ThreadsafePairSharesALock) {
    evthread_use_pthreads();
    make(BEV_OPT_THREADSAFE);
    bufferevent_lock(p_[0]);
    bufferevent_lock(p_[1]);
    bufferevent_unlock(p_[1]);
    bufferevent_unlock(p_[0]);
    Recorder r1;
    r1.attach(p_[1]);
    bufferevent_enable(p_[1], EV_READ);
    bufferevent_write(p_[0], "safe", 4);
    ASSERT_TRUE(run_until(base(), [&] { return r1.data == "safe"; }));
}

TEST_P(BevPair, FreeInsideTheReadCallback) {
    make();
    Recorder r1;
    r1.on_read = [&](bufferevent *b) { bufferevent_free(b); p_[1] = nullptr; };
    r1.attach(p_[1]);
    bufferevent_enable(p_[1], EV_READ);
    bufferevent_write(p_[0], "boom", 4);
    ASSERT_TRUE(run_until(base(), [&] { return p_[1] == nullptr; }));
    bevtest::run_for(base(), 10);
    EXPECT_EQ(r1.reads, 1);
    EXPECT_EQ(bufferevent_write(p_[0], "more", 4), 0);
    bevtest::run_for(base(), 10);
}

TEST_P(BevPair, ReadTimeoutWhenThePartnerIsSilent) {
    make();
    Recorder r1;
    r1.attach(p_[1]);
    timeval tv = conf::tv_ms(40);
    bufferevent_set_timeouts(p_[1], &tv, nullptr);
    bufferevent_enable(p_[1], EV_READ);
    ASSERT_TRUE(run_until(base(), [&] { return !r1.events.empty(); }));
    EXPECT_EQ(r1.events[0], BEV_EVENT_TIMEOUT | BEV_EVENT_READING);
    EXPECT_EQ(bufferevent_get_enabled(p_[1]) & EV_READ, 0);
}

// 100 MB through a pair (16 MB on the non-epoll backends), checksum equal.
TEST_P(BevPair, LargeTransferKeepsEveryByte) {
    make();
    bevtest::BulkTransfer bulk(is_epoll() ? (100u << 20) : (16u << 20), 1u << 20, 65536);
    bulk.attach(p_[0], p_[1]);
    bufferevent_setwatermark(p_[1], EV_READ, 0, 512 * 1024);
    bufferevent_enable(p_[1], EV_READ);
    bulk.refill(p_[0]);
    ASSERT_TRUE(run_until(base(), [&] { return bulk.received == bulk.total; }, 60000));
    EXPECT_EQ(bulk.h_rx, bulk.h_tx);
}

// bufferevent_pair_new with a NULL base after event_init(): the pair lives on the current
// (global) base, as events assigned to a NULL base do.
TEST(BevPairGlobal, NullBaseMeansTheBaseOfEventInit) {
    event_base *global = event_init();
    ASSERT_NE(global, nullptr);
    bufferevent *p[2] = {nullptr, nullptr};
    ASSERT_EQ(bufferevent_pair_new(nullptr, 0, p), 0);
    Recorder r1;
    r1.attach(p[1]);
    bufferevent_enable(p[1], EV_READ);
    bufferevent_write(p[0], "global", 6);
    ASSERT_TRUE(run_until(global, [&] { return r1.data == "global"; }));
    timeval tr = conf::tv_ms(20);  // timeouts live on that base too
    bufferevent_set_timeouts(p[1], &tr, nullptr);
    ASSERT_TRUE(run_until(global, [&] { return !r1.events.empty(); }, 2000));
    EXPECT_EQ(r1.events[0], BEV_EVENT_READING | BEV_EVENT_TIMEOUT);
    bufferevent_free(p[0]);
    bufferevent_free(p[1]);
    event_base_free(global);
}

CONF_INSTANTIATE_BACKENDS(BevPair);

}  // namespace

