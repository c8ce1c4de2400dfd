// Rate limiting: token-bucket configuration, per-bufferevent and group buckets, and
// measured rates within 10% of the configured ones.
#include "bufferevent_test_helpers.h"

#include <event2/bufferevent_struct.h>

namespace {

using bevtest::Recorder;
using bevtest::run_until;

class BevRateLimit : public conf::BackendTest {};

TEST_P(BevRateLimit, BucketsStartAtOneTickAndDecrement) {
    // A long tick so that no refill happens while the test looks at the buckets.
    timeval tick = conf::tv_ms(10000);
    ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(1000, 5000, 2000, 6000, &tick);
    ASSERT_NE(cfg, nullptr);
    conf::SocketPair sp;
    bufferevent *bev = bufferevent_socket_new(base(), sp[0], 0);
    ASSERT_EQ(bufferevent_set_rate_limit(bev, cfg), 0);
    EXPECT_EQ(bufferevent_get_token_bucket_cfg(bev), cfg);
    EXPECT_EQ(bufferevent_get_read_limit(bev), 1000);  // one tick's worth, not the burst
    EXPECT_EQ(bufferevent_get_write_limit(bev), 2000);
    EXPECT_EQ(bufferevent_get_max_to_read(bev), 1000);
    EXPECT_EQ(bufferevent_get_max_to_write(bev), 2000);
    EXPECT_EQ(bufferevent_decrement_read_limit(bev, 400), 0);
    EXPECT_EQ(bufferevent_get_read_limit(bev), 600);
    EXPECT_EQ(bufferevent_get_max_to_read(bev), 600);
    EXPECT_EQ(bufferevent_decrement_read_limit(bev, 3000), 0);
    EXPECT_EQ(bufferevent_get_read_limit(bev), -2400);  // may go negative
    EXPECT_EQ(bufferevent_get_max_to_read(bev), 0);
    EXPECT_EQ(bufferevent_decrement_read_limit(bev, -2900), 0);  // negative refills
    EXPECT_EQ(bufferevent_get_read_limit(bev), 500);
    EXPECT_EQ(bufferevent_decrement_write_limit(bev, 100), 0);
    EXPECT_EQ(bufferevent_get_write_limit(bev), 1900);
    // With a bucket configured, the bucket (not max_single_write) answers.
    bufferevent_set_max_single_write(bev, 50);
    EXPECT_EQ(bufferevent_get_max_to_write(bev), 1900);
    // Removing the limit.
    EXPECT_EQ(bufferevent_set_rate_limit(bev, nullptr), 0);
    EXPECT_EQ(bufferevent_get_token_bucket_cfg(bev), nullptr);
    EXPECT_EQ(bufferevent_get_read_limit(bev), EV_SSIZE_MAX);
    EXPECT_EQ(bufferevent_get_max_to_write(bev), 50);
    bufferevent_free(bev);
    ev_token_bucket_cfg_free(cfg);
}

TEST_P(BevRateLimit, GroupBucketsAndMembership) {
    timeval tick = conf::tv_ms(10000);
    ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(4000, 8000, 4000, 8000, &tick);
    bufferevent_rate_limit_group *g = bufferevent_rate_limit_group_new(base(), cfg);
    ASSERT_NE(g, nullptr);
    EXPECT_EQ(bufferevent_rate_limit_group_get_read_limit(g), 4000);
    EXPECT_EQ(bufferevent_rate_limit_group_get_write_limit(g), 4000);
    EXPECT_EQ(bufferevent_rate_limit_group_decrement_read(g, 1000), 0);
    EXPECT_EQ(bufferevent_rate_limit_group_get_read_limit(g), 3000);
    EXPECT_EQ(bufferevent_rate_limit_group_decrement_write(g, -1000), 0);
    EXPECT_EQ(bufferevent_rate_limit_group_get_write_limit(g), 5000);
    EXPECT_EQ(bufferevent_rate_limit_group_set_min_share(g, 10), 0);
    conf::SocketPair a, b;
    bufferevent *ba = bufferevent_socket_new(base(), a[0], 0);
    bufferevent *bb = bufferevent_socket_new(base(), b[0], 0);
    EXPECT_EQ(bufferevent_add_to_rate_limit_group(ba, g), 0);
    EXPECT_EQ(bufferevent_add_to_rate_limit_group(bb, g), 0);
    // Each member gets its share of the group bucket.
    EXPECT_EQ(bufferevent_get_max_to_read(ba), 1500);
    EXPECT_EQ(bufferevent_get_read_limit(ba), EV_SSIZE_MAX);  // only its own bucket
    ev_uint64_t r = 1, w = 1;
    bufferevent_rate_limit_group_get_totals(g, &r, &w);
    EXPECT_EQ(r, 0u);
    EXPECT_EQ(w, 0u);
    // Traffic counts toward the totals.
    Recorder rec;
    rec.attach(ba);
    bufferevent_enable(ba, EV_READ);
    ASSERT_EQ(write(a[1], "12345", 5), 5);
    EXPECT_TRUE(run_until(base(), [&] { return rec.data.size() == 5; }));
    bufferevent_write(ba, "abc", 3);
    EXPECT_TRUE(run_until(base(), [&] { return rec.writes > 0; }));
    bufferevent_rate_limit_group_get_totals(g, &r, &w);
    EXPECT_EQ(r, 5u);
    EXPECT_EQ(w, 3u);
    bufferevent_rate_limit_group_reset_totals(g);
    bufferevent_rate_limit_group_get_totals(g, &r, &w);
    EXPECT_EQ(r, 0u);
    EXPECT_EQ(w, 0u);
    EXPECT_EQ(bufferevent_remove_from_rate_limit_group(ba), 0);
    EXPECT_EQ(bufferevent_remove_from_rate_limit_group(bb), 0);
    EXPECT_EQ(bufferevent_get_max_to_read(bb), 16384);
    // A new configuration applies to the group.
    ev_token_bucket_cfg *cfg2 = ev_token_bucket_cfg_new(10, 20, 30, 40, &tick);
    EXPECT_EQ(bufferevent_rate_limit_group_set_cfg(g, cfg2), 0);
    EXPECT_LE(bufferevent_rate_limit_group_get_read_limit(g), 20);
    bufferevent_free(ba);
    bufferevent_free(bb);
    bufferevent_rate_limit_group_free(g);
    ev_token_bucket_cfg_free(cfg);
    ev_token_bucket_cfg_free(cfg2);
}

// Counts bytes arriving at rx from a sender that always has plenty queued.
struct Flow {
    bufferevent *tx = nullptr;
    bufferevent *rx = nullptr;
    uint64_t received = 0;
    uint64_t at_start = 0;
    Recorder wr, rd;
    bevtest::TcpPair tp;
    Flow(event_base *base) {
        tx = bufferevent_socket_new(base, tp[0], 0);
        rx = bufferevent_socket_new(base, tp[1], 0);
        rd.drain = false;
        rd.on_read = [this](bufferevent *b) {
            evbuffer *in = bufferevent_get_input(b);
            received += evbuffer_get_length(in);
            evbuffer_drain(in, evbuffer_get_length(in));
        };
        wr.on_write = [](bufferevent *b) {
            static const std::string block(64 * 1024, 'r');
            bufferevent_write(b, block.data(), block.size());
        };
        wr.attach(tx);
        rd.attach(rx);
        bufferevent_setwatermark(tx, EV_WRITE, 64 * 1024, 0);
        std::string block(256 * 1024, 'r');
        bufferevent_write(tx, block.data(), block.size());
        bufferevent_enable(rx, EV_READ);
    }
    ~Flow() {
        bufferevent_free(tx);
        bufferevent_free(rx);
    }
};

// Runs the loop 300 ms, then 2 s more: the rate in bytes/s at which each flow received in
// those 2 s.
std::vector<double> measured_rates(event_base *base, const std::vector<const Flow *> &flows) {
    bevtest::run_for(base, 300);
    std::vector<uint64_t> start;
    for (const Flow *f : flows) start.push_back(f->received);
    double t0 = conf::now_ms();
    bevtest::run_for(base, 2000);
    double secs = (conf::now_ms() - t0) / 1000.0;
    std::vector<double> rates;
    for (size_t i = 0; i < flows.size(); ++i)
        rates.push_back((flows[i]->received - start[i]) / secs);
    return rates;
}

TEST_P(BevRateLimit, MeasuredReadRateIsWithinTenPercent) {
    // 20 KB per 100 ms tick = 200 KB/s.
    timeval tick = conf::tv_ms(100);
    ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(20000, 20000, EV_RATE_LIMIT_MAX,
                                                       EV_RATE_LIMIT_MAX, &tick);
    Flow f(base());
    ASSERT_EQ(bufferevent_set_rate_limit(f.rx, cfg), 0);
    double rate = measured_rates(base(), {&f})[0];
    EXPECT_NEAR(rate, 200000.0, 20000.0) << "measured " << rate << " B/s";
    bufferevent_set_rate_limit(f.rx, nullptr);
    ev_token_bucket_cfg_free(cfg);
}

TEST_P(BevRateLimit, MeasuredWriteRateIsWithinTenPercent) {
    timeval tick = conf::tv_ms(100);
    ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX,
                                                       30000, 30000, &tick);
    Flow f(base());
    ASSERT_EQ(bufferevent_set_rate_limit(f.tx, cfg), 0);
    double rate = measured_rates(base(), {&f})[0];
    EXPECT_NEAR(rate, 300000.0, 30000.0) << "measured " << rate << " B/s";
    bufferevent_set_rate_limit(f.tx, nullptr);
    ev_token_bucket_cfg_free(cfg);
}

