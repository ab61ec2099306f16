#include "tests/support/kafka_cluster.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

namespace vigil::testing {
namespace {

std::string g_state_dir;

void stop_broker() {
  if (g_state_dir.empty()) return;
  const std::string cmd = std::string(VIGIL_SOURCE_DIR) + "/deploy/kafka/kafka-local.sh stop --state-dir " +
                          g_state_dir + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "kafka fixture: stopping the broker failed\n");
  g_state_dir.clear();
}

std::string start_broker() {
  char dir[] = "/tmp/vigil-test-kafka.XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  g_state_dir = dir;
  std::atexit(stop_broker);
  const std::string cmd =
      std::string(VIGIL_SOURCE_DIR) + "/deploy/kafka/kafka-local.sh start --state-dir " + g_state_dir;
  std::fprintf(stderr, "kafka fixture: VIGIL_KAFKA_BOOTSTRAP is unset, starting a broker (%s)\n", dir);
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 512> buf{};
  while (p != nullptr && std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  const int rc = p != nullptr ? pclose(p) : -1;
  const auto pos = out.rfind("BOOTSTRAP=");
  if (rc != 0 || pos == std::string::npos) {
    std::fprintf(stderr, "kafka fixture: could not start the broker:\n%s\n", out.c_str());
    std::abort();
  }
  std::string bootstrap = out.substr(pos + 10);
  while (!bootstrap.empty() && (bootstrap.back() == '\n' || bootstrap.back() == '\r')) bootstrap.pop_back();
  return bootstrap;
}

struct Handle {
  rd_kafka_t* rk = nullptr;
  ~Handle() {
    if (rk != nullptr) rd_kafka_destroy(rk);
  }
};

rd_kafka_conf_t* base_conf() {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", kafka_bootstrap().c_str(), err, sizeof err);
  return conf;
}

rd_kafka_t* new_client(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (rk == nullptr) ADD_FAILURE() << "rd_kafka_new: " << err;
  return rk;
}

}  // namespace

const std::string& kafka_bootstrap() {
  static const std::string bootstrap = [] {
    const char* env = std::getenv("VIGIL_KAFKA_BOOTSTRAP");
    return env != nullptr && *env != '\0' ? std::string(env) : start_broker();
  }();
  return bootstrap;
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "." + std::to_string(::getpid()) + "." + std::to_string(std::time(nullptr) % 100000) + "." +
         std::to_string(counter++);
}

void create_topics(const std::vector<std::string>& topics, int partitions,
                   const std::map<std::string, std::string>& configs) {
  Handle h{new_client(RD_KAFKA_PRODUCER, base_conf())};
  ASSERT_NE(h.rk, nullptr);
  std::vector<rd_kafka_NewTopic_t*> new_topics;
  char err[512];
  for (const auto& t : topics) {
    new_topics.push_back(rd_kafka_NewTopic_new(t.c_str(), partitions, 1, err, sizeof err));
    for (const auto& [k, v] : configs) {
      ASSERT_EQ(rd_kafka_NewTopic_set_config(new_topics.back(), k.c_str(), v.c_str()), RD_KAFKA_RESP_ERR_NO_ERROR);
    }
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(h.rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(h.rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, 30000, err, sizeof err);
  rd_kafka_CreateTopics(h.rk, new_topics.data(), new_topics.size(), opts, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 60000);
  ASSERT_NE(ev, nullptr) << "CreateTopics timed out";
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
  size_t n = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
  for (size_t i = 0; i < n; ++i) {
    const auto code = rd_kafka_topic_result_error(results[i]);
    EXPECT_TRUE(code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        << rd_kafka_topic_result_name(results[i]) << ": " << rd_kafka_err2str(code);
  }
  rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy_array(new_topics.data(), new_topics.size());
}

void produce(const std::vector<io::Record>& records) {
  rd_kafka_conf_t* conf = base_conf();
  char err[512];
  rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err);
  Handle h{new_client(RD_KAFKA_PRODUCER, conf)};
  ASSERT_NE(h.rk, nullptr);
  for (const auto& r : records) {
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(r.headers.size());
    for (const auto& hd : r.headers) {
      rd_kafka_header_add(hdrs, hd.key.data(), static_cast<ssize_t>(hd.key.size()),
                          hd.value ? hd.value->data() : nullptr, hd.value ? static_cast<ssize_t>(hd.value->size()) : 0);
    }
    void* value = r.value ? const_cast<char*>(r.value->data()) : nullptr;
    const size_t value_len = r.value ? r.value->size() : 0;
    void* key = r.key ? const_cast<char*>(r.key->data()) : nullptr;
    const size_t key_len = r.key ? r.key->size() : 0;
    rd_kafka_resp_err_t code;
    // A full local queue (large inputs) only means: wait for deliveries, then try again.
    while ((code = rd_kafka_producev(h.rk, RD_KAFKA_V_TOPIC(r.topic.c_str()),
                                     RD_KAFKA_V_PARTITION(r.partition < 0 ? RD_KAFKA_PARTITION_UA : r.partition),
                                     RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(value, value_len),
                                     RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_TIMESTAMP(r.timestamp),
                                     RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
      rd_kafka_poll(h.rk, 100);
    if (code != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(hdrs);  // not taken on failure
    ASSERT_EQ(code, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(code);
  }
  ASSERT_EQ(rd_kafka_flush(h.rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

std::vector<io::Record> consume(const std::string& topic, std::size_t expected, std::chrono::milliseconds timeout,
                                std::chrono::milliseconds settle, int partitions) {
  rd_kafka_conf_t* conf = base_conf();
  char err[512];
  rd_kafka_conf_set(conf, "group.id", "vigil-test-reader", err, sizeof err);
  rd_kafka_conf_set(conf, "isolation.level", "read_committed", err, sizeof err);
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
  Handle h{new_client(RD_KAFKA_CONSUMER, conf)};
  std::vector<io::Record> out;
  if (h.rk == nullptr) return out;
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(h.rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  const auto start = std::chrono::steady_clock::now();
  auto deadline = start + timeout;
  bool settling = false;
  while (std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(h.rk, 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      io::Record& r = out.emplace_back();
      r.topic = rd_kafka_topic_name(m->rkt);
      r.partition = m->partition;
      r.offset = m->offset;
      r.timestamp = rd_kafka_message_timestamp(m, nullptr);
      if (m->key != nullptr) r.key.emplace(static_cast<const char*>(m->key), m->key_len);
      if (m->payload != nullptr) r.value.emplace(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) {
          r.headers.push_back(
              {name, value != nullptr ? std::optional<std::string>(std::string(static_cast<const char*>(value), size))
                                      : std::nullopt});
        }
      }
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      std::fprintf(stderr, "consume %s: %s\n", topic.c_str(), rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
    if (!settling && out.size() >= expected) {
      settling = true;
      deadline = std::min(deadline, std::chrono::steady_clock::now() + settle);
    }
  }
  rd_kafka_consumer_close(h.rk);
  return out;
}

std::map<std::string, std::int64_t> committed_offsets(const std::string& group,
                                                      const std::vector<std::string>& topics) {
  rd_kafka_conf_t* conf = base_conf();
  char err[512];
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  Handle h{new_client(RD_KAFKA_CONSUMER, conf)};
  std::map<std::string, std::int64_t> out;
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const auto& t : topics) rd_kafka_topic_partition_list_add(parts, t.c_str(), 0);
  const auto code = rd_kafka_committed(h.rk, parts, 30000);
  EXPECT_EQ(code, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(code);
  for (int i = 0; i < parts->cnt; ++i) out[parts->elems[i].topic] = parts->elems[i].offset;
  rd_kafka_topic_partition_list_destroy(parts);
  rd_kafka_consumer_close(h.rk);
  return out;
}

ClusterFacts describe_cluster() {
  ClusterFacts facts;
  Handle h{new_client(RD_KAFKA_PRODUCER, base_conf())};
  if (h.rk == nullptr) return facts;
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(h.rk, 1, nullptr, &md, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    facts.broker_count = md->broker_cnt;
    rd_kafka_metadata_destroy(md);
  }
  if (char* id = rd_kafka_clusterid(h.rk, 10000); id != nullptr) {
    facts.cluster_id = id;
    rd_kafka_mem_free(h.rk, id);
  }
  const int32_t controller = rd_kafka_controllerid(h.rk, 10000);
  rd_kafka_ConfigResource_t* res =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_BROKER, std::to_string(controller).c_str());
  rd_kafka_queue_t* q = rd_kafka_queue_new(h.rk);
  rd_kafka_DescribeConfigs(h.rk, &res, 1, nullptr, q);
  if (rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000); ev != nullptr) {
    if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      size_t n = 0;
      const rd_kafka_ConfigResource_t** rs =
          rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
      for (size_t i = 0; i < n; ++i) {
        size_t cn = 0;
        const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(rs[i], &cn);
        for (size_t j = 0; j < cn; ++j) {
          const std::string name = rd_kafka_ConfigEntry_name(entries[j]);
          const char* value = rd_kafka_ConfigEntry_value(entries[j]);
          if (name == "process.roles" && value != nullptr) facts.process_roles = value;
          if (name == "log.dirs" && value != nullptr) facts.log_dirs = value;
        }
      }
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_ConfigResource_destroy(res);
  return facts;
}

namespace {

// Every child spawn() started. A test that stops at a failed assertion before it stops its
// children would leave them running after the test binary (a detector once outlived a failed
// kafka.restore run under ASan by minutes): at exit, children still running are killed.
std::vector<pid_t>& spawned() {
  static std::vector<pid_t> pids;
  return pids;
}

void kill_running_children() {
  for (const pid_t pid : spawned()) {
    if (waitpid(pid, nullptr, WNOHANG) != 0) continue;  // reaped already, or it is not ours
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

}  // namespace

int spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  // The list is made before the handler is registered, so that it is destroyed after it runs.
  static const bool kCleanupRegistered = (spawned(), std::atexit(kill_running_children) == 0);
  (void)kCleanupRegistered;
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* log = std::fopen(log_path.c_str(), "w");
    if (log != nullptr) {
      dup2(fileno(log), 1);
      dup2(fileno(log), 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::perror("execv");
    _exit(127);
  }
  if (pid > 0) spawned().push_back(pid);
  return pid;
}

std::optional<int> wait_exit(int pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return std::nullopt;
}

int run_shell(const std::string& command, const std::string& log) {
  const int rc = std::system(("{ " + command + " ; } >" + log + " 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace vigil::testing
