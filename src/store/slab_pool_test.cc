#include "store/slab_pool.h"

#include <gtest/gtest.h>

#include <vector>

namespace cmdq::store {
namespace {

TEST(SlabPool, RecyclesTheLastReleasedFirstAndKeepsAddresses) {
  SlabPool<std::vector<int>, 4> pool;
  std::vector<std::vector<int>*> objects;
  for (int i = 0; i < 10; ++i) {
    objects.push_back(pool.Allocate());
    objects.back()->push_back(i);
  }
  EXPECT_EQ(pool.live(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(objects[i]->front(), i);  // no slab moved
  pool.Release(objects[3]);
  pool.Release(objects[7]);
  EXPECT_EQ(pool.live(), 8u);
  EXPECT_EQ(pool.Allocate(), objects[7]);
  EXPECT_EQ(pool.Allocate(), objects[3]);
  EXPECT_EQ(objects[3]->front(), 3);  // left as released: the caller resets it
  EXPECT_EQ(pool.live(), 10u);
}

}  // namespace
}  // namespace cmdq::store
