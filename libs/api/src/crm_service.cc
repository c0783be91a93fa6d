#include "leadflow/api/crm_service.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "duplicate_criteria.h"
#include "leadflow/api/status_mapping.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/identity.h"
#include "leadflow/domain/list_filter.h"

namespace leadflow::api {
namespace {

// The skeleton of a create: the client's id if given, else a new one.
template <typename Request>
absl::StatusOr<v1::Command> CreateCommand(const Request& request, absl::string_view chosen_id,
                                          absl::string_view id_field, absl::string_view kind) {
  LEADFLOW_RETURN_IF_ERROR(CommandGateway::CheckRequestId(request.request_id()));
  std::string id(chosen_id);
  if (id.empty()) {
    id = CommandGateway::NewId(kind, request.request_id());
  } else {
    LEADFLOW_RETURN_IF_ERROR(domain::CheckAggregateId(id, id_field));
  }
  v1::Command command;
  command.set_command_id(CommandGateway::CommandId(id, request.request_id()));
  command.set_aggregate_id(id);
  command.set_actor(request.actor());
  return command;
}

grpc::Status Respond(const absl::StatusOr<v1::CommandOutcome>& outcome,
                     const CommandGateway& gateway, v1::ItemCommandResponse* response) {
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  *response->mutable_item() = outcome->state();
  if (outcome->has_position()) *response->mutable_position() = outcome->position();
  response->set_consistency_token(gateway.TokenFor(*outcome));
  response->mutable_event_ids()->CopyFrom(outcome->event_ids());
  return grpc::Status::OK;
}

}  // namespace

absl::StatusOr<v1::AggregateState> CrmServiceImpl::GetItem(const grpc::ServerContext* ctx,
                                                           const domain::Principal& caller,
                                                           const v1::GetItemRequest& request,
                                                           absl::string_view type) const {
  LEADFLOW_ASSIGN_OR_RETURN(std::string id,
                            CommandGateway::IdFromName(request.name(), type, "name"));
  LEADFLOW_RETURN_IF_ERROR(gateway_.AwaitPosition(
      ctx, request.min_position(), request.has_min_position(), request.consistency_token()));
  LEADFLOW_ASSIGN_OR_RETURN(auto item, context_->items->Get(type, id));
  if (!item.has_value()) {
    return domain::FieldError(absl::StatusCode::kNotFound, "name",
                              absl::StrCat(type, " ", id, " does not exist"));
  }
  LEADFLOW_ASSIGN_OR_RETURN(CallerAccess access, gateway_.AccessOf(caller));
  LEADFLOW_RETURN_IF_ERROR(access.Check(*item));
  return *std::move(item);
}

absl::StatusOr<processors::ItemReadModel::Page> CrmServiceImpl::ListItems(
    const grpc::ServerContext* ctx, const domain::Principal& caller,
    const v1::ListItemsRequest& request, absl::string_view type) const {
  LEADFLOW_RETURN_IF_ERROR(gateway_.AwaitPosition(
      ctx, request.min_position(), request.has_min_position(), request.consistency_token()));
  std::vector<processors::ItemReadModel::Filter> filters;
  auto add = [&filters](const std::string& value, const char* index, const char* field) {
    if (!value.empty()) filters.push_back({index, value, field});
  };
  add(request.responsible_id(), "responsible", "responsible_id");
  add(request.company_id(), "company", "company_id");
  add(request.contact_id(), "contact", "contact_id");
  add(request.pipeline_id(), "pipeline", "pipeline_id");
  add(request.stage_id(), "stage", "stage_id");
  add(request.source_lead_id(), "source_lead", "source_lead_id");
  add(request.owner(), "owner", "owner");
  if (request.activity_state() != v1::ACTIVITY_STATE_UNSPECIFIED) {
    add(v1::ActivityState_Name(request.activity_state()), "state", "activity_state");
  }
  LEADFLOW_RETURN_IF_ERROR(domain::CheckListFilter(request.filter(), type));
  LEADFLOW_ASSIGN_OR_RETURN(CallerAccess access, gateway_.AccessOf(caller));
  const v1::ListFilter& filter = request.filter();
  const bool filtered = !domain::IsEmptyListFilter(filter);
  if (access.Unrestricted() && !filtered) {
    return context_->items->List(type, filters, request.page_size(), request.page_token());
  }
  const int64_t now = absl::ToUnixSeconds(context_->clock->Now());
  absl::Status failed = absl::OkStatus();
  auto page = context_->items->List(
      type, filters, request.page_size(), request.page_token(),
      [&](const v1::AggregateState& item) {
        if (!access.Unrestricted() && !access.Visible(item)) return false;
        return !filtered || domain::MatchesListFilter(filter, item, [&] {
          auto overdue = context_->items->HasOverdueActivity(item.deal().name(), now);
          if (!overdue.ok()) failed = overdue.status();
          return overdue.ok() && *overdue;
        });
      });
  LEADFLOW_RETURN_IF_ERROR(failed);
  return page;
}

// Contacts.

grpc::Status CrmServiceImpl::CreateContact(grpc::ServerContext* ctx,
                                           const v1::CreateContactRequest* request,
                                           v1::ItemCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CreateCommand(*request, request->contact_id(), "contact_id", "ct");
  if (!command.ok()) return ToGrpcStatus(command.status());
  *command->mutable_create_contact()->mutable_contact() = request->contact();
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command)), gateway_, response);
}

