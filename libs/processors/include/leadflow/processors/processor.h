#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "leadflow/log/log.h"
#include "leadflow/metrics/registry.h"
#include "leadflow/store/state_store.h"

namespace leadflow::processors {

// What one batch does: state reads that see the batch's own writes, state
// writes, and records to append. Committed as one unit by the runner.
// Not thread-safe; lives for one batch.
class ProcessorTransaction {
 public:
  explicit ProcessorTransaction(const store::StateStore* store) : store_(store) {}

  // The value this transaction last wrote to the key (nullopt if it deleted
  // it), else the store's.
  absl::StatusOr<std::optional<std::string>> Get(store::Keyspace keyspace, absl::string_view key);
  // Get for each key, in their order; what the transaction did not write is
  // read from the store in one MultiGet.
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      store::Keyspace keyspace, const std::vector<std::string>& keys);
  void Put(store::Keyspace keyspace, absl::string_view key, absl::string_view value);
  void Delete(store::Keyspace keyspace, absl::string_view key);
  // Moves an item's index entries (keys with empty values) from `before` to
  // `after`: deletes the keys only `before` has, puts the keys only `after`
  // has, and leaves the ones both have (most events change no indexed field).
  void ReplaceIndexKeys(store::Keyspace keyspace, const std::vector<std::string>& before,
                        const std::vector<std::string>& after);
  void Emit(log::OutgoingRecord record) { records_.push_back(std::move(record)); }
  // Runs once the emitted records have positions, before the write; may add
  // writes that depend on them. Hooks see the positions of all records,
  // deferred ones (OutgoingRecord::complete) included.
  void OnPositions(log::BeforeWrite hook) { hooks_.push_back(std::move(hook)); }

  const std::vector<log::OutgoingRecord>& records() const { return records_; }
  // Whether the log wants changelog records (Log::KeepsChangelogs): a
  // processor emits records that only serve restoring its state (not its
  // outputs) only then.
  bool keeps_changelogs() const { return keeps_changelogs_; }

 private:
  friend class ProcessorRunner;
  // Per key, the last value written (nullopt: deleted). Only the last write
  // to a key matters, to reads as to the store, so this is both the
  // read-your-writes index and what TakeBatch() commits.
  using Writes = absl::flat_hash_map<std::string, std::optional<std::string>>;
  bool empty() const;
  // The writes as a batch of the store, for the runner to commit (hooks
  // may add to it); leaves the transaction without writes.
  std::unique_ptr<store::StateBatch> TakeBatch();

  const store::StateStore* store_;
  bool keeps_changelogs_ = true;
  std::array<Writes, store::kKeyspaceCount> writes_;
  std::vector<log::OutgoingRecord> records_;
  std::vector<log::BeforeWrite> hooks_;
};

