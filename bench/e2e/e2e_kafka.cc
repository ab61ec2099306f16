// e2e_kafka: the Kafka-side helpers of the end-to-end benchmark (bench/e2e/run.sh, issue #8).
//
//   e2e_kafka create   -b B -p PARTITIONS TOPIC...          create topics (existing ones are kept)
//   e2e_kafka raw      -b B -g GROUP TOPIC... [-X k=v]      the raw librdkafka ceiling: consume every
//                                                           record of the topics to nowhere, with the
//                                                           detector's consumer settings; prints JSON
//   e2e_kafka progress -b B -g GROUP TOPIC...               every 100 ms: "<ms> <committed> <end> <partitions>"
//                                                           summed over the topics' partitions (until stdin closes)
//   e2e_kafka count    -b B TOPIC...                        read_committed records per topic, as JSON
//   e2e_kafka txn-cost -b B -n TRANSACTIONS TOPIC...         a transactional producer commits N transactions of
//                                                           one record per topic, as the detector does per batch;
//                                                           prints JSON: wall and CPU per transaction, and the CPU
//                                                           of librdkafka's main thread (rdk:main) per transaction
//   e2e_kafka latency  -b B -r RAWTOPICS -f FLAGTOPICS [--skip-ms WARMUP]  read flags as they commit (read_committed)
//   until
//                                                           stdin closes; then each flag's source record's
//                                                           produce timestamp: event -> flag visible, JSON
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

struct Args {
  std::string bootstrap, group;
  int partitions = 1;
  long long skip_ms = 0;
  int transactions = 100;
  std::vector<std::string> topics, raw, flags;
  std::vector<std::pair<std::string, std::string>> props;
};

[[noreturn]] void die(const std::string& m) {
  std::cerr << "e2e_kafka: " << m << "\n";
  std::exit(1);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    const std::size_t j = std::min(s.find(',', i), s.size());
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::unique_ptr<RdKafka::Conf> conf(const Args& a, std::map<std::string, std::string> props) {
  std::unique_ptr<RdKafka::Conf> c(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  props.emplace("bootstrap.servers", a.bootstrap);
  for (const auto& [k, v] : a.props) props[k] = v;
  for (const auto& [k, v] : props)
    if (c->set(k, v, err) != RdKafka::Conf::CONF_OK) die(k + ": " + err);
  return c;
}

// The detector's consumer defaults (common/io/kafka/kafka_io.cc), so the ceiling is measured with
// the same fetch settings.
std::map<std::string, std::string> consumer_props(const std::string& group) {
  return {{"group.id", group},
          {"enable.auto.commit", "false"},
          {"enable.auto.offset.store", "false"},
          {"isolation.level", "read_committed"},
          {"auto.offset.reset", "earliest"},
          {"partition.assignment.strategy", "cooperative-sticky"}};
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
long long wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Partitions of each topic, from metadata.
std::vector<std::pair<std::string, int>> partitions_of(RdKafka::Handle* h, const std::vector<std::string>& topics) {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& t : topics) {
    std::string err;
    std::unique_ptr<RdKafka::Topic> topic(RdKafka::Topic::create(h, t, nullptr, err));
    RdKafka::Metadata* md = nullptr;
    if (h->metadata(false, topic.get(), &md, 10000) != RdKafka::ERR_NO_ERROR) die("metadata " + t);
    std::unique_ptr<RdKafka::Metadata> own(md);
    for (const auto* tm : *md->topics()) {
      if (tm->err() != RdKafka::ERR_NO_ERROR) continue;  // not there (yet)
      for (const auto* pm : *tm->partitions()) out.emplace_back(t, pm->id());
    }
  }
  return out;
}

// Sum of the high watermarks; -1 when one cannot be read (a topic just created has no leader yet).
long long end_offsets(RdKafka::Handle* h, const std::vector<std::pair<std::string, int>>& tps) {
  long long sum = 0;
  for (const auto& [t, p] : tps) {
    int64_t lo = 0, hi = 0;
    if (h->query_watermark_offsets(t, p, &lo, &hi, 10000) != RdKafka::ERR_NO_ERROR) return -1;
    sum += hi;
  }
  return sum;
}

int create(const Args& a) {
  auto c = conf(a, {});
  std::string err;
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(c.get(), err));
  if (!p) die(err);
  rd_kafka_t* rk = p->c_ptr();
  std::vector<rd_kafka_NewTopic_t*> nts;
  char e[512];
  for (const auto& t : a.topics) nts.push_back(rd_kafka_NewTopic_new(t.c_str(), a.partitions, 1, e, sizeof e));
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, nts.data(), nts.size(), nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  if (ev == nullptr) die("create topics: timeout");
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
  size_t n = 0;
  const rd_kafka_topic_result_t** trs = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    const auto code = rd_kafka_topic_result_error(trs[i]);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
      die(std::string("create ") + rd_kafka_topic_result_name(trs[i]) + ": " + rd_kafka_err2str(code));
  }
  rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  for (auto* nt : nts) rd_kafka_NewTopic_destroy(nt);
  return 0;
}

