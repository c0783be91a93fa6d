#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "leadflow/store/backups.h"
#include "leadflow/store/state_store.h"

namespace leadflow::store {

// The RocksDB state store of one data directory: one RocksDB instance, a
// column family per keyspace ("log", "state", "views"). One instance means a
// processor's state, its input offset and its output records go into one
// RocksDB WriteBatch: the atomic unit of the embedded engine. Thread-safe
// (RocksDB is).
class Database final : public StateStore {
 public:
  struct Options {
    std::string path;
    // fsync the WAL on every Write and Sync, so an acknowledged write
    // survives a power cut, not only a process crash.
    bool sync_writes = true;
  };

  static absl::StatusOr<std::unique_ptr<Database>> Open(const Options& options);
  ~Database() override;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  absl::StatusOr<std::optional<std::string>> Get(Keyspace keyspace,
                                                 absl::string_view key) const override;
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      Keyspace keyspace, const std::vector<std::string>& keys) const override;
  absl::Status Scan(
      Keyspace keyspace, absl::string_view prefix, absl::string_view start,
      absl::FunctionRef<bool(absl::string_view key, absl::string_view value)> visit) const override;
  absl::StatusOr<std::optional<std::string>> LastKeyWithPrefix(
      Keyspace keyspace, absl::string_view prefix) const override;
  std::unique_ptr<StateBatch> NewBatch() const override;
  absl::Status Write(StateBatch* batch) override;
  absl::Status WriteUnsynced(StateBatch* batch) override;
  // fsyncs the write-ahead log when Options::sync_writes; else nothing.
  absl::Status Sync() override;
  absl::Status Clear(Keyspace keyspace) override;

  // RocksDB's own figures an operator watches, summed over the column
  // families: (metric name suffix, value), e.g. ("memtable_bytes", 1234).
  // See docs/operations.md, metrics.
  std::vector<std::pair<std::string, double>> Properties() const;

  // Backs the whole store up into `backup_dir` (made when missing) while it
  // is in use: one point in time across the log, the processors' state and
  // the read models, as a crash at that moment would leave them (records
  // written but not yet acknowledged included; their writers retry with
  // the same ids). Then keeps the newest `keep` backups (0: all). One
  // backup at a time; another call waits.
  absl::StatusOr<BackupInfo> CreateBackup(const std::string& backup_dir, int keep = 0);

 private:
  // The DB and its handles: RocksDB's types stay out of this header, so its
  // users need none of RocksDB's.
  struct Rocks;
  explicit Database(std::unique_ptr<Rocks> rocks);
  std::unique_ptr<Rocks> rocks_;
};

}  // namespace leadflow::store