grpc::Status CrmServiceImpl::UpdateContact(grpc::ServerContext* ctx,
                                           const v1::UpdateContactRequest* request,
                                           v1::ItemCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command =
      CommandGateway::ChangeCommand(*request, request->contact().name(), "contact", "contact.name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  *command->mutable_update_contact()->mutable_contact() = request->contact();
  *command->mutable_update_contact()->mutable_update_mask() = request->update_mask();
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command), "contact.name"), gateway_,
                 response);
}

grpc::Status CrmServiceImpl::GetContact(grpc::ServerContext* ctx, const v1::GetItemRequest* request,
                                        v1::Contact* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto item = GetItem(ctx, *caller, *request, "contact");
  if (!item.ok()) return ToGrpcStatus(item.status());
  *response = item->contact();
  return grpc::Status::OK;
}

grpc::Status CrmServiceImpl::ListContacts(grpc::ServerContext* ctx,
                                          const v1::ListItemsRequest* request,
                                          v1::ListContactsResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto page = ListItems(ctx, *caller, *request, "contact");
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (auto& item : page->items) *response->add_contacts() = std::move(*item.mutable_contact());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

// Companies.

grpc::Status CrmServiceImpl::CreateCompany(grpc::ServerContext* ctx,
                                           const v1::CreateCompanyRequest* request,
                                           v1::ItemCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CreateCommand(*request, request->company_id(), "company_id", "co");
  if (!command.ok()) return ToGrpcStatus(command.status());
  *command->mutable_create_company()->mutable_company() = request->company();
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command)), gateway_, response);
}

grpc::Status CrmServiceImpl::UpdateCompany(grpc::ServerContext* ctx,
                                           const v1::UpdateCompanyRequest* request,
                                           v1::ItemCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command =
      CommandGateway::ChangeCommand(*request, request->company().name(), "company", "company.name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  *command->mutable_update_company()->mutable_company() = request->company();
  *command->mutable_update_company()->mutable_update_mask() = request->update_mask();
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command), "company.name"), gateway_,
                 response);
}

grpc::Status CrmServiceImpl::GetCompany(grpc::ServerContext* ctx, const v1::GetItemRequest* request,
                                        v1::Company* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto item = GetItem(ctx, *caller, *request, "company");
  if (!item.ok()) return ToGrpcStatus(item.status());
  *response = item->company();
  return grpc::Status::OK;
}

grpc::Status CrmServiceImpl::ListCompanies(grpc::ServerContext* ctx,
                                           const v1::ListItemsRequest* request,
                                           v1::ListCompaniesResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto page = ListItems(ctx, *caller, *request, "company");
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (auto& item : page->items) *response->add_companies() = std::move(*item.mutable_company());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

// Deals.

grpc::Status CrmServiceImpl::CreateDeal(grpc::ServerContext* ctx,
                                        const v1::CreateDealRequest* request,
                                        v1::ItemCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CreateCommand(*request, request->deal_id(), "deal_id", "dl");
  if (!command.ok()) return ToGrpcStatus(command.status());
  *command->mutable_create_deal()->mutable_deal() = request->deal();
  command->mutable_create_deal()->set_stage_id(request->stage_id());
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command)), gateway_, response);
}

grpc::Status CrmServiceImpl::UpdateDeal(grpc::ServerContext* ctx,
                                        const v1::UpdateDealRequest* request,
                                        v1::ItemCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command =
      CommandGateway::ChangeCommand(*request, request->deal().name(), "deal", "deal.name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  *command->mutable_update_deal()->mutable_deal() = request->deal();
  *command->mutable_update_deal()->mutable_update_mask() = request->update_mask();
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command), "deal.name"), gateway_,
                 response);
}

grpc::Status CrmServiceImpl::MoveDeal(grpc::ServerContext* ctx, const v1::MoveDealRequest* request,
                                      v1::ItemCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CommandGateway::ChangeCommand(*request, request->name(), "deal", "name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  command->mutable_move_deal()->set_stage_id(request->stage_id());
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command)), gateway_, response);
}

grpc::Status CrmServiceImpl::GetDeal(grpc::ServerContext* ctx, const v1::GetItemRequest* request,
                                     v1::Deal* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto item = GetItem(ctx, *caller, *request, "deal");
  if (!item.ok()) return ToGrpcStatus(item.status());
  *response = item->deal();
  return grpc::Status::OK;
}