long vm_hwm_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// CPU seconds (user + system) of this process's threads whose name starts with `prefix`
// (librdkafka names its threads rdk:main, rdk:broker<id>, ...).
double thread_cpu_seconds(const std::string& prefix) {
  double total = 0;
  const long tick = sysconf(_SC_CLK_TCK);
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    if (!std::getline(comm, name) || name.rfind(prefix, 0) != 0) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    std::getline(stat, line);
    // Fields after the parenthesised name: state is field 3, utime 14 and stime 15.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    total += static_cast<double>(utime + stime) / static_cast<double>(tick);
  }
  return total;
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

// What one transaction costs the producer, apart from the records in it: the detector commits
// one per batch. librdkafka 2.0 (Debian 12) busy-waits in its main thread for about a millisecond
// each time it schedules the registration of a transaction's partitions (a 1 ms timer that its
// main loop waits for with a 0 ms timeout; fixed upstream in 2.3.1, librdkafka #4671).
int txn_cost(const Args& a) {
  if (a.topics.empty()) die("txn-cost needs at least one topic");
  auto c = conf(a, {{"transactional.id", "e2e-txn-cost-" + std::to_string(getpid())}});
  std::string err;
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(c.get(), err));
  if (!p) die(err);
  if (std::unique_ptr<RdKafka::Error> e(p->init_transactions(30000)); e) die("init_transactions: " + e->str());
  const double main0 = thread_cpu_seconds("rdk:main");
  const double cpu0 = process_cpu_seconds();
  const double t0 = now_s();
  for (int i = 0; i < a.transactions; ++i) {
    if (std::unique_ptr<RdKafka::Error> e(p->begin_transaction()); e) die("begin_transaction: " + e->str());
    for (const auto& topic : a.topics) {
      const auto code = p->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                   const_cast<char*>("x"), 1, nullptr, 0, 0, nullptr);
      if (code != RdKafka::ERR_NO_ERROR) die("produce: " + RdKafka::err2str(code));
    }
    if (std::unique_ptr<RdKafka::Error> e(p->commit_transaction(30000)); e) die("commit_transaction: " + e->str());
  }
  const double secs = now_s() - t0;
  const double cpu = process_cpu_seconds() - cpu0;
  const double main_cpu = thread_cpu_seconds("rdk:main") - main0;
  const double n = a.transactions;
  std::printf(
      "{\"transactions\":%d,\"topics\":%zu,\"wall_ms_per_txn\":%.2f,\"cpu_ms_per_txn\":%.3f,"
      "\"rdk_main_cpu_ms_per_txn\":%.3f}\n",
      a.transactions, a.topics.size(), secs * 1000 / n, cpu * 1000 / n, main_cpu * 1000 / n);
  return 0;
}

