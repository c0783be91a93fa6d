#include "leadflow/log/embedded_log.h"

#include <atomic>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
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

// The record stored at `at`, its bytes moved out of `stored`.
Record TakeRecord(storage::v1::StoredRecord& stored, const Position& at) {
  Record record;
  record.topic = at.topic;
  record.partition = at.partition;
  record.offset = at.offset;
  record.timestamp_ms = stored.timestamp_ms();
  record.key = std::move(*stored.mutable_key());
  record.value = std::move(*stored.mutable_value());
  record.headers.reserve(stored.headers_size());
  for (auto& h : *stored.mutable_headers()) {
    record.headers.push_back({std::move(*h.mutable_key()), std::move(*h.mutable_value())});
  }
  return record;
}

// Metadata keys start with \x01, which no topic name does.
std::string TopicMetaKey(absl::string_view topic) { return absl::StrCat("\x01topic/", topic); }

}  // namespace

absl::StatusOr<std::unique_ptr<EmbeddedLog>> EmbeddedLog::Open(store::StateStore* db,
                                                               const std::vector<TopicSpec>& topics,
                                                               bool keep_changelogs) {
  std::unique_ptr<EmbeddedLog> log(new EmbeddedLog(db, keep_changelogs));
  absl::MutexLock lock(&log->mu_);
  std::unique_ptr<store::StateBatch> created = db->NewBatch();
  for (const auto& spec : topics) {
    if (spec.partitions < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("topic ", spec.name, ": partitions must be >= 1"));
    }
    auto meta = db->Get(store::Keyspace::kLog, TopicMetaKey(spec.name));
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
      created->Put(store::Keyspace::kLog, TopicMetaKey(spec.name), stored.SerializeAsString());
    }
    std::vector<int64_t> ends(partitions, 0);
    for (int32_t p = 0; p < partitions; ++p) {
      // The last key of the partition holds its highest offset.
      const std::string prefix = PartitionPrefix(spec.name, p);
      LEADFLOW_ASSIGN_OR_RETURN(std::optional<std::string> last,
                                db->LastKeyWithPrefix(store::Keyspace::kLog, prefix));
      if (!last.has_value()) continue;
      if (last->size() != prefix.size() + 8) {
        return absl::DataLossError(
            absl::StrCat("log of ", spec.name, "/", p, ": a record key is corrupt"));
      }
      ends[p] =
          static_cast<int64_t>(ReadBigEndian(absl::string_view(*last).substr(prefix.size()))) + 1;
    }
    log->ends_[spec.name] = std::move(ends);
    log->partitions_[spec.name] = partitions;
  }
  if (created->Count() > 0) {
    absl::Status status = db->Write(created.get());
    if (!status.ok()) return status;
  }
  return log;
}

absl::Status EmbeddedLog::Health() const {
  absl::MutexLock lock(&mu_);
  if (failure_.ok()) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat("the embedded log stopped after a failed fsync: ", failure_.message()));
}

absl::Status EmbeddedLog::Readiness() const {
  absl::MutexLock lock(&mu_);
  if (!failure_.ok()) return failure_;
  return last_write_;
}

int32_t EmbeddedLog::PartitionCount(absl::string_view topic) const {
  auto it = partitions_.find(topic);
  return it == partitions_.end() ? 0 : it->second;
}

EmbeddedLog::EmbeddedLog(store::StateStore* db, bool keep_changelogs)
    : db_(db),
      keep_changelogs_(keep_changelogs),
      metrics_{&metrics::DefaultRegistry()
                    .AddCounter("leadflow_log_appended_records_total",
                                "Records appended to the embedded log (every topic).")
                    .With({}),
               &metrics::DefaultRegistry()
                    .AddHistogram("leadflow_log_group_commit_appends",
                                  "Appends written together by one group commit (one fsync, one "
                                  "Kafka transaction).",
                                  {}, metrics::SizeBuckets())
                    .With({}),
               &metrics::DefaultRegistry()
                    .AddHistogram("leadflow_log_fsync_seconds",
                                  "Time of one group commit's fsync of the write-ahead log.", {})
                    .With({})} {}

