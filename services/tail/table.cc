#include "services/tail/table.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace vigil::tail {
namespace {

constexpr std::size_t kTimeWidth = 20;  // "2024-04-01T00:12:20Z"
constexpr std::size_t kSeverityWidth = 8;
constexpr std::size_t kCategoryWidth = 13;  // "personal_data"
constexpr std::size_t kEntityWidth = 26;
constexpr std::size_t kGap = 2;
constexpr std::size_t kFixedWidth = kTimeWidth + kSeverityWidth + kCategoryWidth + kEntityWidth + 5 * kGap;
// Room kept for the source column before the reason takes the rest: a typical permalink.
constexpr std::size_t kSourceReserve = 34;
constexpr std::size_t kMinReasonWidth = 20;

constexpr std::string_view kReset = "\033[0m";
constexpr std::string_view kBold = "\033[1m";

std::string_view severity_color(Severity s) {
  switch (s) {
    case Severity::kCritical: return "\033[1;31m";
    case Severity::kHigh: return "\033[31m";
    case Severity::kMedium: return "\033[33m";
    case Severity::kLow: return "";
  }
  return "";
}

std::size_t reason_width(const TableStyle& style) {
  const std::size_t width = style.width > 0 ? static_cast<std::size_t>(style.width) : 0;
  if (width <= kFixedWidth + kSourceReserve + kMinReasonWidth) return kMinReasonWidth;
  return width - kFixedWidth - kSourceReserve;
}

bool is_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// Event time to the second: the milliseconds say nothing to a reader of a table.
std::string shown_time(const FlagView& flag) {
  const std::string& text = flag.event_time.empty() ? flag.detected_at : flag.event_time;
  if (const auto ms = parse_iso8601(text)) return format_iso8601(*ms - ((*ms % 1000) + 1000) % 1000);
  return text.empty() ? "-" : text;
}

std::string shown_source(const FlagView& flag) {
  if (!flag.permalink.empty()) return flag.permalink;
  if (flag.source_topic.empty()) return "-";
  std::string out = flag.platform.empty() ? "" : flag.platform + " ";
  out += flag.source_topic + "/" + std::to_string(flag.source_partition) + "@" + std::to_string(flag.source_offset);
  return out;
}

void append_cell(std::string& out, std::string_view text, std::size_t width, std::string_view color) {
  if (!color.empty()) out += color;
  out += fit(text, width);
  if (!color.empty()) out += kReset;
  out.append(kGap, ' ');
}

}  // namespace

std::string fit(std::string_view text, std::size_t max) {
  std::size_t points = 0;
  std::size_t cut = text.size();  // byte offset after `max - 1` code points
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_continuation(static_cast<unsigned char>(text[i]))) continue;
    if (points == max - 1 && max > 0) cut = i;
    ++points;
  }
  std::string out;
  if (points <= max) {
    out.assign(text);
    out.append(max - points, ' ');
  } else if (max > 0) {
    out.assign(text.substr(0, cut));
    out += "…";
  }
  return out;
}

std::string table_header(const TableStyle& style) {
  std::string out;
  if (style.color) out += kBold;
  out += fit("EVENT TIME (UTC)", kTimeWidth) + "  ";
  out += fit("SEVERITY", kSeverityWidth) + "  ";
  out += fit("CATEGORY", kCategoryWidth) + "  ";
  out += fit("ENTITY", kEntityWidth) + "  ";
  out += fit("REASON", reason_width(style)) + "  ";
  out += "SOURCE";
  if (style.color) out += kReset;
  out += "\n";
  return out;
}

std::string table_row(const FlagView& flag, const TableStyle& style) {
  std::string out;
  append_cell(out, shown_time(flag), kTimeWidth, "");
  append_cell(out, severity_name(flag.severity), kSeverityWidth, style.color ? severity_color(flag.severity) : "");
  append_cell(out, flag.category, kCategoryWidth, "");
  const Entity* entity = flag.main_entity();
  const std::string_view shown_entity = entity == nullptr         ? "-"
                                        : !entity->masked.empty() ? std::string_view(entity->masked)
                                                                  : std::string_view(entity->value);
  append_cell(out, shown_entity, kEntityWidth, "");
  append_cell(out, flag.reason.empty() ? "-" : flag.reason, reason_width(style), "");
  out += shown_source(flag);
  out += "\n";
  return out;
}

int terminal_width() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* columns = std::getenv("COLUMNS"); columns != nullptr) {
    const int n = std::atoi(columns);
    if (n > 0) return n;
  }
  return 160;
}

}  // namespace vigil::tail