// Cooperative assignment, noting when the first partitions arrive: the rate is measured from
// there (librdkafka fetches ahead as soon as it owns partitions), so the group join is excluded.
struct AssignTimer : RdKafka::RebalanceCb {
  double assigned = 0;
  void rebalance_cb(RdKafka::KafkaConsumer* c, RdKafka::ErrorCode code,
                    std::vector<RdKafka::TopicPartition*>& parts) override {
    if (code == RdKafka::ERR__ASSIGN_PARTITIONS) {
      if (assigned == 0) assigned = now_s();
      std::unique_ptr<RdKafka::Error> e(c->incremental_assign(parts));
    } else {
      std::unique_ptr<RdKafka::Error> e(c->incremental_unassign(parts));
    }
  }
};

int raw(const Args& a) {
  const double t_start = now_s();
  auto c = conf(a, consumer_props(a.group));
  std::string err;
  AssignTimer timer;
  if (c->set("rebalance_cb", &timer, err) != RdKafka::Conf::CONF_OK) die(err);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(c.get(), err));
  if (!consumer) die(err);
  const auto tps = partitions_of(consumer.get(), a.topics);
  const long long total = end_offsets(consumer.get(), tps);
  if (total < 0) die("cannot read the end offsets");
  if (consumer->subscribe(a.topics) != RdKafka::ERR_NO_ERROR) die("subscribe");
  long long n = 0, bytes = 0;
  double first = 0, last = 0;
  rusage ru0{};  // CPU from the subscription on (the client's start-up is not per record)
  getrusage(RUSAGE_SELF, &ru0);
  while (n < total) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(1000));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    if (n == 0) first = now_s();
    ++n;
    bytes += static_cast<long long>(m->len());
    last = now_s();
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  const double cpu = secs(ru.ru_utime) + secs(ru.ru_stime) - secs(ru0.ru_utime) - secs(ru0.ru_stime);
  std::printf(
      "{\"records\":%lld,\"bytes\":%lld,\"seconds\":%.3f,\"first_to_last_seconds\":%.3f,"
      "\"startup_seconds\":%.3f,\"cpu_seconds\":%.3f,\"vm_hwm_kb\":%ld}\n",
      n, bytes, last - timer.assigned, last - first, timer.assigned - t_start, cpu, vm_hwm_kb());
  consumer->close();
  return 0;
}

std::atomic<bool> g_stdin_closed{false};
void watch_stdin() {
  std::thread([] {
    char buf[256];
    while (::read(0, buf, sizeof buf) > 0) {
    }
    g_stdin_closed = true;
  }).detach();
}

int progress(const Args& a) {
  auto c = conf(a, consumer_props(a.group));
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(c.get(), err));
  if (!consumer) die(err);
  watch_stdin();
  std::vector<std::pair<std::string, int>> tps;
  std::vector<std::string> missing = a.topics;
  while (!g_stdin_closed) {
    // Topics may appear while we watch (the peer's repartition topic): look for them each turn.
    for (auto it = missing.begin(); it != missing.end();) {
      auto one = partitions_of(consumer.get(), {*it});
      if (one.empty()) {
        ++it;
        continue;
      }
      tps.insert(tps.end(), one.begin(), one.end());
      it = missing.erase(it);
    }
    std::vector<RdKafka::TopicPartition*> list;
    for (const auto& [t, p] : tps) list.push_back(RdKafka::TopicPartition::create(t, p));
    long long committed = 0;
    if (consumer->committed(list, 10000) == RdKafka::ERR_NO_ERROR)
      for (auto* tp : list) committed += std::max<int64_t>(tp->offset(), 0);
    RdKafka::TopicPartition::destroy(list);
    const long long end = end_offsets(consumer.get(), tps);
    // The partitions too: on a topic written in transactions, librdkafka's committed position
    // stops before the last commit marker, one offset short of the end per partition.
    if (end >= 0) std::printf("%lld %lld %lld %zu\n", wall_ms(), committed, end, tps.size());
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return 0;
}

