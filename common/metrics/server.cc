#include "common/metrics/server.h"

#include <CivetServer.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <stdexcept>
#include <vector>

namespace vigil::metrics {
namespace {

void reply(mg_connection* conn, int code, const std::string& content_type, const std::string& body) {
  mg_printf(conn, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", code,
            code == 200 ? "OK" : "Service Unavailable", content_type.c_str(), body.size());
  mg_write(conn, body.data(), body.size());
}

class MetricsHandler final : public CivetHandler {
 public:
  explicit MetricsHandler(std::shared_ptr<prometheus::Registry> registry) : registry_(std::move(registry)) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    const std::string body = prometheus::TextSerializer().Serialize(registry_->Collect());
    reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", body);
    return true;
  }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
};

class HealthHandler final : public CivetHandler {
 public:
  HealthHandler(std::shared_ptr<const Health> health, std::chrono::seconds max_silence)
      : health_(std::move(health)), max_silence_(max_silence) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    const bool alive = health_->alive(max_silence_);
    reply(conn, alive ? 200 : 503, "text/plain", alive ? "ok\n" : "processing loop stalled\n");
    return true;
  }

 private:
  std::shared_ptr<const Health> health_;
  std::chrono::seconds max_silence_;
};

class ReadyHandler final : public CivetHandler {
 public:
  explicit ReadyHandler(std::shared_ptr<const Health> health) : health_(std::move(health)) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    const bool ready = health_->ready();
    reply(conn, ready ? 200 : 503, "text/plain", ready ? "ready\n" : "not ready\n");
    return true;
  }

 private:
  std::shared_ptr<const Health> health_;
};

}  // namespace

struct Server::Impl {
  MetricsHandler metrics;
  HealthHandler health;
  ReadyHandler ready;
  std::unique_ptr<CivetServer> server;  // last: stopped before the handlers go away
};

Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::start(const Options& options, std::shared_ptr<prometheus::Registry> registry,
                                              std::shared_ptr<const Health> health) {
  std::unique_ptr<Server> s(new Server());
  s->impl_.reset(new Impl{MetricsHandler(std::move(registry)), HealthHandler(health, options.max_silence),
                          ReadyHandler(health), nullptr});
  try {
    s->impl_->server =
        std::make_unique<CivetServer>(std::vector<std::string>{"listening_ports", options.listen, "num_threads", "2"});
  } catch (const CivetException& e) {
    return invalid_argument("metrics listen address '" + options.listen + "': " + e.what());
  }
  s->impl_->server->addHandler("/metrics", s->impl_->metrics);
  s->impl_->server->addHandler("/healthz", s->impl_->health);
  s->impl_->server->addHandler("/readyz", s->impl_->ready);
  const auto ports = s->impl_->server->getListeningPorts();
  s->port_ = ports.empty() ? 0 : ports.front();
  return s;
}

}  // namespace vigil::metrics
