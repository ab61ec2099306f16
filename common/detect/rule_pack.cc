#include "common/detect/rule_pack.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <map>
#include <set>

#include "common/detect/confusables.h"
#include "common/extract/extract.h"
#include "common/extract/url.h"
#include "common/text/text.h"

namespace vigil::detect {
namespace {

struct LoadError {
  std::string message;
};

std::string req_string(const YAML::Node& node, const std::string& key, const std::string& where) {
  const auto v = node[key];
  if (!v || !v.IsScalar() || v.as<std::string>().empty())
    throw LoadError{where + ": '" + key + "' is required (a non-empty string)"};
  return v.as<std::string>();
}

std::vector<std::string> string_list(const YAML::Node& node, const std::string& key, const std::string& where) {
  std::vector<std::string> out;
  const auto v = node[key];
  if (!v) return out;
  if (!v.IsSequence()) throw LoadError{where + ": '" + key + "' must be a list of strings"};
  for (const auto& item : v) {
    if (!item.IsScalar()) throw LoadError{where + ": '" + key + "' must be a list of strings"};
    out.push_back(item.as<std::string>());
  }
  return out;
}

int int_value(const YAML::Node& node, const std::string& key, const std::string& where, int fallback) {
  const auto v = node[key];
  if (!v) return fallback;
  try {
    return v.as<int>();
  } catch (const YAML::Exception&) {
    throw LoadError{where + ": '" + key + "' must be an integer"};
  }
}

std::string folded(const std::string& s) {
  text::Folded f;
  text::fold(s, f);
  return f.text;
}

std::u32string skeleton_of(const std::string& label) {
  const auto confusables = Confusables::shared();
  if (!confusables.is_ok()) throw LoadError{"confusable skeletons: " + confusables.status().message()};
  auto skeleton = confusables.value()->skeleton(label);
  if (!skeleton.is_ok()) throw LoadError{"confusable skeleton of '" + label + "': " + skeleton.status().message()};
  return utf8_to_u32(skeleton.value());
}

bool bool_value(const YAML::Node& node, const std::string& key, const std::string& where) {
  try {
    return node[key].as<bool>();
  } catch (const YAML::Exception&) {
    throw LoadError{where + ": '" + key + "' must be true or false"};
  }
}

UrlRule parse_url_rule(const YAML::Node& node, const std::string& where) {
  UrlRule r;
  r.id = req_string(node, "id", where);
  const std::string at = "url rule " + r.id;
  r.weight = int_value(node, "weight", at, 0);
  if (r.weight < 1 || r.weight > 100) throw LoadError{at + ": 'weight' must be 1..100"};
  r.reason_en = req_string(node, "reason_en", at);
  r.reason_vi = req_string(node, "reason_vi", at);
  int kinds = 0;
  if (node["hosts"]) {
    ++kinds;
    r.kind = UrlRule::Kind::kHosts;
    for (const auto& h : string_list(node, "hosts", at)) {
      const auto slash = h.find('/');
      UrlRule::HostPattern p{extract::canonicalize_host(h.substr(0, slash)), ""};
      if (slash != std::string::npos) {
        p.path = h.substr(slash);
        for (char& c : p.path) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        while (p.path.size() > 1 && p.path.back() == '/') p.path.pop_back();
      }
      const bool ascii = std::all_of(p.host.begin(), p.host.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
      });
      if (p.host.find('.') == std::string::npos || !ascii)
        throw LoadError{at + ": host '" + h + "' is not a host name (write e.g. weebly.com or docs.google.com/forms)"};
      r.hosts.push_back(std::move(p));
    }
    if (r.hosts.empty()) throw LoadError{at + ": 'hosts' must list at least one host"};
  }
  if (node["tlds"]) {
    ++kinds;
    r.kind = UrlRule::Kind::kTlds;
    for (auto t : string_list(node, "tlds", at)) {
      if (!t.empty() && t.front() == '.') t.erase(0, 1);
      for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const bool label = !t.empty() && std::all_of(t.begin(), t.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
      });
      if (!label) throw LoadError{at + ": tld '" + t + "' must be one ASCII label like xyz"};
      r.tlds.insert(std::move(t));
    }
    if (r.tlds.empty()) throw LoadError{at + ": 'tlds' must list at least one top-level domain"};
  }
  if (node["ip_host"]) {
    ++kinds;
    r.kind = UrlRule::Kind::kIpHost;
    if (!bool_value(node, "ip_host", at)) throw LoadError{at + ": 'ip_host' can only be true"};
  }
  if (node["path_words"]) {
    ++kinds;
    r.kind = UrlRule::Kind::kPathWords;
    for (const auto& w : string_list(node, "path_words", at)) {
      std::string words = link_words(w);
      if (words.empty()) throw LoadError{at + ": path word '" + w + "' has no letters or digits"};
      r.words.push_back(std::move(words));
    }
    if (r.words.empty()) throw LoadError{at + ": 'path_words' must list at least one word"};
  }
  if (node["brand_in_path"]) {
    ++kinds;
    r.kind = UrlRule::Kind::kBrandInPath;
    if (!bool_value(node, "brand_in_path", at)) throw LoadError{at + ": 'brand_in_path' can only be true"};
  }
  if (kinds != 1)
    throw LoadError{at + ": give exactly one of hosts, tlds, ip_host, path_words, brand_in_path (got " +
                    std::to_string(kinds) + ")"};
  return r;
}

