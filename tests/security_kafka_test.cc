// Kafka security end to end: a real broker with a TLS listener (certificates made here with
// openssl) accepting SASL/SCRAM-SHA-512 and PLAIN; vigil-replay, vigil-detector and vigil-tail
// connect to it with the password taken from a file or the environment (never written into
// a config file), and a wrong password fails loudly.
//
// The broker is Apache Kafka 3.9.1: Debian 12's librdkafka 2.0.2 cannot complete SCRAM with
// Kafka 4.x brokers (fixed in librdkafka 2.6.1, confluentinc/librdkafka#4895); PLAIN over TLS
// works with both. docs/operations.md says so.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/support/kafka_cluster.h"

namespace vigil::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kSource = VIGIL_SOURCE_DIR;
const std::string kReplay = VIGIL_REPLAY_BIN;
const std::string kDetector = VIGIL_DETECTOR_BIN;
const std::string kTail = VIGIL_TAIL_BIN;
constexpr const char* kSecureKafkaVersion = "3.9.1";

// One secure broker for the whole binary, stopped when it exits.
class SecureBroker : public ::testing::Environment {
 public:
  void SetUp() override {
    dir = ::testing::TempDir() + "vigil-security." + std::to_string(::getpid());
    fs::remove_all(dir);
    fs::create_directories(dir + "/certs");
    const std::string certs = dir + "/certs";
    // A CA, and a server certificate for 127.0.0.1 signed by it (unencrypted PKCS#8 key).
    const std::string openssl =
        "cd " + certs +
        " && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=vigil-test-ca"
        " && openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1"
        " && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext.cnf"
        " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1"
        " -extfile ext.cnf";
    ASSERT_EQ(run_shell(openssl, dir + "/openssl.log"), 0) << read_file(dir + "/openssl.log");
    ca = certs + "/ca.pem";
    password = "pw-" + std::to_string(::getpid()) + "-s3cret";
    password_file = dir + "/kafka-password";
    std::ofstream(password_file) << password << "\n";
    state = dir + "/kafka";
    const std::string log = dir + "/broker-start.log";
    const int rc = std::system(("VIGIL_KAFKA_VERSION=" + std::string(kSecureKafkaVersion) + " " + kSource +
                                "/deploy/kafka/kafka-local.sh start --state-dir " + state + " --sasl-ssl " + certs +
                                " --scram-user vigil:" + password + " >" + log + " 2>&1")
                                   .c_str());
    ASSERT_EQ(WIFEXITED(rc) ? WEXITSTATUS(rc) : 128, 0) << read_file(log);
    std::smatch m;
    const std::string out = read_file(log);
    ASSERT_TRUE(std::regex_search(out, m, std::regex("SASL_SSL_BOOTSTRAP=([0-9.:]+)"))) << out;
    secure = m[1].str();
  }
  void TearDown() override {
    if (!state.empty()) {
      (void)std::system(
          (kSource + "/deploy/kafka/kafka-local.sh stop --state-dir " + state + " >/dev/null 2>&1").c_str());
    }
  }

  std::string dir, state, ca, password, password_file, secure;
};

SecureBroker* g_broker = nullptr;

// The -X flags of a tool on the secure listener; the password from a file reference.
std::string secure_flags(const std::string& mechanism, const std::string& password_ref) {
  return " -b " + g_broker->secure + " -X security.protocol=SASL_SSL -X sasl.mechanism=" + mechanism +
         " -X sasl.username=vigil -X 'sasl.password=" + password_ref + "' -X ssl.ca.location=" + g_broker->ca;
}

