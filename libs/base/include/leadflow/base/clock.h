#pragma once

#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace leadflow {

// Where time comes from. Everything that needs "now" takes a Clock, so tests
// and robots are deterministic. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_;
};

// Reads the time from a file (RFC 3339, e.g. "2026-11-23T09:00:00Z") on
// every call, so a test can move a real server's clock without sleeping
// (leadflowd --clock-file). Until the file holds a valid time, and if it
// later does not, the last good reading is used (before any: the real time
// when the clock was made).
// Thread-safe.
class FileClock final : public Clock {
 public:
  explicit FileClock(std::string path) : path_(std::move(path)) {}
  absl::Time Now() const override;

 private:
  const std::string path_;
  mutable absl::Mutex mu_;
  mutable absl::Time last_ = absl::Now();
};

}  // namespace leadflow
