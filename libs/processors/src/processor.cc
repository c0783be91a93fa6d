#include "leadflow/processors/processor.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/base/logger.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/processors/dead_letter.h"

namespace leadflow::processors {

absl::StatusOr<std::optional<std::string>> ProcessorTransaction::Get(store::Keyspace keyspace,
                                                                     absl::string_view key) {
  const Writes& writes = writes_[static_cast<size_t>(keyspace)];
  if (!writes.empty()) {
    auto written = writes.find(key);
    if (written != writes.end()) return written->second;
  }
  return store_->Get(keyspace, key);
}

absl::StatusOr<std::vector<std::optional<std::string>>> ProcessorTransaction::MultiGet(
    store::Keyspace keyspace, const std::vector<std::string>& keys) {
  const Writes& writes = writes_[static_cast<size_t>(keyspace)];
  if (writes.empty()) return store_->MultiGet(keyspace, keys);
  std::vector<std::optional<std::string>> values(keys.size());
  std::vector<std::string> unwritten;
  std::vector<size_t> unwritten_at;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto written = writes.find(keys[i]);
    if (written != writes.end()) {
      values[i] = written->second;
    } else {
      unwritten.push_back(keys[i]);
      unwritten_at.push_back(i);
    }
  }
  if (unwritten.empty()) return values;
  LEADFLOW_ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> stored,
                            store_->MultiGet(keyspace, unwritten));
  for (size_t i = 0; i < stored.size(); ++i) values[unwritten_at[i]] = std::move(stored[i]);
  return values;
}

void ProcessorTransaction::Put(store::Keyspace keyspace, absl::string_view key,
                               absl::string_view value) {
  std::optional<std::string>& slot = writes_[static_cast<size_t>(keyspace)][key];
  if (slot.has_value()) {
    slot->assign(value.data(), value.size());  // reuses the buffer of an earlier write
  } else {
    slot.emplace(value);
  }
}

void ProcessorTransaction::Delete(store::Keyspace keyspace, absl::string_view key) {
  writes_[static_cast<size_t>(keyspace)][key].reset();
}

bool ProcessorTransaction::empty() const {
  for (const Writes& writes : writes_) {
    if (!writes.empty()) return false;
  }
  return true;
}

std::unique_ptr<store::StateBatch> ProcessorTransaction::TakeBatch() {
  std::unique_ptr<store::StateBatch> batch = store_->NewBatch();
  // In key order: RocksDB inserts each key into its memtable's skiplist
  // starting from where the previous insert ended, so keys in order find
  // their place in a few steps instead of a search from the top (random
  // order made the skiplist search the largest cost of intake).
  std::vector<const Writes::value_type*> ordered;
  for (size_t i = 0; i < writes_.size(); ++i) {
    const auto keyspace = static_cast<store::Keyspace>(i);
    ordered.clear();
    ordered.reserve(writes_[i].size());
    for (const auto& write : writes_[i]) ordered.push_back(&write);
    std::sort(ordered.begin(), ordered.end(),
              [](const Writes::value_type* a, const Writes::value_type* b) {
                return a->first < b->first;
              });
    for (const Writes::value_type* write : ordered) {
      if (write->second.has_value()) {
        batch->Put(keyspace, write->first, *write->second);
      } else {
        batch->Delete(keyspace, write->first);
      }
    }
    writes_[i].clear();
  }
  return batch;
}