absl::StatusOr<std::vector<Position>> EmbeddedLog::Append(std::vector<OutgoingRecord> records,
                                                          absl::Time /*deadline*/) {
  std::unique_ptr<store::StateBatch> batch = db_->NewBatch();
  return AppendWithState(std::move(records), batch.get(), nullptr, nullptr);
}

absl::StatusOr<std::vector<Position>> EmbeddedLog::Place(Writer& writer, Ends& ends,
                                                         int64_t now_ms) const {
  std::vector<OutgoingRecord>& records = *writer.records;
  std::vector<Position> positions(records.size());
  Ends next;  // the topics this writer touches, advanced
  auto place = [&](size_t i) -> absl::Status {
    OutgoingRecord& record = records[i];
    auto current = ends.find(record.topic);
    if (current == ends.end()) {
      return absl::NotFoundError(absl::StrCat("unknown topic ", record.topic));
    }
    auto [slot, inserted] = next.try_emplace(record.topic, current->second);
    const int32_t count = static_cast<int32_t>(slot->second.size());
    if (record.partition >= count) {
      return absl::OutOfRangeError(
          absl::StrCat("topic ", record.topic, " has no partition ", record.partition));
    }
    const int32_t partition =
        record.partition >= 0 ? record.partition : PartitionForKey(record.key, count);
    positions[i] = {record.topic, partition, slot->second[partition]++};
    return absl::OkStatus();
  };
  // Deferred records go after the others, in the same write.
  for (int deferred = 0; deferred < 2; ++deferred) {
    for (size_t i = 0; i < records.size(); ++i) {
      if (static_cast<bool>(records[i].complete) != (deferred == 1)) continue;
      if (absl::Status s = place(i); !s.ok()) return s;
    }
  }
  writer.appended.clear();
  writer.appended.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    OutgoingRecord& record = records[i];
    if (record.complete) record.complete(positions, &record);
    storage::v1::StoredRecord stored;
    stored.set_timestamp_ms(record.timestamp_ms != 0 ? record.timestamp_ms : now_ms);
    stored.set_key(std::move(record.key));
    stored.set_value(std::move(record.value));
    for (auto& header : record.headers) {
      auto* h = stored.add_headers();
      h->set_key(std::move(header.key));
      h->set_value(std::move(header.value));
    }
    writer.batch->Put(store::Keyspace::kLog,
                      RecordKey(positions[i].topic, positions[i].partition, positions[i].offset),
                      stored.SerializeAsString());
    // The bytes move on to the log's tail, as readers will get them.
    writer.appended.emplace_back(positions[i],
                                 std::make_shared<Record>(TakeRecord(stored, positions[i])));
  }
  if (*writer.before_write) (*writer.before_write)(positions, writer.batch);
  for (auto& [topic, advanced] : next) ends.find(topic)->second = std::move(advanced);
  return positions;
}

absl::StatusOr<std::vector<Position>> EmbeddedLog::AppendWithState(
    std::vector<OutgoingRecord> records, store::StateBatch* local_state,
    const BeforeWrite& before_write, const InputProgress* input) {
  if (records.empty()) {
    // Nothing to place and nothing to make durable (see below): such a unit
    // (a read model's batch, an offset past input that caused nothing)
    // neither waits in line behind a group's fsync nor makes one wait.
    LEADFLOW_RETURN_IF_ERROR(Health());
    if (before_write) before_write({}, local_state);
    if (local_state == nullptr || local_state->Count() == 0) return std::vector<Position>();
    absl::Status written = db_->WriteUnsynced(local_state);
    {
      absl::MutexLock lock(&mu_);
      last_write_ = written;
    }
    LEADFLOW_RETURN_IF_ERROR(written);
    return std::vector<Position>();
  }
  return AppendInLine(records, local_state, before_write, /*needs_sync=*/true);
}

absl::StatusOr<std::vector<Position>> EmbeddedLog::AppendAnsweredByProcessing(
    std::vector<OutgoingRecord> records, absl::Time /*deadline*/) {
  std::unique_ptr<store::StateBatch> batch = db_->NewBatch();
  return AppendInLine(records, batch.get(), nullptr, /*needs_sync=*/false);
}

