#include "common/io/kafka/kafka_io.h"

#include <librdkafka/rdkafkacpp.h>
#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <set>
#include <thread>

#include "common/io/kafka/admin.h"

namespace vigil::io {
namespace {

using TopicPartitions = std::vector<RdKafka::TopicPartition*>;

// librdkafka's partition list for our offsets, freed with it.
struct TopicPartitionsOwner {
  explicit TopicPartitionsOwner(const std::vector<TopicPartitionOffset>& offsets) {
    for (const auto& tpo : offsets)
      list.push_back(RdKafka::TopicPartition::create(tpo.topic, tpo.partition, tpo.offset));
  }
  TopicPartitionsOwner(const TopicPartitionsOwner&) = delete;
  TopicPartitionsOwner& operator=(const TopicPartitionsOwner&) = delete;
  TopicPartitions list;
  ~TopicPartitionsOwner() { RdKafka::TopicPartition::destroy(list); }
};

Status configure(RdKafka::Conf& conf, const std::map<std::string, std::string>& properties) {
  std::string err;
  for (const auto& [k, v] : properties) {
    if (conf.set(k, v, err) != RdKafka::Conf::CONF_OK) return invalid_argument("kafka property " + k + ": " + err);
  }
  return Status::ok();
}

Status from_error(RdKafka::Error* error, std::string_view what) {
  std::unique_ptr<RdKafka::Error> owned(error);
  if (!owned) return Status::ok();
  const Code code = owned->is_fatal() ? Code::kFenced : owned->txn_requires_abort() ? Code::kUnavailable : Code::kKafka;
  return Status(code, std::string(what) + ": " + owned->str());
}

// A consumed message as our Record (copies key, value and headers).
void to_record(RdKafka::Message& message, Record& r) {
  RdKafka::Message* msg = &message;
  r.topic = msg->topic_name();
  r.partition = msg->partition();
  r.offset = msg->offset();
  const auto ts = msg->timestamp();
  r.timestamp = ts.timestamp;
  r.timestamp_type = ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_LOG_APPEND_TIME ? TimestampType::kLogAppend
                     : ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_CREATE_TIME   ? TimestampType::kCreate
                                                                                         : TimestampType::kNone;
  if (msg->key_pointer() != nullptr) r.key.emplace(static_cast<const char*>(msg->key_pointer()), msg->key_len());
  if (msg->payload() != nullptr) r.value.emplace(static_cast<const char*>(msg->payload()), msg->len());
  if (RdKafka::Headers* headers = msg->headers(); headers != nullptr) {
    for (const auto& h : headers->get_all()) {
      Header& out_h = r.headers.emplace_back();
      out_h.key = h.key();
      if (h.value() != nullptr) out_h.value.emplace(static_cast<const char*>(h.value()), h.value_size());
    }
  }
}

class KafkaSource;

class StatisticsHandler final : public RdKafka::EventCb {
 public:
  explicit StatisticsHandler(std::function<void(const std::vector<PartitionLag>&)> on_lag)
      : on_lag_(std::move(on_lag)) {}
  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_STATS && on_lag_) on_lag_(parse_consumer_lag(event.str()));
  }

 private:
  std::function<void(const std::vector<PartitionLag>&)> on_lag_;
};

