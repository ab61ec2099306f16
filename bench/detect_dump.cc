// Dumps, per record of the bench corpus, every phrase match and every finding of the detector:
// two builds compare their outputs line by line. With --stats: per phrase, how often it matches.
#include <cstdio>
#include <map>
#include <string>

#include "bench/corpus/corpus.h"
#include "common/adapters/adapter.h"
#include "common/core/config.h"
#include "common/detect/detector.h"
#include "common/detect/rule_pack.h"

int main(int argc, char** argv) {
  const bool stats = argc > 1 && std::string(argv[1]) == "--stats";
  const std::size_t n = argc > 2 ? std::stoul(argv[2]) : 100000;
  auto pack = vigil::detect::load_rule_pack(std::string(VIGIL_SOURCE_DIR) + "/rules/vn-core.yaml");
  if (!pack.is_ok()) return 1;
  std::map<std::string, std::unique_ptr<vigil::Adapter>> adapters;
  for (const auto& input : vigil::default_detector_config().inputs)
    adapters[input.topic] = vigil::make_adapter(input.adapter);
  const auto records = vigil::bench::generate_corpus({n, 42, 0.1, 200, 1700});
  vigil::detect::Detector detector(pack.value());
  const auto& matcher = *pack.value()->matcher;
  vigil::detect::PhraseMatcher::Scratch scratch(matcher);
  std::vector<vigil::detect::PhraseMatcher::Match> matches;
  std::vector<vigil::detect::Finding> findings;
  vigil::Event event;
  vigil::text::Folded folded;
  std::vector<std::size_t> count(matcher.size());
  for (const auto& r : records) {
    (void)adapters[r.topic]->parse(*r.value, event);
    vigil::text::fold(event.text, folded);
    if (!matcher.scan(folded.text, scratch, matches).is_ok()) return 2;
    findings.clear();
    detector.detect(event, findings);
    if (stats) {
      for (const auto& m : matches) ++count[m.phrase];
      continue;
    }
    std::printf("M");
    for (const auto& m : matches) std::printf(" %u:%zu-%zu", m.phrase, m.begin, m.end);
    std::printf("\n");
    for (const auto& f : findings) {
      std::printf("F %s %s %d %d |", f.category.c_str(), f.subtype.c_str(), f.score, f.raw_score);
      for (const auto& h : f.hits)
        std::printf(" %s/%s/%d/%s/%s", h.id.c_str(), h.subtype.c_str(), h.weight, h.reason_en.c_str(),
                    h.reason_vi.c_str());
      std::printf(" |");
      for (const auto& e : f.entities)
        std::printf(" %d:%s:%s:%d:%s", static_cast<int>(e.type), e.value.c_str(), e.brand.c_str(), e.primary,
                    e.qualifier.c_str());
      std::printf(" |");
      for (const auto& e : f.evidence)
        std::printf(" %s:%s:%zu-%zu:%d", e.rule.c_str(), e.quote.c_str(), e.start, e.end, e.has_span);
      std::printf("\n");
    }
    for (const auto& e : detector.entities())
      std::printf("E %d %s %s\n", static_cast<int>(e.type), e.value.c_str(), e.qualifier.c_str());
    for (const auto& l : detector.lookalikes()) std::printf("L %s %s\n", l.domain.c_str(), l.brand.c_str());
  }
  if (stats) {
    std::vector<std::string> phrases;
    for (const auto& rule : pack.value()->phrase_rules) {
      for (const auto& p : rule.phrases) phrases.push_back(p);
      for (const auto& p : rule.patterns) phrases.push_back("RE:" + p);
    }
    for (std::size_t i = 0; i < phrases.size(); ++i)
      std::printf("%zu\t%zu\t%s\t%s\n", count[i], i,
                  pack.value()->phrase_rules[pack.value()->phrase_rule[i]].id.c_str(), phrases[i].c_str());
  }
  return 0;
}