absl::StatusOr<std::vector<Position>> EmbeddedLog::AppendInLine(
    std::vector<OutgoingRecord>& records, store::StateBatch* local_state,
    const BeforeWrite& before_write, bool needs_sync) {
  Writer self;
  self.records = &records;
  self.batch = local_state;
  self.before_write = &before_write;
  self.needs_sync = needs_sync;
  mu_.Lock();
  queue_.push_back(&self);
  auto leads_or_done = [this, &self]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return self.done || queue_.front() == &self;
  };
  mu_.Await(absl::Condition(&leads_or_done));
  if (self.done) {
    mu_.Unlock();
    return std::move(self.result);
  }
  if (!failure_.ok()) {
    queue_.pop_front();
    mu_.Unlock();
    return failure_;
  }
  // This append leads the group of everything in line now. Only the leader
  // assigns offsets, so a copy of the ends is safe to work on unlocked.
  const std::vector<Writer*> group(queue_.begin(), queue_.end());
  Ends ends = ends_;
  mu_.Unlock();

  const int64_t now_ms = absl::ToUnixMillis(absl::Now());
  // Only appends of records need the fsync. One without (a read model's
  // batch, an offset past input that caused nothing) holds state derived
  // from records already durable: a power cut that takes it back makes its
  // processor read that input again, which is idempotent. A process crash
  // takes back nothing that was written. Records answered by their
  // processing (commands from the API) need none either: the unit that
  // answers them writes after them in the same write-ahead log and fsyncs,
  // which makes them durable too; a power cut before that takes back both,
  // and their writer, never answered, retries.
  bool wrote_records = false;
  absl::Status last_write;
  for (Writer* writer : group) {
    Ends before = ends;
    writer->result = Place(*writer, ends, now_ms);
    if (!writer->result.ok()) continue;
    last_write = db_->WriteUnsynced(writer->batch);
    if (!last_write.ok()) {
      // Its offsets stay free: the next append takes them (and overwrites
      // whatever of this batch might have reached the disk).
      writer->result = last_write;
      ends = std::move(before);
      continue;
    }
    wrote_records = wrote_records || (writer->needs_sync && !writer->records->empty());
  }
  const absl::Time sync_start = absl::Now();
  absl::Status synced = wrote_records ? db_->Sync() : absl::OkStatus();
  if (wrote_records) metrics_.fsync_seconds->ObserveDuration(absl::Now() - sync_start);
  metrics_.group_appends->Observe(static_cast<double>(group.size()));
  size_t group_records = 0;
  for (Writer* writer : group) group_records += writer->records->size();
  metrics_.records->Increment(group_records);

  mu_.Lock();
  last_write_ = synced.ok() ? last_write : synced;
  if (synced.ok()) {
    ends_ = std::move(ends);
    KeepTails(group);
  } else {
    // After a failed fsync nobody knows what of the group is on the disk
    // (the kernel may have dropped the dirty pages and will not say so
    // again), while its state effects are in place in memory. Publishing
    // its records would let readers act on what a restart may not have;
    // reusing its offsets would let the next append overwrite records whose
    // effects stay. So nothing is published and the log takes nothing more:
    // the process must restart and recover what is durable (as PostgreSQL
    // does since "fsyncgate"). Each writer is told that its append may or
    // may not have survived: a retry with the same event or request id is
    // answered once.
    failure_ = absl::UnavailableError(absl::StrCat(
        "the disk refused an fsync (", synced.message(),
        "): the write may or may not be durable; retry it with the same id once the server "
        "has restarted"));
    for (Writer* writer : group) writer->result = failure_;
  }
  for (Writer* writer : group) {
    queue_.pop_front();
    writer->done = true;
  }
  mu_.Unlock();
  return std::move(self.result);
}

void EmbeddedLog::KeepTails(const std::vector<Writer*>& group) {
  for (Writer* writer : group) {
    if (!writer->result.ok()) continue;  // its offsets were handed on
    for (auto& [position, record] : writer->appended) {
      std::vector<Tail>& tails = tails_[position.topic];
      if (tails.empty()) tails.resize(partitions_.find(position.topic)->second);
      Tail& tail = tails[position.partition];
      // Offsets of a partition come in order (a writer's deferred records
      // after its others); anything else starts the tail afresh.
      if (tail.first + static_cast<int64_t>(tail.records.size()) != position.offset) {
        tail.records.clear();
        tail.first = position.offset;
      }
      tail.records.push_back(std::move(record));
      if (tail.records.size() > kTailRecords) {
        tail.records.pop_front();
        ++tail.first;
      }
    }
    writer->appended.clear();
  }
}

