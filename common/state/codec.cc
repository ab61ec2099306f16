#include "common/state/codec.h"

namespace vigil::state {

Encoder& Encoder::varint(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
  return *this;
}

Encoder& Encoder::signed_varint(std::int64_t v) {
  return varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
}

Encoder& Encoder::fixed64(std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return *this;
}

Encoder& Encoder::bytes(std::string_view b) {
  varint(b.size());
  out_.append(b);
  return *this;
}

bool Decoder::varint(std::uint64_t& v) {
  if (!ok_) return false;
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= in_.size()) return fail();
    const auto byte = static_cast<unsigned char>(in_[pos_++]);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return fail();  // more than 10 bytes: not something Encoder wrote
}

bool Decoder::signed_varint(std::int64_t& v) {
  std::uint64_t u = 0;
  if (!varint(u)) return false;
  v = static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

bool Decoder::fixed64(std::uint64_t& v) {
  if (!ok_ || in_.size() - pos_ < 8) return fail();
  v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
  pos_ += 8;
  return true;
}

bool Decoder::bytes(std::string_view& b) {
  std::uint64_t n = 0;
  if (!varint(n)) return false;
  if (n > in_.size() - pos_) return fail();
  b = in_.substr(pos_, n);
  pos_ += n;
  return true;
}

}  // namespace vigil::state