// Keeps the assignment itself: rebalance_cb must not ask librdkafka (assignment(),
// rebalance_protocol()), as those are requests to the consumer's group thread, and during
// close() on a consumer in the middle of a cooperative rebalance they never get an answer
// (librdkafka 2.0.2; upstream issues 4041 and 4527): the detector hung at exit, its
// partitions stuck with it until its session timed out.
class RebalanceHandler final : public RdKafka::RebalanceCb {
 public:
  RebalanceHandler(std::set<std::pair<std::string, std::int32_t>>& revoked, std::atomic<bool>& assigned,
                   std::function<void(const std::vector<TopicPartitionOffset>&)> on_revoke,
                   std::function<void(std::size_t)> on_rebalance,
                   std::function<void(const std::vector<TopicPartitionOffset>&)> on_assign, bool pause_on_assign)
      : revoked_(revoked),
        assigned_(assigned),
        on_revoke_(std::move(on_revoke)),
        on_rebalance_(std::move(on_rebalance)),
        on_assign_(std::move(on_assign)),
        pause_on_assign_(pause_on_assign) {}
  // From partition.assignment.strategy, before the consumer is created.
  void set_cooperative(bool cooperative) { cooperative_ = cooperative; }
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err, TopicPartitions& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      assigned_.store(true);
      if (cooperative_) {
        delete consumer->incremental_assign(partitions);
      } else {
        consumer->assign(partitions);
        assignment_.clear();
      }
      for (const auto* tp : partitions) assignment_.emplace(tp->topic(), tp->partition());
      // Held back until the owner resumes them (e.g. once their state is restored).
      if (pause_on_assign_ && !partitions.empty()) consumer->pause(partitions);
      if (on_assign_ && !partitions.empty()) {
        std::vector<TopicPartitionOffset> given;
        for (const auto* tp : partitions) given.push_back({tp->topic(), tp->partition(), -1});
        on_assign_(given);
      }
    } else {
      std::vector<TopicPartitionOffset> lost;
      for (const auto* tp : partitions) {
        revoked_.emplace(tp->topic(), tp->partition());
        lost.push_back({tp->topic(), tp->partition(), -1});
      }
      if (on_revoke_ && !lost.empty()) on_revoke_(lost);
      if (cooperative_) {
        delete consumer->incremental_unassign(partitions);
        for (const auto* tp : partitions) assignment_.erase({tp->topic(), tp->partition()});
      } else {
        consumer->unassign();
        assignment_.clear();
      }
    }
    if (on_rebalance_) on_rebalance_(assignment_.size());
  }

 private:
  std::set<std::pair<std::string, std::int32_t>>& revoked_;
  std::atomic<bool>& assigned_;
  std::function<void(const std::vector<TopicPartitionOffset>&)> on_revoke_;
  std::function<void(std::size_t)> on_rebalance_;
  std::function<void(const std::vector<TopicPartitionOffset>&)> on_assign_;
  bool pause_on_assign_ = false;
  bool cooperative_ = true;
  std::set<std::pair<std::string, std::int32_t>> assignment_;
};

// librdkafka uses the cooperative protocol when every configured assignor is cooperative.
bool cooperative_strategy(const std::string& strategies) {
  std::size_t at = 0;
  while (at <= strategies.size()) {
    auto end = strategies.find(',', at);
    if (end == std::string::npos) end = strategies.size();
    std::string name = strategies.substr(at, end - at);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name != "cooperative-sticky") return false;
    at = end + 1;
  }
  return true;
}

class KafkaSource final : public Source {
 public:
  explicit KafkaSource(const KafkaSourceOptions& options)
      : rebalance_(revoked_, assigned_, options.on_revoke, options.on_rebalance, options.on_assign,
                   options.pause_on_assign),
        statistics_(options.on_lag) {}
  ~KafkaSource() override { close(); }

