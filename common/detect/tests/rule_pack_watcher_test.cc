#include "common/detect/rule_pack_watcher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace vigil::detect {
namespace {

using namespace std::chrono_literals;

std::string core_pack_text() {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The bundled pack with another version string, written over `path` (a new file, as editors
// and Kubernetes ConfigMap updates do).
void write_pack(const std::string& path, const std::string& version) {
  std::string text = core_pack_text();
  const auto at = text.find("version: 2026.11.1");
  EXPECT_NE(at, std::string::npos);
  text.replace(at, std::string("version: 2026.11.1").size(), "version: " + version);
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  std::filesystem::rename(tmp, path);
}

TEST(RulePackWatcher, ReloadsOnChangeAndOnRequestAndReportsABadPackOnce) {
  const std::string path = ::testing::TempDir() + "vigil_watch_pack.yaml";
  write_pack(path, "1.0.0");
  RulePackWatcher watcher(path, 1ms);
  std::this_thread::sleep_for(5ms);
  auto none = watcher.poll();
  EXPECT_EQ(none.pack, nullptr);
  EXPECT_TRUE(none.error.is_ok());

  write_pack(path, "1.0.1-longer");  // a different size, whatever the clock's resolution
  std::this_thread::sleep_for(5ms);
  auto changed = watcher.poll();
  ASSERT_NE(changed.pack, nullptr) << changed.error.to_string();
  EXPECT_EQ(changed.pack->qualified_version(), "vn-core@1.0.1-longer");
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(watcher.poll().pack, nullptr);  // no change, no reload

  std::ofstream(path) << "rule_pack_format: 1\nthis is: [not a pack\n";
  std::this_thread::sleep_for(5ms);
  auto bad = watcher.poll();
  EXPECT_EQ(bad.pack, nullptr);
  EXPECT_FALSE(bad.error.is_ok());
  EXPECT_NE(bad.error.message().find(path), std::string::npos) << bad.error.message();
  std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(watcher.poll().error.is_ok());  // reported once, not on every check

  write_pack(path, "2.0.0");
  watcher.request();  // SIGHUP: reload now, whatever the timer says
  auto requested = watcher.poll();
  ASSERT_NE(requested.pack, nullptr) << requested.error.to_string();
  EXPECT_EQ(requested.pack->qualified_version(), "vn-core@2.0.0");
}

}  // namespace
}  // namespace vigil::detect
