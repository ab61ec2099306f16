#include "common/io/file/file_io.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/io/envelope.h"
#include "common/io/file/zstd_writer.h"

namespace vigil::io {
namespace {

std::string temp_path(const std::string& name) {
  return testing::TempDir() + "vigil_file_io_" + name;
}

std::string archive_text(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.topic = "raw.facebook";
    r.partition = 0;
    r.offset = i;
    r.timestamp = 1000 + i;
    r.value = "{\"i\":" + std::to_string(i) + "}";
    append_envelope(r, out);
    out += "\n";
  }
  return out;
}

std::vector<Record> read_all(const std::string& path) {
  auto src = open_file_source({path});
  EXPECT_TRUE(src.is_ok()) << src.status().to_string();
  std::vector<Record> out;
  while (!src.value()->at_end()) {
    EXPECT_TRUE(src.value()->poll(out, 3, std::chrono::milliseconds(0)).is_ok());
  }
  return out;
}

TEST(FileSource, ReadsPlainGzipAndZstdAlike) {
  const std::string plain = temp_path("a.jsonl");
  std::ofstream(plain) << archive_text(10);
  ASSERT_EQ(std::system(("gzip -kf " + plain).c_str()), 0);
  ASSERT_EQ(std::system(("zstd -qf " + plain + " -o " + plain + ".zst").c_str()), 0);
  for (const std::string& p : {plain, plain + ".gz", plain + ".zst"}) {
    const auto records = read_all(p);
    ASSERT_EQ(records.size(), 10u) << p;
    EXPECT_EQ(records[9].offset, 9);
    EXPECT_EQ(records[9].value, "{\"i\":9}");
    EXPECT_TRUE(records[9].source_error.empty());
  }
}

TEST(FileSource, BrokenLineBecomesDeadLetterCandidateAndReadingGoesOn) {
  const std::string p = temp_path("broken.jsonl");
  std::ofstream(p) << archive_text(1) << "{not an envelope\n\n" << archive_text(2);
  const auto records = read_all(p);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_FALSE(records[1].source_error.empty());
  EXPECT_EQ(records[1].value, "{not an envelope");
  EXPECT_EQ(records[1].topic, "file:" + p);
  EXPECT_EQ(records[1].offset, 2);  // line number
  EXPECT_TRUE(records[3].source_error.empty());
}

TEST(FileSource, MissingFileFailsAtOpenWithPath) {
  auto src = open_file_source({"/nonexistent/archive.jsonl"});
  ASSERT_FALSE(src.is_ok());
  EXPECT_NE(src.status().message().find("/nonexistent/archive.jsonl"), std::string::npos);
}

TEST(FileSource, TruncatedZstdIsAnError) {
  const std::string p = temp_path("t.jsonl");
  std::ofstream(p) << archive_text(2000);
  ASSERT_EQ(
      std::system(("zstd -qf " + p + " -o " + p + ".zst && head -c 300 " + p + ".zst > " + p + ".cut.zst").c_str()), 0);
  auto src = open_file_source({p + ".cut.zst"});
  ASSERT_TRUE(src.is_ok());
  std::vector<Record> out;
  Status st;
  while (st.is_ok() && !src.value()->at_end()) st = src.value()->poll(out, 100, std::chrono::milliseconds(0));
  EXPECT_FALSE(st.is_ok());
}

TEST(FileSink, AssignsOffsetsPerTopicAndRoutesDeadLetters) {
  const std::string out = temp_path("flags.jsonl"), dlq = temp_path("dlq.jsonl");
  auto sink = open_file_sink({out, "vigil.dlq", dlq});
  ASSERT_TRUE(sink.is_ok());
  auto src = open_file_source({out});  // any source: commit() only needs one to delegate to
  ASSERT_TRUE(sink.value()->begin().is_ok());
  for (const char* topic : {"flags.fraud_link", "flags.personal_data", "flags.fraud_link", "vigil.dlq"}) {
    Record r;
    r.topic = topic;
    r.value = "{}";
    ASSERT_TRUE(sink.value()->send(r).is_ok());
  }
  ASSERT_TRUE(sink.value()->commit(*src.value(), {}).is_ok());
  const auto flags = read_all(out);
  ASSERT_EQ(flags.size(), 3u);
  EXPECT_EQ(flags[2].topic, "flags.fraud_link");
  EXPECT_EQ(flags[2].offset, 1);
  EXPECT_EQ(flags[1].offset, 0);
  const auto dead = read_all(dlq);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].topic, "vigil.dlq");
}

}  // namespace
}  // namespace vigil::io

namespace vigil::io {
namespace {

TEST(ZstdFileWriter, FinishedFileReadsBackAndUnfinishedOneIsDetected) {
  const std::string text = archive_text(5000);
  const std::string done = temp_path("w.jsonl.zst");
  {
    auto w = ZstdFileWriter::create(done, 3);
    ASSERT_TRUE(w.is_ok()) << w.status().to_string();
    for (std::size_t i = 0; i < text.size(); i += 777) ASSERT_TRUE(w.value()->append(text.substr(i, 777)).is_ok());
    ASSERT_TRUE(w.value()->finish().is_ok());
    EXPECT_EQ(w.value()->bytes_in(), text.size());
    EXPECT_GT(w.value()->bytes_out(), 0u);
    EXPECT_LT(w.value()->bytes_out(), text.size() / 3);  // envelopes compress well
  }
  EXPECT_EQ(read_all(done).size(), 5000u);
  EXPECT_TRUE(fsync_directory(testing::TempDir()).is_ok());

  const std::string cut = temp_path("cut.jsonl.zst");
  {
    auto w = ZstdFileWriter::create(cut, 3);
    ASSERT_TRUE(w.is_ok());
    ASSERT_TRUE(w.value()->append(text).is_ok());
  }  // dropped without finish(), as after a crash: nothing, or a truncated frame, is on disk
  auto src = open_file_source({cut});
  ASSERT_TRUE(src.is_ok());
  std::vector<Record> out;
  Status st;
  while (st.is_ok() && !src.value()->at_end()) st = src.value()->poll(out, 100, std::chrono::milliseconds(0));
  EXPECT_TRUE(!st.is_ok() || out.size() < 5000u) << "an unfinished file must never read as complete";
  EXPECT_FALSE(ZstdFileWriter::create("/nonexistent/dir/x.zst", 3).is_ok());
}

}  // namespace
}  // namespace vigil::io
