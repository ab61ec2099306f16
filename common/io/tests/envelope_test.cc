#include "common/io/envelope.h"

#include <gtest/gtest.h>

namespace vigil::io {
namespace {

TEST(Envelope, ReadsWhatKcatPrints) {
  // Captured from `kcat -C -J` (kcat 1.7.1) against a real broker.
  const std::string line = R"({"topic":"hdr","partition":0,"offset":0,"tstype":"create","ts":1795440060309,"broker":1,)"
                           R"("headers":["h1","v1","h2","v2"],"key":"mykey","payload":"{\"a\":1}"})";
  EnvelopeDecoder d;
  Record r;
  ASSERT_TRUE(d.decode(line, r).is_ok());
  EXPECT_EQ(r.topic, "hdr");
  EXPECT_EQ(r.partition, 0);
  EXPECT_EQ(r.offset, 0);
  EXPECT_EQ(r.timestamp, 1795440060309);
  EXPECT_EQ(r.key, "mykey");
  EXPECT_EQ(r.value, "{\"a\":1}");
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[1].key, "h2");
  EXPECT_EQ(r.headers[1].value, "v2");
}

TEST(Envelope, RoundTripsArbitraryBytesAndNulls) {
  Record r;
  r.topic = "raw.telegram";
  r.partition = 3;
  r.offset = 18822;
  r.timestamp = 1711930340000;
  r.timestamp_type = TimestampType::kLogAppend;
  r.key = std::string("\x00\xff", 2);
  r.value = std::string("x\xffy", 3);
  r.headers = {{"a", std::string("1")}, {"b", std::nullopt}};
  std::string line;
  append_envelope(r, line);
  EXPECT_NE(line.find("\"payload_encoding\":\"base64\""), std::string::npos);
  EnvelopeDecoder d;
  Record back;
  const Status st = d.decode(line, back);
  ASSERT_TRUE(st.is_ok()) << line << " " << st.to_string();
  EXPECT_EQ(back.topic, r.topic);
  EXPECT_EQ(back.partition, r.partition);
  EXPECT_EQ(back.offset, r.offset);
  EXPECT_EQ(back.timestamp, r.timestamp);
  EXPECT_EQ(back.timestamp_type, TimestampType::kLogAppend);
  EXPECT_EQ(back.key, r.key);
  EXPECT_EQ(back.value, r.value);
  ASSERT_EQ(back.headers.size(), 2u);
  EXPECT_FALSE(back.headers[1].value.has_value());

  Record tombstone;
  tombstone.topic = "t";
  line.clear();
  append_envelope(tombstone, line);
  ASSERT_TRUE(d.decode(line, back).is_ok());
  EXPECT_FALSE(back.value.has_value());
  EXPECT_FALSE(back.key.has_value());
}

TEST(Envelope, RejectsBrokenLinesWithReason) {
  EnvelopeDecoder d;
  Record r;
  EXPECT_FALSE(d.decode("{\"topic\":\"t\",\"partition\":0,", r).is_ok());
  EXPECT_NE(d.decode("{\"partition\":0}", r).message().find("topic is missing"), std::string::npos);
  EXPECT_NE(d.decode("{\"topic\":\"t\",\"partition\":\"x\"}", r).message().find("partition"), std::string::npos);
  EXPECT_NE(d.decode("{\"topic\":\"t\",\"headers\":[\"a\"]}", r).message().find("alternate"), std::string::npos);
}

TEST(Offsets, NextAndFirstPerPartition) {
  std::vector<Record> batch(4);
  batch[0].topic = "a", batch[0].partition = 0, batch[0].offset = 5;
  batch[1].topic = "a", batch[1].partition = 0, batch[1].offset = 7;
  batch[2].topic = "a", batch[2].partition = 1, batch[2].offset = 2;
  batch[3].topic = "b", batch[3].partition = 0, batch[3].offset = 9;
  EXPECT_EQ(next_offsets(batch), (std::vector<TopicPartitionOffset>{{"a", 0, 8}, {"a", 1, 3}, {"b", 0, 10}}));
  EXPECT_EQ(first_offsets(batch), (std::vector<TopicPartitionOffset>{{"a", 0, 5}, {"a", 1, 2}, {"b", 0, 9}}));
}

}  // namespace
}  // namespace vigil::io