// Reads every committed record of the topics from the start; calls f(message).
template <typename F>
void read_all(const Args& a, const std::vector<std::string>& topics, F&& f) {
  auto props = consumer_props("e2e-reader");
  props["enable.partition.eof"] = "true";
  auto c = conf(a, props);
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(c.get(), err));
  if (!consumer) die(err);
  const auto tps = partitions_of(consumer.get(), topics);
  std::vector<RdKafka::TopicPartition*> list;
  for (const auto& [t, p] : tps)
    list.push_back(RdKafka::TopicPartition::create(t, p, RdKafka::Topic::OFFSET_BEGINNING));
  consumer->assign(list);
  RdKafka::TopicPartition::destroy(list);
  std::size_t eof = 0;
  while (eof < tps.size()) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(5000));
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      ++eof;
      continue;
    }
    if (m->err() == RdKafka::ERR__TIMED_OUT) break;
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    f(*m);
  }
  consumer->close();
}

int count(const Args& a) {
  struct Counts {
    long long records = 0, updates = 0;
    std::set<std::string> ids;  // distinct flag_id: a flag and its updates share one
  };
  std::map<std::string, Counts> n;
  for (const auto& t : a.topics) n[t];
  read_all(a, a.topics, [&](const RdKafka::Message& m) {
    auto& c = n[m.topic_name()];
    ++c.records;
    const std::string_view v(static_cast<const char*>(m.payload()), m.len());
    if (v.find("\"kind\":\"update\"") != std::string_view::npos) ++c.updates;
    constexpr std::string_view kId = "\"flag_id\":\"";
    if (const auto at = v.find(kId); at != std::string_view::npos) {
      const auto b = at + kId.size();
      c.ids.emplace(v.substr(b, v.find('"', b) - b));
    }
  });
  std::printf("{");
  bool first = true;
  for (const auto& [t, c] : n) {
    std::printf("%s\"%s\":{\"records\":%lld,\"updates\":%lld,\"distinct\":%zu}", first ? "" : ",", t.c_str(), c.records,
                c.updates, c.ids.size());
    first = false;
  }
  std::printf("}\n");
  return 0;
}

// "source":{... "topic":"T","partition":P,"offset":O ...} of a flag (Vigil's and the peer's).
bool source_of(std::string_view v, std::string& topic, int& partition, long long& offset) {
  const auto s = v.find("\"source\":{");
  if (s == std::string_view::npos) return false;
  auto field = [&](std::string_view name) -> std::size_t {
    const auto at = v.find(name, s);
    return at == std::string_view::npos ? at : at + name.size();
  };
  const auto t = field("\"topic\":\"");
  const auto p = field("\"partition\":");
  const auto o = field("\"offset\":");
  if (t == std::string_view::npos || p == std::string_view::npos || o == std::string_view::npos) return false;
  topic.assign(v.substr(t, v.find('"', t) - t));
  partition = std::atoi(std::string(v.substr(p, 12)).c_str());
  offset = std::atoll(std::string(v.substr(o, 24)).c_str());
  return true;
}