absl::StatusOr<std::vector<Record>> EmbeddedLog::Read(absl::string_view topic, int32_t partition,
                                                      int64_t from, size_t max_records) const {
  int64_t end;
  std::vector<std::shared_ptr<const Record>> kept;
  if (from < 0) from = 0;
  {
    absl::MutexLock lock(&mu_);
    auto ends = ends_.find(topic);
    if (ends == ends_.end()) return absl::NotFoundError(absl::StrCat("unknown topic ", topic));
    if (partition < 0 || partition >= static_cast<int32_t>(ends->second.size())) {
      return absl::OutOfRangeError(absl::StrCat("topic ", topic, " has no partition ", partition));
    }
    end = ends->second[partition];
    auto tails = tails_.find(topic);
    if (tails != tails_.end() && !tails->second.empty() && from < end) {
      const Tail& tail = tails->second[partition];
      const int64_t tail_end = tail.first + static_cast<int64_t>(tail.records.size());
      if (from >= tail.first && tail_end == end) {
        for (int64_t offset = from; offset < end && kept.size() < max_records; ++offset) {
          kept.push_back(tail.records[static_cast<size_t>(offset - tail.first)]);
        }
      }
    }
  }
  std::vector<Record> records;
  if (!kept.empty()) {
    records.reserve(kept.size());
    for (const auto& record : kept) records.push_back(*record);
    return records;
  }
  if (from >= end || max_records == 0) return records;
  const std::string prefix = PartitionPrefix(topic, partition);
  absl::Status parsed;
  LEADFLOW_RETURN_IF_ERROR(db_->Scan(
      store::Keyspace::kLog, prefix, RecordKey(topic, partition, from),
      [&](absl::string_view key, absl::string_view value) {
        const int64_t offset = static_cast<int64_t>(ReadBigEndian(key.substr(prefix.size(), 8)));
        if (offset >= end) return false;
        storage::v1::StoredRecord stored;
        if (!stored.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          parsed = absl::DataLossError(
              absl::StrCat("log record ", topic, "/", partition, "@", offset, " is corrupt"));
          return false;
        }
        records.push_back(TakeRecord(stored, {std::string(topic), partition, offset}));
        return records.size() < max_records;
      }));
  if (!parsed.ok()) return parsed;
  return records;
}

absl::StatusOr<int64_t> EmbeddedLog::EndOffset(absl::string_view topic, int32_t partition) const {
  absl::MutexLock lock(&mu_);
  auto ends = ends_.find(topic);
  if (ends == ends_.end()) return absl::NotFoundError(absl::StrCat("unknown topic ", topic));
  if (partition < 0 || partition >= static_cast<int32_t>(ends->second.size())) {
    return absl::OutOfRangeError(absl::StrCat("topic ", topic, " has no partition ", partition));
  }
  return ends->second[partition];
}

namespace {

// Reads its partitions round-robin from its cursors; waits on the log when
// all are drained.
class EmbeddedReader final : public LogReader {
 public:
  EmbeddedReader(const EmbeddedLog* log, std::string topic, std::vector<int64_t> next,
                 std::vector<int32_t> partitions)
      : log_(log),
        topic_(std::move(topic)),
        next_(std::move(next)),
        partitions_(std::move(partitions)) {}

