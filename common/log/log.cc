#include "common/log/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "common/core/json_writer.h"

namespace vigil::log {
namespace {

// %* in a pattern: the message as a JSON string literal (quotes included), so that a message
// carrying quotes, newlines or odd bytes cannot break the line.
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string escaped;
    append_json_string(escaped, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

std::unique_ptr<spdlog::formatter> make_formatter(Format format) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == Format::kJson) {
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":%*})");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %n %l: %v");
  }
  return formatter;
}

}  // namespace

bool parse_format(std::string_view name, Format& out) {
  if (name == "text") {
    out = Format::kText;
    return true;
  }
  if (name == "json") {
    out = Format::kJson;
    return true;
  }
  return false;
}

void init(Format format, std::string_view logger_name) {
  auto logger =
      std::make_shared<spdlog::logger>(std::string(logger_name), std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_formatter(make_formatter(format));
  spdlog::set_default_logger(std::move(logger));
}

std::string format_for_test(Format format, std::string_view logger_name, std::string_view message) {
  std::ostringstream out;
  auto logger =
      std::make_shared<spdlog::logger>(std::string(logger_name), std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  logger->set_formatter(make_formatter(format));
  logger->info("{}", message);
  logger->flush();
  return out.str();
}

}  // namespace vigil::log
