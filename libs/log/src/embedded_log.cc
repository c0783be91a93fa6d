#include "leadflow/log/embedded_log.h"

#include <rocksdb/iterator.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/storage/v1/storage.pb.h"

namespace leadflow::log {
namespace {

void AppendBigEndian(std::string* out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t ReadBigEndian(absl::string_view in) {
  uint64_t value = 0;
  for (unsigned char c : in) value = (value << 8) | c;
  return value;
}

// topic \0 partition(4, big endian) — records of a partition sort by offset.
std::string PartitionPrefix(absl::string_view topic, int32_t partition) {
  std::string key(topic);
  key.push_back('\0');
  AppendBigEndian(&key, static_cast<uint32_t>(partition), 4);
  return key;
}

std::string RecordKey(absl::string_view topic, int32_t partition, int64_t offset) {
  std::string key = PartitionPrefix(topic, partition);
  AppendBigEndian(&key, static_cast<uint64_t>(offset), 8);
  return key;
}

// Metadata keys start with \x01, which no topic name does.
std::string TopicMetaKey(absl::string_view topic) { return absl::StrCat("\x01topic/", topic); }

}  // namespace

absl::StatusOr<std::unique_ptr<EmbeddedLog>> EmbeddedLog::Open(
    store::Database* db, const std::vector<TopicSpec>& topics) {
  std::unique_ptr<EmbeddedLog> log(new EmbeddedLog(db));
  absl::MutexLock lock(&log->mu_);
  rocksdb::WriteBatch created;
  for (const auto& spec : topics) {
    if (spec.partitions < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("topic ", spec.name, ": partitions must be >= 1"));
    }
    auto meta = db->Get(db->log_family(), TopicMetaKey(spec.name));
    if (!meta.ok()) return meta.status();
    int32_t partitions = spec.partitions;
    if (meta->has_value()) {
      storage::v1::TopicMetadata stored;
      if (!stored.ParseFromString(**meta)) {
        return absl::DataLossError(absl::StrCat("topic ", spec.name, ": metadata is corrupt"));
      }
      if (stored.partitions() != spec.partitions) {
        return absl::FailedPreconditionError(absl::StrCat(
            "topic ", spec.name, " has ", stored.partitions(), " partitions in this data dir, not ",
            spec.partitions, ": changing it would move keys between partitions"));
      }
    } else {
      storage::v1::TopicMetadata stored;
      stored.set_name(spec.name);
      stored.set_partitions(spec.partitions);
      created.Put(db->log_family(), TopicMetaKey(spec.name), stored.SerializeAsString());
    }
    std::vector<int64_t> ends(partitions, 0);
    std::unique_ptr<rocksdb::Iterator> it(
        db->db()->NewIterator(rocksdb::ReadOptions(), db->log_family()));
    for (int32_t p = 0; p < partitions; ++p) {
      // The last key of the partition holds its highest offset.
      const std::string upper = RecordKey(spec.name, p, INT64_MAX);
      it->SeekForPrev(upper);
      const std::string prefix = PartitionPrefix(spec.name, p);
      if (it->Valid() && it->key().starts_with(prefix)) {
        ends[p] = static_cast<int64_t>(
                      ReadBigEndian(absl::string_view(it->key().data() + prefix.size(), 8))) +
                  1;
      }
      if (!it->status().ok()) return store::FromRocks(it->status(), "scanning log");
    }
    log->ends_[spec.name] = std::move(ends);
    log->partitions_[spec.name] = partitions;
  }
  if (created.Count() > 0) {
    absl::Status status = db->Write(&created);
    if (!status.ok()) return status;
  }
  return log;
}

int32_t EmbeddedLog::PartitionCount(absl::string_view topic) const {
  auto it = partitions_.find(topic);
  return it == partitions_.end() ? 0 : it->second;
}

absl::StatusOr<std::vector<Position>> EmbeddedLog::Append(std::vector<OutgoingRecord> records) {
  rocksdb::WriteBatch batch;
  return AppendWithState(std::move(records), &batch, nullptr);
}

absl::StatusOr<std::vector<Position>> EmbeddedLog::AppendWithState(
    std::vector<OutgoingRecord> records, rocksdb::WriteBatch* local_state,
    const BeforeWrite& before_write) {
  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  absl::MutexLock lock(&mu_);
  std::vector<Position> positions;
  positions.reserve(records.size());
  // Offsets are taken from a copy and published only after the write.
  std::map<std::string, std::vector<int64_t>, std::less<>> next;
  for (auto& record : records) {
    auto ends = ends_.find(record.topic);
    if (ends == ends_.end()) {
      return absl::NotFoundError(absl::StrCat("unknown topic ", record.topic));
    }
    auto [slot, inserted] = next.try_emplace(record.topic, ends->second);
    const int32_t partition =
        PartitionForKey(record.key, static_cast<int32_t>(slot->second.size()));
    const int64_t offset = slot->second[partition]++;
    storage::v1::StoredRecord stored;
    stored.set_timestamp_ms(record.timestamp_ms != 0 ? record.timestamp_ms : now_ms);
    stored.set_key(std::move(record.key));
    stored.set_value(std::move(record.value));
    for (auto& header : record.headers) {
      auto* h = stored.add_headers();
      h->set_key(std::move(header.key));
      h->set_value(std::move(header.value));
    }
    local_state->Put(db_->log_family(), RecordKey(record.topic, partition, offset),
                     stored.SerializeAsString());
    positions.push_back({record.topic, partition, offset});
  }
  if (before_write) before_write(positions, local_state);
  absl::Status status = db_->Write(local_state);
  if (!status.ok()) return status;
  for (auto& [topic, ends] : next) ends_.find(topic)->second = std::move(ends);
  return positions;
}

absl::StatusOr<std::vector<Record>> EmbeddedLog::Read(absl::string_view topic, int32_t partition,
                                                      int64_t from, size_t max_records) const {
  int64_t end;
  {
    absl::MutexLock lock(&mu_);
    auto ends = ends_.find(topic);
    if (ends == ends_.end()) return absl::NotFoundError(absl::StrCat("unknown topic ", topic));
    if (partition < 0 || partition >= static_cast<int32_t>(ends->second.size())) {
      return absl::OutOfRangeError(absl::StrCat("topic ", topic, " has no partition ", partition));
    }
    end = ends->second[partition];
  }
  std::vector<Record> records;
  if (from < 0) from = 0;
  if (from >= end) return records;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db()->NewIterator(rocksdb::ReadOptions(), db_->log_family()));
  const std::string prefix = PartitionPrefix(topic, partition);
  for (it->Seek(RecordKey(topic, partition, from));
       it->Valid() && it->key().starts_with(prefix) && records.size() < max_records; it->Next()) {
    const int64_t offset =
        static_cast<int64_t>(ReadBigEndian(absl::string_view(it->key().data() + prefix.size(), 8)));
    if (offset >= end) break;
    storage::v1::StoredRecord stored;
    if (!stored.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(
          absl::StrCat("log record ", topic, "/", partition, "@", offset, " is corrupt"));
    }
    Record& record = records.emplace_back();
    record.topic = std::string(topic);
    record.partition = partition;
    record.offset = offset;
    record.timestamp_ms = stored.timestamp_ms();
    record.key = std::move(*stored.mutable_key());
    record.value = std::move(*stored.mutable_value());
    for (auto& h : *stored.mutable_headers()) {
      record.headers.push_back({std::move(*h.mutable_key()), std::move(*h.mutable_value())});
    }
  }
  if (!it->status().ok()) return store::FromRocks(it->status(), "reading log");
  return records;
}