TimestampMs duration_value(const YAML::Node& node, const std::string& key, const std::string& where,
                           TimestampMs fallback) {
  const auto v = node[key];
  if (!v) return fallback;
  const auto ms = v.IsScalar() ? parse_duration(v.as<std::string>()) : std::nullopt;
  if (!ms || *ms <= 0) throw LoadError{where + ": '" + key + "' must be a duration such as 90s, 15m, 24h or 7d"};
  return *ms;
}

extract::EntityType entity_type(const std::string& name, const std::string& where) {
  if (const auto t = extract::entity_type_from_name(name)) return *t;
  throw LoadError{where + ": unknown entity type '" + name +
                  "' (url, domain, phone, email, citizen_id, bank_account, handle, account)"};
}

StatefulMeasure measure(const std::string& name, const std::string& where) {
  for (const auto m : {StatefulMeasure::kFirstSeen, StatefulMeasure::kPosts, StatefulMeasure::kDistinctAuthors,
                       StatefulMeasure::kDistinctReporters}) {
    if (measure_name(m) == name) return m;
  }
  throw LoadError{where + ": unknown measure '" + name + "' (first_seen, posts, distinct_authors, distinct_reporters)"};
}

void parse_stateful(const YAML::Node& root, RulePack& pack) {
  if (const auto st = root["state"]) {
    if (!st.IsMap()) throw LoadError{"state: must be a mapping {grace, first_seen_retention}"};
    pack.state.grace = duration_value(st, "grace", "state", pack.state.grace);
    pack.state.first_seen_retention =
        duration_value(st, "first_seen_retention", "state", pack.state.first_seen_retention);
  }
  if (const auto rg = root["rings"]) {
    const std::string where = "rings";
    if (!rg.IsMap()) throw LoadError{"rings: must be a mapping"};
    auto& r = pack.rings;
    r.enabled = true;
    r.category = rg["category"] ? rg["category"].as<std::string>() : r.category;
    if (pack.category(r.category) == nullptr) throw LoadError{"rings.category: '" + r.category + "' is not declared"};
    for (const auto& t : string_list(rg, "types", where)) r.types.push_back(entity_type(t, where));
    if (r.types.empty()) throw LoadError{"rings.types: list the entity types that can be members"};
    r.min_members = static_cast<std::size_t>(int_value(rg, "min_members", where, static_cast<int>(r.min_members)));
    r.max_degree = static_cast<std::size_t>(int_value(rg, "max_degree", where, static_cast<int>(r.max_degree)));
    r.max_links = static_cast<std::size_t>(int_value(rg, "max_links", where, static_cast<int>(r.max_links)));
    if (r.min_members < 2 || r.max_degree < 2 || r.max_links < 1 || r.max_degree > 10000 || r.max_links > 1000)
      throw LoadError{"rings: need min_members >= 2, 2 <= max_degree <= 10000, 1 <= max_links <= 1000"};
    for (const auto& h : string_list(rg, "hubs", where)) r.hubs.push_back(extract::canonical_host(h));
    r.score = int_value(rg, "score", where, r.score);
    if (r.score < 1 || r.score > 100) throw LoadError{"rings.score: must be 1..100"};
    r.reason_en = req_string(rg, "reason_en", where);
    r.reason_vi = req_string(rg, "reason_vi", where);
  }
  const auto rules = root["stateful_rules"];
  if (!rules) return;
  if (!rules.IsSequence()) throw LoadError{"stateful_rules: must be a list"};
  std::set<std::string> ids;
  for (const auto& node : rules) {
    StatefulRule r;
    r.id = req_string(node, "id", "stateful_rules[" + std::to_string(pack.stateful_rules.size()) + "]");
    const std::string where = "stateful_rules." + r.id;
    if (!ids.insert(r.id).second) throw LoadError{where + ": duplicate rule id"};
    r.category = req_string(node, "category", where);
    if (pack.category(r.category) == nullptr)
      throw LoadError{where + ": category '" + r.category + "' is not declared"};
    r.subtype = node["subtype"] ? node["subtype"].as<std::string>() : "";
    r.reason_en = req_string(node, "reason_en", where);
    r.reason_vi = req_string(node, "reason_vi", where);
    for (const auto& e : string_list(node, "entities", where)) r.entities.push_back(entity_type(e, where));
    if (r.entities.empty()) throw LoadError{where + ": 'entities' must list at least one entity type"};
    r.measure = measure(req_string(node, "measure", where), where);
    if (const auto when = node["when"]) {
      if (!when.IsMap()) throw LoadError{where + ".when: must be a mapping {flagged, lookalike}"};
      if (const auto f = when["flagged"]; f && f.IsScalar()) {
        r.when_flagged.push_back(f.as<std::string>());
      } else {
        r.when_flagged = string_list(when, "flagged", where + ".when");
      }
      for (const auto& c : r.when_flagged) {
        if (pack.category(c) == nullptr) throw LoadError{where + ".when.flagged: category '" + c + "' is not declared"};
      }
      if (const auto l = when["lookalike"]) {
        try {
          r.when_lookalike = l.as<bool>();
        } catch (const YAML::Exception&) {
          throw LoadError{where + ".when.lookalike: must be true or false"};
        }
      }
    }
    const int threshold = int_value(node, "threshold", where, 1);
    if (threshold < 1) throw LoadError{where + ": 'threshold' must be at least 1"};
    r.threshold = static_cast<std::uint64_t>(threshold);
    if (r.measure == StatefulMeasure::kFirstSeen && node["threshold"])
      throw LoadError{where + ": a first_seen rule has no threshold (it fires within 'window' of the first sighting)"};
    r.window = duration_value(node, "window", where, 0);
    if (r.window == 0) throw LoadError{where + ": 'window' is required (e.g. 24h)"};
    r.advance = duration_value(node, "advance", where, r.window);
    if (r.advance > r.window || r.window % r.advance != 0)
      throw LoadError{where + ": 'advance' must divide 'window' (got " + format_duration(r.advance) + " and " +
                      format_duration(r.window) + ")"};
    if (r.window / r.advance > 48)
      throw LoadError{where + ": at most 48 overlapping windows ('window' / 'advance'); state grows with each"};
    r.score = int_value(node, "score", where, 0);
    if (r.score < 1 || r.score > 100) throw LoadError{where + ": 'score' must be 1..100"};
    pack.stateful_rules.push_back(std::move(r));
  }
}

