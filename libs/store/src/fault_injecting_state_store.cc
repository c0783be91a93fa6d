#include "leadflow/store/fault_injecting_state_store.h"

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace leadflow::store {

void FaultInjectingStateStore::Fail(Op op, absl::Status status, int times, int64_t skip) {
  absl::MutexLock lock(&mu_);
  Fault& fault = faults_[static_cast<size_t>(op)];
  fault.status = std::move(status);
  fault.remaining = fault.status.ok() ? 0 : times;
  fault.skip = skip;
  fault.window = absl::InfiniteDuration();
  fault.until = absl::InfiniteFuture();
}

absl::Status FaultInjectingStateStore::FailFromSpec(absl::string_view spec) {
  const std::vector<absl::string_view> parts = absl::StrSplit(spec, ':');
  auto bad = [spec](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fault '", spec, "': ", why,
        " (OP:SKIP:TIMES:CODE, e.g. sync:200:1:unavailable or write:300:5s:resource_exhausted)"));
  };
  if (parts.size() != 4) return bad("needs four parts");
  static const std::map<absl::string_view, Op> kOpNames = {
      {"get", Op::kGet}, {"write", Op::kWrite}, {"sync", Op::kSync}, {"scan", Op::kScan}};
  auto op = kOpNames.find(parts[0]);
  if (op == kOpNames.end()) return bad("OP is one of get, write, sync, scan");
  int64_t skip = 0;
  if (!absl::SimpleAtoi(parts[1], &skip) || skip < 0) return bad("SKIP is a count");
  int times = 0;
  absl::Duration window = absl::InfiniteDuration();
  if (parts[2] == "always") {
    times = kAlways;
  } else if (absl::EndsWith(parts[2], "s")) {
    int seconds = 0;
    if (!absl::SimpleAtoi(parts[2].substr(0, parts[2].size() - 1), &seconds) || seconds <= 0) {
      return bad("TIMES is a positive count, \"always\" or seconds such as 5s");
    }
    times = kAlways;
    window = absl::Seconds(seconds);
  } else if (!absl::SimpleAtoi(parts[2], &times) || times <= 0) {
    return bad("TIMES is a positive count, \"always\" or seconds such as 5s");
  }
  std::optional<absl::StatusCode> code;
  for (int c = 1; c <= 16; ++c) {
    const auto candidate = static_cast<absl::StatusCode>(c);
    if (absl::AsciiStrToLower(absl::StatusCodeToString(candidate)) == parts[3]) code = candidate;
  }
  if (!code.has_value()) return bad("CODE is a status code name such as unavailable");
  Fail(op->second, absl::Status(*code, absl::StrCat("injected fault: ", parts[0], " ", parts[3])),
       times, skip);
  absl::MutexLock lock(&mu_);
  faults_[static_cast<size_t>(op->second)].window = window;
  return absl::OkStatus();
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
  if (fault.skip > 0) {
    --fault.skip;
    return absl::OkStatus();
  }
  if (fault.window != absl::InfiniteDuration()) {
    const absl::Time now = absl::Now();
    if (fault.until == absl::InfiniteFuture()) fault.until = now + fault.window;
    if (now >= fault.until) {
      fault.remaining = 0;
      return absl::OkStatus();
    }
  }
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