// A stateful step over the partitions of one topic.
//
// Partitioned processors (the default) share their input among the
// instances of a consumer group: each input partition has one owner, whose
// state for it is rebuilt from the processor's changelog topics when it
// takes the partition. Replicated ones (read models) read every partition
// on every instance and keep their offsets locally.
class Processor {
 public:
  virtual ~Processor() = default;
  // Unique; the consumer group and part of the offset keys.
  virtual std::string Name() const = 0;
  virtual std::string InputTopic() const = 0;
  // The keyspace holding this processor's state and local offsets.
  virtual store::Keyspace StateKeyspace() const = 0;
  virtual bool Replicated() const { return false; }
  // Topics whose partition p, replayed in order, rebuilds the state this
  // processor keeps for input partition p. Only this processor writes them,
  // and the runner sends what it emits to them to partition p. The first
  // also carries the runner's unit markers, so a new owner knows which
  // records were committed and where to resume.
  virtual std::vector<std::string> ChangelogTopics() const { return {}; }
  // Applies one changelog record to the state. Must be idempotent: a record
  // may be replayed onto state that already has it.
  virtual absl::Status Restore(const log::Record& record, ProcessorTransaction& txn) {
    return absl::OkStatus();
  }
  // Handles records of one partition, in offset order. Bad records are the
  // processor's to route (dead-letter); a returned error means the batch
  // could not be handled now (storage trouble) and will be retried whole.
  virtual absl::Status Process(const std::vector<log::Record>& batch,
                               ProcessorTransaction& txn) = 0;
  // An input record whose unit the log refused for good
  // (log::IsUnwritable: an output over the brokers' record size): it is
  // taken out of the way, so that its partition goes on, by what this
  // writes instead — by default a dead letter naming why; nothing of the
  // record's own processing is kept.
  virtual void Unwritable(const log::Record& record, const absl::Status& why,
                          ProcessorTransaction& txn);
  // Work that comes due by time rather than by input (timers): when
  // Punctuates(), called for each partition this instance holds after each
  // poll, at most every 100 ms. `input_time`: what was appended to the
  // partition up to that time has been processed — infinite future after a
  // poll that drained the input, else the append time of the last record
  // processed (a backlog is being worked off). Work due after `input_time`
  // must wait: input not read yet may cancel it (a task done a second
  // before its deadline). So timers keep firing under sustained load, on
  // the input's time, as Kafka Streams punctuates on stream time. What it
  // writes and emits is committed as a unit of its own (the input offset
  // unchanged).
  virtual bool Punctuates() const { return false; }
  virtual absl::Status Punctuate(int32_t partition, absl::Time input_time,
                                 ProcessorTransaction& txn) {
    return absl::OkStatus();
  }
  // After the batch is durable: `next_offset` of `partition` is committed.
  virtual void AfterCommit(int32_t partition, int64_t next_offset,
                           const std::vector<log::Position>& outputs) {}
};

// Runs a processor: poll a partition from its committed offset, process,
// commit state + outputs + offset as one unit, repeat. One thread per runner,
// so each partition has a single writer. A partitioned processor's runner is
// a consumer-group member: when it is given a partition it first replays the
// changelogs from its local checkpoint (written with the state), so state
// that fell behind the log (a crash between a Kafka commit and the local
// write, or a partition that was another instance's) is whole again before
// any input is processed.
class ProcessorRunner : private log::RebalanceListener {
 public:
  ProcessorRunner(log::Log* log, store::StateStore* db, Processor* processor,
                  size_t max_batch = 1000);
  ~ProcessorRunner() override;

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
  // Whether this instance processes `partition` now (always, for a
  // replicated processor).
  bool Holds(int32_t partition) const;
  // How far the processor has consumed, per partition: the committed
  // offset, or past skipped records (Kafka transaction markers) once the
  // reader found nothing more. Lag is the end offset minus this.
  std::vector<int64_t> ConsumedOffsets() const;
  const Processor& processor() const { return *processor_; }
  // The error of the latest poll that failed (storage or broker trouble:
  // the batch is being retried), until one succeeds; OK otherwise.
  absl::Status Trouble() const;
  // Runners that share `lock` never process and commit a batch at the same
  // time: they write the same aggregates (the command processor and intake
  // deciding inline), and each unit must read what the other committed.
  // Call before Start.
  void ShareWriterLock(absl::Mutex* lock) { writer_lock_ = lock; }
  // A warm standby (Kafka Streams' standby replicas): every `every`, the
  // changelogs of the partitions another instance owns are replayed into
  // the local state from its checkpoint, on a thread of its own, so that
  // taking such a partition over replays only what came since the last
  // pass instead of whole changelogs. Only for partitioned processors with
  // changelogs on a log that keeps them; call before Start.
  void EnableStandby(absl::Duration every);
  // Changelog records replayed into the state of `partition`: while
  // another instance owned it (standby) and when this one took it (a
  // takeover, or a repair after a failed batch).
  struct RestoredRecords {
    int64_t standby = 0;
    int64_t takeover = 0;
  };
  RestoredRecords Restored(int32_t partition) const;

  // Every changelog record names the unit (committed batch) that wrote it.
  // A unit ends with a marker on the first changelog (key
  // kMarkerKeyPrefix + unit) carrying the input offset to resume from.
  // Restoring applies a unit only once its marker is read: records of a unit
  // that never finished (an owner killed mid-commit, visible where the
  // broker does not hide aborted transactions) are skipped.
  static constexpr absl::string_view kUnitHeader = "leadflow_unit";
  static constexpr absl::string_view kInputOffsetHeader = "leadflow_input_offset";
  static constexpr absl::string_view kMarkerKeyPrefix = "leadflow.unit/";
  // Where the state of `partition` is known to reflect `changelog` up to.
  static std::string ChangelogCheckpointKey(absl::string_view processor,
                                            absl::string_view changelog, int32_t partition);

