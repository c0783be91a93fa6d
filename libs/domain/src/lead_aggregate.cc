#include "leadflow/domain/lead_aggregate.h"

#include <google/protobuf/util/field_mask_util.h>

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/contact_points.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"

namespace leadflow::domain {
namespace {

using google::protobuf::util::FieldMaskUtil;

constexpr std::array<absl::string_view, 11> kUpdatableFields = {
    "title",  "first_name", "last_name", "second_name", "company_title",     "phones",
    "emails", "messengers", "comments",  "opportunity", "source_description"};

// Builds envelopes for the events of one command.
class EventSink {
 public:
  EventSink(const v1::Lead* current, const v1::LeadCommand& command)
      : command_(command), base_version_(current == nullptr ? 0 : current->version()) {}

  v1::EventEnvelope& Add() {
    v1::EventEnvelope& e = events_.emplace_back();
    const int64_t index = static_cast<int64_t>(events_.size());
    e.set_event_id(DeriveId("ev", command_.command_id(), absl::StrCat(index)));
    e.set_aggregate_type("lead");
    e.set_aggregate_id(command_.lead_id());
    e.set_aggregate_version(base_version_ + index);
    *e.mutable_occur_time() = command_.issue_time();
    e.set_causation_id(command_.causation_id().empty() ? command_.command_id()
                                                       : command_.causation_id());
    e.set_correlation_id(command_.correlation_id().empty() ? command_.command_id()
                                                           : command_.correlation_id());
    e.set_actor(command_.actor());
    return e;
  }

  std::vector<v1::EventEnvelope> Finish() {
    for (auto& e : events_) e.set_type(EventTypeName(e));
    return std::move(events_);
  }

