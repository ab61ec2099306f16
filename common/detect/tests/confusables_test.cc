#include "common/detect/confusables.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "common/detect/detector.h"
#include "common/detect/tests/test_support.h"
#include "common/extract/extract.h"

namespace vigil::detect {
namespace {

using test_support::core_pack;
using test_support::event;
using test_support::find;
using test_support::run;

const Confusables& checker() {
  auto c = Confusables::shared();
  EXPECT_TRUE(c.is_ok()) << c.status().to_string();
  return *c.value();
}

std::string skeleton(std::string_view label) {
  auto s = checker().skeleton(label);
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return s.is_ok() ? s.value() : std::string();
}

LabelScripts scripts(std::string_view label) {
  auto s = checker().scripts(label);
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return s.is_ok() ? s.value() : LabelScripts{};
}

TEST(Confusables, SkeletonsOfCyrillicGreekAndFullWidthSubstitutesMatchTheLatin) {
  EXPECT_EQ(skeleton("vietcomb\u0430nk"), skeleton("vietcombank"));  // Cyrillic а
  EXPECT_EQ(skeleton("mom\u043e"), skeleton("momo"));                // Cyrillic о
  EXPECT_EQ(skeleton("m\u03bfm\u03bf"), skeleton("momo"));           // Greek ο
  EXPECT_EQ(skeleton("\u0440\u0430y"), skeleton("pay"));             // Cyrillic р, а
  EXPECT_EQ(skeleton("\uff56\uff43\uff42"), skeleton("vcb"));        // full-width ｖｃｂ (NFKC)
  EXPECT_EQ(skeleton("VIETCOMB\u0410NK"), skeleton("vietcombank"));  // case-folded, Cyrillic А
  EXPECT_EQ(skeleton("vietc\u043embank"), skeleton("vietcombank"));
  EXPECT_NE(skeleton("vietinbank"), skeleton("vietcombank"));
  EXPECT_NE(skeleton("th\u01b0\u01a1ng-m\u1ea1i"), skeleton("thuong-mai"));  // diacritics are kept
}

TEST(Confusables, MixedScriptsAreNamedAndVietnameseLatinIsSingleScript) {
  const LabelScripts cyrillic = scripts("vietcomb\u0430nk");
  EXPECT_TRUE(cyrillic.mixed);
  EXPECT_EQ(cyrillic.non_ascii_scripts, std::vector<std::string>{"Cyrillic"});
  const LabelScripts greek = scripts("m\u03bfmo");
  EXPECT_TRUE(greek.mixed);
  EXPECT_EQ(greek.non_ascii_scripts, std::vector<std::string>{"Greek"});
  for (const char* vietnamese : {"th\u01b0\u01a1ng-m\u1ea1i", "ng\u00e2n-h\u00e0ng", "\u0111\u00e0-n\u1eb5ng",
                                 "b\u00e1nh-m\u00ec", "vi\u1ec7t-nam-247", "h\u1ed9i-ngh\u1ecb"}) {
    const LabelScripts s = scripts(vietnamese);
    EXPECT_FALSE(s.mixed) << vietnamese;
    EXPECT_EQ(s.non_ascii_scripts, std::vector<std::string>{"Latin"}) << vietnamese;
  }
  EXPECT_FALSE(scripts("vietcombank").mixed);
  EXPECT_TRUE(scripts("vietcombank").non_ascii_scripts.empty());
  EXPECT_FALSE(scripts("\u043c\u043e\u0441\u043a\u0432\u0430").mixed);  // all-Cyrillic: one script
}

TEST(Confusables, Utf8ToCodePoints) {
  EXPECT_EQ(utf8_to_u32("a\u0430\u1ea1"), std::u32string(U"a\u0430\u1ea1"));
  EXPECT_EQ(utf8_to_u32("a\xff"), std::u32string(U"a\uFFFD"));
  EXPECT_EQ(edit_distance(std::u32string_view(U"vietcornbank"), std::u32string_view(U"vietcornbankk")), 1u);
}

// ---- the confusable lookalike rule in the detector ------------------------------------

const Finding* fraud_link(const std::vector<Finding>& fs) {
  for (const auto& f : fs) {
    if (f.category == "fraud_link") return &f;
  }
  return nullptr;
}

const RuleHit* hit(const Finding* f, const std::string& id) {
  if (f == nullptr) return nullptr;
  for (const auto& h : f->hits) {
    if (h.id == id) return &h;
  }
  return nullptr;
}

TEST(ConfusableLookalike, CyrillicLetterInBankNameNamesBrandAndDomain) {
  const std::string punycode = extract::canonical_host("vietcomb\u0430nk.com");
  ASSERT_TRUE(punycode.starts_with("xn--")) << punycode;
  const auto fs = run(event("", {"https://vietcomb\u0430nk.com/login"}));
  const Finding* f = fraud_link(fs);
  ASSERT_NE(f, nullptr);
  const RuleHit* h = hit(f, "brand.lookalike.confusable");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->weight, 70);
  EXPECT_EQ(f->score, 70);
  EXPECT_EQ(h->reason_en, "host mixes scripts and uses look-alike characters (Cyrillic) to imitate vietcombank.com.vn");
  EXPECT_NE(h->reason_vi.find("giả mạo vietcombank.com.vn"), std::string::npos) << h->reason_vi;
  EXPECT_NE(h->reason_vi.find("Kirin"), std::string::npos) << h->reason_vi;
  ASSERT_FALSE(f->entities.empty());
  EXPECT_EQ(f->entities[0].type, extract::EntityType::kDomain);
  EXPECT_EQ(f->entities[0].value, punycode);
  EXPECT_EQ(f->entities[0].brand, "vietcombank.com.vn");
  EXPECT_TRUE(f->entities[0].primary);
  EXPECT_EQ(f->evidence.back().rule, "brand.lookalike.confusable");
}

TEST(ConfusableLookalike, PunycodeHostsAreDecodedAndMatched) {
  for (const char* unicode :
       {"vietcomb\u0430nk.com", "mom\u043e.vn", "m\u03bfm\u03bf.com", "zal\u043epay.vn", "bid\u03bd.com.vn"}) {
    const std::string punycode = extract::canonical_host(unicode);
    ASSERT_TRUE(punycode.starts_with("xn--")) << unicode;
    const auto fs = run(event("Xác thực tại https://" + punycode + "/dang-nhap"));
    const Finding* f = fraud_link(fs);
    ASSERT_NE(f, nullptr) << punycode;
    EXPECT_NE(hit(f, "brand.lookalike.confusable"), nullptr) << punycode;
    EXPECT_EQ(f->entities[0].value, punycode);
  }
  const auto fs = run(event("", {"https://" + extract::canonical_host("mom\u043e.vn")}));
  ASSERT_NE(fraud_link(fs), nullptr);
  EXPECT_EQ(fraud_link(fs)->entities[0].brand, "momo.vn");
}

TEST(ConfusableLookalike, OneEditAwayAndWrappedInOtherWords) {
  const auto near = run(event("", {"https://vietcomb\u0430nkk.com/"}));
  const RuleHit* h = hit(fraud_link(near), "brand.lookalike.confusable");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->weight, 65);
  const auto wrapped = run(event("", {"https://vietcomb\u0430nk-khuyenmai.com/"}));
  h = hit(fraud_link(wrapped), "brand.lookalike.confusable");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->weight, 55);
  EXPECT_NE(h->reason_en.find("inside another domain"), std::string::npos);
  // Accented Latin letters imitate too, and the reason says so.
  const auto accented = run(event("", {"https://vietcomb\u00e1nk.vn/"}));
  h = hit(fraud_link(accented), "brand.lookalike.confusable");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->reason_en, "host uses look-alike characters (accented Latin) to imitate vietcombank.com.vn");
}

