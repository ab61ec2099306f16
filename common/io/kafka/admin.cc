#include "common/io/kafka/admin.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace vigil::io {
namespace {

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* p) const { rd_kafka_topic_partition_list_destroy(p); }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
using Event = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};

struct OptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};

PartitionList to_list(const std::vector<TopicPartitionOffset>& offsets) {
  PartitionList list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& tpo : offsets)
    rd_kafka_topic_partition_list_add(list.get(), tpo.topic.c_str(), tpo.partition)->offset = tpo.offset;
  return list;
}

std::string where(const std::string& topic, std::int32_t partition) {
  return topic + "/" + std::to_string(partition);
}

class Admin final : public KafkaAdmin {
 public:
  Admin(rd_kafka_t* rk, std::chrono::milliseconds timeout)
      : rk_(rk), queue_(rd_kafka_queue_new(rk)), timeout_ms_(static_cast<int>(timeout.count())) {}
  ~Admin() override {
    queue_.reset();
    rd_kafka_destroy(rk_);
  }
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  Result<std::vector<TopicPartitionOffset>> partitions(const std::vector<std::string>& topics) override {
    const rd_kafka_metadata_t* md = nullptr;
    if (const auto err = rd_kafka_metadata(rk_, 1, nullptr, &md, timeout_ms_); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return kafka_error(std::string("metadata: ") + rd_kafka_err2str(err));
    }
    std::vector<TopicPartitionOffset> out;
    Status status;
    for (const auto& name : topics) {
      const rd_kafka_metadata_topic* found = nullptr;
      for (int i = 0; i < md->topic_cnt; ++i) {
        if (name == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) found = &md->topics[i];
      }
      if (found == nullptr || found->partition_cnt == 0) {
        status = Status(Code::kNotFound, "topic " + name + " does not exist");
        break;
      }
      std::vector<std::int32_t> ids;
      for (int p = 0; p < found->partition_cnt; ++p) ids.push_back(found->partitions[p].id);
      std::sort(ids.begin(), ids.end());
      for (const auto id : ids) out.push_back({name, id, 0});
    }
    rd_kafka_metadata_destroy(md);
    if (!status.is_ok()) return status;
    return out;
  }

  Result<std::vector<std::string>> topic_names() override {
    const rd_kafka_metadata_t* md = nullptr;
    if (const auto err = rd_kafka_metadata(rk_, 1, nullptr, &md, timeout_ms_); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return kafka_error(std::string("metadata: ") + rd_kafka_err2str(err));
    }
    std::vector<std::string> out;
    for (int i = 0; i < md->topic_cnt; ++i) {
      const std::string name = md->topics[i].topic;
      if (!name.starts_with("__") && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR) out.push_back(name);
    }
    rd_kafka_metadata_destroy(md);
    std::sort(out.begin(), out.end());
    return out;
  }

