#include "leadflow/store/database.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "absl/base/dynamic_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "backup_engine.h"
#include "key_range.h"
#include "rocks_status.h"

namespace leadflow::store {
namespace {

rocksdb::Slice ToSlice(absl::string_view bytes) {
  return rocksdb::Slice(bytes.data(), bytes.size());
}

absl::string_view ToView(const rocksdb::Slice& bytes) {
  return absl::string_view(bytes.data(), bytes.size());
}

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
  // Filters and indexes stay in the table readers' memory, outside the
  // block cache: cached, they were evicted by data blocks at a million
  // leads, and every point read fetched and checksummed a whole filter
  // block again (GetLead p50 over 100 ms; docs/benchmarks.md). About 10 bits
  // a key.
  table.format_version = 5;
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  family.memtable_prefix_bloom_size_ratio = 0.05;
  family.memtable_whole_key_filtering = true;
  family.level_compaction_dynamic_level_bytes = true;
  return family;
}

// A log key is name \0 partition(4 bytes) offset(8 bytes, big endian): the
// prefix up to the offset names a sequence whose keys only grow.
class LogSequencePrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "leadflow.LogSequencePrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), Length(key));
  }
  bool InDomain(const rocksdb::Slice& key) const override { return Length(key) > 0; }

 private:
  static size_t Length(const rocksdb::Slice& key) {
    const void* nul = std::memchr(key.data(), '\0', key.size());
    if (nul == nullptr) return 0;
    const size_t length = static_cast<size_t>(static_cast<const char*>(nul) - key.data()) + 5;
    return length <= key.size() ? length : 0;
  }
};

// The log is read by offset ranges (iterators), never by a missing key.
// Appends go to the end of their partition: the memtable keeps an insert
// hint per partition, so an append does not search the skiplist from its
// top (memtable inserts were the largest share of intake's profile).
rocksdb::ColumnFamilyOptions LogFamily(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions family;
  family.memtable_insert_with_hint_prefix_extractor = std::make_shared<LogSequencePrefix>();
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.format_version = 5;
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  family.level_compaction_dynamic_level_bytes = true;
  return family;
}

// RocksDB comes from Debian's static library, not built with
// ThreadSanitizer: its write thread hands a group's leadership and merged
// batches between writers through its own atomics, which TSan cannot see.
// The inline std::string code it runs is TSan's instrumented copy in this
// binary, so RocksDB's own buffers (the merged batch) show as races between
// two writers. Inside a RocksDB write this thread's accesses go unchecked;
// outside TSan builds this is nothing.
class UncheckedInRocksDb {
 public:
  UncheckedInRocksDb() { ABSL_ANNOTATE_IGNORE_READS_AND_WRITES_BEGIN(); }
  ~UncheckedInRocksDb() { ABSL_ANNOTATE_IGNORE_READS_AND_WRITES_END(); }
  UncheckedInRocksDb(const UncheckedInRocksDb&) = delete;
  UncheckedInRocksDb& operator=(const UncheckedInRocksDb&) = delete;
};

}  // namespace

struct Database::Rocks {
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::ColumnFamilyHandle* default_family = nullptr;
  // Indexed by Keyspace.
  std::array<rocksdb::ColumnFamilyHandle*, kKeyspaceCount> families = {};
  rocksdb::WriteOptions write_options;
  rocksdb::WriteOptions unsynced_write_options;

  rocksdb::ColumnFamilyHandle* family(Keyspace keyspace) const {
    return families[static_cast<size_t>(keyspace)];
  }
};

namespace {

class RocksBatch final : public StateBatch {
 public:
  RocksBatch(const void* owner,
             const std::array<rocksdb::ColumnFamilyHandle*, kKeyspaceCount>& families)
      : owner_(owner), families_(families) {}

  void Put(Keyspace keyspace, absl::string_view key, absl::string_view value) override {
    batch_.Put(families_[static_cast<size_t>(keyspace)], ToSlice(key), ToSlice(value))
        .PermitUncheckedError();
  }
  void Delete(Keyspace keyspace, absl::string_view key) override {
    batch_.Delete(families_[static_cast<size_t>(keyspace)], ToSlice(key)).PermitUncheckedError();
  }
  size_t Count() const override { return batch_.Count(); }

  const void* owner() const { return owner_; }
  rocksdb::WriteBatch* batch() { return &batch_; }

 private:
  const void* const owner_;
  const std::array<rocksdb::ColumnFamilyHandle*, kKeyspaceCount> families_;
  rocksdb::WriteBatch batch_;
};

}  // namespace

