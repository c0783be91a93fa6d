#include "leadflow/api/lead_service.h"

#include <algorithm>
#include <map>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "leadflow/api/status_mapping.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/contact_points.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"
#include "leadflow/domain/lead_aggregate.h"
#include "leadflow/processors/lead_command_processor.h"

namespace leadflow::api {
namespace {

absl::StatusOr<std::string> LeadIdFromName(absl::string_view name, absl::string_view field) {
  if (!absl::ConsumePrefix(&name, "leads/")) {
    return domain::InvalidField(field,
                                absl::StrCat("'", name, "' is not a lead name (leads/{id})"));
  }
  LEADFLOW_RETURN_IF_ERROR(domain::CheckLeadId(name, field));
  return std::string(name);
}

std::string RandomToken() {
  thread_local absl::BitGen gen;
  return absl::StrCat(absl::Uniform<uint64_t>(gen), "-", absl::Uniform<uint64_t>(gen));
}

// A command id: from the client's request id when given (retries are then
// idempotent), otherwise fresh.
std::string CommandId(absl::string_view lead_id, absl::string_view request_id) {
  if (!request_id.empty()) return absl::StrCat("req:", lead_id, ":", request_id);
  return DeriveId("cmd", RandomToken());
}

// gRPC deadlines are wall-clock time, so this reads the real clock, not the
// injected one.
absl::Time CallDeadline(const grpc::ServerContext* ctx, absl::Duration cap) {
  const absl::Time capped = absl::Now() + cap;
  const absl::Time deadline = absl::FromChrono(ctx->deadline());
  return std::min(capped, deadline);
}

absl::Status CheckRequestId(absl::string_view request_id) {
  if (request_id.size() > 200)
    return domain::InvalidField("request_id", "longer than 200 characters");
  return absl::OkStatus();
}

// The command skeleton of a change to an existing lead: every change request
// has a lead name, request_id, actor and optional expected_version.
template <typename Request>
absl::StatusOr<v1::LeadCommand> CommandFor(const Request& request, absl::string_view name,
                                           absl::string_view name_field) {
  LEADFLOW_ASSIGN_OR_RETURN(std::string lead_id, LeadIdFromName(name, name_field));
  LEADFLOW_RETURN_IF_ERROR(CheckRequestId(request.request_id()));
  v1::LeadCommand command;
  command.set_command_id(CommandId(lead_id, request.request_id()));
  command.set_lead_id(lead_id);
  command.set_actor(request.actor());
  if (request.has_expected_version()) command.set_expected_version(request.expected_version());
  return command;
}

}  // namespace

absl::Status LeadServiceImpl::AwaitPosition(grpc::ServerContext* ctx,
                                            const v1::LogPosition& position, bool has_position) {
  if (!has_position) return absl::OkStatus();
  if (!position.topic().empty() && position.topic() != log::kEventsTopic) {
    return domain::InvalidField("min_position.topic",
                                absl::StrCat("reads follow ", log::kEventsTopic));
  }
  if (position.partition() < 0 ||
      position.partition() >= context_->log->PartitionCount(log::kEventsTopic)) {
    return domain::InvalidField("min_position.partition", "no such partition");
  }
  const absl::Time deadline = CallDeadline(ctx, context_->command_timeout);
  if (!context_->projection->WaitForApplied(position.partition(), position.offset(), deadline)) {
    return absl::DeadlineExceededError(absl::StrCat("min_position: the read model has not reached ",
                                                    position.partition(), "@", position.offset(),
                                                    " yet"));
  }
  return absl::OkStatus();
}

grpc::Status LeadServiceImpl::Submit(grpc::ServerContext* ctx, v1::LeadCommand command,
                                     v1::LeadCommandResponse* response) {
  *command.mutable_issue_time() = ToTimestamp(context_->clock->Now());
  if (command.actor().empty()) command.set_actor("api");
  const std::string command_id = command.command_id();
  auto ticket = context_->outcomes->Register(command_id);
  log::OutgoingRecord record;
  record.topic = std::string(log::kCommandsTopic);
  record.key = command.lead_id();
  record.headers = log::CloudEventHeaders(command_id, "leadflow.v1.LeadCommand", "leadflow/api",
                                          context_->clock->Now());
  record.value = SerializeDeterministic(command);
  std::vector<log::OutgoingRecord> records;
  records.push_back(std::move(record));
  auto appended = context_->log->Append(std::move(records));
  if (!appended.ok()) {
    context_->outcomes->Forget(command_id);
    return ToGrpcStatus(appended.status());
  }
  std::optional<v1::CommandOutcome> outcome =
      ticket->Wait(CallDeadline(ctx, context_->command_timeout));
  context_->outcomes->Forget(command_id);
  if (!outcome.has_value()) {
    // It may have been applied just as we stopped waiting.
    auto stored = context_->db->Get(context_->db->state_family(),
                                    processors::LeadCommandProcessor::OutcomeKey(command_id));
    if (stored.ok() && stored->has_value()) {
      outcome.emplace();
      if (!outcome->ParseFromString(**stored)) outcome.reset();
    }
  }
  if (!outcome.has_value()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("command ", command_id, " is on the log at ",
                                     appended->front().partition, "@", appended->front().offset,
                                     " but was not applied in time; retry with the same "
                                     "request_id to get its outcome"));
  }
  if (outcome->code() != 0) {
    const auto code = static_cast<absl::StatusCode>(outcome->code());
    if (!outcome->field().empty()) {
      std::string description = outcome->message();
      const std::string head = absl::StrCat(outcome->field(), ": ");
      if (absl::StartsWith(description, head)) description = description.substr(head.size());
      return ToGrpcStatus(domain::FieldError(code, outcome->field(), description));
    }
    return ToGrpcStatus(absl::Status(code, outcome->message()));
  }
  *response->mutable_lead() = outcome->lead();
  if (outcome->has_position()) *response->mutable_position() = outcome->position();
  response->mutable_event_ids()->CopyFrom(outcome->event_ids());
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::CreateLead(grpc::ServerContext* ctx,
                                         const v1::CreateLeadRequest* request,
                                         v1::LeadCommandResponse* response) {
  if (auto s = CheckRequestId(request->request_id()); !s.ok()) return ToGrpcStatus(s);
  std::string lead_id = request->lead_id();
  if (!lead_id.empty()) {
    if (auto s = domain::CheckLeadId(lead_id, "lead_id"); !s.ok()) return ToGrpcStatus(s);
  } else {
    lead_id =
        DeriveId("ld", request->request_id().empty() ? RandomToken()
                                                     : absl::StrCat("req:", request->request_id()));
  }
  v1::LeadCommand command;
  command.set_command_id(CommandId(lead_id, request->request_id()));
  command.set_lead_id(lead_id);
  command.set_actor(request->actor());
  *command.mutable_create_lead()->mutable_lead() = request->lead();
  return Submit(ctx, std::move(command), response);
}

grpc::Status LeadServiceImpl::GetLead(grpc::ServerContext* ctx, const v1::GetLeadRequest* request,
                                      v1::Lead* response) {
  auto lead_id = LeadIdFromName(request->name(), "name");
  if (!lead_id.ok()) return ToGrpcStatus(lead_id.status());
  if (auto s = AwaitPosition(ctx, request->min_position(), request->has_min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  auto lead = context_->leads->Get(*lead_id);
  if (!lead.ok()) return ToGrpcStatus(lead.status());
  if (!lead->has_value()) {
    return ToGrpcStatus(domain::FieldError(absl::StatusCode::kNotFound, "name",
                                           absl::StrCat("lead ", *lead_id, " does not exist")));
  }
  *response = **std::move(lead);
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::ListLeads(grpc::ServerContext* ctx,
                                        const v1::ListLeadsRequest* request,
                                        v1::ListLeadsResponse* response) {
  if (request->page_size() < 0) {
    return ToGrpcStatus(domain::InvalidField("page_size", "negative"));
  }
  if (!request->status_id().empty() &&
      context_->config.pipeline.Find(request->status_id()) == nullptr) {
    return ToGrpcStatus(domain::InvalidField(
        "status_id", absl::StrCat("unknown status '", request->status_id(), "'")));
  }
  if (auto s = AwaitPosition(ctx, request->min_position(), request->has_min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  processors::LeadReadModel::Query query;
  query.status_id = request->status_id();
  query.responsible_id = request->responsible_id();
  query.source = request->source();
  query.page_size = request->page_size();
  query.page_token = request->page_token();
  auto page = context_->leads->List(query);
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (auto& lead : page->leads) *response->add_leads() = std::move(lead);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

namespace {

// What each criterion of a duplicate search looks up.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> DuplicateCriteria(
    const v1::FindDuplicateLeadsRequest& request, const domain::DomainConfig& config) {
  std::vector<std::pair<std::string, std::string>> criteria;  // (matched_on, index key)
  if (!request.phone().empty()) {
    LEADFLOW_ASSIGN_OR_RETURN(
        std::string phone, domain::NormalizePhone(request.phone(), config.default_region, "phone"));
    criteria.emplace_back("phone", domain::PhoneIdentityKey(phone));
  }
  if (!request.email().empty()) {
    LEADFLOW_ASSIGN_OR_RETURN(std::string email, domain::NormalizeEmail(request.email(), "email"));
    criteria.emplace_back("email", domain::EmailIdentityKey(email));
  }
  if (request.name().empty() != request.company_title().empty()) {
    return domain::InvalidField(request.name().empty() ? "name" : "company_title",
                                "name and company_title go together");
  }
  if (!request.name().empty()) {
    std::string key = domain::NameCompanyKey(request.name(), request.company_title());
    if (key.empty()) return domain::InvalidField("name", "has no words");
    criteria.emplace_back("name+company", std::move(key));
  }
  if (criteria.empty()) {
    return domain::InvalidField("phone", "give a phone, an email, or a name with company_title");
  }
  return criteria;
}

}  // namespace

grpc::Status LeadServiceImpl::FindDuplicateLeads(grpc::ServerContext* ctx,
                                                 const v1::FindDuplicateLeadsRequest* request,
                                                 v1::FindDuplicateLeadsResponse* response) {
  auto criteria = DuplicateCriteria(*request, context_->config);
  if (!criteria.ok()) return ToGrpcStatus(criteria.status());
  std::map<std::string, std::vector<std::string>> matches;  // lead id → criteria matched
  for (const auto& [matched_on, key] : *criteria) {
    auto ids = matched_on == "name+company" ? context_->leads->FindByNameCompany(key)
                                            : context_->leads->FindByIdentity(key);
    if (!ids.ok()) return ToGrpcStatus(ids.status());
    for (const auto& id : *ids) matches[id].push_back(matched_on);
  }
  for (auto& [lead_id, matched_on] : matches) {
    auto lead = context_->leads->Get(lead_id);
    if (!lead.ok()) return ToGrpcStatus(lead.status());
    if (!lead->has_value()) continue;
    auto* duplicate = response->add_duplicates();
    *duplicate->mutable_lead() = **std::move(lead);
    for (auto& m : matched_on) duplicate->add_matched_on(std::move(m));
  }
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::ListLeadTimeline(grpc::ServerContext* ctx,
                                               const v1::ListLeadTimelineRequest* request,
                                               v1::ListLeadTimelineResponse* response) {
  auto lead_id = LeadIdFromName(request->name(), "name");
  if (!lead_id.ok()) return ToGrpcStatus(lead_id.status());
  if (auto s = AwaitPosition(ctx, request->min_position(), request->has_min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  auto page =
      context_->timeline->List("lead", *lead_id, request->page_size(), request->page_token());
  if (!page.ok()) return ToGrpcStatus(page.status());
  if (page->events.empty() && request->page_token().empty()) {
    return ToGrpcStatus(domain::FieldError(absl::StatusCode::kNotFound, "name",
                                           absl::StrCat("lead ", *lead_id, " does not exist")));
  }
  for (auto& event : page->events) *response->add_events() = std::move(event);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::UpdateLead(grpc::ServerContext* ctx,
                                         const v1::UpdateLeadRequest* request,
                                         v1::LeadCommandResponse* response) {
  auto command = CommandFor(*request, request->lead().name(), "lead.name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  *command->mutable_update_lead()->mutable_lead() = request->lead();
  *command->mutable_update_lead()->mutable_update_mask() = request->update_mask();
  return Submit(ctx, *std::move(command), response);
}

grpc::Status LeadServiceImpl::ChangeLeadStatus(grpc::ServerContext* ctx,
                                               const v1::ChangeLeadStatusRequest* request,
                                               v1::LeadCommandResponse* response) {
  auto command = CommandFor(*request, request->name(), "name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  command->mutable_change_lead_status()->set_status_id(request->status_id());
  return Submit(ctx, *std::move(command), response);
}

grpc::Status LeadServiceImpl::AssignLead(grpc::ServerContext* ctx,
                                         const v1::AssignLeadRequest* request,
                                         v1::LeadCommandResponse* response) {
  auto command = CommandFor(*request, request->name(), "name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  command->mutable_assign_lead()->set_responsible_id(request->responsible_id());
  return Submit(ctx, *std::move(command), response);
}

grpc::Status LeadServiceImpl::MarkLeadJunk(grpc::ServerContext* ctx,
                                           const v1::MarkLeadJunkRequest* request,
                                           v1::LeadCommandResponse* response) {
  auto command = CommandFor(*request, request->name(), "name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  command->mutable_mark_lead_junk()->set_reason(request->reason());
  command->mutable_mark_lead_junk()->set_text(request->text());
  return Submit(ctx, *std::move(command), response);
}

grpc::Status LeadServiceImpl::ReopenLead(grpc::ServerContext* ctx,
                                         const v1::ReopenLeadRequest* request,
                                         v1::LeadCommandResponse* response) {
  auto command = CommandFor(*request, request->name(), "name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  command->mutable_reopen_lead()->set_status_id(request->status_id());
  command->mutable_reopen_lead()->set_reason(request->reason());
  return Submit(ctx, *std::move(command), response);
}

}  // namespace leadflow::api
