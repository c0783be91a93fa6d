#include "leadflow/processors/command_processor.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/pipelines.h"
#include "leadflow/processors/command_record.h"
#include "leadflow/processors/dead_letter.h"

namespace leadflow::processors {

std::string CommandProcessor::OutcomeKey(absl::string_view command_id) {
  return absl::StrCat("cmd/", command_id);
}

std::string CommandProcessor::StateKey(absl::string_view aggregate_type,
                                       absl::string_view aggregate_id) {
  return absl::StrCat(aggregate_type, "/", aggregate_id);
}

std::string CommandFingerprint(const v1::Command& command) {
  v1::Command asked = command;
  asked.clear_command_id();
  asked.clear_issue_time();
  asked.clear_causation_id();
  asked.clear_correlation_id();
  if (asked.has_create_lead()) {
    asked.mutable_create_lead()->clear_client();
    asked.mutable_create_lead()->clear_open_lead();
  }
  if (asked.has_update_lead()) asked.mutable_update_lead()->clear_open_lead();
  if (asked.has_reopen_lead()) asked.mutable_reopen_lead()->clear_open_lead();
  return DeriveId("fp", SerializeDeterministic(asked));
}

v1::CommandOutcome ReusedRequestIdOutcome(const v1::Command& command) {
  v1::CommandOutcome outcome;
  outcome.set_command_id(command.command_id());
  outcome.set_code(static_cast<int32_t>(absl::StatusCode::kInvalidArgument));
  outcome.set_field("request_id");
  outcome.set_message(
      "request_id: was used before for a different request; a new request needs a new "
      "request_id (a retry sends the same request)");
  outcome.set_request_fingerprint(CommandFingerprint(command));
  return outcome;
}

CommandProcessor::CommandProcessor(CommandOutcomes* outcomes, const ItemReadModel* items,
                                   domain::DomainConfig config, int32_t partitions)
    : decider_(outcomes), items_(items), config_(std::move(config)), partitions_(partitions) {}

namespace {

// The stored state of an aggregate. Data dirs from before contacts, deals
// and the rest kept a lead as a bare Lead: read as such, it fails to parse
// as an AggregateState (its first byte is the name's), and is wrapped.
absl::StatusOr<v1::AggregateState> ParseState(absl::string_view type, absl::string_view bytes) {
  v1::AggregateState state;
  absl::Status parsed = ParseProto(bytes, &state, "stored aggregate");
  if (parsed.ok() || type != "lead") {
    if (!parsed.ok()) return parsed;
    return state;
  }
  LEADFLOW_RETURN_IF_ERROR(ParseProto(bytes, state.mutable_lead(), "stored lead"));
  return state;
}

log::OutgoingRecord OutcomeRecord(const v1::CommandOutcome& outcome, absl::Time time) {
  log::OutgoingRecord out;
  out.topic = std::string(log::kOutcomesTopic);
  out.key = outcome.command_id();  // compaction keeps one outcome per command
  out.headers = log::CloudEventHeaders(absl::StrCat("outcome:", outcome.command_id()),
                                       "leadflow.v1.CommandOutcome", "leadflow/commands", time);
  out.value = SerializeDeterministic(outcome);
  return out;
}

}  // namespace

absl::Status CommandProcessor::Restore(const log::Record& record, ProcessorTransaction& txn) {
  const store::Keyspace state = store::Keyspace::kState;
  if (record.topic == log::kOutcomesTopic) {
    v1::CommandOutcome outcome;
    LEADFLOW_RETURN_IF_ERROR(ParseProto(record.value, &outcome, "outcome record"));
    // Replies that are not the command's own outcome (a reused request_id
    // refused) are keyed apart from it and not kept.
    if (record.key != outcome.command_id()) return absl::OkStatus();
    txn.Put(state, OutcomeKey(outcome.command_id()), record.value);
    return absl::OkStatus();
  }
  v1::EventEnvelope event;
  LEADFLOW_RETURN_IF_ERROR(ParseProto(record.value, &event, "event record"));
  LEADFLOW_ASSIGN_OR_RETURN(auto stored,
                            LoadAggregateState(txn, event.aggregate_type(), event.aggregate_id()));
  v1::AggregateState aggregate = std::move(stored).value_or(v1::AggregateState());
  // Replays may overlap what the state has: versions say what is new.
  if (event.aggregate_version() <= domain::VersionOf(aggregate)) return absl::OkStatus();
  aggregate = domain::Evolve(std::move(aggregate), event);
  txn.Put(state, StateKey(event.aggregate_type(), event.aggregate_id()),
          SerializeDeterministic(aggregate));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<v1::AggregateState>> LoadAggregateState(
    ProcessorTransaction& txn, absl::string_view aggregate_type, absl::string_view aggregate_id) {
  LEADFLOW_ASSIGN_OR_RETURN(
      auto stored,
      txn.Get(store::Keyspace::kState, CommandProcessor::StateKey(aggregate_type, aggregate_id)));
  if (!stored.has_value()) return std::optional<v1::AggregateState>();
  LEADFLOW_ASSIGN_OR_RETURN(v1::AggregateState state, ParseState(aggregate_type, *stored));
  return std::optional<v1::AggregateState>(std::move(state));
}

absl::StatusOr<v1::CommandOutcome> DecideAndApply(const v1::Command& command,
                                                  const domain::DomainConfig& config,
                                                  ProcessorTransaction& txn) {
  const store::Keyspace state = store::Keyspace::kState;
  const std::string state_key =
      CommandProcessor::StateKey(domain::AggregateTypeOf(command), command.aggregate_id());
  LEADFLOW_ASSIGN_OR_RETURN(
      std::optional<v1::AggregateState> current,
      LoadAggregateState(txn, domain::AggregateTypeOf(command), command.aggregate_id()));
  auto events = domain::Decide(current.has_value() ? &*current : nullptr, command, config);
  v1::CommandOutcome outcome;
  outcome.set_command_id(command.command_id());
  if (!events.ok()) {
    outcome.set_code(static_cast<int32_t>(events.status().code()));
    outcome.set_message(std::string(events.status().message()));
    outcome.set_field(domain::FieldOf(events.status()));
    for (auto& field : domain::FieldsOf(events.status())) outcome.add_fields(std::move(field));
    if (current.has_value()) *outcome.mutable_state() = *std::move(current);
    return outcome;
  }
  v1::AggregateState aggregate = current.value_or(v1::AggregateState());
  for (const auto& event : *events) {
    aggregate = domain::Evolve(std::move(aggregate), event);
    outcome.add_event_ids(event.event_id());
    log::OutgoingRecord out;
    out.topic = std::string(log::kEventsTopic);
    out.key = command.aggregate_id();
    out.headers = log::CloudEventHeaders(event.event_id(), event.type(),
                                         absl::StrCat("leadflow/", event.aggregate_type()),
                                         FromTimestamp(event.occur_time()));
    out.value = SerializeDeterministic(event);
    txn.Emit(std::move(out));
  }
  if (!events->empty()) txn.Put(state, state_key, SerializeDeterministic(aggregate));
  *outcome.mutable_state() = std::move(aggregate);
  return outcome;
}

absl::StatusOr<bool> CommandDecider::Answer(const v1::Command& command, absl::Time now,
                                            const domain::DomainConfig& config,
                                            ProcessorTransaction& txn) {
  const store::Keyspace state = store::Keyspace::kState;
  const std::string outcome_key = CommandProcessor::OutcomeKey(command.command_id());
  LEADFLOW_ASSIGN_OR_RETURN(auto previous, txn.Get(state, outcome_key));
  const std::string fingerprint = CommandFingerprint(command);
  if (previous.has_value()) {
    // Asked again (a retry): the same answer, to whoever asks now.
    v1::CommandOutcome& outcome = pending_.emplace_back();
    LEADFLOW_RETURN_IF_ERROR(ParseProto(*previous, &outcome, "stored outcome"));
    // Outcomes kept before fingerprints have none: taken as the same ask.
    if (!outcome.request_fingerprint().empty() && outcome.request_fingerprint() != fingerprint) {
      outcome = ReusedRequestIdOutcome(command);
      if (txn.keeps_changelogs()) {
        log::OutgoingRecord refusal = OutcomeRecord(outcome, now);
        refusal.key = absl::StrCat(command.command_id(), "#", fingerprint);
        txn.Emit(std::move(refusal));
      }
      return false;
    }
    if (txn.keeps_changelogs()) txn.Emit(OutcomeRecord(outcome, now));
    return outcome.code() == 0;
  }
  LEADFLOW_ASSIGN_OR_RETURN(v1::CommandOutcome outcome, DecideAndApply(command, config, txn));
  outcome.set_request_fingerprint(fingerprint);
  txn.Put(state, outcome_key, SerializeDeterministic(outcome));
  const size_t slot = pending_.size();
  const bool emitted_events = outcome.event_ids_size() > 0;
  const bool accepted = outcome.code() == 0;
  log::OutgoingRecord reply = OutcomeRecord(outcome, now);
  pending_.push_back(std::move(outcome));
  if (emitted_events) {
    // The last event's position is known only once the log assigns it:
    // the stored outcome (and the reply on the outcomes topic) are
    // completed then.
    const size_t record_index = txn.records().size() - 1;
    auto with_position = [this, slot, record_index](const std::vector<log::Position>& positions) {
      auto* position = pending_[slot].mutable_position();
      position->set_topic(positions[record_index].topic);
      position->set_partition(positions[record_index].partition);
      position->set_offset(positions[record_index].offset);
      return SerializeDeterministic(pending_[slot]);
    };
    reply.complete = [with_position](const std::vector<log::Position>& positions,
                                     log::OutgoingRecord* out) {
      out->value = with_position(positions);
    };
    txn.OnPositions([with_position, outcome_key](const std::vector<log::Position>& positions,
                                                 store::StateBatch* write_batch) {
      write_batch->Put(store::Keyspace::kState, outcome_key, with_position(positions));
    });
  }
  if (txn.keeps_changelogs()) txn.Emit(std::move(reply));
  return accepted;
}

void CommandDecider::RefuseUnwritable(const log::Record& record, const absl::Status& why,
                                      ProcessorTransaction& txn) {
  pending_.clear();
  v1::Command command;
  if (!ParseProto(record.value, &command, "record value").ok() || command.command_id().empty()) {
    return;
  }
  v1::CommandOutcome& outcome = pending_.emplace_back();
  outcome.set_command_id(command.command_id());
  outcome.set_code(static_cast<int32_t>(absl::StatusCode::kInvalidArgument));
  outcome.set_message(absl::StrCat("the command's events cannot be written: ", why.message()));
  outcome.set_request_fingerprint(CommandFingerprint(command));
  txn.Put(store::Keyspace::kState, CommandProcessor::OutcomeKey(command.command_id()),
          SerializeDeterministic(outcome));
  if (txn.keeps_changelogs()) {
    txn.Emit(OutcomeRecord(outcome, absl::FromUnixMillis(record.timestamp_ms)));
  }
}

void CommandDecider::Publish() {
  for (const auto& outcome : pending_) outcomes_->Publish(outcome);
  pending_.clear();
}

absl::Status CommandProcessor::Process(const std::vector<log::Record>& batch,
                                       ProcessorTransaction& txn) {
  decider_.Begin();
  LEADFLOW_ASSIGN_OR_RETURN(config_.pipelines, items_->Pipelines());
  for (const auto& record : batch) {
    v1::Command command;
    absl::Status parsed = ParseProto(record.value, &command, "record value");
    if (parsed.ok() && command.command_id().empty()) {
      parsed = domain::InvalidField("command_id", "required");
    }
    if (!parsed.ok()) {
      txn.Emit(DeadLetter(record, Name(), parsed.message()));
      ++dead_letters_;
      continue;
    }
    if (!command.aggregate_id().empty() &&
        log::PartitionForKey(command.aggregate_id(), partitions_) != record.partition) {
      txn.Emit(ForwardedRecord(record, command.aggregate_id()));
      continue;
    }
    LEADFLOW_RETURN_IF_ERROR(AttachItemActivities(command));
    LEADFLOW_RETURN_IF_ERROR(
        decider_.Answer(command, absl::FromUnixMillis(record.timestamp_ms), config_, txn).status());
  }
  return absl::OkStatus();
}

absl::Status CommandProcessor::AttachItemActivities(v1::Command& command) const {
  google::protobuf::RepeatedPtrField<v1::Activity>* activities = nullptr;
  std::string stage_id;
  std::string owner;
  bool needed = false;
  if (command.has_change_lead_status()) {
    activities = command.mutable_change_lead_status()->mutable_item_activities();
    stage_id = command.change_lead_status().status_id();
    owner = domain::ResourceName("lead", command.aggregate_id());
    const v1::PipelineStage* stage = domain::FindStage(config_.pipelines.lead(), stage_id);
    needed = stage != nullptr && stage->required_activities_size() > 0;
  } else if (command.has_move_deal()) {
    activities = command.mutable_move_deal()->mutable_item_activities();
    stage_id = command.move_deal().stage_id();
    owner = domain::ResourceName("deal", command.aggregate_id());
    // The deal's pipeline is the aggregate's to know: any deal pipeline
    // with such a stage asking for activities is reason enough to look.
    for (const auto& [id, pipeline] : config_.pipelines.all()) {
      const v1::PipelineStage* stage = domain::FindStage(pipeline, stage_id);
      needed = needed || (pipeline.kind() == v1::PIPELINE_KIND_DEAL && stage != nullptr &&
                          stage->required_activities_size() > 0);
    }
  }
  if (activities == nullptr) return absl::OkStatus();
  activities->Clear();
  if (!needed) return absl::OkStatus();
  std::string page_token;
  do {
    LEADFLOW_ASSIGN_OR_RETURN(
        ItemReadModel::Page page,
        items_->List("activity", {{"owner", owner, "owner"}}, 1000, page_token));
    for (auto& item : page.items) {
      if (item.has_activity()) *activities->Add() = std::move(*item.mutable_activity());
    }
    page_token = page.next_page_token;
  } while (!page_token.empty());
  return absl::OkStatus();
}

void CommandProcessor::Unwritable(const log::Record& record, const absl::Status& why,
                                  ProcessorTransaction& txn) {
  Processor::Unwritable(record, why, txn);
  decider_.RefuseUnwritable(record, why, txn);
}

void CommandProcessor::AfterCommit(int32_t partition, int64_t next_offset,
                                   const std::vector<log::Position>& outputs) {
  decider_.Publish();
}

}  // namespace leadflow::processors
