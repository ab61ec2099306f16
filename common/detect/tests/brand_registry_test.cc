// The protected-brand registry of the bundled pack: official domains never flag, realistic
// lookalikes flag naming the right brand, and real banks with close names are not each
// other's lookalikes. The first test iterates over the loaded pack, so it grows with the data.
#include <gtest/gtest.h>

#include <fstream>

#include "common/detect/detector.h"
#include "common/detect/tests/test_support.h"

namespace vigil::detect {
namespace {

using test_support::core_pack;
using test_support::event;
using test_support::find;
using test_support::run;

const Finding* fraud_link(const std::vector<Finding>& fs) {
  for (const auto& f : fs) {
    if (f.category == "fraud_link") return &f;
  }
  return nullptr;
}

// The imitated brand's first official domain, or "" when the URL does not flag.
std::string flagged_as(const std::string& url) {
  Event e;
  e.event_id = "facebook:1_2";
  e.platform = "facebook";
  e.kind = "post";
  e.author = "facebook:100";
  e.urls = {url};
  Detector d(core_pack());
  std::vector<Finding> out;
  d.detect(e, out);
  const Finding* f = fraud_link(out);
  if (f == nullptr) return "";
  for (const auto& en : f->entities) {
    if (en.type == extract::EntityType::kDomain) return en.brand;
  }
  return "?";
}

TEST(BrandRegistry, CoversTheLicensedBanksWalletsPortalsCarriersAndPlatforms) {
  const auto& brands = core_pack()->brands;
  EXPECT_GE(brands.size(), 70u);
  std::size_t domains = 0;
  for (const auto& b : brands) domains += b.domains.size();
  EXPECT_GE(domains, 100u);
}

TEST(BrandRegistry, NoOfficialDomainOrSubdomainIsFlagged) {
  for (const auto& b : core_pack()->brands) {
    for (const auto& d : b.domains) {
      EXPECT_EQ(flagged_as("https://" + d + "/"), "") << d << " of " << b.id;
      EXPECT_EQ(flagged_as("https://www." + d + "/dang-nhap"), "") << "www." << d << " of " << b.id;
      EXPECT_EQ(flagged_as("https://ebanking.khuyenmai." + d + "/x"), "") << d << " of " << b.id;
    }
  }
}

TEST(BrandRegistry, RealisticLookalikesNameTheRightBrand) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"https://vietcombank-khuyenmai.com/", "vietcombank.com.vn"},
      {"https://vietinbank-xacthuc.top/login", "vietinbank.vn"},
      {"http://mbbank247.com", "mbbank.com.vn"},
      {"https://tpbank-online.vn/", "tpb.vn"},
      {"https://lpbank-hotro.xyz/otp", "lpbank.com.vn"},
      {"https://momo-nhanqua.com/", "momo.vn"},
      {"https://vneid-capnhat.com/", "vneid.gov.vn"},
      {"https://dichvucong-gov.vn.com/", "dichvucong.gov.vn"},
      {"https://shopee-tuyendung.net/apply", "shopee.vn"},
      {"https://viettel-khuyenmai.top/", "viettel.vn"},
      {"https://techcombank.online/", "techcombank.com.vn"},
      {"https://sacombank-vn.com/", "sacombank.com.vn"},
      {"https://hdbank-vay.com/", "hdbank.com.vn"},
      {"https://agrlbank.com.vn/", "agribank.com.vn"},
      {"https://zalopay-hoantien.com/", "zalopay.vn"},
      {"https://baohiemxahoi-gov.com/", "baohiemxahoi.gov.vn"},
      {"https://thuedientu-gdt.com/", "gdt.gov.vn"},
      {"https://vcb-digibank.xyz/", "vietcombank.com.vn"},
      {"https://stb247.top/", "sacombank.com.vn"},
      {"https://baovietbank-hotro.com/", "baovietbank.vn"},  // not vietbank.com.vn
      {"https://vietabank-online.com/", "vietabank.com.vn"},
      {"https://vietbank.top/", "vietbank.com.vn"},
      {"https://pgbank.xyz/", "pgbank.com.vn"},  // not gpbank (one transposition away)
      {"https://tiktokshop-tuyendung.com/", "tiktok.com"},
      {"https://lienvietpostbank.online/", "lpbank.com.vn"},
  };
  for (const auto& [url, brand] : cases) EXPECT_EQ(flagged_as(url), brand) << url;
}

TEST(BrandRegistry, CloseNamedRealBanksAreNotCrossFlagged) {
  for (const char* d :
       {"shb.com.vn",      "scb.com.vn",    "vib.com.vn",      "vietcombank.com.vn", "msb.com.vn",    "mbbank.com.vn",
        "abbank.vn",       "acb.com.vn",    "vietbank.com.vn", "vietabank.com.vn",   "bvbank.net.vn", "baovietbank.vn",
        "gpbank.com.vn",   "pgbank.com.vn", "vpbank.com.vn",   "lpbank.com.vn",      "tpb.vn",        "vietinbank.vn",
        "namabank.com.vn", "baca-bank.vn",  "seabank.com.vn"}) {
    EXPECT_EQ(flagged_as(std::string("https://") + d + "/"), "") << d;
  }
}

