// URL risk signals (url_rules in the pack), known-bad feed hits in detection, and the score
// breakdown of rendered flags.
#include <gtest/gtest.h>

#include <fstream>

#include "common/detect/blocklist.h"
#include "common/detect/detector.h"
#include "common/detect/flag.h"
#include "common/detect/tests/test_support.h"

namespace vigil::detect {
namespace {

using test_support::core_pack;
using test_support::event;
using test_support::find;
using test_support::run;

std::vector<std::string> rule_ids(const Finding& f) {
  std::vector<std::string> out;
  for (const auto& h : f.hits) out.push_back(h.id);
  return out;
}

// Links that honest posts carry every day: no flag, whatever URL signals they have, as long
// as nothing names a brand or uses scam wording.
TEST(UrlRules, RiskyLinksAloneNeverFlag) {
  for (const std::string text : {
           "Xem ảnh chuyến đi tại bit.ly/3xYzAbc",
           "Cửa hàng mới của mình: https://hoa-tuoi.xyz",
           "Đăng ký tham gia hội thảo: https://forms.gle/AbCdEf123",
           "Trang cá nhân https://minh-portfolio.github.io/login",
           "http://192.168.1.10/login để vào router",
           "http://3279880203/dang-nhap",
           // Several risky links together still have no brand and no scam wording.
           "bit.ly/login https://shop.top/otp https://sites.google.com/view/dang-nhap http://10.0.0.1/verify",
           // A brand name on an ordinary site is news, not a risky link.
           "Đọc tin: https://vnexpress.net/vietcombank-canh-bao-xac-thuc-tai-khoan-123.html",
           // Global brands' names are in share links everywhere.
           "https://bit.ly/facebook-login https://meo-vat.xyz/share-tiktok",
       }) {
    EXPECT_EQ(find(run(event(text)), "fraud_link"), nullptr) << text;
  }
}

TEST(UrlRules, ShortenerWithABrandSlugFlags) {
  const auto fs = run(event("Nhận ưu đãi tại https://bit.ly/vcb-hotro"));
  const Finding* f = find(fs, "fraud_link");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(rule_ids(*f), (std::vector<std::string>{"url.shortener", "url.brand_in_path"}));
  EXPECT_EQ(f->score, 55);  // 25 + 30
  EXPECT_EQ(f->hits[1].reason_en, "link on a risky host names Vietcombank in its path");
  ASSERT_FALSE(f->entities.empty());
  EXPECT_EQ(f->entities[0].type, extract::EntityType::kUrl);
  EXPECT_EQ(f->entities[0].value, "https://bit.ly/vcb-hotro");
  EXPECT_EQ(f->entities[0].brand, "vietcombank.com.vn");
}

TEST(UrlRules, FreeSiteBuilderWithBrandAndLoginPath) {
  const auto fs = run(event("https://sites.google.com/view/vietcombank-dang-nhap"));
  const Finding* f = find(fs, "fraud_link");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(rule_ids(*f), (std::vector<std::string>{"url.free_host", "url.login_path", "url.brand_in_path"}));
  EXPECT_EQ(f->score, 75);
  // The brand in a path only counts for another brand: Google's name on Google's own host does not.
  EXPECT_EQ(find(run(event("https://sites.google.com/view/google-dang-nhap")), "fraud_link"), nullptr);
  // Vietnamese written with its diacritics, percent-encoded in the link, reads the same.
  const auto encoded = run(event("https://momo-qua.web.app/%C4%91%C4%83ng-nh%E1%BA%ADp"));
  ASSERT_NE(find(encoded, "fraud_link"), nullptr);
  EXPECT_EQ(rule_ids(*find(encoded, "fraud_link")),
            (std::vector<std::string>{"brand.lookalike.compound", "url.free_host", "url.login_path"}));
}

TEST(UrlRules, ScamWordingAnchorsHostSignals) {
  // The account-locked lure (26) alone is below the threshold; a form host adds 25.
  const std::string lure = "Tài khoản của bạn bị tạm khóa, xác minh ngay: ";
  const auto form = run(event(lure + "https://docs.google.com/forms/d/e/1FAIpQLSf/viewform"));
  ASSERT_NE(find(form, "fraud_link"), nullptr);
  EXPECT_EQ(find(form, "fraud_link")->score, 51);
  // Only the forms path of docs.google.com is a form host.
  EXPECT_EQ(find(run(event(lure + "https://docs.google.com/document/d/1abc/edit")), "fraud_link"), nullptr);
  EXPECT_EQ(find(run(event(lure)), "fraud_link"), nullptr);
  // An IP host in any notation, with a login path.
  const auto ip = run(event(lure + "http://0xC37F000B/dang-nhap"));
  const Finding* f = find(ip, "fraud_link");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(rule_ids(*f), (std::vector<std::string>{"text.scam.account_locked", "url.ip_host", "url.login_path"}));
  EXPECT_EQ(f->score, 71);
  EXPECT_EQ(f->entities[0].type, extract::EntityType::kDomain);
  EXPECT_EQ(f->entities[0].value, "195.127.0.11");
  // The prize lure (20) with a shortener (25) stays below 50: two weak signals.
  EXPECT_EQ(find(run(event("Nhận quà tri ân tại bit.ly/qua123")), "fraud_link"), nullptr);
}

TEST(UrlRules, RiskyTldAndPathAddToALookalike) {
  const auto fs = run(event("https://vietcombank-hotro.xyz/otp"));
  const Finding* f = find(fs, "fraud_link");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(rule_ids(*f), (std::vector<std::string>{"brand.lookalike.compound", "url.risky_tld", "url.login_path"}));
  EXPECT_EQ(f->score, 95);
  EXPECT_EQ(f->entities[0].value, "vietcombank-hotro.xyz");
  // A lookalike on an ordinary suffix keeps its score: path words need a host signal.
  EXPECT_EQ(find(run(event("vietcombamk.com.vn/xac-thuc")), "fraud_link")->score, 60);
}

TEST(UrlRules, OfficialDomainsGetNoUrlSignals) {
  EXPECT_EQ(find(run(event("Tài khoản bị tạm khóa, đăng nhập https://vietcombank.com.vn/login")), "fraud_link"),
            nullptr);
}

Result<std::shared_ptr<const RulePack>> pack_with(const std::string& name, const std::string& extra) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << "rule_pack: t\nversion: '1'\ncategories: {fraud_link: {threshold: 50}}\n" << extra;
  return load_rule_pack(path);
}

TEST(UrlRules, PackValidation) {
  const auto ok =
      pack_with("url-ok.yaml",
                "url_rules:\n"
                "  - {id: u.h, weight: 10, reason_en: e, reason_vi: v, hosts: [Docs.Google.com/Forms/, bit.ly]}\n"
                "  - {id: u.t, weight: 10, reason_en: e, reason_vi: v, tlds: [.XYZ]}\n"
                "  - {id: u.w, weight: 10, reason_en: e, reason_vi: v, path_words: [Đăng nhập]}\n");
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  const auto& rules = ok.value()->url_rules;
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].hosts[0].host, "docs.google.com");
  EXPECT_EQ(rules[0].hosts[0].path, "/forms");
  EXPECT_EQ(*rules[1].tlds.begin(), "xyz");
  EXPECT_EQ(rules[2].words[0], "dang-nhap");
  EXPECT_EQ(ok.value()->blocklist_weight, 80);

  for (const auto& [name, extra, message] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"url-two.yaml",
            "url_rules:\n  - {id: u, weight: 10, reason_en: e, reason_vi: v, ip_host: true, tlds: [x]}\n",
            "exactly one of"},
           {"url-none.yaml", "url_rules:\n  - {id: u, weight: 10, reason_en: e, reason_vi: v}\n", "exactly one of"},
           {"url-weight.yaml", "url_rules:\n  - {id: u, weight: 0, reason_en: e, reason_vi: v, ip_host: true}\n",
            "1..100"},
           {"url-host.yaml", "url_rules:\n  - {id: u, weight: 5, reason_en: e, reason_vi: v, hosts: [bitly]}\n",
            "not a host name"},
           {"url-id.yaml",
            "url_rules:\n  - {id: intel.blocklist, weight: 5, reason_en: e, reason_vi: v, ip_host: true}\n",
            "duplicate rule id"},
           {"bl-low.yaml", "blocklist: {weight: 60}\n", "at least severity.high"},
           {"bl-key.yaml", "blocklist: {wieght: 90}\n", "unknown key"},
       }) {
    const auto bad = pack_with(name, extra);
    ASSERT_FALSE(bad.is_ok()) << name;
    EXPECT_NE(bad.status().message().find(message), std::string::npos) << bad.status().message();
  }
}

