#include "common/detect/detector.h"

#include <unicode/unistr.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <unordered_map>

#include "common/extract/url.h"

namespace vigil::detect {
namespace {

// Code-point offsets of byte offsets visited in ascending order: one pass over the text
// however many quotes a flag has.
class CodePointCursor {
 public:
  explicit CodePointCursor(std::string_view text) : text_(text) {}
  std::size_t at(std::size_t byte) {
    if (byte < byte_) {
      byte_ = 0;
      cp_ = 0;
    }
    cp_ += text::code_points(text_.substr(byte_, byte - byte_));
    byte_ = byte;
    return cp_;
  }

 private:
  std::string_view text_;
  std::size_t byte_ = 0;
  std::size_t cp_ = 0;
};

// Tokens of a host label split at '-' and at letter/digit changes: "momo247" -> momo, 247.
std::vector<std::string_view> host_tokens(std::string_view label) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 1; i <= label.size(); ++i) {
    const bool boundary = i == label.size() || label[i] == '-' || label[i - 1] == '-' ||
                          (std::isdigit(static_cast<unsigned char>(label[i])) != 0) !=
                              (std::isdigit(static_cast<unsigned char>(label[i - 1])) != 0);
    if (boundary) {
      if (label[start] != '-') out.push_back(label.substr(start, i - start));
      start = i;
    }
  }
  return out;
}

