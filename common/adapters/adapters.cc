#include <simdjson.h>

#include <charconv>

#include "common/adapters/adapter.h"
#include "common/text/text.h"

namespace vigil {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

ParseStatus json_error(error_code e, std::string_view field) {
  std::string where = field.empty() ? std::string("document") : "field '" + std::string(field) + "'";
  switch (e) {
    case simdjson::UTF8_ERROR: return ParseStatus::error("invalid_utf8", "invalid UTF-8 in " + where);
    case simdjson::INCORRECT_TYPE:
    case simdjson::NUMBER_OUT_OF_RANGE:
    case simdjson::NUMBER_ERROR: return ParseStatus::error("wrong_type", where + " has the wrong type");
    case simdjson::DEPTH_ERROR: return ParseStatus::error("too_deep", "JSON nested too deeply");
    default: return ParseStatus::error("invalid_json", std::string(simdjson::error_message(e)) + " (at " + where + ")");
  }
}

ParseStatus missing(std::string_view field) {
  return ParseStatus::error("missing_field", "required field '" + std::string(field) + "' is missing");
}

#define VIGIL_JSON(expr, field)             \
  do {                                      \
    if (const error_code e_ = (expr); e_) { \
      return json_error(e_, field);         \
    }                                       \
  } while (false)

// Ids arrive as strings or numbers depending on platform and API version: keep their text.
error_code read_id(od::value v, std::string& out) {
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  std::string_view s;
  if (t == od::json_type::string) {
    if (auto e = v.get_string().get(s)) return e;
  } else if (t == od::json_type::number) {
    s = v.raw_json_token();
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
      s.remove_suffix(1);
  } else {
    return simdjson::INCORRECT_TYPE;
  }
  out.assign(s);
  return simdjson::SUCCESS;
}

error_code read_string(od::value v, std::string& out) {
  std::string_view s;
  if (auto e = v.get_string().get(s)) return e;
  out.assign(s);
  return simdjson::SUCCESS;
}

// Reads a string or null (null leaves `out` empty).
error_code read_optional_string(od::value v, std::string& out) {
  bool is_null = false;
  if (auto e = v.is_null().get(is_null)) return e;
  if (is_null) {
    out.clear();
    return simdjson::SUCCESS;
  }
  return read_string(v, out);
}

// Integer that some APIs send as a JSON string of digits ("1711929600000").
error_code read_integer(od::value v, std::int64_t& out) {
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  if (t == od::json_type::number) return v.get_int64().get(out);
  if (t != od::json_type::string) return simdjson::INCORRECT_TYPE;
  std::string_view s;
  if (auto e = v.get_string().get(s)) return e;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return simdjson::INCORRECT_TYPE;
  return simdjson::SUCCESS;
}

ParseStatus read_iso_time(od::value v, std::string_view field, TimestampMs& out) {
  std::string_view s;
  VIGIL_JSON(v.get_string().get(s), field);
  const auto t = parse_iso8601(s);
  if (!t)
    return ParseStatus::error(
        "wrong_type", "field '" + std::string(field) + "' is not an ISO 8601 time: " + std::string(s.substr(0, 40)));
  out = *t;
  return ParseStatus::ok();
}

std::string_view field_key(od::field& f, error_code& e) {
  std::string_view k;
  e = f.unescaped_key().get(k);
  return k;
}

// ---- telegram: Bot API Update ---------------------------------------------------------

ParseStatus parse_telegram_message(od::object message, std::string_view kind, Event& ev) {
  std::string message_id, chat_id, chat_username, from_id, sender_chat_id, text;
  bool have_date = false;
  for (auto fr : message) {
    od::field f;
    VIGIL_JSON(std::move(fr).get(f), "message");
    error_code e;
    const std::string_view k = field_key(f, e);
    VIGIL_JSON(e, "message");
    if (k == "message_id") {
      VIGIL_JSON(read_id(f.value(), message_id), "message.message_id");
    } else if (k == "date") {
      std::int64_t secs = 0;
      VIGIL_JSON(read_integer(f.value(), secs), "message.date");
      ev.event_time = secs * 1000;
      have_date = true;
    } else if (k == "text" || k == "caption") {
      VIGIL_JSON(read_string(f.value(), text), "message.text");
    } else if (k == "from" || k == "sender_chat") {
      od::object o;
      VIGIL_JSON(f.value().get_object().get(o), "message.from");
      for (auto ir : o) {
        od::field inner;
        VIGIL_JSON(std::move(ir).get(inner), "message.from");
        const std::string_view ik = field_key(inner, e);
        VIGIL_JSON(e, "message.from");
        if (ik == "id") VIGIL_JSON(read_id(inner.value(), k == "from" ? from_id : sender_chat_id), "message.from.id");
      }
    } else if (k == "chat") {
      od::object o;
      VIGIL_JSON(f.value().get_object().get(o), "message.chat");
      for (auto ir : o) {
        od::field inner;
        VIGIL_JSON(std::move(ir).get(inner), "message.chat");
        const std::string_view ik = field_key(inner, e);
        VIGIL_JSON(e, "message.chat");
        if (ik == "id") {
          VIGIL_JSON(read_id(inner.value(), chat_id), "message.chat.id");
        } else if (ik == "username") {
          VIGIL_JSON(read_optional_string(inner.value(), chat_username), "message.chat.username");
        } else if (ik == "title") {
          VIGIL_JSON(read_optional_string(inner.value(), ev.channel), "message.chat.title");
        }
      }
    } else if (k == "entities" || k == "caption_entities") {
      od::array arr;
      VIGIL_JSON(f.value().get_array().get(arr), "message.entities");
      for (auto item : arr) {
        od::object o;
        VIGIL_JSON(item.get_object().get(o), "message.entities[]");
        for (auto ir : o) {
          od::field inner;
          VIGIL_JSON(std::move(ir).get(inner), "message.entities[]");
          const std::string_view ik = field_key(inner, e);
          VIGIL_JSON(e, "message.entities[]");
          // A text_link hides its URL behind ordinary words: the URL is only here.
          if (ik == "url") {
            std::string url;
            VIGIL_JSON(read_string(inner.value(), url), "message.entities[].url");
            ev.urls.push_back(std::move(url));
          }
        }
      }
    }
  }
  if (message_id.empty()) return missing("message.message_id");
  if (chat_id.empty()) return missing("message.chat.id");
  if (!have_date) return missing("message.date");
  ev.platform = "telegram";
  ev.kind = std::string(kind);
  ev.event_id = "telegram:" + chat_id + ":" + message_id;
  ev.author = !from_id.empty() ? "telegram:" + from_id : !sender_chat_id.empty() ? "telegram:" + sender_chat_id : "";
  if (ev.channel.empty()) ev.channel = "telegram:" + chat_id;
  if (!chat_username.empty()) ev.permalink = "https://t.me/" + chat_username + "/" + message_id;
  ev.text = std::move(text);
  return ParseStatus::ok();
}

ParseStatus parse_telegram(od::object root, Event& ev) {
  bool have_update_id = false;
  bool have_message = false;
  for (auto fr : root) {
    od::field f;
    VIGIL_JSON(std::move(fr).get(f), "");
    error_code e;
    const std::string_view k = field_key(f, e);
    VIGIL_JSON(e, "");
    if (k == "update_id") {
      std::string id;
      VIGIL_JSON(read_id(f.value(), id), "update_id");
      have_update_id = true;
    } else if (k == "message" || k == "edited_message" || k == "channel_post" || k == "edited_channel_post") {
      od::object m;
      VIGIL_JSON(f.value().get_object().get(m), k);
      const std::string_view kind = (k == "channel_post" || k == "edited_channel_post") ? "post" : "message";
      if (auto st = parse_telegram_message(m, kind, ev); !st.is_ok()) return st;
      have_message = true;
    }
  }
  if (!have_update_id) return missing("update_id");
  if (!have_message) return ParseStatus::skip("telegram update carries no message, edited_message or channel_post");
  return ParseStatus::ok();
}

// ---- facebook: Graph API post or comment ----------------------------------------------

ParseStatus parse_facebook(od::object root, Event& ev) {
  std::string id, from_id;
  bool have_time = false, is_comment = false;
  for (auto fr : root) {
    od::field f;
    VIGIL_JSON(std::move(fr).get(f), "");
    error_code e;
    const std::string_view k = field_key(f, e);
    VIGIL_JSON(e, "");
    if (k == "id") {
      VIGIL_JSON(read_id(f.value(), id), "id");
    } else if (k == "message") {
      VIGIL_JSON(read_optional_string(f.value(), ev.text), "message");
    } else if (k == "created_time") {
      if (auto st = read_iso_time(f.value(), "created_time", ev.event_time); !st.is_ok()) return st;
      have_time = true;
    } else if (k == "permalink_url") {
      VIGIL_JSON(read_optional_string(f.value(), ev.permalink), "permalink_url");
    } else if (k == "parent" || k == "parent_id") {
      is_comment = true;
    } else if (k == "from") {
      od::object o;
      VIGIL_JSON(f.value().get_object().get(o), "from");
      for (auto ir : o) {
        od::field inner;
        VIGIL_JSON(std::move(ir).get(inner), "from");
        const std::string_view ik = field_key(inner, e);
        VIGIL_JSON(e, "from");
        if (ik == "id") VIGIL_JSON(read_id(inner.value(), from_id), "from.id");
      }
    } else if (k == "attachments") {
      od::object o;
      VIGIL_JSON(f.value().get_object().get(o), "attachments");
      for (auto ir : o) {
        od::field inner;
        VIGIL_JSON(std::move(ir).get(inner), "attachments");
        const std::string_view ik = field_key(inner, e);
        VIGIL_JSON(e, "attachments");
        if (ik != "data") continue;
        od::array arr;
        VIGIL_JSON(inner.value().get_array().get(arr), "attachments.data");
        for (auto item : arr) {
          od::object a;
          VIGIL_JSON(item.get_object().get(a), "attachments.data[]");
          for (auto ar : a) {
            od::field af;
            VIGIL_JSON(std::move(ar).get(af), "attachments.data[]");
            const std::string_view ak = field_key(af, e);
            VIGIL_JSON(e, "attachments.data[]");
            if (ak == "url" || ak == "unshimmed_url") {
              std::string url;
              VIGIL_JSON(read_optional_string(af.value(), url), "attachments.data[].url");
              if (!url.empty()) ev.urls.push_back(std::move(url));
            }
          }
        }
      }
    }
  }
  if (id.empty()) return missing("id");
  if (!have_time) return missing("created_time");
  ev.platform = "facebook";
  ev.kind = is_comment ? "comment" : "post";
  ev.event_id = "facebook:" + id;
  if (!from_id.empty()) ev.author = "facebook:" + from_id;
  if (const auto underscore = id.find('_'); underscore != std::string::npos)
    ev.channel = "facebook:" + id.substr(0, underscore);
  return ParseStatus::ok();
}

// ---- tiktok: Research API video or comment --------------------------------------------

ParseStatus parse_tiktok(od::object root, Event& ev) {
  std::string id, username, video_id;
  bool have_time = false;
  for (auto fr : root) {
    od::field f;
    VIGIL_JSON(std::move(fr).get(f), "");
    error_code e;
    const std::string_view k = field_key(f, e);
    VIGIL_JSON(e, "");
    if (k == "id") {
      VIGIL_JSON(read_id(f.value(), id), "id");
    } else if (k == "video_description" || k == "text") {
      VIGIL_JSON(read_optional_string(f.value(), ev.text), k);
    } else if (k == "create_time") {
      std::int64_t secs = 0;
      VIGIL_JSON(read_integer(f.value(), secs), "create_time");
      ev.event_time = secs * 1000;
      have_time = true;
    } else if (k == "username") {
      VIGIL_JSON(read_optional_string(f.value(), username), "username");
    } else if (k == "share_url") {
      VIGIL_JSON(read_optional_string(f.value(), ev.permalink), "share_url");
    } else if (k == "video_id") {
      VIGIL_JSON(read_id(f.value(), video_id), "video_id");
    }
  }
  if (id.empty()) return missing("id");
  if (!have_time) return missing("create_time");
  ev.platform = "tiktok";
  ev.kind = video_id.empty() ? "post" : "comment";
  ev.event_id = "tiktok:" + id;
  if (!username.empty()) ev.author = "tiktok:" + username;
  if (!video_id.empty()) ev.channel = "tiktok:" + video_id;
  return ParseStatus::ok();
}

// ---- zalo: Official Account webhook ---------------------------------------------------

ParseStatus parse_zalo(od::object root, Event& ev) {
  std::string event_name, sender_id, msg_id;
  bool have_message = false, have_time = false;
  for (auto fr : root) {
    od::field f;
    VIGIL_JSON(std::move(fr).get(f), "");
    error_code e;
    const std::string_view k = field_key(f, e);
    VIGIL_JSON(e, "");
    if (k == "event_name") {
      VIGIL_JSON(read_string(f.value(), event_name), "event_name");
    } else if (k == "timestamp") {
      VIGIL_JSON(read_integer(f.value(), ev.event_time), "timestamp");
      have_time = true;
    } else if (k == "sender" || k == "recipient") {
      od::object o;
      VIGIL_JSON(f.value().get_object().get(o), k);
      for (auto ir : o) {
        od::field inner;
        VIGIL_JSON(std::move(ir).get(inner), k);
        const std::string_view ik = field_key(inner, e);
        VIGIL_JSON(e, k);
        if (ik == "id" && k == "sender") VIGIL_JSON(read_id(inner.value(), sender_id), "sender.id");
        if (ik == "id" && k == "recipient") VIGIL_JSON(read_id(inner.value(), ev.channel), "recipient.id");
      }
    } else if (k == "message") {
      have_message = true;
      od::object o;
      VIGIL_JSON(f.value().get_object().get(o), "message");
      for (auto ir : o) {
        od::field inner;
        VIGIL_JSON(std::move(ir).get(inner), "message");
        const std::string_view ik = field_key(inner, e);
        VIGIL_JSON(e, "message");
        if (ik == "msg_id") {
          VIGIL_JSON(read_id(inner.value(), msg_id), "message.msg_id");
        } else if (ik == "text") {
          VIGIL_JSON(read_optional_string(inner.value(), ev.text), "message.text");
        }
      }
    }
  }
  if (event_name.empty()) return missing("event_name");
  if (!have_message) return ParseStatus::skip("zalo event '" + event_name + "' carries no message");
  if (sender_id.empty()) return missing("sender.id");
  if (msg_id.empty()) return missing("message.msg_id");
  if (!have_time) return missing("timestamp");
  ev.platform = "zalo";
  ev.kind = "message";
  ev.event_id = "zalo:" + msg_id;
  ev.author = "zalo:" + sender_id;
  if (!ev.channel.empty()) ev.channel = "zalo:" + ev.channel;
  return ParseStatus::ok();
}

// ---- report: citizen tip --------------------------------------------------------------

ParseStatus parse_report(od::object root, Event& ev) {
  std::string report_id, reporter, target_kind, target_value;
  bool have_time = false;
  for (auto fr : root) {
    od::field f;
    VIGIL_JSON(std::move(fr).get(f), "");
    error_code e;
    const std::string_view k = field_key(f, e);
    VIGIL_JSON(e, "");
    if (k == "report_id") {
      VIGIL_JSON(read_id(f.value(), report_id), "report_id");
    } else if (k == "received_at") {
      if (auto st = read_iso_time(f.value(), "received_at", ev.event_time); !st.is_ok()) return st;
      have_time = true;
    } else if (k == "channel") {
      VIGIL_JSON(read_optional_string(f.value(), ev.channel), "channel");
    } else if (k == "reporter_id") {
      VIGIL_JSON(read_id(f.value(), reporter), "reporter_id");
    } else if (k == "description") {
      VIGIL_JSON(read_optional_string(f.value(), ev.text), "description");
    } else if (k == "target") {
      od::object o;
      VIGIL_JSON(f.value().get_object().get(o), "target");
      for (auto ir : o) {
        od::field inner;
        VIGIL_JSON(std::move(ir).get(inner), "target");
        const std::string_view ik = field_key(inner, e);
        VIGIL_JSON(e, "target");
        if (ik == "kind") VIGIL_JSON(read_string(inner.value(), target_kind), "target.kind");
        if (ik == "value") VIGIL_JSON(read_string(inner.value(), target_value), "target.value");
      }
    }
  }
  if (report_id.empty()) return missing("report_id");
  if (!have_time) return missing("received_at");
  if (target_kind.empty()) return missing("target.kind");
  if (target_value.empty()) return missing("target.value");
  if (target_kind == "url") {
    ev.urls.push_back(target_value);
  } else if (target_kind == "phone") {
    ev.phones.push_back(target_value);
  } else if (target_kind != "bank_account" && target_kind != "social_account") {
    return ParseStatus::error(
        "wrong_type",
        "field 'target.kind' must be url, phone, bank_account or social_account, not '" + target_kind + "'");
  }
  ev.platform = "report";
  ev.kind = "report";
  ev.event_id = "report:" + report_id;
  if (!reporter.empty()) ev.author = "report:" + reporter;
  return ParseStatus::ok();
}

// ---- canonical: an Event serialised upstream ------------------------------------------

ParseStatus parse_canonical(od::object root, Event& ev) {
  bool have_time = false;
  for (auto fr : root) {
    od::field f;
    VIGIL_JSON(std::move(fr).get(f), "");
    error_code e;
    const std::string_view k = field_key(f, e);
    VIGIL_JSON(e, "");
    if (k == "event_id") {
      VIGIL_JSON(read_id(f.value(), ev.event_id), "event_id");
    } else if (k == "platform") {
      VIGIL_JSON(read_string(f.value(), ev.platform), "platform");
    } else if (k == "kind") {
      VIGIL_JSON(read_string(f.value(), ev.kind), "kind");
    } else if (k == "author") {
      VIGIL_JSON(read_optional_string(f.value(), ev.author), "author");
    } else if (k == "channel") {
      VIGIL_JSON(read_optional_string(f.value(), ev.channel), "channel");
    } else if (k == "text") {
      VIGIL_JSON(read_string(f.value(), ev.text), "text");
    } else if (k == "permalink") {
      VIGIL_JSON(read_optional_string(f.value(), ev.permalink), "permalink");
    } else if (k == "event_time") {
      od::json_type t;
      VIGIL_JSON(f.value().type().get(t), "event_time");
      if (t == od::json_type::string) {
        if (auto st = read_iso_time(f.value(), "event_time", ev.event_time); !st.is_ok()) return st;
      } else {
        VIGIL_JSON(f.value().get_int64().get(ev.event_time), "event_time");
      }
      have_time = true;
    } else if (k == "urls") {
      od::array arr;
      VIGIL_JSON(f.value().get_array().get(arr), "urls");
      for (auto item : arr) {
        std::string_view s;
        VIGIL_JSON(item.get_string().get(s), "urls[]");
        ev.urls.emplace_back(s);
      }
    }
  }
  if (ev.event_id.empty()) return missing("event_id");
  if (ev.platform.empty()) return missing("platform");
  if (!have_time) return missing("event_time");
  if (ev.kind.empty()) ev.kind = "post";
  return ParseStatus::ok();
}

// Nesting depth of the document, counted outside strings; stops early past `limit`.
bool deeper_than(std::string_view json, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return true;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return false;
}

using PlatformParser = ParseStatus (*)(od::object, Event&);

class JsonAdapter final : public Adapter {
 public:
  JsonAdapter(std::string_view name, PlatformParser parser, AdapterLimits limits)
      : name_(name), platform_parser_(parser), limits_(limits) {}