std::shared_ptr<Blocklist> blocklist_of(const std::string& feed_text) {
  auto b = std::make_shared<Blocklist>();
  b->set_files(FeedSet::build(
      {{FeedSpec{"phish-vn", "/feeds/phish-vn.txt", FeedFormat::kAuto}, parse_feed(feed_text, FeedFormat::kAuto)}}));
  return b;
}

std::vector<Finding> run_with(const std::shared_ptr<const Blocklist>& blocklist, const Event& e) {
  Detector d(core_pack());
  d.set_blocklist(blocklist);
  std::vector<Finding> out;
  d.detect(e, out);
  return out;
}

TEST(Blocklist, AListedDomainAloneIsAHighFlagNamingTheFeed) {
  const auto b = blocklist_of("0.0.0.0 giaohang-nhanh.example\nvietcombank.com.vn\n||sites.google.com^\n");
  const auto e = event("Đơn hàng của bạn đang chờ, xem tại https://track.giaohang-nhanh.example/don/123");
  const auto fs = run_with(b, e);
  const Finding* f = find(fs, "fraud_link");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(f->hits.size(), 1u);
  EXPECT_EQ(f->hits[0].id, "intel.blocklist");
  EXPECT_EQ(f->hits[0].weight, 80);
  EXPECT_EQ(f->hits[0].feeds, (std::vector<std::string>{"phish-vn"}));
  EXPECT_EQ(f->hits[0].reason_en, "giaohang-nhanh.example is on the known-bad list 'phish-vn'");
  EXPECT_NE(f->hits[0].reason_vi.find("'phish-vn'"), std::string::npos);
  EXPECT_EQ(severity_for(f->score, core_pack()->severity), "high");
  ASSERT_GE(f->entities.size(), 2u);
  EXPECT_EQ(f->entities[0].type, extract::EntityType::kDomain);
  EXPECT_EQ(f->entities[0].value, "giaohang-nhanh.example");
  EXPECT_EQ(f->evidence[0].rule, "intel.blocklist");

  RenderedFlag flag;
  render_flag(*f, e, *core_pack(), {}, flag);
  EXPECT_EQ(flag.key, "giaohang-nhanh.example");
  EXPECT_EQ(flag.severity, "high");
  EXPECT_NE(flag.value.find(R"("feeds":["phish-vn"])"), std::string::npos) << flag.value;

  // Official brand domains never flag, even when a feed lists them (or Google's user pages).
  EXPECT_EQ(find(run_with(b, event("https://ebanking.vietcombank.com.vn/login")), "fraud_link"), nullptr);
  EXPECT_EQ(find(run_with(b, event("https://sites.google.com/view/trang-ca-nhan")), "fraud_link"), nullptr);
}

