#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "leadflow/domain/domain_config.h"
#include "leadflow/processors/command_outcomes.h"
#include "leadflow/processors/item_read_model.h"
#include "leadflow/processors/processor.h"
#include "leadflow/v1/commands.pb.h"

namespace leadflow::processors {

// The single writer of the aggregates (leads, contacts, companies, deals,
// activities, pipelines) of its partitions. For each command: if its id has
// an outcome already, hand that out again; otherwise load the aggregate,
// decide (domain::Decide), append the events (keyed by aggregate id) to the
// events topic, and keep the new state and the outcome (with the events'
// position) in the same batch; a command whose id was used before by a
// different request (CommandFingerprint) is refused and the first outcome
// kept. State (keyspace `state`):
// <type>/<id> → AggregateState, cmd/<id> → CommandOutcome. Every command's
// outcome also goes to the outcomes topic: the reply to whichever instance
// took the call, and with the events the changelog this state is rebuilt
// from. A command on the wrong partition for its aggregate (published by
// hand) is forwarded to the right one.
//
// Pipelines are read from the read model at the start of each batch: a
// pipeline change applies to commands decided after its event is projected
// on this instance.
// Decides `command` on its aggregate's state as `txn` holds it; when the
// command is accepted, emits its events (keyed by aggregate id) to the
// events topic and keeps the new state in `txn`. Returns the outcome: the
// events' ids and the aggregate after them, or the refusal with the state
// as it was. Keeping the outcome is the caller's. Whoever calls it must be
// the only writer of the aggregate while its transaction is open (the
// command processor; on a single instance also intake, which decides its
// own commands inline, holding the same writer lock).
absl::StatusOr<v1::CommandOutcome> DecideAndApply(const v1::Command& command,
                                                  const domain::DomainConfig& config,
                                                  ProcessorTransaction& txn);

// The aggregate's state as the deciding side keeps it (`txn`'s store, keyspace
// `state`), none if it has no state here. Exact wherever this instance
// decides the aggregate's commands (always on one instance); elsewhere as
// far as restore or the warm standby brought it.
absl::StatusOr<std::optional<v1::AggregateState>> LoadAggregateState(
    ProcessorTransaction& txn, absl::string_view aggregate_type, absl::string_view aggregate_id);

// What a command asks, independent of when and how often it was sent: the
// command without its id, issue time, causation and correlation, and
// without what the server looked up for it (a repeat lead's client match).
// Two sends of one request (a retry) have the same fingerprint; a request_id
// reused for another request has another.
std::string CommandFingerprint(const v1::Command& command);

// The refusal of a command whose id (from a request_id) was used before for
// a different request, as payment APIs refuse a reused idempotency key.
v1::CommandOutcome ReusedRequestIdOutcome(const v1::Command& command);

// Answers commands one at a time within a processor's unit: a command id
// with an outcome already gets that outcome again (or, when it came with
// another request, the reused-request_id refusal); a new one is decided
// (DecideAndApply) and its outcome kept under cmd/<id>, completed with the
// position of its last event once the log assigns it, and mirrored to the
// outcomes topic where the log keeps changelogs. The outcomes are handed out
// (CommandOutcomes::Publish) only once the unit has committed. The command
// processor answers every command so; on a single instance intake answers
// the CreateLead commands it takes from the API the same way.
class CommandDecider {
 public:
  explicit CommandDecider(CommandOutcomes* outcomes) : outcomes_(outcomes) {}

  // A new unit: outcomes of one that did not commit are forgotten.
  void Begin() { pending_.clear(); }
  // Answers `command` in `txn` (`now` stamps its outcome record); returns
  // whether its outcome (a stored one, or the decision now) accepts it.
  absl::StatusOr<bool> Answer(const v1::Command& command, absl::Time now,
                              const domain::DomainConfig& config, ProcessorTransaction& txn);
  // The command in `record` cannot be written (its events too large for the
  // brokers): refused with INVALID_ARGUMENT, kept, so a retry gets the same
  // answer instead of its caller waiting in vain. Replaces the unit's outcomes.
  void RefuseUnwritable(const log::Record& record, const absl::Status& why,
                        ProcessorTransaction& txn);
  // After the unit's commit.
  void Publish();

 private:
  CommandOutcomes* outcomes_;
  // Outcomes of the unit in flight.
  std::vector<v1::CommandOutcome> pending_;
};

class CommandProcessor final : public Processor {
 public:
  // `partitions`: of the commands topic, to check a command is on its
  // aggregate's partition. `config.pipelines` is replaced by what `items`
  // holds.
  CommandProcessor(CommandOutcomes* outcomes, const ItemReadModel* items,
                   domain::DomainConfig config, int32_t partitions);

  std::string Name() const override { return "commands"; }
  std::string InputTopic() const override { return std::string(log::kCommandsTopic); }
  store::Keyspace StateKeyspace() const override { return store::Keyspace::kState; }
  absl::Status Process(const std::vector<log::Record>& batch, ProcessorTransaction& txn) override;
  // A command whose events the log refuses (too large for the brokers): a
  // dead letter, and the command refused with INVALID_ARGUMENT (kept, so a
  // retry gets the same answer) instead of its caller waiting in vain.
  void Unwritable(const log::Record& record, const absl::Status& why,
                  ProcessorTransaction& txn) override;
  void AfterCommit(int32_t partition, int64_t next_offset,
                   const std::vector<log::Position>& outputs) override;
  std::vector<std::string> ChangelogTopics() const override {
    return {std::string(log::kOutcomesTopic), std::string(log::kEventsTopic)};
  }
  absl::Status Restore(const log::Record& record, ProcessorTransaction& txn) override;

  int64_t dead_letters() const { return dead_letters_.load(); }

  static std::string OutcomeKey(absl::string_view command_id);
  static std::string StateKey(absl::string_view aggregate_type, absl::string_view aggregate_id);

 private:
  // A status or stage change into a stage that requires activities gets the
  // item's activities as the read model holds them (the command's
  // item_activities; whatever the record carried there is dropped).
  absl::Status AttachItemActivities(v1::Command& command) const;

  CommandDecider decider_;
  const ItemReadModel* items_;
  domain::DomainConfig config_;
  const int32_t partitions_;
  std::atomic<int64_t> dead_letters_{0};
};

}  // namespace leadflow::processors
