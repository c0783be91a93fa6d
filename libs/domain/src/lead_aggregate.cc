#include "leadflow/domain/lead_aggregate.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aggregates.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"
#include "leadflow/domain/pipelines.h"

namespace leadflow::domain {
namespace {

constexpr std::array<absl::string_view, 12> kUpdatableFields = {
    "title",  "first_name", "last_name", "second_name", "company_title",      "phones",
    "emails", "messengers", "comments",  "opportunity", "source_description", "custom_fields"};

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
  lead->clear_repeat();
  lead->clear_contact_id();
  lead->clear_company_id();
  lead->clear_deal_id();
  lead->clear_merged_lead_ids();
  lead->clear_merged_into_lead_id();
}

std::string JunkStatus(const DomainConfig& config) {
  return FirstStage(config.pipelines.lead(), v1::STATUS_SEMANTIC_FAILURE)->stage_id();
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
  if (IsTerminal(lead.status_semantic())) {
    return FieldError(absl::StatusCode::kFailedPrecondition, field,
                      absl::StrCat("lead ", lead.lead_id(), " is in terminal status ",
                                   lead.status_id(), " and cannot change"));
  }
  return absl::OkStatus();
}

// The request field that holds an identity key's kind of contact point.
std::string IdentityField(absl::string_view identity_key) {
  if (absl::StartsWith(identity_key, "phone:")) return "lead.phones";
  if (absl::StartsWith(identity_key, "email:")) return "lead.emails";
  return "lead.messengers";
}

// One person, one open lead: a second would split their history.
// Names `field`, or the request field of the key's kind of contact point.
absl::Status OpenLeadRefusal(const v1::PersonOpenLead& open, absl::string_view what_to_do,
                             absl::string_view field = "") {
  return FieldError(
      absl::StatusCode::kAlreadyExists,
      field.empty() ? IdentityField(open.identity_key()) : std::string(field),
      absl::StrCat("this person has an open lead already: ", LeadResourceName(open.lead_id()), " (",
                   open.identity_key(), "); ", what_to_do));
}

absl::Status DecideCreate(const v1::Command& command, const DomainConfig& config, EventSink& sink) {
  const auto& create = command.create_lead();
  if (create.has_open_lead()) {
    return OpenLeadRefusal(create.open_lead(), "record the contact on it, or close it first");
  }
  v1::Lead lead = create.lead();
  ClearOutputOnly(&lead);
  LEADFLOW_RETURN_IF_ERROR(NormalizeLead(&lead, "lead.", config));
  LEADFLOW_RETURN_IF_ERROR(CheckResponsible(lead.responsible_id(), "lead.responsible_id"));
  if (lead.title().empty()) lead.set_title(DefaultTitle(lead));
  lead.set_lead_id(command.aggregate_id());
  lead.set_name(LeadResourceName(command.aggregate_id()));
  const v1::PipelineStage& initial = config.pipelines.lead().stages(0);
  lead.set_status_id(initial.stage_id());
  lead.set_status_semantic(initial.semantic());
  for (auto& key : LeadIdentityKeys(lead)) lead.add_identity_keys(std::move(key));
  const bool has_origin = create.has_origin();
  if (has_origin) lead.set_origin_channel_event_id(create.origin().id());
  const bool repeat =
      !create.client().contact_id().empty() || !create.client().company_id().empty();
  if (repeat) {
    // The person is a client already: link the lead to them, and let their
    // responsible keep them.
    lead.set_repeat(true);
    lead.set_contact_id(create.client().contact_id());
    lead.set_company_id(create.client().company_id());
    if (lead.responsible_id().empty()) lead.set_responsible_id(create.client().responsible_id());
  }
  const std::string title = lead.title();
  const std::string lead_id = lead.lead_id();
  const std::string responsible = lead.responsible_id();
  *sink.Add().mutable_lead_created()->mutable_lead() = std::move(lead);
  if (has_origin) {
    auto* recorded = sink.Add().mutable_communication_recorded();
    *recorded->mutable_channel_event() = create.origin();
    recorded->set_repeat_request(false);
  }
  if (repeat) {
    // Both the client's responsible and the lead's own (the operator who
    // took the call, say) hear at once that a client is asking again.
    const std::string client = create.client().contact_id().empty()
                                   ? absl::StrCat("company ", create.client().company_id())
                                   : absl::StrCat("contact ", create.client().contact_id());
    const std::string reason =
        absl::StrCat("repeat lead ", lead_id, " (", title, "): ", client,
                     " is already a client (matched on ", create.client().matched_on(), ")");
    std::vector<std::string> told;
    if (!create.client().responsible_id().empty()) told.push_back(create.client().responsible_id());
    if (!responsible.empty() && responsible != create.client().responsible_id()) {
      told.push_back(responsible);
    }
    for (const std::string& user : told) {
      auto* notified = sink.Add().mutable_responsible_notified();
      notified->set_user_id(user);
      notified->set_reason(reason);
      notified->set_priority(true);
    }
  }
  return absl::OkStatus();
}

absl::Status DecideUpdate(const v1::Lead& current, const v1::Command& command,
                          const DomainConfig& config, EventSink& sink) {
  const auto& update = command.update_lead();
  for (int i = 0; i < update.update_mask().paths_size(); ++i) {
    if (!IsUpdatableLeadField(update.update_mask().paths(i))) {
      return InvalidField(absl::StrCat("update_mask.paths[", i, "]"),
                          absl::StrCat("'", update.update_mask().paths(i), "' cannot be updated"));
    }
  }
  if (update.update_mask().paths_size() == 0) {
    return InvalidField("update_mask", "required: name the fields to update");
  }
  LEADFLOW_RETURN_IF_ERROR(CheckOpen(current, "lead"));
  if (update.has_open_lead()) {
    return OpenLeadRefusal(update.open_lead(), "merge the two leads, or close that one first");
  }
  v1::Lead changes;
  MergeMasked(update.lead(), update.update_mask(), &changes);
  for (const auto& path : update.update_mask().paths()) {
    if (path == "title" && absl::StripAsciiWhitespace(changes.title()).empty()) {
      return InvalidField("lead.title", "cannot be empty");
    }
  }
  LEADFLOW_RETURN_IF_ERROR(NormalizeLead(&changes, "lead.", config));
  auto* updated = sink.Add().mutable_lead_updated();
  *updated->mutable_lead() = std::move(changes);
  *updated->mutable_update_mask() = update.update_mask();
  return absl::OkStatus();
}

absl::Status DecideChangeStatus(const v1::Lead& current, const v1::Command& command,
                                const DomainConfig& config, EventSink& sink) {
  const std::string& to = command.change_lead_status().status_id();
  if (to.empty()) return InvalidField("status_id", "required");
  const v1::PipelineStage* target = FindStage(config.pipelines.lead(), to);
  if (target == nullptr) {
    return InvalidField("status_id", absl::StrCat("unknown status '", to, "'"));
  }
  if (to == current.status_id()) return absl::OkStatus();
  if (command.change_lead_status().only_forward() &&
      !MovesForward(config.pipelines.lead(), current.status_id(), to)) {
    return absl::OkStatus();
  }
  LEADFLOW_RETURN_IF_ERROR(CheckOpen(current, "status_id"));
  if (target->semantic() == v1::STATUS_SEMANTIC_FAILURE) {
    return FieldError(
        absl::StatusCode::kFailedPrecondition, "status_id",
        absl::StrCat("'", to, "' is a failure status: use MarkLeadJunk with a reason"));
  }
  if (target->semantic() == v1::STATUS_SEMANTIC_SUCCESS) {
    return FieldError(
        absl::StatusCode::kFailedPrecondition, "status_id",
        absl::StrCat("'", to, "' is a success status: a lead gets there by ConvertLead"));
  }
  LEADFLOW_RETURN_IF_ERROR(
      CheckRequiredFields(current, target->required_fields(), absl::StrCat("status ", to)));
  LEADFLOW_RETURN_IF_ERROR(CheckRequiredActivities(
      *target, command.change_lead_status().item_activities(), absl::StrCat("status ", to)));
  auto* changed = sink.Add().mutable_lead_status_changed();
  changed->set_from_status_id(current.status_id());
  changed->set_to_status_id(to);
  changed->set_semantic(target->semantic());
  return absl::OkStatus();
}

absl::Status DecideAssign(const v1::Lead& current, const v1::Command& command, EventSink& sink) {
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

absl::Status DecideMarkJunk(const v1::Lead& current, const v1::Command& command,
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
  marked->set_to_status_id(JunkStatus(config));
  marked->set_reason(junk.reason());
  marked->set_text(junk.text());
  return absl::OkStatus();
}

absl::Status DecideReopen(const v1::Lead& current, const v1::Command& command,
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
  const v1::Pipeline& pipeline = config.pipelines.lead();
  const v1::PipelineStage* target =
      reopen.status_id().empty() ? &pipeline.stages(0) : FindStage(pipeline, reopen.status_id());
  if (target == nullptr) {
    return InvalidField("status_id", absl::StrCat("unknown status '", reopen.status_id(), "'"));
  }
  if (target->semantic() != v1::STATUS_SEMANTIC_IN_PROGRESS) {
    return InvalidField("status_id",
                        absl::StrCat("'", target->stage_id(), "' is not an in-progress status"));
  }
  if (!current.merged_into_lead_id().empty()) {
    return FieldError(absl::StatusCode::kFailedPrecondition, "name",
                      absl::StrCat("lead ", current.lead_id(), " was merged into ",
                                   current.merged_into_lead_id()));
  }
  if (current.status_semantic() != v1::STATUS_SEMANTIC_FAILURE) {
    return FieldError(absl::StatusCode::kFailedPrecondition, "name",
                      absl::StrCat("lead ", current.lead_id(), " is not junk"));
  }
  if (reopen.has_open_lead()) {
    return OpenLeadRefusal(reopen.open_lead(), "merge the two leads, or close that one first",
                           "name");
  }
  LEADFLOW_RETURN_IF_ERROR(CheckRequiredFields(current, target->required_fields(),
                                               absl::StrCat("status ", target->stage_id())));
  auto* reopened = sink.Add().mutable_lead_reopened();
  reopened->set_from_status_id(current.status_id());
  reopened->set_to_status_id(target->stage_id());
  reopened->set_previous_reason(current.junk_reason());
  reopened->set_reason(reopen.reason());
  return absl::OkStatus();
}

absl::Status DecideRecordCommunication(const v1::Lead& current, const v1::Command& command,
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

absl::Status DecideConvert(const v1::Lead& current, const v1::Command& command,
                           const DomainConfig& config, EventSink& sink) {
  const auto& convert = command.convert_lead();
  LEADFLOW_RETURN_IF_ERROR(CheckOpen(current, "name"));
  const v1::Pipeline& lead_pipeline = config.pipelines.lead();
  LEADFLOW_RETURN_IF_ERROR(
      CheckRequiredFields(current, lead_pipeline.conversion_required_fields(), "conversion"));
  const std::string pipeline_id = convert.deal_pipeline_id().empty()
                                      ? std::string(kDefaultDealPipelineId)
                                      : convert.deal_pipeline_id();
  const v1::Pipeline* deal_pipeline = config.pipelines.FindDeal(pipeline_id);
  if (deal_pipeline == nullptr || deal_pipeline->removed()) {
    return InvalidField("conversion.deal_pipeline_id",
                        absl::StrCat("no deal pipeline '", pipeline_id, "'"));
  }
  LEADFLOW_RETURN_IF_ERROR(CheckResponsible(convert.responsible_id(), "conversion.responsible_id"));
  std::string contact_id = convert.contact_id();
  std::string company_id = convert.company_id();
  if (contact_id.empty() && company_id.empty() && !convert.create_company()) {
    // A repeat lead converts for the client it matched.
    contact_id = current.contact_id();
    company_id = current.company_id();
  }
  if (!contact_id.empty()) {
    LEADFLOW_RETURN_IF_ERROR(CheckAggregateId(contact_id, "conversion.contact_id"));
  }
  if (!company_id.empty()) {
    LEADFLOW_RETURN_IF_ERROR(CheckAggregateId(company_id, "conversion.company_id"));
  }
  const bool known_client = !contact_id.empty() || !company_id.empty();
  if (known_client && convert.create_company()) {
    return InvalidField("conversion.create_company",
                        "a known client (contact_id / company_id) gets a deal only");
  }
  if (convert.create_company() && absl::StripAsciiWhitespace(current.company_title()).empty()) {
    return FieldError(absl::StatusCode::kFailedPrecondition, "company_title",
                      "required to create a company: the lead has no company title");
  }
  if (!known_client && absl::StripAsciiWhitespace(LeadFullName(current)).empty() &&
      current.phones_size() == 0 && current.emails_size() == 0 && current.messengers_size() == 0) {
    return FieldErrors(absl::StatusCode::kFailedPrecondition,
                       {"first_name", "phones", "emails", "messengers"},
                       "a new contact needs a name, a phone, an email or a messenger handle: "
                       "fill one");
  }
  auto* converted = sink.Add().mutable_lead_converted();
  converted->set_from_status_id(current.status_id());
  converted->set_to_status_id(FirstStage(lead_pipeline, v1::STATUS_SEMANTIC_SUCCESS)->stage_id());
  if (!known_client) {
    contact_id = absl::StrCat(current.lead_id(), "-contact");
    converted->set_creates_contact(true);
    if (convert.create_company()) {
      company_id = absl::StrCat(current.lead_id(), "-company");
      converted->set_creates_company(true);
    }
  }
  converted->set_contact_id(contact_id);
  converted->set_company_id(company_id);
  converted->set_deal_id(absl::StrCat(current.lead_id(), "-deal"));
  converted->set_deal_pipeline_id(pipeline_id);
  converted->set_deal_stage_id(deal_pipeline->stages(0).stage_id());
  // The deal needs a title: the one asked for, else the lead's.
  std::string deal_title = convert.deal_title();
  if (absl::StripAsciiWhitespace(deal_title).empty()) deal_title = current.title();
  if (absl::StripAsciiWhitespace(deal_title).empty()) deal_title = DefaultTitle(current);
  converted->set_deal_title(deal_title);
  converted->set_responsible_id(convert.responsible_id().empty() ? current.responsible_id()
                                                                 : convert.responsible_id());
  *converted->mutable_lead() = current;
  return absl::OkStatus();
}

absl::Status DecideMergeInto(const v1::Lead& current, const v1::Command& command,
                             const DomainConfig& config, EventSink& sink) {
  const std::string& target = command.merge_lead_into().target_lead_id();
  LEADFLOW_RETURN_IF_ERROR(CheckLeadId(target, "merged"));
  if (target == current.lead_id())
    return InvalidField("merged", "a lead is not merged into itself");
  if (current.merged_into_lead_id() == target) return absl::OkStatus();
  if (!current.merged_into_lead_id().empty()) {
    return FieldError(absl::StatusCode::kFailedPrecondition, "merged",
                      absl::StrCat("lead ", current.lead_id(), " was merged into ",
                                   current.merged_into_lead_id(), " already"));
  }
  if (current.status_semantic() == v1::STATUS_SEMANTIC_SUCCESS) {
    return FieldError(
        absl::StatusCode::kFailedPrecondition, "merged",
        absl::StrCat("lead ", current.lead_id(), " is converted: its records stay linked to it"));
  }
  auto* merged = sink.Add().mutable_lead_merged_into();
  merged->set_target_lead_id(target);
  merged->set_from_status_id(current.status_id());
  merged->set_to_status_id(JunkStatus(config));
  *merged->mutable_lead() = current;
  return absl::OkStatus();
}

absl::Status DecideAbsorb(const v1::Lead& current, const v1::Command& command, EventSink& sink) {
  const v1::Lead& source = command.absorb_lead().source();
  LEADFLOW_RETURN_IF_ERROR(CheckLeadId(source.lead_id(), "absorb_lead.source.lead_id"));
  if (source.lead_id() == current.lead_id()) {
    return InvalidField("absorb_lead.source.lead_id", "a lead does not absorb itself");
  }
  const auto& merged = current.merged_lead_ids();
  if (std::find(merged.begin(), merged.end(), source.lead_id()) != merged.end()) {
    return absl::OkStatus();
  }
  if (current.merged_into_lead_id() == source.lead_id()) {
    // Two leads merged into each other at once: both are closed, each
    // keeps its own data; a supervisor decides.
    return FieldError(absl::StatusCode::kFailedPrecondition, "absorb_lead.source.lead_id",
                      absl::StrCat("lead ", current.lead_id(), " was merged into ",
                                   source.lead_id(), ", which was merged into it"));
  }
  auto* absorbed = sink.Add().mutable_lead_absorbed();
  absorbed->set_source_lead_id(source.lead_id());
  *absorbed->mutable_source() = source;
  absorbed->set_forward_to_lead_id(current.merged_into_lead_id());
  return absl::OkStatus();
}

// Fills what `lead` lacks from the merged lead `source`.
void Absorb(v1::Lead& lead, const v1::Lead& source) {
  auto fill = [](std::string* mine, const std::string& theirs) {
    if (mine->empty()) *mine = theirs;
  };
  fill(lead.mutable_first_name(), source.first_name());
  fill(lead.mutable_last_name(), source.last_name());
  fill(lead.mutable_second_name(), source.second_name());
  fill(lead.mutable_company_title(), source.company_title());
  fill(lead.mutable_comments(), source.comments());
  for (const auto& phone : source.phones()) {
    const auto& have = lead.phones();
    if (std::none_of(have.begin(), have.end(),
                     [&](const auto& p) { return p.number() == phone.number(); })) {
      *lead.add_phones() = phone;
    }
  }
  for (const auto& email : source.emails()) {
    const auto& have = lead.emails();
    if (std::none_of(have.begin(), have.end(),
                     [&](const auto& e) { return e.address() == email.address(); })) {
      *lead.add_emails() = email;
    }
  }
  for (const auto& messenger : source.messengers()) {
    const auto& have = lead.messengers();
    if (std::none_of(have.begin(), have.end(), [&](const auto& m) {
          return m.channel() == messenger.channel() && m.handle() == messenger.handle();
        })) {
      *lead.add_messengers() = messenger;
    }
  }
  for (const auto& [key, value] : source.custom_fields())
    lead.mutable_custom_fields()->insert({key, value});
  lead.set_communication_count(lead.communication_count() + source.communication_count());
  if (source.last_communication_time().seconds() > lead.last_communication_time().seconds()) {
    *lead.mutable_last_communication_time() = source.last_communication_time();
  }
  lead.add_merged_lead_ids(source.lead_id());
  // Chains: what was merged into the source is shown here too.
  for (const auto& id : source.merged_lead_ids()) lead.add_merged_lead_ids(id);
  lead.clear_identity_keys();
  for (auto& key : LeadIdentityKeys(lead)) lead.add_identity_keys(std::move(key));
}

}  // namespace

absl::Status NormalizeLead(v1::Lead* lead, absl::string_view prefix, const DomainConfig& config) {
  LEADFLOW_RETURN_IF_ERROR(NormalizeContactPoints(lead->mutable_phones(), lead->mutable_emails(),
                                                  lead->messengers(), prefix, config));
  if (lead->has_opportunity()) {
    LEADFLOW_RETURN_IF_ERROR(CheckMoney(lead->opportunity(), absl::StrCat(prefix, "opportunity")));
  }
  return absl::OkStatus();
}

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

absl::Status DecideLeadCommand(const v1::Lead* current, const v1::Command& command,
                               const DomainConfig& config, EventSink& sink) {
  switch (command.command_case()) {
    case v1::Command::kCreateLead:
      return DecideCreate(command, config, sink);
    case v1::Command::kUpdateLead:
      return DecideUpdate(*current, command, config, sink);
    case v1::Command::kChangeLeadStatus:
      return DecideChangeStatus(*current, command, config, sink);
    case v1::Command::kAssignLead:
      return DecideAssign(*current, command, sink);
    case v1::Command::kMarkLeadJunk:
      return DecideMarkJunk(*current, command, config, sink);
    case v1::Command::kRecordCommunication:
      return DecideRecordCommunication(*current, command, sink);
    case v1::Command::kReopenLead:
      return DecideReopen(*current, command, config, sink);
    case v1::Command::kConvertLead:
      return DecideConvert(*current, command, config, sink);
    case v1::Command::kMergeLeadInto:
      return DecideMergeInto(*current, command, config, sink);
    case v1::Command::kAbsorbLead:
      return DecideAbsorb(*current, command, sink);
    case v1::Command::kNotifyAboutLead:
      return DecideNotify(current->responsible_id(), command.notify_about_lead(), sink);
    case v1::Command::kSendLeadMessage:
      // A robot's message to a lead closed meanwhile (junk: maybe a wrong
      // number) is not sent.
      if (command.has_robot() && IsTerminal(current->status_semantic())) return absl::OkStatus();
      return DecideSendMessage(current->phones(), current->emails(), command.send_lead_message(),
                               sink);
    default:
      return InvalidField("command", "not a lead command");
  }
}

absl::StatusOr<std::vector<v1::EventEnvelope>> DecideLead(const v1::Lead* current,
                                                          const v1::Command& command,
                                                          const DomainConfig& config) {
  v1::AggregateState state;
  if (current != nullptr) *state.mutable_lead() = *current;
  return Decide(current == nullptr ? nullptr : &state, command, config);
}

v1::Lead EvolveLead(v1::Lead lead, const v1::EventEnvelope& event) {
  EvolveLeadState(lead, event);
  return lead;
}

void EvolveLeadState(v1::Lead& lead, const v1::EventEnvelope& event) {
  switch (event.payload_case()) {
    case v1::EventEnvelope::kLeadCreated:
      lead = event.lead_created().lead();
      lead.set_lead_id(event.aggregate_id());
      lead.set_name(LeadResourceName(event.aggregate_id()));
      *lead.mutable_create_time() = event.occur_time();
      break;
    case v1::EventEnvelope::kLeadUpdated: {
      MergeMasked(event.lead_updated().lead(), event.lead_updated().update_mask(), &lead);
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
    case v1::EventEnvelope::kLeadConverted: {
      const auto& converted = event.lead_converted();
      lead.set_status_id(converted.to_status_id());
      lead.set_status_semantic(v1::STATUS_SEMANTIC_SUCCESS);
      lead.set_contact_id(converted.contact_id());
      lead.set_company_id(converted.company_id());
      lead.set_deal_id(converted.deal_id());
      break;
    }
    case v1::EventEnvelope::kLeadMergedInto:
      lead.set_status_id(event.lead_merged_into().to_status_id());
      lead.set_status_semantic(v1::STATUS_SEMANTIC_FAILURE);
      lead.set_junk_reason(v1::JUNK_REASON_DUPLICATE);
      lead.set_junk_text(absl::StrCat("merged into ", event.lead_merged_into().target_lead_id()));
      lead.set_merged_into_lead_id(event.lead_merged_into().target_lead_id());
      break;
    case v1::EventEnvelope::kLeadAbsorbed:
      Absorb(lead, event.lead_absorbed().source());
      break;
    default:
      break;
  }
  lead.set_version(event.aggregate_version());
  *lead.mutable_update_time() = event.occur_time();
}

}  // namespace leadflow::domain
