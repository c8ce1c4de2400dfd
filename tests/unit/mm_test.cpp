// mm: allocation hooks and the Vec container against a simple model.
#include "core/mm.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace {

TEST(MmVec, MatchesStdVectorUnderRandomOps) {
    reevent::mm::Vec<int> v;
    std::vector<int> model;
    std::mt19937 rng(42);
    for (int i = 0; i < 100000; ++i) {
        switch (rng() % 4) {
            case 0:
            case 1: {
                int x = static_cast<int>(rng());
                ASSERT_TRUE(v.push_back(x));
                model.push_back(x);
                break;
            }
            case 2:
                if (!model.empty()) {
                    v.pop_back();
                    model.pop_back();
                }
                break;
            case 3: {
                size_t n = rng() % 64;
                ASSERT_TRUE(v.resize(n, 7));
                model.resize(n, 7);
                break;
            }
        }
        ASSERT_EQ(v.size(), model.size());
    }
    for (size_t i = 0; i < model.size(); ++i) ASSERT_EQ(v[i], model[i]);
}

TEST(Mm, MallocZeroIsNullAndCallocOverflowFails) {
    EXPECT_EQ(reevent::mm::malloc(0), nullptr);
    EXPECT_EQ(reevent::mm::calloc(SIZE_MAX / 2, 4), nullptr);
    void *p = reevent::mm::calloc(4, 8);
    ASSERT_NE(p, nullptr);
    for (int i = 0; i < 32; ++i) EXPECT_EQ(static_cast<unsigned char *>(p)[i], 0);
    reevent::mm::free(p);
}

}  // namespace