void ProcessorTransaction::ReplaceIndexKeys(store::Keyspace keyspace,
                                            const std::vector<std::string>& before,
                                            const std::vector<std::string>& after) {
  auto has = [](const std::vector<std::string>& keys, const std::string& key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  for (const auto& key : before) {
    if (!has(after, key)) Delete(keyspace, key);
  }
  for (const auto& key : after) {
    if (!has(before, key)) Put(keyspace, key, "");
  }
}

void Processor::Unwritable(const log::Record& record, const absl::Status& why,
                           ProcessorTransaction& txn) {
  txn.Emit(
      DeadLetter(record, Name(), absl::StrCat("its output cannot be written: ", why.message())));
}

ProcessorRunner::Metrics ProcessorRunner::MetricsFor(const std::string& processor) {
  metrics::Registry& registry = metrics::DefaultRegistry();
  const std::vector<std::string> label = {"processor"};
  auto& restored = registry.AddCounter(
      "leadflow_processor_restored_records_total",
      "Changelog records replayed into local state, by processor and mode: standby (partitions "
      "another instance owns, kept warm) or takeover (when this instance takes a partition).",
      {"processor", "mode"});
  return {
      &registry
           .AddCounter("leadflow_processor_records_total",
                       "Input records processed and committed, by processor.", label)
           .With({processor}),
      &registry
           .AddCounter("leadflow_processor_units_total",
                       "Units (state + outputs + input offset) committed, by processor.", label)
           .With({processor}),
      &registry
           .AddCounter("leadflow_processor_failed_polls_total",
                       "Polls whose batch failed and is retried (storage or broker trouble), by "
                       "processor.",
                       label)
           .With({processor}),
      &registry
           .AddHistogram("leadflow_processor_commit_seconds",
                         "Time to commit one unit to the log and the store, by processor.", label)
           .With({processor}),
      &registry
           .AddHistogram("leadflow_processor_batch_records",
                         "Records per processed batch (one partition of one poll), by processor.",
                         label, metrics::SizeBuckets())
           .With({processor}),
      &restored.With({processor, "standby"}),
      &restored.With({processor, "takeover"}),
  };
}

ProcessorRunner::ProcessorRunner(log::Log* log, store::StateStore* db, Processor* processor,
                                 size_t max_batch)
    : log_(log),
      db_(db),
      processor_(processor),
      max_batch_(max_batch),
      topic_(processor->InputTopic()),
      changelogs_(processor->ChangelogTopics()),
      unit_prefix_(absl::StrCat(absl::Hex(std::random_device()()), absl::Hex(getpid()), "-")),
      metrics_(MetricsFor(processor->Name())) {}

ProcessorRunner::~ProcessorRunner() {
  Stop();
  reader_.reset();  // a group member leaves (and revokes) while this is whole
}

std::string ProcessorRunner::ChangelogCheckpointKey(absl::string_view processor,
                                                    absl::string_view changelog,
                                                    int32_t partition) {
  return absl::StrCat("changelog/", processor, "/", changelog, "/", partition);
}

absl::Status ProcessorRunner::Init() {
  const int32_t partitions = log_->PartitionCount(topic_);
  if (partitions == 0) return absl::NotFoundError(absl::StrCat("unknown topic ", topic_));
  for (const auto& changelog : changelogs_) {
    if (log_->PartitionCount(changelog) != partitions) {
      return absl::FailedPreconditionError(absl::StrCat("changelog ", changelog, " of ",
                                                        processor_->Name(), " needs ", partitions,
                                                        " partitions, like ", topic_));
    }
  }
  std::vector<int64_t> offsets(partitions, 0);
  for (int32_t p = 0; p < partitions; ++p) {
    LEADFLOW_ASSIGN_OR_RETURN(offsets[p], StoredOffset(p));
  }
  if (processor_->Replicated()) {
    LEADFLOW_ASSIGN_OR_RETURN(reader_, log_->OpenReader(topic_, offsets));
  } else {
    LEADFLOW_ASSIGN_OR_RETURN(auto group_reader,
                              log_->OpenGroupReader(topic_, processor_->Name(), this));
    group_reader_ = group_reader.get();
    reader_ = std::move(group_reader);
  }
  absl::MutexLock lock(&mu_);
  consumed_ = offsets;
  restored_.assign(offsets.size(), {});
  offsets_ = std::move(offsets);
  return absl::OkStatus();
}

void ProcessorRunner::EnableStandby(absl::Duration every) {
  if (processor_->Replicated() || changelogs_.empty() || !log_->KeepsChangelogs()) return;
  standby_every_ = every;
}

ProcessorRunner::RestoredRecords ProcessorRunner::Restored(int32_t partition) const {
  absl::MutexLock lock(&mu_);
  if (partition < 0 || partition >= static_cast<int32_t>(restored_.size())) return {};
  return restored_[partition];
}

absl::StatusOr<int64_t> ProcessorRunner::StoredOffset(int32_t partition) const {
  LEADFLOW_ASSIGN_OR_RETURN(
      auto stored, db_->Get(processor_->StateKeyspace(),
                            log::CommittedOffsetKey(processor_->Name(), topic_, partition)));
  int64_t offset = 0;
  if (stored.has_value() && !absl::SimpleAtoi(*stored, &offset)) {
    return absl::DataLossError(absl::StrCat("offset of ", processor_->Name(), " is corrupt"));
  }
  return offset;
}

absl::Status ProcessorRunner::RestorePartition(int32_t partition, RestoreMode mode) {
  const bool standby = mode == RestoreMode::kStandby;
  auto count = [&](int64_t records) {
    if (records == 0) return;
    (standby ? metrics_.standby_restored : metrics_.takeover_restored)->Increment(records);
    absl::MutexLock lock(&mu_);
    if (partition >= static_cast<int32_t>(restored_.size())) return;
    (standby ? restored_[partition].standby : restored_[partition].takeover) += records;
  };
  LEADFLOW_ASSIGN_OR_RETURN(int64_t input_offset, StoredOffset(partition));
  // Units whose marker was read. The first changelog is read first, so the
  // others know which of their records were committed. Its checkpoint and
  // the input offset are written only once every changelog is restored: an
  // interrupted restore must read those markers again.
  std::set<std::string> complete;
  std::optional<int64_t> first_checkpoint;
  for (size_t i = 0; i < changelogs_.size(); ++i) {
    const std::string& changelog = changelogs_[i];
    const bool first = i == 0;
    const std::string key = ChangelogCheckpointKey(processor_->Name(), changelog, partition);
    LEADFLOW_ASSIGN_OR_RETURN(auto stored, db_->Get(processor_->StateKeyspace(), key));
    int64_t from = 0;
    if (stored.has_value() && !absl::SimpleAtoi(*stored, &from)) {
      return absl::DataLossError(absl::StrCat(key, " is corrupt"));
    }
    LEADFLOW_ASSIGN_OR_RETURN(const int64_t end, log_->EndOffset(changelog, partition));
    if (from >= end) continue;
    LEADFLOW_ASSIGN_OR_RETURN(auto reader, log_->OpenPartitionReader(changelog, partition, from));
    // First changelog: the records of the unit being read, held until its
    // marker comes.
    std::vector<log::Record> unit_records;
    std::string unit;
    // Later changelogs: where the records of units not (yet) complete
    // begin, after the last record of a complete unit. Units come in the
    // same order on every changelog, so such a tail belongs to units whose
    // markers came after the first changelog was read (an owner still
    // writing, which a standby sees) or to a transaction never committed;
    // either way the checkpoint stays before it, and the next pass, knowing
    // more markers, decides. An incomplete unit followed by a complete one
    // can only have been abandoned, and stays skipped.
    // -1: none.
    int64_t incomplete_tail = -1;
    // On Kafka the reader stops short of a transaction still open (read
    // committed): a dead owner's last transaction is waited out here.
    while (reader->Position(partition) < end) {
      if (stop_) return absl::CancelledError("stopping");
      if (standby && assigning_ > 0) return absl::CancelledError("partitions being assigned");
      LEADFLOW_ASSIGN_OR_RETURN(auto records, reader->Poll(max_batch_, absl::Milliseconds(200)));
      absl::MutexLock apply(&apply_mu_);
      ProcessorTransaction txn(db_);
      int64_t applied = 0;
      for (auto& record : records) {
        const std::string record_unit(record.HeaderValue(kUnitHeader));
        if (!first) {
          if (complete.count(record_unit) > 0) {
            LEADFLOW_RETURN_IF_ERROR(processor_->Restore(record, txn));
            ++applied;
            incomplete_tail = -1;
          } else if (incomplete_tail < 0) {
            incomplete_tail = record.offset;
          }
          continue;
        }
        // A record of another unit before the marker: the unit held never
        // finished.
        if (record_unit != unit) unit_records.clear();
        unit = record_unit;
        if (record.key != absl::StrCat(kMarkerKeyPrefix, unit)) {
          unit_records.push_back(std::move(record));
          continue;
        }
        for (const auto& held : unit_records) {
          LEADFLOW_RETURN_IF_ERROR(processor_->Restore(held, txn));
        }
        applied += static_cast<int64_t>(unit_records.size());
        unit_records.clear();
        complete.insert(unit);
        int64_t resume = 0;
        if (absl::SimpleAtoi(record.HeaderValue(kInputOffsetHeader), &resume)) {
          input_offset = std::max(input_offset, resume);
        }
      }
      // Restored state is idempotent to apply again, so it is written as it
      // comes; later changelogs' checkpoints may move with it.
      if (!first) {
        txn.Put(processor_->StateKeyspace(), key,
                absl::StrCat(incomplete_tail >= 0 ? incomplete_tail : reader->Position(partition)));
      }
      LEADFLOW_RETURN_IF_ERROR(db_->Write(txn.TakeBatch().get()));
      count(applied);
    }
    // Held records (a unit without its marker yet) are read again next time.
    if (first) {
      first_checkpoint =
          unit_records.empty() ? reader->Position(partition) : unit_records.front().offset;
    }
  }
  std::unique_ptr<store::StateBatch> done = db_->NewBatch();
  if (first_checkpoint.has_value()) {
    done->Put(processor_->StateKeyspace(),
              ChangelogCheckpointKey(processor_->Name(), changelogs_.front(), partition),
              absl::StrCat(*first_checkpoint));
  }
  done->Put(processor_->StateKeyspace(),
            log::CommittedOffsetKey(processor_->Name(), topic_, partition),
            absl::StrCat(input_offset));
  return db_->Write(done.get());
}

absl::StatusOr<std::vector<int64_t>> ProcessorRunner::OnAssigned(
    const std::vector<int32_t>& partitions) {
  // The standby gives way: its pass stops at its next batch.
  ++assigning_;
  absl::MutexLock restoring(&restore_mu_);
  --assigning_;
  owned_.insert(partitions.begin(), partitions.end());
  absl::Duration backoff = absl::Milliseconds(100);
  std::vector<int64_t> start;
  for (int32_t p : partitions) {
    while (true) {
      absl::Status status = RestorePartition(p);
      absl::StatusOr<int64_t> restored = status.ok() ? StoredOffset(p) : status;
      if (restored.ok()) {
        start.push_back(*restored);
        absl::MutexLock lock(&mu_);
        offsets_[p] = *restored;
        consumed_[p] = *restored;
        break;
      }
      if (stop_) return restored.status();
      logging::Warning("processor", "restoring a partition failed; retrying",
                       {{"processor", processor_->Name()},
                        {"partition", p},
                        {"error", restored.status().ToString()},
                        {"retry_in", absl::FormatDuration(backoff)}});
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(5));
    }
  }
  return start;
}

