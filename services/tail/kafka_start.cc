#include "services/tail/kafka_start.h"

#include "common/io/kafka/admin.h"

namespace vigil::tail {
namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

Result<KafkaPlan> plan_kafka(const Args& args, const DetectorConfig& config,
                             const std::map<std::string, std::string>& properties, TimestampMs now) {
  auto admin = io::open_kafka_admin(properties, std::chrono::seconds(15));
  if (!admin.is_ok()) return admin.status();
  KafkaPlan plan;
  io::KafkaSourceOptions& source = plan.source;
  source.properties = properties;
  source.topics = args.topics;
  if (source.topics.empty()) {
    auto names = admin.value()->topic_names();
    if (!names.is_ok()) return names.status();
    for (const auto& name : names.value()) {
      if (name.starts_with(config.flags_topic_prefix)) source.topics.push_back(name);
    }
    if (source.topics.empty()) {
      return Status(Code::kNotFound, "no topic named " + config.flags_topic_prefix +
                                         "* on the brokers: give --topic NAME, or a --config whose "
                                         "outputs.flags_topic_prefix names the flag topics");
    }
  } else if (auto parts = admin.value()->partitions(source.topics); !parts.is_ok()) {
    return Status(Code::kNotFound, parts.status().message() + " (check --topic)");
  }

  const bool at_time = !args.from_beginning;
  const TimestampMs start_time = args.filter.since.value_or(now);
  const std::string where = args.from_beginning ? "from the beginning"
                            : args.filter.since ? "from " + format_iso8601(*args.filter.since)
                                                : "from now on";
  if (args.group.empty()) {
    source.assign_all = true;
    source.start = at_time ? io::StartAt::kTime : io::StartAt::kBeginning;
    source.start_time = start_time;
  } else {
    source.properties["group.id"] = args.group;
    // Only used if setting the start below failed: the closest librdkafka can do by itself.
    source.properties["auto.offset.reset"] = args.from_beginning ? "earliest" : "latest";
    if (at_time) {
      auto committed = admin.value()->committed_offsets(args.group, source.topics);
      if (!committed.is_ok()) return committed.status();
      auto starts = admin.value()->offsets_for_time(source.topics, start_time);
      if (!starts.is_ok()) return starts.status();
      std::vector<io::TopicPartitionOffset> fresh;
      for (const auto& start : starts.value()) {
        for (const auto& c : committed.value()) {
          if (c.topic == start.topic && c.partition == start.partition && c.offset < 0) fresh.push_back(start);
        }
      }
      if (!fresh.empty()) {
        if (const Status st = admin.value()->alter_group_offsets(args.group, fresh); !st.is_ok()) {
          // The group has members already: they own the start; ours would be refused anyway.
          plan.description =
              "(could not set the start of " + std::to_string(fresh.size()) + " new partitions: " + st.message() + ") ";
        }
      }
    }
  }
  plan.description += "following " + std::to_string(source.topics.size()) + " topic" +
                      (source.topics.size() == 1 ? "" : "s") + " (" + joined(source.topics) + ") " +
                      (args.group.empty() ? where + ", no consumer group"
                                          : "in group " + args.group + " (new partitions " + where + ")");
  return plan;
}

}  // namespace vigil::tail
