// Conditions on phrase rules: negated matches (`negatable`), rules that count only next to a
// partner (`with`), patterns with numbers (`patterns`), and counter-signals that apply only
// when the post's links are defanged (`when_links: defanged`). A small pack of its own, so
// that the tests say what the mechanism does whatever vn-core's wording.
#include <gtest/gtest.h>

#include <fstream>

#include "common/detect/detector.h"
#include "common/detect/tests/test_support.h"

namespace vigil::detect {
namespace {

using test_support::event;
using test_support::find;

constexpr const char* kPack = R"(rule_pack: t
version: 1
categories: {scam: {threshold: 50}, fraud_link: {threshold: 50}}
phrase_rules:
  - {id: demand, category: scam, weight: 50, negatable: true, reason_en: e, reason_vi: v,
     phrases: [chuyển tiền, cung cấp mã otp, mã otp, phí hồ sơ]}
  - {id: authority, category: scam, weight: 25, reason_en: e, reason_vi: v, phrases: [công an]}
  - {id: transfer, category: scam, weight: 25, with: [authority], reason_en: e, reason_vi: v, phrases: [chuyển khoản]}
  - id: returns
    category: scam
    weight: 50
    reason_en: e
    reason_vi: v
    patterns: ['(lai|loi nhuan) \d+([.,]\d+)? ?% ?(/|moi|mot) ?(ngay|tuan)']
  - {id: warning, category: fraud_link, weight: -60, when_links: defanged, reason_en: e, reason_vi: v,
     phrases: [cảnh báo, giả mạo]}
brands:
  - {id: vietcombank, name: Vietcombank, domains: [vietcombank.com.vn]}
)";

std::string write(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

std::shared_ptr<const RulePack> pack() {
  static auto p = [] {
    auto r = load_rule_pack(write("pack-conditions.yaml", kPack));
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.value();
  }();
  return p;
}

std::vector<Finding> run(const std::string& text) {
  Detector d(pack());
  std::vector<Finding> out;
  d.detect(event(text), out);
  return out;
}

bool flags(const std::string& text, const std::string& category = "scam") {
  return find(run(text), category) != nullptr;
}

TEST(Negation, ANegatedDemandDoesNotCount) {
  EXPECT_TRUE(flags("Anh chuyển tiền ngay cho em"));
  EXPECT_FALSE(flags("Tuyệt đối không chuyển tiền cho người lạ"));
  EXPECT_FALSE(flags("Ngân hàng không bao giờ yêu cầu khách hàng cung cấp mã OTP"));
  EXPECT_FALSE(flags("ko chuyển tiền nha, k cung cấp mã OTP"));  // chat spellings of không
  EXPECT_FALSE(flags("Đừng chuyển tiền, con chưa cần chuyển tiền học"));
  EXPECT_FALSE(flags("Ngân hàng miễn phí hồ sơ cho khoản vay"));
}

TEST(Negation, OnlyInTheSameClauseAndOnlyRealNegations) {
  // A comma, a line break or a conjunction ends the negation.
  EXPECT_TRUE(flags("Không sao đâu, anh chuyển tiền đi"));
  EXPECT_TRUE(flags("Không ai biết đâu\nchuyển tiền ngay"));
  EXPECT_TRUE(flags("Không cần lo và chuyển tiền luôn"));
  // Too far back to govern the demand.
  EXPECT_TRUE(flags("Không phải anh em thân thiết lâu năm gì cũng phải chuyển tiền"));
  // "nếu không" is a threat, "dùng"/"đúng" fold like "đừng" but are no negation.
  EXPECT_TRUE(flags("Nếu không chuyển tiền hôm nay anh sẽ bị bắt"));
  EXPECT_TRUE(flags("Dùng app để chuyển tiền"));
  EXPECT_TRUE(flags("Nhập đúng rồi cung cấp mã OTP"));
  // The first match outside a negation counts.
  EXPECT_TRUE(flags("Không chuyển tiền cho ai khác. Chuyển tiền cho em thôi"));
}

TEST(Negation, DetectorHelperSeesTheFoldedWordsBefore) {
  text::Folded f;
  const std::string s = "Mẹ nhớ không đọc mã cho ai";
  text::fold(s, f);
  EXPECT_TRUE(negated(f, s, f.text.find("doc")));
  EXPECT_FALSE(negated(f, s, f.text.find("nho")));
}

TEST(With, ARuleCountsOnlyNextToAPartner) {
  EXPECT_FALSE(flags("Anh chuyển khoản giúp em nhé"));
  EXPECT_FALSE(flags("Công an phường thông báo lịch tiếp dân"));
  const auto fs = run("Công an phường yêu cầu anh chuyển khoản ngay");
  const Finding* f = find(fs, "scam");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->score, 50);
  ASSERT_EQ(f->hits.size(), 2u);
  EXPECT_EQ(f->hits[1].id, "transfer");
}

TEST(Patterns, NumbersInWordingAreMatchedAndQuotedAsWritten) {
  const auto fs = run("Gói VIP lãi 3%/ngày, rút bất cứ lúc nào");
  const Finding* f = find(fs, "scam");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->evidence.size(), 1u);
  EXPECT_EQ(f->evidence[0].quote, "lãi 3%/ngày");
  EXPECT_TRUE(flags("Lợi nhuận 1,5% mỗi tuần"));
  EXPECT_FALSE(flags("Lãi suất tiết kiệm 5%/năm"));
  EXPECT_FALSE(flags("Giảm 3%/ngày"));
}

