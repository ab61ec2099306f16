// vigil-tail against a real Apache Kafka broker: flags from the detector's offline run on the
// samples are produced into fresh topics, and each filter must return exactly the flags the
// test selects itself from those values (parsed here with simdjson's DOM API, not the tool's
// parser).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "common/core/time.h"
#include "common/io/file/file_io.h"
#include "tests/support/kafka_cluster.h"

namespace vigil::testing {
namespace {

using namespace std::chrono_literals;

// One flag as the test understands it.
struct Flag {
  std::string json;  // the record value, as produced
  std::string id, category, severity;
  std::vector<std::string> rules;
  std::vector<std::pair<std::string, std::string>> entities;  // type, value or masked form
  std::string detected_at;
  std::string key;
};

int rank(const std::string& severity) {
  static const std::vector<std::string> order = {"low", "medium", "high", "critical"};
  return static_cast<int>(std::find(order.begin(), order.end(), severity) - order.begin());
}

Flag understand(const std::string& json, const std::string& key) {
  simdjson::dom::parser parser;
  const simdjson::dom::element doc = parser.parse(json);
  Flag f;
  f.json = json;
  f.key = key;
  f.id = std::string(doc["flag_id"].get_string().value());
  f.category = std::string(doc["category"].get_string().value());
  f.severity = std::string(doc["severity"].get_string().value());
  f.detected_at = std::string(doc["detected_at"].get_string().value());
  for (const auto rule : doc["rules"].get_array()) f.rules.emplace_back(rule["id"].get_string().value());
  for (const auto e : doc["entities"].get_array()) {
    const std::string type(e["type"].get_string().value());
    for (const char* form : {"value", "masked"}) {
      std::string_view v;
      if (e[form].get_string().get(v) == simdjson::SUCCESS) f.entities.emplace_back(type, std::string(v));
    }
  }
  return f;
}

// Flags of the detector's offline run on the bundled samples, each given its own detected_at
// one minute apart from 2024-04-01T06:00Z (record timestamps alike), so --since has something
// to cut. Everything else is as the detector wrote it.
const std::vector<Flag>& sample_flags() {
  static const std::vector<Flag> flags = [] {
    const std::string dir = ::testing::TempDir() + unique_name("tail-samples");
    std::filesystem::create_directories(dir);
    const int pid =
        spawn({VIGIL_DETECTOR_BIN, "--input", std::string(VIGIL_SOURCE_DIR) + "/samples/sample-stream.jsonl",
               "--output", dir + "/flags.jsonl"},
              dir + "/detector.log");
    EXPECT_EQ(wait_exit(pid, 60s), 0) << read_file(dir + "/detector.log");
    auto src = io::open_file_source({dir + "/flags.jsonl"});
    EXPECT_TRUE(src.is_ok());
    std::vector<io::Record> records;
    while (!src.value()->at_end()) EXPECT_TRUE(src.value()->poll(records, 1000, 0ms).is_ok());
    static const std::regex detected_at("\"detected_at\":\"[^\"]*\"");
    std::vector<Flag> out;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const std::string when =
          format_iso8601(*parse_iso8601("2024-04-01T06:00:00Z") + static_cast<TimestampMs>(i) * 60'000);
      out.push_back(understand(std::regex_replace(*records[i].value, detected_at, "\"detected_at\":\"" + when + "\""),
                               records[i].key.value_or("")));
    }
    return out;
  }();
  return flags;
}

std::vector<std::string> ids(const std::vector<Flag>& flags, const std::function<bool(const Flag&)>& keep) {
  std::vector<std::string> out;
  for (const auto& f : flags) {
    if (keep(f)) out.push_back(f.id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool has_entity(const Flag& f, const std::string& type, const std::string& value) {
  return std::any_of(f.entities.begin(), f.entities.end(),
                     [&](const auto& e) { return (type.empty() || e.first == type) && e.second == value; });
}

io::Record as_record(const Flag& f, const std::string& topic) {
  io::Record r;
  r.topic = topic;
  r.partition = -1;  // keyed: spread over both partitions as the detector's producer would
  r.key = f.key;
  r.value = f.json;
  r.timestamp = *parse_iso8601(f.detected_at);
  r.headers = {{"category", f.category}, {"severity", f.severity}, {"flag_id", f.id}};
  return r;
}

// Fresh flag topics (two partitions each) holding the sample flags and one malformed record.
struct FlagTopics {
  std::string prefix = unique_name("tail") + ".flags.";
  std::string personal = prefix + "personal_data";
  std::string fraud = prefix + "fraud_link";
  std::string dir = ::testing::TempDir() + prefix;
  std::string config = dir + "config.yaml";

  FlagTopics() {
    std::filesystem::create_directories(dir);
    // One topic per category the samples give (personal_data, fraud_link, scam...).
    std::set<std::string> topics = {personal, fraud};
    for (const auto& f : sample_flags()) topics.insert(prefix + f.category);
    create_topics(std::vector<std::string>(topics.begin(), topics.end()), 2);
    std::vector<io::Record> records;
    for (const auto& f : sample_flags()) records.push_back(as_record(f, prefix + f.category));
    io::Record junk;
    junk.topic = fraud;
    junk.partition = 0;
    junk.value = "this is not a flag";
    junk.timestamp = *parse_iso8601("2024-04-01T06:30:00Z");
    records.insert(records.begin() + 2, junk);
    produce(records);
    std::ofstream(config) << "kafka:\n  bootstrap.servers: " << kafka_bootstrap()
                          << "\noutputs:\n  flags_topic_prefix: " << prefix << "\n";
  }
};

// A vigil-tail process with stdout and stderr in separate files.
struct TailRun {
  std::string out, err;
  int pid = -1;

  TailRun(const std::vector<std::string>& args, const std::string& dir) {
    static int n = 0;
    const std::string base = dir + "/tail" + std::to_string(++n);
    out = base + ".out";
    err = base + ".err";
    pid = fork();
    if (pid == 0) {
      const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(o, 1);
      dup2(e, 2);
      std::vector<std::string> argv = {VIGIL_TAIL_BIN};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> c;
      for (auto& a : argv) c.push_back(a.data());
      c.push_back(nullptr);
      execv(c[0], c.data());
      _exit(127);
    }
  }

  std::vector<std::string> lines() const {
    std::vector<std::string> out_lines;
    std::istringstream in(read_file(out));
    for (std::string line; std::getline(in, line);) out_lines.push_back(line);
    return out_lines;
  }
  std::string stderr_text() const { return read_file(err); }

  // Waits until stderr contains `text`.
  bool wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout = 30s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (stderr_text().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Lets it run until `expected` lines were printed and `settle` more passed (to catch any
  // extra flag), then stops it with SIGINT; the exit code.
  std::optional<int> stop_after(std::size_t expected, std::chrono::milliseconds settle = 2s) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (lines().size() < expected && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
    std::this_thread::sleep_for(settle);
    ::kill(pid, SIGINT);
    return wait_exit(pid, 30s);
  }
};

// The flag ids of the printed lines, each of which must be one produced value byte for byte.
std::vector<std::string> printed_ids(const TailRun& run) {
  std::vector<std::string> out;
  for (const auto& line : run.lines()) {
    const auto& flags = sample_flags();
    const auto it = std::find_if(flags.begin(), flags.end(), [&](const Flag& f) { return f.json == line; });
    EXPECT_NE(it, flags.end()) << "not a produced value: " << line;
    if (it != flags.end()) out.push_back(it->id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Tail, SamplesGiveFlagsOfBothCategoriesAndSeverities) {
  const auto& flags = sample_flags();
  ASSERT_GE(flags.size(), 6u);
  EXPECT_FALSE(ids(flags, [](const Flag& f) { return f.category == "fraud_link"; }).empty());
  EXPECT_FALSE(ids(flags, [](const Flag& f) { return f.category == "personal_data"; }).empty());
  EXPECT_FALSE(ids(flags, [](const Flag& f) { return f.severity != "high"; }).empty());
}

struct FilterCase {
  std::vector<std::string> args;
  std::function<bool(const Flag&)> keep;
};

TEST(Tail, EachFilterReturnsExactlyTheMatchingFlags) {
  FlagTopics t;
  const std::vector<FilterCase> cases = {
      {{}, [](const Flag&) { return true; }},
      {{"--category", "fraud_link"}, [](const Flag& f) { return f.category == "fraud_link"; }},
      {{"--min-severity", "high"}, [](const Flag& f) { return rank(f.severity) >= rank("high"); }},
      {{"--min-severity", "medium", "--category", "personal_data"},
       [](const Flag& f) { return rank(f.severity) >= rank("medium") && f.category == "personal_data"; }},
      {{"--entity", "domain:VIETCOMBAMK.com.vn"},
       [](const Flag& f) { return has_entity(f, "domain", "vietcombamk.com.vn"); }},
      {{"--entity", "09******78"}, [](const Flag& f) { return has_entity(f, "", "09******78"); }},
      {{"--rule", "brand.lookalike.edit1", "--rule", "text.pd.trade_offer"},
       [](const Flag& f) {
         return std::count(f.rules.begin(), f.rules.end(), "brand.lookalike.edit1") +
                    std::count(f.rules.begin(), f.rules.end(), "text.pd.trade_offer") >
                0;
       }},
  };
  for (const auto& c : cases) {
    std::string what;
    for (const auto& a : c.args) what += a + " ";
    const auto want = ids(sample_flags(), c.keep);
    ASSERT_FALSE(want.empty()) << what << ": the samples should have such flags";
    // Topics found by prefix from the config's outputs.flags_topic_prefix.
    std::vector<std::string> args = {"-c", t.config, "--from-beginning"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    TailRun run(args, t.dir);
    EXPECT_EQ(run.stop_after(want.size()), 0) << what << run.stderr_text();
    EXPECT_EQ(printed_ids(run), want) << what << run.stderr_text();
    EXPECT_NE(run.stderr_text().find("skipped a record that is not a flag at " + t.fraud + "/0@"), std::string::npos)
        << run.stderr_text();
  }
}

TEST(Tail, SinceStartsAtTheTimeWithAndWithoutAGroup) {
  FlagTopics t;
  const std::string since = "2024-04-01T06:04:00Z";
  // The two topics named with -t below, not every category the samples give.
  const auto want = ids(sample_flags(), [&](const Flag& f) {
    return f.detected_at >= since && (f.category == "personal_data" || f.category == "fraud_link");
  });
  ASSERT_FALSE(want.empty());
  ASSERT_LT(want.size(), sample_flags().size());
  for (const std::vector<std::string>& extra : {std::vector<std::string>{}, {"--group", unique_name("tail-since")}}) {
    std::vector<std::string> args = {"-b", kafka_bootstrap(), "-t", t.personal, "-t", t.fraud, "--since", since};
    args.insert(args.end(), extra.begin(), extra.end());
    TailRun run(args, t.dir);
    EXPECT_EQ(run.stop_after(want.size()), 0) << run.stderr_text();
    EXPECT_EQ(printed_ids(run), want) << run.stderr_text();
  }
}

TEST(Tail, CountEndsTheRunAfterNFlags) {
  FlagTopics t;
  const auto fraud = ids(sample_flags(), [](const Flag& f) { return f.category == "fraud_link"; });
  TailRun run({"-c", t.config, "--from-beginning", "--count", "3", "--category", "fraud_link"}, t.dir);
  EXPECT_EQ(wait_exit(run.pid, 60s), 0) << run.stderr_text();
  const auto got = printed_ids(run);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), 3u);
  EXPECT_TRUE(std::includes(fraud.begin(), fraud.end(), got.begin(), got.end()));
}

TEST(Tail, AGroupSharesProgressAcrossRuns) {
  FlagTopics t;
  const auto all = ids(sample_flags(), [](const Flag&) { return true; });
  const std::string group = unique_name("tail-group");
  std::vector<std::string> seen;
  for (const std::size_t n : {std::size_t{3}, all.size() - 3}) {
    TailRun run({"-c", t.config, "--group", group, "--from-beginning", "--count", std::to_string(n)}, t.dir);
    EXPECT_EQ(wait_exit(run.pid, 60s), 0) << run.stderr_text();
    const auto got = printed_ids(run);
    EXPECT_EQ(got.size(), n) << run.stderr_text();
    seen.insert(seen.end(), got.begin(), got.end());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, all) << "the second run must continue exactly where the first stopped";
  // Nothing is left for the group: a third run prints nothing.
  TailRun last({"-c", t.config, "--group", group}, t.dir);
  EXPECT_EQ(last.stop_after(0, 3s), 0) << last.stderr_text();
  EXPECT_TRUE(last.lines().empty()) << last.stderr_text();
}

TEST(Tail, ByDefaultShowsOnlyFlagsWrittenAfterItStarted) {
  FlagTopics t;
  TailRun run({"-b", kafka_bootstrap(), "-t", t.personal, "-t", t.fraud, "--min-severity", "high"}, t.dir);
  ASSERT_TRUE(run.wait_for_stderr("following 2 topics")) << run.stderr_text();
  // Produced now: the fraud-link flags again, which it must show (those at least high) even
  // though their timestamps are old; the earlier copies it must not.
  std::vector<io::Record> later;
  for (const auto& f : sample_flags()) {
    if (f.category == "fraud_link") later.push_back(as_record(f, t.fraud));
  }
  produce(later);
  const auto want =
      ids(sample_flags(), [](const Flag& f) { return f.category == "fraud_link" && rank(f.severity) >= rank("high"); });
  EXPECT_EQ(run.stop_after(want.size()), 0) << run.stderr_text();
  EXPECT_EQ(printed_ids(run), want) << run.stderr_text();
}

TEST(Tail, ReadsAnOfflineFlagsFile) {
  const std::string dir = ::testing::TempDir() + unique_name("tail-file");
  std::filesystem::create_directories(dir);
  const std::string flags = dir + "/flags.jsonl";
  const int pid = spawn({VIGIL_DETECTOR_BIN, "--input", std::string(VIGIL_SOURCE_DIR) + "/samples/sample-stream.jsonl",
                         "--output", flags},
                        dir + "/detector.log");
  ASSERT_EQ(wait_exit(pid, 60s), 0);
  std::vector<Flag> in_file;
  {
    std::ifstream in(flags);
    simdjson::dom::parser parser;
    for (std::string line; std::getline(in, line);) {
      in_file.push_back(understand(std::string(parser.parse(line)["payload"].get_string().value()), ""));
    }
  }
  const auto want = ids(in_file, [](const Flag& f) { return rank(f.severity) >= rank("high"); });
  ASSERT_FALSE(want.empty());
  TailRun run({"--file", flags, "--min-severity", "high"}, dir);
  EXPECT_EQ(wait_exit(run.pid, 30s), 0) << run.stderr_text();
  std::vector<std::string> got;
  for (const auto& line : run.lines()) {
    const auto it = std::find_if(in_file.begin(), in_file.end(), [&](const Flag& f) { return f.json == line; });
    ASSERT_NE(it, in_file.end()) << "not a payload of the file: " << line;
    got.push_back(it->id);
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
}

TEST(Tail, BadArgumentsExitTwoWithAMessage) {
  const std::string dir = ::testing::TempDir();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--min-severity", "severe"}, {"--count", "many"}, {"--from-beginning"}}) {
    TailRun run(args, dir);
    EXPECT_EQ(wait_exit(run.pid, 30s), 2);
    EXPECT_NE(run.stderr_text().find("vigil-tail: "), std::string::npos);
  }
}

}  // namespace
}  // namespace vigil::testing
