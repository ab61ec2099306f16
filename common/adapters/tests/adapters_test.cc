#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "common/adapters/adapter.h"
#include "common/adapters/bracket_count.h"

namespace vigil {
namespace {

struct Parsed {
  ParseStatus status;
  Event event;
};

Parsed parse(std::string_view adapter, std::string_view payload, AdapterLimits limits = {}) {
  auto a = make_adapter(adapter, limits);
  EXPECT_NE(a, nullptr);
  Parsed p;
  p.event.source.record_timestamp = 42;
  p.status = a->parse(payload, p.event);
  return p;
}

TEST(Telegram, MessageWithHiddenTextLink) {
  const auto p = parse("telegram", R"({"update_id":7,"message":{"message_id":1042,
    "from":{"id":5012345612,"is_bot":false,"username":"seller"},
    "chat":{"id":-1001234567890,"type":"supergroup","title":"Chợ data","username":"chodata"},
    "date":1711930340,"text":"Bấm vào đây để nhận quà","unknown":{"x":[1,2]},
    "entities":[{"type":"text_link","offset":0,"length":3,"url":"https://vietcombamk.com.vn/qua"}]}})");
  ASSERT_TRUE(p.status.is_ok()) << p.status.detail;
  EXPECT_EQ(p.event.event_id, "telegram:-1001234567890:1042");
  EXPECT_EQ(p.event.author, "telegram:5012345612");
  EXPECT_EQ(p.event.kind, "message");
  EXPECT_EQ(p.event.event_time, 1711930340000);
  EXPECT_EQ(p.event.permalink, "https://t.me/chodata/1042");
  EXPECT_EQ(p.event.text, "Bấm vào đây để nhận quà");
  ASSERT_EQ(p.event.urls.size(), 1u);
  EXPECT_EQ(p.event.urls[0], "https://vietcombamk.com.vn/qua");
}

TEST(Telegram, EntityOffsetsAreUtf16WithEmojiAndVietnamese) {
  // "🔥" is two UTF-16 units (4 UTF-8 bytes); "Liên hệ" has 2-byte and 3-byte characters.
  const std::string text = "🔥 Liên hệ @kho_data_vip 0912 345 678 mail a@b.vn xem t.me/x1234";
  // UTF-16 offsets: 🔥=0..2, space=2, "Liên hệ "=3..11, "@kho_data_vip"=11..24,
  // " "=24, "0912 345 678"=25..37, " mail "=37..43, "a@b.vn"=43..49, " xem "=49..54, "t.me/x1234"=54..64
  const std::string payload =
      R"({"update_id":1,"message":{"message_id":2,"chat":{"id":3},"date":1,"text":")" + text +
      R"(","entities":[{"type":"mention","offset":11,"length":13},)"
      R"({"type":"phone_number","offset":25,"length":12},{"type":"email","offset":43,"length":6},)"
      R"({"type":"url","offset":54,"length":10},{"type":"bold","offset":0,"length":2},)"
      R"({"type":"mention","offset":60,"length":99}]}})";
  const auto p = parse("telegram", payload);
  ASSERT_TRUE(p.status.is_ok()) << p.status.detail;
  EXPECT_EQ(p.event.handles, std::vector<std::string>{"@kho_data_vip"});
  EXPECT_EQ(p.event.phones, std::vector<std::string>{"0912 345 678"});
  EXPECT_EQ(p.event.emails, std::vector<std::string>{"a@b.vn"});
  EXPECT_EQ(p.event.urls, std::vector<std::string>{"t.me/x1234"});
}

TEST(Telegram, ChannelPostCaptionAndSkippedUpdates) {
  const auto p = parse("telegram", R"({"update_id":8,"channel_post":{"message_id":5,"sender_chat":{"id":-100777},
    "chat":{"id":-100777,"type":"channel"},"date":1711930340,"caption":"ảnh CCCD"}})");
  ASSERT_TRUE(p.status.is_ok()) << p.status.detail;
  EXPECT_EQ(p.event.kind, "post");
  EXPECT_EQ(p.event.author, "telegram:-100777");
  EXPECT_EQ(p.event.text, "ảnh CCCD");
  EXPECT_EQ(parse("telegram", R"({"update_id":9,"callback_query":{"id":"1"}})").status.kind, ParseStatus::Kind::kSkip);
}

