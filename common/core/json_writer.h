#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

// Appends compact JSON to a caller-owned string, so a hot path can reuse one buffer.
// The writer tracks only whether a comma is due; callers nest begin/end correctly
// (tests and the flag JSON Schema check the shape).
// Lifecycle: construct over a buffer, write, drop. Not thread-safe.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view v);
  JsonWriter& value(const char* v) { return value(std::string_view(v)); }
  JsonWriter& value(std::int64_t v);
  JsonWriter& value(int v) { return value(static_cast<std::int64_t>(v)); }
  JsonWriter& value(bool v);
  JsonWriter& null();
  // Inserts already-serialised JSON as one value.
  JsonWriter& raw(std::string_view json);

  template <typename T>
  JsonWriter& field(std::string_view k, T&& v) {
    key(k);
    return value(std::forward<T>(v));
  }

 private:
  void comma();
  std::string& out_;
  bool need_comma_ = false;
};

// Appends `s` as a JSON string literal. Bytes that are not valid UTF-8 become U+FFFD, so the
// output is always valid JSON; callers needing the exact bytes check is_valid_utf8 first.
void append_json_string(std::string& out, std::string_view s);

bool is_valid_utf8(std::string_view s);

std::string base64_encode(std::string_view bytes);
// Returns false on characters outside the standard alphabet.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace vigil
