#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadflow::store {

// Turns a RocksDB status into an absl::Status, naming `what` failed.
absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what);

// The RocksDB instance of one data directory. Thread-safe (RocksDB is).
class Database {
 public:
  struct Options {
    std::string path;
    // fsync the WAL on every write, so an acknowledged write survives a power
    // cut, not only a process crash.
    bool sync_writes = true;
  };

  static absl::StatusOr<std::unique_ptr<Database>> Open(const Options& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* log_family() const { return log_; }
  rocksdb::ColumnFamilyHandle* state_family() const { return state_; }
  rocksdb::ColumnFamilyHandle* views_family() const { return views_; }

  // Applies the batch atomically (fsynced when Options::sync_writes).
  absl::Status Write(rocksdb::WriteBatch* batch) const;
  // Applies the batch atomically without waiting for fsync; Sync() makes it
  // (and every write before it) durable. Group commit: several batches, one
  // fsync.
  absl::Status WriteUnsynced(rocksdb::WriteBatch* batch) const;
  // fsyncs the write-ahead log when Options::sync_writes; else nothing.
  absl::Status Sync() const;
  // nullopt when the key is absent.
  absl::StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* family,
                                                 absl::string_view key) const;
  // Removes every key of the family (used to rebuild read models).
  absl::Status Clear(rocksdb::ColumnFamilyHandle* family) const;

 private:
  Database() = default;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_ = nullptr;
  rocksdb::ColumnFamilyHandle* log_ = nullptr;
  rocksdb::ColumnFamilyHandle* state_ = nullptr;
  rocksdb::ColumnFamilyHandle* views_ = nullptr;
  rocksdb::WriteOptions write_options_;
  rocksdb::WriteOptions unsynced_write_options_;
};

}  // namespace leadflow::store
