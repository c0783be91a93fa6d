#include "leadflow/processors/processor.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/base/status_macros.h"

namespace leadflow::processors {

ProcessorTransaction::ProcessorTransaction(const store::Database* db)
    : db_(db), batch_(rocksdb::BytewiseComparator(), 0, /*overwrite_key=*/true) {}

absl::StatusOr<std::optional<std::string>> ProcessorTransaction::Get(
    rocksdb::ColumnFamilyHandle* family, absl::string_view key) {
  std::string value;
  rocksdb::Status status = batch_.GetFromBatchAndDB(db_->db(), rocksdb::ReadOptions(), family,
                                                    rocksdb::Slice(key.data(), key.size()), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return store::FromRocks(status, "reading processor state");
  return value;
}

void ProcessorTransaction::Put(rocksdb::ColumnFamilyHandle* family, absl::string_view key,
                               absl::string_view value) {
  batch_
      .Put(family, rocksdb::Slice(key.data(), key.size()),
           rocksdb::Slice(value.data(), value.size()))
      .PermitUncheckedError();
}

void ProcessorTransaction::Delete(rocksdb::ColumnFamilyHandle* family, absl::string_view key) {
  batch_.Delete(family, rocksdb::Slice(key.data(), key.size())).PermitUncheckedError();
}

ProcessorRunner::ProcessorRunner(log::Log* log, store::Database* db, Processor* processor,
                                 size_t max_batch)
    : log_(log),
      db_(db),
      processor_(processor),
      max_batch_(max_batch),
      topic_(processor->InputTopic()) {}

ProcessorRunner::~ProcessorRunner() { Stop(); }

std::string ProcessorRunner::OffsetKey(absl::string_view processor, absl::string_view topic,
                                       int32_t partition) {
  return absl::StrCat("offset/", processor, "/", topic, "/", partition);
}

absl::Status ProcessorRunner::Init() {
  const int32_t partitions = log_->PartitionCount(topic_);
  if (partitions == 0) return absl::NotFoundError(absl::StrCat("unknown topic ", topic_));
  std::vector<int64_t> offsets(partitions, 0);
  for (int32_t p = 0; p < partitions; ++p) {
    LEADFLOW_ASSIGN_OR_RETURN(
        auto stored, db_->Get(processor_->StateFamily(), OffsetKey(processor_->Name(), topic_, p)));
    if (stored.has_value() && !absl::SimpleAtoi(*stored, &offsets[p])) {
      return absl::DataLossError(absl::StrCat("offset of ", processor_->Name(), " is corrupt"));
    }
  }
  LEADFLOW_ASSIGN_OR_RETURN(reader_, log_->OpenReader(topic_, offsets));
  absl::MutexLock lock(&mu_);
  consumed_ = offsets;
  offsets_ = std::move(offsets);
  return absl::OkStatus();
}

absl::Status ProcessorRunner::CommitPartition(int32_t partition,
                                              const std::vector<log::Record>& batch,
                                              std::vector<int64_t>& committed) {
  const int64_t next = batch.back().offset + 1;
  ProcessorTransaction txn(db_);
  LEADFLOW_RETURN_IF_ERROR(processor_->Process(batch, txn));
  txn.Put(processor_->StateFamily(), OffsetKey(processor_->Name(), topic_, partition),
          absl::StrCat(next));
  auto hooks = std::move(txn.hooks_);
  LEADFLOW_ASSIGN_OR_RETURN(
      std::vector<log::Position> positions,
      log_->AppendWithState(
          std::move(txn.records_), txn.batch_.GetWriteBatch(),
          [&hooks](const std::vector<log::Position>& pos, rocksdb::WriteBatch* write_batch) {
            for (auto& hook : hooks) hook(pos, write_batch);
          }));
  {
    absl::MutexLock lock(&mu_);
    offsets_[partition] = next;
    consumed_[partition] = std::max(consumed_[partition], next);
  }
  committed[partition] = next;
  processor_->AfterCommit(partition, next, positions);
  return absl::OkStatus();
}

absl::StatusOr<size_t> ProcessorRunner::RunOnce(absl::Duration wait) {
  LEADFLOW_ASSIGN_OR_RETURN(std::vector<log::Record> polled, reader_->Poll(max_batch_, wait));
  if (polled.empty()) {
    absl::MutexLock lock(&mu_);
    for (int32_t p = 0; p < static_cast<int32_t>(consumed_.size()); ++p) {
      consumed_[p] = std::max(offsets_[p], reader_->Position(p));
    }
    return 0;
  }
  std::vector<int64_t> committed = CommittedOffsets();
  // Group by partition, keeping each partition's order.
  std::vector<std::vector<log::Record>> batches(committed.size());
  for (auto& record : polled) batches[record.partition].push_back(std::move(record));
  for (int32_t p = 0; p < static_cast<int32_t>(batches.size()); ++p) {
    if (batches[p].empty()) continue;
    absl::Status status = CommitPartition(p, batches[p], committed);
    if (!status.ok()) {
      // Re-read everything not committed, this partition's batch included.
      for (int32_t q = 0; q < static_cast<int32_t>(committed.size()); ++q) {
        reader_->Seek(q, committed[q]).IgnoreError();
      }
      return status;
    }
  }
  return polled.size();
}

std::vector<int64_t> ProcessorRunner::CommittedOffsets() const {
  absl::MutexLock lock(&mu_);
  return offsets_;
}

std::vector<int64_t> ProcessorRunner::ConsumedOffsets() const {
  absl::MutexLock lock(&mu_);
  return consumed_;
}

void ProcessorRunner::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void ProcessorRunner::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ProcessorRunner::Loop() {
  absl::Duration backoff = absl::Milliseconds(10);
  while (!stop_) {
    absl::StatusOr<size_t> handled = RunOnce(absl::Milliseconds(200));
    if (!handled.ok()) {
      // Storage trouble: nothing was committed, so retrying the same batch
      // later is safe.
      fprintf(stderr, "leadflowd: processor %s: %s (retrying in %s)\n", processor_->Name().c_str(),
              std::string(handled.status().message()).c_str(),
              absl::FormatDuration(backoff).c_str());
      absl::SleepFor(backoff);
      backoff = std::min(backoff * 2, absl::Seconds(5));
      continue;
    }
    backoff = absl::Milliseconds(10);
  }
}

}  // namespace leadflow::processors
