#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/time.h"

namespace vigil {

// Where a record came from: enough for an analyst to fetch the original.
struct SourceCoordinates {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  TimestampMs record_timestamp = 0;
};

// One post, comment, message or citizen report, whatever platform it came from.
// A value type; adapters overwrite every field on each parse so one can be reused.
struct Event {
  std::string event_id;                    // "<platform>:<platform ids>", stable across replays
  std::string platform;                    // facebook | tiktok | telegram | zalo | report | <canonical platform>
  std::string kind;                        // post | comment | message | report
  std::string author;                      // "<platform>:<account id>" (personal: masked on output)
  std::string channel;                     // group, chat or page, when known
  std::string text;                        // NFC-normalised
  std::vector<std::string> urls;           // URLs from structured fields (attachments, hidden links, targets)
  std::vector<std::string> phones;         // phone numbers from structured fields (report targets, Telegram entities)
  std::vector<std::string> emails;         // e-mail addresses tagged by the platform (Telegram entities)
  std::vector<std::string> handles;        // "@name" mentions tagged by the platform (Telegram entities)
  std::vector<std::string> bank_accounts;  // report targets of kind bank_account
  std::vector<std::string> accounts;       // report targets of kind social_account
  TimestampMs event_time = 0;              // from the payload; the record timestamp when it has none
  std::string permalink;
  SourceCoordinates source;

  // Empties every field but keeps the buffers, so a reused Event stops allocating.
  void clear() {
    for (std::string* s : {&event_id, &platform, &kind, &author, &channel, &text, &permalink}) s->clear();
    for (auto* v : {&urls, &phones, &emails, &handles, &bank_accounts, &accounts}) {
      for (auto& s : *v) spare_.push_back(std::move(s));
      v->clear();
    }
    event_time = 0;
    source = SourceCoordinates{};
  }

  // Appends `value` to one of the lists above in the buffer of an entry cleared earlier.
  void append(std::vector<std::string>& list, std::string_view value) {
    if (spare_.empty()) {
      list.emplace_back(value);
      return;
    }
    list.push_back(std::move(spare_.back()));
    spare_.pop_back();
    list.back().assign(value);
  }

 private:
  std::vector<std::string> spare_;  // entries of the lists, kept by clear() for append()
};

}  // namespace vigil