grpc::Status CrmServiceImpl::ListDeals(grpc::ServerContext* ctx,
                                       const v1::ListItemsRequest* request,
                                       v1::ListDealsResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto page = ListItems(ctx, *caller, *request, "deal");
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (auto& item : page->items) *response->add_deals() = std::move(*item.mutable_deal());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

// Activities.

grpc::Status CrmServiceImpl::PlanActivity(grpc::ServerContext* ctx,
                                          const v1::PlanActivityRequest* request,
                                          v1::ItemCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CreateCommand(*request, request->activity_id(), "activity_id", "ac");
  if (!command.ok()) return ToGrpcStatus(command.status());
  // The owner lives on another partition: check it exists as far as this
  // instance's read model knows, for a clear error.
  auto owner = domain::ParseResourceName(request->activity().owner(), "activity.owner");
  if (owner.ok()) {
    absl::StatusOr<bool> exists = false;
    if (owner->first == "lead") {
      auto lead = context_->leads->Get(owner->second);
      exists = lead.ok() ? absl::StatusOr<bool>(lead->has_value()) : lead.status();
    } else {
      auto item = context_->items->Get(owner->first, owner->second);
      exists = item.ok() ? absl::StatusOr<bool>(item->has_value()) : item.status();
    }
    if (!exists.ok()) return ToGrpcStatus(exists.status());
    if (!*exists) {
      return ToGrpcStatus(
          domain::FieldError(absl::StatusCode::kNotFound, "activity.owner",
                             absl::StrCat(request->activity().owner(), " does not exist")));
    }
  }
  *command->mutable_plan_activity()->mutable_activity() = request->activity();
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command)), gateway_, response);
}

grpc::Status CrmServiceImpl::CompleteActivity(grpc::ServerContext* ctx,
                                              const v1::CompleteActivityRequest* request,
                                              v1::ItemCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CommandGateway::ChangeCommand(*request, request->name(), "activity", "name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  command->mutable_complete_activity()->set_result(request->result());
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command)), gateway_, response);
}

grpc::Status CrmServiceImpl::RescheduleActivity(grpc::ServerContext* ctx,
                                                const v1::RescheduleActivityRequest* request,
                                                v1::ItemCommandResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto command = CommandGateway::ChangeCommand(*request, request->name(), "activity", "name");
  if (!command.ok()) return ToGrpcStatus(command.status());
  *command->mutable_reschedule_activity()->mutable_deadline() = request->deadline();
  command->mutable_reschedule_activity()->set_reason(request->reason());
  return Respond(gateway_.Submit(ctx, *caller, *std::move(command)), gateway_, response);
}

grpc::Status CrmServiceImpl::GetActivity(grpc::ServerContext* ctx,
                                         const v1::GetItemRequest* request,
                                         v1::Activity* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto item = GetItem(ctx, *caller, *request, "activity");
  if (!item.ok()) return ToGrpcStatus(item.status());
  *response = item->activity();
  return grpc::Status::OK;
}