void ProcessorRunner::OnRevoked(const std::vector<int32_t>& partitions) {
  absl::MutexLock restoring(&restore_mu_);
  for (int32_t p : partitions) owned_.erase(p);
}

void ProcessorRunner::StandbyLoop() {
  const int32_t partitions = log_->PartitionCount(topic_);
  bool failing = false;
  while (!stop_) {
    absl::Status pass = absl::OkStatus();
    for (int32_t p = 0; p < partitions && !stop_ && assigning_ == 0; ++p) {
      absl::MutexLock restoring(&restore_mu_);
      if (owned_.count(p) > 0 || Holds(p)) continue;
      absl::Status status = RestorePartition(p, RestoreMode::kStandby);
      if (!status.ok() && !absl::IsCancelled(status)) pass.Update(status);
    }
    // Said once when it starts failing and once when it recovers, not on
    // every pass while the brokers are away.
    if (!pass.ok() && !failing) {
      logging::Warning("processor", "standby replay failed; retrying",
                       {{"processor", processor_->Name()}, {"error", pass.ToString()}});
    } else if (pass.ok() && failing) {
      logging::Info("processor", "standby replay going again", {{"processor", processor_->Name()}});
    }
    failing = !pass.ok();
    for (absl::Time wake = absl::Now() + standby_every_; !stop_ && absl::Now() < wake;) {
      absl::SleepFor(absl::Milliseconds(50));
    }
  }
}

