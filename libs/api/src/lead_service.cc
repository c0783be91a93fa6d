#include "leadflow/api/lead_service.h"

#include <algorithm>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "duplicate_criteria.h"
#include "leadflow/api/status_mapping.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/contact_points.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"
#include "leadflow/domain/lead_aggregate.h"
#include "leadflow/domain/list_filter.h"
#include "leadflow/domain/pipelines.h"

namespace leadflow::api {
namespace {

absl::StatusOr<std::string> LeadIdFromName(absl::string_view name, absl::string_view field) {
  return CommandGateway::IdFromName(name, "lead", field);
}

template <typename Request>
absl::StatusOr<v1::Command> CommandFor(const Request& request, absl::string_view name,
                                       absl::string_view field) {
  return CommandGateway::ChangeCommand(request, name, "lead", field);
}

grpc::Status Respond(const absl::StatusOr<v1::CommandOutcome>& outcome,
                     const CommandGateway& gateway, v1::LeadCommandResponse* response) {
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  *response->mutable_lead() = outcome->state().lead();
  if (outcome->has_position()) *response->mutable_position() = outcome->position();
  response->set_consistency_token(gateway.TokenFor(*outcome));
  response->mutable_event_ids()->CopyFrom(outcome->event_ids());
  return grpc::Status::OK;
}

}  // namespace

grpc::Status LeadServiceImpl::CreateLead(grpc::ServerContext* ctx,
                                         const v1::CreateLeadRequest* request,
                                         v1::LeadCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (auto s = CommandGateway::CheckRequestId(request->request_id()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  std::string lead_id = request->lead_id();
  if (!lead_id.empty()) {
    if (auto s = domain::CheckLeadId(lead_id, "lead_id"); !s.ok()) return ToGrpcStatus(s);
    // Refused here already when it is known (a retry with a request_id is
    // answered with its first outcome instead): the person's resolver,
    // which on Kafka claims identities before the lead's own writer
    // decides, must not claim them for someone else's lead.
    auto existing = context_->leads->Get(lead_id);
    if (!existing.ok()) return ToGrpcStatus(existing.status());
    if (existing->has_value() && request->request_id().empty()) {
      return ToGrpcStatus(domain::FieldError(absl::StatusCode::kAlreadyExists, "lead_id",
                                             absl::StrCat("lead ", lead_id, " already exists")));
    }
  } else {
    lead_id = CommandGateway::NewId("ld", request->request_id());
  }
  v1::Command command;
  command.set_command_id(CommandGateway::CommandId(lead_id, request->request_id()));
  command.set_aggregate_id(lead_id);
  command.set_actor(request->actor());
  *command.mutable_create_lead()->mutable_lead() = request->lead();
  // A person who is a client already makes a repeat lead.
  v1::Lead normalized = request->lead();
  if (auto s = domain::NormalizeLead(&normalized, "lead.", context_->config); !s.ok()) {
    return ToGrpcStatus(s);
  }
  auto client = context_->items->FindClient(normalized);
  if (!client.ok()) return ToGrpcStatus(client.status());
  if (!client->matched_on().empty()) *command.mutable_create_lead()->mutable_client() = *client;
  return Respond(gateway_.Submit(ctx, *caller, std::move(command)), gateway_, response);
}

grpc::Status LeadServiceImpl::GetLead(grpc::ServerContext* ctx, const v1::GetLeadRequest* request,
                                      v1::Lead* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto lead_id = LeadIdFromName(request->name(), "name");
  if (!lead_id.ok()) return ToGrpcStatus(lead_id.status());
  if (auto s = gateway_.AwaitPosition(ctx, request->min_position(), request->has_min_position(),
                                      request->consistency_token());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  auto lead = context_->leads->Get(*lead_id);
  if (!lead.ok()) return ToGrpcStatus(lead.status());
  if (!lead->has_value()) {
    return ToGrpcStatus(domain::FieldError(absl::StatusCode::kNotFound, "name",
                                           absl::StrCat("lead ", *lead_id, " does not exist")));
  }
  auto access = gateway_.AccessOf(*caller);
  if (!access.ok()) return ToGrpcStatus(access.status());
  if (auto s = access->Check(**lead); !s.ok()) return ToGrpcStatus(s);
  *response = **std::move(lead);
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::ListLeads(grpc::ServerContext* ctx,
                                        const v1::ListLeadsRequest* request,
                                        v1::ListLeadsResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->page_size() < 0) {
    return ToGrpcStatus(domain::InvalidField("page_size", "negative"));
  }
  if (!request->status_id().empty()) {
    auto pipelines = gateway_.Pipelines();
    if (!pipelines.ok()) return ToGrpcStatus(pipelines.status());
    if (domain::FindStage(pipelines->lead(), request->status_id()) == nullptr) {
      return ToGrpcStatus(domain::InvalidField(
          "status_id", absl::StrCat("unknown status '", request->status_id(), "'")));
    }
  }
  if (auto s = gateway_.AwaitPosition(ctx, request->min_position(), request->has_min_position(),
                                      request->consistency_token());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (auto s = domain::CheckListFilter(request->filter(), "lead"); !s.ok()) {
    return ToGrpcStatus(s);
  }
  processors::LeadReadModel::Query query;
  query.status_id = request->status_id();
  query.responsible_id = request->responsible_id();
  query.source = request->source();
  query.page_size = request->page_size();
  query.page_token = request->page_token();
  auto access = gateway_.AccessOf(*caller);
  if (!access.ok()) return ToGrpcStatus(access.status());
  const v1::ListFilter& filter = request->filter();
  const bool filtered = !domain::IsEmptyListFilter(filter);
  const int64_t now = absl::ToUnixSeconds(context_->clock->Now());
  absl::Status failed = absl::OkStatus();
  if (!access->Unrestricted() || filtered) {
    query.visible = [&](const v1::Lead& lead) {
      if (!access->Unrestricted() && !access->Visible(lead)) return false;
      return !filtered || domain::MatchesListFilter(filter, lead, [&] {
        auto overdue = context_->items->HasOverdueActivity(lead.name(), now);
        if (!overdue.ok()) failed = overdue.status();
        return overdue.ok() && *overdue;
      });
    };
  }
  auto page = context_->leads->List(query);
  if (!page.ok()) return ToGrpcStatus(page.status());
  if (!failed.ok()) return ToGrpcStatus(failed);
  for (auto& lead : page->leads) *response->add_leads() = std::move(lead);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::FindDuplicateLeads(grpc::ServerContext* ctx,
                                                 const v1::FindDuplicateLeadsRequest* request,
                                                 v1::FindDuplicateLeadsResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto criteria = DuplicateCriteria(*request, context_->config);  // see duplicate_criteria.h
  if (!criteria.ok()) return ToGrpcStatus(criteria.status());
  auto page = ParseDuplicatePage(*request, 1);
  if (!page.ok()) return ToGrpcStatus(page.status());
  if (auto s = gateway_.AwaitPosition(ctx, {}, false, request->consistency_token()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  auto access = gateway_.AccessOf(*caller);
  if (!access.ok()) return ToGrpcStatus(access.status());
  auto matches =
      DuplicateMatches(*criteria, LeadMatches(context_->leads), page->size, &page->after[0]);
  if (!matches.ok()) return ToGrpcStatus(matches.status());
  for (auto& [lead_id, matched_on] : *matches) {
    auto lead = context_->leads->Get(lead_id);
    if (!lead.ok()) return ToGrpcStatus(lead.status());
    if (!lead->has_value()) continue;
    auto* duplicate = response->add_duplicates();
    const bool visible = access->Visible(**lead);
    ShowDuplicate(**std::move(lead), visible, std::move(matched_on), duplicate->mutable_lead(),
                  duplicate);
  }
  response->set_next_page_token(DuplicatePageToken(page->after));
  return grpc::Status::OK;
}

grpc::Status LeadServiceImpl::ListLeadTimeline(grpc::ServerContext* ctx,
                                               const v1::ListLeadTimelineRequest* request,
                                               v1::ListLeadTimelineResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto lead_id = LeadIdFromName(request->name(), "name");
  if (!lead_id.ok()) return ToGrpcStatus(lead_id.status());
  if (auto s = gateway_.AwaitPosition(ctx, request->min_position(), request->has_min_position(),
                                      request->consistency_token());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  std::vector<std::string> ids = {*lead_id};
  auto lead = context_->leads->Get(*lead_id);
  if (!lead.ok()) return ToGrpcStatus(lead.status());
  auto access = gateway_.AccessOf(*caller);
  if (!access.ok()) return ToGrpcStatus(access.status());
  if (lead->has_value()) {
    if (auto s = access->Check(**lead); !s.ok()) return ToGrpcStatus(s);
    for (const auto& merged : (*lead)->merged_lead_ids()) ids.push_back(merged);
  } else if (!access->Unrestricted()) {
    // No lead to judge: a restricted caller reads no history of it.
    return ToGrpcStatus(absl::PermissionDeniedError(
        absl::StrCat("'", caller->name, "' may not read ", request->name())));
  }
  auto page =
      context_->timeline->ListCombined("lead", ids, request->page_size(), request->page_token());
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
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CommandFor(*request, request->lead().name(), "lead.name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  *command->mutable_update_lead()->mutable_lead() = request->lead();
  *command->mutable_update_lead()->mutable_update_mask() = request->update_mask();
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command), "lead.name"), gateway_,
                 response);
}

grpc::Status LeadServiceImpl::ChangeLeadStatus(grpc::ServerContext* ctx,
                                               const v1::ChangeLeadStatusRequest* request,
                                               v1::LeadCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CommandFor(*request, request->name(), "name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  command->mutable_change_lead_status()->set_status_id(request->status_id());
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command)), gateway_, response);
}

grpc::Status LeadServiceImpl::AssignLead(grpc::ServerContext* ctx,
                                         const v1::AssignLeadRequest* request,
                                         v1::LeadCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CommandFor(*request, request->name(), "name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  command->mutable_assign_lead()->set_responsible_id(request->responsible_id());
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command)), gateway_, response);
}

grpc::Status LeadServiceImpl::MarkLeadJunk(grpc::ServerContext* ctx,
                                           const v1::MarkLeadJunkRequest* request,
                                           v1::LeadCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CommandFor(*request, request->name(), "name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  command->mutable_mark_lead_junk()->set_reason(request->reason());
  command->mutable_mark_lead_junk()->set_text(request->text());
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command)), gateway_, response);
}

grpc::Status LeadServiceImpl::ReopenLead(grpc::ServerContext* ctx,
                                         const v1::ReopenLeadRequest* request,
                                         v1::LeadCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CommandFor(*request, request->name(), "name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  command->mutable_reopen_lead()->set_status_id(request->status_id());
  command->mutable_reopen_lead()->set_reason(request->reason());
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command)), gateway_, response);
}