TEST(BrandRegistry, ADomainOfficialForAnyBrandIsNeverALookalike) {
  // abbank is one edit from mbbank, vietbank one from vietabank, gpbank one transposition from
  // pgbank: a brand's own domain must win over its resemblance to another brand, in any order.
  const std::string path = testing::TempDir() + "brands_order.yaml";
  std::ofstream(path) << "rule_pack: t\nversion: 1\ncategories: {fraud_link: {threshold: 50}}\nbrands:\n"
                         "  - {id: mbbank, name: MB, domains: [mbbank.com.vn]}\n"
                         "  - {id: vietabank, name: VietABank, domains: [vietabank.com.vn]}\n"
                         "  - {id: abbank, name: ABBank, domains: [abbank.vn]}\n"
                         "  - {id: vietbank, name: VietBank, domains: [vietbank.com.vn]}\n";
  auto pack = load_rule_pack(path);
  ASSERT_TRUE(pack.is_ok()) << pack.status().to_string();
  Detector d(pack.value());
  for (const char* url : {"https://abbank.vn/", "https://vietbank.com.vn/", "https://www.abbank.vn/x"}) {
    Event e;
    e.event_id = "x";
    e.platform = "facebook";
    e.urls = {url};
    std::vector<Finding> out;
    d.detect(e, out);
    EXPECT_EQ(fraud_link(out), nullptr) << url;
  }
}

TEST(BrandRegistry, ShortAliasesAndNamesStayStrict) {
  // A short alias alone, or a short bank label under another suffix, is usually someone
  // else (ABB, the European Investment Bank, Borussia Dortmund, Siam Commercial Bank).
  for (const char* url :
       {"https://abb.com/", "https://eib.org/", "https://bvb.de/", "https://nab.com.au/", "https://scb.co.th/",
        "https://shb.se/", "https://acb.com/", "https://vcb.com/", "https://tcb.edu/", "https://klb.de/"}) {
    EXPECT_EQ(flagged_as(url), "") << url;
  }
  // Aliases are whole tokens: never inside longer words.
  for (const char* url : {"https://abbott.com/", "https://vcbs.com.vn/", "https://stbernard.org/",
                          "https://tcbs.com.vn/", "https://nabati.vn/", "https://ocbc.com/"}) {
    EXPECT_EQ(flagged_as(url), "") << url;
  }
  // Short names (under 6 letters) must begin a host token to count as wrapped.
  for (const char* url : {"https://pineapple.vn/", "https://hometiki.vn/", "https://mygrab.io/"}) {
    EXPECT_EQ(flagged_as(url), "") << url;
  }
  // Global brands own their name under every suffix.
  EXPECT_EQ(flagged_as("https://www.google.de/"), "");
  EXPECT_EQ(flagged_as("https://facebook.co.uk/"), "");
  // But with another word or number, a short alias still flags.
  EXPECT_EQ(flagged_as("https://acb.com.vn.xacthuc-tcb.com/"), "techcombank.com.vn");
  EXPECT_EQ(flagged_as("https://eib-online.xyz/"), "eximbank.com.vn");
}

TEST(BrandRegistry, OrdinarySitesStayClean) {
  for (const char* d : {"vnexpress.net",
                        "tuoitre.vn",
                        "dantri.com.vn",
                        "thanhnien.vn",
                        "vietnamnet.vn",
                        "nhandan.vn",
                        "baomoi.com",
                        "cafef.vn",
                        "kenh14.vn",
                        "24h.com.vn",
                        "znews.vn",
                        "voz.vn",
                        "tinhte.vn",
                        "thegioididong.com",
                        "dienmayxanh.com",
                        "fptshop.com.vn",
                        "cellphones.com.vn",
                        "sendo.vn",
                        "chotot.com",
                        "batdongsan.com.vn",
                        "vietjetair.com",
                        "vietnamairlines.com",
                        "bachhoaxanh.com",
                        "baochinhphu.vn",
                        "vtv.vn",
                        "intel.com",
                        "amazon.com",
                        "microsoft.com",
                        "wikipedia.org",
                        "github.com",
                        "vcbs.com.vn",
                        "tcbs.com.vn",
                        "ssi.com.vn",
                        "fecredit.com.vn",
                        "homecredit.vn",
                        "napas.com.vn",
                        "viettelpost.com.vn",
                        "vnpost.vn",
                        "moca.org"}) {
    EXPECT_EQ(flagged_as(std::string("https://") + d + "/"), "") << d;
  }
}