int64_t EmbeddedLog::EndOffset(absl::string_view topic, int32_t partition) const {
  absl::MutexLock lock(&mu_);
  auto ends = ends_.find(topic);
  if (ends == ends_.end() || partition < 0 ||
      partition >= static_cast<int32_t>(ends->second.size())) {
    return 0;
  }
  return ends->second[partition];
}

namespace {

// Reads the partitions round-robin from its cursors; waits on the log when
// all are drained.
class EmbeddedReader final : public LogReader {
 public:
  EmbeddedReader(const EmbeddedLog* log, std::string topic, std::vector<int64_t> next)
      : log_(log), topic_(std::move(topic)), next_(std::move(next)) {}

  absl::StatusOr<std::vector<Record>> Poll(size_t max_records, absl::Duration timeout) override {
    std::vector<Record> out;
    for (int attempt = 0; attempt < 2 && out.empty(); ++attempt) {
      if (attempt == 1 && !log_->WaitForRecords(topic_, next_, timeout)) break;
      for (size_t i = 0; i < next_.size() && out.size() < max_records; ++i) {
        const int32_t p = static_cast<int32_t>((first_ + i) % next_.size());
        auto records = log_->Read(topic_, p, next_[p], max_records - out.size());
        if (!records.ok()) return records.status();
        if (records->empty()) continue;
        next_[p] = records->back().offset + 1;
        for (auto& r : *records) out.push_back(std::move(r));
      }
      first_ = (first_ + 1) % next_.size();  // no partition starves the others
    }
    return out;
  }

  absl::Status Seek(int32_t partition, int64_t offset) override {
    if (partition < 0 || partition >= static_cast<int32_t>(next_.size())) {
      return absl::OutOfRangeError(absl::StrCat("topic ", topic_, " has no partition ", partition));
    }
    next_[partition] = offset;
    return absl::OkStatus();
  }

  int64_t Position(int32_t partition) const override {
    return partition >= 0 && partition < static_cast<int32_t>(next_.size()) ? next_[partition] : 0;
  }

 private:
  const EmbeddedLog* log_;
  const std::string topic_;
  std::vector<int64_t> next_;
  size_t first_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<LogReader>> EmbeddedLog::OpenReader(
    absl::string_view topic, const std::vector<int64_t>& start) const {
  const int32_t partitions = PartitionCount(topic);
  if (partitions == 0) return absl::NotFoundError(absl::StrCat("unknown topic ", topic));
  std::vector<int64_t> next(partitions, 0);
  for (size_t p = 0; p < start.size() && p < next.size(); ++p) next[p] = start[p];
  return std::make_unique<EmbeddedReader>(this, std::string(topic), std::move(next));
}

bool EmbeddedLog::WaitForRecords(absl::string_view topic, const std::vector<int64_t>& next,
                                 absl::Duration timeout) const {
  auto has_data = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto ends = ends_.find(topic);
    if (ends == ends_.end()) return false;
    for (size_t p = 0; p < ends->second.size() && p < next.size(); ++p) {
      if (ends->second[p] > next[p]) return true;
    }
    return false;
  };
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&has_data), timeout);
}

}  // namespace leadflow::log