  Status open(const KafkaSourceOptions& options) {
    auto props = options.properties;
    props.emplace("enable.auto.commit", "false");
    props.emplace("enable.auto.offset.store", "false");
    props.emplace("isolation.level", "read_committed");
    props.emplace("auto.offset.reset", "earliest");
    props.emplace("partition.assignment.strategy", "cooperative-sticky");
    if (options.assign_all) {
      // librdkafka's C++ consumer wants a group id even when it never joins the group.
      props.emplace("group.id", "vigil-unjoined");
      assign_only_ = true;
    }
    if (props.count("group.id") == 0) return invalid_argument("kafka consumer: group.id is required");
    rebalance_.set_cooperative(cooperative_strategy(props["partition.assignment.strategy"]));
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    VIGIL_RETURN_IF_ERROR(configure(*conf, props));
    std::string err;
    if (conf->set("rebalance_cb", &rebalance_, err) != RdKafka::Conf::CONF_OK) return internal_error(err);
    if (options.on_lag) {
      if (props.count("statistics.interval.ms") == 0 &&
          conf->set("statistics.interval.ms", "5000", err) != RdKafka::Conf::CONF_OK) {
        return internal_error(err);
      }
      if (conf->set("event_cb", &statistics_, err) != RdKafka::Conf::CONF_OK) return internal_error(err);
    }
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!consumer_) return kafka_error("cannot create consumer: " + err);
    if (options.assign_all) return assign_all(options, props);
    if (const auto code = consumer_->subscribe(options.topics); code != RdKafka::ERR_NO_ERROR) {
      return kafka_error("subscribe: " + RdKafka::err2str(code));
    }
    return Status::ok();
  }

  Status poll(std::vector<Record>& out, std::size_t max, std::chrono::milliseconds timeout) override {
    const std::size_t first = out.size();
    auto wait = timeout;
    while (out.size() - first < max) {
      std::unique_ptr<RdKafka::Message> msg(consumer_->consume(static_cast<int>(wait.count())));
      wait = std::chrono::milliseconds(0);
      if (!revoked_.empty()) {
        out.erase(std::remove_if(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
                                 [&](const Record& r) {
                                   return revoked_.count({r.topic, r.partition}) > 0;
                                 }),
                  out.end());
        revoked_.clear();
      }
      const auto code = msg->err();
      if (code == RdKafka::ERR__TIMED_OUT || code == RdKafka::ERR__PARTITION_EOF) {
        if (code == RdKafka::ERR__TIMED_OUT) break;
        continue;
      }
      if (code != RdKafka::ERR_NO_ERROR) {
        if (code == RdKafka::ERR__FATAL) return Status(Code::kFenced, "consumer: " + msg->errstr());
        // Transient broker or network trouble: librdkafka retries by itself.
        continue;
      }
      to_record(*msg, out.emplace_back());
    }
    return Status::ok();
  }

  bool at_end() const override { return false; }

  Status commit(const std::vector<TopicPartitionOffset>& next) override {
    if (next.empty() || assign_only_) return Status::ok();
    TopicPartitionsOwner tps(next);
    if (const auto code = consumer_->commitSync(tps.list); code != RdKafka::ERR_NO_ERROR) {
      return kafka_error("commit offsets: " + RdKafka::err2str(code));
    }
    return Status::ok();
  }

  Status seek(const std::vector<TopicPartitionOffset>& positions) override {
    for (const auto& p : positions) {
      std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(p.topic, p.partition, p.offset));
      if (const auto code = consumer_->seek(*tp, 10000); code != RdKafka::ERR_NO_ERROR) {
        return kafka_error("seek " + p.topic + "/" + std::to_string(p.partition) + ": " + RdKafka::err2str(code));
      }
    }
    return Status::ok();
  }

  void close() override {
    if (consumer_ && !closed_) {
      consumer_->close();
      closed_ = true;
    }
  }

  RdKafka::KafkaConsumer* consumer() { return consumer_.get(); }

  bool ready() const override { return assigned_.load(); }

  Status resume(const std::vector<TopicPartitionOffset>& partitions) override {
    if (partitions.empty()) return Status::ok();
    TopicPartitionsOwner tps(partitions);
    if (const auto code = consumer_->resume(tps.list); code != RdKafka::ERR_NO_ERROR)
      return kafka_error("resume: " + RdKafka::err2str(code));
    return Status::ok();
  }

 private:
  Status assign_all(const KafkaSourceOptions& options, const std::map<std::string, std::string>& props) {
    // The admin client is a producer underneath: it would warn (CONFWARN) about every consumer
    // property, which the consumer itself has already checked. Errors still show.
    auto admin_props = props;
    admin_props["log_level"] = "3";
    auto admin = open_kafka_admin(admin_props);
    if (!admin.is_ok()) return admin.status();
    Result<std::vector<TopicPartitionOffset>> start = std::vector<TopicPartitionOffset>{};
    if (options.start == StartAt::kTime) {
      start = admin.value()->offsets_for_time(options.topics, options.start_time);
    } else {
      start = admin.value()->partitions(options.topics);
      if (start.is_ok()) {
        for (auto& tp : start.value())
          tp.offset =
              options.start == StartAt::kBeginning ? RdKafka::Topic::OFFSET_BEGINNING : RdKafka::Topic::OFFSET_END;
      }
    }
    if (!start.is_ok()) return start.status();
    TopicPartitionsOwner tps(start.value());
    if (const auto code = consumer_->assign(tps.list); code != RdKafka::ERR_NO_ERROR) {
      return kafka_error("assign: " + RdKafka::err2str(code));
    }
    assigned_.store(true);
    return Status::ok();
  }

  bool assign_only_ = false;
  std::atomic<bool> assigned_{false};
  std::set<std::pair<std::string, std::int32_t>> revoked_;
  RebalanceHandler rebalance_;
  StatisticsHandler statistics_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  bool closed_ = false;
};

