#include "services/tail/tail.h"

#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <fstream>

#include "common/io/envelope.h"
#include "common/io/file/file_io.h"

namespace vigil::tail {
namespace {

using io::TopicPartitionOffset;

std::string flag_json(const std::string& id, const std::string& category, const std::string& severity) {
  // Odd spacing and key order on purpose: JSON output must be the bytes received, not a rewrite.
  return R"({ "flag_id":"fl_)" + id + R"(", "category":")" + category + R"(","severity":")" + severity +
         R"(","rules":[{"id":"r.)" + id + R"(","reason_en":"because \u00e9"}],"entities":[],)" +
         R"("source":{"permalink":null},"detected_at":"2024-04-01T00:00:00Z"})";
}

io::Record record(std::int64_t offset, std::optional<std::string> value) {
  io::Record r;
  r.topic = "flags.x";
  r.partition = 0;
  r.offset = offset;
  r.timestamp = 1711929600000;
  r.value = std::move(value);
  return r;
}

// Hands out its records a few at a time and remembers commits.
class FakeSource final : public io::Source {
 public:
  explicit FakeSource(std::vector<io::Record> records, bool finite = true)
      : records_(records.begin(), records.end()), finite_(finite) {}
  Status poll(std::vector<io::Record>& out, std::size_t max, std::chrono::milliseconds) override {
    for (std::size_t i = 0; i < std::min<std::size_t>(max, 3) && !records_.empty(); ++i) {
      out.push_back(records_.front());
      records_.pop_front();
    }
    return Status::ok();
  }
  bool at_end() const override { return finite_ && records_.empty(); }
  Status commit(const std::vector<TopicPartitionOffset>& next) override {
    commits.push_back(next);
    return Status::ok();
  }
  Status seek(const std::vector<TopicPartitionOffset>&) override { return Status::ok(); }
  std::vector<std::vector<TopicPartitionOffset>> commits;

 private:
  std::deque<io::Record> records_;
  bool finite_;
};

class StringWriter final : public Writer {
 public:
  Status write(std::string_view text) override {
    if (closed) return Status(Code::kNotFound, "closed");
    out += text;
    return Status::ok();
  }
  std::string out;
  bool closed = false;
};

TailOptions quiet(std::vector<std::string>& warnings) {
  TailOptions o;
  o.warn = [&warnings](const std::string& w) { warnings.push_back(w); };
  return o;
}

TEST(Tail, JsonOutputIsEachMatchingValueByteForByte) {
  const std::string a = flag_json("a", "fraud_link", "high"), b = flag_json("b", "personal_data", "low");
  const std::string c = flag_json("c", "fraud_link", "critical");
  FakeSource source({record(0, a), record(1, b), record(2, c)});
  StringWriter out;
  std::vector<std::string> warnings;
  TailOptions options = quiet(warnings);
  options.filter.categories = {"fraud_link"};
  Tail tail(source, out, options);
  const std::atomic<bool> stop{false};
  ASSERT_TRUE(tail.run(stop).is_ok());
  EXPECT_EQ(out.out, a + "\n" + c + "\n");
  EXPECT_EQ(tail.stats().printed, 2u);
  EXPECT_EQ(tail.stats().records, 3u);
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE(source.commits.empty()) << "no group, no commits";
}

