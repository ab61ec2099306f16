#include "common/metrics/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vigil::metrics {
namespace {

// A minimal HTTP/1.1 GET against 127.0.0.1, returning the status line and body.
std::string get(int port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  (void)::write(fd, request.data(), request.size());
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) response.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return response;
}

TEST(Server, ServesMetricsHealthAndReadiness) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto& family = prometheus::BuildCounter().Name("vigil_test_total").Help("test").Register(*registry);
  family.Add({{"topic", "raw.x"}}).Increment(3);
  auto health = std::make_shared<Health>();
  auto server = Server::start({"127.0.0.1:0", std::chrono::seconds(30)}, registry, health);
  ASSERT_TRUE(server.is_ok()) << server.status().to_string();
  const int port = server.value()->port();
  ASSERT_GT(port, 0);

  const std::string metrics = get(port, "/metrics");
  EXPECT_NE(metrics.find("HTTP/1.1 200"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("vigil_test_total{topic=\"raw.x\"} 3"), std::string::npos) << metrics;

  EXPECT_NE(get(port, "/readyz").find("HTTP/1.1 503"), std::string::npos);
  health->set_ready(true);
  EXPECT_NE(get(port, "/readyz").find("HTTP/1.1 200"), std::string::npos);

  health->heartbeat();
  EXPECT_NE(get(port, "/healthz").find("HTTP/1.1 200"), std::string::npos);
}

TEST(Server, StalledLoopIsUnhealthy) {
  auto health = std::make_shared<Health>();
  auto server =
      Server::start({"127.0.0.1:0", std::chrono::seconds(0)}, std::make_shared<prometheus::Registry>(), health);
  ASSERT_TRUE(server.is_ok());
  usleep(5000);
  EXPECT_NE(get(server.value()->port(), "/healthz").find("HTTP/1.1 503"), std::string::npos);
}

TEST(Server, BadListenAddressIsAClearError) {
  auto server = Server::start({"not-an-address", std::chrono::seconds(1)}, std::make_shared<prometheus::Registry>(),
                              std::make_shared<Health>());
  ASSERT_FALSE(server.is_ok());
  EXPECT_NE(server.status().message().find("not-an-address"), std::string::npos);
}

}  // namespace
}  // namespace vigil::metrics