 private:
  const v1::LeadCommand& command_;
  const int64_t base_version_;
  std::vector<v1::EventEnvelope> events_;
};

// Normalises the phones and emails of `lead` in place; refusals name
// "<prefix>.phones[i].number" and the like. Repeats are dropped.
absl::Status NormalizeContactPoints(v1::Lead* lead, absl::string_view prefix,
                                    const DomainConfig& config) {
  std::vector<std::string> seen;
  google::protobuf::RepeatedPtrField<v1::PhoneNumber> phones;
  for (int i = 0; i < lead->phones_size(); ++i) {
    LEADFLOW_ASSIGN_OR_RETURN(std::string e164,
                              NormalizePhone(lead->phones(i).number(), config.default_region,
                                             absl::StrCat(prefix, "phones[", i, "].number")));
    if (std::find(seen.begin(), seen.end(), e164) != seen.end()) continue;
    seen.push_back(e164);
    auto* phone = phones.Add();
    phone->set_number(e164);
    phone->set_type(lead->phones(i).type());
  }
  lead->mutable_phones()->Swap(&phones);
  google::protobuf::RepeatedPtrField<v1::EmailAddress> emails;
  for (int i = 0; i < lead->emails_size(); ++i) {
    LEADFLOW_ASSIGN_OR_RETURN(
        std::string address,
        NormalizeEmail(lead->emails(i).address(), absl::StrCat(prefix, "emails[", i, "].address")));
    if (std::find(seen.begin(), seen.end(), address) != seen.end()) continue;
    seen.push_back(address);
    auto* email = emails.Add();
    email->set_address(address);
    email->set_type(lead->emails(i).type());
  }
  lead->mutable_emails()->Swap(&emails);
  for (int i = 0; i < lead->messengers_size(); ++i) {
    const auto& m = lead->messengers(i);
    if (m.channel().empty() || m.handle().empty()) {
      return InvalidField(absl::StrCat(prefix, "messengers[", i, "]"), "needs channel and handle");
    }
  }
  if (lead->has_opportunity()) {
    const auto& money = lead->opportunity();
    if (money.amount_minor() < 0) {
      return InvalidField(absl::StrCat(prefix, "opportunity.amount_minor"), "negative");
    }
    const std::string& code = money.currency_code();
    if (code.size() != 3 || !std::all_of(code.begin(), code.end(), absl::ascii_isupper)) {
      return InvalidField(absl::StrCat(prefix, "opportunity.currency_code"),
                          "must be an ISO 4217 code such as \"RUB\"");
    }
  }
  return absl::OkStatus();
}

// Output-only fields a client cannot set.
void ClearOutputOnly(v1::Lead* lead) {
  lead->clear_name();
  lead->clear_lead_id();
  lead->clear_version();
  lead->clear_status_id();
  lead->clear_status_semantic();
  lead->clear_junk_reason();
  lead->clear_junk_text();
  lead->clear_identity_keys();
  lead->clear_communication_count();
  lead->clear_last_communication_time();
  lead->clear_create_time();
  lead->clear_update_time();
  lead->clear_origin_channel_event_id();
}

std::string DefaultTitle(const v1::Lead& lead) {
  std::string who =
      absl::StrCat(lead.first_name(), lead.first_name().empty() ? "" : " ", lead.last_name());
  if (who.empty() && lead.phones_size() > 0) who = lead.phones(0).number();
  if (who.empty() && lead.emails_size() > 0) who = lead.emails(0).address();
  if (who.empty()) who = lead.company_title();
  return who.empty() ? "Lead" : absl::StrCat("Lead: ", who);
}

absl::Status CheckOpen(const v1::Lead& lead, absl::string_view field) {
  if (LeadPipeline::IsTerminal(lead.status_semantic())) {
    return FieldError(absl::StatusCode::kFailedPrecondition, field,
                      absl::StrCat("lead ", lead.lead_id(), " is in terminal status ",
                                   lead.status_id(), " and cannot change"));
  }
  return absl::OkStatus();
}

absl::Status DecideCreate(const v1::LeadCommand& command, const DomainConfig& config,
                          EventSink& sink) {
  v1::Lead lead = command.create_lead().lead();
  ClearOutputOnly(&lead);
  LEADFLOW_RETURN_IF_ERROR(NormalizeContactPoints(&lead, "lead.", config));
  if (lead.title().empty()) lead.set_title(DefaultTitle(lead));
  lead.set_lead_id(command.lead_id());
  lead.set_name(LeadResourceName(command.lead_id()));
  const auto& initial = config.pipeline.Initial();
  lead.set_status_id(initial.id);
  lead.set_status_semantic(initial.semantic);
  for (auto& key : LeadIdentityKeys(lead)) lead.add_identity_keys(std::move(key));
  const bool has_origin = command.create_lead().has_origin();
  if (has_origin) lead.set_origin_channel_event_id(command.create_lead().origin().id());
  *sink.Add().mutable_lead_created()->mutable_lead() = std::move(lead);
  if (has_origin) {
    auto* recorded = sink.Add().mutable_communication_recorded();
    *recorded->mutable_channel_event() = command.create_lead().origin();
    recorded->set_repeat_request(false);
  }
  return absl::OkStatus();
}

absl::Status DecideUpdate(const v1::Lead& current, const v1::LeadCommand& command,
                          const DomainConfig& config, EventSink& sink) {
  const auto& update = command.update_lead();
  if (update.update_mask().paths_size() == 0) {
    return InvalidField("update_mask", "required: name the fields to update");
  }
  for (int i = 0; i < update.update_mask().paths_size(); ++i) {
    const std::string& path = update.update_mask().paths(i);
    if (!IsUpdatableLeadField(path)) {
      return InvalidField(absl::StrCat("update_mask.paths[", i, "]"),
                          absl::StrCat("'", path, "' cannot be updated"));
    }
  }
  LEADFLOW_RETURN_IF_ERROR(CheckOpen(current, "lead"));
  v1::Lead changes;
  FieldMaskUtil::MergeOptions options;
  options.set_replace_repeated_fields(true);
  FieldMaskUtil::MergeMessageTo(update.lead(), update.update_mask(), options, &changes);
  LEADFLOW_RETURN_IF_ERROR(NormalizeContactPoints(&changes, "lead.", config));
  auto* updated = sink.Add().mutable_lead_updated();
  *updated->mutable_lead() = std::move(changes);
  *updated->mutable_update_mask() = update.update_mask();
  return absl::OkStatus();
}

absl::Status DecideChangeStatus(const v1::Lead& current, const v1::LeadCommand& command,
                                const DomainConfig& config, EventSink& sink) {
  const std::string& to = command.change_lead_status().status_id();
  if (to.empty()) return InvalidField("status_id", "required");
  const LeadStatusDefinition* target = config.pipeline.Find(to);
  if (target == nullptr) {
    return InvalidField("status_id", absl::StrCat("unknown status '", to, "'"));
  }
  if (to == current.status_id()) return absl::OkStatus();
  LEADFLOW_RETURN_IF_ERROR(CheckOpen(current, "status_id"));
  if (target->semantic == v1::STATUS_SEMANTIC_FAILURE) {
    return FieldError(
        absl::StatusCode::kFailedPrecondition, "status_id",
        absl::StrCat("'", to, "' is a failure status: use MarkLeadJunk with a reason"));
  }
  auto* changed = sink.Add().mutable_lead_status_changed();
  changed->set_from_status_id(current.status_id());
  changed->set_to_status_id(to);
  changed->set_semantic(target->semantic);
  return absl::OkStatus();
}

absl::Status DecideAssign(const v1::Lead& current, const v1::LeadCommand& command,
                          EventSink& sink) {
  const std::string& to = command.assign_lead().responsible_id();
  if (to.empty()) return InvalidField("responsible_id", "required");
  if (to.size() > 200) return InvalidField("responsible_id", "longer than 200 characters");
  if (to == current.responsible_id()) return absl::OkStatus();
  LEADFLOW_RETURN_IF_ERROR(CheckOpen(current, "responsible_id"));
  auto* assigned = sink.Add().mutable_lead_assigned();
  assigned->set_from_responsible_id(current.responsible_id());
  assigned->set_to_responsible_id(to);
  return absl::OkStatus();
}

absl::Status DecideMarkJunk(const v1::Lead& current, const v1::LeadCommand& command,
                            const DomainConfig& config, EventSink& sink) {
  const auto& junk = command.mark_lead_junk();
  if (junk.reason() == v1::JUNK_REASON_UNSPECIFIED) {
    return InvalidField("reason",
                        "required: spam, wrong number, unreachable, defunct, duplicate "
                        "or other");
  }
  if (junk.reason() == v1::JUNK_REASON_OTHER && junk.text().empty()) {
    return InvalidField("text", "required when the reason is JUNK_REASON_OTHER");
  }
  LEADFLOW_RETURN_IF_ERROR(CheckOpen(current, "name"));
  auto* marked = sink.Add().mutable_lead_marked_junk();
  marked->set_from_status_id(current.status_id());
  marked->set_to_status_id(config.pipeline.Junk().id);
  marked->set_reason(junk.reason());
  marked->set_text(junk.text());
  return absl::OkStatus();
}

absl::Status DecideReopen(const v1::Lead& current, const v1::LeadCommand& command,
                          const DomainConfig& config, EventSink& sink) {
  const auto& reopen = command.reopen_lead();
  if (std::find(config.supervisors.begin(), config.supervisors.end(), command.actor()) ==
      config.supervisors.end()) {
    return FieldError(absl::StatusCode::kPermissionDenied, "actor",
                      absl::StrCat("'", command.actor(),
                                   "' is not a supervisor: only supervisors "
                                   "reopen junk leads"));
  }
  if (reopen.reason().empty()) return InvalidField("reason", "required: why it is not junk");
  const LeadStatusDefinition* target = reopen.status_id().empty()
                                           ? &config.pipeline.Initial()
                                           : config.pipeline.Find(reopen.status_id());
  if (target == nullptr) {
    return InvalidField("status_id", absl::StrCat("unknown status '", reopen.status_id(), "'"));
  }
  if (target->semantic != v1::STATUS_SEMANTIC_IN_PROGRESS) {
    return InvalidField("status_id",
                        absl::StrCat("'", target->id, "' is not an in-progress status"));
  }
  if (current.status_semantic() != v1::STATUS_SEMANTIC_FAILURE) {
    return FieldError(absl::StatusCode::kFailedPrecondition, "name",
                      absl::StrCat("lead ", current.lead_id(), " is not junk"));
  }
  auto* reopened = sink.Add().mutable_lead_reopened();
  reopened->set_from_status_id(current.status_id());
  reopened->set_to_status_id(target->id);
  reopened->set_previous_reason(current.junk_reason());
  reopened->set_reason(reopen.reason());
  return absl::OkStatus();
}

absl::Status DecideRecordCommunication(const v1::Lead& current, const v1::LeadCommand& command,
                                       EventSink& sink) {
  const auto& record = command.record_communication();
  if (!record.has_channel_event() || record.channel_event().id().empty()) {
    return InvalidField("record_communication.channel_event", "required");
  }
  auto* recorded = sink.Add().mutable_communication_recorded();
  *recorded->mutable_channel_event() = record.channel_event();
  recorded->set_repeat_request(true);
  if (!current.responsible_id().empty()) {
    auto* notified = sink.Add().mutable_responsible_notified();
    notified->set_user_id(current.responsible_id());
    notified->set_reason(absl::StrCat("repeat request from ", current.title(), " (",
                                      v1::LeadSource_Name(current.source()), " lead ",
                                      current.lead_id(), ")"));
    notified->set_priority(false);
  }
  return absl::OkStatus();
}

}  // namespace

std::string LeadResourceName(absl::string_view lead_id) { return absl::StrCat("leads/", lead_id); }

bool IsUpdatableLeadField(absl::string_view path) {
  return std::find(kUpdatableFields.begin(), kUpdatableFields.end(), path) !=
         kUpdatableFields.end();
}

absl::Status CheckLeadId(absl::string_view lead_id, absl::string_view field) {
  if (lead_id.empty()) return InvalidField(field, "required");
  if (lead_id.size() > 63) return InvalidField(field, "longer than 63 characters");
  for (char c : lead_id) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-')) {
      return InvalidField(field, absl::StrCat("'", lead_id, "' may hold only a-z, 0-9 and '-'"));
    }
  }
  return absl::OkStatus();
}

