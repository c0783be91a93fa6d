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
  absl::MutexLock lock(&mu_);
  offsets_ = std::move(offsets);
  return absl::OkStatus();
}

absl::StatusOr<size_t> ProcessorRunner::RunOnce() {
  const std::vector<int64_t> offsets = CommittedOffsets();
  size_t handled = 0;
  for (int32_t p = 0; p < static_cast<int32_t>(offsets.size()); ++p) {
    LEADFLOW_ASSIGN_OR_RETURN(std::vector<log::Record> batch,
                              log_->Read(topic_, p, offsets[p], max_batch_));
    if (batch.empty()) continue;
    const int64_t next = batch.back().offset + 1;
    ProcessorTransaction txn(db_);
    LEADFLOW_RETURN_IF_ERROR(processor_->Process(batch, txn));
    txn.Put(processor_->StateFamily(), OffsetKey(processor_->Name(), topic_, p),
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
      offsets_[p] = next;
    }
    processor_->AfterCommit(p, next, positions);
    handled += batch.size();
  }
  return handled;
}

std::vector<int64_t> ProcessorRunner::CommittedOffsets() const {
  absl::MutexLock lock(&mu_);
  return offsets_;
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
    absl::StatusOr<size_t> handled = RunOnce();
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
    if (*handled == 0) log_->WaitForRecords(topic_, CommittedOffsets(), absl::Milliseconds(200));
  }
}

}  // namespace leadflow::processors