TEST(Telegram, MissingAndWrongFields) {
  auto p = parse("telegram", R"({"update_id":1,"message":{"message_id":1,"date":1,"text":"x"}})");
  EXPECT_EQ(p.status.reason, "missing_field");
  EXPECT_NE(p.status.detail.find("message.chat.id"), std::string::npos) << p.status.detail;
  p = parse("telegram", R"({"update_id":1,"message":{"message_id":1,"chat":{"id":1},"date":1,"text":5}})");
  EXPECT_EQ(p.status.reason, "wrong_type");
  EXPECT_NE(p.status.detail.find("message.text"), std::string::npos) << p.status.detail;
}

TEST(Facebook, PostWithAttachmentAndTime) {
  const auto p =
      parse("facebook", R"({"id":"1234_5678","message":"Bán data khách hàng","from":{"id":"100042","name":"A"},
    "created_time":"2024-03-05T10:00:00+0000","permalink_url":"https://www.facebook.com/1234/posts/5678",
    "attachments":{"data":[{"type":"share","url":"https://momo-vn.top/nap"}]}})");
  ASSERT_TRUE(p.status.is_ok()) << p.status.detail;
  EXPECT_EQ(p.event.event_id, "facebook:1234_5678");
  EXPECT_EQ(p.event.kind, "post");
  EXPECT_EQ(p.event.channel, "facebook:1234");
  EXPECT_EQ(p.event.event_time, 1709632800000);
  EXPECT_EQ(p.event.urls, std::vector<std::string>{"https://momo-vn.top/nap"});
  EXPECT_EQ(parse("facebook", R"({"id":"1","created_time":"yesterday"})").status.reason, "wrong_type");
  EXPECT_EQ(parse("facebook", R"({"message":"x","created_time":"2024-03-05T10:00:00+0000"})").status.reason,
            "missing_field");
}

TEST(Facebook, LinkShimTargetIsReadToo) {
  // Only the shim: its percent-encoded target is a link of the post as well.
  auto p = parse("facebook", R"({"id":"1_2","message":"x","created_time":"2024-03-05T10:00:00+0000",
    "attachments":{"data":[{"type":"share",
      "url":"https://l.facebook.com/l.php?u=https%3A%2F%2Ftechcornbank-ebanking.com%2Fnang-han-muc&h=AT0x"}]}})");
  ASSERT_TRUE(p.status.is_ok()) << p.status.detail;
  EXPECT_EQ(p.event.urls,
            (std::vector<std::string>{
                "https://l.facebook.com/l.php?u=https%3A%2F%2Ftechcornbank-ebanking.com%2Fnang-han-muc&h=AT0x",
                "https://techcornbank-ebanking.com/nang-han-muc"}));
  // With unshimmed_url the target is listed once; other facebook.com links are left alone.
  p = parse("facebook", R"({"id":"1_2","message":"x","created_time":"2024-03-05T10:00:00+0000",
    "attachments":{"data":[{"type":"share","url":"https://lm.facebook.com/l.php?h=AT1&u=https%3A%2F%2Fmomo-quatang.shop%2Fsukien",
      "unshimmed_url":"https://momo-quatang.shop/sukien"},
      {"type":"share","url":"https://www.facebook.com/1234/posts/5678?u=https%3A%2F%2Fx.com"}]}})");
  ASSERT_TRUE(p.status.is_ok()) << p.status.detail;
  EXPECT_EQ(p.event.urls,
            (std::vector<std::string>{"https://lm.facebook.com/l.php?h=AT1&u=https%3A%2F%2Fmomo-quatang.shop%2Fsukien",
                                      "https://momo-quatang.shop/sukien",
                                      "https://www.facebook.com/1234/posts/5678?u=https%3A%2F%2Fx.com"}));
}

TEST(TikTok, VideoAndComment) {
  auto p = parse("tiktok", R"({"id":7300000000000000001,"video_description":"data zalo","create_time":1711930340,
    "username":"ban.data","share_url":"https://www.tiktok.com/@ban.data/video/7300000000000000001"})");
  ASSERT_TRUE(p.status.is_ok()) << p.status.detail;
  EXPECT_EQ(p.event.event_id, "tiktok:7300000000000000001");
  EXPECT_EQ(p.event.kind, "post");
  EXPECT_EQ(p.event.author, "tiktok:ban.data");
  p = parse("tiktok", R"({"id":"c1","text":"ib","create_time":"1711930340","video_id":"v9","username":"u"})");
  ASSERT_TRUE(p.status.is_ok()) << p.status.detail;
  EXPECT_EQ(p.event.kind, "comment");
  EXPECT_EQ(p.event.event_time, 1711930340000);
}

