#pragma once

#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "leadflow/log/log.h"
#include "leadflow/metrics/registry.h"
#include "leadflow/store/state_store.h"

namespace leadflow::log {

// The embedded engine: Kafka's topic/partition/offset semantics kept in the
// `log` keyspace of the data directory's state store, so leadflowd runs
// alone and keeps everything across restarts.
//
// Each append is one StateBatch, offsets assigned in order. Appends
// that arrive while another is being written are group-committed: the
// first in line writes them all, one after the other, and fsyncs once for
// all of them; their records become readable together after that. A failed
// fsync publishes nothing of its group and stops the log (Health).
class EmbeddedLog final : public Log {
 public:
  // Opens the log on `db` (which must outlive it). Topics are created on
  // first open; reopening with another partition count is refused, because
  // it would move keys between partitions. `keep_changelogs`: have
  // processors keep changelogs as on a shared log, though no other instance
  // can take a partition here (tests of restoring from them).
  static absl::StatusOr<std::unique_ptr<EmbeddedLog>> Open(store::StateStore* db,
                                                           const std::vector<TopicSpec>& topics,
                                                           bool keep_changelogs = false);

  std::string EngineName() const override { return "embedded"; }
  bool KeepsChangelogs() const override { return keep_changelogs_; }
  int32_t PartitionCount(absl::string_view topic) const override;
  using Log::Append;
  // Appends wait only for the group commit of local writes: the deadline
  // is not needed.
  absl::StatusOr<std::vector<Position>> Append(std::vector<OutgoingRecord> records,
                                               absl::Time deadline) override;
  // Readable once written, before the group's fsync (if it has one): the
  // processing unit that answers the writer fsyncs after them.
  absl::StatusOr<std::vector<Position>> AppendAnsweredByProcessing(
      std::vector<OutgoingRecord> records, absl::Time deadline) override;
  absl::StatusOr<std::vector<Position>> AppendWithState(std::vector<OutgoingRecord> records,
                                                        store::StateBatch* local_state,
                                                        const BeforeWrite& before_write,
                                                        const InputProgress* input) override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenReader(
      absl::string_view topic, const std::vector<int64_t>& start) const override;
  absl::StatusOr<std::unique_ptr<LogReader>> OpenPartitionReader(absl::string_view topic,
                                                                 int32_t partition,
                                                                 int64_t offset) const override;
  absl::StatusOr<std::unique_ptr<GroupReader>> OpenGroupReader(
      absl::string_view topic, absl::string_view group, RebalanceListener* listener) override;
  absl::StatusOr<int64_t> EndOffset(absl::string_view topic, int32_t partition) const override;
  // DATA_LOSS once a group fsync has failed: nothing of that group was
  // published, every append since is refused (UNAVAILABLE), and only a
  // restart, recovering what is durable, goes on.
  absl::Status Health() const override;
  absl::Status Readiness() const override;

  // Up to `max_records` records of one partition from offset `from` on.
  absl::StatusOr<std::vector<Record>> Read(absl::string_view topic, int32_t partition, int64_t from,
                                           size_t max_records) const;
  // Blocks until some partition p of `topic` has a record at or after
  // next[p], or `timeout` passes. Returns true when there is something to read.
  bool WaitForRecords(absl::string_view topic, const std::vector<int64_t>& next,
                      absl::Duration timeout) const;

 private:
  EmbeddedLog(store::StateStore* db, bool keep_changelogs);

  // A record as readers get it, kept from its append (see Tail).
  using Appended = std::pair<Position, std::shared_ptr<const Record>>;
  // One append waiting in line for group commit.
  struct Writer {
    std::vector<OutgoingRecord>* records = nullptr;
    store::StateBatch* batch = nullptr;
    const BeforeWrite* before_write = nullptr;
    absl::StatusOr<std::vector<Position>> result;
    std::vector<Appended> appended;  // once its batch is written
    bool needs_sync = true;          // false: AppendAnsweredByProcessing
    bool done = false;
  };
  using Ends = std::map<std::string, std::vector<int64_t>, std::less<>>;
  // The last records of a partition, as appended: consumers read at the
  // tail almost always, and taking records from here spares them a store
  // scan and a parse per record. Offsets first .. first + records.size().
  struct Tail {
    int64_t first = 0;
    std::deque<std::shared_ptr<const Record>> records;
  };
  static constexpr size_t kTailRecords = 2048;
  // Adds what a written group appended to the tails (under mu_).
  void KeepTails(const std::vector<Writer*>& group) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<Position>> AppendInLine(std::vector<OutgoingRecord>& records,
                                                     store::StateBatch* local_state,
                                                     const BeforeWrite& before_write,
                                                     bool needs_sync);
  // Assigns the writer's records their offsets (advancing `ends`), stores
  // them in its batch and runs its hook. Leaves `ends` as it was on error.
  absl::StatusOr<std::vector<Position>> Place(Writer& writer, Ends& ends, int64_t now_ms) const;

  store::StateStore* const db_;
  const bool keep_changelogs_;
  mutable absl::Mutex mu_;
  // Topic name → end offset of each partition. Guarded by mu_ (the map's
  // shape is fixed after Open).
  Ends ends_ ABSL_GUARDED_BY(mu_);
  // Appends in line; the front one writes the group.
  std::deque<Writer*> queue_ ABSL_GUARDED_BY(mu_);
  // Per topic, per partition.
  std::map<std::string, std::vector<Tail>, std::less<>> tails_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int32_t, std::less<>> partitions_;
  // Set by a failed group fsync; the log takes nothing after it.
  absl::Status failure_ ABSL_GUARDED_BY(mu_);
  // The latest write's outcome (Readiness).
  absl::Status last_write_ ABSL_GUARDED_BY(mu_);
  struct Metrics {
    metrics::Counter* records;
    metrics::Histogram* group_appends;
    metrics::Histogram* fsync_seconds;
  };
  const Metrics metrics_;
};

}  // namespace leadflow::log