 private:
  void Loop();
  absl::Status CommitPartition(int32_t partition, const std::vector<log::Record>& batch,
                               std::vector<int64_t>& committed);
  // After the log refused a batch's unit for good: the records one unit
  // each, and the one refused again through Processor::Unwritable.
  absl::Status CommitOneByOne(int32_t partition, const std::vector<log::Record>& batch,
                              std::vector<int64_t>& committed);
  // Commits what `txn` holds as one unit, the input of `partition` read up
  // to `next`.
  absl::Status CommitUnit(int32_t partition, int64_t next, ProcessorTransaction& txn,
                          std::vector<int64_t>& committed);
  // Processor::Punctuate for every partition held; commits what it did.
  // `drained`: the last poll returned less than a full batch.
  absl::Status Punctuate(bool drained);
  absl::Status PunctuateOrRecover(bool drained);
  absl::StatusOr<std::vector<int64_t>> OnAssigned(const std::vector<int32_t>& partitions) override;
  absl::StatusOr<int64_t> StoredOffset(int32_t partition) const;
  void OnRevoked(const std::vector<int32_t>& partitions) override;
  enum class RestoreMode { kTakeover, kStandby };
  // Replays the changelogs of `partition` from the checkpoint to their end.
  // A standby pass gives way (CANCELLED) as soon as partitions are being
  // assigned.
  absl::Status RestorePartition(int32_t partition, RestoreMode mode = RestoreMode::kTakeover);
  void StandbyLoop();
  // After a failed batch: state repaired, reader back at what is committed.
  absl::Status Recover();

  log::Log* const log_;
  store::StateStore* const db_;
  Processor* const processor_;
  const size_t max_batch_;
  const std::string topic_;
  mutable absl::Mutex mu_;
  std::vector<int64_t> offsets_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> consumed_ ABSL_GUARDED_BY(mu_);
  absl::Status trouble_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<log::LogReader> reader_;
  log::GroupReader* group_reader_ = nullptr;  // reader_, for a partitioned processor
  std::vector<std::string> changelogs_;
  // Names this runner's units: unique per process start, then a sequence.
  const std::string unit_prefix_;
  uint64_t unit_seq_ = 0;
  absl::Mutex* writer_lock_ = nullptr;
  bool needs_recovery_ = false;                         // the polling thread's
  absl::Time last_punctuation_ = absl::InfinitePast();  // the polling thread's
  // Per partition, the append time of the last record processed (ms; -1
  // none yet); the polling thread's.
  std::vector<int64_t> last_input_ms_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  // Held while a unit is processed and committed, and while a standby
  // batch is applied: the two threads write state of different partitions,
  // but some keys are shared across partitions (a lead's identity keys).
  absl::Mutex apply_mu_;
  // The rebalance and the standby take turns restoring; `owned_` is what
  // the rebalance gave this instance, which the standby leaves alone.
  absl::Mutex restore_mu_ ABSL_ACQUIRED_BEFORE(apply_mu_);
  std::set<int32_t> owned_ ABSL_GUARDED_BY(restore_mu_);
  std::atomic<int> assigning_{0};
  absl::Duration standby_every_ = absl::ZeroDuration();
  std::thread standby_thread_;
  std::vector<RestoredRecords> restored_ ABSL_GUARDED_BY(mu_);
  // This processor's metrics in the process registry.
  struct Metrics {
    metrics::Counter* records;
    metrics::Counter* units;
    metrics::Counter* failed_polls;
    metrics::Histogram* commit_seconds;
    metrics::Histogram* batch_records;
    metrics::Counter* standby_restored;
    metrics::Counter* takeover_restored;
  };
  static Metrics MetricsFor(const std::string& processor);
  const Metrics metrics_;
};

}  // namespace leadflow::processors
