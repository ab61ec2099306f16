// vigil-archive, vigil-replay and vigil-detector --reset-to against a real Apache Kafka
// broker, with kcat (Debian's package) producing and dumping records as an operator would.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "common/io/file/file_io.h"
#include "tests/support/http_client.h"
#include "tests/support/kafka_cluster.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kArchive = VIGIL_ARCHIVE_BIN;
const std::string kReplay = VIGIL_REPLAY_BIN;
const std::string kDetector = VIGIL_DETECTOR_BIN;

std::string scratch(const std::string& name) {
  const std::string dir = ::testing::TempDir() + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Produces "key<TAB>value" lines with kcat, all records carrying the given headers.
void kcat_produce(const std::string& topic, const std::vector<std::pair<std::string, std::string>>& lines,
                  const std::string& headers, const std::string& dir) {
  const std::string input = dir + "/kcat-input-" + topic + ".txt";
  {
    std::ofstream out(input, std::ios::binary);
    for (const auto& [k, v] : lines) out << k << '\t' << v << '\n';
  }
  const std::string log = dir + "/kcat-produce.log";
  ASSERT_EQ(run_shell("kcat -b " + kafka_bootstrap() + " -P -t " + topic + " -K '\t' " + headers + " -l " + input, log),
            0)
      << read_file(log);
}

// Records per partition, in offset order.
std::map<std::int32_t, std::vector<io::Record>> by_partition(const std::vector<io::Record>& records) {
  std::map<std::int32_t, std::vector<io::Record>> out;
  for (const auto& r : records) out[r.partition].push_back(r);
  for (auto& [p, v] : out) {
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.offset < b.offset; });
  }
  return out;
}

// Same keys, values, headers and timestamps in the same order on every partition.
void expect_same_records(const std::vector<io::Record>& want, const std::vector<io::Record>& got) {
  ASSERT_EQ(want.size(), got.size());
  auto w = by_partition(want);
  auto g = by_partition(got);
  ASSERT_EQ(w.size(), g.size());
  for (const auto& [p, records] : w) {
    ASSERT_EQ(records.size(), g[p].size()) << "partition " << p;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto& a = records[i];
      const auto& b = g[p][i];
      EXPECT_EQ(a.key, b.key) << "partition " << p << " #" << i;
      EXPECT_EQ(a.value, b.value) << "partition " << p << " #" << i;
      EXPECT_EQ(a.timestamp, b.timestamp) << "partition " << p << " #" << i;
      ASSERT_EQ(a.headers.size(), b.headers.size());
      for (std::size_t h = 0; h < a.headers.size(); ++h) {
        EXPECT_EQ(a.headers[h].key, b.headers[h].key);
        EXPECT_EQ(a.headers[h].value, b.headers[h].value);
      }
    }
  }
}

std::vector<io::Record> read_archive_dir(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().string().ends_with(".jsonl.zst")) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  std::vector<io::Record> out;
  if (files.empty()) return out;
  auto src = io::open_file_source(files);
  EXPECT_TRUE(src.is_ok());
  while (!src.value()->at_end()) EXPECT_TRUE(src.value()->poll(out, 5000, 0ms).is_ok());
  return out;
}

// Offsets covered by closed archive files (their names say first-last).
std::size_t archived_count(const std::string& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!name.ends_with(".jsonl.zst") || name.starts_with(".")) continue;
    const auto dash = name.rfind('-');
    const auto plus = name.rfind('+');
    n += std::stoull(name.substr(dash + 1, 20)) - std::stoull(name.substr(plus + 1, 20)) + 1;
  }
  return n;
}

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout,
              std::chrono::milliseconds step = 100ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(step);
  }
  return done();
}

std::vector<std::pair<std::string, std::string>> numbered_lines(std::size_t n, const std::string& tag) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.emplace_back("key-" + std::to_string(i % 97), "{\"tag\":\"" + tag + "\",\"n\":" + std::to_string(i) +
                                                          ",\"text\":\"Bán data khách hàng " +
                                                          std::to_string(i * 7919 % 100000) + "\"}");
  }
  return out;
}

