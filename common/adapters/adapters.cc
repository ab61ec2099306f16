#include <simdjson.h>
#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>

#include "common/adapters/adapter.h"
#include "common/adapters/bracket_count.h"
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

// Strings are read into std::string (Event fields) or into std::string_view (fields used
// while parsing this record: views into the parser's buffers, valid until the next record,
// so reading them allocates nothing).

// Ids arrive as strings or numbers depending on platform and API version: keep their text.
template <typename Out>
error_code read_id(od::value v, Out& out) {
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
  out = s;
  return simdjson::SUCCESS;
}

template <typename Out>
error_code read_string(od::value v, Out& out) {
  std::string_view s;
  if (auto e = v.get_string().get(s)) return e;
  out = s;
  return simdjson::SUCCESS;
}

// Reads a string or null (null leaves `out` empty).
template <typename Out>
error_code read_optional_string(od::value v, Out& out) {
  bool is_null = false;
  if (auto e = v.is_null().get(is_null)) return e;
  if (is_null) {
    out = std::string_view();
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

// Event times outside 1970..9999 are data errors, and would overflow when scaled to ms.
constexpr std::int64_t kMaxEpochSeconds = 253402300799;

ParseStatus read_epoch(od::value v, std::string_view field, std::int64_t scale, TimestampMs& out) {
  std::int64_t n = 0;
  if (const error_code e = read_integer(v, n); e) return json_error(e, field);
  if (n < 0 || n / scale > kMaxEpochSeconds) {
    return ParseStatus::error("wrong_type", "field '" + std::string(field) + "' is out of range for a Unix time");
  }
  out = n * (1000 / scale);
  return ParseStatus::ok();
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

// A key as written, or a null view when it has an escape. On-Demand has checked the document's
// structure, so its closing quote is inside the padded buffer.
inline std::string_view plain_key(od::raw_json_string key) {
  const char* const begin = key.raw();
  const char* end = begin;
  while (*end != '"') {
    if (*end == '\\') return {};
    ++end;
  }
  return {begin, static_cast<std::size_t>(end - begin)};
}

// Calls fn(key, value) for each field of an object; stops at the first non-ok status.
// `where` names the object in error messages.
template <typename Fn>
ParseStatus for_each_field(od::object object, std::string_view where, Fn&& fn) {
  for (auto field_result : object) {
    od::field f;
    VIGIL_JSON(std::move(field_result).get(f), where);
    // Keys are read in place when they have no escape (nearly always): unescaping copies each
    // one into the parser's string buffer.
    std::string_view key = plain_key(f.key());
    if (key.data() == nullptr) VIGIL_JSON(f.unescaped_key().get(key), where);
    if (ParseStatus st = fn(key, f.value()); !st.is_ok()) return st;
  }
  return ParseStatus::ok();
}

template <typename Fn>
ParseStatus for_each_field(od::value value, std::string_view where, Fn&& fn) {
  od::object object;
  VIGIL_JSON(value.get_object().get(object), where);
  return for_each_field(object, where, std::forward<Fn>(fn));
}

// Calls fn(value) for each element of an array.
template <typename Fn>
ParseStatus for_each_element(od::value value, std::string_view where, Fn&& fn) {
  od::array array;
  VIGIL_JSON(value.get_array().get(array), where);
  for (auto element_result : array) {
    od::value element;
    VIGIL_JSON(std::move(element_result).get(element), where);
    if (ParseStatus st = fn(element); !st.is_ok()) return st;
  }
  return ParseStatus::ok();
}

ParseStatus check(error_code e, std::string_view field) {
  return e ? json_error(e, field) : ParseStatus::ok();
}

// Sets `out` to the concatenation of `parts`, reusing its buffer (ids are rebuilt for every
// record; a temporary per concatenation would allocate each time).
void join_into(std::string& out, std::initializer_list<std::string_view> parts) {
  out.clear();
  for (const auto p : parts) out.append(p);
}

// The target of a Facebook link shim ("https://l.facebook.com/l.php?u=<target>&h=..."), percent-
// decoded, or empty when `url` is not one. Graph API attachments carry the shim as `url` and the
// target as `unshimmed_url` only sometimes: without this, a link hidden behind the shim is lost.
std::string facebook_shim_target(std::string_view url) {
  std::string_view rest = url;
  for (const std::string_view scheme : {"https://", "http://"}) {
    if (rest.starts_with(scheme)) {
      rest.remove_prefix(scheme.size());
      break;
    }
  }
  bool shim = false;
  for (const std::string_view host : {"l.facebook.com/l.php?", "lm.facebook.com/l.php?", "www.facebook.com/l.php?"}) {
    if (rest.starts_with(host)) {
      rest.remove_prefix(host.size());
      shim = true;
      break;
    }
  }
  if (!shim) return {};
  std::size_t pos = 0;
  while (pos < rest.size() && !rest.substr(pos).starts_with("u=")) {
    const std::size_t amp = rest.find('&', pos);
    if (amp == std::string_view::npos) return {};
    pos = amp + 1;
  }
  if (pos >= rest.size()) return {};
  std::string_view value = rest.substr(pos + 2);
  value = value.substr(0, value.find('&'));
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string target;
  target.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size() && hex(value[i + 1]) >= 0 && hex(value[i + 2]) >= 0) {
      target.push_back(static_cast<char>(hex(value[i + 1]) * 16 + hex(value[i + 2])));
      i += 2;
    } else if (value[i] == '+') {
      target.push_back(' ');
    } else {
      target.push_back(value[i]);
    }
  }
  return target;
}

// ---- telegram: Bot API Update ---------------------------------------------------------

struct TelegramEntity {
  std::string_view type;  // views into the record being parsed
  std::string_view url;
  std::int64_t offset = -1;
  std::int64_t length = 0;
};

// Byte span of the UTF-16 code-unit span [offset, offset + length) of UTF-8 `text`, as Bot API
// entity offsets count (characters outside the BMP, such as most emoji, are two units).
std::optional<std::pair<std::size_t, std::size_t>> utf16_span(std::string_view text, std::int64_t offset,
                                                              std::int64_t length) {
  if (offset < 0 || length <= 0) return std::nullopt;
  std::int64_t units = 0;
  std::size_t begin = std::string_view::npos;
  for (std::size_t i = 0; i <= text.size();) {
    if (units == offset && begin == std::string_view::npos) begin = i;
    if (units == offset + length) return std::make_pair(begin, i);
    if (i == text.size() || units > offset + length) break;
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t bytes = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
    units += bytes == 4 ? 2 : 1;
    i += bytes;
  }
  return std::nullopt;
}

ParseStatus parse_telegram_message(od::value message, std::string_view where, std::string_view kind, Event& ev) {
  std::string_view message_id, chat_id, chat_username, from_id, sender_chat_id;
  std::string& text = ev.text;
  thread_local std::vector<TelegramEntity> tagged;
  tagged.clear();
  bool have_date = false;
  ParseStatus st = for_each_field(message, where, [&](std::string_view k, od::value v) {
    if (k == "message_id") return check(read_id(v, message_id), "message.message_id");
    if (k == "date") {
      have_date = true;
      return read_epoch(v, "message.date", 1, ev.event_time);
    }
    if (k == "text" || k == "caption") return check(read_string(v, text), "message.text");
    if (k == "from" || k == "sender_chat") {
      std::string_view& id = k == "from" ? from_id : sender_chat_id;
      return for_each_field(v, "message.from", [&](std::string_view ik, od::value iv) {
        return ik == "id" ? check(read_id(iv, id), "message.from.id") : ParseStatus::ok();
      });
    }
    if (k == "chat") {
      return for_each_field(v, "message.chat", [&](std::string_view ik, od::value iv) {
        if (ik == "id") return check(read_id(iv, chat_id), "message.chat.id");
        if (ik == "username") return check(read_optional_string(iv, chat_username), "message.chat.username");
        if (ik == "title") return check(read_optional_string(iv, ev.channel), "message.chat.title");
        return ParseStatus::ok();
      });
    }
    if (k == "entities" || k == "caption_entities") {
      return for_each_element(v, "message.entities", [&](od::value entity) {
        TelegramEntity& te = tagged.emplace_back();
        return for_each_field(entity, "message.entities[]", [&](std::string_view ik, od::value iv) {
          if (ik == "type") return check(read_string(iv, te.type), "message.entities[].type");
          if (ik == "url") return check(read_string(iv, te.url), "message.entities[].url");
          if (ik == "offset") return check(read_integer(iv, te.offset), "message.entities[].offset");
          if (ik == "length") return check(read_integer(iv, te.length), "message.entities[].length");
          return ParseStatus::ok();
        });
      });
    }
    return ParseStatus::ok();
  });
  if (!st.is_ok()) return st;
  if (message_id.empty()) return missing("message.message_id");
  if (chat_id.empty()) return missing("message.chat.id");
  if (!have_date) return missing("message.date");
  ev.platform = "telegram";
  ev.kind.assign(kind);
  join_into(ev.event_id, {"telegram:", chat_id, ":", message_id});
  if (!from_id.empty() || !sender_chat_id.empty())
    join_into(ev.author, {"telegram:", !from_id.empty() ? from_id : sender_chat_id});
  if (ev.channel.empty()) join_into(ev.channel, {"telegram:", chat_id});
  if (!chat_username.empty()) join_into(ev.permalink, {"https://t.me/", chat_username, "/", message_id});
  // What Telegram itself recognised in the text: trust it even where our own heuristics would
  // not (a phone written in an odd layout, a URL without a known suffix).
  for (const auto& te : tagged) {
    if (te.type == "text_link") {  // the URL hides behind ordinary words: it is only here
      if (!te.url.empty()) ev.append(ev.urls, te.url);
      continue;
    }
    const auto span = utf16_span(text, te.offset, te.length);
    if (!span) continue;  // offsets that do not fit the text are the sender's bug, not ours
    const std::string_view value = std::string_view(text).substr(span->first, span->second - span->first);
    if (te.type == "url")
      ev.append(ev.urls, value);
    else if (te.type == "mention")
      ev.append(ev.handles, value);
    else if (te.type == "phone_number")
      ev.append(ev.phones, value);
    else if (te.type == "email")
      ev.append(ev.emails, value);
  }
  return ParseStatus::ok();
}

ParseStatus parse_telegram(od::object root, Event& ev) {
  bool have_update_id = false, have_message = false;
  ParseStatus st = for_each_field(root, "", [&](std::string_view k, od::value v) {
    if (k == "update_id") {
      std::string id;
      have_update_id = true;
      return check(read_id(v, id), "update_id");
    }
    if (k == "message" || k == "edited_message" || k == "channel_post" || k == "edited_channel_post") {
      have_message = true;
      const std::string_view kind = (k == "channel_post" || k == "edited_channel_post") ? "post" : "message";
      return parse_telegram_message(v, k, kind, ev);
    }
    return ParseStatus::ok();
  });
  if (!st.is_ok()) return st;
  if (!have_update_id) return missing("update_id");
  if (!have_message) return ParseStatus::skip("telegram update carries no message, edited_message or channel_post");
  return ParseStatus::ok();
}

// ---- facebook: Graph API post or comment ----------------------------------------------

ParseStatus parse_facebook(od::object root, Event& ev) {
  std::string_view id, from_id;
  bool have_time = false, is_comment = false;
  ParseStatus st = for_each_field(root, "", [&](std::string_view k, od::value v) {
    if (k == "id") return check(read_id(v, id), "id");
    if (k == "message") return check(read_optional_string(v, ev.text), "message");
    if (k == "created_time") {
      have_time = true;
      return read_iso_time(v, "created_time", ev.event_time);
    }
    if (k == "permalink_url") return check(read_optional_string(v, ev.permalink), "permalink_url");
    if (k == "parent" || k == "parent_id") is_comment = true;
    if (k == "from") {
      return for_each_field(v, "from", [&](std::string_view ik, od::value iv) {
        return ik == "id" ? check(read_id(iv, from_id), "from.id") : ParseStatus::ok();
      });
    }
    if (k == "attachments") {
      return for_each_field(v, "attachments", [&](std::string_view ik, od::value iv) {
        if (ik != "data") return ParseStatus::ok();
        return for_each_element(iv, "attachments.data", [&](od::value attachment) {
          return for_each_field(attachment, "attachments.data[]", [&](std::string_view ak, od::value av) {
            if (ak != "url" && ak != "unshimmed_url") return ParseStatus::ok();
            std::string_view url;
            const ParseStatus s = check(read_optional_string(av, url), "attachments.data[].url");
            // The shim's target too, once: `unshimmed_url`, when present, is the same link.
            const auto add = [&](std::string_view u) {
              if (!u.empty() && std::find(ev.urls.begin(), ev.urls.end(), u) == ev.urls.end()) ev.append(ev.urls, u);
            };
            add(url);
            add(facebook_shim_target(url));
            return s;
          });
        });
      });
    }
    return ParseStatus::ok();
  });
  if (!st.is_ok()) return st;
  if (id.empty()) return missing("id");
  if (!have_time) return missing("created_time");
  ev.platform = "facebook";
  ev.kind = is_comment ? "comment" : "post";
  join_into(ev.event_id, {"facebook:", id});
  if (!from_id.empty()) join_into(ev.author, {"facebook:", from_id});
  if (const auto underscore = id.find('_'); underscore != std::string::npos)
    join_into(ev.channel, {"facebook:", std::string_view(id).substr(0, underscore)});
  return ParseStatus::ok();
}

// ---- tiktok: Research API video or comment --------------------------------------------

ParseStatus parse_tiktok(od::object root, Event& ev) {
  std::string_view id, username, video_id;
  bool have_time = false;
  ParseStatus st = for_each_field(root, "", [&](std::string_view k, od::value v) {
    if (k == "id") return check(read_id(v, id), "id");
    if (k == "video_description" || k == "text") return check(read_optional_string(v, ev.text), k);
    if (k == "create_time") {
      have_time = true;
      return read_epoch(v, "create_time", 1, ev.event_time);
    }
    if (k == "username") return check(read_optional_string(v, username), "username");
    if (k == "share_url") return check(read_optional_string(v, ev.permalink), "share_url");
    if (k == "video_id") return check(read_id(v, video_id), "video_id");
    return ParseStatus::ok();
  });
  if (!st.is_ok()) return st;
  if (id.empty()) return missing("id");
  if (!have_time) return missing("create_time");
  ev.platform = "tiktok";
  ev.kind = video_id.empty() ? "post" : "comment";
  join_into(ev.event_id, {"tiktok:", id});
  if (!username.empty()) join_into(ev.author, {"tiktok:", username});
  if (!video_id.empty()) join_into(ev.channel, {"tiktok:", video_id});
  return ParseStatus::ok();
}

// ---- zalo: Official Account webhook ---------------------------------------------------

ParseStatus parse_zalo(od::object root, Event& ev) {
  std::string_view event_name, sender_id, recipient_id, msg_id;
  bool have_message = false, have_time = false;
  ParseStatus st = for_each_field(root, "", [&](std::string_view k, od::value v) {
    if (k == "event_name") return check(read_string(v, event_name), "event_name");
    if (k == "timestamp") {
      have_time = true;
      return read_epoch(v, "timestamp", 1000, ev.event_time);
    }
    if (k == "sender" || k == "recipient") {
      std::string_view& id = k == "sender" ? sender_id : recipient_id;
      return for_each_field(v, k, [&](std::string_view ik, od::value iv) {
        return ik == "id" ? check(read_id(iv, id), k == "sender" ? "sender.id" : "recipient.id") : ParseStatus::ok();
      });
    }
    if (k == "message") {
      have_message = true;
      return for_each_field(v, "message", [&](std::string_view ik, od::value iv) {
        if (ik == "msg_id") return check(read_id(iv, msg_id), "message.msg_id");
        if (ik == "text") return check(read_optional_string(iv, ev.text), "message.text");
        return ParseStatus::ok();
      });
    }
    return ParseStatus::ok();
  });
  if (!st.is_ok()) return st;
  if (event_name.empty()) return missing("event_name");
  if (!have_message) return ParseStatus::skip("zalo event '" + std::string(event_name) + "' carries no message");
  if (sender_id.empty()) return missing("sender.id");
  if (msg_id.empty()) return missing("message.msg_id");
  if (!have_time) return missing("timestamp");
  ev.platform = "zalo";
  ev.kind = "message";
  join_into(ev.event_id, {"zalo:", msg_id});
  join_into(ev.author, {"zalo:", sender_id});
  if (!recipient_id.empty()) join_into(ev.channel, {"zalo:", recipient_id});
  return ParseStatus::ok();
}

// ---- report: citizen tip --------------------------------------------------------------

ParseStatus parse_report(od::object root, Event& ev) {
  std::string_view report_id, reporter, target_kind, target_value;
  bool have_time = false;
  ParseStatus st = for_each_field(root, "", [&](std::string_view k, od::value v) {
    if (k == "report_id") return check(read_id(v, report_id), "report_id");
    if (k == "received_at") {
      have_time = true;
      return read_iso_time(v, "received_at", ev.event_time);
    }
    if (k == "channel") return check(read_optional_string(v, ev.channel), "channel");
    if (k == "reporter_id") return check(read_id(v, reporter), "reporter_id");
    if (k == "description") return check(read_optional_string(v, ev.text), "description");
    if (k == "target") {
      return for_each_field(v, "target", [&](std::string_view ik, od::value iv) {
        if (ik == "kind") return check(read_string(iv, target_kind), "target.kind");
        if (ik == "value") return check(read_string(iv, target_value), "target.value");
        return ParseStatus::ok();
      });
    }
    return ParseStatus::ok();
  });
  if (!st.is_ok()) return st;
  if (report_id.empty()) return missing("report_id");
  if (!have_time) return missing("received_at");
  if (target_kind.empty()) return missing("target.kind");
  if (target_value.empty()) return missing("target.value");
  if (target_kind == "url") {
    ev.append(ev.urls, target_value);
  } else if (target_kind == "phone") {
    ev.append(ev.phones, target_value);
  } else if (target_kind == "bank_account") {
    ev.append(ev.bank_accounts, target_value);
  } else if (target_kind == "social_account") {
    ev.append(ev.accounts, target_value);
  } else {
    return ParseStatus::error("wrong_type",
                              "field 'target.kind' must be url, phone, bank_account or social_account, not '" +
                                  std::string(target_kind) + "'");
  }
  ev.platform = "report";
  ev.kind = "report";
  join_into(ev.event_id, {"report:", report_id});
  if (!reporter.empty()) join_into(ev.author, {"report:", reporter});
  return ParseStatus::ok();
}

// ---- canonical: an Event serialised upstream ------------------------------------------

ParseStatus parse_canonical(od::object root, Event& ev) {
  bool have_time = false;
  ParseStatus st = for_each_field(root, "", [&](std::string_view k, od::value v) {
    if (k == "event_id") return check(read_id(v, ev.event_id), "event_id");
    if (k == "platform") return check(read_string(v, ev.platform), "platform");
    if (k == "kind") return check(read_string(v, ev.kind), "kind");
    if (k == "author") return check(read_optional_string(v, ev.author), "author");
    if (k == "channel") return check(read_optional_string(v, ev.channel), "channel");
    if (k == "text") return check(read_string(v, ev.text), "text");
    if (k == "permalink") return check(read_optional_string(v, ev.permalink), "permalink");
    if (k == "event_time") {
      have_time = true;
      od::json_type t;
      VIGIL_JSON(v.type().get(t), "event_time");
      if (t == od::json_type::string) return read_iso_time(v, "event_time", ev.event_time);
      return read_epoch(v, "event_time", 1000, ev.event_time);
    }
    if (k == "urls") {
      return for_each_element(v, "urls", [&](od::value url) {
        std::string_view s;
        const ParseStatus r = check(read_string(url, s), "urls[]");
        ev.append(ev.urls, s);
        return r;
      });
    }
    return ParseStatus::ok();
  });
  if (!st.is_ok()) return st;
  if (ev.event_id.empty()) return missing("event_id");
  if (ev.platform.empty()) return missing("platform");
  if (!have_time) return missing("event_time");
  if (ev.kind.empty()) ev.kind = "post";
  return ParseStatus::ok();
}

// Nesting depth of the document, counted outside strings, past `limit`. A document cannot
// nest deeper than its number of opening brackets (`opening`), which is counted far faster
// than the walk below: posts have a few dozen at most.
bool deeper_than(std::string_view json, std::size_t opening, std::size_t limit) {
  if (opening <= limit) return false;
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
    // On-Demand reads up to SIMDJSON_PADDING bytes past the end: copy into a reused, padded buffer.
    if (buffer_.size() < payload.size() + simdjson::SIMDJSON_PADDING)
      buffer_.resize(payload.size() + simdjson::SIMDJSON_PADDING);
    std::size_t opening = 0;
    if (adapters::detail::copy_counting_supported()) {
      opening = adapters::detail::copy_counting_opening(payload, buffer_.data());
    } else {
      opening = adapters::detail::count_opening(payload);
      std::memcpy(buffer_.data(), payload.data(), payload.size());
    }
    if (deeper_than(payload, opening, limits_.max_json_depth)) {
      return ParseStatus::error("too_deep",
                                "JSON nested deeper than " + std::to_string(limits_.max_json_depth) + " levels");
    }
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
    text::nfc_in_place(out.text);
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

#if defined(__x86_64__)
bool adapters::detail::copy_counting_supported() {
  static const bool kSupported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("popcnt");
  }();
  return kSupported;
}

__attribute__((target("avx512f,avx512bw,popcnt"))) std::size_t adapters::detail::copy_counting_opening(
    std::string_view json, char* out) {
  const __m512i brace = _mm512_set1_epi8('{');
  const __m512i bracket = _mm512_set1_epi8('[');
  const char* in = json.data();
  const std::size_t n = json.size();
  std::size_t opening = 0;
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    const __m512i v = _mm512_loadu_si512(in + i);
    _mm512_storeu_si512(out + i, v);
    opening +=
        static_cast<std::size_t>(_mm_popcnt_u64(_mm512_cmpeq_epi8_mask(v, brace) | _mm512_cmpeq_epi8_mask(v, bracket)));
  }
  if (i < n) {
    // The last bytes with a masked load (never past the record); the zeros after them land in
    // the padding.
    const __m512i v = _mm512_maskz_loadu_epi8((std::uint64_t{1} << (n - i)) - 1, in + i);
    _mm512_storeu_si512(out + i, v);
    opening +=
        static_cast<std::size_t>(_mm_popcnt_u64(_mm512_cmpeq_epi8_mask(v, brace) | _mm512_cmpeq_epi8_mask(v, bracket)));
  }
  return opening;
}
#else
bool adapters::detail::copy_counting_supported() {
  return false;
}

