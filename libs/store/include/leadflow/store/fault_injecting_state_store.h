#pragma once

#include <array>
#include <cstdint>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "leadflow/store/state_store.h"

namespace leadflow::store {

// A StateStore that forwards to another one, except for the calls it is
// told to fail: storage trouble on demand, for tests of what callers do
// with it. A failed call reaches nothing of the store behind (a failed
// write applies nothing). Counts the calls of each kind, failed or not.
// Thread-safe.
class FaultInjectingStateStore final : public StateStore {
 public:
  // The calls that can be made to fail.
  enum class Op : uint8_t {
    kGet,    // Get, MultiGet
    kWrite,  // Write, WriteUnsynced, Clear
    kSync,   // Sync
    kScan,   // Scan, LastKeyWithPrefix
  };
  // For `times`: fail every call until Heal().
  static constexpr int kAlways = -1;

  // `inner` outlives this.
  explicit FaultInjectingStateStore(StateStore* inner) : inner_(inner) {}

  // The next `times` calls of `op` (every one: kAlways) after the next
  // `skip` return `status` (not OK) instead of reaching the store.
  void Fail(Op op, absl::Status status, int times = 1, int64_t skip = 0);
  // The same from text, for a server started to be tested (leadflowd
  // --inject-faults): "OP:SKIP:TIMES:CODE", OP one of get, write, sync,
  // scan; TIMES a count, "always", or seconds ("5s": every call for five
  // seconds from the first one failed); CODE a canonical code name in lower
  // case (unavailable, resource_exhausted, data_loss...). E.g.
  // "sync:200:1:unavailable" fails the 201st fsync. INVALID_ARGUMENT
  // naming what is wrong in `spec`.
  absl::Status FailFromSpec(absl::string_view spec);
  void FailGets(absl::Status status, int times = 1) { Fail(Op::kGet, std::move(status), times); }
  void FailWrites(absl::Status status, int times = 1) {
    Fail(Op::kWrite, std::move(status), times);
  }
  void FailSyncs(absl::Status status, int times = 1) { Fail(Op::kSync, std::move(status), times); }
  void FailScans(absl::Status status, int times = 1) { Fail(Op::kScan, std::move(status), times); }
  // Fails nothing more.
  void Heal();
  // How many calls of `op` were made, failed ones included.
  int64_t Calls(Op op) const;
  // How many calls of `op` were failed.
  int64_t Failures(Op op) const;

  absl::StatusOr<std::optional<std::string>> Get(Keyspace keyspace,
                                                 absl::string_view key) const override;
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      Keyspace keyspace, const std::vector<std::string>& keys) const override;
  absl::Status Scan(
      Keyspace keyspace, absl::string_view prefix, absl::string_view start,
      absl::FunctionRef<bool(absl::string_view key, absl::string_view value)> visit) const override;
  absl::StatusOr<std::optional<std::string>> LastKeyWithPrefix(
      Keyspace keyspace, absl::string_view prefix) const override;
  std::unique_ptr<StateBatch> NewBatch() const override { return inner_->NewBatch(); }
  absl::Status Write(StateBatch* batch) override;
  absl::Status WriteUnsynced(StateBatch* batch) override;
  absl::Status Sync() override;
  absl::Status Clear(Keyspace keyspace) override;

 private:
  static constexpr size_t kOps = 4;
  struct Fault {
    absl::Status status;
    int remaining = 0;  // kAlways: every call
    int64_t skip = 0;   // calls to let through before failing
    int64_t calls = 0;
    int64_t failures = 0;
    // From FailFromSpec's "<N>s": fail for this long from the first
    // failure (`until`, then), not a number of times.
    absl::Duration window = absl::InfiniteDuration();
    absl::Time until = absl::InfiniteFuture();
  };
  // Counts a call of `op`; the status to fail it with, or OK to forward it.
  absl::Status Next(Op op) const;

  StateStore* const inner_;
  mutable absl::Mutex mu_;
  mutable std::array<Fault, kOps> faults_ ABSL_GUARDED_BY(mu_);
};

}  // namespace leadflow::store