TEST(ArchiveReplay, KcatRecordsArchiveAndReplayIdentically) {
  const std::string dir = scratch(unique_name("roundtrip"));
  const std::string src = unique_name("tools.src");
  const std::string dst = unique_name("tools.dst");
  create_topics({src, dst}, 3);
  auto lines = numbered_lines(3000, "rt");
  lines.emplace_back("binary", std::string("\xff\xfe raw \x01 bytes", 14));  // not UTF-8: base64 in the archive
  kcat_produce(src, lines, "-H origin=kcat -H trace=abc", dir);
  const auto original = consume(src, lines.size(), 60s, 1500ms, 3);
  ASSERT_EQ(original.size(), lines.size());

  const std::string archive = dir + "/archive";
  const int pid = spawn({kArchive, "-b", kafka_bootstrap(), "-d", archive, "-t", src, "-G", unique_name("arch"),
                         "--max-records", "500", "--max-age", "2s"},
                        dir + "/archive.log");
  ASSERT_TRUE(wait_for([&] { return archived_count(archive) == lines.size(); }, 60s))
      << read_file(dir + "/archive.log");
  kill(pid, SIGINT);
  ASSERT_EQ(wait_exit(pid, 30s), 0) << read_file(dir + "/archive.log");
  expect_same_records(original, read_archive_dir(archive));

  const std::string log = dir + "/replay.log";
  ASSERT_EQ(run_shell(kReplay + " -b " + kafka_bootstrap() + " --partition-by original --topic-map " + src + "=" + dst +
                          " --no-progress " + archive + "/" + src + "/",
                      log),
            0)
      << read_file(log);
  EXPECT_NE(read_file(log).find("replayed 3,001 of 3,001 records"), std::string::npos) << read_file(log);
  expect_same_records(original, consume(dst, lines.size(), 60s, 1500ms, 3));
}

TEST(ArchiveReplay, KcatJsonDumpReplaysAsIs) {
  const std::string dir = scratch(unique_name("kcatdump"));
  const std::string src = unique_name("tools.dump.src");
  const std::string dst = unique_name("tools.dump.dst");
  create_topics({src, dst}, 2);
  const auto lines = numbered_lines(500, "dump");
  kcat_produce(src, lines, "-H h1=v1", dir);
  const auto original = consume(src, lines.size(), 60s, 500ms, 2);  // also: every record is readable now
  ASSERT_EQ(original.size(), lines.size());
  const std::string dump = dir + "/dump.jsonl";
  ASSERT_EQ(run_shell("kcat -b " + kafka_bootstrap() + " -C -t " + src + " -J -e -q > " + dump, dir + "/kcat.log"), 0);
  const std::string log = dir + "/replay.log";
  ASSERT_EQ(run_shell(kReplay + " -b " + kafka_bootstrap() + " --partition-by original --topic-map " + src + "=" + dst +
                          " --no-progress " + dump,
                      log),
            0)
      << read_file(log);
  expect_same_records(original, consume(dst, lines.size(), 60s, 1500ms, 2));

  // The dry run validates and counts without a broker.
  ASSERT_EQ(run_shell(kReplay + " --dry-run " + dump, log), 0) << read_file(log);
  EXPECT_NE(read_file(log).find("dry run: 500 records would be replayed"), std::string::npos) << read_file(log);
}

TEST(ArchiveReplay, UndeliverableRecordsMakeReplayFailLoudly) {
  const std::string dir = scratch(unique_name("undeliverable"));
  const std::string src = unique_name("tools.three");
  const std::string one = unique_name("tools.one");
  create_topics({src}, 3);
  create_topics({one}, 1);
  kcat_produce(src, numbered_lines(200, "u"), "", dir);
  ASSERT_EQ(consume(src, 200, 60s, 500ms, 3).size(), 200u);
  const std::string dump = dir + "/dump.jsonl";
  ASSERT_EQ(run_shell("kcat -b " + kafka_bootstrap() + " -C -t " + src + " -J -e -q > " + dump, dir + "/kcat.log"), 0);
  // Partitions 1 and 2 do not exist in the target.
  const std::string log = dir + "/replay.log";
  EXPECT_EQ(run_shell(kReplay + " -b " + kafka_bootstrap() + " --partition-by original --topic " + one +
                          " --no-progress " + " --flush-timeout 20 " + dump,
                      log),
            1)
      << read_file(log);
  EXPECT_NE(read_file(log).find("partition"), std::string::npos) << read_file(log);
}

TEST(ArchiveReplay, ArchiveKilledMidRunLosesAndDuplicatesNothing) {
  const std::string dir = scratch(unique_name("sigkill"));
  const std::string src = unique_name("tools.kill");
  create_topics({src}, 2);
  const auto lines = numbered_lines(20000, "kill");
  kcat_produce(src, lines, "-H k=v", dir);
  const std::string archive = dir + "/archive";
  const std::string group = unique_name("arch.kill");
  const std::vector<std::string> args = {kArchive, "-b",  kafka_bootstrap(), "-d",  archive,     "-t", src,
                                         "-G",     group, "--max-records",   "150", "--max-age", "2s"};
  const int first = spawn(args, dir + "/archive1.log");
  ASSERT_TRUE(wait_for([&] { return archived_count(archive) >= 600; }, 60s, 5ms)) << read_file(dir + "/archive1.log");
  kill(first, SIGKILL);
  ASSERT_TRUE(wait_exit(first, 10s).has_value());
  const std::size_t at_kill = archived_count(archive);
  EXPECT_LT(at_kill, lines.size()) << "the kill came after the archiver had finished: not a mid-run test";

  const int second = spawn(args, dir + "/archive2.log");
  ASSERT_TRUE(wait_for([&] { return archived_count(archive) >= lines.size(); }, 90s))
      << read_file(dir + "/archive2.log");
  std::this_thread::sleep_for(3s);  // anything extra would show up now
  kill(second, SIGINT);
  ASSERT_EQ(wait_exit(second, 30s), 0) << read_file(dir + "/archive2.log");
  for (const auto& e : fs::recursive_directory_iterator(archive)) {
    EXPECT_FALSE(e.path().filename().string().ends_with(".partial")) << e.path();
  }
  const auto archived = read_archive_dir(archive);
  std::set<std::pair<std::int32_t, std::int64_t>> seen;
  for (const auto& r : archived) EXPECT_TRUE(seen.insert({r.partition, r.offset}).second) << "duplicate " << r.offset;
  EXPECT_EQ(archived.size(), lines.size());
  expect_same_records(consume(src, lines.size(), 60s, 1500ms, 2), archived);
}

