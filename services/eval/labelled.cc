#include "services/eval/labelled.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>

namespace vigil::eval {
namespace {

namespace od = simdjson::ondemand;

Status bad(std::string what) {
  return invalid_argument(std::move(what));
}

std::string join(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + v;
  return out;
}

}  // namespace

Taxonomy Taxonomy::of(const detect::RulePack& pack) {
  Taxonomy t;
  for (const auto& c : pack.categories) t.categories.push_back({c.name, {}});
  for (const auto& rule : pack.phrase_rules) {
    if (rule.subtype.empty()) continue;
    for (auto& c : t.categories) {
      if (c.name == rule.category &&
          std::find(c.subtypes.begin(), c.subtypes.end(), rule.subtype) == c.subtypes.end()) {
        c.subtypes.push_back(rule.subtype);
      }
    }
  }
  return t;
}

const Taxonomy::Category* Taxonomy::find(std::string_view category) const {
  for (const auto& c : categories) {
    if (c.name == category) return &c;
  }
  return nullptr;
}

std::vector<RowKey> Taxonomy::rows() const {
  std::vector<RowKey> out;
  for (const auto& c : categories) {
    out.push_back({c.name, ""});
    for (const auto& s : c.subtypes) out.push_back({c.name, s});
  }
  return out;
}

struct LabelledParser::Impl {
  od::parser parser;
  std::string buffer;
  io::EnvelopeDecoder envelope;
};

LabelledParser::LabelledParser(Taxonomy taxonomy) : taxonomy_(std::move(taxonomy)), impl_(std::make_unique<Impl>()) {}
LabelledParser::~LabelledParser() = default;

Status LabelledParser::parse(std::string_view line, LabelledRecord& out) {
  out = LabelledRecord{};
  auto& buf = impl_->buffer;
  if (buf.size() < line.size() + simdjson::SIMDJSON_PADDING) buf.resize(line.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(buf.data(), line.data(), line.size());
  od::document doc;
  if (auto e = impl_->parser.iterate(buf.data(), line.size(), buf.size()).get(doc)) {
    return bad(std::string("not JSON: ") + simdjson::error_message(e));
  }
  od::object obj;
  if (const auto e = doc.get_object().get(obj)) {
    return bad(e == simdjson::INCORRECT_TYPE ? "not a JSON object"
                                             : std::string("not JSON: ") + simdjson::error_message(e));
  }
  bool have_labels = false, have_subtype = false;
  std::string_view record_json;
  for (auto fr : obj) {
    od::field f;
    if (auto e = std::move(fr).get(f)) return bad(std::string("not JSON: ") + simdjson::error_message(e));
    std::string_view k;
    if (auto e = f.unescaped_key().get(k)) return bad(std::string("not JSON: ") + simdjson::error_message(e));
    od::value v = f.value();
    if (k == "labels") {
      od::array labels;
      if (v.get_array().get(labels) != simdjson::SUCCESS) return bad("'labels' is not an array of strings");
      for (auto lr : labels) {
        std::string_view label;
        if (lr.get_string().get(label) != simdjson::SUCCESS) return bad("'labels' is not an array of strings");
        if (taxonomy_.find(label) == nullptr) {
          std::vector<std::string> names;
          for (const auto& c : taxonomy_.categories) names.push_back(c.name);
          return bad("unknown category '" + std::string(label) + "' in 'labels' (the rule pack has " + join(names) +
                     ")");
        }
        auto& cats = out.truth.categories;
        if (std::find(cats.begin(), cats.end(), label) != cats.end()) {
          return bad("category '" + std::string(label) + "' appears twice in 'labels'");
        }
        cats.emplace_back(label);
      }
      have_labels = true;
    } else if (k == "subtype") {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS || s.empty()) return bad("'subtype' is not a non-empty string");
      out.truth.subtype.assign(s);
      have_subtype = true;
    } else if (k == "note") {
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return bad("'note' is not a string");
      out.note.assign(s);
    } else if (k == "record") {
      od::object record;
      if (v.get_object().get(record) != simdjson::SUCCESS || record.raw_json().get(record_json) != simdjson::SUCCESS) {
        return bad("'record' is not a JSON object (a kcat -J envelope)");
      }
    } else {
      return bad("unknown field '" + std::string(k) + "' (expected labels, subtype, note, record)");
    }
  }
  // Anything left after the object (a second object pasted onto the line) is an error too.
  if (const char* rest = nullptr; doc.current_location().get(rest) == simdjson::SUCCESS) {
    return bad("text after the JSON object");
  }
  if (!have_labels) return bad("'labels' is missing (use [] for a record that must not be flagged)");
  if (record_json.empty()) return bad("'record' is missing");

  // The subtype belongs to the one labelled category that has subtypes in the pack.
  const Taxonomy::Category* with_subtypes = nullptr;
  for (const auto& label : out.truth.categories) {
    const Taxonomy::Category* c = taxonomy_.find(label);
    if (c->subtypes.empty()) continue;
    if (with_subtypes != nullptr) {
      return bad("labels '" + with_subtypes->name + "' and '" + c->name +
                 "' both have subtypes; one 'subtype' cannot describe both");
    }
    with_subtypes = c;
  }
  if (with_subtypes == nullptr && have_subtype) {
    return bad("'subtype' given, but no labelled category has subtypes in the rule pack");
  }
  if (with_subtypes != nullptr) {
    if (!have_subtype) {
      return bad("'subtype' is missing: label '" + with_subtypes->name + "' needs one of " +
                 join(with_subtypes->subtypes));
    }
    const auto& subs = with_subtypes->subtypes;
    if (std::find(subs.begin(), subs.end(), out.truth.subtype) == subs.end()) {
      return bad("unknown subtype '" + out.truth.subtype + "' of '" + with_subtypes->name + "' (the rule pack has " +
                 join(subs) + ")");
    }
  }

  if (const Status st = impl_->envelope.decode(record_json, out.record); !st.is_ok()) {
    return bad("'record': " + st.message());
  }
  return Status::ok();
}

}  // namespace vigil::eval