TEST(DefangedWarning, AWarningQuotingADefangedDomainDoesNotFlag) {
  EXPECT_FALSE(flags("Cảnh báo: vietcombank-hoantien[.]com là trang giả", "fraud_link"));
  EXPECT_FALSE(flags("Giả mạo ngân hàng: hxxps://vietcombank-hoantien.com/login", "fraud_link"));
  // The same words next to a live link: the post spreads it.
  EXPECT_TRUE(flags("Cảnh báo: tài khoản sẽ bị khóa, vào vietcombank-hoantien.com", "fraud_link"));
  // A defanged link without a warning: a spammer dodging filters.
  EXPECT_TRUE(flags("Nhận quà tại vietcombank-hoantien[.]com", "fraud_link"));
  // One live lookalike is enough to keep the flag.
  EXPECT_TRUE(flags("Cảnh báo vietcombank-hoantien[.]com, hãy dùng vietcombank-hotro.com", "fraud_link"));
  const auto fs = run("Cảnh báo: vietcombank-hoantien.com");
  const Finding* f = find(fs, "fraud_link");
  ASSERT_NE(f, nullptr);
  for (const auto& h : f->hits) EXPECT_NE(h.id, "warning");
  for (const auto& ev : f->evidence) EXPECT_NE(ev.rule, "warning");
}

TEST(RulePack, SpellingsThatFoldAlikeAreQuotedOnce) {
  auto pack = load_rule_pack(write("pack-fold-alike.yaml", R"(rule_pack: x
version: 1
categories: {personal_data: {threshold: 50}}
phrase_rules:
  - {id: fields, category: personal_data, weight: 60, reason_en: e, reason_vi: v,
     phrases: [số điện thoại, so dien thoai, SỐ ĐIỆN THOẠI, sđt]}
)"));
  ASSERT_TRUE(pack.is_ok()) << pack.status().to_string();
  EXPECT_EQ(pack.value()->phrase_rules[0].phrases, (std::vector<std::string>{"so dien thoai"}));
  Detector d(pack.value());
  std::vector<Finding> out;
  d.detect(event("Bán list số điện thoại"), out);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].evidence.size(), 1u);
  EXPECT_EQ(out[0].evidence[0].quote, "số điện thoại");
}

TEST(RulePack, ConditionsAreValidated) {
  const std::string head = "rule_pack: x\nversion: 1\ncategories: {scam: {}, other: {}}\nphrase_rules:\n";
  const std::string base = "  - {id: a, category: scam, weight: 30, reason_en: e, reason_vi: v, phrases: [x]}\n";
  const std::pair<std::string, std::string> cases[] = {
      {"  - {id: b, category: scam, weight: 30, with: [zz], reason_en: e, reason_vi: v, phrases: [y]}\n",
       "unknown rule 'zz'"},
      {"  - {id: b, category: other, weight: 30, with: [a], reason_en: e, reason_vi: v, phrases: [y]}\n",
       "same category"},
      {"  - {id: b, category: scam, weight: 30, reason_en: e, reason_vi: v, patterns: ['Lai \\d+']}\n",
       "must be written folded"},
      {"  - {id: b, category: scam, weight: 30, reason_en: e, reason_vi: v, patterns: ['lai (']}\n",
       "pattern 'lai (' does not compile"},
      {"  - {id: b, category: scam, weight: -30, negatable: true, reason_en: e, reason_vi: v, phrases: [y]}\n",
       "'negatable' is for positive rules"},
      {"  - {id: b, category: scam, weight: -30, when_links: plain, reason_en: e, reason_vi: v, phrases: [y]}\n",
       "'when_links' must be 'defanged'"},
      {"  - {id: b, category: scam, weight: 30, when_links: defanged, reason_en: e, reason_vi: v, phrases: [y]}\n",
       "'when_links' is for counter-signals"},
  };
  for (const auto& [rule, message] : cases) {
    auto r = load_rule_pack(write("pack-bad-condition.yaml", head + base + rule));
    ASSERT_FALSE(r.is_ok()) << rule;
    EXPECT_NE(r.status().message().find(message), std::string::npos) << r.status().message();
  }
  auto ok =
      load_rule_pack(write("pack-pattern-escape.yaml", head + base +
                                                           "  - {id: b, category: scam, weight: 30, reason_en: e, "
                                                           "reason_vi: v, patterns: ['lai\\S+ \\d+']}\n"));
  EXPECT_TRUE(ok.is_ok()) << ok.status().to_string();
}

}  // namespace
}  // namespace vigil::detect