int latency(const Args& a) {
  auto c = conf(a, consumer_props("e2e-latency"));
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(c.get(), err));
  if (!consumer) die(err);
  std::vector<RdKafka::TopicPartition*> list;
  // The flag topics may not exist yet (they are created by the first flag): wait for them.
  std::vector<std::pair<std::string, int>> tps;
  for (const auto& t : a.flags) {
    std::string e;
    for (int i = 0; i < 100; ++i) {
      auto one = partitions_of(consumer.get(), {t});
      if (!one.empty()) {
        tps.insert(tps.end(), one.begin(), one.end());
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  for (const auto& [t, p] : tps)
    list.push_back(RdKafka::TopicPartition::create(t, p, RdKafka::Topic::OFFSET_BEGINNING));
  consumer->assign(list);
  RdKafka::TopicPartition::destroy(list);
  watch_stdin();
  using Key = std::tuple<std::string, int, long long>;
  std::vector<std::pair<Key, long long>> seen;  // source -> received (wall ms)
  std::vector<bool> stateful;                   // stage B's (windowed, first-seen, ring) flags
  std::printf("ready\n");
  std::fflush(stdout);
  while (!g_stdin_closed) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    const long long received = wall_ms();
    std::string topic;
    int partition = 0;
    long long offset = 0;
    const std::string_view v(static_cast<const char*>(m->payload()), m->len());
    if (source_of(v, topic, partition, offset)) {
      seen.emplace_back(Key{topic, partition, offset}, received);
      stateful.push_back(v.find("\"window\":") != std::string_view::npos ||
                         v.find("\"ring\":") != std::string_view::npos);
    }
  }
  consumer->close();
  std::map<Key, long long> produced;
  for (const auto& [k, r] : seen) produced[k] = -1;
  read_all(a, a.raw, [&](const RdKafka::Message& m) {
    auto it = produced.find(Key{m.topic_name(), m.partition(), m.offset()});
    if (it != produced.end()) it->second = m.timestamp().timestamp;
  });
  // Flags of records produced in the first skip_ms of the run are left out: warm-up (JIT,
  // group join, first fetches) is not what a steady load sees.
  long long first_produced = -1;
  for (const auto& [k, p] : produced)
    if (p > 0 && (first_produced < 0 || p < first_produced)) first_produced = p;
  std::vector<long long> ms, content, state;
  std::size_t warmup = 0;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    const long long p = produced[seen[i].first];
    if (p <= 0) continue;
    if (p < first_produced + a.skip_ms) {
      ++warmup;
      continue;
    }
    ms.push_back(seen[i].second - p);
    (stateful[i] ? state : content).push_back(seen[i].second - p);
  }
  auto pct = [](std::vector<long long>& v, double q) -> long long {
    if (v.empty()) return -1;
    std::sort(v.begin(), v.end());
    return q >= 1 ? v.back() : v[std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size())))];
  };
  std::printf(
      "{\"flags\":%zu,\"warmup\":%zu,\"measured\":%zu,\"p50_ms\":%lld,\"p99_ms\":%lld,\"max_ms\":%lld,"
      "\"content\":%zu,\"content_p50_ms\":%lld,\"content_p99_ms\":%lld,\"content_max_ms\":%lld,"
      "\"stateful\":%zu,\"stateful_p50_ms\":%lld,\"stateful_p99_ms\":%lld,\"stateful_max_ms\":%lld}\n",
      seen.size(), warmup, ms.size(), pct(ms, 0.5), pct(ms, 0.99), pct(ms, 1), content.size(), pct(content, 0.5),
      pct(content, 0.99), pct(content, 1), state.size(), pct(state, 0.5), pct(state, 0.99), pct(state, 1));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: e2e_kafka create|raw|progress|count|latency|txn-cost ... (see the file header)\n";
    return 2;
  }
  const std::string cmd = argv[1];
  Args a;
  for (int i = 2; i < argc; ++i) {
    const std::string s = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(s + " needs a value");
      return argv[++i];
    };
    if (s == "-b")
      a.bootstrap = next();
    else if (s == "-g")
      a.group = next();
    else if (s == "-p")
      a.partitions = std::stoi(next());
    else if (s == "-r")
      a.raw = split(next());
    else if (s == "-f")
      a.flags = split(next());
    else if (s == "-n")
      a.transactions = std::stoi(next());
    else if (s == "--skip-ms")
      a.skip_ms = std::stoll(next());
    else if (s == "-X") {
      const std::string kv = next();
      const auto eq = kv.find('=');
      if (eq == std::string::npos) die("-X wants key=value");
      a.props.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else
      a.topics.push_back(s);
  }
  if (a.bootstrap.empty()) die("-b BOOTSTRAP is required");
  if (cmd == "create") return create(a);
  if (cmd == "raw") return raw(a);
  if (cmd == "progress") return progress(a);
  if (cmd == "count") return count(a);
  if (cmd == "latency") return latency(a);
  if (cmd == "txn-cost") return txn_cost(a);
  die("unknown command " + cmd);
}