Database::Database(std::unique_ptr<Rocks> rocks) : rocks_(std::move(rocks)) {}

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
  // The families' names are the keyspaces' (KeyspaceName): data dirs of
  // every version open unchanged.
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {std::string(KeyspaceName(Keyspace::kLog)), LogFamily(cache)},
      {std::string(KeyspaceName(Keyspace::kState)), PointLookupFamily(cache)},
      {std::string(KeyspaceName(Keyspace::kViews)), PointLookupFamily(cache)},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(db_options, options.path, families, &handles, &raw);
  if (!status.ok()) return FromRocks(status, absl::StrCat("opening data dir ", options.path));
  auto rocks = std::make_unique<Rocks>();
  rocks->db.reset(raw);
  rocks->default_family = handles[0];
  rocks->families[static_cast<size_t>(Keyspace::kLog)] = handles[1];
  rocks->families[static_cast<size_t>(Keyspace::kState)] = handles[2];
  rocks->families[static_cast<size_t>(Keyspace::kViews)] = handles[3];
  rocks->write_options.sync = options.sync_writes;
  return std::unique_ptr<Database>(new Database(std::move(rocks)));
}

Database::~Database() {
  if (rocks_ == nullptr || rocks_->db == nullptr) return;
  // A clean stop leaves the memtables in table files, so the next start
  // replays no write-ahead log (up to a memtable per family: seconds).
  std::vector<rocksdb::ColumnFamilyHandle*> families(rocks_->families.begin(),
                                                     rocks_->families.end());
  rocks_->db->Flush(rocksdb::FlushOptions(), families).PermitUncheckedError();
  rocks_->db->DestroyColumnFamilyHandle(rocks_->default_family).PermitUncheckedError();
  for (auto* handle : rocks_->families) {
    rocks_->db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  rocks_->db->Close().PermitUncheckedError();
}

absl::StatusOr<std::optional<std::string>> Database::Get(Keyspace keyspace,
                                                         absl::string_view key) const {
  std::string value;
  rocksdb::Status status =
      rocks_->db->Get(rocksdb::ReadOptions(), rocks_->family(keyspace), ToSlice(key), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return FromRocks(status, "reading key");
  return value;
}

absl::StatusOr<std::vector<std::optional<std::string>>> Database::MultiGet(
    Keyspace keyspace, const std::vector<std::string>& keys) const {
  std::vector<std::optional<std::string>> values(keys.size());
  if (keys.empty()) return values;
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const auto& key : keys) slices.emplace_back(key);
  std::vector<rocksdb::PinnableSlice> found(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  rocks_->db->MultiGet(rocksdb::ReadOptions(), rocks_->family(keyspace), keys.size(), slices.data(),
                       found.data(), statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromRocks(statuses[i], "reading keys");
    values[i].emplace(found[i].data(), found[i].size());
  }
  return values;
}

absl::Status Database::Scan(
    Keyspace keyspace, absl::string_view prefix, absl::string_view start,
    absl::FunctionRef<bool(absl::string_view key, absl::string_view value)> visit) const {
  // Bounded to the prefix, so the last Next() stops there instead of
  // walking deleted keys beyond it to the next live one.
  const std::string end = PrefixEnd(prefix);
  const rocksdb::Slice upper(end);
  rocksdb::ReadOptions options;
  if (!end.empty()) options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(rocks_->db->NewIterator(options, rocks_->family(keyspace)));
  for (it->Seek(ToSlice(std::max(prefix, start))); it->Valid(); it->Next()) {
    const absl::string_view key = ToView(it->key());
    if (!HasPrefix(key, prefix)) break;
    if (!visit(key, ToView(it->value()))) break;
  }
  return FromRocks(it->status(), absl::StrCat("scanning ", KeyspaceName(keyspace)));
}

absl::StatusOr<std::optional<std::string>> Database::LastKeyWithPrefix(
    Keyspace keyspace, absl::string_view prefix) const {
  std::unique_ptr<rocksdb::Iterator> it(
      rocks_->db->NewIterator(rocksdb::ReadOptions(), rocks_->family(keyspace)));
  const std::string end = PrefixEnd(prefix);
  if (end.empty()) {
    it->SeekToLast();
  } else {
    // The last key at or before the end, which itself is past the prefix.
    it->SeekForPrev(end);
    if (it->Valid() && ToView(it->key()) == end) it->Prev();
  }
  std::optional<std::string> last;
  if (it->Valid() && HasPrefix(ToView(it->key()), prefix)) {
    last.emplace(it->key().data(), it->key().size());
  }
  if (!it->status().ok()) {
    return FromRocks(it->status(), absl::StrCat("scanning ", KeyspaceName(keyspace)));
  }
  return last;
}

std::unique_ptr<StateBatch> Database::NewBatch() const {
  return std::make_unique<RocksBatch>(rocks_.get(), rocks_->families);
}

namespace {

absl::StatusOr<rocksdb::WriteBatch*> Unwrap(StateBatch* batch, const void* owner) {
  auto* rocks = dynamic_cast<RocksBatch*>(batch);
  if (rocks == nullptr || rocks->owner() != owner) {
    return absl::InvalidArgumentError("writing a batch this data dir did not make");
  }
  return rocks->batch();
}

}  // namespace

absl::Status Database::Write(StateBatch* batch) {
  absl::StatusOr<rocksdb::WriteBatch*> rocks = Unwrap(batch, rocks_.get());
  if (!rocks.ok()) return rocks.status();
  const UncheckedInRocksDb unchecked;
  return FromRocks(rocks_->db->Write(rocks_->write_options, *rocks), "writing batch");
}

absl::Status Database::WriteUnsynced(StateBatch* batch) {
  absl::StatusOr<rocksdb::WriteBatch*> rocks = Unwrap(batch, rocks_.get());
  if (!rocks.ok()) return rocks.status();
  const UncheckedInRocksDb unchecked;
  return FromRocks(rocks_->db->Write(rocks_->unsynced_write_options, *rocks), "writing batch");
}

absl::StatusOr<BackupInfo> Database::CreateBackup(const std::string& backup_dir, int keep) {
  // RocksDB's backup engine takes one writer per backup dir.
  static absl::Mutex* backing_up = new absl::Mutex();
  absl::MutexLock lock(backing_up);
  return CreateBackupOf(rocks_->db.get(), backup_dir, keep);
}

absl::Status Database::Sync() {
  if (!rocks_->write_options.sync) return absl::OkStatus();
  const UncheckedInRocksDb unchecked;
  return FromRocks(rocks_->db->SyncWAL(), "syncing the write-ahead log");
}

absl::Status Database::Clear(Keyspace keyspace) {
  rocksdb::ColumnFamilyHandle* family = rocks_->family(keyspace);
  std::string first;
  std::string end;  // past the last key
  {
    std::unique_ptr<rocksdb::Iterator> it(rocks_->db->NewIterator(rocksdb::ReadOptions(), family));
    it->SeekToFirst();
    if (!it->status().ok()) return FromRocks(it->status(), "scanning for clear");
    if (!it->Valid()) return absl::OkStatus();
    first = it->key().ToString();
    it->SeekToLast();
    if (!it->status().ok() || !it->Valid()) return FromRocks(it->status(), "scanning for clear");
    end = it->key().ToString();
    end.push_back('\0');
  }
  // One range deletion, durable, instead of a tombstone per key (millions
  // for a large read model, each a memtable insert); then the files it
  // covers whole are dropped. In this order a crash in between leaves the
  // keyspace empty either way.
  if (absl::Status s = FromRocks(rocks_->db->DeleteRange(rocks_->write_options, family, first, end),
                                 "clearing keyspace");
      !s.ok()) {
    return s;
  }
  const rocksdb::Slice begin_slice(first);
  const rocksdb::Slice end_slice(end);
  return FromRocks(rocksdb::DeleteFilesInRange(rocks_->db.get(), family, &begin_slice, &end_slice),
                   "dropping cleared files");
}

std::vector<std::pair<std::string, double>> Database::Properties() const {
  struct Property {
    const char* metric;
    const char* rocksdb;
    // Of the whole DB (one shared cache, one write controller) rather than
    // per column family.
    bool db_wide;
  };
  static constexpr Property kProperties[] = {
      {"memtable_bytes", "rocksdb.cur-size-all-mem-tables", false},
      {"block_cache_bytes", "rocksdb.block-cache-usage", true},
      {"table_readers_bytes", "rocksdb.estimate-table-readers-mem", false},
      {"live_sst_bytes", "rocksdb.live-sst-files-size", false},
      {"estimated_keys", "rocksdb.estimate-num-keys", false},
      {"pending_compaction_bytes", "rocksdb.estimate-pending-compaction-bytes", false},
      {"compaction_pending", "rocksdb.compaction-pending", false},
      {"running_compactions", "rocksdb.num-running-compactions", true},
      {"write_stopped", "rocksdb.is-write-stopped", true},
      {"delayed_write_rate_bytes", "rocksdb.actual-delayed-write-rate", true},
      {"immutable_memtables", "rocksdb.num-immutable-mem-table", false},
  };
  std::vector<std::pair<std::string, double>> out;
  for (const auto& property : kProperties) {
    uint64_t value = 0;
    const bool known = property.db_wide
                           ? rocks_->db->GetIntProperty(property.rocksdb, &value)
                           : rocks_->db->GetAggregatedIntProperty(property.rocksdb, &value);
    if (known) out.emplace_back(property.metric, static_cast<double>(value));
  }
  return out;
}

}  // namespace leadflow::store