grpc::Status CrmServiceImpl::ListActivities(grpc::ServerContext* ctx,
                                            const v1::ListItemsRequest* request,
                                            v1::ListActivitiesResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto page = ListItems(ctx, *caller, *request, "activity");
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (auto& item : page->items) {
    *response->add_activities() = std::move(*item.mutable_activity());
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

// Counters, timelines, duplicates.

grpc::Status CrmServiceImpl::GetCounters(grpc::ServerContext* ctx,
                                         const v1::GetCountersRequest* request,
                                         v1::Counters* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->responsible_id().empty()) {
    return ToGrpcStatus(domain::InvalidField("responsible_id", "required"));
  }
  auto access = gateway_.AccessOf(*caller);
  if (!access.ok()) return ToGrpcStatus(access.status());
  if (auto s = access->CheckCountersOf(request->responsible_id()); !s.ok()) return ToGrpcStatus(s);
  if (auto s = gateway_.AwaitPosition(ctx, request->min_position(), request->has_min_position(),
                                      request->consistency_token());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  const absl::Time now = context_->clock->Now();
  const absl::CivilDay today = absl::ToCivilDay(now, context_->time_zone);
  const absl::Time end_of_day = absl::FromCivil(today + 1, context_->time_zone);
  auto counters = context_->counters->Count(request->responsible_id(), now, end_of_day);
  if (!counters.ok()) return ToGrpcStatus(counters.status());
  *response = *std::move(counters);
  return grpc::Status::OK;
}

grpc::Status CrmServiceImpl::ListTimeline(grpc::ServerContext* ctx,
                                          const v1::ListTimelineRequest* request,
                                          v1::ListTimelineResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto parsed = domain::ParseResourceName(request->name(), "name");
  if (!parsed.ok()) return ToGrpcStatus(parsed.status());
  if (auto s = gateway_.AwaitPosition(ctx, request->min_position(), request->has_min_position(),
                                      request->consistency_token());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  const auto& [type, id] = *parsed;
  auto access = gateway_.AccessOf(*caller);
  if (!access.ok()) return ToGrpcStatus(access.status());
  if (!access->Unrestricted()) {
    auto visible = access->VisibleAggregate(type, id);
    if (!visible.ok()) return ToGrpcStatus(visible.status());
    if (!*visible) {
      return ToGrpcStatus(absl::PermissionDeniedError(
          absl::StrCat("'", caller->name, "' may not read ", request->name())));
    }
  }
  std::vector<std::string> ids = {id};
  if (type == "lead") {
    auto lead = context_->leads->Get(id);
    if (!lead.ok()) return ToGrpcStatus(lead.status());
    if (lead->has_value()) {
      for (const auto& merged : (*lead)->merged_lead_ids()) ids.push_back(merged);
    }
  }
  auto page =
      context_->timeline->ListCombined(type, ids, request->page_size(), request->page_token());
  if (!page.ok()) return ToGrpcStatus(page.status());
  if (page->events.empty() && request->page_token().empty()) {
    return ToGrpcStatus(domain::FieldError(absl::StatusCode::kNotFound, "name",
                                           absl::StrCat(request->name(), " does not exist")));
  }
  for (auto& event : page->events) *response->add_events() = std::move(event);
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status CrmServiceImpl::FindDuplicates(grpc::ServerContext* ctx,
                                            const v1::FindDuplicateLeadsRequest* request,
                                            v1::FindDuplicatesResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto criteria = DuplicateCriteria(*request, context_->config);
  if (!criteria.ok()) return ToGrpcStatus(criteria.status());
  auto page = ParseDuplicatePage(*request, 3);
  if (!page.ok()) return ToGrpcStatus(page.status());
  if (auto s = gateway_.AwaitPosition(ctx, {}, false, request->consistency_token()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  // A company is found by its title where a person is by name and company.
  const std::string title_key = domain::CompanyTitleKey(request->company_title());
  auto leads =
      DuplicateMatches(*criteria, LeadMatches(context_->leads), page->size, &page->after[0]);
  if (!leads.ok()) return ToGrpcStatus(leads.status());
  auto contacts = DuplicateMatches(
      *criteria,
      [this](const std::string& matched_on, const std::string& key, absl::string_view after,
             size_t limit) -> absl::StatusOr<std::vector<std::string>> {
        if (matched_on == "name+company") return std::vector<std::string>();
        return context_->items->FindIndexed("contact", "identity", key, after, limit);
      },
      page->size, &page->after[1]);
  if (!contacts.ok()) return ToGrpcStatus(contacts.status());
  auto companies = DuplicateMatches(
      *criteria,
      [this, &title_key](const std::string& matched_on, const std::string& key,
                         absl::string_view after, size_t limit) {
        return matched_on == "name+company"
                   ? context_->items->FindIndexed("company", "title", title_key, after, limit)
                   : context_->items->FindIndexed("company", "identity", key, after, limit);
      },
      page->size, &page->after[2]);
  if (!companies.ok()) return ToGrpcStatus(companies.status());
  auto access = gateway_.AccessOf(*caller);
  if (!access.ok()) return ToGrpcStatus(access.status());
  for (auto& [id, matched_on] : *leads) {
    auto lead = context_->leads->Get(id);
    if (!lead.ok()) return ToGrpcStatus(lead.status());
    if (!lead->has_value()) continue;
    auto* duplicate = response->add_leads();
    const bool visible = access->Visible(**lead);
    ShowDuplicate(**std::move(lead), visible, std::move(matched_on), duplicate->mutable_lead(),
                  duplicate);
  }
  for (auto& [id, matched_on] : *contacts) {
    auto item = context_->items->Get("contact", id);
    if (!item.ok()) return ToGrpcStatus(item.status());
    if (!item->has_value()) continue;
    auto* duplicate = response->add_contacts();
    ShowDuplicate((*item)->contact(), access->Visible(**item), std::move(matched_on),
                  duplicate->mutable_contact(), duplicate);
  }
  for (auto& [id, matched_on] : *companies) {
    auto item = context_->items->Get("company", id);
    if (!item.ok()) return ToGrpcStatus(item.status());
    if (!item->has_value()) continue;
    auto* duplicate = response->add_companies();
    ShowDuplicate((*item)->company(), access->Visible(**item), std::move(matched_on),
                  duplicate->mutable_company(), duplicate);
  }
  response->set_next_page_token(DuplicatePageToken(page->after));
  return grpc::Status::OK;
}

}  // namespace leadflow::api
