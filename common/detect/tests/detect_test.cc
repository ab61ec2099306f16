#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "common/detect/detector.h"
#include "common/detect/flag.h"
#include "common/detect/tests/test_support.h"

namespace vigil::detect {
namespace {

using test_support::core_pack;
using test_support::event;
using test_support::find;
using test_support::run;

TEST(EditDistance, DamerauTranspositions) {
  EXPECT_EQ(edit_distance("vietcombank", "vietcombank"), 0u);
  EXPECT_EQ(edit_distance("vietcombamk", "vietcombank"), 1u);
  EXPECT_EQ(edit_distance("vietcobmank", "vietcombank"), 1u);  // transposition
  EXPECT_EQ(edit_distance("vietcornbank", "vietcombank"), 2u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
}

TEST(PersonalData, SellingCustomerDataIsFlaggedWithEvidence) {
  const auto e = event("🔥 Bán DATA khách hàng mới, giá rẻ, ib Zalo 0912.345.678");
  const auto fs = run(e);
  const Finding* f = find(fs, "personal_data");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->score, 85);  // trade offer 35 + data noun 35 + commerce terms 15
  ASSERT_FALSE(f->evidence.empty());
  EXPECT_EQ(f->evidence[0].quote, "Bán DATA");
  // Evidence offsets are code points into the text: the emoji and space come first.
  EXPECT_EQ(f->evidence[0].start, 2u);
  EXPECT_EQ(f->evidence[0].end, 10u);
  ASSERT_GE(f->entities.size(), 2u);
  EXPECT_EQ(f->entities[0].type, extract::EntityType::kAccount);
  EXPECT_TRUE(f->entities[0].primary);
  EXPECT_EQ(f->entities[1].value, "+84912345678");
}

TEST(PersonalData, ObfuscatedOfferIsStillCaughtAndQuotedAsWritten) {
  const auto e = event("B.Á.N d4t4 kh4ch h4nggg giá rẻ, ibbb");
  const auto fs = run(e);
  const Finding* f = find(fs, "personal_data");
  ASSERT_NE(f, nullptr);
  std::vector<std::string> quotes;
  for (const auto& ev : f->evidence) quotes.push_back(ev.quote);
  EXPECT_EQ(quotes, (std::vector<std::string>{"B.Á.N d4t4", "d4t4 kh4ch h4nggg", "giá rẻ", "ibbb"}));
}

TEST(PersonalData, NewsAndMobileDataStayQuiet) {
  EXPECT_EQ(
      find(run(event("Công an triệt phá đường dây bán data khách hàng, đề nghị người dân cảnh giác")), "personal_data"),
      nullptr);
  EXPECT_EQ(find(run(event("Đăng ký gói cước data 4G giá rẻ, bán sim data tốc độ cao, ib ngay")), "personal_data"),
            nullptr);
  EXPECT_EQ(find(run(event("Hôm nay trời đẹp, đi cà phê không?")), "personal_data"), nullptr);
}

TEST(FraudLink, LookalikeOfBankDomain) {
  const auto fs = run(event("Tài khoản của quý khách đang bị tạm khóa, xác thực tại vietcombamk.com.vn/xac-thuc"));
  const Finding* f = find(fs, "fraud_link");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->score, 86);
  ASSERT_FALSE(f->entities.empty());
  EXPECT_EQ(f->entities[0].value, "vietcombamk.com.vn");
  EXPECT_EQ(f->entities[0].brand, "vietcombank.com.vn");
  EXPECT_EQ(f->hits[0].id, "text.scam.account_locked");
  EXPECT_EQ(f->hits[1].id, "brand.lookalike.edit1");
  const Evidence& link = f->evidence.back();
  EXPECT_EQ(link.rule, "brand.lookalike.edit1");
  EXPECT_EQ(link.quote, "vietcombamk.com.vn/xac-thuc");
  EXPECT_TRUE(link.has_span);
  EXPECT_EQ(link.end - link.start, link.quote.size());
}

TEST(FraudLink, HiddenLinkEvidenceHasNoSpan) {
  const auto fs = run(event("Bấm vào đây", {"https://vietcombamk.com.vn/x"}));
  const Finding* f = find(fs, "fraud_link");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->evidence.back().quote, "https://vietcombamk.com.vn/x");
  EXPECT_FALSE(f->evidence.back().has_span);
}

TEST(FraudLink, CompoundAliasSuffixAndPunycode) {
  EXPECT_NE(find(run(event("", {"https://vietcombank-khuyenmai.com/"})), "fraud_link"), nullptr);
  EXPECT_NE(find(run(event("nap tien momo247.top")), "fraud_link"), nullptr);
  EXPECT_NE(find(run(event("vcb-xacthuc.com")), "fraud_link"), nullptr);
  EXPECT_NE(find(run(event("https://vietcombank.com/login")), "fraud_link"), nullptr);
  EXPECT_NE(find(run(event("https://vietcombánk.vn/login")), "fraud_link"), nullptr);
}

