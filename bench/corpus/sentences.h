#pragma once

// The sentences the benchmark corpus (bench/corpus/corpus.cc) builds its post texts from.
// Header-only, so that tests built without bench/ (the sanitizer presets) can fold the same
// text the benchmarks measure.

#include <array>
#include <string_view>

namespace vigil::bench {

// Everyday posts: most of every text.
inline constexpr std::array<std::string_view, 16> kNeutral = {
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

// Personal-data offers, one at the start of half of the positive texts.
inline constexpr std::array<std::string_view, 8> kOffers = {
    "🔥 Bán DATA khách hàng mới 2024: data chủ xe, data bảo hiểm, lọc theo khu vực, giá rẻ, bảo hành 1 đổi 1. ",
    "Cần bán ảnh CCCD 2 mặt + data căn cước số lượng lớn, ib để có giá. Mẫu: CCCD 079203001234. ",
    "Cung cấp d.a.t.a khách hàng bất động sản, data mới cập nhật liên tục. Zalo 0912.345.678. ",
    "Thu mua data sinh viên các trường ĐH khu vực HN, trả giá cao, inbox ngay. ",
    "B@n d4t4 kh4ch h4ng ngân hàng, tele @kho_data_vip, STK nhận cọc: 0071000123456 Vietcombank. ",
    "Bán tệp khách hàng Shopee, Lazada 50k số, lh sđt 0987 654 321 hoặc t.me/data_sales_vn. ",
    "Chuyển nhượng data bệnh nhân, data phụ huynh các trường mầm non, giá rẻ bất ngờ. ",
    "Bán list số điện thoại theo tỉnh, data sạch 100%, liên hệ zalo.me/0356123456. ",
};

// Fraud-link lures, one at the start of the other half.
inline constexpr std::array<std::string_view, 8> kLures = {
    "Tài khoản của quý khách đang bị tạm khóa. Xác thực tại vietcombamk.com.vn/xac-thuc trong 24h. ",
    "Nhận quà tri ân khách hàng tại https://momo247.top/nhan-qua, số lượng có hạn! ",
    "Cập nhật sinh trắc học ngay tại hxxps://vcb-xacthuc[.]com/login để tránh bị khóa. ",
    "Chúc mừng bạn trúng thưởng iPhone 15, nhận thưởng tại bidv-khuyenmai.com nhé. ",
    "Hoàn tiền 50% khi thanh toán qua zalopay-vn.top, áp dụng hôm nay. ",
    "Cổng dịch vụ công yêu cầu cập nhật thông tin tại dichvucong-gov.vn/cap-nhat. ",
    "Tài khoản bị khóa do vi phạm, xác minh tài khoản tại techcombank-online.xyz. ",
    "Nhận quà từ ngân hàng tại vietcombánk.vn/uu-dai ngay hôm nay. ",
};

}  // namespace vigil::bench
