// DaryHeap (src/core/dary_heap.h) against a std::set model: random pushes, pops, erases,
// key updates and bulk extraction; the stored index always names the element's slot.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "core/dary_heap.h"

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

using Heap = reevent::core::DaryHeap<Item, Hooks>;  // the timers' arity
using Key = std::pair<long, long>;

template <class H>
void check_indexes(H &h) {
    for (size_t i = 0; i < h.size(); ++i) ASSERT_EQ(h.at(i)->idx, static_cast<int>(i));
}

// Pops everything: each top must be the model's least, and the heap ends empty.
void pop_all_in_model_order(Heap &h, std::set<Key> &model) {
    while (!model.empty()) {
        Item *t = h.pop();
        ASSERT_EQ(Key(t->key, t->seq), *model.begin());
        model.erase(model.begin());
    }
    EXPECT_TRUE(h.empty());
}

template <size_t D>
void random_operations_match_the_model() {
    std::mt19937 rng(12345);
    std::vector<Item> items(2000);
    reevent::core::DaryHeap<Item, Hooks, D> h;
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

TEST(DaryHeap, MatchesASetModelUnderRandomOperations) {
    random_operations_match_the_model<8>();
    random_operations_match_the_model<4>();
    random_operations_match_the_model<2>();
}

// Mass expiry's path: take out everything at or below a key (in any order), the rest must
// still be a heap with right indexes; repeated on shrinking heaps of every shape.
TEST(DaryHeap, ExtractIfLeavesTheRestAHeap) {
    std::mt19937 rng(4242);
    for (size_t n : {0, 1, 2, 8, 9, 10, 73, 1000, 20000}) {
        std::vector<Item> items(n);
        Heap h;
        std::set<Key> model;
        for (size_t i = 0; i < n; ++i) {
            items[i].key = static_cast<long>(rng() % 1000);
            items[i].seq = static_cast<long>(i);
            ASSERT_TRUE(h.push(&items[i]));
            model.insert({items[i].key, items[i].seq});
        }
        for (long cut : {-1L, 100L, 500L, 999L}) {
            std::set<Key> taken;
            h.extract_if([cut](Item *it) { return it->key <= cut; },
                         [&](Item *it) {
                             ASSERT_EQ(it->idx, -1);
                             taken.insert({it->key, it->seq});
                         });
            std::set<Key> expect;
            for (auto it = model.begin(); it != model.end() && it->first <= cut;) {
                expect.insert(*it);
                it = model.erase(it);
            }
            ASSERT_EQ(taken, expect) << "n=" << n << " cut=" << cut;
            ASSERT_EQ(h.size(), model.size());
            check_indexes(h);
            if (!model.empty()) {
                ASSERT_EQ(Key(h.top()->key, h.top()->seq), *model.begin());
            }
        }
        pop_all_in_model_order(h, model);
    }
}

// The timers' sweep: the same, but the elements taken keep their old index (the caller
// resets it); the rest is a heap with right indexes all the same.
TEST(DaryHeap, ExtractIfUnmarkedLeavesTakenIndexesToTheCaller) {
    std::mt19937 rng(777);
    for (size_t n : {1, 9, 1000, 20000}) {
        std::vector<Item> items(n);
        Heap h;
        std::set<Key> model;
        for (size_t i = 0; i < n; ++i) {
            items[i].key = static_cast<long>(rng() % 1000);
            items[i].seq = static_cast<long>(i);
            ASSERT_TRUE(h.push(&items[i]));
            model.insert({items[i].key, items[i].seq});
        }
        std::set<Key> taken;
        h.extract_if_unmarked([](Item *it) { return it->key <= 600; },
                              [&](Item *it) {
                                  ASSERT_GE(it->idx, 0);  // stale: not reset by the heap
                                  it->idx = -1;
                                  taken.insert({it->key, it->seq});
                              });
        std::set<Key> expect;
        for (auto it = model.begin(); it != model.end() && it->first <= 600;) {
            expect.insert(*it);
            it = model.erase(it);
        }
        ASSERT_EQ(taken, expect) << "n=" << n;
        ASSERT_EQ(h.size(), model.size());
        check_indexes(h);
        pop_all_in_model_order(h, model);
    }
}

TEST(DaryHeap, EqualKeysComeOutInSequenceOrder) {
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
TEST(DaryHeap, EraseAndUpdateAnywhereKeepTheOrder) {
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
    pop_all_in_model_order(h, model);
}

TEST(DaryHeap, HundredThousandTimersStayCheap) {
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
