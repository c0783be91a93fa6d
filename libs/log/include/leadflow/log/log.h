#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "leadflow/store/state_store.h"

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

struct Position {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
};

struct OutgoingRecord;
// Fills in a deferred record once the positions of the records appended
// with it are known (the deferred ones' own entries are still unset).
using CompleteRecord = std::function<void(const std::vector<Position>&, OutgoingRecord*)>;

// A record to append. The partition is chosen from the key unless one is
// given.
struct OutgoingRecord {
  std::string topic;
  std::string key;
  std::string value;
  std::vector<Header> headers;
  int64_t timestamp_ms = 0;
  // >= 0: this partition, whatever the key (a changelog kept aligned with
  // the input partition it belongs to).
  int32_t partition = -1;
  // A deletion on a compacted changelog: Kafka gets a null value (a
  // tombstone: compaction drops the key); `value` must be empty. Readers
  // see an empty value either way.
  bool tombstone = false;
  // When set, the record is appended after the others of its unit, in the
  // same unit, and this completes it first: a reply that names where the
  // events it answers for landed.
  CompleteRecord complete;
};

// A keyed record with nothing deferred or pinned: what most callers append.
inline OutgoingRecord MakeRecord(std::string topic, std::string key, std::string value,
                                 std::vector<Header> headers = {}) {
  OutgoingRecord record;
  record.topic = std::move(topic);
  record.key = std::move(key);
  record.value = std::move(value);
  record.headers = std::move(headers);
  return record;
}

struct TopicSpec {
  std::string name;
  int32_t partitions = 1;
  // What Kafka keeps of a topic leadflow creates (the embedded log keeps
  // everything).
  enum class Retention {
    kBrokerDefault,  // input consumed once processed
    kForever,        // retention.ms=-1: the event log, the source of truth
    kCompacted,      // cleanup.policy=compact: a changelog keyed by what it restores
  };
  Retention retention = Retention::kBrokerDefault;
};

// The standard topics.
inline constexpr absl::string_view kIntakeTopic = "leadflow.intake.v1";
inline constexpr absl::string_view kCommandsTopic = "leadflow.commands.v1";
inline constexpr absl::string_view kEventsTopic = "leadflow.events.v1";
inline constexpr absl::string_view kFollowupsTopic = "leadflow.followups.v1";
inline constexpr absl::string_view kDeadLetterTopic = "leadflow.deadletter.v1";
// Command outcomes: the reply channel to whichever instance took the call,
// and the changelog of the command processor's dedupe state.
inline constexpr absl::string_view kOutcomesTopic = "leadflow.outcomes.v1";
// The intake processor's changelog: which lead each channel event went to.
inline constexpr absl::string_view kIntakeStateTopic = "leadflow.intake-state.v1";
// Changelog of the follow-up processor: only the runner's unit markers,
// which say where a new owner of a partition resumes.
inline constexpr absl::string_view kFollowUpStateTopic = "leadflow.follow-up-state.v1";
// The robot processor's state (items, timers, team turns) per partition.
inline constexpr absl::string_view kRobotStateTopic = "leadflow.robot-state.v1";

std::vector<TopicSpec> StandardTopics(int32_t partitions);

// Kafka's default partitioner (murmur2, as the Java client): the same key
// lands in the same partition on both engines.
int32_t PartitionForKey(absl::string_view key, int32_t partitions);

// CloudEvents binary-mode headers (ce_id, ce_type, ce_source, ce_time,
// content-type), so any consumer can route without decoding the body.
std::vector<Header> CloudEventHeaders(absl::string_view id, absl::string_view type,
                                      absl::string_view source, absl::Time time,
                                      absl::string_view content_type = "application/protobuf");

// Where a processor keeps the next input offset of a partition, with its
// state.
// An append refused for good because of what it carries (a record over the
// brokers' size limit): INVALID_ARGUMENT marked so. Retrying cannot help; a
// processor whose unit is refused so takes the input record that caused it
// out of the way (ProcessorRunner: a dead letter), so its partition goes on.
absl::Status MarkUnwritable(absl::Status status);
bool IsUnwritable(const absl::Status& status);

std::string CommittedOffsetKey(absl::string_view group, absl::string_view topic, int32_t partition);

// Called with the positions the appended records got (deferred records
// already completed), before anything is committed, so writes that depend
// on them can join the same unit.
using BeforeWrite = std::function<void(const std::vector<Position>&, store::StateBatch*)>;

class Log;
// The partition count of `topic` when it has `partition`: NOT_FOUND for an
// unknown topic, OUT_OF_RANGE for a partition it does not have.
absl::StatusOr<int32_t> CheckPartition(const Log& log, absl::string_view topic, int32_t partition);

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

// Told by a group reader as partitions move between the group's members.
// Called on the polling thread, from inside Poll.
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  // `partitions` are this member's now. Returns where to fetch each from
  // (the state is restored here, before anything is processed). An error
  // leaves them unfetched.
  virtual absl::StatusOr<std::vector<int64_t>> OnAssigned(
      const std::vector<int32_t>& partitions) = 0;
  // `partitions` are not this member's any more; records of them still in
  // hand must not be processed.
  virtual void OnRevoked(const std::vector<int32_t>& partitions) = 0;
};