TEST(Security, ScramAndPlainOverTlsCarryTheWholePipeline) {
  ASSERT_NE(g_broker, nullptr);
  const std::string dir = g_broker->dir + "/pipeline";
  fs::create_directories(dir);
  const std::string prefix = unique_name("sec");
  // Raw records in over TLS + SCRAM-SHA-512, the password read from a file.
  const std::string replay_log = dir + "/replay.log";
  ASSERT_EQ(run_shell(kReplay + secure_flags("SCRAM-SHA-512", "${file:" + g_broker->password_file + "}") +
                          " --no-progress --topic-map raw.telegram=" + prefix +
                          ".raw.telegram --topic-map raw.facebook=" + prefix + ".raw.facebook " + kSource +
                          "/samples/sample-stream.jsonl",
                      replay_log),
            0)
      << read_file(replay_log);

  // The detector online over TLS + SCRAM: its config holds a secret reference, not the secret.
  const std::string config = dir + "/detector.yaml";
  {
    std::ofstream out(config);
    out << "kafka:\n  bootstrap.servers: " << g_broker->secure
        << "\n  security.protocol: SASL_SSL\n  sasl.mechanism: SCRAM-SHA-512\n  sasl.username: vigil\n"
        << "  sasl.password: ${file:" << g_broker->password_file << "}\n  ssl.ca.location: " << g_broker->ca
        << "\nkafka_consumer:\n  group.id: " << prefix << ".detector\nkafka_producer:\n  transactional.id: " << prefix
        << ".txn\ninputs:\n  - {topic: " << prefix << ".raw.telegram, adapter: telegram}\n  - {topic: " << prefix
        << ".raw.facebook, adapter: facebook}\noutputs:\n  flags_topic_prefix: " << prefix
        << ".flags.\n  dlq_topic: " << prefix << ".dlq\nmetrics:\n  listen: 127.0.0.1:0\n";
  }
  EXPECT_EQ(read_file(config).find(g_broker->password), std::string::npos);
  const int pid = spawn({kDetector, "--config", config}, dir + "/detector.log");

  // What to expect, worked out offline from the same samples: the telegram and facebook flags.
  const std::string offline = dir + "/offline-flags.jsonl";
  ASSERT_EQ(
      run_shell(kDetector + " --input " + kSource + "/samples/sample-stream.jsonl --output " + offline, dir + "/o.log"),
      0);
  std::size_t expected = 0;
  {
    std::ifstream in(offline);
    for (std::string line; std::getline(in, line);) {
      if (line.find("\\\"topic\\\":\\\"raw.telegram\\\"") != std::string::npos ||
          line.find("\\\"topic\\\":\\\"raw.facebook\\\"") != std::string::npos) {
        ++expected;
      }
    }
  }
  ASSERT_GE(expected, 2u) << read_file(offline);

  // Flags out, read by vigil-tail over TLS + PLAIN with the password from the environment.
  ::setenv("VIGIL_TEST_KAFKA_PASSWORD", g_broker->password.c_str(), 1);
  const std::string tail_log = dir + "/tail.log";
  const std::string tail_command = "timeout 90 " + kTail + secure_flags("PLAIN", "${env:VIGIL_TEST_KAFKA_PASSWORD}") +
                                   " --topic " + prefix + ".flags.personal_data --topic " + prefix +
                                   ".flags.fraud_link --from-beginning --count " + std::to_string(expected) + " --json";
  // The flag topics appear with the detector's first flags; until then tail says they do not exist.
  int tail_rc = 2;
  for (int attempt = 0; attempt < 60 && tail_rc == 2; ++attempt) {
    tail_rc = run_shell(tail_command, tail_log);
    if (tail_rc == 2 && read_file(tail_log).find("does not exist") == std::string::npos) break;
    if (tail_rc == 2) std::this_thread::sleep_for(1s);
  }
  ::kill(pid, SIGTERM);
  const auto detector_rc = wait_exit(pid, 60s);
  ASSERT_EQ(tail_rc, 0) << read_file(tail_log) << "\n--- detector:\n" << read_file(dir + "/detector.log");
  const std::string flags = read_file(tail_log);
  std::size_t n = 0;
  for (std::size_t at = flags.find("\"flag_id\""); at != std::string::npos; at = flags.find("\"flag_id\"", at + 1)) ++n;
  EXPECT_EQ(n, expected) << flags;
  EXPECT_NE(flags.find("vietcombamk.com.vn"), std::string::npos) << flags;
  ASSERT_TRUE(detector_rc.has_value());
  EXPECT_EQ(*detector_rc, 0) << read_file(dir + "/detector.log");
  // No secret in any log.
  for (const auto* log : {"/replay.log", "/detector.log", "/tail.log"}) {
    EXPECT_EQ(read_file(dir + log).find(g_broker->password), std::string::npos) << log;
  }
}

TEST(Security, AWrongPasswordFailsWithTheReason) {
  ASSERT_NE(g_broker, nullptr);
  const std::string dir = g_broker->dir + "/wrong";
  fs::create_directories(dir);
  const std::string log = dir + "/replay.log";
  EXPECT_EQ(run_shell(kReplay + secure_flags("SCRAM-SHA-512", "not-the-password") +
                          " -X message.timeout.ms=8000 --no-progress --flush-timeout 20 --topic " +
                          unique_name("sec.wrong") + " " + kSource + "/samples/sample-stream.jsonl",
                      log),
            1)
      << read_file(log);
  EXPECT_NE(read_file(log).find("Authentication failed"), std::string::npos) << read_file(log);
  EXPECT_NE(read_file(log).find("NOT delivered"), std::string::npos) << read_file(log);
}

TEST(Security, AMissingSecretIsAUsageError) {
  ASSERT_NE(g_broker, nullptr);
  const std::string log = g_broker->dir + "/missing-secret.log";
  ::unsetenv("VIGIL_TEST_NO_SUCH_SECRET");
  EXPECT_EQ(run_shell(kTail + secure_flags("PLAIN", "${env:VIGIL_TEST_NO_SUCH_SECRET}") + " --count 1", log), 2)
      << read_file(log);
  EXPECT_NE(read_file(log).find("VIGIL_TEST_NO_SUCH_SECRET is not set"), std::string::npos) << read_file(log);
}

}  // namespace
}  // namespace vigil::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  vigil::testing::g_broker = new vigil::testing::SecureBroker;
  ::testing::AddGlobalTestEnvironment(vigil::testing::g_broker);
  return RUN_ALL_TESTS();
}
