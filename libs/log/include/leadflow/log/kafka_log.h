#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "leadflow/log/log.h"
#include "leadflow/store/database.h"

typedef struct rd_kafka_s rd_kafka_t;

namespace leadflow::log {

// The Kafka engine (librdkafka). Appends go through one idempotent,
// transactional producer: the records of one Append / AppendWithState are
// one Kafka transaction, so readers (isolation.level=read_committed) see all
// of them or none. Readers are consumers with a manual assignment.
//
// AppendWithState commits the Kafka transaction, then writes the local
// RocksDB batch (state and input offsets). A crash between the two makes the
// processor redo that batch: its output records are appended again (new
// offsets, same ids), and every consumer of them drops them by id
// (intake: seen event ids, commands: stored outcomes, projection: aggregate
// versions). Offsets sent to the transaction would close this window; that
// is the next step (issue 3).
class KafkaLog final : public Log {
 public:
  struct Options {
    std::string bootstrap_servers;
    std::vector<TopicSpec> topics;
    // Unique per running instance; a new producer with the same id fences
    // the old one (a restarted instance takes over cleanly).
    std::string transactional_id = "leadflowd";
    int replication_factor = 1;
    absl::Duration timeout = absl::Seconds(30);
  };

  // Connects, checks (or creates, through the admin API) the topics, and
  // initialises transactions. `db` may be nullptr when no caller uses
  // AppendWithState with local state.
  static absl::StatusOr<std::unique_ptr<KafkaLog>> Open(store::Database* db, Options options);
  ~KafkaLog() override;

  std::string EngineName() const override { return "kafka"; }
  int32_t PartitionCount(absl::string_view topic) const override;
  absl::StatusOr<std::vector<Position>> Append(std::vector<OutgoingRecord> records) override;
  absl::StatusOr<std::vector<Position>> AppendWithState(std::vector<OutgoingRecord> records,
                                                        rocksdb::WriteBatch* local_state,
                                                        const BeforeWrite& before_write) override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      absl::string_view topic, const std::vector<int64_t>& start) const override;
  // The partition's high watermark. Kafka counts transaction markers as
  // offsets, so it can be ahead of the last record by one per transaction.
  int64_t EndOffset(absl::string_view topic, int32_t partition) const override;

 private:
  KafkaLog(store::Database* db, Options options) : db_(db), options_(std::move(options)) {}

  store::Database* const db_;
  const Options options_;
  std::map<std::string, int32_t, std::less<>> partitions_;
  absl::Mutex txn_mu_;  // one transaction at a time on the producer
  rd_kafka_t* producer_ = nullptr;
};

}  // namespace leadflow::log
