#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "leadflow/domain/domain_config.h"
#include "leadflow/processors/command_outcomes.h"
#include "leadflow/processors/processor.h"
#include "leadflow/v1/commands.pb.h"

namespace leadflow::processors {

// The single writer of the leads of its partitions. For each command: if its
// id has an outcome already, hand that out again; otherwise load the lead,
// decide, append the events (keyed by lead id) to the events topic, and keep
// the new state and the outcome (with the events' position) in the same
// batch. State (column family `state`): lead/<id> → Lead, cmd/<id> →
// CommandOutcome.
class LeadCommandProcessor final : public Processor {
 public:
  LeadCommandProcessor(const store::Database* db, CommandOutcomes* outcomes,
                       domain::DomainConfig config);

  std::string Name() const override { return "lead-commands"; }
  std::string InputTopic() const override { return std::string(log::kCommandsTopic); }
  rocksdb::ColumnFamilyHandle* StateFamily() const override { return db_->state_family(); }
  absl::Status Process(const std::vector<log::Record>& batch, ProcessorTransaction& txn) override;
  void AfterCommit(int32_t partition, int64_t next_offset,
                   const std::vector<log::Position>& outputs) override;

  int64_t dead_letters() const { return dead_letters_.load(); }

  static std::string OutcomeKey(absl::string_view command_id);
  static std::string StateKey(absl::string_view lead_id);

 private:
  const store::Database* db_;
  CommandOutcomes* outcomes_;
  const domain::DomainConfig config_;
  // Outcomes of the batch in flight, handed out after its commit.
  std::vector<v1::CommandOutcome> pending_;
  std::atomic<int64_t> dead_letters_{0};
};

}  // namespace leadflow::processors