// Optimal-string-alignment distance, or any value above `limit` as soon as it is certain to
// exceed it (a lookalike test only asks "within 1 or 2 edits?").
template <typename View>
std::size_t osa_distance(View a, View b, std::size_t limit = SIZE_MAX) {
  const std::size_t n = a.size(), m = b.size();
  // Three rows, reused per thread: this runs for every URL against every brand label.
  thread_local std::vector<std::size_t> prev2, prev, cur;
  prev2.assign(m + 1, 0);
  prev.assign(m + 1, 0);
  cur.assign(m + 1, 0);
  for (std::size_t j = 0; j <= m; ++j) prev[j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    // Each row builds on the two before it (+0/+1, transpositions +1): once both exceed the
    // limit everywhere, so will every later row.
    const std::size_t row_min = *std::min_element(cur.begin(), cur.end());
    if (limit != SIZE_MAX && i > 1 && row_min > limit && *std::min_element(prev.begin(), prev.end()) > limit) {
      return limit + 1;
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

// Letter counts of a host label: an edit changes at most two counts (a transposition none),
// so labels whose counts differ by more than 2k cannot be within k edits. Checking that first
// spares the distance computation for almost every brand name of a similar length.
using LetterCounts = std::array<std::uint8_t, 38>;

LetterCounts letter_counts(std::string_view s) {
  LetterCounts c{};
  for (const char ch : s) {
    const std::size_t i = ch >= 'a' && ch <= 'z'   ? static_cast<std::size_t>(ch - 'a')
                          : ch >= '0' && ch <= '9' ? 26 + static_cast<std::size_t>(ch - '0')
                                                   : 36 + (ch == '-' ? 0 : 1);
    ++c[i];
  }
  return c;
}

bool counts_allow(const LetterCounts& label, std::string_view name, std::size_t max_edits) {
  const LetterCounts n = letter_counts(name);
  std::size_t diff = 0;
  for (std::size_t i = 0; i < label.size(); ++i) diff += label[i] > n[i] ? label[i] - n[i] : n[i] - label[i];
  return diff <= 2 * max_edits;
}

// Names of scripts for the reasons: ICU's English name; in Vietnamese where one is usual.
std::string script_list(const std::vector<std::string>& scripts, bool vietnamese) {
  std::string out;
  for (const auto& script : scripts) {
    std::string name = script;
    if (script == "Latin") {
      name = vietnamese ? "chữ Latin có dấu" : "accented Latin";
    } else if (vietnamese && script == "Cyrillic") {
      name = "chữ Kirin (Cyrillic)";
    } else if (vietnamese && script == "Greek") {
      name = "chữ Hy Lạp";
    }
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out.empty() ? (vietnamese ? "ký tự đặc biệt" : "non-ASCII") : out;
}

struct Lookalike {
  const Brand* brand = nullptr;
  std::string rule_id;
  std::string reason_en;
  std::string reason_vi;
  int weight = 0;
  int rank = 9;               // on equal weight: suffix 0 < edit 1 < compound 2 < alias 3
  std::size_t name_size = 0;  // then the longer brand name wins (baovietbank over vietbank)
};

// Calls f with the host tokens of each dot-separated label of `s` until it returns true;
// returns whether it did.
template <typename F>
bool any_label_tokens(std::string_view s, F f) {
  for (std::size_t start = 0; start <= s.size();) {
    const std::size_t dot = std::min(s.find('.', start), s.size());
    if (f(host_tokens(s.substr(start, dot - start)))) return true;
    start = dot + 1;
  }
  return false;
}

// Whether `name` is wrapped in `s` (a registrable label or a subdomain). Names of 6 letters
// or more may sit anywhere ("vietcombankkhuyenmai"); shorter ones must begin a host token,
// so "momo247" and "bidv-khuyenmai" match but "pineapple" does not contain "apple".
bool contains_name(std::string_view s, std::string_view name) {
  if (name.size() >= 6) return s.find(name) != std::string_view::npos;
  return any_label_tokens(s, [&](const std::vector<std::string_view>& tokens) {
    return std::any_of(tokens.begin(), tokens.end(),
                       [&](std::string_view token) { return token.substr(0, name.size()) == name; });
  });
}

// Compares one registrable domain (and the host's other labels) with every protected brand.
// The registrable label of a punycode host that decodes to non-ASCII, seen through UTS #39.
struct ConfusableLabel {
  bool present = false;
  std::u32string skeleton;
  std::string scripts_en;
  std::string scripts_vi;
  bool mixed = false;
};

ConfusableLabel confusable_label(const Confusables* confusables, std::string_view unicode_label) {
  ConfusableLabel out;
  if (confusables == nullptr || std::all_of(unicode_label.begin(), unicode_label.end(),
                                            [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
    return out;
  auto skeleton = confusables->skeleton(unicode_label);
  auto scripts = confusables->scripts(unicode_label);
  if (!skeleton.is_ok() || !scripts.is_ok()) return out;  // not judged: the other signals still apply
  out.present = true;
  out.skeleton = utf8_to_u32(skeleton.value());
  out.scripts_en = script_list(scripts.value().non_ascii_scripts, false);
  out.scripts_vi = script_list(scripts.value().non_ascii_scripts, true);
  out.mixed = scripts.value().mixed;
  return out;
}

// Digits written for the letters they look like, inside a word of a host: "techc0mbank",
// "s4combank", "m0mo-xacthuc", "vne1d". Only a single digit with a letter on both sides is
// read as a letter, so numbers in real names ("kenh14", "24h", "123job", "1office", "5giay",
// "9pay", "momo247") stay numbers. '1' is both 'i' and 'l': one variant each. Returns no
// variant when nothing was read.
std::vector<std::string> digit_variants(std::string_view s) {
  auto letter = [](char c) { return c >= 'a' && c <= 'z'; };
  auto as_letter = [](char c, bool one_is_l) -> char {
    switch (c) {
      case '0': return 'o';
      case '1': return one_is_l ? 'l' : 'i';
      case '3': return 'e';
      case '4': return 'a';
      case '5': return 's';
      case '7': return 't';
      case '8': return 'b';
      default: return 0;
    }
  };
  std::vector<std::string> out;
  bool has_one = false;
  for (const bool one_is_l : {false, true}) {
    if (one_is_l && !has_one) break;
    std::string v(s);
    bool changed = false;
    for (std::size_t i = 1; i + 1 < s.size(); ++i) {
      const char l = as_letter(s[i], one_is_l);
      if (l == 0 || !letter(s[i - 1]) || !letter(s[i + 1])) continue;
      v[i] = l;
      changed = true;
      has_one = has_one || s[i] == '1';
    }
    if (changed) out.push_back(std::move(v));
  }
  return out;
}

// Letter pairs that look like one letter: "rn" is read as "m" ("sacornbank", "rnomo"). Returns
// the host read that way, or "" when it has no such pair.
std::string letter_pair_variant(std::string_view s) {
  if (s.find("rn") == std::string_view::npos) return "";
  std::string v;
  v.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 'r' && i + 1 < s.size() && s[i + 1] == 'n') {
      v.push_back('m');
      ++i;
    } else {
      v.push_back(s[i]);
    }
  }
  return v;
}

Lookalike match_brand(const RulePack& pack, const Confusables* confusables, const std::string& host,
                      const std::string& domain) {
  // A domain that is official for any brand (or listed as a real, unrelated organisation) is
  // never a lookalike, whatever other brand it resembles: vib.com.vn is not a fake vcb.
  if (pack.never_lookalike.count(domain) != 0) return {};
  Lookalike best;
  // Punycode hosts are compared through their Unicode form with diacritics folded away, so
  // "vietcombánk.vn" meets "vietcombank"; and through their UTS #39 skeleton, so that
  // "vietcombаnk.vn" with a Cyrillic 'а' meets it too.
  std::string label;
  ConfusableLabel confusable;
  if (domain.find("xn--") == std::string::npos) {
    label = domain.substr(0, domain.find('.'));  // ASCII hosts are already lower case
  } else {
    const std::string unicode = extract::host_to_unicode(domain);
    confusable = confusable_label(confusables, std::string_view(unicode).substr(0, unicode.find('.')));
    thread_local text::Folded folded;
    text::fold(unicode, folded);
    label = folded.text.substr(0, folded.text.find('.'));
  }
  const std::string host_subdomain = host.size() > domain.size() ? host.substr(0, host.size() - domain.size() - 1) : "";
  // `describe` builds the rule id and reasons only for a candidate that wins: most URLs meet
  // many brands, and strings for losers were most of this function's allocations.
  struct Reason {
    std::string id, en, vi;
  };
  auto consider = [&](const Brand& brand, std::string_view name, int rank, int weight, auto&& describe) {
    const bool better =
        weight > best.weight ||
        (weight == best.weight && (rank < best.rank || (rank == best.rank && name.size() > best.name_size)));
    if (!better) return;
    Reason r = describe();
    best = Lookalike{&brand, std::move(r.id), std::move(r.en), std::move(r.vi), weight, rank, name.size()};
  };
  for (const auto& brand : pack.brands) {
    const std::string& official = brand.domains.front();
    for (std::size_t i = 0; confusable.present && i < brand.skeletons.size(); ++i) {
      const std::u32string& brand_skeleton = brand.skeletons[i];
      // Within one edit only for longer brands (as for ASCII edits): "acb" is one edit away
      // from too many short words.
      const std::size_t d = confusable.skeleton == brand_skeleton ? 0
                            : brand.labels[i].size() >= 5 ? osa_distance(std::u32string_view(confusable.skeleton),
                                                                         std::u32string_view(brand_skeleton), 1)
                                                          : 2;
      if (d <= 1) {
        consider(brand, brand.labels[i], static_cast<int>(d), pack.lookalike.confusable - static_cast<int>(d) * 5, [&] {
          const std::string how_en = confusable.mixed ? "mixes scripts and uses look-alike" : "uses look-alike";
          const std::string how_vi = confusable.mixed ? "trộn nhiều bộ chữ, dùng ký tự" : "dùng ký tự";
          return Reason{"brand.lookalike.confusable",
                        "host " + how_en + " characters (" + confusable.scripts_en + ") to imitate " + official,
                        "tên miền " + how_vi + " nhìn giống (" + confusable.scripts_vi + ") để giả mạo " + official};
        });
      } else if (brand.labels[i].size() >= 4 && confusable.skeleton.find(brand_skeleton) != std::u32string::npos) {
        consider(brand, brand.labels[i], 2, pack.lookalike.compound, [&] {
          return Reason{"brand.lookalike.confusable",
                        "brand name of " + official + " written with look-alike characters (" + confusable.scripts_en +
                            ") inside another domain",
                        "chèn tên thương hiệu " + official + " viết bằng ký tự nhìn giống (" + confusable.scripts_vi +
                            ") vào tên miền khác"};
        });
      }
    }
  }
  // The registrable label as written, then read with digits for letters ("techc0mbank").
  // Read through digits, the name itself, or one within edit distance, is its own signal
  // (lookalike.digits); a compound or an alias keeps its weight, under the digits rule id.
  auto match_names = [&](const std::string& lbl, const std::string& subdomain, bool digits) {
    const auto tokens = host_tokens(lbl);
    const LetterCounts label_counts = letter_counts(lbl);
    auto reason = [digits](std::string id, std::string en, std::string vi) {
      if (!digits) return Reason{std::move(id), std::move(en), std::move(vi)};
      return Reason{"brand.lookalike.digits", en + ", with digits written for letters",
                    vi + ", dùng chữ số thay chữ cái"};
    };
    for (const auto& brand : pack.brands) {
      const std::string& official = brand.domains.front();
      // The registrable labels of the official domains, then the long aliases ("tpbank" for
      // tpb.vn, "lienvietpostbank"), which are matched the same way.
      auto match_name = [&](const std::string& name) {
        if (lbl == name) {
          // Short names (acb, shb, scb.co.th) under another suffix are too often someone else.
          // Spelt with digits ("m0mo.vn", "g00gle.com") it is never the brand itself.
          if (digits && name.size() >= 4) {
            consider(brand, name, 1, pack.lookalike.digits,
                     [&] { return reason("", "host imitates " + official, "tên miền giả mạo " + official); });
          } else if (name.size() >= 4 && !brand.global) {
            consider(brand, name, 0, pack.lookalike.same_label, [&] {
              return Reason{"brand.lookalike.suffix", "uses the name of " + official + " under another suffix",
                            "dùng tên " + official + " với đuôi tên miền khác"};
            });
          }
          return;
        }
        if (name.size() >= 5) {
          const std::size_t max_edits = name.size() >= 8 ? 2 : 1;
          // The distance is at least the difference in length: skip the computation when that
          // alone rules a lookalike out (most URLs against most brands).
          const std::size_t length_gap = lbl.size() > name.size() ? lbl.size() - name.size() : name.size() - lbl.size();
          const std::size_t d = length_gap > max_edits || !counts_allow(label_counts, name, max_edits)
                                    ? max_edits + 1
                                    : osa_distance(std::string_view(lbl), std::string_view(name), max_edits);
          if (d <= max_edits) {
            const int base = digits ? pack.lookalike.digits : pack.lookalike.edit;
            consider(brand, name, 1, base - static_cast<int>(d - 1) * 5, [&] {
              return reason("brand.lookalike.edit" + std::to_string(d),
                            "host imitates " + official + " (" + std::to_string(d) + (d == 1 ? " edit)" : " edits)"),
                            "tên miền giả mạo " + official + " (sai " + std::to_string(d) + " ký tự)");
            });
            return;
          }
        }
        if (name.size() >= 4 && (contains_name(lbl, name) || contains_name(subdomain, name))) {
          consider(brand, name, 2, pack.lookalike.compound, [&] {
            return reason("brand.lookalike.compound", "brand name of " + official + " wrapped in another domain",
                          "chèn tên thương hiệu " + official + " vào tên miền khác");
          });
          return;
        }
        // A misspelt name as one word of a longer label or of a subdomain: "agrlbank-vay",
        // "vietcombnak.xacthuc.top", 5 less per edit (an exact name wins: "tpbank-online" is
        // one edit from vpbank). Names of 6+ letters only ("apply" is one edit from "apple").
        if (name.size() >= 6) {
          const std::size_t max_edits = name.size() >= 8 ? 2 : 1;
          std::size_t best_d = max_edits + 1;
          auto try_words = [&](std::string_view s, bool whole_compared) {
            any_label_tokens(s, [&](const std::vector<std::string_view>& words) {
              if (whole_compared && words.size() < 2) return false;  // the label itself: compared above
              for (const auto token : words) {
                const std::size_t gap =
                    token.size() > name.size() ? token.size() - name.size() : name.size() - token.size();
                if (gap > max_edits) continue;
                best_d = std::min(best_d, osa_distance(token, std::string_view(name), max_edits));
              }
              return false;
            });
          };
          try_words(lbl, true);
          try_words(subdomain, false);
          if (best_d >= 1 && best_d <= max_edits) {
            consider(brand, name, 2, pack.lookalike.compound - static_cast<int>(best_d) * 5, [&] {
              return reason("brand.lookalike.compound",
                            "misspelt brand name of " + official + " (" + std::to_string(best_d) +
                                (best_d == 1 ? " edit)" : " edits)") + " inside another domain",
                            "chèn tên thương hiệu " + official + " viết sai " + std::to_string(best_d) +
                                " ký tự vào tên miền khác");
            });
          }
        }
      };
      for (const auto& brand_label : brand.labels) match_name(brand_label);
      for (const auto& alias : brand.aliases) {
        if (alias.size() >= 5) match_name(alias);
        // An alias as a whole token, next to another word or number: vcb-xacthuc, stb247.
        // Alone (vcb.com, abb.com, eib.org) it is far more often someone else.
        // So in a label of the subdomain: acb-one.app-taixuong.click.
        const auto alias_with_another_word = [&](const std::vector<std::string_view>& words) {
          return words.size() >= 2 && std::find(words.begin(), words.end(), alias) != words.end();
        };
        if (alias_with_another_word(tokens) || any_label_tokens(subdomain, alias_with_another_word)) {
          consider(brand, alias, 3, pack.lookalike.alias, [&] {
            return reason("brand.lookalike.alias", "uses the short name '" + alias + "' of " + official,
                          "dùng tên viết tắt '" + alias + "' của " + official);
          });
        }
      }
    }
  };
  match_names(label, host_subdomain, false);
  // "rn" for "m": compared like a label as written (edit, compound, alias).
  if (const std::string l = letter_pair_variant(label), sd = letter_pair_variant(host_subdomain);
      !l.empty() || !sd.empty()) {
    match_names(l.empty() ? label : l, sd.empty() ? host_subdomain : sd, false);
  }
  const auto labels = digit_variants(label);
  const auto subdomains = digit_variants(host_subdomain);
  for (std::size_t v = 0; v < std::max(labels.size(), subdomains.size()); ++v) {
    match_names(v < labels.size() ? labels[v] : label, v < subdomains.size() ? subdomains[v] : host_subdomain, true);
  }
  return best;
}

// ---- links: known-bad feeds and URL rules ------------------------------------------------

// One pass of %XX decoding: a canonical URL was decoded until stable and then had only
// control, space, non-ASCII, '#' and '%' bytes escaped again, so one pass gives them back.
std::string unescape(std::string_view s) {
  std::string out;
  (void)extract::percent_decode(s, out);
  return out;
}

// Whether `word` ("dang-nhap") occurs in `words` ("-view-dang-nhap-vcb-") between two '-'.
bool has_word(std::string_view words, std::string_view word) {
  for (std::size_t at = words.find(word); at != std::string_view::npos; at = words.find(word, at + 1)) {
    if (at > 0 && words[at - 1] == '-' && at + word.size() < words.size() && words[at + word.size()] == '-')
      return true;
  }
  return false;
}

bool host_under(std::string_view host, std::string_view domain) {
  return host == domain ||
         (host.size() > domain.size() && host.ends_with(domain) && host[host.size() - domain.size() - 1] == '.');
}

// A link as the URL rules see it.
// What the rules need to know of a host, the same every time it comes back.
struct HostFacts {
  std::string domain;  // registrable domain, or the address of an IPv4 host; empty when neither
  bool ip = false;
  bool official = false;  // on (or under) an official brand domain
  Lookalike lookalike;    // the brand it imitates, if any (not for IP hosts)
  // The URL rules this host may meet, in pack order: each `hosts` pattern it is (or is under),
  // whose path is checked per link, and the `tlds` and `ip_host` rules it meets.
  struct Candidate {
    const UrlRule* rule;
    const UrlRule::HostPattern* pattern;  // null: the rule holds for every link to the host
  };
  std::vector<Candidate> url_rules;
};

bool host_under(std::string_view host, std::string_view domain);

// HostFacts::url_rules of a host whose other facts are known.
void host_url_rules(const RulePack& pack, std::string_view host, HostFacts& facts) {
  for (const auto& rule : pack.url_rules) {
    switch (rule.kind) {
      case UrlRule::Kind::kHosts:
        for (const auto& p : rule.hosts) {
          if (host_under(host, p.host)) facts.url_rules.push_back({&rule, &p});
        }
        break;
      case UrlRule::Kind::kTlds:
        if (!facts.ip && !facts.official && rule.tlds.count(std::string(host.substr(host.rfind('.') + 1))) != 0)
          facts.url_rules.push_back({&rule, nullptr});
        break;
      case UrlRule::Kind::kIpHost:
        if (facts.ip) facts.url_rules.push_back({&rule, nullptr});
        break;
      default: break;
    }
  }
}

struct Link {
  std::string_view url;   // canonical
  std::string_view host;  // canonical
  std::string_view path;  // from the first '/' after the host up to '?', lower case not applied
  std::string_view domain;
  bool ip = false;
  bool official = false;
};

Link link_of(std::string_view url, const HostFacts& facts) {
  Link l;
  l.url = url;
  l.host = extract::url_host(url);
  const std::size_t scheme = url.find("://");
  const std::size_t after_host = (scheme == std::string_view::npos ? 0 : scheme + 3) + l.host.size();
  std::string_view rest = url.substr(after_host);
  l.path = rest.substr(0, std::min(rest.find('?'), rest.size()));
  l.domain = facts.domain;
  l.ip = facts.ip;
  l.official = facts.official;
  return l;
}

struct UrlSignal {
  const UrlRule* rule = nullptr;
  const Brand* brand = nullptr;  // kBrandInPath
};

// The URL rules that `link` matches, host signals first. Path rules are read only on a link
// with a host signal: a bank's name or "dang-nhap" in the path of an ordinary site is news or
// a real login page far more often than phishing. On an official brand domain only `hosts`
// rules apply (sites.google.com is Google's, the pages on it are anyone's).
void url_signals(const RulePack& pack, const Link& link, const HostFacts& facts, std::vector<UrlSignal>& out) {
  const std::size_t first = out.size();
  if (facts.url_rules.empty()) return;              // most links: no host signal, so no path rule either
  const UrlRule::HostPattern* user_host = nullptr;  // the hosts pattern the link is under
  std::string path_lower(link.path);
  for (char& c : path_lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& [rule, p] : facts.url_rules) {
    if (out.size() > first && out.back().rule == rule) continue;  // the rule already holds
    if (p != nullptr && !p->path.empty() &&
        !(path_lower.starts_with(p->path) &&
          (path_lower.size() == p->path.size() || path_lower[p->path.size()] == '/'))) {
      continue;
    }
    if (p != nullptr && user_host == nullptr) user_host = p;
    out.push_back(UrlSignal{rule, nullptr});
  }
  if (out.size() == first) return;
  // The labels the site's owner chose (before the free host, or before the public suffix),
  // then the path: "xac-thuc-tai-khoan.web.app", "dang-nhap-vcb.top/otp".
  std::string_view own;
  if (user_host != nullptr) {
    own = link.host.size() > user_host->host.size() ? link.host.substr(0, link.host.size() - user_host->host.size() - 1)
                                                    : std::string_view();
  } else if (!link.ip && !link.domain.empty()) {
    const std::size_t suffix = link.domain.size() - link.domain.find('.') - 1;
    own = link.host.substr(0, link.host.size() - suffix - 1);
  }
  const std::string path_words = "-" + link_words(unescape(link.path)) + "-";
  const std::string own_words = own.empty() ? std::string() : "-" + link_words(unescape(own)) + "-";
  for (const auto& rule : pack.url_rules) {
    if (rule.kind == UrlRule::Kind::kPathWords) {
      for (const auto& w : rule.words) {
        if (has_word(path_words, w) || has_word(own_words, w)) {
          out.push_back(UrlSignal{&rule, nullptr});
          break;
        }
      }
    } else if (rule.kind == UrlRule::Kind::kBrandInPath) {
      // Global brands' names are in the paths of share buttons and social links everywhere.
      for (const auto& brand : pack.brands) {
        if (brand.global || std::find(brand.domains.begin(), brand.domains.end(), link.domain) != brand.domains.end())
          continue;
        auto named = [&](std::string_view name) {
          if (name.size() < 3) return false;
          // Long names inside a word ("vietcombankhotro"); short ones only as whole words, as
          // random slugs of shorteners are full of three-letter runs.
          return name.size() >= 6 ? path_words.find(name) != std::string::npos : has_word(path_words, name);
        };
        const bool hit = std::any_of(brand.labels.begin(), brand.labels.end(), named) ||
                         std::any_of(brand.aliases.begin(), brand.aliases.end(), named);
        if (hit) {
          out.push_back(UrlSignal{&rule, &brand});
          break;
        }
      }
    }
  }
}

std::string replace_brand(std::string text, const Brand* brand) {
  if (brand == nullptr) return text;
  for (auto at = text.find("{brand}"); at != std::string::npos; at = text.find("{brand}", at + brand->name.size())) {
    text.replace(at, 7, brand->name);
  }
  return text;
}

}  // namespace

std::string_view severity_for(int score, const SeverityThresholds& t) {
  if (score >= t.critical) return "critical";
  if (score >= t.high) return "high";
  if (score >= t.medium) return "medium";
  return "low";
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  return osa_distance(a, b);
}

bool negated(const text::Folded& folded, std::string_view source, std::size_t begin) {
  // Folded negations; those that fold together with other words count only as written with
  // their own diacritics (or none): "đừng", not "dùng" or "đúng".
  struct Negation {
    std::string_view word;
    std::array<std::string_view, 2> written;  // empty: any spelling
  };
  static constexpr Negation kNegations[] = {
      {"khong", {}},
      {"chua", {"chưa", "chua"}},
      {"dung", {"đừng", ""}},
      {"cho", {"chớ", ""}},
      {"cam", {"cấm", ""}},
      {"mien", {"miễn", "mien"}},
      {"tranh", {"tránh", ""}},
      {"khoi", {"khỏi", ""}},
      {"chang", {"chẳng", ""}},
      {"cha", {"chả", ""}},
  };
  static constexpr std::string_view kClauseWords[] = {"va", "roi", "thi", "nhung", "ma", "nen", "vi"};
  constexpr int kWindow = 8;
  const std::string& t = folded.text;
  auto word_before = [&](std::size_t end, std::size_t& word_begin) -> bool {
    // Moves left over one separator run; false at a clause boundary or the start.
    std::size_t e = end;
    while (e > 0 && !text::is_word_byte(t[e - 1])) {
      const char c = t[e - 1];
      if (c == ',' || c == '.' || c == ';' || c == ':' || c == '!' || c == '?' || c == '(' || c == ')' || c == '[' ||
          c == ']')
        return false;
      if (c == ' ') {
        const auto [b, x] = folded.source_span(e - 1, e);
        if (source.substr(b, x - b).find('\n') != std::string_view::npos) return false;
      }
      --e;
    }
    if (e == 0) return false;
    std::size_t b = e;
    while (b > 0 && text::is_word_byte(t[b - 1])) --b;
    word_begin = b;
    return true;
  };
  std::size_t pos = begin;
  for (int n = 0; n < kWindow; ++n) {
    std::size_t b = 0;
    if (!word_before(pos, b)) return false;
    std::size_t e = b;
    while (e < t.size() && text::is_word_byte(t[e])) ++e;
    const std::string_view word(t.data() + b, e - b);
    if (std::find(std::begin(kClauseWords), std::end(kClauseWords), word) != std::end(kClauseWords)) return false;
    for (const auto& neg : kNegations) {
      if (word != neg.word) continue;
      if (!neg.written[0].empty()) {
        const auto [sb, se] = folded.source_span(b, e);
        std::string written;
        icu::UnicodeString::fromUTF8(icu::StringPiece(source.data() + sb, static_cast<int32_t>(se - sb)))
            .toLower()
            .toUTF8String(written);
        if (written != neg.written[0] && written != neg.written[1]) break;
      }
      // "nếu không chuyển tiền ..." is a threat, not a negation.
      std::size_t pb = 0;
      if (word == "khong" && word_before(b, pb)) {
        std::size_t pe = pb;
        while (pe < t.size() && text::is_word_byte(t[pe])) ++pe;
        if (std::string_view(t.data() + pb, pe - pb) == "neu") return false;
      }
      return true;
    }
    pos = b;
  }
  return false;
}

std::size_t edit_distance(std::u32string_view a, std::u32string_view b) {
  return osa_distance(a, b);
}

// Facts of each host seen: spreading links repeat the same hosts post after post, and
// comparing a host with every brand is the costliest part of detection after the scan.
// Bounded: forgotten wholesale when full (a memo, not a cache to tune). Same pack for the
// Detector's lifetime, so entries never go stale.
struct Detector::HostMemo {
  static constexpr std::size_t kMaxEntries = 8192;
  std::unordered_map<std::string, HostFacts> by_host;

  const HostFacts& get(const RulePack& pack, const Confusables* confusables, std::string_view host) {
    key.assign(host);
    if (auto it = by_host.find(key); it != by_host.end()) return it->second;
    if (by_host.size() >= kMaxEntries) by_host.clear();
    HostFacts f;
    // A canonical URL's IPv4 host is already in dotted decimal.
    f.ip = !host.empty() &&
           std::all_of(host.begin(), host.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); }) &&
           extract::normalize_ipv4(host) == host;
    f.domain = f.ip ? key : extract::registrable_domain(host);
    f.official = !f.ip && !f.domain.empty() && pack.official.count(f.domain) != 0;
    if (!f.ip && !f.domain.empty()) f.lookalike = match_brand(pack, confusables, key, f.domain);
    host_url_rules(pack, host, f);
    return by_host.emplace(key, std::move(f)).first->second;
  }
  std::string key;
};

Detector::~Detector() = default;
Detector::Detector(Detector&&) noexcept = default;
Detector& Detector::operator=(Detector&&) noexcept = default;

Detector::Detector(std::shared_ptr<const RulePack> pack)
    : pack_(std::move(pack)), host_memo_(std::make_unique<HostMemo>()) {
  if (pack_->matcher) scratch_ = std::make_unique<PhraseMatcher::Scratch>(*pack_->matcher);
  // What the per-post loops ask of rules, gathered once: a PhraseRule is hundreds of bytes, and
  // reading one per match or per rule of every post was a good part of detection outside the scan.
  for (const std::uint32_t r : pack_->phrase_rule) phrase_negatable_.push_back(pack_->phrase_rules[r].negatable);
  for (std::size_t r = 0; r < pack_->phrase_rules.size(); ++r) {
    if (!pack_->phrase_rules[r].with_rules.empty()) rules_with_partners_.push_back(r);
    if (pack_->phrase_rules[r].defanged_links_only) deferred_rules_.push_back(r);
  }
  // The pack loader computed the brands' skeletons with the same checker, so it opened.
  if (auto c = Confusables::shared(); c.is_ok()) confusables_ = c.value();
}

void Detector::detect(const Event& event, std::vector<Finding>& out) {
  text::fold(event.text, folded_);
  entities_.clear();
  lookalikes_.clear();
  extract::extract_all(event.text, folded_, event.event_time, entities_);
  for (const auto& url : event.urls) extract::add_url(url, entities_);
  for (const auto& phone : event.phones) extract::find_phones(phone, entities_);
  for (const auto& email : event.emails) extract::find_emails(email, entities_);
  for (const auto& account : event.bank_accounts) {
    std::string digits;
    for (char c : account) {
      if (c >= '0' && c <= '9') digits.push_back(c);
    }
    if (!digits.empty()) entities_.push_back(extract::Entity{extract::EntityType::kBankAccount, digits, "", 0, 0});
  }
  for (const auto& account : event.accounts) {
    entities_.push_back(extract::Entity{extract::EntityType::kAccount, account, "", 0, 0});
  }
  for (const auto& handle : event.handles) {
    std::string lowered = handle;  // Telegram usernames are case-insensitive
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    entities_.push_back(extract::Entity{extract::EntityType::kHandle, lowered, event.platform, 0, 0});
  }

  // Findings by category, in the order the pack declares categories (deterministic output);
  // reused across posts so their hit lists stop allocating. A category with hits is scored.
  by_category_.resize(pack_->categories.size());
  for (Finding& f : by_category_) {
    f.category.clear();
    f.subtype.clear();
    f.hits.clear();
    f.entities.clear();
    f.evidence.clear();
  }
  phrase_hits_.clear();

  // One scan for all phrases of all rules; then the first whole-word occurrence of each
  // phrase that counts.
  matches_.clear();
  pending_.clear();
  if (pack_->matcher && !pack_->matcher->scan(folded_.text, *scratch_, matches_).is_ok()) matches_.clear();
  // Per rule: whether it fired (negatable rules: a match outside a negation), with the
  // quotes of its phrases. A match inside a negated one is negated too: "mã otp" in
  // "không ... cung cấp mã otp" is as far from the "không" as the longer phrase is.
  const std::size_t rule_count = pack_->phrase_rules.size();
  fired_.assign(rule_count, false);
  negated_.assign(matches_.size(), false);
  bool any_negated = false;
  for (std::size_t k = 0; k < matches_.size(); ++k) {
    if (phrase_negatable_[matches_[k].phrase] && negated(folded_, event.text, matches_[k].begin)) {
      negated_[k] = true;
      any_negated = true;
    }
  }
  for (std::size_t k = 0; any_negated && k < matches_.size(); ++k) {
    if (!negated_[k]) continue;
    for (std::size_t j = 0; j < matches_.size(); ++j) {
      if (matches_[j].begin >= matches_[k].begin && matches_[j].begin < matches_[k].end) negated_[j] = true;
    }
  }
  // Matches come in reading order, so the first of each phrase that counts (for negatable
  // rules: outside a negation) is the one quoted. Only the phrases seen are reset after: a
  // pack has hundreds of phrases and a post matches a dozen.
  quoted_.resize(pack_->phrase_rule.size());
  for (std::size_t k = 0; k < matches_.size(); ++k) {
    const PhraseMatcher::Match& m = matches_[k];
    const std::size_t r = pack_->phrase_rule[m.phrase];
    const PhraseRule& rule = pack_->phrase_rules[r];
    if (quoted_[m.phrase] || (phrase_negatable_[m.phrase] && negated_[k])) continue;
    quoted_[m.phrase] = true;
    fired_[r] = true;
    // Quoted only if the category flags (below): most matches are of posts that do not.
    const auto [b, e] = folded_.source_span(m.begin, m.end);
    pending_.push_back(PendingQuote{&rule, m.phrase, b, e});
  }
  for (const auto& m : matches_) quoted_[m.phrase] = false;
  // A rule with partners counts only next to one of them (partners have none of their own).
  for (const std::size_t r : rules_with_partners_) {
    const PhraseRule& rule = pack_->phrase_rules[r];
    if (!fired_[r]) continue;
    fired_[r] = std::any_of(rule.with_rules.begin(), rule.with_rules.end(), [&](std::size_t w) { return fired_[w]; });
  }
  // Counter-signals for defanged links wait until the links are known.
  bool deferred = false;
  for (std::size_t r = 0; r < rule_count; ++r) {
    const PhraseRule& rule = pack_->phrase_rules[r];
    if (!fired_[r]) continue;
    if (rule.defanged_links_only) {
      deferred = true;
      continue;
    }
    add_phrase_hit(rule);
  }

  links_defanged_ = false;
  if (const Category* links = pack_->category("fraud_link"); links != nullptr)
    detect_links(event, by_category_[static_cast<std::size_t>(links - pack_->categories.data())]);
  for (std::size_t i = 0; deferred && i < deferred_rules_.size(); ++i) {
    const std::size_t r = deferred_rules_[i];
    const PhraseRule& rule = pack_->phrase_rules[r];
    if (!fired_[r]) continue;
    if (links_defanged_) {
      add_phrase_hit(rule);
    } else {
      fired_[r] = false;
    }
  }
  // Quotes only of the rules that count.
  std::erase_if(pending_, [&](const PendingQuote& q) {
    return !fired_[static_cast<std::size_t>(q.rule - pack_->phrase_rules.data())];
  });

  bool quotes_sorted = false;
  for (std::size_t c = 0; c < pack_->categories.size(); ++c) {
    const Category& category = pack_->categories[c];
    if (by_category_[c].hits.empty()) continue;
    Finding& f = by_category_[c];
    int score = 0;
    for (const auto& h : f.hits) score += h.weight;
    // A lookalike domain counts once however many URLs point at it; text lures add to it.
    f.raw_score = score;
    f.score = std::clamp(score, 0, 100);
    if (f.score < category.threshold) continue;
    f.category = category.name;
    for (const auto& [rule, index] : phrase_hits_) {
      if (rule->category_index != c) continue;
      RuleHit& h = f.hits[index];
      h.id = rule->id;
      h.reason_en = rule->reason_en;
      h.reason_vi = rule->reason_vi;
    }
    int heaviest = 0;
    for (const auto& h : f.hits) {
      if (!h.subtype.empty() && h.weight > heaviest) {
        heaviest = h.weight;
        f.subtype = h.subtype;
      }
    }
    // Entities: what the category is about first. For fraud links that is the lookalike
    // domain, then the contacts in the post (phones, accounts, handles...), then the author;
    // for the others the author (the seller or scammer), then every contact and link.
    const bool links = category.name == "fraud_link";
    if (!links && !event.author.empty())
      f.entities.push_back(FlagEntity{extract::EntityType::kAccount, event.author, "", false, ""});
    for (const auto& e : entities_) {
      const bool dup = std::any_of(f.entities.begin(), f.entities.end(),
                                   [&](const FlagEntity& fe) { return fe.type == e.type && fe.value == e.value; });
      if (!dup && (!links || extract::is_personal(e.type))) {
        f.entities.push_back(FlagEntity{e.type, e.value, "", false, e.qualifier});
      }
    }
    if (links && !event.author.empty())
      f.entities.push_back(FlagEntity{extract::EntityType::kAccount, event.author, "", false, ""});
    if (!f.entities.empty()) f.entities.front().primary = true;
    // The phrase quotes of this category, in text order so code points are counted once.
    if (!quotes_sorted) {
      std::sort(pending_.begin(), pending_.end(), [](const PendingQuote& a, const PendingQuote& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.phrase < b.phrase;
      });
      quotes_sorted = true;
    }
    CodePointCursor cursor(event.text);
    for (const auto& q : pending_) {
      if (q.rule->category_index != c) continue;
      const std::size_t start = cursor.at(q.begin);
      f.evidence.push_back(
          Evidence{q.rule->id, event.text.substr(q.begin, q.end - q.begin), start,
                   start + text::code_points(std::string_view(event.text).substr(q.begin, q.end - q.begin))});
    }
    // Quotes in reading order; things found outside the text (hidden links) last. Usually
    // they are already: std::stable_sort would allocate its buffer for nothing.
    auto reading_order = [](const Evidence& a, const Evidence& b) {
      if (a.has_span != b.has_span) return a.has_span;
      return a.start < b.start;
    };
    if (!std::is_sorted(f.evidence.begin(), f.evidence.end(), reading_order))
      std::stable_sort(f.evidence.begin(), f.evidence.end(), reading_order);
    out.push_back(std::move(f));
    f = Finding{};
  }
}

void Detector::add_phrase_hit(const PhraseRule& rule) {
  // Weight and subtype now, for the score; the rule's id and reasons only if its category
  // flags (most posts with a matching phrase do not): copying them was most of detection's
  // allocations. The subtype is short enough to stay in place.
  auto& hits = by_category_[rule.category_index].hits;
  RuleHit& hit = hits.emplace_back();
  hit.subtype = rule.subtype;
  hit.weight = rule.weight;
  phrase_hits_.emplace_back(&rule, hits.size() - 1);
}

void Detector::detect_links(const Event& event, Finding& f) {
  // Scam wording aimed at links (the fraud_link phrase rules) is an anchor for URL rules.
  bool anchored = std::any_of(f.hits.begin(), f.hits.end(), [](const RuleHit& h) { return h.weight > 0; });
  // Reused across posts, so that its lists keep their capacity.
  Finding& links = links_;
  links.hits.clear();
  links.entities.clear();
  links.evidence.clear();
  auto add_entity = [&](extract::EntityType type, std::string_view value, std::string_view brand) {
    for (auto& fe : links.entities) {
      if (fe.type == type && fe.value == value) {
        if (fe.brand.empty()) fe.brand = brand;
        return;
      }
    }
    links.entities.push_back(FlagEntity{type, std::string(value), std::string(brand), false, ""});
  };
  auto add_evidence = [&](std::string_view rule, const extract::Entity& e) {
    for (const auto& ev : links.evidence) {
      if (ev.rule == rule && ev.quote == (e.end > e.start ? event.text.substr(e.start, e.end - e.start) : e.value))
        return;
    }
    Evidence& ev = links.evidence.emplace_back();
    ev.rule = rule;
    if (e.end > e.start) {
      const std::string_view text(event.text);
      ev.quote.assign(text.substr(e.start, e.end - e.start));
      ev.start = text::code_points(text.substr(0, e.start));
      ev.end = text::code_points(text.substr(0, e.end));
    } else {
      ev.quote = e.value;
      ev.has_span = false;
    }
  };
  auto add_hit = [&](RuleHit hit) {
    for (const auto& h : links.hits) {
      if (h.id == hit.id) return;
    }
    links.hits.push_back(std::move(hit));
  };

  struct Listed {
    std::string domain, feed, reason;
  };
  std::vector<Listed> listed;
  struct Pending {
    UrlSignal signal;
    const extract::Entity* entity;
    std::string domain;
  };
  std::vector<Pending> pending;
  std::vector<UrlSignal> signals;
  // Whether the links behind the signals are written defanged ("hxxp://", "[.]"), for the
  // counter-signals of warnings that quote a fake domain (PhraseRule::defanged_links_only).
  bool plain_signal = false;
  bool defanged_signal = false;
  auto note_link = [&](const extract::Entity& e) {
    const bool defanged =
        e.in_text() && extract::written_defanged(std::string_view(event.text).substr(e.start, e.end - e.start));
    (defanged ? defanged_signal : plain_signal) = true;
  };
  for (const auto& e : entities_) {
    if (e.type != extract::EntityType::kUrl) continue;
    const HostFacts& facts = host_memo_->get(*pack_, confusables_, extract::url_host(e.value));
    const Link link = link_of(e.value, facts);
    // Known-bad feeds. Official brand domains never flag, whatever a feed says.
    if (blocklist_ != nullptr && !link.official) {
      if (const auto hit = blocklist_->match(link.host)) {
        anchored = true;
        if (std::none_of(listed.begin(), listed.end(), [&](const Listed& l) { return l.domain == hit->domain; }))
          listed.push_back(Listed{std::string(hit->domain), std::string(hit->feed), std::string(hit->reason)});
        note_link(e);
        add_hit(RuleHit{std::string(kBlocklistRule), "", "", "", pack_->blocklist_weight, {}});
        add_entity(extract::EntityType::kDomain, hit->domain, "");
        add_entity(extract::EntityType::kUrl, e.value, "");
        add_evidence(kBlocklistRule, e);
      }
    }
    // Brand lookalikes.
    if (!link.ip && !link.domain.empty()) {
      const Lookalike& l = facts.lookalike;
      if (l.brand != nullptr) {
        anchored = true;
        if (std::none_of(lookalikes_.begin(), lookalikes_.end(),
                         [&](const Imitation& x) { return x.domain == link.domain; }))
          lookalikes_.push_back(Imitation{std::string(link.domain), l.brand->domains.front()});
        note_link(e);
        add_hit(RuleHit{l.rule_id, "", l.reason_en, l.reason_vi, l.weight, {}});
        add_entity(extract::EntityType::kDomain, link.domain, l.brand->domains.front());
        add_entity(extract::EntityType::kUrl, e.value, "");
        add_evidence(l.rule_id, e);
      }
    }
    // URL rules, held back until the post turns out to have an anchor.
    signals.clear();
    url_signals(*pack_, link, facts, signals);
    for (const auto& sig : signals) {
      if (sig.rule->kind == UrlRule::Kind::kBrandInPath) anchored = true;
      pending.push_back(Pending{sig, &e, std::string(link.domain)});
    }
  }
  // Alone, a shortener, a free site or a .xyz host is what millions of honest links are: URL
  // rules count only next to a brand (lookalike, listed domain, brand in a risky link's path)
  // or scam wording (a fraud_link phrase rule).
  if (anchored) {
    for (const auto& p : pending) {
      note_link(*p.entity);
      const UrlRule& rule = *p.signal.rule;
      add_hit(RuleHit{rule.id,
                      "",
                      replace_brand(rule.reason_en, p.signal.brand),
                      replace_brand(rule.reason_vi, p.signal.brand),
                      rule.weight,
                      {}});
      if ((rule.kind == UrlRule::Kind::kTlds || rule.kind == UrlRule::Kind::kIpHost) && !p.domain.empty())
        add_entity(extract::EntityType::kDomain, p.domain, "");
      add_entity(extract::EntityType::kUrl, p.entity->value,
                 p.signal.brand != nullptr ? std::string_view(p.signal.brand->domains.front()) : std::string_view());
      add_evidence(rule.id, *p.entity);
    }
  }
  links_defanged_ = defanged_signal && !plain_signal;
  if (links.hits.empty()) return;
  if (!listed.empty()) {
    auto& hit =
        *std::find_if(links.hits.begin(), links.hits.end(), [](const RuleHit& h) { return h.id == kBlocklistRule; });
    for (const auto& l : listed) {
      if (std::find(hit.feeds.begin(), hit.feeds.end(), l.feed) == hit.feeds.end()) hit.feeds.push_back(l.feed);
    }
    if (listed.size() == 1) {
      const std::string why = listed[0].reason.empty() ? "" : ": " + listed[0].reason;
      hit.reason_en = listed[0].domain + " is on the known-bad list '" + listed[0].feed + "'" + why;
      hit.reason_vi = "tên miền " + listed[0].domain + " nằm trong danh sách độc hại '" + listed[0].feed + "'" + why;
    } else {
      std::string names;
      for (const auto& l : listed) names += (names.empty() ? "" : ", ") + l.domain + " ('" + l.feed + "')";
      hit.reason_en = names + " are on known-bad lists";
      hit.reason_vi = "các tên miền " + names + " nằm trong danh sách độc hại";
    }
    // The listed domain is what the flag is about: first, so it is the primary entity.
    std::stable_partition(links.entities.begin(), links.entities.end(), [&](const FlagEntity& fe) {
      return fe.type == extract::EntityType::kDomain &&
             std::any_of(listed.begin(), listed.end(), [&](const Listed& l) { return l.domain == fe.value; });
    });
  }
  for (auto& h : links.hits) f.hits.push_back(std::move(h));
  for (auto& fe : links.entities) f.entities.push_back(std::move(fe));
  for (auto& ev : links.evidence) f.evidence.push_back(std::move(ev));
}

}  // namespace vigil::detect
