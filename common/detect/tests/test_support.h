#pragma once

// What the detect tests share: the bundled pack, a Telegram-like event, one detector run.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/detect/detector.h"

namespace vigil::detect::test_support {

// The bundled rules/vn-core.yaml, loaded once per test binary.
inline std::shared_ptr<const RulePack> core_pack() {
  static auto pack = [] {
    auto r = load_rule_pack(std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml");
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.value();
  }();
  return pack;
}

inline Event event(std::string text, std::vector<std::string> urls = {}) {
  Event e;
  e.event_id = "telegram:-100:1";
  e.platform = "telegram";
  e.kind = "message";
  e.author = "telegram:5012345612";
  e.text = std::move(text);
  e.urls = std::move(urls);
  e.event_time = 1711930340000;
  e.source = {"raw.telegram", 3, 18822, 0};
  return e;
}

inline std::vector<Finding> run(const Event& e) {
  Detector d(core_pack());
  std::vector<Finding> out;
  d.detect(e, out);
  return out;
}

// The finding of `category`, or nullptr.
inline const Finding* find(const std::vector<Finding>& fs, const std::string& category) {
  for (const auto& f : fs) {
    if (f.category == category) return &f;
  }
  return nullptr;
}

}  // namespace vigil::detect::test_support
