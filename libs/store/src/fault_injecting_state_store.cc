#include "leadflow/store/fault_injecting_state_store.h"

#include <utility>

namespace leadflow::store {

void FaultInjectingStateStore::Fail(Op op, absl::Status status, int times) {
  absl::MutexLock lock(&mu_);
  Fault& fault = faults_[static_cast<size_t>(op)];
  fault.status = std::move(status);
  fault.remaining = fault.status.ok() ? 0 : times;
}

void FaultInjectingStateStore::Heal() {
  absl::MutexLock lock(&mu_);
  for (Fault& fault : faults_) fault.remaining = 0;
}

int64_t FaultInjectingStateStore::Calls(Op op) const {
  absl::MutexLock lock(&mu_);
  return faults_[static_cast<size_t>(op)].calls;
}

int64_t FaultInjectingStateStore::Failures(Op op) const {
  absl::MutexLock lock(&mu_);
  return faults_[static_cast<size_t>(op)].failures;
}

absl::Status FaultInjectingStateStore::Next(Op op) const {
  absl::MutexLock lock(&mu_);
  Fault& fault = faults_[static_cast<size_t>(op)];
  ++fault.calls;
  if (fault.remaining == 0) return absl::OkStatus();
  if (fault.remaining > 0) --fault.remaining;
  ++fault.failures;
  return fault.status;
}

absl::StatusOr<std::optional<std::string>> FaultInjectingStateStore::Get(
    Keyspace keyspace, absl::string_view key) const {
  if (absl::Status s = Next(Op::kGet); !s.ok()) return s;
  return inner_->Get(keyspace, key);
}

absl::StatusOr<std::vector<std::optional<std::string>>> FaultInjectingStateStore::MultiGet(
    Keyspace keyspace, const std::vector<std::string>& keys) const {
  if (absl::Status s = Next(Op::kGet); !s.ok()) return s;
  return inner_->MultiGet(keyspace, keys);
}

absl::Status FaultInjectingStateStore::Scan(
    Keyspace keyspace, absl::string_view prefix, absl::string_view start,
    absl::FunctionRef<bool(absl::string_view key, absl::string_view value)> visit) const {
  if (absl::Status s = Next(Op::kScan); !s.ok()) return s;
  return inner_->Scan(keyspace, prefix, start, visit);
}

absl::StatusOr<std::optional<std::string>> FaultInjectingStateStore::LastKeyWithPrefix(
    Keyspace keyspace, absl::string_view prefix) const {
  if (absl::Status s = Next(Op::kScan); !s.ok()) return s;
  return inner_->LastKeyWithPrefix(keyspace, prefix);
}

absl::Status FaultInjectingStateStore::Write(StateBatch* batch) {
  if (absl::Status s = Next(Op::kWrite); !s.ok()) return s;
  return inner_->Write(batch);
}

absl::Status FaultInjectingStateStore::WriteUnsynced(StateBatch* batch) {
  if (absl::Status s = Next(Op::kWrite); !s.ok()) return s;
  return inner_->WriteUnsynced(batch);
}

absl::Status FaultInjectingStateStore::Sync() {
  if (absl::Status s = Next(Op::kSync); !s.ok()) return s;
  return inner_->Sync();
}

absl::Status FaultInjectingStateStore::Clear(Keyspace keyspace) {
  if (absl::Status s = Next(Op::kWrite); !s.ok()) return s;
  return inner_->Clear(keyspace);
}

}  // namespace leadflow::store