TEST(Blocklist, TopicEntryReasonAndLookalikeOnTheSameDomain) {
  auto b = std::make_shared<Blocklist>();
  ASSERT_TRUE(b->apply(BlocklistUpdate{"vietcombamk.com.vn", false, "police-tips", "reported 12 times"}));
  const auto fs = run_with(b, event("Xác thực tại vietcombamk.com.vn/xac-thuc ngay"));
  const Finding* f = find(fs, "fraud_link");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->hits[0].id, "intel.blocklist");
  EXPECT_EQ(f->hits[0].reason_en, "vietcombamk.com.vn is on the known-bad list 'police-tips': reported 12 times");
  EXPECT_EQ(f->score, 100);  // 80 + lookalike 60, clamped
  EXPECT_EQ(f->raw_score, 140);
  EXPECT_EQ(f->entities[0].value, "vietcombamk.com.vn");
  EXPECT_EQ(f->entities[0].brand, "vietcombank.com.vn");  // the lookalike's brand on the same entity
}

TEST(ScoreBreakdown, ListsSignalsCounterSignalsSumAndClamp) {
  Finding f;
  f.category = "personal_data";
  f.hits = {RuleHit{"text.pd.trade_offer", "", "en", "vi", 40, {}},
            RuleHit{"text.pd.data_noun", "", "en", "vi", 30, {}},
            RuleHit{"counter.pd.news_police", "", "en", "vi", -60, {}}};
  f.raw_score = 10;
  f.score = 10;
  f.entities.push_back(FlagEntity{extract::EntityType::kAccount, "telegram:5012345612", "", true, ""});
  RenderedFlag flag;
  render_flag(f, event("x"), *core_pack(), {}, flag);
  EXPECT_NE(flag.value.find(R"("score_breakdown":{"signals":[{"rule":"text.pd.trade_offer","weight":40},)"
                            R"({"rule":"text.pd.data_noun","weight":30}],"counter_signals":[{"rule":)"
                            R"("counter.pd.news_police","weight":-60}],"raw_sum":10,"min":0,"max":100,"score":10,)"
                            R"("threshold":50})"),
            std::string::npos)
      << flag.value;

  // Clamped at 100: the raw sum shows by how much.
  const auto fs = run(event("Tài khoản bị tạm khóa, xác thực tại https://vietcombank-hotro.xyz/otp"));
  ASSERT_NE(find(fs, "fraud_link"), nullptr);
  render_flag(*find(fs, "fraud_link"), event("x"), *core_pack(), {}, flag);
  EXPECT_NE(flag.value.find(R"("raw_sum":121,"min":0,"max":100,"score":100)"), std::string::npos) << flag.value;
  EXPECT_NE(flag.value.find(R"("counter_signals":[])"), std::string::npos) << flag.value;
}

}  // namespace
}  // namespace vigil::detect
