#pragma once

#include <atomic>
#include <memory>
#include <thread>

#include "absl/status/status.h"
#include "leadflow/log/log.h"
#include "leadflow/processors/command_outcomes.h"

namespace leadflow::processors {

// Follows the outcomes topic and hands every outcome to this instance's
// waiters: a command appended here is decided by its partition's owner,
// which may be another instance. Outcomes decided here reach the waiters
// sooner through the command processor; the relay's copy then finds no one.
class OutcomeRelay {
 public:
  OutcomeRelay(const log::Log* log, CommandOutcomes* outcomes) : log_(log), outcomes_(outcomes) {}
  ~OutcomeRelay() { Stop(); }

  // Opens the reader at the topic's current end (outcomes of commands
  // appended from now on) and starts following.
  absl::Status Start();
  void Stop();

 private:
  void Loop();

  const log::Log* const log_;
  CommandOutcomes* const outcomes_;
  std::unique_ptr<log::LogReader> reader_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace leadflow::processors