class DeliveryReports final : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    if (message.err() != RdKafka::ERR_NO_ERROR) {
      ++failures;
      if (first_error.empty()) first_error = message.topic_name() + ": " + message.errstr();
    } else {
      ++delivered;
      if (track_offsets) {
        auto& next = next_offsets[{message.topic_name(), message.partition()}];
        next = std::max(next, message.offset() + 1);
      }
    }
  }
  bool track_offsets = false;
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> next_offsets;
  std::size_t failures = 0;
  std::size_t delivered = 0;
  std::string first_error;
};

// An idempotent producer (unless `props` says otherwise) reporting deliveries to `reports`.
Result<std::unique_ptr<RdKafka::Producer>> create_producer(std::map<std::string, std::string> props,
                                                           DeliveryReports& reports) {
  props.emplace("enable.idempotence", "true");
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  VIGIL_RETURN_IF_ERROR(configure(*conf, props));
  std::string err;
  if (conf->set("dr_cb", &reports, err) != RdKafka::Conf::CONF_OK) return internal_error(err);
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf.get(), err));
  if (!producer) return kafka_error("cannot create producer: " + err);
  return producer;
}

// Queues a copy of `r`, waiting while the queue is full.
Status produce(RdKafka::Producer& producer, const Record& r) {
  RdKafka::Headers* headers = nullptr;
  if (!r.headers.empty()) {
    headers = RdKafka::Headers::create();
    for (const auto& h : r.headers) {
      if (h.value) {
        headers->add(h.key, h.value->data(), h.value->size());
      } else {
        headers->add(h.key, nullptr, 0);
      }
    }
  }
  while (true) {
    const auto code = producer.produce(
        r.topic, r.partition < 0 ? RdKafka::Topic::PARTITION_UA : r.partition, RdKafka::Producer::RK_MSG_COPY,
        r.value ? const_cast<char*>(r.value->data()) : nullptr, r.value ? r.value->size() : 0,
        r.key ? r.key->data() : nullptr, r.key ? r.key->size() : 0, r.timestamp, headers, nullptr);
    if (code == RdKafka::ERR_NO_ERROR) return Status::ok();  // librdkafka now owns `headers`
    if (code != RdKafka::ERR__QUEUE_FULL) {
      delete headers;
      return kafka_error("produce to " + r.topic + "/" + std::to_string(r.partition) + ": " + RdKafka::err2str(code));
    }
    producer.poll(50);
  }
}

class KafkaProducer final : public Producer {
 public:
  ~KafkaProducer() override {
    if (producer_) producer_->flush(5000);
  }

  Status open(std::map<std::string, std::string> props) {
    props.emplace("partitioner", "murmur2_random");
    auto producer = create_producer(std::move(props), reports_);
    if (!producer.is_ok()) return producer.status();
    producer_ = std::move(producer.value());
    return Status::ok();
  }

  Status send(const Record& record) override {
    VIGIL_RETURN_IF_ERROR(produce(*producer_, record));
    ++counts_.queued;
    return Status::ok();
  }

  void poll() override { producer_->poll(0); }

  Status flush(std::chrono::milliseconds timeout) override {
    const auto code = producer_->flush(static_cast<int>(timeout.count()));
    if (code != RdKafka::ERR_NO_ERROR) {
      return kafka_error("flush: " + std::to_string(producer_->outq_len()) + " records still in flight after " +
                         std::to_string(timeout.count()) + " ms: " + RdKafka::err2str(code));
    }
    return Status::ok();
  }

  const ProducerCounts& counts() const override {
    counts_.delivered = reports_.delivered;
    counts_.failed = reports_.failures;
    counts_.first_error = reports_.first_error;
    return counts_;
  }

 private:
  DeliveryReports reports_;
  mutable ProducerCounts counts_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

class KafkaSink final : public Sink {
 public:
  ~KafkaSink() override { close(); }