TEST(Zalo, TextEventAndNonMessageEvent) {
  auto p = parse("zalo", R"({"app_id":"1","event_name":"user_send_text","sender":{"id":"246"},"recipient":{"id":"579"},
    "message":{"msg_id":"m1","text":"cần mua data"},"timestamp":"1711929600000"})");
  ASSERT_TRUE(p.status.is_ok()) << p.status.detail;
  EXPECT_EQ(p.event.event_id, "zalo:m1");
  EXPECT_EQ(p.event.event_time, 1711929600000);
  EXPECT_EQ(p.event.channel, "zalo:579");
  EXPECT_EQ(parse("zalo", R"({"event_name":"follow","follower":{"id":"1"},"timestamp":"1"})").status.kind,
            ParseStatus::Kind::kSkip);
  EXPECT_EQ(parse("zalo",
                  R"({"event_name":"user_send_text","sender":{"id":"1"},"message":{"msg_id":"m"},"timestamp":"soon"})")
                .status.reason,
            "wrong_type");
}

TEST(Report, TargetsBecomeStructuredEntities) {
  auto p = parse("report", R"({"report_id":"r-1","received_at":"2024-04-01T08:00:00+07:00","channel":"hotline",
    "reporter_id":"cit_9f2","target":{"kind":"url","value":"https://vcb-xacthuc.com/login"},
    "category_hint":"fraud_link","description":"Tin nhắn giả mạo ngân hàng"})");
  ASSERT_TRUE(p.status.is_ok()) << p.status.detail;
  EXPECT_EQ(p.event.kind, "report");
  EXPECT_EQ(p.event.urls, std::vector<std::string>{"https://vcb-xacthuc.com/login"});
  EXPECT_EQ(p.event.event_time, 1711933200000);
  p = parse("report",
            R"({"report_id":"r-2","received_at":"2024-04-01T08:00:00Z","target":{"kind":"planet","value":"x"}})");
  EXPECT_EQ(p.status.reason, "wrong_type");
}

TEST(Canonical, RoundTripsFieldsAndFallsBackToRecordTime) {
  auto p =
      parse("canonical",
            R"({"event_id":"x:1","platform":"forum","text":"t","event_time":1700000000000,"urls":["https://a.vn/"]})");
  ASSERT_TRUE(p.status.is_ok()) << p.status.detail;
  EXPECT_EQ(p.event.event_time, 1700000000000);
  EXPECT_EQ(p.event.kind, "post");
  EXPECT_EQ(parse("canonical", R"({"event_id":"x:1","platform":"forum","text":"t"})").status.reason, "missing_field");
  // Platforms without a time in the payload use the record timestamp.
  p = parse(
      "zalo",
      R"({"event_name":"user_send_text","sender":{"id":"1"},"message":{"msg_id":"m","text":"a"},"timestamp":"5"})");
  EXPECT_EQ(p.event.event_time, 5);
}

TEST(Malformed, PreciseReasons) {
  EXPECT_EQ(parse("telegram", "{\"update_id\":1,").status.reason, "invalid_json");
  EXPECT_EQ(parse("telegram", "[1,2]").status.reason, "wrong_type");
  EXPECT_EQ(parse("telegram", "not json").status.reason, "invalid_json");
  EXPECT_EQ(parse("facebook", "{\"id\":\"1\",\"message\":\"\xff\xfe\",\"created_time\":\"2024-03-05T10:00:00Z\"}")
                .status.reason,
            "invalid_utf8");
  EXPECT_EQ(parse("facebook", std::string(100, ' ') + "{}", AdapterLimits{50, 64}).status.reason, "too_large");
  EXPECT_EQ(parse("facebook", std::string(100, '[') + std::string(100, ']'), AdapterLimits{1 << 20, 64}).status.reason,
            "too_deep");
  // Depth is counted outside strings, with '{' and '[' mixed, at every offset of the 64-byte
  // blocks the bracket count reads: exactly the limit passes, one more level fails.
  for (std::size_t pad = 0; pad < 130; ++pad) {
    std::string at_limit = std::string(pad % 65, ' ') + "{\"a\":";
    for (int d = 1; d < 4; ++d) at_limit += d % 2 != 0 ? "[" : "{\"b\":";
    at_limit += pad < 65 ? "1" : "\"[[[[{{{{\"";
    for (int d = 3; d >= 1; --d) at_limit += d % 2 != 0 ? "]" : "}";
    at_limit += "}";
    EXPECT_NE(parse("facebook", at_limit, AdapterLimits{1 << 20, 4}).status.reason, "too_deep") << at_limit;
    EXPECT_EQ(parse("facebook", at_limit, AdapterLimits{1 << 20, 3}).status.reason, "too_deep") << at_limit;
  }
  // Long documents: the count is summed every 255 blocks; one bracket short would let a
  // document one level too deep through unwalked.
  for (std::size_t spacing : {0u, 5u, 15u, 16u, 17u, 40u}) {
    const std::size_t levels = 300;
    std::string deep;
    for (std::size_t d = 0; d < levels; ++d) deep += "[" + std::string(spacing, ' ');
    deep += "1" + std::string(levels, ']');
    EXPECT_EQ(parse("facebook", deep, AdapterLimits{1 << 20, levels - 1}).status.reason, "too_deep") << spacing;
    EXPECT_NE(parse("facebook", deep, AdapterLimits{1 << 20, levels}).status.reason, "too_deep") << spacing;
  }
  EXPECT_EQ(make_adapter("myspace"), nullptr);
  // Found by the fuzzer: a huge create_time overflowed when scaled to milliseconds.
  EXPECT_EQ(parse("tiktok", R"({"id":"1","create_time":"3676500000000000001"})").status.reason, "wrong_type");
  EXPECT_EQ(
      parse("zalo", R"({"event_name":"e","sender":{"id":"1"},"message":{"msg_id":"m"},"timestamp":-5})").status.reason,
      "wrong_type");
}

// The record's first read counts its opening brackets while copying it (AVX-512) or on its own
// (16 bytes at a time): both agree with a plain count, and the copy is exact, at every length
// around the blocks' ends and past the 255 blocks the 16-byte count sums at once.
TEST(BracketCount, BothFormsAgreeWithAPlainCount) {
  std::mt19937 rng(5);
  const std::string bytes = "{[}]\"\\a 0\xc3\xa1";
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 300; ++n) lengths.push_back(n);
  for (std::size_t n : {4079u, 4080u, 4081u, 9000u}) lengths.push_back(n);
  for (const std::size_t n : lengths) {
    for (int rep = 0; rep < 10; ++rep) {
      std::string json;
      for (std::size_t k = 0; k < n; ++k) json += bytes[rng() % bytes.size()];
      const auto plain = static_cast<std::size_t>(std::count(json.begin(), json.end(), '{') +
                                                  std::count(json.begin(), json.end(), '['));
      EXPECT_EQ(adapters::detail::count_opening(json), plain) << n;
      if (!adapters::detail::copy_counting_supported()) continue;
      std::string out(n + 64, '\x55');
      EXPECT_EQ(adapters::detail::copy_counting_opening(json, out.data()), plain) << n;
      EXPECT_EQ(out.substr(0, n), json) << n;
    }
  }
}