  Result<std::vector<PartitionWatermarks>> watermarks(const std::vector<std::string>& topics) override {
    auto parts = partitions(topics);
    if (!parts.is_ok()) return parts.status();
    std::vector<PartitionWatermarks> out;
    for (const auto& tp : parts.value()) {
      PartitionWatermarks& w = out.emplace_back();
      w.topic = tp.topic;
      w.partition = tp.partition;
      const auto err =
          rd_kafka_query_watermark_offsets(rk_, tp.topic.c_str(), tp.partition, &w.low, &w.high, timeout_ms_);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return kafka_error("watermarks of " + where(tp.topic, tp.partition) + ": " + rd_kafka_err2str(err));
      }
    }
    return out;
  }

  Result<std::vector<TopicPartitionOffset>> offsets_for_time(const std::vector<std::string>& topics,
                                                             TimestampMs time) override {
    auto parts = partitions(topics);
    if (!parts.is_ok()) return parts.status();
    for (auto& tp : parts.value()) tp.offset = time;
    PartitionList list = to_list(parts.value());
    if (const auto err = rd_kafka_offsets_for_times(rk_, list.get(), timeout_ms_); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return kafka_error(std::string("offsets for time: ") + rd_kafka_err2str(err));
    }
    std::vector<TopicPartitionOffset> out;
    for (int i = 0; i < list->cnt; ++i) {
      const auto& e = list->elems[i];
      if (e.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return kafka_error("offsets for time on " + where(e.topic, e.partition) + ": " + rd_kafka_err2str(e.err));
      }
      std::int64_t offset = e.offset;
      if (offset < 0) {
        // No record at or after `time`: the end of the partition.
        std::int64_t low = 0, high = 0;
        const auto err = rd_kafka_query_watermark_offsets(rk_, e.topic, e.partition, &low, &high, timeout_ms_);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          return kafka_error("end offset of " + where(e.topic, e.partition) + ": " + rd_kafka_err2str(err));
        }
        offset = high;
      }
      out.push_back({e.topic, e.partition, offset});
    }
    return out;
  }

  Result<GroupDescription> describe_group(const std::string& group) override {
    const char* groups[] = {group.c_str()};
    auto options = admin_options(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_DescribeConsumerGroups(rk_, groups, 1, options.get(), queue_.get());
    auto event = wait_for(RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT);
    if (!event.is_ok()) return event.status();
    const auto* result = rd_kafka_event_DescribeConsumerGroups_result(event.value().get());
    size_t n = 0;
    const auto** descriptions = rd_kafka_DescribeConsumerGroups_result_groups(result, &n);
    if (n != 1) return kafka_error("describe group " + group + ": no answer");
    if (const rd_kafka_error_t* err = rd_kafka_ConsumerGroupDescription_error(descriptions[0]); err != nullptr) {
      return kafka_error("describe group " + group + ": " + rd_kafka_error_string(err));
    }
    GroupDescription out;
    out.group = group;
    out.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(descriptions[0]));
    out.members = static_cast<int>(rd_kafka_ConsumerGroupDescription_member_count(descriptions[0]));
    return out;
  }

  Result<std::vector<TopicPartitionOffset>> committed_offsets(const std::string& group,
                                                              const std::vector<std::string>& topics) override {
    auto parts = partitions(topics);
    if (!parts.is_ok()) return parts.status();
    PartitionList list = to_list(parts.value());
    rd_kafka_ListConsumerGroupOffsets_t* request = rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), list.get());
    auto options = admin_options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    rd_kafka_ListConsumerGroupOffsets(rk_, &request, 1, options.get(), queue_.get());
    rd_kafka_ListConsumerGroupOffsets_destroy(request);
    auto event = wait_for(RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT);
    if (!event.is_ok()) return event.status();
    size_t n = 0;
    const auto** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(event.value().get()), &n);
    if (n != 1) return kafka_error("committed offsets of " + group + ": no answer");
    if (const rd_kafka_error_t* err = rd_kafka_group_result_error(groups[0]); err != nullptr) {
      return kafka_error("committed offsets of " + group + ": " + rd_kafka_error_string(err));
    }
    const auto* got = rd_kafka_group_result_partitions(groups[0]);
    std::vector<TopicPartitionOffset> out;
    for (int i = 0; got != nullptr && i < got->cnt; ++i) {
      const auto& e = got->elems[i];
      out.push_back({e.topic, e.partition, e.offset < 0 ? -1 : e.offset});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
    });
    return out;
  }

  Status create_topics(const std::vector<TopicSpec>& topics) override {
    if (topics.empty()) return Status::ok();
    std::vector<rd_kafka_NewTopic_t*> news;
    char err[512];
    for (const auto& t : topics) {
      rd_kafka_NewTopic_t* nt =
          rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor, err, sizeof err);
      if (nt == nullptr) {
        for (auto* n : news) rd_kafka_NewTopic_destroy(n);
        return invalid_argument("topic " + t.name + ": " + err);
      }
      for (const auto& [k, v] : t.configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
      news.push_back(nt);
    }
    auto options = admin_options(RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(rk_, news.data(), news.size(), options.get(), queue_.get());
    for (auto* n : news) rd_kafka_NewTopic_destroy(n);
    auto event = wait_for(RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    if (!event.is_ok()) return event.status();
    size_t n = 0;
    const auto** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event.value().get()), &n);
    for (size_t i = 0; i < n; ++i) {
      const auto code = rd_kafka_topic_result_error(results[i]);
      if (code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
      const char* msg = rd_kafka_topic_result_error_string(results[i]);
      return kafka_error("create topic " + std::string(rd_kafka_topic_result_name(results[i])) + ": " +
                         (msg != nullptr ? msg : rd_kafka_err2str(code)));
    }
    return Status::ok();
  }

  Status alter_group_offsets(const std::string& group, const std::vector<TopicPartitionOffset>& offsets) override {
    PartitionList list = to_list(offsets);
    rd_kafka_AlterConsumerGroupOffsets_t* request = rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.get());
    auto options = admin_options(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS);
    rd_kafka_AlterConsumerGroupOffsets(rk_, &request, 1, options.get(), queue_.get());
    rd_kafka_AlterConsumerGroupOffsets_destroy(request);
    auto event = wait_for(RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT);
    if (!event.is_ok()) return event.status();
    size_t n = 0;
    const auto** groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
        rd_kafka_event_AlterConsumerGroupOffsets_result(event.value().get()), &n);
    if (n != 1) return kafka_error("alter offsets of " + group + ": no answer");
    if (const rd_kafka_error_t* err = rd_kafka_group_result_error(groups[0]); err != nullptr) {
      return kafka_error("alter offsets of " + group + ": " + rd_kafka_error_string(err));
    }
    const auto* got = rd_kafka_group_result_partitions(groups[0]);
    for (int i = 0; got != nullptr && i < got->cnt; ++i) {
      if (got->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return kafka_error("alter offsets of " + group + " on " + where(got->elems[i].topic, got->elems[i].partition) +
                           ": " + rd_kafka_err2str(got->elems[i].err));
      }
    }
    return Status::ok();
  }

 private:
  std::unique_ptr<rd_kafka_AdminOptions_t, OptionsDeleter> admin_options(rd_kafka_admin_op_t op) {
    std::unique_ptr<rd_kafka_AdminOptions_t, OptionsDeleter> options(rd_kafka_AdminOptions_new(rk_, op));
    char err[256];
    rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms_, err, sizeof err);
    return options;
  }

  Result<Event> wait_for(rd_kafka_event_type_t type) {
    Event event(rd_kafka_queue_poll(queue_.get(), timeout_ms_ + 1000));
    if (!event) return Status(Code::kUnavailable, "no answer from the cluster within the timeout");
    if (rd_kafka_event_type(event.get()) != type) return internal_error("unexpected admin event");
    if (const auto err = rd_kafka_event_error(event.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return kafka_error(rd_kafka_event_error_string(event.get()));
    }
    return event;
  }

  rd_kafka_t* rk_;
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue_;
  int timeout_ms_;
};

}  // namespace

Result<std::unique_ptr<KafkaAdmin>> open_kafka_admin(const std::map<std::string, std::string>& properties,
                                                     std::chrono::milliseconds timeout) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  for (const auto& [k, v] : properties) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return invalid_argument("kafka property " + k + ": " + err);
    }
  }
  // A producer handle: it joins no group, so asking about a group never disturbs it.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return kafka_error(std::string("cannot create admin client: ") + err);
  }
  return std::unique_ptr<KafkaAdmin>(std::make_unique<Admin>(rk, timeout));
}

}  // namespace vigil::io
