#include "common/state/store.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace vigil::state {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("vigil-store-test-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    reopen();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    store_.reset();
    auto s = open_rocksdb_store({dir_.string(), {"windows", "first_seen"}, 1 << 20});
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    store_ = std::move(s.value());
  }
  std::optional<std::string> get(std::string_view store, std::int32_t p, std::string_view key) {
    auto r = store_->get(store, p, key);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    if (!r.is_ok() || !r.value()) return std::nullopt;
    return r.value()->value;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTest, PendingWritesAreReadableThenCommittedOrDiscarded) {
  ASSERT_TRUE(store_->put("windows", 0, "k", "v1", 100).is_ok());
  EXPECT_EQ(get("windows", 0, "k"), "v1");
  EXPECT_EQ(get("windows", 1, "k"), std::nullopt);     // partitions are separate
  EXPECT_EQ(get("first_seen", 0, "k"), std::nullopt);  // so are stores
  store_->discard();
  EXPECT_EQ(get("windows", 0, "k"), std::nullopt);

  ASSERT_TRUE(store_->put("windows", 0, "k", "v2", 100).is_ok());
  ASSERT_TRUE(store_->commit({{0, 42}}).is_ok());
  ASSERT_TRUE(store_->erase("windows", 0, "k").is_ok());
  EXPECT_EQ(get("windows", 0, "k"), std::nullopt);  // a pending delete hides the committed value
  store_->discard();
  reopen();
  EXPECT_EQ(get("windows", 0, "k"), "v2");
  auto ckpt = store_->checkpoint(0);
  ASSERT_TRUE(ckpt.is_ok() && ckpt.value());
  EXPECT_EQ(ckpt.value()->next_offset, 42);
  auto none = store_->checkpoint(1);
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(none.value());
}

TEST_F(StoreTest, RawBytesRestoreElsewhere) {
  ASSERT_TRUE(store_->put("first_seen", 3, "domain:x.top", "payload", 777).is_ok());
  auto raw = store_->raw("first_seen", 3, "domain:x.top");
  ASSERT_TRUE(raw.is_ok() && raw.value());
  store_->discard();
  ASSERT_TRUE(store_->restore({"first_seen", 5, "domain:x.top", *raw.value()}).is_ok());
  auto got = store_->get("first_seen", 5, "domain:x.top");
  ASSERT_TRUE(got.is_ok() && got.value());
  EXPECT_EQ(got.value()->value, "payload");
  EXPECT_EQ(got.value()->expire_at, 777);
  ASSERT_TRUE(store_->restore({"first_seen", 5, "domain:x.top", std::nullopt}).is_ok());
  EXPECT_EQ(get("first_seen", 5, "domain:x.top"), std::nullopt);
  EXPECT_FALSE(store_->restore({"nope", 5, "k", "v"}).is_ok());
}

TEST_F(StoreTest, DropPartitionForgetsOnlyThatPartition) {
  for (const std::int32_t p : {1, 2}) {
    ASSERT_TRUE(store_->put("windows", p, "a", "x", 0).is_ok());
    ASSERT_TRUE(store_->put("first_seen", p, "b", "y", 0).is_ok());
  }
  ASSERT_TRUE(store_->commit({{1, 10}, {2, 20}}).is_ok());
  ASSERT_TRUE(store_->drop_partition(1).is_ok());
  EXPECT_EQ(get("windows", 1, "a"), std::nullopt);
  EXPECT_EQ(get("first_seen", 1, "b"), std::nullopt);
  EXPECT_EQ(get("windows", 2, "a"), "x");
  auto ckpt = store_->checkpoint(1);
  ASSERT_TRUE(ckpt.is_ok());
  EXPECT_FALSE(ckpt.value());
}

TEST_F(StoreTest, ScanResumesFromItsCursor) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(store_->put("windows", 4, "k" + std::to_string(i), "v", i).is_ok());
  ASSERT_TRUE(store_->put("windows", 5, "other", "v", 0).is_ok());
  ASSERT_TRUE(store_->commit({}).is_ok());
  std::vector<std::string> seen;
  std::string cursor;
  do {
    auto r = store_->scan("windows", 4, cursor, 3, [&](std::string_view key, const Stored&) {
      seen.emplace_back(key);
      return true;
    });
    ASSERT_TRUE(r.is_ok());
    cursor = r.value();
  } while (!cursor.empty());
  ASSERT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.front(), "k0");
  EXPECT_EQ(seen.back(), "k9");
}

TEST_F(StoreTest, CompactionDropsValuesExpiredAtTheirPartitionsStreamTime) {
  ASSERT_TRUE(store_->put("windows", 0, "old", "v", 100).is_ok());
  ASSERT_TRUE(store_->put("windows", 0, "new", "v", 1000).is_ok());
  ASSERT_TRUE(store_->put("windows", 0, "forever", "v", 0).is_ok());
  ASSERT_TRUE(store_->put("windows", 1, "old-elsewhere", "v", 100).is_ok());
  ASSERT_TRUE(store_->commit({}).is_ok());
  store_->set_stream_time(0, 500);  // partition 1's stream time is unknown: kept
  ASSERT_TRUE(store_->compact().is_ok());
  EXPECT_EQ(get("windows", 0, "old"), std::nullopt);
  EXPECT_EQ(get("windows", 0, "new"), "v");
  EXPECT_EQ(get("windows", 0, "forever"), "v");
  EXPECT_EQ(get("windows", 1, "old-elsewhere"), "v");
  EXPECT_GT(store_->stats().block_cache_capacity_bytes, 0u);
}

TEST(StoreOpen, UnwritablePathIsAClearError) {
  auto s = open_rocksdb_store({"/proc/vigil-cannot-be-here", {"windows"}, 1 << 20});
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("/proc/vigil-cannot-be-here"), std::string::npos);
}

}  // namespace
}  // namespace vigil::state