// Digits written for letters inside a word of a host: read as letters before the comparison.
TEST(BrandRegistry, DigitsForLettersAreReadAsLetters) {
  const std::pair<const char*, const char*> cases[] = {
      {"https://techc0mbank-uudai.com/", "techcombank.com.vn"},  // 0 for o, in a compound
      {"https://vietc0mbank-xacthuc.com/", "vietcombank.com.vn"},
      {"https://s4combank-xacminh.net/", "sacombank.com.vn"},  // 4 for a
      {"http://m0mo-xacthuc.com/", "momo.vn"},                 // short name: too short for an edit
      {"http://m0mo.vn/", "momo.vn"},                          // the name itself under its own suffix
      {"https://vne1d-capnhat.com/", "vneid.gov.vn"},          // 1 for i
      {"https://agr1bank-vay.com/", "agribank.com.vn"},
      {"https://dangnhap.b1dv-khuyenmai.top/", "bidv.com.vn"},
      {"https://v1b-uudai.com/", "vib.com.vn"},                           // a short alias as a token
      {"https://x.vietc0mbank.secure-login.top/", "vietcombank.com.vn"},  // in a subdomain
  };
  for (const auto& [url, brand] : cases) EXPECT_EQ(flagged_as(url), brand) << url;
  // The rule says how: the id is brand.lookalike.digits.
  const auto fs = run(event("vào m0mo-xacthuc.com nhé"));
  const Finding* f = fraud_link(fs);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->hits.back().id, "brand.lookalike.digits");
  EXPECT_EQ(f->score, core_pack()->lookalike.compound);
  // Numbers in real names stay numbers: runs of digits, digits at either end of a word.
  for (const char* d : {"kenh14.vn", "24h.com.vn", "123job.vn", "1office.vn", "5giay.vn", "9pay.vn", "k14.vn", "f88.vn",
                        "m4u.vn", "7eleven.vn", "b2b.vn", "vn1.vn"}) {
    EXPECT_EQ(flagged_as(std::string("https://") + d + "/"), "") << d;
  }
}

// A misspelt name as one word of a longer host, "rn" written for "m", a short alias as a word
// of a subdomain label.
TEST(BrandRegistry, MisspeltNamesInsideLongerHostsFlag) {
  const std::pair<const char*, const char*> cases[] = {
      {"https://agrlbank-vaytieudung.top/", "agribank.com.vn"},       // 1 edit, next to a keyword
      {"https://xacthuc.vietcombnak.online/", "vietcombank.com.vn"},  // 1 transposition, in a subdomain
      {"https://sacornbank-diemthuong.com/", "sacombank.com.vn"},     // rn for m
      {"https://rnomo.vn-lixi.top/", "momo.vn"},                      // rn for m, in a subdomain
      {"https://acb-one.app-taixuong.click/", "acb.com.vn"},          // alias as a word of a subdomain label
  };
  for (const auto& [url, brand] : cases) EXPECT_EQ(flagged_as(url), brand) << url;
  // Words near short names stay clean ("apply" is one edit from "apple"), and so do real
  // words with "rn" and hosts whose subdomain is a lone short word.
  for (const char* url :
       {"https://apply-now.com/", "https://modern-bank.com/", "https://learn-english.vn/", "https://acb.example.com/",
        "https://corner-shop.vn/", "https://thegioididong.com/", "https://internet-banking.org/"}) {
    EXPECT_EQ(flagged_as(url), "") << url;
  }
}

TEST(BrandRegistry, LoaderRejectsBadBrands) {
  const auto load = [](const std::string& brands) {
    const std::string path = testing::TempDir() + "brands_bad.yaml";
    std::ofstream(path) << "rule_pack: t\nversion: 1\ncategories: {fraud_link: {threshold: 50}}\n" << brands;
    return load_rule_pack(path);
  };
  auto r = load("brands:\n  - {id: a, name: A, domains: [a.com.vn], aliases: [mb]}\n");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("alias 'mb' must be 3 or more"), std::string::npos) << r.status().message();
  r = load("brands:\n  - {id: a, name: A, domains: [a.com.vn], aliases: [viet capital]}\n");
  ASSERT_FALSE(r.is_ok());
  r = load("brands:\n  - {id: a, name: A, domains: [a.com.vn]}\n  - {id: b, name: B, domains: [A.com.vn]}\n");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("brand b: domain 'a.com.vn' is already listed under brand a"), std::string::npos)
      << r.status().message();
  r = load("brands:\n  - {id: a, name: A, domains: [a.com.vn]}\n  - {id: a, name: B, domains: [b.com.vn]}\n");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("duplicate brand id"), std::string::npos);
  r = load("brands:\n  - {id: a, name: A, domains: [a.com.vn]}\nnot_lookalikes: [www.x.com]\n");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("not_lookalikes"), std::string::npos);
}

}  // namespace
}  // namespace vigil::detect