TEST(Tail, MalformedRecordsAreSkippedCountedAndNeverStopIt) {
  const std::string good = flag_json("a", "fraud_link", "high");
  FakeSource source({record(0, "{not json"), record(1, std::nullopt), record(2, good),
                     record(3, R"({"flag_id":"fl_1","category":"x","severity":"bad"})"), record(4, "[]"),
                     record(5, good)});
  StringWriter out;
  std::vector<std::string> warnings;
  Tail tail(source, out, quiet(warnings));
  const std::atomic<bool> stop{false};
  ASSERT_TRUE(tail.run(stop).is_ok());
  EXPECT_EQ(out.out, good + "\n" + good + "\n");
  EXPECT_EQ(tail.stats().malformed, 4u);
  ASSERT_EQ(warnings.size(), 4u);
  EXPECT_NE(warnings[0].find("flags.x/0@0"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("not a JSON object"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("no value"), std::string::npos) << warnings[1];
  EXPECT_NE(warnings[2].find("unknown severity 'bad'"), std::string::npos) << warnings[2];
  EXPECT_NE(warnings[3].find("(4 skipped so far)"), std::string::npos) << warnings[3];
}

TEST(Tail, WarningsThinOutOnATopicFullOfGarbage) {
  std::vector<io::Record> records;
  for (int i = 0; i < 2500; ++i) records.push_back(record(i, "garbage"));
  FakeSource source(records);
  StringWriter out;
  std::vector<std::string> warnings;
  Tail tail(source, out, quiet(warnings));
  const std::atomic<bool> stop{false};
  ASSERT_TRUE(tail.run(stop).is_ok());
  EXPECT_EQ(tail.stats().malformed, 2500u);
  EXPECT_EQ(warnings.size(), 12u);  // the first 10, then the 1000th and 2000th
}

TEST(Tail, CountStopsAndCommitsOnlyWhatWasRead) {
  std::vector<io::Record> records;
  for (int i = 0; i < 10; ++i) records.push_back(record(i, flag_json(std::to_string(i), "fraud_link", "high")));
  FakeSource source(records, false);
  StringWriter out;
  std::vector<std::string> warnings;
  TailOptions options = quiet(warnings);
  options.count = 4;
  options.commit = true;
  Tail tail(source, out, options);
  const std::atomic<bool> stop{false};
  ASSERT_TRUE(tail.run(stop).is_ok());
  EXPECT_EQ(tail.stats().printed, 4u);
  // Batches of 3: the second batch is cut after its first record.
  ASSERT_EQ(source.commits.size(), 2u);
  EXPECT_EQ(source.commits[0], (std::vector<TopicPartitionOffset>{{"flags.x", 0, 3}}));
  EXPECT_EQ(source.commits[1], (std::vector<TopicPartitionOffset>{{"flags.x", 0, 4}}));
}

TEST(Tail, StopsOnTheFlagAndOnAClosedOutput) {
  FakeSource endless({}, false);
  StringWriter out;
  std::vector<std::string> warnings;
  Tail tail(endless, out, quiet(warnings));
  const std::atomic<bool> stop{true};
  EXPECT_TRUE(tail.run(stop).is_ok());

  FakeSource source({record(0, flag_json("a", "fraud_link", "high"))}, false);
  StringWriter closed;
  closed.closed = true;
  Tail piped(source, closed, quiet(warnings));
  const std::atomic<bool> go{false};
  EXPECT_TRUE(piped.run(go).is_ok());
}

TEST(Tail, TableModePrintsAHeaderThenRows) {
  FakeSource source({record(0, flag_json("a", "fraud_link", "critical"))});
  StringWriter out;
  std::vector<std::string> warnings;
  TailOptions options = quiet(warnings);
  options.table = true;
  options.style = {true, 160};
  Tail tail(source, out, options);
  const std::atomic<bool> stop{false};
  ASSERT_TRUE(tail.run(stop).is_ok());
  EXPECT_EQ(out.out.find("\033[1mEVENT TIME"), 0u) << out.out;
  EXPECT_NE(out.out.find("\033[1;31mcritical"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("because é"), std::string::npos) << out.out;
}

TEST(Tail, ReadsEnvelopeAndPlainFlagLinesFromFiles) {
  const std::string dir = ::testing::TempDir() + "tail_files";
  std::filesystem::create_directories(dir);
  const std::string a = flag_json("a", "fraud_link", "high"), b = flag_json("b", "personal_data", "medium");
  io::Record envelope = record(7, a);
  envelope.timestamp = 1711929600000;
  std::string line;
  io::append_envelope(envelope, line);
  {
    std::ofstream f(dir + "/flags.jsonl");
    f << line << "\n"
      << b << "\n\nnot a flag at all\n"
      << R"({"payload":null,"topic":"t"})"
      << "\n";
  }
  auto source = io::open_file_source({dir + "/flags.jsonl"});
  ASSERT_TRUE(source.is_ok());
  StringWriter out;
  std::vector<std::string> warnings;
  Tail tail(*source.value(), out, quiet(warnings));
  const std::atomic<bool> stop{false};
  ASSERT_TRUE(tail.run(stop).is_ok());
  EXPECT_EQ(out.out, a + "\n" + b + "\n");
  EXPECT_EQ(tail.stats().malformed, 2u);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("flags.jsonl line 4"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("no value"), std::string::npos) << warnings[1];
}

}  // namespace
}  // namespace vigil::tail
