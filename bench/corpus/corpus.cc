#include "bench/corpus/corpus.h"

#include <array>
#include <map>
#include <random>

#include "common/core/json_writer.h"
#include "common/core/time.h"

namespace vigil::bench {
namespace {

constexpr std::array<std::string_view, 16> kNeutral = {
    "Hôm nay trời Hà Nội mưa to, các bạn đi đường cẩn thận nhé. ",
    "Quán phở đầu ngõ mới mở, nước dùng ngọt thanh, giá chỉ 45k một bát. ",
    "Cả nhà ơi cho mình hỏi lịch tiêm chủng tháng này ở phường mình là ngày nào vậy? ",
    "Đội tuyển Việt Nam thắng 2-0 tối qua, cảm ơn các cầu thủ đã chiến đấu hết mình!!! ",
    "Cần tuyển nhân viên bán hàng part-time, lương 25k/giờ, liên hệ trực tiếp tại cửa hàng. ",
    "Chia sẻ kinh nghiệm ôn thi THPT quốc gia môn Toán: làm đề đều đặn mỗi ngày. ",
    "Khuyến mãi gói cước data 4G: 120GB chỉ 90k/tháng, đăng ký ngay tại cửa hàng. ",
    "Công an phường khuyến cáo người dân cảnh giác với các cuộc gọi giả danh cơ quan chức năng. ",
    "Thanh lý tủ lạnh cũ còn dùng tốt, giá 1.500.000đ, ai cần inbox mình nhé. ",
    "Review phim mới ra rạp: kịch bản hay, diễn viên đóng tốt, nên xem. 😍😍 ",
    "Báo cáo tài chính quý 3 cho thấy doanh thu tăng 12% so với cùng kỳ năm ngoái. ",
    "Ngày 12/03/2024 trường tổ chức họp phụ huynh lúc 8h sáng tại hội trường. ",
    "Mình ko biết đường đến bệnh viện, ai chỉ giúp với, cảm ơn nhiều ạ. ",
    "Tin nhanh: Công an TP triệt phá đường dây mua bán dữ liệu cá nhân, khởi tố 5 đối tượng. ",
    "Ae nào có kinh nghiệm sửa xe máy ở quận 7 không, xe mình bị chết máy hoài. ",
    "Đọc thêm tại https://vnexpress.net/thoi-su hoặc tuoitre.vn để cập nhật tin tức. ",
};

constexpr std::array<std::string_view, 8> kOffers = {
    "🔥 Bán DATA khách hàng mới 2024: data chủ xe, data bảo hiểm, lọc theo khu vực, giá rẻ, bảo hành 1 đổi 1. ",
    "Cần bán ảnh CCCD 2 mặt + data căn cước số lượng lớn, ib để có giá. Mẫu: CCCD 079203001234. ",
    "Cung cấp d.a.t.a khách hàng bất động sản, data mới cập nhật liên tục. Zalo 0912.345.678. ",
    "Thu mua data sinh viên các trường ĐH khu vực HN, trả giá cao, inbox ngay. ",
    "B@n d4t4 kh4ch h4ng ngân hàng, tele @kho_data_vip, STK nhận cọc: 0071000123456 Vietcombank. ",
    "Bán tệp khách hàng Shopee, Lazada 50k số, lh sđt 0987 654 321 hoặc t.me/data_sales_vn. ",
    "Chuyển nhượng data bệnh nhân, data phụ huynh các trường mầm non, giá rẻ bất ngờ. ",
    "Bán list số điện thoại theo tỉnh, data sạch 100%, liên hệ zalo.me/0356123456. ",
};

constexpr std::array<std::string_view, 8> kLures = {
    "Tài khoản của quý khách đang bị tạm khóa. Xác thực tại vietcombamk.com.vn/xac-thuc trong 24h. ",
    "Nhận quà tri ân khách hàng tại https://momo247.top/nhan-qua, số lượng có hạn! ",
    "Cập nhật sinh trắc học ngay tại hxxps://vcb-xacthuc[.]com/login để tránh bị khóa. ",
    "Chúc mừng bạn trúng thưởng iPhone 15, nhận thưởng tại bidv-khuyenmai.com nhé. ",
    "Hoàn tiền 50% khi thanh toán qua zalopay-vn.top, áp dụng hôm nay. ",
    "Cổng dịch vụ công yêu cầu cập nhật thông tin tại dichvucong-gov.vn/cap-nhat. ",
    "Tài khoản bị khóa do vi phạm, xác minh tài khoản tại techcombank-online.xyz. ",
    "Nhận quà từ ngân hàng tại vietcombánk.vn/uu-dai ngay hôm nay. ",
};

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