  std::string_view name() const override { return name_; }

  ParseStatus parse(std::string_view payload, Event& out) override {
    if (payload.size() > limits_.max_record_bytes) {
      return ParseStatus::error("too_large", "record of " + std::to_string(payload.size()) +
                                                 " bytes exceeds the limit of " +
                                                 std::to_string(limits_.max_record_bytes));
    }
    if (deeper_than(payload, limits_.max_json_depth)) {
      return ParseStatus::error("too_deep",
                                "JSON nested deeper than " + std::to_string(limits_.max_json_depth) + " levels");
    }
    // On-Demand reads up to SIMDJSON_PADDING bytes past the end: copy into a reused, padded buffer.
    if (buffer_.size() < payload.size() + simdjson::SIMDJSON_PADDING)
      buffer_.resize(payload.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(buffer_.data(), payload.data(), payload.size());
    od::document doc;
    VIGIL_JSON(parser_.iterate(buffer_.data(), payload.size(), buffer_.size()).get(doc), "");
    od::object root;
    if (const error_code e = doc.get_object().get(root); e) {
      const auto first = payload.find_first_not_of(" \t\r\n");
      if (e == simdjson::INCORRECT_TYPE && first != std::string_view::npos && payload[first] == '[') {
        return ParseStatus::error("wrong_type", "the document is an array; a JSON object is expected");
      }
      if (e == simdjson::INCORRECT_TYPE) return ParseStatus::error("invalid_json", "the document is not a JSON object");
      return json_error(e, "");
    }
    SourceCoordinates source = std::move(out.source);
    out.clear();
    out.source = std::move(source);
    out.event_time = out.source.record_timestamp;
    ParseStatus st = platform_parser_(root, out);
    if (!st.is_ok()) return st;
    out.text = text::nfc(out.text);
    return st;
  }

 private:
  std::string name_;
  PlatformParser platform_parser_;
  AdapterLimits limits_;
  od::parser parser_;
  std::string buffer_;
};

}  // namespace

std::unique_ptr<Adapter> make_adapter(std::string_view name, AdapterLimits limits) {
  PlatformParser p = nullptr;
  if (name == "telegram")
    p = parse_telegram;
  else if (name == "facebook")
    p = parse_facebook;
  else if (name == "tiktok")
    p = parse_tiktok;
  else if (name == "zalo")
    p = parse_zalo;
  else if (name == "report")
    p = parse_report;
  else if (name == "canonical")
    p = parse_canonical;
  if (p == nullptr) return nullptr;
  return std::make_unique<JsonAdapter>(name, p, limits);
}

}  // namespace vigil