  Status open(const KafkaSinkOptions& options) {
    timeout_ms_ = static_cast<int>(options.timeout.count());
    auto props = options.properties;
    // Keyed records (stage A's observations) must land where Kafka's Java partitioner, and
    // the offline pipeline (kafka_partition_for_key), put them: librdkafka's default,
    // consistent_random, hashes keys with CRC32 instead.
    props.emplace("partitioner", "murmur2_random");
    transactional_ = props.count("transactional.id") > 0;
    reports_.track_offsets = true;
    auto producer = create_producer(std::move(props), reports_);
    if (!producer.is_ok()) return producer.status();
    producer_ = std::move(producer.value());
    if (transactional_)
      VIGIL_RETURN_IF_ERROR(from_error(producer_->init_transactions(timeout_ms_), "init_transactions"));
    return Status::ok();
  }

  Status begin() override {
    reports_.failures = 0;
    reports_.first_error.clear();
    reports_.next_offsets.clear();
    if (!transactional_) return Status::ok();
    return from_error(producer_->begin_transaction(), "begin_transaction");
  }

  Status send(const Record& r) override { return produce(*producer_, r); }

  Status commit(Source& source, const std::vector<TopicPartitionOffset>& next) override {
    if (!transactional_) {
      if (const auto code = producer_->flush(timeout_ms_); code != RdKafka::ERR_NO_ERROR) {
        return kafka_error("flush: " + RdKafka::err2str(code));
      }
      if (reports_.failures > 0)
        return kafka_error(std::to_string(reports_.failures) +
                           " records not delivered; first: " + reports_.first_error);
      return source.commit(next);
    }
    auto* kafka_source = dynamic_cast<KafkaSource*>(&source);
    if (kafka_source != nullptr && !next.empty()) {
      TopicPartitionsOwner tps(next);
      std::unique_ptr<RdKafka::ConsumerGroupMetadata> meta(kafka_source->consumer()->groupMetadata());
      VIGIL_RETURN_IF_ERROR(from_error(producer_->send_offsets_to_transaction(tps.list, meta.get(), timeout_ms_),
                                       "send_offsets_to_transaction"));
    }
    VIGIL_RETURN_IF_ERROR(from_error(producer_->commit_transaction(timeout_ms_), "commit_transaction"));
    if (kafka_source == nullptr) return source.commit(next);
    return Status::ok();
  }

  std::vector<TopicPartitionOffset> delivered() const override {
    std::vector<TopicPartitionOffset> out;
    for (const auto& [tp, next] : reports_.next_offsets) out.push_back({tp.first, tp.second, next});
    return out;
  }

  Status abort() override {
    if (!transactional_) return Status::ok();
    return from_error(producer_->abort_transaction(timeout_ms_), "abort_transaction");
  }

  void close() override {
    if (producer_ && !closed_) {
      producer_->flush(timeout_ms_);
      closed_ = true;
    }
  }

 private:
  DeliveryReports reports_;
  std::unique_ptr<RdKafka::Producer> producer_;
  bool transactional_ = false;
  bool closed_ = false;
  int timeout_ms_ = 30000;
};

}  // namespace

std::vector<PartitionLag> parse_consumer_lag(std::string_view statistics_json) {
  namespace od = simdjson::ondemand;
  std::vector<PartitionLag> out;
  simdjson::padded_string json(statistics_json);
  od::parser parser;
  od::document doc;
  od::object topics;
  if (parser.iterate(json).get(doc) || doc["topics"].get_object().get(topics)) return out;
  for (auto topic_field : topics) {
    od::field topic;
    std::string_view topic_name;
    od::object partitions;
    if (std::move(topic_field).get(topic) || topic.unescaped_key().get(topic_name) ||
        topic.value()["partitions"].get_object().get(partitions)) {
      continue;
    }
    const std::string name(topic_name);
    for (auto partition_field : partitions) {
      od::field partition;
      std::string_view id;
      if (std::move(partition_field).get(partition) || partition.unescaped_key().get(id) || id == "-1") continue;
      od::object p;
      if (partition.value().get_object().get(p)) continue;
      // librdkafka's own consumer_lag counts from the offset this consumer committed, which it
      // never learns when offsets are committed inside producer transactions (exactly-once):
      // it stays -1. The end of the partition (last stable offset for read_committed, else the
      // high watermark) minus the position of the application is what "behind" means here.
      std::int64_t end = -1, app = -1, ls = -1, hi = -1, reported = -1;
      for (auto f : p) {
        std::string_view k;
        std::int64_t v = -1;
        if (f.unescaped_key().get(k) || f.value().get_int64().get(v)) continue;
        if (k == "ls_offset")
          ls = v;
        else if (k == "hi_offset")
          hi = v;
        else if (k == "app_offset")
          app = v;
        else if (k == "consumer_lag")
          reported = v;
      }
      end = ls >= 0 ? ls : hi;
      std::int64_t lag = reported;
      if (end >= 0 && app >= 0) lag = std::max<std::int64_t>(0, end - app);
      if (lag < 0) continue;
      out.push_back({name, static_cast<std::int32_t>(std::stoi(std::string(id))), lag});
    }
  }
  return out;
}

