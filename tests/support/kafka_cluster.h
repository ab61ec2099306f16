#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/io/record.h"

namespace vigil::testing {

// The bootstrap address of the real broker for this test binary: $VIGIL_KAFKA_BOOTSTRAP
// when set, otherwise a broker started once (deploy/kafka/kafka-local.sh) and stopped when
// the binary exits, also after failed tests. Aborts the test binary if no broker can start.
const std::string& kafka_bootstrap();

// A name no earlier run used, so tests never see each other's records: "<prefix>.<pid>.<n>".
std::string unique_name(const std::string& prefix);

// Admin helpers on a plain librdkafka client; each fails the current test on error.
// `configs` are topic configs for every topic created (e.g. cleanup.policy=compact).
void create_topics(const std::vector<std::string>& topics, int partitions = 1,
                   const std::map<std::string, std::string>& configs = {});
void produce(const std::vector<io::Record>& records);

// Reads partitions 0..partitions-1 of `topic` from the beginning as a read_committed
// consumer without a group, until `expected` records arrived (then another `settle` to
// catch extras) or `timeout` passed.
std::vector<io::Record> consume(const std::string& topic, std::size_t expected,
                                std::chrono::milliseconds timeout = std::chrono::seconds(60),
                                std::chrono::milliseconds settle = std::chrono::milliseconds(1500), int partitions = 1);

// Committed offset of `group` on partition 0 of each topic (-1001 when none).
std::map<std::string, std::int64_t> committed_offsets(const std::string& group, const std::vector<std::string>& topics);

struct ClusterFacts {
  std::string cluster_id;
  int broker_count = 0;
  std::string process_roles;  // from DescribeConfigs on the broker; a mock has no such config
  std::string log_dirs;
};
ClusterFacts describe_cluster();

// Starts a program with arguments, stdout and stderr to `log_path`; returns its pid.
int spawn(const std::vector<std::string>& argv, const std::string& log_path);
// Waits for `pid` up to `timeout`; the exit status, or nullopt if it did not exit in time.
std::optional<int> wait_exit(int pid, std::chrono::milliseconds timeout);
std::string read_file(const std::string& path);
// Runs `command` with bash-compatible sh, stdout and stderr to `log`; its exit status (128 when
// it did not exit normally). Redirections inside `command` apply to it, not to the log.
int run_shell(const std::string& command, const std::string& log);

}  // namespace vigil::testing