std::size_t adapters::detail::copy_counting_opening(std::string_view json, char* out) {
  std::memcpy(out, json.data(), json.size());
  return count_opening(json);
}
#endif

std::size_t adapters::detail::count_opening(std::string_view json) {
  std::size_t opening = 0;
  std::size_t i = 0;
#if defined(__SSE2__)
  const __m128i open_brace = _mm_set1_epi8('{');
  const __m128i open_bracket = _mm_set1_epi8('[');
  while (i + 16 <= json.size()) {
    // Per byte lane, minus the number of brackets seen: at most 255 blocks before summing.
    __m128i lanes = _mm_setzero_si128();
    for (std::size_t blocks = 0; blocks < 255 && i + 16 <= json.size(); ++blocks, i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(json.data() + i));
      lanes = _mm_add_epi8(lanes, _mm_cmpeq_epi8(v, open_brace));
      lanes = _mm_add_epi8(lanes, _mm_cmpeq_epi8(v, open_bracket));
    }
    // Each lane holds 256 - count (mod 256); negate, then add the lanes up.
    const __m128i counts = _mm_sub_epi8(_mm_setzero_si128(), lanes);
    const __m128i sums = _mm_sad_epu8(counts, _mm_setzero_si128());
    opening += static_cast<std::size_t>(_mm_cvtsi128_si32(sums)) +
               static_cast<std::size_t>(_mm_cvtsi128_si32(_mm_unpackhi_epi64(sums, sums)));
  }
#endif
  for (; i < json.size(); ++i) opening += static_cast<std::size_t>(json[i] == '{' || json[i] == '[');
  return opening;
}

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