std::string EventTypeName(const v1::EventEnvelope& event) {
  const auto* field = v1::EventEnvelope::descriptor()->FindFieldByNumber(event.payload_case());
  if (field == nullptr) return "";
  return field->message_type()->full_name();
}

absl::StatusOr<std::vector<v1::EventEnvelope>> DecideLead(const v1::Lead* current,
                                                          const v1::LeadCommand& command,
                                                          const DomainConfig& config) {
  if (command.command_id().empty()) return InvalidField("command_id", "required");
  LEADFLOW_RETURN_IF_ERROR(CheckLeadId(command.lead_id(), "lead_id"));
  const bool creates = command.command_case() == v1::LeadCommand::kCreateLead;
  if (creates && current != nullptr) {
    return FieldError(absl::StatusCode::kAlreadyExists, "lead_id",
                      absl::StrCat("lead ", command.lead_id(), " already exists"));
  }
  if (!creates && current == nullptr) {
    return FieldError(absl::StatusCode::kNotFound, "name",
                      absl::StrCat("lead ", command.lead_id(), " does not exist"));
  }
  if (command.has_expected_version()) {
    const int64_t actual = current == nullptr ? 0 : current->version();
    if (command.expected_version() != actual) {
      return FieldError(
          absl::StatusCode::kAborted, "expected_version",
          absl::StrCat("lead is at version ", actual, ", not ", command.expected_version()));
    }
  }
  EventSink sink(current, command);
  absl::Status status;
  switch (command.command_case()) {
    case v1::LeadCommand::kCreateLead:
      status = DecideCreate(command, config, sink);
      break;
    case v1::LeadCommand::kUpdateLead:
      status = DecideUpdate(*current, command, config, sink);
      break;
    case v1::LeadCommand::kChangeLeadStatus:
      status = DecideChangeStatus(*current, command, config, sink);
      break;
    case v1::LeadCommand::kAssignLead:
      status = DecideAssign(*current, command, sink);
      break;
    case v1::LeadCommand::kMarkLeadJunk:
      status = DecideMarkJunk(*current, command, config, sink);
      break;
    case v1::LeadCommand::kRecordCommunication:
      status = DecideRecordCommunication(*current, command, sink);
      break;
    case v1::LeadCommand::kReopenLead:
      status = DecideReopen(*current, command, config, sink);
      break;
    case v1::LeadCommand::COMMAND_NOT_SET:
      status = InvalidField("command", "required");
      break;
  }
  if (!status.ok()) return status;
  return sink.Finish();
}

