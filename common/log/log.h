#pragma once

#include <string>
#include <string_view>

namespace vigil::log {

enum class Format { kText, kJson };

// Parses "text" or "json"; false for anything else.
bool parse_format(std::string_view name, Format& out);

// Sets up the process-wide logger (spdlog's default) on stderr: human-readable text, or one
// JSON object per line ({"time","level","logger","msg"}, msg escaped) for log collectors.
// Start-up only; not thread-safe against concurrent logging.
void init(Format format, std::string_view logger_name);

// Formats a line as init() would, for tests.
std::string format_for_test(Format format, std::string_view logger_name, std::string_view message);

}  // namespace vigil::log
