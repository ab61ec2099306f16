#include "common/detect/phrase_matcher.h"

#include <gtest/gtest.h>

namespace vigil::detect {
namespace {

using Matches = std::vector<std::tuple<std::uint32_t, std::size_t, std::size_t>>;

Matches scan(const std::vector<std::string>& phrases, std::string_view text, const std::vector<bool>& regex = {}) {
  auto m = PhraseMatcher::compile(phrases, regex);
  EXPECT_TRUE(m.is_ok()) << m.status().to_string();
  PhraseMatcher::Scratch scratch(*m.value());
  std::vector<PhraseMatcher::Match> out;
  EXPECT_TRUE(m.value()->scan(text, scratch, out).is_ok());
  Matches result;
  for (const auto& x : out) result.emplace_back(x.phrase, x.begin, x.end);
  return result;
}

TEST(PhraseMatcher, WholeWordsOnlyInReadingOrder) {
  EXPECT_EQ(scan({"ib", "ban data", "data"}, "ban data, ib ngay; tribe ibx data"),
            (Matches{{1, 0, 8}, {2, 4, 8}, {0, 10, 12}, {2, 29, 33}}));
}

TEST(PhraseMatcher, EveryOccurrenceAndOverlaps) {
  EXPECT_EQ(scan({"a b", "b c"}, "a b c a b"), (Matches{{0, 0, 3}, {1, 2, 5}, {0, 6, 9}}));
}

TEST(PhraseMatcher, PunctuationIsLiteralNotRegex) {
  EXPECT_EQ(scan({"1.500k", "(vip)", "a+b"}, "gia 1x500k (vip) a+b aab"), (Matches{{1, 11, 16}, {2, 17, 20}}));
}

TEST(PhraseMatcher, NonAsciiLettersAreWordCharacters) {
  // Folded text keeps letters of other scripts; "data" inside "dataш" is not a whole word.
  EXPECT_EQ(scan({"data"}, "data\xd1\x88 data"), (Matches{{0, 7, 11}}));
}

TEST(PhraseMatcher, PatternsGiveTheirLeftmostStartAmongLiterals) {
  // Patterns are found without start tracking first, then located by a second scan: the
  // spans must be the same as a single scan with start tracking would give, including a
  // match at offset 0 and one that is not a whole word.
  const std::vector<std::string> phrases = {"data", "[0-9]+ ?k ?/ ?so", "so"};
  const std::vector<bool> regex = {false, true, false};
  EXPECT_EQ(scan(phrases, "500k/so data, ban 2 k / so; x12k/so", regex),
            (Matches{{1, 0, 7}, {2, 5, 7}, {0, 8, 12}, {1, 18, 26}, {2, 24, 26}, {2, 33, 35}}));
  EXPECT_EQ(scan(phrases, "data data", regex), (Matches{{0, 0, 4}, {0, 5, 9}}));
}

TEST(PhraseMatcher, PatternsRescannedInWindowsOrWhole) {
  // A pattern of bounded width is located in the window that can hold a match ending where
  // the first scan saw one (clipped at the start of the text); one of unbounded width over
  // the whole text. Every end gets its leftmost start; several ends of one pattern each.
  const std::vector<std::string> phrases = {"gia [0-9]{1,4}k?", "so ([a-z]+ )*data", "x"};
  const std::vector<bool> regex = {true, true, false};
  EXPECT_EQ(scan(phrases, "gia 45k x gia 7 so mot hai ba data", regex),
            (Matches{{0, 0, 7}, {2, 8, 9}, {0, 10, 15}, {1, 16, 34}}));
  EXPECT_EQ(scan(phrases, "gia 1234", regex), (Matches{{0, 0, 8}}));
  EXPECT_EQ(scan(phrases, "x gia 1234k", regex), (Matches{{2, 0, 1}, {0, 2, 11}}));  // as wide as it gets
  EXPECT_EQ(scan(phrases, std::string(300, 'a') + " so " + std::string(200, 'b') + " data", regex),
            (Matches{{1, 301, 509}}));
}

TEST(PhraseMatcher, SharedPhrasesMatchForEachOfThem) {
  // Rules that share a phrase are scanned for it once; each still gets its match.
  EXPECT_EQ(scan({"cong an", "data", "cong an", "an"}, "xx cong an data cong an"),
            (Matches{{0, 3, 10}, {2, 3, 10}, {3, 8, 10}, {1, 11, 15}, {0, 16, 23}, {2, 16, 23}, {3, 21, 23}}));
  EXPECT_EQ(scan({"so", "[0-9]+ so", "so"}, "5 so", {false, true, false}), (Matches{{1, 0, 4}, {0, 2, 4}, {2, 2, 4}}));
}

TEST(PhraseMatcher, EmptySetMatchesNothing) {
  EXPECT_TRUE(scan({}, "anything").empty());
}

}  // namespace
}  // namespace vigil::detect