TEST(ConfusableLookalike, FullWidthLettersAreMappedToAsciiByIdna) {
  // UTS #46 maps full-width letters to ASCII before anything else, so ｖｃｂ-xacthuc.com is
  // vcb-xacthuc.com and the alias rule sees it.
  EXPECT_EQ(extract::canonical_host("\uff56\uff43\uff42-xacthuc.com"), "vcb-xacthuc.com");
  const auto fs = run(event("", {"https://\uff56\uff43\uff42-xacthuc.com/"}));
  const Finding* f = fraud_link(fs);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->entities[0].brand, "vietcombank.com.vn");
}

TEST(ConfusableLookalike, OfficialVietnameseAndAsciiHostsAreNotFlaggedByIt) {
  for (const std::string& url :
       std::vector<std::string>{"https://www.vietcombank.com.vn/vi-VN", "https://momo.vn",
                                "https://dichvucong.gov.vn/p/home", "https://th\u01b0\u01a1ng-m\u1ea1i.vn/",
                                "https://ng\u00e2n-h\u00e0ng.vn/", "https://\u0111\u00e0-n\u1eb5ng.vn",
                                "https://b\u00e1nh-m\u00ec-s\u00e0i-g\u00f2n.com.vn/", "https://vnexpress.net/x",
                                "https://tuoitre.vn", "https://" + extract::canonical_host("h\u1ed9i-ngh\u1ecb.vn"),
                                "https://\u043c\u043e\u0441\u043a\u0432\u0430.com"}) {
    EXPECT_EQ(fraud_link(run(event("Xem tại đây", {url}))), nullptr) << url;
  }
}

TEST(ConfusableLookalike, WeightComesFromThePackAndIsValidated) {
  const auto write = [](const std::string& text) {
    const std::string path = testing::TempDir() + "confusable-pack.yaml";
    std::ofstream(path) << text;
    return path;
  };
  const std::string head =
      "rule_pack: x\nversion: 1\ncategories: {fraud_link: {threshold: 50}}\n"
      "brands:\n  - {id: momo, name: MoMo, domains: [momo.vn]}\n";
  auto r = load_rule_pack(write(head + "lookalike: {confusable: 0}\n"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("lookalike.confusable: must be 1..100"), std::string::npos)
      << r.status().message();
  r = load_rule_pack(write(head + "lookalike: {confusable: 90}\n"));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r.value()->lookalike.confusable, 90);
  ASSERT_EQ(r.value()->brands[0].skeletons.size(), 1u);
  Detector d(r.value());
  std::vector<Finding> out;
  d.detect(event("", {"https://mom\u043e.vn"}), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].score, 90);
}

}  // namespace
}  // namespace vigil::detect
