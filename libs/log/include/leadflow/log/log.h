#pragma once

#include <rocksdb/write_batch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace leadflow::log {

struct Header {
  std::string key;
  std::string value;
};

// A record as stored: its place, its key, its bytes.
struct Record {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  std::string key;
  std::string value;
  std::vector<Header> headers;

  // The value of the first header named `key`, or "".
  absl::string_view HeaderValue(absl::string_view key) const;
};

// A record to append. The partition is chosen from the key.
struct OutgoingRecord {
  std::string topic;
  std::string key;
  std::string value;
  std::vector<Header> headers;
  int64_t timestamp_ms = 0;
};

struct Position {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

struct TopicSpec {
  std::string name;
  int32_t partitions = 1;
};

// The standard topics.
inline constexpr absl::string_view kIntakeTopic = "leadflow.intake.v1";
inline constexpr absl::string_view kCommandsTopic = "leadflow.commands.v1";
inline constexpr absl::string_view kEventsTopic = "leadflow.events.v1";
inline constexpr absl::string_view kFollowupsTopic = "leadflow.followups.v1";
inline constexpr absl::string_view kDeadLetterTopic = "leadflow.deadletter.v1";

std::vector<TopicSpec> StandardTopics(int32_t partitions);

// Kafka's default partitioner (murmur2, as the Java client): the same key
// lands in the same partition on both engines.
int32_t PartitionForKey(absl::string_view key, int32_t partitions);

// CloudEvents binary-mode headers (ce_id, ce_type, ce_source, ce_time,
// content-type), so any consumer can route without decoding the body.
std::vector<Header> CloudEventHeaders(absl::string_view id, absl::string_view type,
                                      absl::string_view source, absl::Time time,
                                      absl::string_view content_type = "application/protobuf");

// Called with the positions the appended records got, before anything is
// written, so writes that depend on them can join the same unit.
using BeforeWrite = std::function<void(const std::vector<Position>&, rocksdb::WriteBatch*)>;

// A cursor over the partitions of one topic, like a Kafka consumer with a
// manual assignment. Not thread-safe: one reader per consuming thread.
class LogReader {
 public:
  virtual ~LogReader() = default;
  // The next records, in offset order within each partition, at most
  // `max_records`; waits up to `timeout` when there are none. Offsets within
  // a partition increase but may skip (Kafka transaction markers).
  virtual absl::StatusOr<std::vector<Record>> Poll(size_t max_records, absl::Duration timeout) = 0;
  // Moves the cursor of `partition` to `offset` (e.g. back to the last
  // committed offset after a failed batch).
  virtual absl::Status Seek(int32_t partition, int64_t offset) = 0;
  // The next offset this reader will fetch from `partition`, past records it
  // skipped (Kafka transaction markers). Once a reader has drained a
  // partition, this equals the partition's end offset.
  virtual int64_t Position(int32_t partition) const = 0;
};

// A partitioned, append-only log. Implementations are thread-safe.
class Log {
 public:
  virtual ~Log() = default;

  virtual std::string EngineName() const = 0;
  // 0 for an unknown topic.
  virtual int32_t PartitionCount(absl::string_view topic) const = 0;

  // Appends all records or none; returns their positions in input order.
  virtual absl::StatusOr<std::vector<Position>> Append(std::vector<OutgoingRecord> records) = 0;

  // Appends `records` and applies `local_state` (writes to this instance's
  // RocksDB: processor state and input offsets) as one unit: after a crash
  // either all of it is there or none. `before_write` may be empty.
  virtual absl::StatusOr<std::vector<Position>> AppendWithState(
      std::vector<OutgoingRecord> records, rocksdb::WriteBatch* local_state,
      const BeforeWrite& before_write) = 0;

  // A reader of every partition of `topic`, partition p starting at
  // start[p] (0 where start has no entry).
  virtual absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      absl::string_view topic, const std::vector<int64_t>& start) const = 0;

  // The offset the next record of the partition will get.
  virtual int64_t EndOffset(absl::string_view topic, int32_t partition) const = 0;
};

}  // namespace leadflow::log