v1::Lead EvolveLead(v1::Lead lead, const v1::EventEnvelope& event) {
  switch (event.payload_case()) {
    case v1::EventEnvelope::kLeadCreated:
      lead = event.lead_created().lead();
      lead.set_lead_id(event.aggregate_id());
      lead.set_name(LeadResourceName(event.aggregate_id()));
      *lead.mutable_create_time() = event.occur_time();
      break;
    case v1::EventEnvelope::kLeadUpdated: {
      FieldMaskUtil::MergeOptions options;
      options.set_replace_repeated_fields(true);
      FieldMaskUtil::MergeMessageTo(event.lead_updated().lead(), event.lead_updated().update_mask(),
                                    options, &lead);
      lead.clear_identity_keys();
      for (auto& key : LeadIdentityKeys(lead)) lead.add_identity_keys(std::move(key));
      break;
    }
    case v1::EventEnvelope::kLeadStatusChanged:
      lead.set_status_id(event.lead_status_changed().to_status_id());
      lead.set_status_semantic(event.lead_status_changed().semantic());
      break;
    case v1::EventEnvelope::kLeadAssigned:
      lead.set_responsible_id(event.lead_assigned().to_responsible_id());
      break;
    case v1::EventEnvelope::kLeadMarkedJunk:
      lead.set_status_id(event.lead_marked_junk().to_status_id());
      lead.set_status_semantic(v1::STATUS_SEMANTIC_FAILURE);
      lead.set_junk_reason(event.lead_marked_junk().reason());
      lead.set_junk_text(event.lead_marked_junk().text());
      break;
    case v1::EventEnvelope::kLeadReopened:
      lead.set_status_id(event.lead_reopened().to_status_id());
      lead.set_status_semantic(v1::STATUS_SEMANTIC_IN_PROGRESS);
      lead.clear_junk_reason();
      lead.clear_junk_text();
      break;
    case v1::EventEnvelope::kCommunicationRecorded:
      lead.set_communication_count(lead.communication_count() + 1);
      *lead.mutable_last_communication_time() = event.occur_time();
      break;
    case v1::EventEnvelope::kResponsibleNotified:
    case v1::EventEnvelope::PAYLOAD_NOT_SET:
      break;
  }
  lead.set_version(event.aggregate_version());
  *lead.mutable_update_time() = event.occur_time();
  return lead;
}

}  // namespace leadflow::domain
