#include "leadflow/store/database.h"

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

#include <vector>

#include "absl/strings/str_cat.h"

namespace leadflow::store {

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsNotFound()) return absl::NotFoundError(message);
  if (status.IsIOError() || status.IsBusy() || status.IsTimedOut() || status.IsTryAgain()) {
    return absl::UnavailableError(message);
  }
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsInvalidArgument()) return absl::InvalidArgumentError(message);
  return absl::InternalError(message);
}

namespace {

// Options of a family that is read by key: most processor reads look for a
// key that is absent (a channel event not seen yet, a command without an
// outcome), so whole-key bloom filters, in the memtable as in the tables,
// answer them without searching the skiplist or reading blocks.
rocksdb::ColumnFamilyOptions PointLookupFamily(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions family;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.format_version = 5;
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  family.memtable_prefix_bloom_size_ratio = 0.05;
  family.memtable_whole_key_filtering = true;
  family.level_compaction_dynamic_level_bytes = true;
  return family;
}

// The log is read by offset ranges (iterators), never by a missing key.
rocksdb::ColumnFamilyOptions LogFamily(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions family;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.format_version = 5;
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  family.level_compaction_dynamic_level_bytes = true;
  return family;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const Options& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;
  // Fewer, larger WAL writes: processors and appends already batch.
  db_options.manual_wal_flush = false;
  // One cache for every family: what is hot moves between them.
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(128 << 20);
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {"log", LogFamily(cache)},
      {"state", PointLookupFamily(cache)},
      {"views", PointLookupFamily(cache)},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(db_options, options.path, families, &handles, &raw);
  if (!status.ok()) return FromRocks(status, absl::StrCat("opening data dir ", options.path));
  std::unique_ptr<Database> database(new Database());
  database->db_.reset(raw);
  database->default_ = handles[0];
  database->log_ = handles[1];
  database->state_ = handles[2];
  database->views_ = handles[3];
  database->write_options_.sync = options.sync_writes;
  return database;
}

Database::~Database() {
  if (db_ == nullptr) return;
  for (auto* handle : {default_, log_, state_, views_}) {
    db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
}

absl::Status Database::Write(rocksdb::WriteBatch* batch) const {
  return FromRocks(db_->Write(write_options_, batch), "writing batch");
}

absl::Status Database::WriteUnsynced(rocksdb::WriteBatch* batch) const {
  return FromRocks(db_->Write(unsynced_write_options_, batch), "writing batch");
}

absl::Status Database::Sync() const {
  if (!write_options_.sync) return absl::OkStatus();
  return FromRocks(db_->SyncWAL(), "syncing the write-ahead log");
}

absl::StatusOr<std::optional<std::string>> Database::Get(rocksdb::ColumnFamilyHandle* family,
                                                         absl::string_view key) const {
  std::string value;
  rocksdb::Status status =
      db_->Get(rocksdb::ReadOptions(), family, rocksdb::Slice(key.data(), key.size()), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return FromRocks(status, "reading key");
  return value;
}

absl::Status Database::Clear(rocksdb::ColumnFamilyHandle* family) const {
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family));
  for (it->SeekToFirst(); it->Valid(); it->Next()) batch.Delete(family, it->key());
  if (!it->status().ok()) return FromRocks(it->status(), "scanning for clear");
  return Write(&batch);
}

}  // namespace leadflow::store
