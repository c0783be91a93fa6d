#pragma once

#include <rocksdb/utilities/write_batch_with_index.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "leadflow/log/log.h"
#include "leadflow/store/database.h"

namespace leadflow::processors {

// What one batch does: state reads that see the batch's own writes, state
// writes, and records to append. Committed as one unit by the runner.
// Not thread-safe; lives for one batch.
class ProcessorTransaction {
 public:
  explicit ProcessorTransaction(const store::Database* db);

  absl::StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* family,
                                                 absl::string_view key);
  void Put(rocksdb::ColumnFamilyHandle* family, absl::string_view key, absl::string_view value);
  void Delete(rocksdb::ColumnFamilyHandle* family, absl::string_view key);
  void Emit(log::OutgoingRecord record) { records_.push_back(std::move(record)); }
  // Runs once the emitted records have positions, before the write; may add
  // writes that depend on them. Hooks see the positions of all records.
  void OnPositions(log::BeforeWrite hook) { hooks_.push_back(std::move(hook)); }

  const std::vector<log::OutgoingRecord>& records() const { return records_; }

 private:
  friend class ProcessorRunner;
  const store::Database* db_;
  rocksdb::WriteBatchWithIndex batch_;
  std::vector<log::OutgoingRecord> records_;
  std::vector<log::BeforeWrite> hooks_;
};

// A stateful step over the partitions of one topic.
class Processor {
 public:
  virtual ~Processor() = default;
  // Unique; part of the offset keys.
  virtual std::string Name() const = 0;
  virtual std::string InputTopic() const = 0;
  // The column family holding this processor's state and input offsets.
  virtual rocksdb::ColumnFamilyHandle* StateFamily() const = 0;
  // Handles records of one partition, in offset order. Bad records are the
  // processor's to route (dead-letter); a returned error means the batch
  // could not be handled now (storage trouble) and will be retried whole.
  virtual absl::Status Process(const std::vector<log::Record>& batch,
                               ProcessorTransaction& txn) = 0;
  // After the batch is durable: `next_offset` of `partition` is committed.
  virtual void AfterCommit(int32_t partition, int64_t next_offset,
                           const std::vector<log::Position>& outputs) {}
};

// Runs a processor: poll a partition from its committed offset, process,
// commit state + outputs + offset as one unit, repeat. One thread per runner,
// so each partition has a single writer.
class ProcessorRunner {
 public:
  ProcessorRunner(log::Log* log, store::Database* db, Processor* processor,
                  size_t max_batch = 1000);
  ~ProcessorRunner();

  // Reads the committed offsets and opens the reader there. Call before
  // Start / RunOnce.
  absl::Status Init();
  void Start();
  void Stop();
  // Polls once (waiting up to `wait` for records) and processes and commits
  // what came, one batch per partition. Returns how many records were
  // handled. On error nothing of the failed batch is committed and the
  // reader is rewound to the committed offsets.
  absl::StatusOr<size_t> RunOnce(absl::Duration wait = absl::ZeroDuration());
  // Next offset to read, per partition, as committed with the state.
  std::vector<int64_t> CommittedOffsets() const;
  // How far the processor has consumed, per partition: the committed
  // offset, or past skipped records (Kafka transaction markers) once the
  // reader found nothing more. Lag is the end offset minus this.
  std::vector<int64_t> ConsumedOffsets() const;
  const Processor& processor() const { return *processor_; }

  static std::string OffsetKey(absl::string_view processor, absl::string_view topic,
                               int32_t partition);

 private:
  void Loop();
  absl::Status CommitPartition(int32_t partition, const std::vector<log::Record>& batch,
                               std::vector<int64_t>& committed);

  log::Log* const log_;
  store::Database* const db_;
  Processor* const processor_;
  const size_t max_batch_;
  const std::string topic_;
  mutable absl::Mutex mu_;
  std::vector<int64_t> offsets_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> consumed_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<log::LogReader> reader_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace leadflow::processors
