#include "common/log/log.h"

#include <gtest/gtest.h>

#include <regex>

namespace vigil::log {
namespace {

TEST(Log, JsonLinesEscapeTheMessage) {
  const std::string line = format_for_test(Format::kJson, "vigil-detector", "bad \"record\"\nnext");
  EXPECT_TRUE(std::regex_match(
      line,
      std::regex(
          R"(\{"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z","level":"info","logger":"vigil-detector","msg":"bad \\"record\\"\\nnext"\}\n)")))
      << line;
}

TEST(Log, TextIsOneReadableLine) {
  const std::string line = format_for_test(Format::kText, "vigil-detector", "consuming 6 topics");
  EXPECT_NE(line.find(" vigil-detector info: consuming 6 topics\n"), std::string::npos) << line;
}

TEST(Log, FormatNames) {
  Format f = Format::kText;
  EXPECT_TRUE(parse_format("json", f));
  EXPECT_EQ(f, Format::kJson);
  EXPECT_FALSE(parse_format("xml", f));
}

}  // namespace
}  // namespace vigil::log