TEST(Event, ClearedListEntriesLendTheirBuffersToTheNextRecord) {
  Event e;
  e.append(e.urls, "https://example-login.top/xac-thuc/tai-khoan");
  e.append(e.phones, "0912 345 678 (zalo, goi sau 9h)");
  const char* url_buffer = e.urls[0].data();
  e.clear();
  EXPECT_TRUE(e.urls.empty());
  EXPECT_TRUE(e.phones.empty());
  e.append(e.accounts, "facebook:100012345678901234");
  e.append(e.urls, "https://vietcombank-khuyenmai.xyz/otp");
  ASSERT_EQ(e.urls.size(), 1u);
  EXPECT_EQ(e.urls[0], "https://vietcombank-khuyenmai.xyz/otp");
  EXPECT_EQ(e.accounts[0], "facebook:100012345678901234");
  // Both came from the spare buffers (the last one cleared is lent first).
  EXPECT_TRUE(e.accounts[0].data() == url_buffer || e.urls[0].data() == url_buffer);
}

// Keys are read in place unless they have an escape; escaped keys are still recognised.
TEST(Keys, EscapedKeysAreUnescaped) {
  const auto p =
      parse("canonical", R"({"event_id":"x","platf\u006frm":"p","te\u0078t":"xin chào","a\"b":1,"event_time":1})");
  ASSERT_TRUE(p.status.is_ok()) << p.status.detail;
  EXPECT_EQ(p.event.platform, "p");
  EXPECT_EQ(p.event.text, "xin chào");
}

TEST(Normalisation, TextIsNfc) {
  const auto p = parse("canonical",
                       "{\"event_id\":\"x\",\"platform\":\"p\",\"text\":\"nh\x65\xcc\x82\xcc\x81n\",\"event_time\":1}");
  ASSERT_TRUE(p.status.is_ok());
  EXPECT_EQ(p.event.text, "nhến");
}

}  // namespace
}  // namespace vigil
