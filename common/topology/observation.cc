#include "common/topology/observation.h"

#include <simdjson.h>

#include <cstdint>
#include <cstring>

#include "common/core/json_writer.h"

namespace vigil::topology {

namespace od = simdjson::ondemand;

void Observation::clear() {
  for (std::string* s : {&type, &value, &qualifier, &brand, &event_id, &platform, &kind, &author, &permalink, &topic})
    s->clear();
  flagged.clear();
  links.clear();
  msg.clear();
  member.clear();
  member_flagged = false;
  from_partition = -1;
  event_time = 0;
  partition = 0;
  offset = 0;
}

std::string observation_key(std::string_view type, std::string_view value) {
  std::string key;
  key.reserve(type.size() + 1 + value.size());
  key.append(type).push_back(':');
  key.append(value);
  return key;
}

void encode_observation(const Observation& o, std::string& out) {
  out.clear();
  JsonWriter w(out);
  w.begin_object().field("type", o.type).field("value", o.value);
  if (!o.qualifier.empty()) w.field("qualifier", o.qualifier);
  if (!o.brand.empty()) w.field("brand", o.brand);
  w.field("event_id", o.event_id).field("platform", o.platform).field("kind", o.kind).field("author", o.author);
  if (!o.permalink.empty()) w.field("permalink", o.permalink);
  w.field("event_time", o.event_time);
  w.key("flagged").begin_array();
  for (const auto& c : o.flagged) w.value(c);
  w.end_array();
  w.field("topic", o.topic).field("partition", static_cast<std::int64_t>(o.partition)).field("offset", o.offset);
  if (!o.links.empty()) {
    w.key("links").begin_array();
    for (const auto& l : o.links) w.value(l);
    w.end_array();
  }
  if (!o.msg.empty()) {
    w.field("msg", o.msg);
    if (!o.member.empty()) w.field("member", o.member);
    if (o.member_flagged) w.field("member_flagged", true);
    if (o.from_partition >= 0) w.field("from_partition", static_cast<std::int64_t>(o.from_partition));
  }
  w.end_object();
}

struct ObservationParser::Impl {
  od::parser parser;
  std::string buffer;
};

ObservationParser::ObservationParser() : impl_(std::make_unique<Impl>()) {}
ObservationParser::~ObservationParser() = default;

namespace {

Status bad(std::string_view field, simdjson::error_code e) {
  return invalid_argument("observation field '" + std::string(field) + "': " + simdjson::error_message(e));
}

Status read_string(od::value& v, std::string_view field, std::string& out) {
  std::string_view s;
  if (const auto e = v.get_string().get(s); e) return bad(field, e);
  out.assign(s);
  return Status::ok();
}

}  // namespace

Status ObservationParser::parse(std::string_view json, Observation& out) {
  out.clear();
  auto& buf = impl_->buffer;
  if (buf.size() < json.size() + simdjson::SIMDJSON_PADDING) buf.resize(json.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(buf.data(), json.data(), json.size());
  od::document doc;
  if (const auto e = impl_->parser.iterate(buf.data(), json.size(), buf.size()).get(doc); e)
    return invalid_argument(std::string("observation is not JSON: ") + simdjson::error_message(e));
  od::object root;
  if (const auto e = doc.get_object().get(root); e)
    return invalid_argument(std::string("observation is not a JSON object: ") + simdjson::error_message(e));
  bool has_time = false;
  for (auto field : root) {
    std::string_view key;
    if (const auto e = field.unescaped_key().get(key); e) return bad("?", e);
    od::value v;
    if (const auto e = field.value().get(v); e) return bad(key, e);
    Status st;
    if (key == "type")
      st = read_string(v, key, out.type);
    else if (key == "value")
      st = read_string(v, key, out.value);
    else if (key == "qualifier")
      st = read_string(v, key, out.qualifier);
    else if (key == "brand")
      st = read_string(v, key, out.brand);
    else if (key == "event_id")
      st = read_string(v, key, out.event_id);
    else if (key == "platform")
      st = read_string(v, key, out.platform);
    else if (key == "kind")
      st = read_string(v, key, out.kind);
    else if (key == "author")
      st = read_string(v, key, out.author);
    else if (key == "permalink")
      st = read_string(v, key, out.permalink);
    else if (key == "topic")
      st = read_string(v, key, out.topic);
    else if (key == "msg")
      st = read_string(v, key, out.msg);
    else if (key == "member")
      st = read_string(v, key, out.member);
    else if (key == "from_partition") {
      std::int64_t p = 0;
      if (const auto e = v.get_int64().get(p); e) return bad(key, e);
      if (p < 0 || p > INT32_MAX) return invalid_argument("observation field 'from_partition' out of range");
      out.from_partition = static_cast<std::int32_t>(p);
    } else if (key == "member_flagged") {
      if (const auto e = v.get_bool().get(out.member_flagged); e) return bad(key, e);
    } else if (key == "links") {
      od::array arr;
      if (const auto e = v.get_array().get(arr); e) return bad(key, e);
      for (auto item : arr) {
        std::string_view s;
        if (const auto e = item.get_string().get(s); e) return bad(key, e);
        out.links.emplace_back(s);
      }
    } else if (key == "event_time") {
      if (const auto e = v.get_int64().get(out.event_time); e) return bad(key, e);
      has_time = true;
    } else if (key == "partition") {
      std::int64_t p = 0;
      if (const auto e = v.get_int64().get(p); e) return bad(key, e);
      out.partition = static_cast<std::int32_t>(p);
    } else if (key == "offset") {
      if (const auto e = v.get_int64().get(out.offset); e) return bad(key, e);
    } else if (key == "flagged") {
      od::array arr;
      if (const auto e = v.get_array().get(arr); e) return bad(key, e);
      for (auto item : arr) {
        std::string_view s;
        if (const auto e = item.get_string().get(s); e) return bad(key, e);
        out.flagged.emplace_back(s);
      }
    }
    if (!st.is_ok()) return st;
  }
  if (out.type.empty() || out.value.empty()) return invalid_argument("observation needs a non-empty type and value");
  if (out.event_id.empty()) return invalid_argument("observation needs an event_id");
  if (!has_time) return invalid_argument("observation needs an event_time (epoch milliseconds)");
  if (out.msg.empty()) {
    // Ring-message fields mean nothing on an observation: dropped, as unknown fields are.
    out.member.clear();
    out.member_flagged = false;
    out.from_partition = -1;
  }
  if (!out.msg.empty() && out.msg != "link" && out.msg != "wm")
    return invalid_argument("unknown ring message '" + out.msg + "' (link, wm)");
  if (out.msg == "link" && out.member.empty()) return invalid_argument("a link message needs a member");
  if (out.msg == "wm" && out.from_partition < 0) return invalid_argument("a wm message needs a from_partition");
  return Status::ok();
}

}  // namespace vigil::topology
