#include "leadflow/processors/lead_command_processor.h"

#include "absl/strings/str_cat.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/lead_aggregate.h"
#include "leadflow/processors/dead_letter.h"

namespace leadflow::processors {

std::string LeadCommandProcessor::OutcomeKey(absl::string_view command_id) {
  return absl::StrCat("cmd/", command_id);
}

std::string LeadCommandProcessor::StateKey(absl::string_view lead_id) {
  return absl::StrCat("lead/", lead_id);
}

LeadCommandProcessor::LeadCommandProcessor(const store::Database* db, CommandOutcomes* outcomes,
                                           domain::DomainConfig config)
    : db_(db), outcomes_(outcomes), config_(std::move(config)) {}

absl::Status LeadCommandProcessor::Process(const std::vector<log::Record>& batch,
                                           ProcessorTransaction& txn) {
  pending_.clear();
  auto* state = db_->state_family();
  for (const auto& record : batch) {
    v1::LeadCommand command;
    absl::Status parsed = ParseProto(record.value, &command, "record value");
    if (parsed.ok() && command.command_id().empty()) {
      parsed = domain::InvalidField("command_id", "required");
    }
    if (!parsed.ok()) {
      txn.Emit(DeadLetter(record, Name(), parsed.message()));
      ++dead_letters_;
      continue;
    }
    const std::string outcome_key = OutcomeKey(command.command_id());
    LEADFLOW_ASSIGN_OR_RETURN(auto previous, txn.Get(state, outcome_key));
    if (previous.has_value()) {
      v1::CommandOutcome& outcome = pending_.emplace_back();
      LEADFLOW_RETURN_IF_ERROR(ParseProto(*previous, &outcome, "stored outcome"));
      continue;
    }
    LEADFLOW_ASSIGN_OR_RETURN(auto stored, txn.Get(state, StateKey(command.lead_id())));
    std::optional<v1::Lead> current;
    if (stored.has_value()) {
      LEADFLOW_RETURN_IF_ERROR(ParseProto(*stored, &current.emplace(), "stored lead"));
    }
    auto events = domain::DecideLead(current.has_value() ? &*current : nullptr, command, config_);
    v1::CommandOutcome outcome;
    outcome.set_command_id(command.command_id());
    if (!events.ok()) {
      outcome.set_code(static_cast<int32_t>(events.status().code()));
      outcome.set_message(std::string(events.status().message()));
      outcome.set_field(domain::FieldOf(events.status()));
      if (current.has_value()) *outcome.mutable_lead() = *current;
    } else {
      v1::Lead lead = current.value_or(v1::Lead());
      for (const auto& event : *events) {
        lead = domain::EvolveLead(std::move(lead), event);
        outcome.add_event_ids(event.event_id());
        log::OutgoingRecord out;
        out.topic = std::string(log::kEventsTopic);
        out.key = command.lead_id();
        out.headers = log::CloudEventHeaders(event.event_id(), event.type(), "leadflow/leads",
                                             FromTimestamp(event.occur_time()));
        out.value = SerializeDeterministic(event);
        txn.Emit(std::move(out));
      }
      if (!events->empty())
        txn.Put(state, StateKey(command.lead_id()), SerializeDeterministic(lead));
      *outcome.mutable_lead() = std::move(lead);
    }
    txn.Put(state, outcome_key, SerializeDeterministic(outcome));
    const size_t slot = pending_.size();
    pending_.push_back(std::move(outcome));
    if (events.ok() && !events->empty()) {
      // The last event's position is known only once the log assigns it.
      const size_t record_index = txn.records().size() - 1;
      txn.OnPositions(
          [this, slot, record_index, state, outcome_key](
              const std::vector<log::Position>& positions, rocksdb::WriteBatch* write_batch) {
            auto* position = pending_[slot].mutable_position();
            position->set_topic(positions[record_index].topic);
            position->set_partition(positions[record_index].partition);
            position->set_offset(positions[record_index].offset);
            write_batch->Put(state, outcome_key, SerializeDeterministic(pending_[slot]))
                .PermitUncheckedError();
          });
    }
  }
  return absl::OkStatus();
}

void LeadCommandProcessor::AfterCommit(int32_t partition, int64_t next_offset,
                                       const std::vector<log::Position>& outputs) {
  for (const auto& outcome : pending_) outcomes_->Publish(outcome);
  pending_.clear();
}

}  // namespace leadflow::processors