TEST(FraudLink, OfficialDomainsAndUnrelatedSitesAreClean) {
  EXPECT_EQ(find(run(event("Tra cứu tại https://www.vietcombank.com.vn/vi-VN và momo.vn")), "fraud_link"), nullptr);
  EXPECT_EQ(find(run(event("Đọc báo tại vnexpress.net, tuoitre.vn")), "fraud_link"), nullptr);
  // A lure alone, without a lookalike link, does not reach the threshold.
  EXPECT_EQ(find(run(event("Tài khoản bị tạm khóa, nhận quà tri ân")), "fraud_link"), nullptr);
}

TEST(Flag, RenderedWithContractFieldsAndStableId) {
  auto e = event("Bán data khách hàng, ib 0912345678");
  const auto fs = run(e);
  ASSERT_EQ(fs.size(), 1u);
  RenderedFlag a, b;
  render_flag(fs[0], e, *core_pack(), RenderOptions{1000, false}, a);
  e.source.offset = 99;  // replays may land at other offsets: the id must not move
  render_flag(fs[0], e, *core_pack(), RenderOptions{2000, false}, b);
  EXPECT_EQ(a.flag_id, b.flag_id);
  EXPECT_EQ(a.flag_id.size(), 19u);
  EXPECT_EQ(a.key, "telegram:50******12");
  EXPECT_EQ(a.severity, "high");
  for (const std::string& field :
       std::vector<std::string>{"\"flag_id\"", "\"category\":\"personal_data\"", "\"severity\"", "\"score\":85",
                                "\"rule_pack\":\"" + core_pack()->qualified_version() + "\"", "\"rules\"",
                                "\"entities\"", "\"evidence\"", "\"topic\":\"raw.telegram\"", "\"partition\":3",
                                "\"offset\":18822", "\"event_time\":\"2024-04-01T00:12:20Z\"",
                                "\"detected_at\":\"1970-01-01T00:00:01Z\"", "\"masked\":\"09******78\""}) {
    EXPECT_NE(a.value.find(field), std::string::npos) << field << " in " << a.value;
  }
  // No unmasked personal values unless configured.
  EXPECT_EQ(a.value.find("+84912345678"), std::string::npos);
  EXPECT_EQ(a.value.find("5012345612"), std::string::npos);
  render_flag(fs[0], e, *core_pack(), RenderOptions{0, true}, b);
  EXPECT_NE(b.value.find("+84912345678"), std::string::npos);
}

// Each kind of scam the pack knows, as posted, and the subtype its flag names.
TEST(Scam, EachSubtypeIsFlaggedWithItsSubtypeAndReasons) {
  const std::vector<std::pair<std::string, std::string>> posts = {
      {"VAY TIỀN NHANH 50tr, không cần thế chấp, chỉ cần CCCD, giải ngân trong ngày. Ib Zalo 0912345678", "loan_shark"},
      {"Tuyển CTV online việc nhẹ lương cao, làm nhiệm vụ chốt đơn, nạp tiền làm nhiệm vụ hoàn tiền gốc + 20%",
       "fake_job"},
      {"Tôi là cán bộ công an phường, anh liên quan đến đường dây rửa tiền, yêu cầu chuyển tiền vào tài khoản tạm "
       "giữ để xác minh",
       "impersonation"},
      {"Nhà mạng thông báo: thuê bao sẽ bị khóa 2 chiều, bấm phím 9 để chuẩn hóa thông tin thuê bao. Cung cấp mã "
       "OTP để giữ số",
       "impersonation"},
      {"Em vừa gọi video cho anh rồi đấy, em đang cần tiền gấp, anh chuyển khoản giúp em 20 triệu nhé", "deepfake"},
      {"Sàn forex uy tín, cam kết lợi nhuận 30%/tháng, lãi mỗi ngày, không lo thua lỗ", "investment"},
  };
  for (const auto& [text, subtype] : posts) {
    const auto fs = run(event(text));
    const Finding* f = find(fs, "scam");
    ASSERT_NE(f, nullptr) << text;
    EXPECT_EQ(f->subtype, subtype) << text;
    EXPECT_GE(f->hits.size(), 2u) << text;
    EXPECT_FALSE(f->evidence.empty()) << text;
    EXPECT_GE(f->score, 50) << text;
  }
}