// Committed offsets of `group` on partitions 0..n-1 of `topic` (plain librdkafka, no join).
std::vector<std::int64_t> committed(const std::string& group, const std::string& topic, int n) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", kafka_bootstrap().c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(n);
  for (int p = 0; p < n; ++p) rd_kafka_topic_partition_list_add(parts, topic.c_str(), p);
  std::vector<std::int64_t> out;
  if (rd_kafka_committed(rk, parts, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int p = 0; p < n; ++p) out.push_back(parts->elems[p].offset);
  }
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_destroy(rk);
  return out;
}

TEST(ResetTo, MovesTheGroupToTheFirstRecordAtOrAfterTheTimeAndRefusesALiveGroup) {
  const std::string dir = scratch(unique_name("reset"));
  const std::string topic = unique_name("tools.reset");
  const std::string group = unique_name("reset.group");
  create_topics({topic}, 2);
  // Partition 0: t = 0, 10, ..., 90 s; partition 1: t = 5, 15, ..., 95 s after base.
  constexpr TimestampMs kBase = 1'711'929'600'000;
  std::vector<io::Record> records;
  for (int p = 0; p < 2; ++p) {
    for (int i = 0; i < 10; ++i) {
      io::Record r;
      r.topic = topic;
      r.partition = p;
      r.timestamp = kBase + i * 10'000 + p * 5'000;
      r.value = "{}";
      records.push_back(r);
    }
  }
  produce(records);
  const std::string config = dir + "/detector.yaml";
  {
    std::ofstream out(config);
    out << "kafka:\n  bootstrap.servers: " << kafka_bootstrap() << "\nkafka_consumer:\n  group.id: " << group
        << "\ninputs:\n  - {topic: " << topic << ", adapter: canonical}\n";
  }
  const TimestampMs at = kBase + 42'000;  // p0: first ts >= 42 s is 50 s (offset 5); p1: 45 s (offset 4)
  const std::string log = dir + "/reset.log";
  ASSERT_EQ(run_shell(kDetector + " --config " + config + " --reset-to " + std::to_string(at) + " --dry-run", log), 0)
      << read_file(log);
  EXPECT_NE(read_file(log).find("dry run: nothing changed"), std::string::npos);
  EXPECT_EQ(committed(group, topic, 2), (std::vector<std::int64_t>{-1001, -1001}));  // nothing moved

  ASSERT_EQ(run_shell(kDetector + " --config " + config + " --reset-to 2024-04-01T00:00:42Z", log), 0)
      << read_file(log);
  EXPECT_EQ(committed(group, topic, 2), (std::vector<std::int64_t>{5, 4})) << read_file(log);

  // After the last record: the end of each partition.
  ASSERT_EQ(run_shell(kDetector + " --config " + config + " --reset-to 2024-04-01T01:00:00Z", log), 0)
      << read_file(log);
  EXPECT_EQ(committed(group, topic, 2), (std::vector<std::int64_t>{10, 10}));

  // A live member of the group: refused, offsets untouched.
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", kafka_bootstrap().c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  rd_kafka_t* member = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  rd_kafka_poll_set_consumer(member);
  rd_kafka_topic_partition_list_t* sub = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(sub, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(member, sub);
  rd_kafka_topic_partition_list_destroy(sub);
  ASSERT_TRUE(wait_for(
      [&] {
        if (rd_kafka_message_t* m = rd_kafka_consumer_poll(member, 100)) rd_kafka_message_destroy(m);
        rd_kafka_topic_partition_list_t* assigned = nullptr;
        rd_kafka_assignment(member, &assigned);
        const bool ok = assigned != nullptr && assigned->cnt > 0;
        if (assigned != nullptr) rd_kafka_topic_partition_list_destroy(assigned);
        return ok;
      },
      30s, 10ms));
  EXPECT_EQ(run_shell(kDetector + " --config " + config + " --reset-to 2024-04-01T00:00:00Z", log), 3)
      << read_file(log);
  EXPECT_NE(read_file(log).find("active members"), std::string::npos) << read_file(log);
  rd_kafka_consumer_close(member);
  rd_kafka_destroy(member);
  EXPECT_EQ(committed(group, topic, 2), (std::vector<std::int64_t>{10, 10}));
}

}  // namespace
}  // namespace vigil::testing
