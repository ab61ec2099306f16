#include "services/archive/archive.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <numeric>

#include "common/io/file/file_io.h"

namespace vigil::archive {
namespace {

namespace fs = std::filesystem;

// Hands out scripted batches; records each commit together with the files on disk then.
class FakeSource final : public io::Source {
 public:
  explicit FakeSource(std::string dir) : dir_(std::move(dir)) {}
  Status poll(std::vector<io::Record>&, std::size_t, std::chrono::milliseconds) override { return Status::ok(); }
  bool at_end() const override { return true; }
  Status commit(const std::vector<io::TopicPartitionOffset>& next) override {
    for (const auto& tpo : next) {
      commits.push_back(tpo);
      // The committed range must already be in a closed file.
      bool found = false;
      for (const auto& e : fs::recursive_directory_iterator(dir_)) {
        const auto f = parse_archive_file_name(e.path().filename().string());
        if (f && f->topic == tpo.topic && f->partition == tpo.partition && f->last + 1 == tpo.offset) found = true;
      }
      EXPECT_TRUE(found) << "commit of " << tpo.topic << "/" << tpo.partition << "@" << tpo.offset
                         << " before its file was in place";
    }
    return Status::ok();
  }
  Status seek(const std::vector<io::TopicPartitionOffset>&) override { return Status::ok(); }
  std::vector<io::TopicPartitionOffset> commits;