TEST_P(BevRateLimit, GroupSharesBandwidthFairly) {
    // Three readers share 30 KB per 100 ms = 300 KB/s.
    timeval tick = conf::tv_ms(100);
    ev_token_bucket_cfg *cfg = ev_token_bucket_cfg_new(30000, 30000, EV_RATE_LIMIT_MAX,
                                                       EV_RATE_LIMIT_MAX, &tick);
    bufferevent_rate_limit_group *g = bufferevent_rate_limit_group_new(base(), cfg);
    ASSERT_NE(g, nullptr);
    {
        Flow f1(base()), f2(base()), f3(base());
        Flow *fs[3] = {&f1, &f2, &f3};
        for (Flow *f : fs) ASSERT_EQ(bufferevent_add_to_rate_limit_group(f->rx, g), 0);
        std::vector<double> each = measured_rates(base(), {&f1, &f2, &f3});
        double total = each[0] + each[1] + each[2];
        const double slack = conf::kPreciseRateGroups ? 1.0 : 2.0;
        EXPECT_NEAR(total, 300000.0, 30000.0 * slack) << "measured " << total << " B/s";
        for (int i = 0; i < 3; ++i)
            EXPECT_NEAR(each[i], total / 3, total / 3 * 0.25 * slack) << "member " << i;
        for (Flow *f : fs) bufferevent_remove_from_rate_limit_group(f->rx);
    }
    bufferevent_rate_limit_group_free(g);
    ev_token_bucket_cfg_free(cfg);
}

CONF_INSTANTIATE_BACKENDS(BevRateLimit);

}  // namespace