grpc::Status LeadServiceImpl::ConvertLead(grpc::ServerContext* ctx,
                                          const v1::ConvertLeadRequest* request,
                                          v1::LeadCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CommandFor(*request, request->name(), "name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  *command->mutable_convert_lead() = request->conversion();
  auto outcome = gateway_.Submit(ctx, *caller, *std::move(command));
  if (outcome.ok()) {
    // The records follow from the LeadConverted event; wait (briefly, within
    // the call) until the deal, the last of them, is readable.
    const v1::Lead& lead = outcome->state().lead();
    const absl::Time deadline = CommandGateway::CallDeadline(ctx, context_->command_timeout);
    while (!lead.deal_id().empty() && absl::Now() < deadline) {
      auto deal = context_->items->Get("deal", lead.deal_id());
      if (!deal.ok() || deal->has_value()) break;
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  return Respond(outcome, gateway_, response);
}

grpc::Status LeadServiceImpl::MergeLeads(grpc::ServerContext* ctx,
                                         const v1::MergeLeadsRequest* request,
                                         v1::LeadCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto kept_id = LeadIdFromName(request->name(), "name");
  if (!kept_id.ok()) return ToGrpcStatus(kept_id.status());
  auto merged_id = LeadIdFromName(request->merged(), "merged");
  if (!merged_id.ok()) return ToGrpcStatus(merged_id.status());
  if (*kept_id == *merged_id) {
    return ToGrpcStatus(domain::InvalidField("merged", "a lead is not merged into itself"));
  }
  auto kept = context_->leads->Get(*kept_id);
  if (!kept.ok()) return ToGrpcStatus(kept.status());
  if (!kept->has_value()) {
    return ToGrpcStatus(domain::FieldError(absl::StatusCode::kNotFound, "name",
                                           absl::StrCat("lead ", *kept_id, " does not exist")));
  }
  if (!(*kept)->merged_into_lead_id().empty()) {
    return ToGrpcStatus(domain::FieldError(
        absl::StatusCode::kFailedPrecondition, "name",
        absl::StrCat("lead ", *kept_id, " was merged into ", (*kept)->merged_into_lead_id())));
  }
  // The merged lead closes first; the kept one absorbs it from that event.
  auto command = CommandFor(*request, request->merged(), "merged");
  if (!command.ok()) return ToGrpcStatus(command.status());
  command->mutable_merge_lead_into()->set_target_lead_id(*kept_id);
  auto outcome = gateway_.Submit(ctx, *caller, *std::move(command), "merged");
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  const absl::Time deadline = CommandGateway::CallDeadline(ctx, context_->command_timeout);
  while (absl::Now() < deadline) {
    auto lead = context_->leads->Get(*kept_id);
    if (!lead.ok()) return ToGrpcStatus(lead.status());
    if (!lead->has_value()) break;
    const auto& merged = (*lead)->merged_lead_ids();
    if (std::find(merged.begin(), merged.end(), *merged_id) != merged.end()) {
      *response->mutable_lead() = **std::move(lead);
      response->mutable_event_ids()->CopyFrom(outcome->event_ids());
      if (outcome->has_position()) *response->mutable_position() = outcome->position();
      response->set_consistency_token(gateway_.TokenFor(*outcome));
      return grpc::Status::OK;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                      absl::StrCat("lead ", *merged_id, " is merged into ", *kept_id,
                                   "; the kept lead has not absorbed it yet (it will)"));
}

}  // namespace leadflow::api
