#include "common/io/envelope.h"

#include <simdjson.h>

#include "common/core/json_writer.h"

namespace vigil::io {
namespace {

namespace od = simdjson::ondemand;

void append_bytes_field(JsonWriter& w, std::string_view name, const std::optional<std::string>& bytes,
                        std::string_view encoding_name) {
  if (!bytes) {
    w.key(name).null();
  } else if (is_valid_utf8(*bytes)) {
    w.field(name, std::string_view(*bytes));
  } else {
    w.field(encoding_name, "base64").field(name, base64_encode(*bytes));
  }
}

std::string_view tstype_name(TimestampType t) {
  switch (t) {
    case TimestampType::kCreate: return "create";
    case TimestampType::kLogAppend: return "logappend";
    case TimestampType::kNone: return "none";
  }
  return "none";
}

Status bad(std::string what) {
  return invalid_argument("bad archive line: " + what);
}

Status read_optional_string(od::value v, std::optional<std::string>& out, std::string_view field) {
  bool is_null = false;
  if (v.is_null().get(is_null) != simdjson::SUCCESS) return bad(std::string(field) + " is not a string or null");
  if (is_null) {
    out.reset();
    return Status::ok();
  }
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return bad(std::string(field) + " is not a string or null");
  out.emplace(s);
  return Status::ok();
}

}  // namespace

void append_envelope(const Record& r, std::string& out) {
  JsonWriter w(out);
  w.begin_object();
  w.field("topic", r.topic).field("partition", static_cast<std::int64_t>(r.partition)).field("offset", r.offset);
  w.field("tstype", tstype_name(r.timestamp_type)).field("ts", r.timestamp);
  if (!r.headers.empty()) {
    w.key("headers").begin_array();
    for (const auto& h : r.headers) {
      w.value(h.key);
      if (h.value) {
        w.value(*h.value);
      } else {
        w.null();
      }
    }
    w.end_array();
  }
  append_bytes_field(w, "key", r.key, "key_encoding");
  append_bytes_field(w, "payload", r.value, "payload_encoding");
  w.end_object();
}

struct EnvelopeDecoder::Impl {
  od::parser parser;
  std::string buffer;
};

EnvelopeDecoder::EnvelopeDecoder() : impl_(std::make_unique<Impl>()) {}
EnvelopeDecoder::~EnvelopeDecoder() = default;

Status EnvelopeDecoder::decode(std::string_view line, Record& out) {
  out = Record{};
  auto& buf = impl_->buffer;
  if (buf.size() < line.size() + simdjson::SIMDJSON_PADDING) buf.resize(line.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(buf.data(), line.data(), line.size());
  od::document doc;
  if (auto e = impl_->parser.iterate(buf.data(), line.size(), buf.size()).get(doc)) {
    return bad(simdjson::error_message(e));
  }
  od::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return bad("not a JSON object");
  bool have_topic = false, key_b64 = false, payload_b64 = false;
  for (auto fr : obj) {
    od::field f;
    if (auto e = std::move(fr).get(f)) return bad(simdjson::error_message(e));
    std::string_view k;
    if (auto e = f.unescaped_key().get(k)) return bad(simdjson::error_message(e));
    od::value v = f.value();
    if (k == "topic") {
      std::string_view s;
      if (v.get_string().get(s)) return bad("topic is not a string");
      out.topic.assign(s);
      have_topic = true;
    } else if (k == "partition") {
      std::int64_t p = 0;
      if (v.get_int64().get(p) || p < -1 || p > INT32_MAX) return bad("partition is not an integer >= -1");
      out.partition = static_cast<std::int32_t>(p);
    } else if (k == "offset") {
      if (v.get_int64().get(out.offset)) return bad("offset is not an integer");
    } else if (k == "ts") {
      if (v.get_int64().get(out.timestamp)) return bad("ts is not an integer");
    } else if (k == "tstype") {
      std::string_view s;
      if (v.get_string().get(s)) return bad("tstype is not a string");
      out.timestamp_type = s == "logappend" ? TimestampType::kLogAppend
                           : s == "create"  ? TimestampType::kCreate
                                            : TimestampType::kNone;
    } else if (k == "key") {
      VIGIL_RETURN_IF_ERROR(read_optional_string(v, out.key, "key"));
    } else if (k == "payload") {
      VIGIL_RETURN_IF_ERROR(read_optional_string(v, out.value, "payload"));
    } else if (k == "key_encoding" || k == "payload_encoding") {
      std::string_view s;
      if (v.get_string().get(s) || s != "base64") return bad(std::string(k) + " must be \"base64\"");
      (k == "key_encoding" ? key_b64 : payload_b64) = true;
    } else if (k == "headers") {
      od::array arr;
      if (v.get_array().get(arr)) return bad("headers is not an array");
      std::size_t i = 0;
      for (auto item : arr) {
        od::value iv;
        if (std::move(item).get(iv)) return bad("headers is not a valid array");
        std::optional<std::string> s;
        VIGIL_RETURN_IF_ERROR(read_optional_string(iv, s, "headers[]"));
        if (i % 2 == 0) {
          if (!s) return bad("header name is null");
          out.headers.push_back(Header{std::move(*s), std::nullopt});
        } else {
          out.headers.back().value = std::move(s);
        }
        ++i;
      }
      if (i % 2 != 0) return bad("headers must alternate name, value");
    }
  }
  if (!have_topic) return bad("topic is missing");
  std::string decoded;
  if (key_b64 && out.key) {
    if (!base64_decode(*out.key, decoded)) return bad("key is not valid base64");
    out.key = decoded;
  }
  if (payload_b64 && out.value) {
    if (!base64_decode(*out.value, decoded)) return bad("payload is not valid base64");
    out.value = decoded;
  }
  return Status::ok();
}

}  // namespace vigil::io
