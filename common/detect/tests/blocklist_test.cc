#include "common/detect/blocklist.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/detect/tests/test_support.h"
#include "common/extract/url.h"

namespace vigil::detect {
namespace {

using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

TEST(FeedParser, HostsFileWithCommentsBoilerplateAndBadLines) {
  const auto feed = parse_feed(
      "# StevenBlack-style hosts file\r\n"
      "127.0.0.1 localhost\r\n"
      "::1 ip6-localhost ip6-loopback\n"
      "0.0.0.0 0.0.0.0\n"
      "\n"
      "0.0.0.0 bad.example other.example   # two names, one comment\n"
      "127.0.0.1\tBad.Example.\n"  // the same domain again, canonical
      "0.0.0.0\n"                  // an address without a name
      "bad.example\n"              // not a hosts line
      "0.0.0.0 good.example under_score.example #c\n"
      "0.0.0.0 ok.example com\n",  // a bare suffix is not listable; the rest of the line is kept
      FeedFormat::kHosts);
  EXPECT_EQ(feed.domains,
            (Strings{"bad.example", "other.example", "good.example", "under_score.example", "ok.example"}));
  EXPECT_EQ(feed.malformed, 3u);
  EXPECT_EQ(feed.malformed_lines, (std::vector<std::size_t>{8, 9, 11}));
  EXPECT_EQ(feed.skipped, 4u);  // localhost, ip6-localhost, ip6-loopback, 0.0.0.0
  EXPECT_EQ(feed.lines, 11u);
}

TEST(FeedParser, AdblockKeepsOnlyWholeDomainBlocksAndExceptions) {
  const auto feed = parse_feed(
      "[Adblock Plus 2.0]\n"
      "! Title: test list\n"
      "||bad.example^\n"
      "||important.example^$important\n"
      "||doc.example^$document,popup\n"
      "||closed.example^|\n"
      "||third.example^$third-party\n"  // narrowed: skipped
      "||script.example^$script,domain=a.com\n"
      "||off.example^$badfilter\n"
      "@@||good.bad.example^\n"
      "@@||allowed.example^$important\n"
      "||path.example/login^\n"
      "||prefix.example\n"  // no separator: a prefix rule, not a domain
      "||*.wild.example^\n"
      "|http://url.example/\n"
      "/ba[dn]\\.example/\n"
      "example.com##.banner\n"
      "##.ad\n"
      "# a comment in a DNS list\n"
      "||bad domain.example^\n"  // malformed
      "||^\n",                   // malformed
      FeedFormat::kAdblock);
  EXPECT_EQ(feed.domains, (Strings{"bad.example", "important.example", "doc.example", "closed.example"}));
  EXPECT_EQ(feed.exceptions, (Strings{"good.bad.example", "allowed.example"}));
  EXPECT_EQ(feed.skipped, 10u);
  EXPECT_EQ(feed.malformed, 2u);
  EXPECT_EQ(feed.malformed_lines, (std::vector<std::size_t>{20, 21}));
}

TEST(FeedParser, PlainDomainsOnePerLine) {
  const auto feed = parse_feed(
      "\xEF\xBB\xBF"  // byte-order mark
      "bad.example\n"
      "# comment\n"
      "! comment\n"
      "SUB.Bad.Example.  # trailing comment\n"
      "not a domain\n"
      "com\n"
      "github.io\n"       // a public suffix: would list every GitHub page
      "*.wild.example\n"  // wildcards are not domains
      "http://url.example/path\n"
      "1.2.3.4\n"
      "999.1.1.1\n",
      FeedFormat::kDomains);
  EXPECT_EQ(feed.domains, (Strings{"bad.example", "sub.bad.example", "1.2.3.4"}));
  EXPECT_EQ(feed.malformed, 6u);
  EXPECT_EQ(feed.malformed_lines.size(), ParsedFeed::kMaxLineNumbers);
}

TEST(FeedParser, AutoTakesEachLineByItsShape) {
  const auto feed = parse_feed(
      "! adblock comment\n"
      "# hosts comment\n"
      "0.0.0.0 hosts.example\n"
      "||adblock.example^\n"
      "@@||except.example^\n"
      "plain.example\n"
      "||third.example^$third-party\n"
      "two words\n",
      FeedFormat::kAuto);
  EXPECT_EQ(feed.domains, (Strings{"hosts.example", "adblock.example", "plain.example"}));
  EXPECT_EQ(feed.exceptions, (Strings{"except.example"}));
  EXPECT_EQ(feed.skipped, 1u);
  EXPECT_EQ(feed.malformed, 1u);
}

TEST(BlocklistKey, CanonicalTheWayUrlHostsAre) {
  // Whatever the spelling in the feed, the key is the host canonicalize_url gives a link.
  for (const std::string raw : {"vietcombánk.vn", "VIETCOMBÁNK.VN.", "ｖｃｂ-xacthuc.com", "0303.0177.0.013",
                                "0xC3.0x7F.0.11", "Bad..Example", "xn--vietcombnk-z4a.vn"}) {
    const auto url = extract::canonicalize_url("http://" + raw + "/x");
    ASSERT_TRUE(url.has_value()) << raw;
    EXPECT_EQ(blocklist_key(raw), url->host) << raw;
  }
  EXPECT_EQ(blocklist_key("0303.0177.0.013"), "195.127.0.11");
  EXPECT_EQ(blocklist_key("vcb.com.vn"), "vcb.com.vn");
  for (const std::string bad : {"", "com", "com.vn", "github.io", "localhost", "a b.example", "*.x.example",
                                "x.example/path", "3279880203", "1.2.3.999", "ex\xff.com"}) {
    EXPECT_EQ(blocklist_key(bad), "") << bad;
  }
}

std::shared_ptr<const FeedSet> two_feeds() {
  return FeedSet::build({
      {FeedSpec{"first", "/f1", FeedFormat::kAuto},
       parse_feed("bad.example\nshared.example\n1.2.3.4\nphish.example\n", FeedFormat::kAuto)},
      {FeedSpec{"second", "/f2", FeedFormat::kAuto},
       parse_feed("shared.example\nlogin.phish.example\n||evil.example^\n@@||ok.evil.example^\n", FeedFormat::kAuto)},
  });
}

TEST(FeedSet, MatchesTheDomainAndItsSubdomainsOnly) {
  const auto feeds = two_feeds();
  EXPECT_EQ(feeds->size(), 6u);
  EXPECT_EQ(feeds->feeds()[0].entries, 4u);
  EXPECT_EQ(feeds->feeds()[1].exceptions, 1u);
  auto listed = [&](std::string_view host) {
    const auto m = feeds->match(host);
    return m ? std::string(m->domain) + "@" + feeds->feeds()[m->feed].name : std::string("-");
  };
  EXPECT_EQ(listed("bad.example"), "bad.example@first");
  EXPECT_EQ(listed("a.b.bad.example"), "bad.example@first");
  EXPECT_EQ(listed("notbad.example"), "-");
  EXPECT_EQ(listed("bad.example.org"), "-");
  EXPECT_EQ(listed("shared.example"), "shared.example@first");               // the first feed in config order
  EXPECT_EQ(listed("x.login.phish.example"), "login.phish.example@second");  // the most specific entry
  EXPECT_EQ(listed("www.phish.example"), "phish.example@first");
  EXPECT_EQ(listed("evil.example"), "evil.example@second");
  EXPECT_EQ(listed("ok.evil.example"), "-");  // an exception covers it and what is under it
  EXPECT_EQ(listed("a.ok.evil.example"), "-");
  EXPECT_EQ(listed("1.2.3.4"), "1.2.3.4@first");
  EXPECT_EQ(listed("9.1.2.3.4"), "-");
}

TEST(FeedSet, ExceptionsApplyAcrossFeedFiles) {
  const auto feeds = FeedSet::build({
      {FeedSpec{"vendor", "/v", FeedFormat::kDomains}, parse_feed("cdn.example\n", FeedFormat::kDomains)},
      {FeedSpec{"local-allow", "/a", FeedFormat::kAdblock}, parse_feed("@@||cdn.example^\n", FeedFormat::kAdblock)},
  });
  EXPECT_FALSE(feeds->match("cdn.example").has_value());
}

TEST(FeedSet, LoadNamesAMissingFile) {
  const auto r = FeedSet::load({{"gone", ::testing::TempDir() + "no-such-feed.txt", FeedFormat::kAuto}});
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_NE(r.status().message().find("'gone'"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("no-such-feed.txt"), std::string::npos) << r.status().message();
}

TEST(BlocklistRecord, KeyIsTheDomainValueTheFeedTombstoneRemoves) {
  auto plain = parse_blocklist_record(std::string("Login.Bad.Example"), std::string("police-tips\n"));
  ASSERT_TRUE(plain.is_ok()) << plain.status().to_string();
  EXPECT_EQ(plain.value().domain, "login.bad.example");
  EXPECT_EQ(plain.value().feed, "police-tips");
  EXPECT_FALSE(plain.value().remove);

  auto json = parse_blocklist_record(std::string("bad.example"),
                                     std::string(R"({"feed":"tips","reason":"reported by 3 citizens","extra":[1]})"));
  ASSERT_TRUE(json.is_ok()) << json.status().to_string();
  EXPECT_EQ(json.value().feed, "tips");
  EXPECT_EQ(json.value().reason, "reported by 3 citizens");

  auto tombstone = parse_blocklist_record(std::string("bad.example"), std::nullopt);
  ASSERT_TRUE(tombstone.is_ok());
  EXPECT_TRUE(tombstone.value().remove);

  for (const auto& [key, value] : std::vector<std::pair<std::optional<std::string>, std::optional<std::string>>>{
           {std::nullopt, "f"},
           {"not a domain", "f"},
           {"github.io", "f"},
           {"bad.example", ""},
           {"bad.example", "{\"reason\":\"no feed\"}"},
           {"bad.example", "{\"feed\":42}"},
           {"bad.example", "{\"feed\":\"f\"} trailing"},
           {"bad.example", "{not json"},
           {"bad.example", "line\nbreak"},
           {"bad.example", std::string(65, 'x')},
       }) {
    EXPECT_FALSE(parse_blocklist_record(key, value).is_ok()) << key.value_or("<none>") << " " << value.value_or("");
  }
}

TEST(Blocklist, TopicEntriesComeFirstAndTombstonesRemoveThem) {
  Blocklist b;
  b.set_files(two_feeds());
  auto update = [](std::string domain, std::string feed, std::string reason = "") {
    return BlocklistUpdate{std::move(domain), false, std::move(feed), std::move(reason)};
  };
  EXPECT_EQ(b.match("bad.example")->feed, "first");
  EXPECT_TRUE(b.apply(update("bad.example", "tips", "seen in SMS")));
  EXPECT_FALSE(b.apply(update("bad.example", "tips", "seen in SMS")));  // no change
  EXPECT_TRUE(b.apply(update("new.example", "tips")));
  EXPECT_EQ(b.match("www.bad.example")->feed, "tips");
  EXPECT_EQ(b.match("www.bad.example")->reason, "seen in SMS");
  EXPECT_EQ(b.match("new.example")->domain, "new.example");
  EXPECT_EQ(b.topic_feeds(), (std::map<std::string, std::size_t>{{"tips", 2}}));
  EXPECT_TRUE(b.apply(update("new.example", "other")));
  EXPECT_EQ(b.topic_feeds(), (std::map<std::string, std::size_t>{{"other", 1}, {"tips", 1}}));

  EXPECT_TRUE(b.apply(BlocklistUpdate{"bad.example", true, "", ""}));
  EXPECT_FALSE(b.apply(BlocklistUpdate{"bad.example", true, "", ""}));
  EXPECT_EQ(b.match("bad.example")->feed, "first");  // the file still lists it
  EXPECT_TRUE(b.apply(BlocklistUpdate{"new.example", true, "", ""}));
  EXPECT_FALSE(b.match("new.example").has_value());
  EXPECT_EQ(b.topic_feeds(), (std::map<std::string, std::size_t>{}));
  EXPECT_EQ(b.topic_size(), 0u);
}

TEST(Blocklist, OfficialBrandDomainsAreReportedForTheWarning) {
  const auto pack = test_support::core_pack();
  EXPECT_EQ(official_domain_of("ebanking.vietcombank.com.vn", *pack), "vietcombank.com.vn");
  EXPECT_EQ(official_domain_of("vietcombank.com.vn.evil.top", *pack), "");
  EXPECT_EQ(listed_official({"bad.example", "sites.google.com", "momo.vn"}, *pack),
            (Strings{"sites.google.com (google)", "momo.vn (momo)"}));
}

TEST(FeedWatcher, ReloadsOnChangeAndKeepsTheOldSetWhenAFileGoesMissing) {
  const std::string path = ::testing::TempDir() + "vigil_feed_watch.txt";
  std::ofstream(path) << "one.example\n";
  FeedWatcher watcher({{"w", path, FeedFormat::kDomains}}, 1ms);
  std::this_thread::sleep_for(5ms);
  EXPECT_EQ(watcher.poll().feeds, nullptr);

  std::ofstream(path + ".tmp") << "one.example\ntwo.example\n";
  std::filesystem::rename(path + ".tmp", path);
  std::this_thread::sleep_for(5ms);
  auto changed = watcher.poll();
  ASSERT_NE(changed.feeds, nullptr) << changed.error.to_string();
  EXPECT_EQ(changed.feeds->feeds()[0].entries, 2u);

  std::filesystem::remove(path);
  std::this_thread::sleep_for(5ms);
  auto gone = watcher.poll();
  EXPECT_EQ(gone.feeds, nullptr);
  EXPECT_EQ(gone.error.code(), Code::kNotFound);
  std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(watcher.poll().error.is_ok());  // reported once

  std::ofstream(path) << "three.example\n";
  watcher.request();  // SIGHUP
  auto back = watcher.poll();
  ASSERT_NE(back.feeds, nullptr);
  EXPECT_TRUE(back.feeds->match("three.example").has_value());
}

}  // namespace
}  // namespace vigil::detect
