#include "common/metrics/server.h"

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <unistd.h>

#include "tests/support/http_client.h"

namespace vigil::metrics {
namespace {

using vigil::testing::http_get;

TEST(Server, ServesMetricsHealthAndReadiness) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& family = prometheus::BuildCounter().Name("vigil_test_total").Help("test").Register(*registry);
  family.Add({{"topic", "raw.x"}}).Increment(3);
  auto health = std::make_shared<Health>();
  auto server = Server::start({"127.0.0.1:0", std::chrono::seconds(30)}, registry, health);
  ASSERT_TRUE(server.is_ok()) << server.status().to_string();
  const int port = server.value()->port();
  ASSERT_GT(port, 0);

  const std::string metrics = http_get(port, "/metrics");
  EXPECT_NE(metrics.find("HTTP/1.1 200"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("vigil_test_total{topic=\"raw.x\"} 3"), std::string::npos) << metrics;

  EXPECT_NE(http_get(port, "/readyz").find("HTTP/1.1 503"), std::string::npos);
  health->set_ready(true);
  EXPECT_NE(http_get(port, "/readyz").find("HTTP/1.1 200"), std::string::npos);

  health->heartbeat();
  EXPECT_NE(http_get(port, "/healthz").find("HTTP/1.1 200"), std::string::npos);
}

TEST(Server, StalledLoopIsUnhealthy) {
  auto health = std::make_shared<Health>();
  auto server =
      Server::start({"127.0.0.1:0", std::chrono::seconds(0)}, std::make_shared<prometheus::Registry>(), health);
  ASSERT_TRUE(server.is_ok());
  usleep(5000);
  EXPECT_NE(http_get(server.value()->port(), "/healthz").find("HTTP/1.1 503"), std::string::npos);
}

TEST(Server, BadListenAddressIsAClearError) {
  auto server = Server::start({"not-an-address", std::chrono::seconds(1)}, std::make_shared<prometheus::Registry>(),
                              std::make_shared<Health>());
  ASSERT_FALSE(server.is_ok());
  EXPECT_NE(server.status().message().find("not-an-address"), std::string::npos);
}

}  // namespace
}  // namespace vigil::metrics
