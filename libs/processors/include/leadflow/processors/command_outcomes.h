#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "leadflow/v1/commands.pb.h"

namespace leadflow::processors {

// Hands command outcomes from the command processor to the callers waiting
// for them. Register before the command is appended, so the outcome cannot
// slip past. Thread-safe.
class CommandOutcomes {
 public:
  class Ticket {
   public:
    // The outcome, or nullopt when `deadline` passed first.
    std::optional<v1::CommandOutcome> Wait(absl::Time deadline);

   private:
    friend class CommandOutcomes;
    absl::Mutex mu_;
    std::optional<v1::CommandOutcome> outcome_ ABSL_GUARDED_BY(mu_);
  };

  // A ticket for `command_id`; drop it (or Forget) when done.
  std::shared_ptr<Ticket> Register(const std::string& command_id);
  void Forget(const std::string& command_id);
  // Delivers to the waiter of outcome.command_id(), if any.
  void Publish(const v1::CommandOutcome& outcome);

 private:
  absl::Mutex mu_;
  std::multimap<std::string, std::shared_ptr<Ticket>> waiting_ ABSL_GUARDED_BY(mu_);
};

}  // namespace leadflow::processors
