// QuadHeap (src/core/quad_heap.h) against a std::multiset model: random pushes, pops,
// erases and key updates; the stored index always names the element's slot.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "core/quad_heap.h"

namespace {

struct Item {
    long key;
    long seq;
    int idx = -1;
};

struct Hooks {
    static bool less(const Item *a, const Item *b) {
        return a->key != b->key ? a->key < b->key : a->seq < b->seq;
    }
    static int &index(Item *i) { return i->idx; }
};

using Heap = reevent::core::QuadHeap<Item, Hooks>;
using Key = std::pair<long, long>;

void check_indexes(Heap &h) {
    for (size_t i = 0; i < h.size(); ++i) ASSERT_EQ(h.at(i)->idx, static_cast<int>(i));
}

TEST(QuadHeap, MatchesAMultisetModelUnderRandomOperations) {
    std::mt19937 rng(12345);
    std::vector<Item> items(2000);
    Heap h;
    std::set<Key> model;
    long seq = 0;
    for (int step = 0; step < 200000; ++step) {
        Item &it = items[rng() % items.size()];
        int op = static_cast<int>(rng() % 4);
        if (op == 0 && it.idx < 0) {
            it.key = static_cast<long>(rng() % 1000);
            it.seq = seq++;
            ASSERT_TRUE(h.push(&it));
            model.insert({it.key, it.seq});
        } else if (op == 1 && it.idx >= 0) {
            model.erase({it.key, it.seq});
            h.erase(&it);
            ASSERT_EQ(it.idx, -1);
        } else if (op == 2 && it.idx >= 0) {
            model.erase({it.key, it.seq});
            it.key = static_cast<long>(rng() % 1000);
            it.seq = seq++;
            h.update(&it);
            model.insert({it.key, it.seq});
        } else if (op == 3 && !model.empty()) {
            Item *top = h.pop();
            ASSERT_NE(top, nullptr);
            ASSERT_EQ(Key(top->key, top->seq), *model.begin());
            model.erase(model.begin());
            ASSERT_EQ(top->idx, -1);
        }
        ASSERT_EQ(h.size(), model.size());
        if (!model.empty()) {
            ASSERT_EQ(Key(h.top()->key, h.top()->seq), *model.begin());
        }
        if (step % 997 == 0) check_indexes(h);
    }
}

TEST(QuadHeap, EqualKeysComeOutInSequenceOrder) {
    std::vector<Item> items(100);
    Heap h;
    for (int i = 0; i < 100; ++i) {
        items[i].key = 7;
        items[i].seq = i;
        ASSERT_TRUE(h.push(&items[i]));
    }
    for (int i = 0; i < 100; ++i) ASSERT_EQ(h.pop()->seq, i);
    EXPECT_TRUE(h.empty());
}

// The timer benchmarks' pattern: erase pending elements in insertion order (the hole is
// anywhere; the last element fills it and moves up or down), then move the rest.
TEST(QuadHeap, EraseAndUpdateAnywhereKeepTheOrder) {
    std::vector<Item> items(20000);
    Heap h;
    std::set<Key> model;
    std::mt19937 rng(99);
    long seq = 0;
    for (auto &it : items) {
        it.key = static_cast<long>(rng() % 5000);
        it.seq = seq++;
        ASSERT_TRUE(h.push(&it));
        model.insert({it.key, it.seq});
    }
    for (size_t i = 0; i < items.size() / 2; ++i) {
        h.erase(&items[i]);
        model.erase({items[i].key, items[i].seq});
        ASSERT_EQ(items[i].idx, -1);
        ASSERT_EQ(Key(h.top()->key, h.top()->seq), *model.begin());
        if (i % 499 == 0) check_indexes(h);
    }
    for (size_t i = items.size() / 2; i < items.size(); ++i) {
        Item &it = items[i];
        model.erase({it.key, it.seq});
        it.key = static_cast<long>(rng() % 5000);
        it.seq = seq++;
        h.update(&it);
        model.insert({it.key, it.seq});
        ASSERT_EQ(Key(h.top()->key, h.top()->seq), *model.begin());
    }
    check_indexes(h);
    while (!model.empty()) {
        Item *t = h.pop();
        ASSERT_EQ(Key(t->key, t->seq), *model.begin());
        model.erase(model.begin());
    }
    EXPECT_TRUE(h.empty());
}

TEST(QuadHeap, HundredThousandTimersStayCheap) {
    std::vector<Item> items(100000);
    Heap h;
    ASSERT_TRUE(h.reserve(items.size()));
    std::mt19937 rng(7);
    for (size_t i = 0; i < items.size(); ++i) {
        items[i].key = static_cast<long>(rng());
        items[i].seq = static_cast<long>(i);
        ASSERT_TRUE(h.push(&items[i]));
    }
    long last = -1;
    size_t n = 0;
    while (Item *t = h.pop()) {
        ASSERT_GE(t->key, last);
        last = t->key;
        ++n;
    }
    EXPECT_EQ(n, items.size());
}

}  // namespace