RulePack parse(const YAML::Node& root) {
  RulePack pack;
  if (!root.IsMap()) throw LoadError{"the rule pack must be a YAML mapping"};
  pack.name = req_string(root, "rule_pack", "top level");
  pack.version = req_string(root, "version", "top level");

  if (const auto cats = root["categories"]) {
    if (!cats.IsMap()) throw LoadError{"categories: must map a category name to {threshold}"};
    for (const auto& kv : cats) {
      Category c;
      c.name = kv.first.as<std::string>();
      c.threshold = int_value(kv.second, "threshold", "categories." + c.name, 50);
      if (c.threshold < 1 || c.threshold > 100) throw LoadError{"categories." + c.name + ".threshold: must be 1..100"};
      pack.categories.push_back(std::move(c));
    }
  }
  if (pack.categories.empty()) throw LoadError{"categories: at least one category is needed"};

  std::set<std::string> ids = {std::string("intel.blocklist")};  // the known-bad feeds' rule
  const auto rules = root["phrase_rules"];
  if (rules && !rules.IsSequence()) throw LoadError{"phrase_rules: must be a list"};
  for (std::size_t i = 0; rules && i < rules.size(); ++i) {
    const auto& node = rules[i];
    PhraseRule r;
    const std::string where = "phrase_rules[" + std::to_string(i) + "]";
    r.id = req_string(node, "id", where);
    const std::string at = "rule " + r.id;
    if (!ids.insert(r.id).second) throw LoadError{at + ": duplicate rule id"};
    r.category = req_string(node, "category", at);
    const Category* category = pack.category(r.category);
    if (category == nullptr) throw LoadError{at + ": category '" + r.category + "' is not declared under categories"};
    r.category_index = static_cast<std::size_t>(category - pack.categories.data());
    r.weight = int_value(node, "weight", at, 0);
    if (r.weight == 0 || r.weight < -100 || r.weight > 100)
      throw LoadError{at + ": 'weight' must be a non-zero integer in -100..100"};
    r.reason_en = req_string(node, "reason_en", at);
    r.reason_vi = req_string(node, "reason_vi", at);
    for (const auto& p : string_list(node, "phrases", at)) {
      std::string f = folded(p);
      if (f.empty()) throw LoadError{at + ": phrase '" + p + "' is empty after folding"};
      // Spellings that fold alike ("số điện thoại", "sđt") are one phrase: quoted twice, the
      // same words would show twice in a flag's evidence.
      if (std::find(r.phrases.begin(), r.phrases.end(), f) == r.phrases.end()) r.phrases.push_back(std::move(f));
    }
    for (const auto& p : string_list(node, "patterns", at)) {
      // Patterns meet folded text: lower-case ASCII, no diacritics (đ is d).
      // Upper-case letters only in escapes (\D, \S).
      bool folded_form = !p.empty();
      for (std::size_t k = 0; k < p.size(); ++k) {
        const auto u = static_cast<unsigned char>(p[k]);
        if (u >= 0x80 || (p[k] >= 'A' && p[k] <= 'Z' && (k == 0 || p[k - 1] != '\\'))) folded_form = false;
      }
      if (!folded_form)
        throw LoadError{at + ": pattern '" + p + "' must be written folded (lower-case ASCII, no diacritics)"};
      r.patterns.push_back(p);
    }
    if (r.entries() == 0) throw LoadError{at + ": 'phrases' or 'patterns' must list at least one phrase"};
    r.with = string_list(node, "with", at);
    if (node["negatable"]) r.negatable = bool_value(node, "negatable", at);
    if (r.negatable && r.weight < 0)
      throw LoadError{at + ": 'negatable' is for positive rules (a counter-signal is not negated)"};
    if (const auto wl = node["when_links"]) {
      if (!wl.IsScalar() || wl.as<std::string>() != "defanged")
        throw LoadError{at + ": 'when_links' must be 'defanged'"};
      if (r.weight > 0) throw LoadError{at + ": 'when_links' is for counter-signals (negative weight)"};
      r.defanged_links_only = true;
    }
    if (const auto st = node["subtype"]) {
      if (!st.IsScalar()) throw LoadError{at + ": 'subtype' must be a word like loan_shark"};
      r.subtype = st.as<std::string>();
      const bool word = !r.subtype.empty() && std::all_of(r.subtype.begin(), r.subtype.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
      });
      if (!word) throw LoadError{at + ": 'subtype' must be lower-case letters, digits and _ (got '" + r.subtype + "')"};
      if (r.weight < 0) throw LoadError{at + ": a counter-signal (negative weight) cannot name a subtype"};
    }
    pack.phrase_rules.push_back(std::move(r));
  }
  // `with`: partners in the same category, positive and unconditional themselves.
  for (auto& r : pack.phrase_rules) {
    const std::string at = "rule " + r.id;
    for (const auto& id : r.with) {
      const auto it = std::find_if(pack.phrase_rules.begin(), pack.phrase_rules.end(),
                                   [&](const PhraseRule& o) { return o.id == id; });
      if (it == pack.phrase_rules.end()) throw LoadError{at + ": 'with' names an unknown rule '" + id + "'"};
      if (it->category != r.category || it->weight < 0 || !it->with.empty() || &*it == &r)
        throw LoadError{at + ": 'with' rule '" + id +
                        "' must be another positive rule of the same category without a 'with' of its own"};
      r.with_rules.push_back(static_cast<std::size_t>(it - pack.phrase_rules.begin()));
    }
  }

  const auto brands = root["brands"];
  if (brands && !brands.IsSequence()) throw LoadError{"brands: must be a list"};
  std::set<std::string> brand_ids;
  for (std::size_t i = 0; brands && i < brands.size(); ++i) {
    const auto& node = brands[i];
    Brand b;
    b.id = req_string(node, "id", "brands[" + std::to_string(i) + "]");
    const std::string at = "brand " + b.id;
    if (!brand_ids.insert(b.id).second) throw LoadError{at + ": duplicate brand id"};
    b.name = req_string(node, "name", at);
    for (const auto& d : string_list(node, "domains", at)) {
      const std::string host = extract::canonical_host(d);
      const std::string reg = extract::registrable_domain(host);
      if (reg.empty() || reg != host)
        throw LoadError{at + ": '" + d +
                        "' is not a registrable domain (list e.g. vietcombank.com.vn, not a subdomain or suffix)"};
      const auto [owner, fresh] = pack.official.emplace(reg, b.id);
      if (!fresh) throw LoadError{at + ": domain '" + reg + "' is already listed under brand " + owner->second};
      b.domains.push_back(reg);
      const std::string label = reg.substr(0, reg.find('.'));
      if (std::find(b.labels.begin(), b.labels.end(), label) == b.labels.end()) {
        b.labels.push_back(label);
        b.skeletons.push_back(skeleton_of(label));
      }
    }
    if (b.domains.empty()) throw LoadError{at + ": 'domains' must list at least one official domain"};
    for (const auto& a : string_list(node, "aliases", at)) {
      std::string f = folded(a);
      // Aliases are host tokens: letters and digits only, and at least 3 of them, so that a
      // two-letter abbreviation never turns ordinary domains into lookalikes.
      const bool host_token = !f.empty() && std::all_of(f.begin(), f.end(), [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      });
      if (!host_token || f.size() < 3)
        throw LoadError{at + ": alias '" + a + "' must be 3 or more letters or digits (no spaces, dots or hyphens)"};
      if (std::find(b.aliases.begin(), b.aliases.end(), f) == b.aliases.end()) b.aliases.push_back(std::move(f));
    }
    if (const auto g = node["global"]) {
      try {
        b.global = g.as<bool>();
      } catch (const YAML::Exception&) {
        throw LoadError{at + ": 'global' must be true or false"};
      }
    }
    pack.never_lookalike.insert(b.domains.begin(), b.domains.end());
    pack.brands.push_back(std::move(b));
  }
  for (const auto& d : string_list(root, "not_lookalikes", "top level")) {
    const std::string host = extract::canonical_host(d);
    const std::string reg = extract::registrable_domain(host);
    if (reg.empty() || reg != host) throw LoadError{"not_lookalikes: '" + d + "' is not a registrable domain"};
    pack.never_lookalike.insert(reg);
  }
  if (const auto lw = root["lookalike"]) {
    pack.lookalike.edit = int_value(lw, "edit", "lookalike", pack.lookalike.edit);
    pack.lookalike.same_label = int_value(lw, "same_label", "lookalike", pack.lookalike.same_label);
    pack.lookalike.compound = int_value(lw, "compound", "lookalike", pack.lookalike.compound);
    pack.lookalike.alias = int_value(lw, "alias", "lookalike", pack.lookalike.alias);
    pack.lookalike.confusable = int_value(lw, "confusable", "lookalike", pack.lookalike.confusable);
    pack.lookalike.digits = int_value(lw, "digits", "lookalike", pack.lookalike.digits);
    if (pack.lookalike.digits < 1 || pack.lookalike.digits > 100) throw LoadError{"lookalike.digits: must be 1..100"};
    if (pack.lookalike.confusable < 1 || pack.lookalike.confusable > 100)
      throw LoadError{"lookalike.confusable: must be 1..100"};
  }
  if (const auto sv = root["severity"]) {
    pack.severity.medium = int_value(sv, "medium", "severity", pack.severity.medium);
    pack.severity.high = int_value(sv, "high", "severity", pack.severity.high);
    pack.severity.critical = int_value(sv, "critical", "severity", pack.severity.critical);
    const auto& t = pack.severity;
    if (!(1 <= t.medium && t.medium < t.high && t.high < t.critical && t.critical <= 100)) {
      throw LoadError{"severity: need 1 <= medium < high < critical <= 100 (got " + std::to_string(t.medium) + ", " +
                      std::to_string(t.high) + ", " + std::to_string(t.critical) + ")"};
    }
  }
  const auto url_rules = root["url_rules"];
  if (url_rules && !url_rules.IsSequence()) throw LoadError{"url_rules: must be a list"};
  for (std::size_t i = 0; url_rules && i < url_rules.size(); ++i) {
    UrlRule r = parse_url_rule(url_rules[i], "url_rules[" + std::to_string(i) + "]");
    if (!ids.insert(r.id).second) throw LoadError{"url rule " + r.id + ": duplicate rule id"};
    pack.url_rules.push_back(std::move(r));
  }
  // A listed domain alone is a high flag: a default below the pack's own band would not be.
  pack.blocklist_weight = std::max(pack.blocklist_weight, pack.severity.high);
  if (const auto bl = root["blocklist"]) {
    if (!bl.IsMap()) throw LoadError{"blocklist: must be a mapping like {weight: 80}"};
    for (const auto& kv : bl) {
      if (kv.first.as<std::string>() != "weight")
        throw LoadError{"blocklist." + kv.first.as<std::string>() + ": unknown key (expected weight)"};
    }
    pack.blocklist_weight = int_value(bl, "weight", "blocklist", pack.blocklist_weight);
    if (pack.blocklist_weight < pack.severity.high || pack.blocklist_weight > 100) {
      throw LoadError{"blocklist.weight: must be " + std::to_string(pack.severity.high) +
                      "..100 (at least severity.high, so that a listed domain alone is a high flag)"};
    }
  }
  parse_stateful(root, pack);
  if ((!pack.brands.empty() || !pack.url_rules.empty()) && pack.category("fraud_link") == nullptr) {
    throw LoadError{"categories: brands or url_rules are listed, so the fraud_link category must be declared"};
  }
  return pack;
}

}  // namespace

