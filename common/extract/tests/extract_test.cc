#include "common/extract/extract.h"

#include <gtest/gtest.h>
#include <libpsl.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

namespace vigil::extract {
namespace {

using Values = std::vector<std::string>;

Values values(const EntityList& es, EntityType t) {
  Values out;
  for (const auto& e : es) {
    if (e.type == t) out.push_back(e.value);
  }
  return out;
}

// 2024-04-01: CCCD birth years are checked against the event time.
constexpr TimestampMs kApril2024 = 1711929600000;

EntityList all(std::string_view text) {
  text::Folded folded;
  text::fold(text, folded);
  EntityList out;
  extract_all(text, folded, kApril2024, out);
  return out;
}

TEST(Urls, FindsSchemeAndBareHostsWithRegistrableDomain) {
  EntityList es;
  find_urls("Xác thực tại https://Login.VietcomBamk.com.vn/xac-thuc?id=1, hoặc momo-vn.top/nhan-qua.", es);
  EXPECT_EQ(values(es, EntityType::kUrl),
            (Values{"https://login.vietcombamk.com.vn/xac-thuc?id=1", "http://momo-vn.top/nhan-qua"}));
  EXPECT_EQ(values(es, EntityType::kDomain), (Values{"vietcombamk.com.vn", "momo-vn.top"}));
  ASSERT_FALSE(es.empty());
  EXPECT_EQ(std::string_view("Xác thực tại https://Login.VietcomBamk.com.vn/xac-thuc?id=1")
                .substr(es[0].start, es[0].end - es[0].start),
            "https://Login.VietcomBamk.com.vn/xac-thuc?id=1");
}

TEST(Urls, ObfuscatedForms) {
  for (const char* text :
       {"vào hxxps://vietcombamk[.]com[.]vn/login nhé", "vào hXXps://vietcombamk(.)com(.)vn/login nhé",
        "vào vietcombamk [.] com [.] vn/login", "vào vietcombamk{dot}com{dot}vn/login",
        "vào vietcombamk dot com dot vn/login", "vào https[:]//vietcombamk.com.vn/login"}) {
    EntityList es;
    find_urls(text, es);
    EXPECT_EQ(values(es, EntityType::kDomain), Values{"vietcombamk.com.vn"}) << text;
  }
  EntityList es;
  const std::string text = "link: hxxp://evil[.]top/a";
  find_urls(text, es);
  ASSERT_EQ(values(es, EntityType::kUrl), Values{"http://evil.top/a"});
  EXPECT_EQ(text.substr(es[0].start, es[0].end - es[0].start), "hxxp://evil[.]top/a");
}

// Sentence punctuation right after a link is not part of it; the scan skips such marks.
TEST(Urls, LinksThatEndASentence) {
  for (const char* text : {"vào momo-vn.top.", "vào momo-vn.top:", "vào momo-vn.top. Nhanh", "vào momo-vn.top: nhanh",
                           "vào momo-vn.top..", "vào momo-vn.top.\nRồi", "(momo-vn.top.)"}) {
    EntityList es;
    find_urls(text, es);
    EXPECT_EQ(values(es, EntityType::kDomain), Values{"momo-vn.top"}) << text;
  }
  EntityList es;
  find_urls("http://momo-vn.top:8080/a. Rồi", es);
  EXPECT_EQ(values(es, EntityType::kUrl), Values{"http://momo-vn.top/a"});  // ports are dropped
}

TEST(Urls, IgnoresNumbersWordsAndEmails) {
  EntityList es;
  find_urls("giá 1.500.000đ, v.v... xong.Rồi 3.14, ngày 12.03.2024, email a.b@gmail.com", es);
  EXPECT_TRUE(es.empty()) << es.front().value;
}

TEST(Urls, IpHostsInAnyNotationWithAScheme) {
  EntityList es;
  find_urls("vào http://3279880203/login hoặc https://0xC37F000B:8080/x, http://0303.0177.0.013/ và http://localhost/x",
            es);
  EXPECT_EQ(values(es, EntityType::kUrl),
            (Values{"http://195.127.0.11/login", "https://195.127.0.11/x", "http://195.127.0.11/"}));
  EXPECT_EQ(values(es, EntityType::kDomain), Values{"195.127.0.11"});
  es.clear();
  find_urls("số 3279880203 và 0xC37F000B không phải link", es);  // numbers without a scheme are numbers
  EXPECT_TRUE(es.empty());
}

TEST(Urls, TelegramAndZaloLinksNamePeople) {
  EntityList es;
  find_urls("Liên hệ t.me/Kho_Data_VIP hoặc zalo.me/0912345678, nhóm t.me/joinchat/AAAA", es);
  EXPECT_EQ(values(es, EntityType::kHandle), Values{"@kho_data_vip"});
  EXPECT_EQ(values(es, EntityType::kPhone), Values{"+84912345678"});
}

TEST(Urls, UnicodeHostBecomesPunycode) {
  EntityList es;
  find_urls("https://vietcombánk.vn/a", es);
  EXPECT_EQ(values(es, EntityType::kDomain), Values{"xn--vietcombnk-z4a.vn"});
  EXPECT_EQ(host_to_unicode("xn--vietcombnk-z4a.vn"), "vietcombánk.vn");
  EXPECT_EQ(host_to_unicode("plain.vn"), "plain.vn");
  EXPECT_EQ(url_host("https://a.b.vn/x?y"), "a.b.vn");
  EXPECT_EQ(url_host("http://a.vn?q"), "a.vn");
}

TEST(Urls, RegistrableDomainUsesPublicSuffixList) {
  EXPECT_EQ(registrable_domain("a.b.vietcombank.com.vn"), "vietcombank.com.vn");
  EXPECT_EQ(registrable_domain("scam.github.io"), "scam.github.io");
  EXPECT_EQ(registrable_domain("com.vn"), "");
  EXPECT_EQ(canonical_host("ExAmple.COM."), "example.com");
  EXPECT_EQ(canonical_host("bad host"), "");
}

// The registrable domain is libpsl's answer (the label before the longest suffix that is a
// public suffix), with the shorter suffixes' answers remembered: around every rule of the list
// in use (the rule itself, one and two labels before it; wildcards and exceptions included),
// forwards and backwards, against psl_registrable_domain().
TEST(Urls, RegistrableDomainIsLibpslsAnswer) {
  // The list the library loads: the system one, else the one built into libpsl.
  const std::unique_ptr<psl_ctx_t, void (*)(psl_ctx_t*)> loaded(psl_latest(nullptr), psl_free);
  const psl_ctx_t* psl = loaded != nullptr ? loaded.get() : psl_builtin();
  ASSERT_NE(psl, nullptr);
  std::vector<std::string> hosts = {"vnexpress.net",
                                    "s1.vnexpress.net",
                                    "a.b.vietcombank.com.vn",
                                    "com.vn",
                                    "vn",
                                    "www.ck",
                                    "a.www.ck",
                                    "x.y.ck",
                                    "forgot.his.name",
                                    "a.forgot.his.name",
                                    "remember.his.name",
                                    "github.io",
                                    "scam.github.io",
                                    "localhost",
                                    "a.b.c.d.e"};
  std::ifstream list("/usr/share/publicsuffix/public_suffix_list.dat");  // package publicsuffix
  std::size_t rules = 0;
  for (std::string line; std::getline(list, line);) {
    std::string rule = line.substr(0, line.find_first_of(" \t\r"));
    if (rule.empty() || rule.rfind("//", 0) == 0) continue;
    if (std::any_of(rule.begin(), rule.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) continue;
    if (rule[0] == '!') rule.erase(0, 1);
    if (rule.rfind("*.", 0) == 0) rule.erase(0, 2);
    for (const char* prefix : {"", "x.", "a.x."}) hosts.push_back(prefix + rule);
    ++rules;
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t k = 0; k < hosts.size(); ++k) {
      const std::string& host = hosts[pass == 0 ? k : hosts.size() - 1 - k];
      const char* expected = psl_registrable_domain(psl, host.c_str());
      EXPECT_EQ(registrable_domain(host), expected != nullptr ? expected : "") << host;
    }
  }
  std::cout << "[          ] " << hosts.size() << " hosts around " << rules << " rules compared twice\n";
}

// A bare host counts when its last label is a public suffix; the answers are remembered per
// label and thread. Every two-letter label, asked on one thread among all the others (in both
// cases), must get the answer a thread that never asked before gets.
TEST(Urls, BareHostSuffixAnswersAreRememberedPerLabel) {
  auto bare_host_found = [](const std::string& label) {
    EntityList es;
    find_urls("xem shop." + label + "/a ngay", es);
    return !values(es, EntityType::kDomain).empty();
  };
  std::vector<std::string> labels;
  for (char a = 'a'; a <= 'z'; ++a) {
    for (char b = 'a'; b <= 'z'; ++b) labels.push_back(std::string{a, b});
  }
  std::vector<char> fresh(labels.size());
  for (std::size_t k = 0; k < labels.size(); ++k) {
    std::thread([&] { fresh[k] = bare_host_found(labels[k]); }).join();
  }
  std::size_t suffixes = 0;
  for (std::size_t k = 0; k < labels.size(); ++k) {
    EXPECT_EQ(bare_host_found(labels[k]), fresh[k] != 0) << labels[k];
    suffixes += fresh[k] != 0;
  }
  for (std::size_t k = 0; k < labels.size(); ++k) {
    std::string upper = labels[k];
    for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
    EXPECT_EQ(bare_host_found(upper), fresh[k] != 0) << upper;
  }
  // Both answers occur (about 250 two-letter country codes).
  EXPECT_GT(suffixes, 200u);
  EXPECT_LT(suffixes, 400u);
  EXPECT_TRUE(bare_host_found("vn"));
  EXPECT_TRUE(bare_host_found("com"));
  EXPECT_TRUE(bare_host_found("TOP"));
  EXPECT_FALSE(bare_host_found("qq"));
  EXPECT_FALSE(bare_host_found("comm"));
  EXPECT_FALSE(bare_host_found("ngay"));
  EXPECT_TRUE(bare_host_found("photography"));               // 11 letters: remembered too
  EXPECT_FALSE(bare_host_found("notarealsuffixatalllong"));  // longer than a slot: asked each time
}

TEST(Phones, VietnameseMobileFormsToE164) {
  EntityList es;
  find_phones("Zalo 0912.345.678 hoặc +84 987 654 321, 84-356-123-456; 0 9 1 2 3 4 5 6 7 9; O9l2345670", es);
  EXPECT_EQ(values(es, EntityType::kPhone),
            (Values{"+84912345678", "+84987654321", "+84356123456", "+84912345679", "+84912345670"}));
}

TEST(Phones, TrickyNegatives) {
  for (const char* text :
       {"ngày 12/03/2024", "giá 1.500.000 đồng", "đơn hàng DH0912345678", "mã 09123456789", "cố định 0243 826 1234",
        "số cũ 0123456789", "0212345678", "+1 912 345 6789", "tổng 091,234,5678", "Zalo0912345678"}) {
    EntityList es;
    find_phones(text, es);
    EXPECT_TRUE(es.empty()) << text << " -> " << es.front().value;
  }
}

TEST(Phones, TwoNumbersInARowAreTwo) {
  EntityList es;
  find_phones("0912345678 0987654321", es);
  EXPECT_EQ(values(es, EntityType::kPhone), (Values{"+84912345678", "+84987654321"}));
}

TEST(Emails, FindsAndLowerCases) {
  EntityList es;
  find_emails("gửi Data.Seller+vn@Gmail.com hoặc abc@localhost, @handle, x@y.notatld", es);
  EXPECT_EQ(values(es, EntityType::kEmail), Values{"data.seller+vn@gmail.com"});
}

TEST(CitizenIds, CccdNeedsValidStructureAndContext) {
  auto es = all("Bán ảnh CCCD: 079203001234, 001198012345 và số căn cước 038095000111");
  EXPECT_EQ(values(es, EntityType::kCitizenId), (Values{"079203001234", "001198012345", "038095000111"}));
  // Province 003 does not exist; a century digit of 9 is nonsense; born 2030 is in the future.
  es = all("CCCD 003203001234, CCCD 079903001234, CCCD 079230001234");
  EXPECT_TRUE(values(es, EntityType::kCitizenId).empty());
  // A valid-looking 12-digit number without any ID word nearby is an order number.
  es = all("Mã đơn hàng 079203001234 đã giao");
  EXPECT_TRUE(values(es, EntityType::kCitizenId).empty());
}

TEST(CitizenIds, CmndOnlyWithItsOwnContext) {
  EXPECT_EQ(values(all("số CMND 025123456 cấp tại HCM"), EntityType::kCitizenId), Values{"025123456"});
  EXPECT_TRUE(values(all("mã vận đơn 025123456"), EntityType::kCitizenId).empty());
}

TEST(BankAccounts, KeywordOrBankNameWithTheBank) {
  auto es = all("Chuyển khoản STK: 0071000123456 Vietcombank, hoặc MB 0912345678 chủ TK Nguyen Van A");
  ASSERT_EQ(values(es, EntityType::kBankAccount), (Values{"0071000123456", "0912345678"}));
  EXPECT_EQ(es[0].type == EntityType::kBankAccount ? es[0].qualifier : "", "Vietcombank");
  EXPECT_TRUE(values(es, EntityType::kPhone).empty()) << "an account number is not reported again as a phone";
  // Digits without any account word or bank nearby are not accounts.
  EXPECT_TRUE(values(all("Giá 1500000 đồng, mã 123456789"), EntityType::kBankAccount).empty());
}

// Accounts have 6 to 19 digits, also with separators inside; the digit finders pass over
// shorter runs without reading them, so the edges are pinned here.
TEST(BankAccounts, SixToNineteenDigitsWithSeparators) {
  EXPECT_EQ(values(all("stk 123456 ACB"), EntityType::kBankAccount), Values{"123456"});
  EXPECT_EQ(values(all("stk 12 3456 ACB"), EntityType::kBankAccount), Values{"123456"});
  EXPECT_EQ(values(all("stk 12.34-56 ACB"), EntityType::kBankAccount), Values{"123456"});
  EXPECT_TRUE(values(all("stk 12345 ACB"), EntityType::kBankAccount).empty());
  EXPECT_TRUE(values(all("stk 12 345 ACB"), EntityType::kBankAccount).empty());
  EXPECT_EQ(values(all("stk 1234567890123456789 ACB"), EntityType::kBankAccount), Values{"1234567890123456789"});
  EXPECT_TRUE(values(all("stk 12345678901234567890 ACB"), EntityType::kBankAccount).empty());
  // A short run right before a long one: "1 2" is a run of two, then the account.
  EXPECT_EQ(values(all("tk số 1, stk 9704 2299 ACB"), EntityType::kBankAccount), Values{"97042299"});
}

TEST(Handles, TelegramWhenSaidSo) {
  auto es = all("Liên hệ tele @Kho_Data_VIP hoặc mail me@shop.vn, @ab quá ngắn");
  ASSERT_EQ(values(es, EntityType::kHandle), Values{"@kho_data_vip"});
  for (const auto& e : es) {
    if (e.type == EntityType::kHandle) {
      EXPECT_EQ(e.qualifier, "telegram");
    }
  }
  EXPECT_EQ(values(es, EntityType::kEmail), Values{"me@shop.vn"});
}

TEST(Mask, EveryPersonalTypeAndNothingElse) {
  EXPECT_EQ(mask(EntityType::kPhone, "+84912345678"), "09******78");
  EXPECT_EQ(mask(EntityType::kCitizenId, "079203001234"), "079*******34");
  EXPECT_EQ(mask(EntityType::kEmail, "seller@gmail.com"), "se****@gmail.com");
  EXPECT_EQ(mask(EntityType::kBankAccount, "0071000123456"), "**********456");
  EXPECT_EQ(mask(EntityType::kHandle, "@kho_data_vip"), "@kh**********");
  EXPECT_EQ(mask(EntityType::kAccount, "telegram:5012345612"), "telegram:50******12");
  EXPECT_EQ(mask(EntityType::kDomain, "vietcombamk.com.vn"), "vietcombamk.com.vn");
  EXPECT_EQ(mask("abc"), "***");
}

TEST(Provinces, OfficialListWithGaps) {
  EXPECT_TRUE(is_cccd_province("001"));
  EXPECT_TRUE(is_cccd_province("079"));
  EXPECT_TRUE(is_cccd_province("096"));
  EXPECT_FALSE(is_cccd_province("003"));
  EXPECT_FALSE(is_cccd_province("097"));
  EXPECT_FALSE(is_cccd_province("000"));
}

}  // namespace
}  // namespace vigil::extract