// A member of a consumer group: the group splits the topic's partitions
// among its members, one member per partition.
class GroupReader : public LogReader {
 public:
  virtual const std::string& group() const = 0;
  virtual const std::string& topic() const = 0;
  // The partitions this member holds, sorted.
  virtual std::vector<int32_t> Assignment() const = 0;
};

// Input consumed by the unit being appended. Kafka sends it to the
// transaction: the group's offsets (what Kafka tools show as lag) move with
// the outputs, and a member fenced by a rebalance cannot commit. Where to
// resume is kept by the processor with its state and changelogs, so the
// embedded engine has nothing more to do with it.
struct InputProgress {
  const GroupReader* reader = nullptr;
  int32_t partition = 0;
  int64_t next_offset = 0;
};

// A partitioned, append-only log. Implementations are thread-safe.
class Log {
 public:
  virtual ~Log() = default;

  virtual std::string EngineName() const = 0;
  // Whether processors keep their state restorable from changelog topics:
  // where other instances can take a partition (Kafka). The embedded log
  // commits state with the log on one instance, so it needs none.
  virtual bool KeepsChangelogs() const = 0;
  // Not OK once the engine cannot go on in this process (Kafka: a fatal
  // producer error, e.g. fenced by another instance with its transactional
  // id). Appends fail from then on; the process should exit so that its
  // partitions move to other instances and a supervisor restarts it.
  virtual absl::Status Health() const { return absl::OkStatus(); }
  // Whether writes go through now: the error of the latest write that
  // failed (an append or a processor's local write), until one succeeds.
  // Unlike Health, trouble the engine may get over by itself (a full disk
  // with space again, brokers back): health checks say NOT_SERVING
  // meanwhile.
  virtual absl::Status Readiness() const { return absl::OkStatus(); }
  // 0 for an unknown topic.
  virtual int32_t PartitionCount(absl::string_view topic) const = 0;

  // Appends all records or none; returns their positions in input order.
  // `deadline` is the caller's (an API call's): an engine that makes
  // appends wait (Kafka, its brokers away) stops waiting then, with
  // UNAVAILABLE, so a caller that has given up holds no thread. Records
  // still in line then are not appended; records already handed to the
  // brokers may or may not be (a retry with the same id is safe).
  virtual absl::StatusOr<std::vector<Position>> Append(std::vector<OutgoingRecord> records,
                                                       absl::Time deadline) = 0;
  absl::StatusOr<std::vector<Position>> Append(std::vector<OutgoingRecord> records) {
    return Append(std::move(records), absl::InfiniteFuture());
  }
  // Appends records whose writer is answered by their processing, not by
  // the append (a command, answered once its processor's unit commits): an
  // engine may make them readable before they are durable when the
  // processing unit's commit makes them durable too. The embedded engine
  // does (one write-ahead log: a synced write syncs every write before it),
  // which saves the append's own fsync; the others append as Append does.
  virtual absl::StatusOr<std::vector<Position>> AppendAnsweredByProcessing(
      std::vector<OutgoingRecord> records, absl::Time deadline) {
    return Append(std::move(records), deadline);
  }

  // Appends `records`, commits `input` (may be null) and applies
  // `local_state` (writes to this instance's state store: processor state;
  // a batch of the store the log was opened with) as one unit. Embedded:
  // one write to the store. Kafka: one transaction with the input offsets
  // sent to it, then the local write; a crash in between is repaired by
  // restoring state from the changelogs (see ProcessorRunner).
  // `before_write` may be empty; `local_state` may be null when it is.
  virtual absl::StatusOr<std::vector<Position>> AppendWithState(std::vector<OutgoingRecord> records,
                                                                store::StateBatch* local_state,
                                                                const BeforeWrite& before_write,
                                                                const InputProgress* input) = 0;

  // A reader of every partition of `topic`, partition p starting at
  // start[p] (0 where start has no entry).
  virtual absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      absl::string_view topic, const std::vector<int64_t>& start) const = 0;
  // A reader of one partition from `offset` on.
  virtual absl::StatusOr<std::unique_ptr<LogReader>> OpenPartitionReader(absl::string_view topic,
                                                                         int32_t partition,
                                                                         int64_t offset) const = 0;
  // A member of consumer group `group` on `topic`. `listener` outlives it.
  virtual absl::StatusOr<std::unique_ptr<GroupReader>> OpenGroupReader(
      absl::string_view topic, absl::string_view group, RebalanceListener* listener) = 0;

  // The offset the next record of the partition will get. An error when it
  // cannot be known now (an unknown topic or partition; Kafka unreachable):
  // never a guess, since a restore would take it for "nothing to read".
  virtual absl::StatusOr<int64_t> EndOffset(absl::string_view topic, int32_t partition) const = 0;
};

}  // namespace leadflow::log
