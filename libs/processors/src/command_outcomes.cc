#include "leadflow/processors/command_outcomes.h"

namespace leadflow::processors {

std::optional<v1::CommandOutcome> CommandOutcomes::Ticket::Wait(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return outcome_.has_value(); };
  mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
  return outcome_;
}

std::shared_ptr<CommandOutcomes::Ticket> CommandOutcomes::Register(const std::string& command_id) {
  auto ticket = std::make_shared<Ticket>();
  absl::MutexLock lock(&mu_);
  waiting_.emplace(command_id, ticket);
  return ticket;
}

void CommandOutcomes::Forget(const std::string& command_id) {
  absl::MutexLock lock(&mu_);
  waiting_.erase(command_id);
}

void CommandOutcomes::Publish(const v1::CommandOutcome& outcome) {
  absl::MutexLock lock(&mu_);
  auto [begin, end] = waiting_.equal_range(outcome.command_id());
  for (auto it = begin; it != end; ++it) {
    absl::MutexLock ticket_lock(&it->second->mu_);
    it->second->outcome_ = outcome;
  }
  waiting_.erase(begin, end);
}

}  // namespace leadflow::processors