bool ProcessorRunner::Holds(int32_t partition) const {
  if (group_reader_ == nullptr) return true;
  const std::vector<int32_t> held = group_reader_->Assignment();
  return std::find(held.begin(), held.end(), partition) != held.end();
}

absl::Status ProcessorRunner::CommitPartition(int32_t partition,
                                              const std::vector<log::Record>& batch,
                                              std::vector<int64_t>& committed) {
  std::optional<absl::MutexLock> exclusive;
  if (writer_lock_ != nullptr) exclusive.emplace(writer_lock_);
  ProcessorTransaction txn(db_);
  txn.keeps_changelogs_ = log_->KeepsChangelogs();
  LEADFLOW_RETURN_IF_ERROR(processor_->Process(batch, txn));
  return CommitUnit(partition, batch.back().offset + 1, txn, committed);
}

absl::Status ProcessorRunner::CommitOneByOne(int32_t partition,
                                             const std::vector<log::Record>& batch,
                                             std::vector<int64_t>& committed) {
  for (const log::Record& record : batch) {
    absl::Status status = CommitPartition(partition, {record}, committed);
    if (!log::IsUnwritable(status)) {
      if (!status.ok()) return status;
      continue;
    }
    logging::Error("processor", "the output of a record cannot be written; dead-lettering it",
                   {{"processor", processor_->Name()},
                    {"topic", record.topic},
                    {"partition", record.partition},
                    {"offset", record.offset},
                    {"error", status.ToString()}});
    std::optional<absl::MutexLock> exclusive;
    if (writer_lock_ != nullptr) exclusive.emplace(writer_lock_);
    ProcessorTransaction txn(db_);
    txn.keeps_changelogs_ = log_->KeepsChangelogs();
    processor_->Unwritable(record, status, txn);
    LEADFLOW_RETURN_IF_ERROR(CommitUnit(partition, record.offset + 1, txn, committed));
  }
  return absl::OkStatus();
}