TEST(Scam, WarningsNewsAndOrdinaryPostsStayQuiet) {
  for (const std::string text : {
           // Police warnings and news describe the scam in its own words.
           "Công an cảnh báo thủ đoạn giả danh cán bộ công an yêu cầu chuyển tiền vào tài khoản tạm giữ, đề nghị "
           "người dân không cung cấp mã OTP",
           "Khởi tố nhóm cho vay nóng, bốc bát họ không cần thế chấp chỉ cần CCCD lãi suất cắt cổ",
           "Cảnh giác chiêu trò việc nhẹ lương cao, làm nhiệm vụ chốt đơn rồi bị chiếm đoạt tiền nạp",
           // Ordinary posts that share a word or two.
           "Tối nay gọi video cho mẹ nhé, nhớ mẹ quá",
           "Công ty tuyển nhân viên kế toán, lương 12 triệu, làm giờ hành chính",
           "Ngân hàng hỗ trợ vay vốn mua nhà lãi suất ưu đãi, thẩm định hồ sơ trong 3 ngày",
       }) {
    EXPECT_EQ(find(run(event(text)), "scam"), nullptr) << text;
  }
}

TEST(RulePack, SeverityBandsComeFromThePack) {
  const std::string path = ::testing::TempDir() + "pack-severity.yaml";
  std::ofstream(path) << "rule_pack: x\nversion: 1\nseverity: {medium: 40, high: 60, critical: 80}\n"
                         "categories: {scam: {threshold: 30}}\nphrase_rules:\n"
                         "  - {id: r1, category: scam, weight: 85, reason_en: e, reason_vi: v, phrases: [vay nong]}\n";
  auto pack = load_rule_pack(path);
  ASSERT_TRUE(pack.is_ok()) << pack.status().to_string();
  EXPECT_EQ(severity_for(85, pack.value()->severity), "critical");
  EXPECT_EQ(severity_for(85, SeverityThresholds{}), "high");  // the default bands
  EXPECT_EQ(severity_for(45, pack.value()->severity), "medium");
  EXPECT_EQ(severity_for(39, pack.value()->severity), "low");
  Detector d(pack.value());
  std::vector<Finding> out;
  d.detect(event("Vay nóng trong ngày"), out);
  ASSERT_EQ(out.size(), 1u);
  RenderedFlag flag;
  render_flag(out[0], event("Vay nóng trong ngày"), *pack.value(), {1000, false}, flag);
  EXPECT_EQ(flag.severity, "critical");

  std::ofstream(path)
      << "rule_pack: x\nversion: 1\nseverity: {medium: 60, high: 50, critical: 90}\ncategories: {a: {}}\n";
  auto bad = load_rule_pack(path);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("medium < high < critical"), std::string::npos) << bad.status().message();
}

TEST(RulePack, SubtypesAreWordsAndOnlyOnPositiveRules) {
  const auto write = [](const std::string& text) {
    const std::string path = testing::TempDir() + "pack-subtype.yaml";
    std::ofstream(path) << text;
    return path;
  };
  auto r = load_rule_pack(
      write("rule_pack: x\nversion: 1\ncategories: {scam: {}}\nphrase_rules:\n  - {id: r1, category: scam, weight: "
            "30, subtype: Loan Shark, reason_en: e, reason_vi: v, phrases: [x]}\n"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("'subtype' must be lower-case"), std::string::npos) << r.status().message();
  r = load_rule_pack(
      write("rule_pack: x\nversion: 1\ncategories: {scam: {}}\nphrase_rules:\n  - {id: r1, category: scam, weight: "
            "-30, subtype: news, reason_en: e, reason_vi: v, phrases: [x]}\n"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("counter-signal"), std::string::npos) << r.status().message();
}

TEST(RulePack, RejectsInvalidPacksWithPreciseErrors) {
  const auto write = [](const std::string& text) {
    const std::string path = testing::TempDir() + "pack.yaml";
    std::ofstream(path) << text;
    return path;
  };
  auto r = load_rule_pack(
      write("rule_pack: x\nversion: 1\ncategories: {a: {threshold: 50}}\n"
            "phrase_rules:\n  - {id: r1, category: b, weight: 5, reason_en: e, reason_vi: v, phrases: [x]}\n"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("rule r1: category 'b' is not declared"), std::string::npos)
      << r.status().message();
  r =
      load_rule_pack(write("rule_pack: x\nversion: 1\ncategories: {fraud_link: {}}\nbrands:\n  - {id: b, name: B, "
                           "domains: [www.b.com.vn]}\n"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("not a registrable domain"), std::string::npos) << r.status().message();
  r = load_rule_pack(write("rule_pack: x\n"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("'version' is required"), std::string::npos);
  EXPECT_EQ(load_rule_pack("/nonexistent.yaml").status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace vigil::detect