 private:
  std::string dir_;
};

io::Record rec(const std::string& topic, int partition, std::int64_t offset) {
  io::Record r;
  r.topic = topic;
  r.partition = partition;
  r.offset = offset;
  r.timestamp = 1'700'000'000'000 + offset;
  r.key = "k" + std::to_string(offset);
  r.value = "{\"n\":" + std::to_string(offset) + "}";
  r.headers = {{"h", "v" + std::to_string(offset)}};
  return r;
}

std::vector<io::Record> range(const std::string& topic, int partition, std::int64_t from, std::int64_t to) {
  std::vector<io::Record> out;
  for (auto o = from; o < to; ++o) out.push_back(rec(topic, partition, o));
  return out;
}

std::string fresh_dir(const std::string& name) {
  const std::string dir = ::testing::TempDir() + "vigil_archive_" + name;
  fs::remove_all(dir);
  return dir;
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<io::Record> read_back(const std::string& path) {
  auto src = io::open_file_source({path});
  EXPECT_TRUE(src.is_ok());
  std::vector<io::Record> out;
  while (!src.value()->at_end()) EXPECT_TRUE(src.value()->poll(out, 1000, std::chrono::milliseconds(0)).is_ok());
  return out;
}

TEST(ArchiveFileName, RoundTripsAndSortsByOffset) {
  const ArchiveFile f{"raw.telegram", 3, 42, 99};
  const std::string name = archive_file_name(f);
  EXPECT_EQ(name, "raw.telegram+3+00000000000000000042-00000000000000000099.jsonl.zst");
  const auto back = parse_archive_file_name(name);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->topic, "raw.telegram");
  EXPECT_EQ(back->partition, 3);
  EXPECT_EQ(back->first, 42);
  EXPECT_EQ(back->last, 99);
  EXPECT_LT(archive_file_name({"t", 0, 9, 9}), archive_file_name({"t", 0, 10, 10}));
  EXPECT_FALSE(parse_archive_file_name("t+0+5-4.jsonl.zst"));
  EXPECT_FALSE(parse_archive_file_name("t+x+1-2.jsonl.zst"));
  EXPECT_FALSE(parse_archive_file_name("t+0+1-2.jsonl"));
  EXPECT_FALSE(parse_archive_file_name(".t+0+00000000000000000001.jsonl.zst.partial"));
}

TEST(Archiver, RollsByRecordCountAndCommitsOnlyClosedFiles) {
  const auto dir = fresh_dir("roll");
  ArchiveOptions options;
  options.dir = dir;
  options.max_records = 4;
  Archiver a(options);
  ASSERT_TRUE(a.recover().is_ok());
  FakeSource source(dir);
  auto batch = range("t", 0, 0, 10);
  auto p1 = range("t", 1, 100, 102);
  batch.insert(batch.end(), p1.begin(), p1.end());
  ASSERT_TRUE(a.process(source, batch).is_ok());
  // Two full files of partition 0; partition 0's tail and partition 1 are still open.
  ASSERT_EQ(source.commits.size(), 2u);
  EXPECT_EQ(source.commits[0], (io::TopicPartitionOffset{"t", 0, 4}));
  EXPECT_EQ(source.commits[1], (io::TopicPartitionOffset{"t", 0, 8}));
  ASSERT_TRUE(a.close_all(source).is_ok());
  ASSERT_EQ(source.commits.size(), 4u);
  const auto files = files_in(dir);
  ASSERT_EQ(files.size(), 4u);
  EXPECT_EQ(files[0], "t/" + archive_file_name({"t", 0, 0, 3}));
  EXPECT_EQ(files[2], "t/" + archive_file_name({"t", 0, 8, 9}));
  EXPECT_EQ(files[3], "t/" + archive_file_name({"t", 1, 100, 101}));
  const auto back = read_back(dir + "/" + files[1]);
  ASSERT_EQ(back.size(), 4u);
  const auto want = rec("t", 0, 4);
  EXPECT_EQ(back[0].key, want.key);
  EXPECT_EQ(back[0].value, want.value);
  EXPECT_EQ(back[0].timestamp, want.timestamp);
  EXPECT_EQ(back[0].offset, 4);
  ASSERT_EQ(back[0].headers.size(), 1u);
  EXPECT_EQ(back[0].headers[0].value, "v4");
  EXPECT_EQ(a.stats().records, 12u);
  EXPECT_EQ(a.stats().files, 4u);
}

TEST(Archiver, RollsByAge) {
  const auto dir = fresh_dir("age");
  auto now = std::chrono::steady_clock::time_point{};
  ArchiveOptions options;
  options.dir = dir;
  options.max_age = std::chrono::seconds(60);
  Archiver a(options, [&now] { return now; });
  ASSERT_TRUE(a.recover().is_ok());
  FakeSource source(dir);
  auto b1 = range("t", 0, 0, 3);
  ASSERT_TRUE(a.process(source, b1).is_ok());
  now += std::chrono::seconds(59);
  std::vector<io::Record> none;
  ASSERT_TRUE(a.process(source, none).is_ok());
  EXPECT_TRUE(source.commits.empty());
  now += std::chrono::seconds(1);
  ASSERT_TRUE(a.process(source, none).is_ok());
  ASSERT_EQ(source.commits.size(), 1u);
  EXPECT_EQ(source.commits[0].offset, 3);
}

TEST(Archiver, AfterACrashPartialsGoAndArchivedRecordsAreSkipped) {
  const auto dir = fresh_dir("crash");
  ArchiveOptions options;
  options.dir = dir;
  options.max_records = 5;
  {
    Archiver a(options);
    ASSERT_TRUE(a.recover().is_ok());
    FakeSource source(dir);
    auto batch = range("t", 0, 0, 7);  // one closed file (0-4), one partial (5-6)
    ASSERT_TRUE(a.process(source, batch).is_ok());
    // The process "dies" here: no close_all(); and suppose the commit of 0-4 was lost too.
  }
  ASSERT_EQ(files_in(dir).size(), 2u);
  Archiver b(options);
  ASSERT_TRUE(b.recover().is_ok());
  EXPECT_EQ(b.stats().partials_removed, 1u);
  EXPECT_EQ(b.archived_up_to().at({"t", 0}), 5);
  FakeSource source(dir);
  auto again = range("t", 0, 0, 12);  // the broker re-delivers from the (lost) commit
  ASSERT_TRUE(b.process(source, again).is_ok());
  ASSERT_TRUE(b.close_all(source).is_ok());
  EXPECT_EQ(b.stats().already_archived, 5u);
  std::vector<std::int64_t> offsets;
  for (const auto& f : files_in(dir)) {
    for (const auto& r : read_back(dir + "/" + f)) offsets.push_back(r.offset);
  }
  std::vector<std::int64_t> want(12);
  std::iota(want.begin(), want.end(), 0);
  EXPECT_EQ(offsets, want);  // each offset exactly once
}

TEST(Archiver, RevokeClosesAndCommitsThosePartitionsOnly) {
  const auto dir = fresh_dir("revoke");
  ArchiveOptions options;
  options.dir = dir;
  Archiver a(options);
  ASSERT_TRUE(a.recover().is_ok());
  FakeSource source(dir);
  auto batch = range("t", 0, 0, 3);
  auto p1 = range("t", 1, 0, 2);
  batch.insert(batch.end(), p1.begin(), p1.end());
  ASSERT_TRUE(a.process(source, batch).is_ok());
  a.on_revoke(source, {{"t", 1, -1}});
  ASSERT_EQ(source.commits.size(), 1u);
  EXPECT_EQ(source.commits[0], (io::TopicPartitionOffset{"t", 1, 2}));
}

}  // namespace
}  // namespace vigil::archive
