#include "common/extract/extract.h"

#include <gtest/gtest.h>

namespace vigil::extract {
namespace {

std::vector<std::string> values(const std::vector<Entity>& es, EntityType t) {
  std::vector<std::string> out;
  for (const auto& e : es) {
    if (e.type == t) out.push_back(e.value);
  }
  return out;
}

TEST(Urls, FindsSchemeAndBareHostsWithRegistrableDomain) {
  std::vector<Entity> es;
  find_urls("Xác thực tại https://Login.VietcomBamk.com.vn/xac-thuc?id=1, hoặc momo-vn.top/nhan-qua.", es);
  EXPECT_EQ(values(es, EntityType::kUrl), (std::vector<std::string>{"https://login.vietcombamk.com.vn/xac-thuc?id=1",
                                                                    "http://momo-vn.top/nhan-qua"}));
  EXPECT_EQ(values(es, EntityType::kDomain), (std::vector<std::string>{"vietcombamk.com.vn", "momo-vn.top"}));
}

TEST(Urls, IgnoresNumbersAndWordsWithDots) {
  std::vector<Entity> es;
  find_urls("giá 1.500.000đ, v.v... xong.Rồi 3.14", es);
  EXPECT_TRUE(es.empty()) << es.front().value;
}

TEST(Urls, UnicodeHostBecomesPunycode) {
  std::vector<Entity> es;
  find_urls("https://vietcombánk.vn/a", es);
  ASSERT_FALSE(values(es, EntityType::kDomain).empty());
  EXPECT_EQ(values(es, EntityType::kDomain)[0], "xn--vietcombnk-z4a.vn");
  EXPECT_EQ(host_to_unicode("xn--vietcombnk-z4a.vn"), "vietcombánk.vn");
  EXPECT_EQ(host_to_unicode("plain.vn"), "plain.vn");
  EXPECT_EQ(url_host("https://a.b.vn/x?y"), "a.b.vn");
  EXPECT_EQ(url_host("http://a.vn"), "a.vn");
}

TEST(Urls, RegistrableDomainUsesPublicSuffixList) {
  EXPECT_EQ(registrable_domain("a.b.vietcombank.com.vn"), "vietcombank.com.vn");
  EXPECT_EQ(registrable_domain("scam.github.io"), "scam.github.io");
  EXPECT_EQ(registrable_domain("com.vn"), "");
  EXPECT_EQ(canonical_host("ExAmple.COM."), "example.com");
  EXPECT_EQ(canonical_host("bad host"), "");
}

TEST(Phones, VietnameseMobileForms) {
  std::vector<Entity> es;
  find_phones("Zalo 0912.345.678 hoặc +84 987 654 321, 84-356-123-456; sai: 0212345678 091234567 12345678901", es);
  EXPECT_EQ(values(es, EntityType::kPhone), (std::vector<std::string>{"0912345678", "0987654321", "0356123456"}));
}

TEST(Mask, KeepsPrefixAndEnds) {
  EXPECT_EQ(mask("telegram:5012345612"), "telegram:50******12");
  EXPECT_EQ(mask("0912345678"), "09******78");
  EXPECT_EQ(mask("abc"), "***");
}

}  // namespace
}  // namespace vigil::extract
