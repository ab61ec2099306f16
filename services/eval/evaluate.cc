#include "services/eval/evaluate.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "common/adapters/adapter.h"
#include "common/core/config.h"
#include "common/detect/detector.h"
#include "common/io/file/line_reader.h"
#include "common/topology/stage_a.h"

namespace vigil::eval {
namespace {

namespace od = simdjson::ondemand;

std::string header(const io::Record& r, std::string_view key) {
  for (const auto& h : r.headers) {
    if (h.key == key) return h.value.value_or("");
  }
  return "";
}

}  // namespace

std::vector<Predicted> Outcome::predicted() const {
  std::vector<Predicted> out;
  out.reserve(flags.size());
  for (const auto& f : flags) out.push_back({f.category, f.subtype});
  return out;
}

namespace {

// The corpus labels content: stage B's flags depend on what else is in the stream.
DetectorConfig content_only(DetectorConfig c) {
  c.state.enabled = false;
  return c;
}

}  // namespace

struct Evaluator::Impl {
  explicit Impl(const std::shared_ptr<const detect::RulePack>& pack)
      : config(content_only(default_detector_config())),
        stage(config, pack, [] { return TimestampMs{0}; }),
        diagnostic(lowered_thresholds(*pack)) {
    for (const auto& input : config.inputs) adapters.emplace(input.topic, make_adapter(input.adapter));
  }

  // The same pack with every threshold at 1, so that the detector reports the scores that did
  // not make a flag.
  static std::shared_ptr<const detect::RulePack> lowered_thresholds(const detect::RulePack& pack) {
    auto copy = std::make_shared<detect::RulePack>(pack);
    for (auto& c : copy->categories) c.threshold = 1;
    return copy;
  }

  // Reads category, subtype, score and rule ids back from one flag's JSON value.
  Status read_flag(const std::string& json, FlagSummary& out) {
    buffer.assign(json);
    buffer.resize(json.size() + simdjson::SIMDJSON_PADDING);
    od::document doc;
    od::object obj;
    if (parser.iterate(buffer.data(), json.size(), buffer.size()).get(doc) || doc.get_object().get(obj)) {
      return internal_error("stage A wrote a flag that is not a JSON object");
    }
    for (auto fr : obj) {
      od::field f;
      std::string_view k;
      if (std::move(fr).get(f) || f.unescaped_key().get(k)) return internal_error("unreadable flag JSON");
      od::value v = f.value();
      std::string_view s;
      std::int64_t n = 0;
      if (k == "category" && !v.get_string().get(s)) out.category.assign(s);
      if (k == "subtype" && !v.get_string().get(s)) out.subtype.assign(s);
      if (k == "score" && !v.get_int64().get(n)) out.score = static_cast<int>(n);
      if (k == "rules") {
        od::array rules;
        if (v.get_array().get(rules)) return internal_error("flag rules are not an array");
        for (auto rr : rules) {
          od::object rule;
          if (rr.get_object().get(rule)) return internal_error("a flag rule is not an object");
          FlagSummary::Rule& r = out.rules.emplace_back();
          for (auto rf : rule) {
            od::field g;
            std::string_view rk;
            if (std::move(rf).get(g) || g.unescaped_key().get(rk)) return internal_error("unreadable flag rule");
            if (rk == "id" && !g.value().get_string().get(s)) r.id.assign(s);
            if (rk == "weight" && !g.value().get_int64().get(n)) r.weight = static_cast<int>(n);
          }
        }
      }
    }
    if (out.category.empty()) return internal_error("stage A wrote a flag without a category");
    return Status::ok();
  }

  DetectorConfig config;
  topology::StageA stage;
  detect::Detector diagnostic;
  std::vector<detect::Finding> findings;
  std::map<std::string, std::unique_ptr<Adapter>, std::less<>> adapters;  // by topic, for the event text
  std::vector<io::Record> out;
  od::parser parser;
  std::string buffer;
};

Evaluator::Evaluator(const std::shared_ptr<const detect::RulePack>& pack) : impl_(std::make_unique<Impl>(pack)) {}
Evaluator::~Evaluator() = default;

Status Evaluator::evaluate(const io::Record& record, Outcome& out) {
  out = Outcome{};
  impl_->out.clear();
  topology::Stats stats;
  VIGIL_RETURN_IF_ERROR(impl_->stage.process(record, impl_->out, stats));
  for (const auto& r : impl_->out) {
    if (r.topic == impl_->config.dlq_topic) {
      return invalid_argument("stage A dead-letters the record: " + header(r, topology::kDlqReasonHeader) + ": " +
                              header(r, topology::kDlqDetailHeader));
    }
  }
  if (stats.skipped > 0) {
    return invalid_argument("stage A skips the record: it carries nothing to analyse (not a post or message)");
  }
  for (const auto& r : impl_->out) {
    FlagSummary& f = out.flags.emplace_back();
    VIGIL_RETURN_IF_ERROR(impl_->read_flag(r.value.value_or(""), f));
  }
  // The same adapter again, only to show the text in error listings: stage A keeps its event.
  if (auto it = impl_->adapters.find(record.topic); it != impl_->adapters.end() && it->second && record.value) {
    if (!it->second->parse(*record.value, out.event).is_ok()) out.event.clear();
  }
  impl_->findings.clear();
  impl_->diagnostic.detect(out.event, impl_->findings);
  for (const auto& finding : impl_->findings) {
    const bool flagged = std::any_of(out.flags.begin(), out.flags.end(),
                                     [&](const FlagSummary& f) { return f.category == finding.category; });
    if (flagged) continue;
    FlagSummary& f = out.below_threshold.emplace_back();
    f.category = finding.category;
    f.subtype = finding.subtype;
    f.score = finding.score;
    for (const auto& hit : finding.hits) f.rules.push_back({hit.id, hit.weight});
  }
  return Status::ok();
}

Result<FileResult> evaluate_file(const std::string& path, LabelledParser& parser, Evaluator& evaluator) {
  auto reader = io::open_line_reader(path);
  if (!reader.is_ok()) return reader.status();
  FileResult result;
  result.path = path;
  result.board = Scoreboard(parser.taxonomy().rows());
  std::string line;
  std::size_t number = 0;
  while (reader.value()->next(line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    RecordResult& r = result.records.emplace_back();
    r.line = number;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    if (const Status st = parser.parse(line, r.labelled); !st.is_ok()) return invalid_argument(where + st.message());
    if (const Status st = evaluator.evaluate(r.labelled.record, r.outcome); !st.is_ok()) {
      return Status(st.code(), where + st.message());
    }
    result.board.add(r.labelled.truth, r.outcome.predicted());
  }
  if (const Status st = reader.value()->status(); !st.is_ok()) return Status(st.code(), path + ": " + st.message());
  return result;
}

}  // namespace vigil::eval
