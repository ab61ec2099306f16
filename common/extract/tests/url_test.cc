#include "common/extract/url.h"

#include <gtest/gtest.h>

namespace vigil::extract {
namespace {

std::string canon(std::string_view raw) {
  const auto c = canonicalize_url(raw);
  return c ? c->url : "<none>";
}

// The examples published with the Safe Browsing API's canonicalisation rules.
TEST(CanonicalizeUrl, SafeBrowsingExamples) {
  EXPECT_EQ(canon("http://host/%25%32%35"), "http://host/%25");
  EXPECT_EQ(canon("http://host/%25%32%35%25%32%35"), "http://host/%25%25");
  EXPECT_EQ(canon("http://host/%2525252525252525"), "http://host/%25");
  EXPECT_EQ(canon("http://host/asdf%25%32%35asd"), "http://host/asdf%25asd");
  EXPECT_EQ(canon("http://host/%%%25%32%35asd%%"), "http://host/%25%25%25asd%25%25");
  EXPECT_EQ(canon("http://www.google.com/"), "http://www.google.com/");
  EXPECT_EQ(
      canon(
          "http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/%2E%73%65%63%75%72%65/%77%77%77%2E%65%62%61%79%2E%63%6F%6D/"),
      "http://168.188.99.26/.secure/www.ebay.com/");
  EXPECT_EQ(canon("http://195.127.0.11/uploads/%20%20%20%20/.verify/"
                  ".eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/"),
            "http://195.127.0.11/uploads/%20%20%20%20/.verify/"
            ".eBaysecure=updateuserdataxplimnbqmn-xplmvalidateinfoswqpcmlx=hgplmcx/");
  EXPECT_EQ(canon("http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833%252944_55%252B"),
            "http://host%23.com/~a!b@c%23d$e%25f^00&11*22(33)44_55+");
  EXPECT_EQ(canon("http://3279880203/blah"), "http://195.127.0.11/blah");
  EXPECT_EQ(canon("http://www.google.com/blah/.."), "http://www.google.com/");
  EXPECT_EQ(canon("www.google.com/"), "http://www.google.com/");
  EXPECT_EQ(canon("www.google.com"), "http://www.google.com/");
  EXPECT_EQ(canon("http://www.evil.com/blah#frag"), "http://www.evil.com/blah");
  EXPECT_EQ(canon("http://www.GOOgle.com/"), "http://www.google.com/");
  EXPECT_EQ(canon("http://www.google.com.../"), "http://www.google.com/");
  EXPECT_EQ(canon("http://www.google.com/foo\tbar\rbaz\n2"), "http://www.google.com/foobarbaz2");
  EXPECT_EQ(canon("http://www.google.com/q?"), "http://www.google.com/q?");
  EXPECT_EQ(canon("http://www.google.com/q?r?"), "http://www.google.com/q?r?");
  EXPECT_EQ(canon("http://www.google.com/q?r?s"), "http://www.google.com/q?r?s");
  EXPECT_EQ(canon("http://evil.com/foo#bar#baz"), "http://evil.com/foo");
  EXPECT_EQ(canon("http://evil.com/foo;"), "http://evil.com/foo;");
  EXPECT_EQ(canon("http://evil.com/foo?bar;"), "http://evil.com/foo?bar;");
  EXPECT_EQ(canon("http://\x01\x80.com/"), "http://%01%80.com/");
  EXPECT_EQ(canon("http://notrailingslash.com"), "http://notrailingslash.com/");
  EXPECT_EQ(canon("http://www.gotaport.com:1234/"), "http://www.gotaport.com/");
  EXPECT_EQ(canon("  http://www.google.com/  "), "http://www.google.com/");
  EXPECT_EQ(canon("http:// leadingspace.com/"), "http://%20leadingspace.com/");
  EXPECT_EQ(canon("http://%20leadingspace.com/"), "http://%20leadingspace.com/");
  EXPECT_EQ(canon("%20leadingspace.com/"), "http://%20leadingspace.com/");
  EXPECT_EQ(canon("https://www.securesite.com/"), "https://www.securesite.com/");
  EXPECT_EQ(canon("http://host.com/ab%23cd"), "http://host.com/ab%23cd");
  EXPECT_EQ(canon("http://host.com//twoslashes?more//slashes"), "http://host.com/twoslashes?more//slashes");
}

// Links already canonical are taken as written (one pass); these sit on either side of what
// that pass accepts, so each must give what the full steps give.
TEST(CanonicalizeUrl, CanonicalAsWrittenAndItsNeighbours) {
  EXPECT_EQ(canon("tuoitre.vn"), "http://tuoitre.vn/");
  EXPECT_EQ(canon("https://vnexpress.net/thoi-su"), "https://vnexpress.net/thoi-su");
  EXPECT_EQ(canon("https://a-b_c.vn/X/y~z/"), "https://a-b_c.vn/X/y~z/");
  EXPECT_EQ(canon("t.me/data_sales_vn"), "http://t.me/data_sales_vn");
  EXPECT_EQ(canon("https://vnexpress.net//thoi-su"), "https://vnexpress.net/thoi-su");
  EXPECT_EQ(canon("https://vnexpress.net/./thoi-su/../x"), "https://vnexpress.net/x");
  EXPECT_EQ(canon("https://vnexpress.net/.well-known"), "https://vnexpress.net/.well-known");
  EXPECT_EQ(canon("www."), "http://www/");
  EXPECT_EQ(canon("www..google.com"), "http://www.google.com/");
  EXPECT_EQ(canon("Tuoitre.VN/Path"), "http://tuoitre.vn/Path");
  EXPECT_EQ(canon("HTTPS://tuoitre.vn"), "https://tuoitre.vn/");
  EXPECT_EQ(canon("1.2.3.4/x"), "http://1.2.3.4/x");
  EXPECT_EQ(canon("0x7f.1/x"), "http://127.0.0.1/x");
  EXPECT_EQ(canon("tuoitre.vn:80/x"), "http://tuoitre.vn/x");
  EXPECT_EQ(canon("tuoitre.vn/a b"), "http://tuoitre.vn/a%20b");
  EXPECT_EQ(canon("ftp://tuoitre.vn"), "ftp://tuoitre.vn/");
}

TEST(CanonicalizeUrl, UnicodeHostsBecomePunycode) {
  EXPECT_EQ(canon("https://vietcombánk.vn/đăng-nhập"), "https://xn--vietcombnk-z4a.vn/%C4%91%C4%83ng-nh%E1%BA%ADp");
  EXPECT_EQ(canon("http://user:pw@Example.COM:8080/a/./b/../c"), "http://example.com/a/c");
  EXPECT_EQ(canon("   "), "<none>");
  EXPECT_EQ(canon("http:///path"), "<none>");
}

TEST(CanonicalizeHost, UnicodeThatMapsToAnAddressIsTheAddress) {
  EXPECT_EQ(canonicalize_host("\xef\xbc\x91\xef\xbc\x99\xef\xbc\x92\xef\xbc\x8e\xef\xbc\x91\xef\xbc\x96"
                              "\xef\xbc\x98\xef\xbc\x8e\xef\xbc\x90\xef\xbc\x8e\xef\xbc\x91"),
            "192.168.0.1");                                         // full-width digits and full stops
  EXPECT_EQ(canonicalize_host("0.0.0.0\xef\xbb\xbfx"), "0.0.0.0");  // U+FEFF dropped, "0x" is hex 0
  for (const char* raw : {"0.0.0.0\xef\xbb\xbfx", "vietcomb\xc3\xa1nk.vn", "\xef\xbc\x91.2.3.4"}) {
    const std::string once = canonicalize_host(raw);
    EXPECT_EQ(canonicalize_host(once), once) << raw;
  }
}

TEST(Ipv4, AllInetAtonNotations) {
  EXPECT_EQ(normalize_ipv4("0xC37F000B"), "195.127.0.11");
  EXPECT_EQ(normalize_ipv4("0303.0177.0.013"), "195.127.0.11");
  EXPECT_EQ(normalize_ipv4("195.127.11"), "195.127.0.11");
  EXPECT_EQ(normalize_ipv4("195.8323083"), "195.127.0.11");
  EXPECT_FALSE(normalize_ipv4("1.2.3.4.5").has_value());
  EXPECT_FALSE(normalize_ipv4("256.1.1.1").has_value());
  EXPECT_FALSE(normalize_ipv4("example.com").has_value());
  EXPECT_FALSE(normalize_ipv4("08.1.1.1").has_value());  // 8 is not an octal digit
}

}  // namespace
}  // namespace vigil::extract