Result<std::unique_ptr<Source>> open_kafka_source(const KafkaSourceOptions& options) {
  auto source = std::make_unique<KafkaSource>(options);
  VIGIL_RETURN_IF_ERROR(source->open(options));
  return std::unique_ptr<Source>(std::move(source));
}

Result<std::unique_ptr<Sink>> open_kafka_sink(const KafkaSinkOptions& options) {
  auto sink = std::make_unique<KafkaSink>();
  VIGIL_RETURN_IF_ERROR(sink->open(options));
  return std::unique_ptr<Sink>(std::move(sink));
}

namespace {

class KafkaPartitionReader final : public PartitionReader {
 public:
  ~KafkaPartitionReader() override {
    if (consumer_) consumer_->close();
  }

  Status open(std::map<std::string, std::string> props) {
    // Never joins the group; librdkafka's C++ consumer wants an id all the same.
    props.emplace("group.id", "vigil-restore-unjoined");
    props["enable.auto.commit"] = "false";
    props["isolation.level"] = "read_committed";
    props["enable.partition.eof"] = "true";
    // An offset outside the log must be reported, not silently moved.
    props["auto.offset.reset"] = "error";
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    VIGIL_RETURN_IF_ERROR(configure(*conf, props));
    std::string err;
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!consumer_) return kafka_error("cannot create the restore consumer: " + err);
    return Status::ok();
  }

  Result<std::int64_t> read(const std::string& topic, std::int32_t partition, std::int64_t from,
                            const std::function<bool(const Record&)>& fn) override {
    const std::string where = topic + "/" + std::to_string(partition);
    TopicPartitionsOwner tps({{topic, partition, from}});
    if (const auto code = consumer_->assign(tps.list); code != RdKafka::ERR_NO_ERROR)
      return kafka_error("assign " + where + ": " + RdKafka::err2str(code));
    struct Unassign {
      RdKafka::KafkaConsumer& c;
      ~Unassign() { c.unassign(); }
    } unassign{*consumer_};
    std::int64_t next = from;
    Record record;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(30);
    while (std::chrono::steady_clock::now() < deadline) {
      std::unique_ptr<RdKafka::Message> msg(consumer_->consume(500));
      switch (msg->err()) {
        case RdKafka::ERR_NO_ERROR:
          record = Record();
          to_record(*msg, record);
          next = msg->offset() + 1;
          if (!fn(record)) return next;
          break;
        case RdKafka::ERR__PARTITION_EOF:
          // The end as read_committed sees it; transaction markers may sit past the last record.
          return std::max(next, msg->offset());
        case RdKafka::ERR__TIMED_OUT: break;
        case RdKafka::ERR_OFFSET_OUT_OF_RANGE:
        case RdKafka::ERR__AUTO_OFFSET_RESET:
          return Status(Code::kNotFound, "offset " + std::to_string(from) + " is outside " + where);
        default:
          if (msg->err() == RdKafka::ERR__FATAL) return kafka_error("restore of " + where + ": " + msg->errstr());
          break;  // transient: librdkafka retries
      }
    }
    return kafka_error("restore of " + where + " did not reach the end within 30 minutes");
  }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
};

}  // namespace

Result<std::unique_ptr<PartitionReader>> open_partition_reader(const std::map<std::string, std::string>& properties) {
  auto reader = std::make_unique<KafkaPartitionReader>();
  VIGIL_RETURN_IF_ERROR(reader->open(properties));
  return std::unique_ptr<PartitionReader>(std::move(reader));
}

Result<std::unique_ptr<Producer>> open_kafka_producer(const std::map<std::string, std::string>& properties) {
  auto producer = std::make_unique<KafkaProducer>();
  VIGIL_RETURN_IF_ERROR(producer->open(properties));
  return std::unique_ptr<Producer>(std::move(producer));
}

}  // namespace vigil::io
