#include "leadflow/api/command_gateway.h"

#include <algorithm>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/api/consistency_token.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/access_policy.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"
#include "leadflow/domain/input_limits.h"
#include "leadflow/domain/lead_aggregate.h"
#include "leadflow/processors/command_processor.h"
#include "leadflow/processors/command_record.h"
#include "leadflow/processors/intake_processor.h"

namespace leadflow::api {
namespace {

std::string RandomToken() {
  thread_local absl::BitGen gen;
  return absl::StrCat(absl::Uniform<uint64_t>(gen), "-", absl::Uniform<uint64_t>(gen));
}

absl::Status RefusalOf(const v1::CommandOutcome& outcome, absl::string_view name_field) {
  const auto code = static_cast<absl::StatusCode>(outcome.code());
  if (outcome.field().empty()) return absl::Status(code, outcome.message());
  std::vector<std::string> fields(outcome.fields().begin(), outcome.fields().end());
  if (fields.empty()) fields.push_back(outcome.field());
  for (auto& field : fields) {
    if (field == "name") field = std::string(name_field);
  }
  std::string description = outcome.message();
  // The stored message starts with the fields; the rebuilt status adds them.
  const size_t colon = description.find(": ");
  if (colon != std::string::npos) description = description.substr(colon + 2);
  return domain::FieldErrors(code, fields, description);
}

}  // namespace

std::string CommandGateway::CommandId(absl::string_view aggregate_id,
                                      absl::string_view request_id) {
  if (!request_id.empty()) return absl::StrCat("req:", aggregate_id, ":", request_id);
  return DeriveId("cmd", RandomToken());
}

std::string CommandGateway::NewId(absl::string_view kind, absl::string_view request_id) {
  return DeriveId(kind,
                  request_id.empty() ? RandomToken() : absl::StrCat("req:", kind, ":", request_id));
}

absl::StatusOr<std::string> CommandGateway::IdFromName(absl::string_view name,
                                                       absl::string_view type,
                                                       absl::string_view field) {
  auto parsed = domain::ParseResourceName(name, field);
  if (!parsed.ok()) return parsed.status();
  if (parsed->first != type) {
    return domain::InvalidField(field, absl::StrCat("'", name, "' is not a ", type, " name (",
                                                    domain::ResourceName(type, "{id}"), ")"));
  }
  return std::move(parsed->second);
}

absl::Status CommandGateway::CheckRequestId(absl::string_view request_id) {
  if (request_id.size() > 200) {
    return domain::InvalidField("request_id", "longer than 200 characters");
  }
  return absl::OkStatus();
}

// gRPC deadlines are wall-clock time, so this reads the real clock, not the
// injected one.
absl::Time CommandGateway::CallDeadline(const grpc::ServerContext* ctx, absl::Duration cap) {
  const absl::Time capped = absl::Now() + cap;
  if (ctx == nullptr) return capped;
  const absl::Time deadline = absl::FromChrono(ctx->deadline());
  return std::min(capped, deadline);
}

absl::Status CommandGateway::AwaitPosition(const grpc::ServerContext* ctx,
                                           const v1::LogPosition& position, bool has_position,
                                           absl::string_view consistency_token) const {
  LEADFLOW_ASSIGN_OR_RETURN(ConsistencyToken token,
                            ParseConsistencyToken(consistency_token, "consistency_token"));
  if (has_position) {
    if (!position.topic().empty() && position.topic() != log::kEventsTopic) {
      return domain::InvalidField("min_position.topic",
                                  absl::StrCat("reads follow ", log::kEventsTopic));
    }
    if (position.partition() < 0 ||
        position.partition() >= context_->log->PartitionCount(log::kEventsTopic)) {
      return domain::InvalidField("min_position.partition", "no such partition");
    }
    ConsistencyToken one;
    one.events[position.partition()] = position.offset();
    token.Merge(one);
  }
  if (token.empty()) return absl::OkStatus();
  const int32_t partitions = context_->log->PartitionCount(log::kEventsTopic);
  for (const auto& [partition, offset] : token.events) {
    if (partition >= partitions) {
      return domain::InvalidField("consistency_token",
                                  absl::StrCat("no events partition ", partition));
    }
  }
  const absl::Time deadline = CallDeadline(ctx, context_->command_timeout);
  for (const auto& [partition, offset] : token.events) {
    if (!context_->projection->WaitForApplied(partition, offset, deadline)) {
      return absl::DeadlineExceededError(
          absl::StrCat(has_position ? "min_position" : "consistency_token",
                       ": the read model has not reached ", partition, "@", offset, " yet"));
    }
  }
  // A channel event has reached its lead once the projection recorded it.
  for (const auto& id : token.channel_events) {
    for (;;) {
      LEADFLOW_ASSIGN_OR_RETURN(auto lead, context_->leads->LeadOfChannelEvent(id));
      if (lead.has_value()) break;
      if (absl::Now() >= deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("consistency_token: channel event ", id,
                         " has not reached a lead yet (a refused one goes to the dead letters)"));
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
  }
  return absl::OkStatus();
}

std::string CommandGateway::TokenFor(const v1::CommandOutcome& outcome) const {
  ConsistencyToken token;
  if (outcome.has_position()) {
    token.events[outcome.position().partition()] = outcome.position().offset();
  } else {
    const int32_t partitions = context_->log->PartitionCount(log::kEventsTopic);
    for (int32_t p = 0; p < partitions; ++p) {
      auto end = context_->log->EndOffset(log::kEventsTopic, p);
      if (end.ok() && *end > 0) token.events[p] = *end - 1;
    }
  }
  return FormatConsistencyToken(token);
}

namespace {

// An item a command points at, and the request field that names it.
struct Link {
  absl::string_view type;  // "contact" or "company"
  std::string id;
  std::string field;
};

bool Masked(const google::protobuf::FieldMask& mask, absl::string_view path) {
  if (mask.paths_size() == 0) return true;
  return std::find(mask.paths().begin(), mask.paths().end(), path) != mask.paths().end();
}

// The existing clients a command links its aggregate to. Commands of the
// follow-up step (a conversion's deal naming the contact made in the same
// step) never pass here.
std::vector<Link> LinksOf(const v1::Command& command) {
  std::vector<Link> links;
  auto add = [&links](absl::string_view type, const std::string& id, absl::string_view field) {
    if (!id.empty()) links.push_back({type, id, std::string(field)});
  };
  switch (command.command_case()) {
    case v1::Command::kConvertLead:
      add("contact", command.convert_lead().contact_id(), "contact_id");
      add("company", command.convert_lead().company_id(), "company_id");
      break;
    case v1::Command::kCreateDeal:
      add("contact", command.create_deal().deal().contact_id(), "deal.contact_id");
      add("company", command.create_deal().deal().company_id(), "deal.company_id");
      break;
    case v1::Command::kUpdateDeal: {
      const auto& update = command.update_deal();
      if (Masked(update.update_mask(), "contact_id")) {
        add("contact", update.deal().contact_id(), "deal.contact_id");
      }
      if (Masked(update.update_mask(), "company_id")) {
        add("company", update.deal().company_id(), "deal.company_id");
      }
      break;
    }
    default:
      break;
  }
  return links;
}

// The record a command from the API travels in. A new lead of a person
// with a phone, email or messenger, an update that replaces a lead's, and
// a reopen of a lead that has some go to intake, keyed by the person's
// first identity key, as the person's channel events do: their one
// resolver claims the identities for the lead, or refuses the command when
// another open lead has them, so no read-model lag splits a person over two
// leads. Every other command goes straight to its aggregate's partition.
absl::StatusOr<log::OutgoingRecord> RecordOf(const v1::Command& command,
                                             const domain::DomainConfig& config,
                                             const processors::LeadReadModel& leads) {
  log::OutgoingRecord record = processors::CommandRecord(command, "leadflow/api");
  LEADFLOW_ASSIGN_OR_RETURN(std::vector<std::string> keys,
                            processors::PersonKeysOf(command, config, leads));
  if (!keys.empty()) {
    record.topic = std::string(log::kIntakeTopic);
    record.key = std::move(keys.front());
  }
  return record;
}

}  // namespace

absl::StatusOr<bool> CommandGateway::ItemExists(absl::string_view type, const std::string& id,
                                                absl::Time deadline) const {
  LEADFLOW_ASSIGN_OR_RETURN(auto item, context_->items->Get(type, id));
  if (item.has_value()) return true;
  // Not in this instance's read model yet, perhaps: one created a moment
  // ago is projected once the projection has read its partition of the
  // event log as far as it is now (waited for a short while at most).
  const int32_t partition =
      log::PartitionForKey(id, context_->log->PartitionCount(log::kEventsTopic));
  absl::StatusOr<int64_t> end = context_->log->EndOffset(log::kEventsTopic, partition);
  if (!end.ok() || *end == 0) return false;
  context_->projection->WaitForApplied(partition, *end - 1,
                                       std::min(deadline, absl::Now() + absl::Seconds(2)));
  LEADFLOW_ASSIGN_OR_RETURN(item, context_->items->Get(type, id));
  return item.has_value();
}

absl::Status CommandGateway::CheckLinks(const grpc::ServerContext* ctx,
                                        const v1::Command& command) const {
  const absl::Time deadline = CallDeadline(ctx, context_->command_timeout);
  for (const Link& link : LinksOf(command)) {
    LEADFLOW_ASSIGN_OR_RETURN(bool exists, ItemExists(link.type, link.id, deadline));
    if (!exists) {
      return domain::FieldError(absl::StatusCode::kFailedPrecondition, link.field,
                                absl::StrCat("no ", link.type, " ", link.id,
                                             " exists: create it first, or leave the field empty"));
    }
  }
  return absl::OkStatus();
}

absl::Status CommandGateway::Authorize(const domain::Principal& principal,
                                       const v1::Command& command) const {
  LEADFLOW_ASSIGN_OR_RETURN(std::shared_ptr<const v1::AccessPolicy> policy,
                            context_->items->AccessPolicy());
  if (domain::IsOpen(*policy) || principal.HasRole(domain::kAdministratorRole)) {
    return absl::OkStatus();
  }
  // The items as the read model has them: a change racing another that
  // moves an item out of the caller's reach is judged on the state before it.
  auto load = [this](absl::string_view type, absl::string_view id) {
    return CurrentState(*context_->items, *context_->leads, type, id);
  };
  LEADFLOW_ASSIGN_OR_RETURN(std::optional<v1::AggregateState> current,
                            load(domain::AggregateTypeOf(command), command.aggregate_id()));
  std::optional<v1::AggregateState> merge_target;
  if (command.has_merge_lead_into()) {
    LEADFLOW_ASSIGN_OR_RETURN(merge_target,
                              load("lead", command.merge_lead_into().target_lead_id()));
  }
  std::optional<v1::AggregateState> owner;
  if (command.has_plan_activity()) {
    auto parsed =
        domain::ParseResourceName(command.plan_activity().activity().owner(), "activity.owner");
    if (parsed.ok()) {
      LEADFLOW_ASSIGN_OR_RETURN(owner, load(parsed->first, parsed->second));
    }
  }
  domain::CommandItems items;
  items.current = current.has_value() ? &*current : nullptr;
  items.merge_target = merge_target.has_value() ? &*merge_target : nullptr;
  items.activity_owner = owner.has_value() ? &*owner : nullptr;
  return domain::PermitCommand(*policy, principal, command, items);
}

absl::StatusOr<v1::CommandOutcome> CommandGateway::Submit(const grpc::ServerContext* ctx,
                                                          const domain::Principal& principal,
                                                          v1::Command command,
                                                          absl::string_view name_field) const {
  // Refused before it reaches the log: an oversized command would
  // otherwise be stored to be refused by the decision.
  if (absl::Status limits = domain::CheckCommandLimits(command); !limits.ok()) {
    return limits;
  }
  LEADFLOW_RETURN_IF_ERROR(Authorize(principal, command));
  // No link points at nothing: a deal or conversion naming a client that
  // does not exist is refused here, naming the field.
  if (absl::Status links = CheckLinks(ctx, command); !links.ok()) return links;
  *command.mutable_issue_time() = ToTimestamp(context_->clock->Now());
  // The caller acts as itself, whatever the request says, unless it may
  // act for others.
  LEADFLOW_ASSIGN_OR_RETURN(std::string actor, domain::ActingAs(principal, command.actor()));
  command.set_actor(std::move(actor));
  const std::string command_id = command.command_id();
  auto ticket = context_->outcomes->Register(command_id);
  std::vector<log::OutgoingRecord> records;
  LEADFLOW_ASSIGN_OR_RETURN(log::OutgoingRecord record,
                            RecordOf(command, context_->config, *context_->leads));
  records.push_back(std::move(record));
  // Answered by the command processor's unit, which makes it durable.
  auto appended = context_->log->AppendAnsweredByProcessing(
      std::move(records), CallDeadline(ctx, context_->command_timeout));
  if (!appended.ok()) {
    context_->outcomes->Forget(command_id);
    return appended.status();
  }
  std::optional<v1::CommandOutcome> outcome =
      ticket->Wait(CallDeadline(ctx, context_->command_timeout));
  context_->outcomes->Forget(command_id);
  if (!outcome.has_value()) {
    // It may have been applied just as we stopped waiting.
    auto stored = context_->db->Get(store::Keyspace::kState,
                                    processors::CommandProcessor::OutcomeKey(command_id));
    if (stored.ok() && stored->has_value()) {
      outcome.emplace();
      if (!outcome->ParseFromString(**stored)) {
        outcome.reset();
      } else if (!outcome->request_fingerprint().empty() &&
                 outcome->request_fingerprint() != processors::CommandFingerprint(command)) {
        // The stored outcome is another request's (a reused request_id).
        outcome = processors::ReusedRequestIdOutcome(command);
      }
    }
  }
  if (!outcome.has_value()) {
    return absl::UnavailableError(absl::StrCat(
        "command ", command_id, " is on the log at ", appended->front().partition, "@",
        appended->front().offset,
        " but was not applied in time; retry with the same request_id to get its outcome"));
  }
  if (outcome->code() != 0) return RefusalOf(*outcome, name_field);
  return *std::move(outcome);
}

}  // namespace leadflow::api
