#include "bench/corpus/corpus.h"

#include <array>
#include <map>
#include <random>

#include "bench/corpus/sentences.h"
#include "common/core/json_writer.h"
#include "common/core/time.h"

namespace vigil::bench {
namespace {

class Generator {
 public:
  explicit Generator(const CorpusOptions& o) : options_(o), rng_(o.seed) {}

  std::string text(bool positive) {
    std::string out;
    const std::size_t target = uniform(options_.min_text_bytes, options_.max_text_bytes);
    if (positive) {
      out += pick_bool() ? kOffers[uniform(0, kOffers.size() - 1)] : kLures[uniform(0, kLures.size() - 1)];
    }
    while (out.size() < target) out += kNeutral[uniform(0, kNeutral.size() - 1)];
    return out;
  }

  std::size_t uniform(std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng_);
  }
  bool pick_bool() { return uniform(0, 1) == 1; }
  bool positive() { return std::uniform_real_distribution<double>(0, 1)(rng_) < options_.positive_share; }

 private:
  CorpusOptions options_;
  std::mt19937_64 rng_;
};

std::string facebook(Generator& g, std::size_t i, TimestampMs t, const std::string& text) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("id", "104857600_" + std::to_string(2233445566 + i)).field("message", text);
  w.key("from")
      .begin_object()
      .field("id", std::to_string(100089912345 + g.uniform(0, 5000)))
      .field("name", "Nguyễn Văn A")
      .end_object();
  w.field("created_time", format_iso8601(t).substr(0, 19) + "+0000");
  w.field("permalink_url", "https://www.facebook.com/104857600/posts/" + std::to_string(2233445566 + i));
  if (g.uniform(0, 3) == 0) {
    w.key("attachments").begin_object().key("data").begin_array();
    w.begin_object().field("type", "share").field("url", "https://shop.example.vn/p/" + std::to_string(i)).end_object();
    w.end_array().end_object();
  }
  w.key("reactions")
      .begin_object()
      .key("summary")
      .begin_object()
      .field("total_count", static_cast<std::int64_t>(g.uniform(0, 900)));
  w.end_object().end_object();
  w.end_object();
  return out;
}

std::string tiktok(Generator& g, std::size_t i, TimestampMs t, const std::string& text) {
  std::string out;
  JsonWriter w(out);
  const bool comment = g.pick_bool();
  w.begin_object().field("id", static_cast<std::int64_t>(7353000000000000000LL + static_cast<std::int64_t>(i)));
  w.field(comment ? "text" : "video_description", text).field("create_time", t / 1000);
  w.field("username", "user" + std::to_string(g.uniform(1, 20000)));
  if (comment) {
    w.field("video_id", std::to_string(7353000000000000001LL));
  } else {
    w.field("share_url", "https://www.tiktok.com/@u/video/" + std::to_string(i))
        .field("view_count", static_cast<std::int64_t>(g.uniform(0, 1000000)));
    w.key("hashtag_names").begin_array().value("data").value("viral").end_array();
  }
  w.end_object();
  return out;
}

std::string telegram(Generator& g, std::size_t i, TimestampMs t, const std::string& text) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("update_id", static_cast<std::int64_t>(900000 + i)).key("message").begin_object();
  w.field("message_id", static_cast<std::int64_t>(1000 + i));
  w.key("from")
      .begin_object()
      .field("id", static_cast<std::int64_t>(5012345612 + g.uniform(0, 999)))
      .field("is_bot", false);
  w.field("first_name", "Kho").field("username", "seller" + std::to_string(g.uniform(1, 999))).end_object();
  w.key("chat").begin_object().field("id", static_cast<std::int64_t>(-1001234567890)).field("type", "supergroup");
  w.field("title", "Chợ data 2024").field("username", "chodata2024").end_object();
  w.field("date", t / 1000).field("text", text);
  w.key("entities").begin_array();
  w.begin_object().field("type", "bold").field("offset", 0).field("length", 4).end_object();
  w.end_array();
  w.end_object().end_object();
  return out;
}

std::string zalo(Generator& g, std::size_t i, TimestampMs t, const std::string& text) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("app_id", "3581234").field("event_name", "user_send_text");
  w.key("sender").begin_object().field("id", std::to_string(2468013579 + g.uniform(0, 9999))).end_object();
  w.key("recipient").begin_object().field("id", "5790246813").end_object();
  w.key("message").begin_object().field("msg_id", "m" + std::to_string(i)).field("text", text).end_object();
  w.field("timestamp", std::to_string(t)).field("user_id_by_app", "55443322").end_object();
  return out;
}

std::string report(Generator& g, std::size_t i, TimestampMs t, const std::string& text) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("report_id", "tip-" + std::to_string(i)).field("received_at", format_iso8601(t));
  w.field("channel", g.pick_bool() ? "hotline" : "web")
      .field("reporter_id", "cit_" + std::to_string(g.uniform(1, 90000)));
  w.key("target").begin_object();
  if (g.pick_bool()) {
    w.field("kind", "url").field("value", "https://vcb-xacthuc.com/dang-nhap?ref=" + std::to_string(i));
  } else {
    w.field("kind", "phone").field("value", "0388 999 " + std::to_string(100 + g.uniform(0, 899)));
  }
  w.end_object().field("category_hint", "fraud_link").field("description", text).end_object();
  return out;
}

std::string canonical(Generator& g, std::size_t i, TimestampMs t, const std::string& text) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().field("event_id", "forum:voz:" + std::to_string(i)).field("platform", "forum").field("kind", "post");
  w.field("author", "forum:voz:user" + std::to_string(g.uniform(1, 50000))).field("text", text).field("event_time", t);
  w.field("permalink", "https://voz.vn/t/" + std::to_string(i)).key("urls").begin_array().end_array().end_object();
  return out;
}

}  // namespace

std::vector<io::Record> generate_corpus(const CorpusOptions& options) {
  using Builder = std::string (*)(Generator&, std::size_t, TimestampMs, const std::string&);
  static constexpr std::array<std::pair<std::string_view, Builder>, 6> kPlatforms = {{
      {"raw.facebook", facebook},
      {"raw.tiktok", tiktok},
      {"raw.telegram", telegram},
      {"raw.zalo", zalo},
      {"raw.reports", report},
      {"raw.canonical", canonical},
  }};
  Generator g(options);
  std::vector<io::Record> out;
  out.reserve(options.records);
  std::map<std::string_view, std::int64_t> offsets;
  TimestampMs t = 1711929600000;  // 2024-04-01T00:00:00Z
  for (std::size_t i = 0; i < options.records; ++i) {
    // Social posts dominate the feeds; citizen tips and canonical events are rarer.
    const std::size_t roll = g.uniform(0, 99);
    const std::size_t p = roll < 30 ? 0 : roll < 50 ? 1 : roll < 75 ? 2 : roll < 90 ? 3 : roll < 95 ? 4 : 5;
    t += static_cast<TimestampMs>(g.uniform(0, 2000));
    io::Record& r = out.emplace_back();
    r.topic = std::string(kPlatforms[p].first);
    r.partition = 0;
    r.offset = offsets[kPlatforms[p].first]++;
    r.timestamp = t;
    r.value = kPlatforms[p].second(g, i, t, g.text(g.positive()));
  }
  return out;
}

}  // namespace vigil::bench