namespace vigil::extract {
namespace {

TEST(EntityList, ReusedAcrossPostsGivesWhatAFreshListGives) {
  const std::string_view posts[] = {
      "Bán data, liên hệ 0912345678 hoặc https://kho-data.top/mua?id=1, tele @kho_data_vip",
      "STK 0071000123456 Vietcombank, CCCD 079203001234",
      "",
      "mail Data.Seller@Gmail.com, link hxxp://evil[.]top/a",
  };
  EntityList reused;
  for (int round = 0; round < 2; ++round) {
    for (const auto post : posts) {
      reused.clear();
      text::Folded folded;
      text::fold(post, folded);
      extract_all(post, folded, kApril2024, reused);
      const EntityList fresh = all(post);
      ASSERT_EQ(reused.size(), fresh.size()) << post;
      for (std::size_t i = 0; i < fresh.size(); ++i) {
        EXPECT_EQ(reused[i].type, fresh[i].type);
        EXPECT_EQ(reused[i].value, fresh[i].value);
        EXPECT_EQ(reused[i].qualifier, fresh[i].qualifier);
        EXPECT_EQ(reused[i].start, fresh[i].start);
        EXPECT_EQ(reused[i].end, fresh[i].end);
      }
    }
  }
  // Appending one of its own entities while the list grows.
  EntityList es;
  es.add(EntityType::kUrl, "https://a-rather-long-url-beyond-small-strings.vn/path", "", 1, 2);
  for (int i = 0; i < 20; ++i) es.push_back(es[0]);
  EXPECT_EQ(es.back().value, "https://a-rather-long-url-beyond-small-strings.vn/path");
  EXPECT_FALSE(es.add_unique(EntityType::kUrl, es[0].value, "", 0, 0));
  // Copies hold the entities only; a moved-from list is empty.
  EntityList copy = es;
  EXPECT_EQ(copy.size(), 21U);
  es.clear();
  copy = es;
  EXPECT_TRUE(copy.empty());
  EntityList moved = std::move(reused);
  EXPECT_TRUE(reused.empty());  // NOLINT(bugprone-use-after-move): moved-from is defined here
  EXPECT_EQ(moved.size(), all(posts[3]).size());
}

// Candidates are found 16 bytes at a time: each kind at every offset around a block edge.
TEST(Scan, CandidatesAtEveryOffset) {
  for (std::size_t k = 0; k < 40; ++k) {
    const std::string pad(k, 'a');
    const std::string post = pad + " 0912345678 +84987654321 O912345670 a@shop.vn hxxp://evil[.]top bad dot com";
    const EntityList es = all(post);
    EXPECT_EQ(values(es, EntityType::kPhone), (Values{"+84912345678", "+84987654321", "+84912345670"})) << k;
    EXPECT_EQ(values(es, EntityType::kEmail), Values{"a@shop.vn"}) << k;
    EXPECT_EQ(values(es, EntityType::kDomain), (Values{"evil.top", "bad.com"})) << k;
    for (const auto& e : es) {
      if (e.type == EntityType::kPhone && e.value == "+84912345678") {
        EXPECT_EQ(e.start, k + 1);
      }
    }
    // At the very start and end of the text.
    EXPECT_EQ(values(all("0912345678" + pad), EntityType::kPhone).size(), k == 0 ? 1U : 0U);
    EXPECT_EQ(values(all(pad + " 0912345678"), EntityType::kPhone), Values{"+84912345678"});
  }
}

TEST(Extract, TrickyNegativesDatesPricesOrderNumbers) {
  for (const char* text : {"ngày 12.03.2024 lúc 10:30, giá 1.500.000đ (đã giảm 20%)",
                           "Mã đơn hàng DH2024031512345 đã giao, v.v... xong.Rồi",
                           "đơn #0912345678123 trị giá 2.500.000 VNĐ", "tỷ lệ 1:1000, version 3.14, (08) 3823 4567",
                           "giảm (50%) [hot] {sale} cho 100.000 khách", "số 0079203001234 không phải CCCD"}) {
    const EntityList es = all(text);
    EXPECT_TRUE(es.empty()) << text << " -> " << es.front().value;
  }
}

TEST(Urls, BracketsWithoutObfuscationKeepSpans) {
  // '(' or '[' alone do not make a post obfuscated; spans still point into the text as written.
  const std::string text = "(ưu đãi) [mới] vào vietcombank-uudai.com/nhan ngay";
  EntityList es;
  find_urls(text, es);
  ASSERT_EQ(values(es, EntityType::kUrl), Values{"http://vietcombank-uudai.com/nhan"});
  EXPECT_EQ(text.substr(es[0].start, es[0].end - es[0].start), "vietcombank-uudai.com/nhan");
  // " dot " between non-letters is no obfuscation.
  es.clear();
  find_urls("1 . dot . 2 and a dot b", es);
  EXPECT_TRUE(es.empty()) << es.front().value;
}

}  // namespace
}  // namespace vigil::extract