  absl::StatusOr<std::vector<Record>> Poll(size_t max_records, absl::Duration timeout) override {
    std::vector<Record> out;
    if (partitions_.empty()) return out;
    for (int attempt = 0; attempt < 2 && out.empty(); ++attempt) {
      if (attempt == 1 && !log_->WaitForRecords(topic_, Waiting(), timeout)) break;
      for (size_t i = 0; i < partitions_.size() && out.size() < max_records; ++i) {
        const int32_t p = partitions_[(first_ + i) % partitions_.size()];
        auto records = log_->Read(topic_, p, next_[p], max_records - out.size());
        if (!records.ok()) return records.status();
        if (records->empty()) continue;
        next_[p] = records->back().offset + 1;
        for (auto& r : *records) out.push_back(std::move(r));
      }
      first_ = (first_ + 1) % partitions_.size();  // no partition starves the others
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
  // The cursors, with partitions this reader does not read set past any end.
  std::vector<int64_t> Waiting() const {
    if (partitions_.size() == next_.size()) return next_;
    std::vector<int64_t> waiting(next_.size(), INT64_MAX);
    for (int32_t p : partitions_) waiting[p] = next_[p];
    return waiting;
  }

  const EmbeddedLog* log_;
  const std::string topic_;
  std::vector<int64_t> next_;
  const std::vector<int32_t> partitions_;
  size_t first_ = 0;
};

// The embedded engine runs one instance, so a group has one member and it
// holds every partition.
class EmbeddedGroupReader final : public GroupReader {
 public:
  EmbeddedGroupReader(const EmbeddedLog* log, std::string topic, std::string group,
                      int32_t partitions, RebalanceListener* listener)
      : log_(log),
        topic_(std::move(topic)),
        group_(std::move(group)),
        partitions_(partitions),
        listener_(listener) {}

  absl::StatusOr<std::vector<Record>> Poll(size_t max_records, absl::Duration timeout) override {
    if (reader_ == nullptr) {
      std::vector<int32_t> all(partitions_);
      for (int32_t p = 0; p < partitions_; ++p) all[p] = p;
      auto start = listener_->OnAssigned(all);
      if (!start.ok()) return start.status();
      reader_ = std::make_unique<EmbeddedReader>(log_, topic_, *std::move(start), std::move(all));
      assigned_ = true;
    }
    return reader_->Poll(max_records, timeout);
  }
  absl::Status Seek(int32_t partition, int64_t offset) override {
    return reader_ == nullptr ? absl::OkStatus() : reader_->Seek(partition, offset);
  }
  int64_t Position(int32_t partition) const override {
    return reader_ == nullptr ? 0 : reader_->Position(partition);
  }
  const std::string& group() const override { return group_; }
  const std::string& topic() const override { return topic_; }
  std::vector<int32_t> Assignment() const override {
    std::vector<int32_t> all;
    if (!assigned_) return all;
    for (int32_t p = 0; p < partitions_; ++p) all.push_back(p);
    return all;
  }

 private:
  const EmbeddedLog* log_;
  const std::string topic_;
  const std::string group_;
  const int32_t partitions_;
  RebalanceListener* const listener_;
  std::unique_ptr<EmbeddedReader> reader_;
  std::atomic<bool> assigned_{false};  // read by other threads (status)
};

}  // namespace

absl::StatusOr<std::unique_ptr<LogReader>> EmbeddedLog::OpenReader(
    absl::string_view topic, const std::vector<int64_t>& start) const {
  const int32_t partitions = PartitionCount(topic);
  if (partitions == 0) return absl::NotFoundError(absl::StrCat("unknown topic ", topic));
  std::vector<int64_t> next(partitions, 0);
  std::vector<int32_t> all(partitions);
  for (int32_t p = 0; p < partitions; ++p) all[p] = p;
  for (size_t p = 0; p < start.size() && p < next.size(); ++p) next[p] = start[p];
  return std::make_unique<EmbeddedReader>(this, std::string(topic), std::move(next),
                                          std::move(all));
}

absl::StatusOr<std::unique_ptr<LogReader>> EmbeddedLog::OpenPartitionReader(absl::string_view topic,
                                                                            int32_t partition,
                                                                            int64_t offset) const {
  LEADFLOW_ASSIGN_OR_RETURN(const int32_t partitions, CheckPartition(*this, topic, partition));
  std::vector<int64_t> next(partitions, 0);
  next[partition] = offset;
  return std::make_unique<EmbeddedReader>(this, std::string(topic), std::move(next),
                                          std::vector<int32_t>{partition});
}

absl::StatusOr<std::unique_ptr<GroupReader>> EmbeddedLog::OpenGroupReader(
    absl::string_view topic, absl::string_view group, RebalanceListener* listener) {
  const int32_t partitions = PartitionCount(topic);
  if (partitions == 0) return absl::NotFoundError(absl::StrCat("unknown topic ", topic));
  return std::make_unique<EmbeddedGroupReader>(this, std::string(topic), std::string(group),
                                               partitions, listener);
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