absl::Status ProcessorRunner::Punctuate(bool drained) {
  if (!processor_->Punctuates()) return absl::OkStatus();
  const absl::Time now = absl::Now();
  if (now - last_punctuation_ < absl::Milliseconds(100)) return absl::OkStatus();
  last_punctuation_ = now;
  std::vector<int64_t> committed = CommittedOffsets();
  for (int32_t p = 0; p < static_cast<int32_t>(committed.size()); ++p) {
    if (!Holds(p)) continue;
    absl::Time input_time = absl::InfiniteFuture();
    if (!drained) {
      // Behind: as far as the input has been read.
      const int64_t last = static_cast<size_t>(p) < last_input_ms_.size() ? last_input_ms_[p] : -1;
      if (last < 0) continue;
      input_time = absl::FromUnixMillis(last);
    }
    ProcessorTransaction txn(db_);
    txn.keeps_changelogs_ = log_->KeepsChangelogs();
    LEADFLOW_RETURN_IF_ERROR(processor_->Punctuate(p, input_time, txn));
    if (txn.records_.empty() && txn.empty()) continue;
    LEADFLOW_RETURN_IF_ERROR(CommitUnit(p, committed[p], txn, committed));
  }
  return absl::OkStatus();
}

absl::Status ProcessorRunner::CommitUnit(int32_t partition, int64_t next, ProcessorTransaction& txn,
                                         std::vector<int64_t>& committed) {
  auto is_changelog = [this](const std::string& topic) {
    return std::find(changelogs_.begin(), changelogs_.end(), topic) != changelogs_.end();
  };
  for (auto& record : txn.records_) {
    if (is_changelog(record.topic)) record.partition = partition;
  }
  // A unit that wrote nothing needs no marker: a new owner resuming at the
  // last marker reads its input again and again writes nothing. (The
  // follow-up processor, which most events cause nothing in, would
  // otherwise write a marker per batch.)
  if (!changelogs_.empty() && txn.keeps_changelogs_ && !txn.records_.empty()) {
    const std::string unit = absl::StrCat(unit_prefix_, ++unit_seq_);
    for (auto& record : txn.records_) {
      if (is_changelog(record.topic)) record.headers.push_back({std::string(kUnitHeader), unit});
    }
    log::OutgoingRecord marker;
    marker.topic = changelogs_.front();
    marker.key = absl::StrCat(kMarkerKeyPrefix, unit);
    marker.partition = partition;
    marker.headers = {{std::string(kUnitHeader), unit},
                      {std::string(kInputOffsetHeader), absl::StrCat(next)}};
    // Deferred, so it is the unit's last record: once it is visible, the
    // whole unit is.
    marker.complete = [](const std::vector<log::Position>&, log::OutgoingRecord*) {};
    txn.Emit(std::move(marker));
  }
  log::InputProgress input{group_reader_, partition, next};
  txn.Put(processor_->StateKeyspace(),
          log::CommittedOffsetKey(processor_->Name(), topic_, partition), absl::StrCat(next));
  auto hooks = std::move(txn.hooks_);
  const store::Keyspace keyspace = processor_->StateKeyspace();
  std::unique_ptr<store::StateBatch> batch = txn.TakeBatch();
  const std::string name = processor_->Name();
  const absl::Time commit_start = absl::Now();
  // Counted once the unit is durable, not each time a batch is retried.
  std::vector<log::OutgoingRecord> dead_letters;
  for (const auto& record : txn.records_) {
    if (record.topic == log::kDeadLetterTopic) dead_letters.push_back(record);
  }
  LEADFLOW_ASSIGN_OR_RETURN(
      std::vector<log::Position> positions,
      log_->AppendWithState(
          std::move(txn.records_), batch.get(),
          [&](const std::vector<log::Position>& pos, store::StateBatch* write_batch) {
            for (auto& hook : hooks) hook(pos, write_batch);
            // The state written here reflects the changelogs up to these.
            std::map<std::string, int64_t> checkpoints;
            for (const auto& at : pos) {
              if (at.partition == partition && is_changelog(at.topic)) {
                int64_t& checkpoint = checkpoints[at.topic];
                checkpoint = std::max(checkpoint, at.offset + 1);
              }
            }
            for (const auto& [changelog, checkpoint] : checkpoints) {
              write_batch->Put(keyspace, ChangelogCheckpointKey(name, changelog, partition),
                               absl::StrCat(checkpoint));
            }
          },
          group_reader_ == nullptr ? nullptr : &input));
  {
    absl::MutexLock lock(&mu_);
    offsets_[partition] = next;
    consumed_[partition] = std::max(consumed_[partition], next);
  }
  committed[partition] = next;
  metrics_.units->Increment();
  if (!dead_letters.empty()) CountDeadLetters(dead_letters);
  metrics_.commit_seconds->ObserveDuration(absl::Now() - commit_start);
  processor_->AfterCommit(partition, next, positions);
  return absl::OkStatus();
}