std::string link_words(std::string_view text) {
  // Separators become spaces first, so that folding sees each path token as a word of its own.
  thread_local std::string spaced;
  thread_local text::Folded f;
  spaced.assign(text);
  for (char& ch : spaced) {
    const auto c = static_cast<unsigned char>(ch);
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
    if (!word) ch = ' ';
  }
  text::fold(spaced, f);
  std::string out;
  out.reserve(f.text.size());
  for (const char ch : f.text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) {
      out.push_back(ch);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
  }
  if (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::string_view measure_name(StatefulMeasure m) {
  switch (m) {
    case StatefulMeasure::kFirstSeen: return "first_seen";
    case StatefulMeasure::kPosts: return "posts";
    case StatefulMeasure::kDistinctAuthors: return "distinct_authors";
    case StatefulMeasure::kDistinctReporters: return "distinct_reporters";
  }
  return "unknown";
}

std::optional<TimestampMs> parse_duration(std::string_view text) {
  std::size_t i = 0;
  TimestampMs n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (n > 1'000'000'000'000LL) return std::nullopt;
    n = n * 10 + (text[i++] - '0');
  }
  if (i == 0) return std::nullopt;
  const auto unit = text.substr(i);
  if (unit == "ms") return n;
  if (unit == "s") return n * 1000;
  if (unit == "m") return n * 60'000;
  if (unit == "h") return n * 3'600'000;
  if (unit == "d") return n * 86'400'000;
  return std::nullopt;
}

std::string format_duration(TimestampMs ms) {
  for (const auto& [unit, size] :
       {std::pair<const char*, TimestampMs>{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}}) {
    if (ms != 0 && ms % size == 0) return std::to_string(ms / size) + unit;
  }
  return std::to_string(ms) + "ms";
}

const Category* RulePack::category(const std::string& category_name) const {
  for (const auto& c : categories) {
    if (c.name == category_name) return &c;
  }
  return nullptr;
}

Result<std::shared_ptr<const RulePack>> load_rule_pack(const std::string& path) {
  try {
    const YAML::Node root = YAML::LoadFile(path);
    auto pack = std::make_shared<RulePack>(parse(root));
    std::vector<std::string> phrases;
    std::vector<bool> regex;
    for (std::size_t r = 0; r < pack->phrase_rules.size(); ++r) {
      for (const auto& phrase : pack->phrase_rules[r].phrases) {
        phrases.push_back(phrase);
        regex.push_back(false);
        pack->phrase_rule.push_back(static_cast<std::uint32_t>(r));
      }
      for (const auto& pattern : pack->phrase_rules[r].patterns) {
        phrases.push_back(pattern);
        regex.push_back(true);
        pack->phrase_rule.push_back(static_cast<std::uint32_t>(r));
      }
    }
    auto matcher = PhraseMatcher::compile(phrases, regex);
    if (!matcher.is_ok()) return invalid_argument(path + ": " + matcher.status().message());
    pack->matcher = std::move(matcher.value());
    return std::shared_ptr<const RulePack>(std::move(pack));
  } catch (const YAML::BadFile&) {
    return Status(Code::kNotFound, path + ": cannot open the rule pack");
  } catch (const YAML::Exception& e) {
    return invalid_argument(path + ": not valid YAML: " + e.what());
  } catch (const LoadError& e) {
    return invalid_argument(path + ": " + e.message);
  }
}

}  // namespace vigil::detect
