#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::state {

// The binary encoding of state values: LEB128 varints, little-endian fixed64 and
// length-prefixed bytes. Values written here are read back by other versions of Vigil after a
// restore from the changelog, so fields are only ever appended.
class Encoder {
 public:
  explicit Encoder(std::string& out) : out_(out) {}
  Encoder& varint(std::uint64_t v);
  Encoder& signed_varint(std::int64_t v);  // zig-zag
  Encoder& fixed64(std::uint64_t v);
  Encoder& bytes(std::string_view b);

 private:
  std::string& out_;
};

// Reads what Encoder wrote. Every read checks bounds: state comes from disk and from a Kafka
// topic, so a corrupt value must be an error, never a crash. After the first failure every
// read fails and ok() is false.
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool varint(std::uint64_t& v);
  bool signed_varint(std::int64_t& v);
  bool fixed64(std::uint64_t& v);
  bool bytes(std::string_view& b);
  bool at_end() const { return pos_ == in_.size(); }
  bool ok() const { return ok_; }
  std::string_view rest() const { return in_.substr(pos_); }

 private:
  bool fail() {
    ok_ = false;
    return false;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace vigil::state