absl::Status ProcessorRunner::Recover() {
  if (group_reader_ == nullptr) {
    const std::vector<int64_t> committed = CommittedOffsets();
    for (int32_t p = 0; p < static_cast<int32_t>(committed.size()); ++p) {
      LEADFLOW_RETURN_IF_ERROR(reader_->Seek(p, committed[p]));
    }
    return absl::OkStatus();
  }
  // The failure may have come after the log committed (the local write, or
  // an open commit outcome): replay what the log has before going on.
  for (int32_t p : group_reader_->Assignment()) {
    LEADFLOW_RETURN_IF_ERROR(RestorePartition(p));
    LEADFLOW_ASSIGN_OR_RETURN(int64_t resume, StoredOffset(p));
    LEADFLOW_RETURN_IF_ERROR(reader_->Seek(p, resume));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> ProcessorRunner::RunOnce(absl::Duration wait) {
  if (needs_recovery_) {
    LEADFLOW_RETURN_IF_ERROR(Recover());
    needs_recovery_ = false;
  }
  LEADFLOW_ASSIGN_OR_RETURN(std::vector<log::Record> polled, reader_->Poll(max_batch_, wait));
  if (polled.empty()) {
    {
      absl::MutexLock lock(&mu_);
      for (int32_t p = 0; p < static_cast<int32_t>(consumed_.size()); ++p) {
        const int64_t position = reader_->Position(p);
        consumed_[p] = std::max(offsets_[p], position);
      }
    }
    LEADFLOW_RETURN_IF_ERROR(PunctuateOrRecover(/*drained=*/true));
    return 0;
  }
  std::vector<int64_t> committed = CommittedOffsets();
  // Group by partition, keeping each partition's order.
  std::vector<std::vector<log::Record>> batches(committed.size());
  for (auto& record : polled) batches[record.partition].push_back(std::move(record));
  for (int32_t p = 0; p < static_cast<int32_t>(batches.size()); ++p) {
    if (batches[p].empty()) continue;
    absl::Status status;
    {
      absl::MutexLock apply(&apply_mu_);
      status = CommitPartition(p, batches[p], committed);
      // One record's output the log refuses for good must not stall the
      // partition: find it, and only it is taken out of the way.
      if (log::IsUnwritable(status)) status = CommitOneByOne(p, batches[p], committed);
    }
    if (status.ok()) {
      metrics_.records->Increment(batches[p].size());
      metrics_.batch_records->Observe(static_cast<double>(batches[p].size()));
      if (last_input_ms_.size() < batches.size()) last_input_ms_.resize(batches.size(), -1);
      last_input_ms_[p] = batches[p].back().timestamp_ms;
    }
    if (!status.ok()) {
      // Re-read everything not committed, this partition's batch included,
      // before anything else is polled.
      needs_recovery_ = true;
      if (Recover().ok()) needs_recovery_ = false;
      return status;
    }
  }
  // A full poll means a backlog: timers then fire only as far as the
  // input has been read (see Processor::Punctuate).
  LEADFLOW_RETURN_IF_ERROR(PunctuateOrRecover(/*drained=*/polled.size() < max_batch_));
  return polled.size();
}

absl::Status ProcessorRunner::PunctuateOrRecover(bool drained) {
  absl::Status status;
  {
    absl::MutexLock apply(&apply_mu_);
    status = Punctuate(drained);
  }
  if (!status.ok()) {
    needs_recovery_ = true;
    if (Recover().ok()) needs_recovery_ = false;
  }
  return status;
}

std::vector<int64_t> ProcessorRunner::CommittedOffsets() const {
  absl::MutexLock lock(&mu_);
  return offsets_;
}

absl::Status ProcessorRunner::Trouble() const {
  absl::MutexLock lock(&mu_);
  return trouble_;
}

std::vector<int64_t> ProcessorRunner::ConsumedOffsets() const {
  absl::MutexLock lock(&mu_);
  return consumed_;
}

void ProcessorRunner::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
  if (standby_every_ > absl::ZeroDuration() && group_reader_ != nullptr) {
    standby_thread_ = std::thread([this] { StandbyLoop(); });
  }
}

void ProcessorRunner::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (standby_thread_.joinable()) standby_thread_.join();
}

void ProcessorRunner::Loop() {
  absl::Duration backoff = absl::Milliseconds(10);
  while (!stop_) {
    absl::StatusOr<size_t> handled = RunOnce(absl::Milliseconds(200));
    {
      absl::MutexLock lock(&mu_);
      trouble_ = handled.status();
    }
    if (!handled.ok()) {
      metrics_.failed_polls->Increment();
      // Storage trouble: nothing was committed, so retrying the same batch
      // later is safe.
      logging::Warning("processor", "batch refused; retrying",
                       {{"processor", processor_->Name()},
                        {"error", handled.status().ToString()},
                        {"retry_in", absl::FormatDuration(backoff)}});
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(5));
      continue;
    }
    backoff = absl::Milliseconds(10);
  }
}

}  // namespace leadflow::processors
