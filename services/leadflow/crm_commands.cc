// `leadflow contacts|companies|deals|activities`, `counters`, `timeline`, `duplicates`.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <type_traits>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "commands.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/config/access_yaml.h"
#include "leadflow/config/enum_names.h"
#include "leadflow/config/pipelines_yaml.h"
#include "leadflow/tls/grpc_tls.h"
#include "leadflow/v1/reports.grpc.pb.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::cli {
namespace {

// The arguments of the CRM commands. One command runs per invocation, so
// they share: a flag means the same wherever it appears (--company is a
// company id as a list filter and as a new deal's company).
struct CrmArgs {
  std::string name, responsible, company, contact, pipeline, stage, source_lead, owner, state;
  int page_size = 100;
  bool all_pages = false;
  std::string first_name, last_name, title, tax_id, currency, type, subject, deadline, result,
      reason;
  std::vector<std::string> phones, emails;
  int64_t amount = 0;
};

absl::StatusOr<v1::ListItemsRequest> ListItemsRequestOf(const CrmArgs& args) {
  v1::ListItemsRequest request;
  request.set_page_size(args.page_size);
  request.set_responsible_id(args.responsible);
  request.set_company_id(args.company);
  request.set_contact_id(args.contact);
  request.set_pipeline_id(args.pipeline);
  request.set_stage_id(args.stage);
  request.set_source_lead_id(args.source_lead);
  request.set_owner(args.owner);
  if (!args.state.empty()) {
    LEADFLOW_ASSIGN_OR_RETURN(v1::ActivityState state,
                              config::ParseEnum<v1::ActivityState>(args.state));
    request.set_activity_state(state);
  }
  return request;
}

void AddContactPoints(const CrmArgs& args,
                      google::protobuf::RepeatedPtrField<v1::PhoneNumber>* phones,
                      google::protobuf::RepeatedPtrField<v1::EmailAddress>* emails) {
  for (const auto& phone : args.phones) phones->Add()->set_number(phone);
  for (const auto& email : args.emails) emails->Add()->set_address(email);
}

// `COLLECTION get NAME` and `COLLECTION list [filters]` for one kind of
// item; returns the group, for the kind's own commands. The server refuses
// a filter the kind is not filtered by, naming it.
template <typename Item, typename ListResponse, typename Items>
CLI::App* AddItemCommands(CLI::App& app, const std::string& collection,
                          const std::string& description,
                          Method<v1::CrmService::Stub, v1::GetItemRequest, Item> get,
                          Method<v1::CrmService::Stub, v1::ListItemsRequest, ListResponse> list,
                          Items items, CrmArgs& args, const Common& common, int& rc) {
  auto* group = app.add_subcommand(collection, description);
  group->require_subcommand(1);
  auto* get_command = group->add_subcommand("get", "Get one");
  get_command->add_option("name", args.name, absl::StrCat("ID or ", collection, "/ID"))->required();
  get_command->callback([collection, get, &args, &common, &rc] {
    v1::GetItemRequest request;
    request.set_name(NameIn(collection, args.name));
    rc = Unary(*StubOf<v1::CrmService>(common), get, request, common.timeout);
  });

  auto* list_command = group->add_subcommand("list", "List, one JSON object per line");
  list_command->add_option("--responsible", args.responsible);
  list_command->add_option("--company", args.company, "Company id");
  list_command->add_option("--contact", args.contact, "Contact id");
  list_command->add_option("--pipeline", args.pipeline, "Deal pipeline id");
  list_command->add_option("--stage", args.stage, "Deal stage id");
  list_command->add_option("--source-lead", args.source_lead, "Converted from this lead id");
  list_command->add_option("--owner", args.owner, "Activities of leads/ID or deals/ID");
  list_command->add_option("--state", args.state, "Activities: planned|completed");
  list_command->add_option("--page-size", args.page_size)->capture_default_str();
  list_command->add_flag("--all", args.all_pages, "Follow page tokens to the end");
  list_command->callback([list, items, &args, &common, &rc] {
    absl::StatusOr<v1::ListItemsRequest> request = ListItemsRequestOf(args);
    if (!request.ok()) {
      rc = Invalid("--state", request.status());
      return;
    }
    rc = Paged(*StubOf<v1::CrmService>(common), list, *std::move(request), common.timeout,
               args.all_pages, items);
  });
  return group;
}

}  // namespace

void AddCrmCommands(CLI::App& app, const Common& common, int& rc) {
  // Lives as long as the command line it is parsed from: the process.
  CrmArgs& args = *new CrmArgs();
  using Stub = v1::CrmService::Stub;
  // Every change below is one CrmService call that prints its response.
  auto submit = [&common, &rc](auto method, const auto& request) {
    rc = Unary(*StubOf<v1::CrmService>(common), method, request, common.timeout);
  };

  auto* contacts = AddItemCommands(
      app, "contacts", "Private persons who are (becoming) clients", &Stub::GetContact,
      &Stub::ListContacts,
      [](const v1::ListContactsResponse& response) -> const auto& { return response.contacts(); },
      args, common, rc);
  auto* create_contact = contacts->add_subcommand("create", "Create a contact");
  create_contact->add_option("--first-name", args.first_name);
  create_contact->add_option("--last-name", args.last_name);
  create_contact->add_option("--phone", args.phones, "Repeatable");
  create_contact->add_option("--email", args.emails, "Repeatable");
  create_contact->add_option("--responsible", args.responsible);
  create_contact->callback([&args, &common, submit] {
    v1::CreateContactRequest request;
    v1::Contact* contact = request.mutable_contact();
    contact->set_first_name(args.first_name);
    contact->set_last_name(args.last_name);
    AddContactPoints(args, contact->mutable_phones(), contact->mutable_emails());
    contact->set_responsible_id(args.responsible);
    submit(&Stub::CreateContact, request);
  });

  auto* companies = AddItemCommands(
      app, "companies", "Legal entities who are (becoming) clients", &Stub::GetCompany,
      &Stub::ListCompanies,
      [](const v1::ListCompaniesResponse& response) -> const auto& { return response.companies(); },
      args, common, rc);
  auto* create_company = companies->add_subcommand("create", "Create a company");
  create_company->add_option("--title", args.title);
  create_company->add_option("--phone", args.phones, "Repeatable");
  create_company->add_option("--email", args.emails, "Repeatable");
  create_company->add_option("--tax-id", args.tax_id, "INN, VAT number, EIN…");
  create_company->add_option("--responsible", args.responsible);
  create_company->callback([&args, &common, submit] {
    v1::CreateCompanyRequest request;
    v1::Company* company = request.mutable_company();
    company->set_title(args.title);
    AddContactPoints(args, company->mutable_phones(), company->mutable_emails());
    company->mutable_requisites()->set_tax_id(args.tax_id);
    company->set_responsible_id(args.responsible);
    submit(&Stub::CreateCompany, request);
  });

  auto* deals = AddItemCommands(
      app, "deals", "Sales being negotiated", &Stub::GetDeal, &Stub::ListDeals,
      [](const v1::ListDealsResponse& response) -> const auto& { return response.deals(); }, args,
      common, rc);
  auto* create_deal =
      deals->add_subcommand("create", "Create a deal in its pipeline's first stage");
  create_deal->add_option("--title", args.title);
  create_deal->add_option("--pipeline", args.pipeline, "Deal pipeline id (default: default)");
  create_deal->add_option("--amount", args.amount, "In minor units (kopecks, cents)");
  create_deal->add_option("--currency", args.currency, "ISO 4217, e.g. RUB");
  create_deal->add_option("--contact", args.contact, "Contact id");
  create_deal->add_option("--company", args.company, "Company id");
  create_deal->add_option("--responsible", args.responsible);
  create_deal->callback([&args, &common, submit] {
    v1::CreateDealRequest request;
    v1::Deal* deal = request.mutable_deal();
    deal->set_title(args.title);
    deal->set_pipeline_id(args.pipeline);
    if (args.amount != 0 || !args.currency.empty()) {
      deal->mutable_opportunity()->set_amount_minor(args.amount);
      deal->mutable_opportunity()->set_currency_code(args.currency);
    }
    deal->set_contact_id(args.contact);
    deal->set_company_id(args.company);
    deal->set_responsible_id(args.responsible);
    submit(&Stub::CreateDeal, request);
  });
  auto* move = deals->add_subcommand("move", "Move a deal to a stage of its pipeline");
  move->add_option("name", args.name, "ID or deals/ID")->required();
  move->add_option("stage", args.stage)->required();
  move->callback([&args, &common, submit] {
    v1::MoveDealRequest request;
    request.set_name(NameIn("deals", args.name));
    request.set_stage_id(args.stage);
    submit(&Stub::MoveDeal, request);
  });

  auto* activities = AddItemCommands(
      app, "activities", "Calls, emails, meetings and tasks on leads and deals", &Stub::GetActivity,
      &Stub::ListActivities, [](const v1::ListActivitiesResponse& response) -> const auto& {
        return response.activities();
      },
      args, common, rc);
  auto* plan = activities->add_subcommand("plan", "Plan an activity");
  plan->add_option("--owner", args.owner, "leads/ID or deals/ID")->required();
  plan->add_option("--type", args.type, "call|email|meeting|task")->required();
  plan->add_option("--subject", args.subject);
  plan->add_option("--responsible", args.responsible);
  plan->add_option("--deadline", args.deadline, "RFC 3339, e.g. 2025-03-01T15:00:00+03:00");
  plan->callback([&args, &rc, &common, submit] {
    v1::PlanActivityRequest request;
    v1::Activity* activity = request.mutable_activity();
    absl::StatusOr<v1::ActivityType> type = config::ParseEnum<v1::ActivityType>(args.type);
    if (!type.ok()) {
      rc = Invalid("--type", type.status());
      return;
    }
    activity->set_type(*type);
    if (!args.deadline.empty()) {
      auto deadline = ParseRfc3339(args.deadline);
      if (!deadline.ok()) {
        rc = Invalid("--deadline", deadline.status());
        return;
      }
      *activity->mutable_deadline() = *deadline;
    }
    activity->set_owner(args.owner);
    activity->set_subject(args.subject);
    activity->set_responsible_id(args.responsible);
    submit(&Stub::PlanActivity, request);
  });
  auto* complete = activities->add_subcommand("complete", "Complete an activity");
  complete->add_option("name", args.name, "ID or activities/ID")->required();
  complete->add_option("--result", args.result, "What came of it");
  complete->callback([&args, &common, submit] {
    v1::CompleteActivityRequest request;
    request.set_name(NameIn("activities", args.name));
    request.set_result(args.result);
    submit(&Stub::CompleteActivity, request);
  });
  auto* reschedule = activities->add_subcommand("reschedule", "Move an activity's deadline");
  reschedule->add_option("name", args.name, "ID or activities/ID")->required();
  reschedule->add_option("--deadline", args.deadline, "RFC 3339")->required();
  reschedule->add_option("--reason", args.reason);
  reschedule->callback([&args, &rc, &common, submit] {
    v1::RescheduleActivityRequest request;
    request.set_name(NameIn("activities", args.name));
    auto deadline = ParseRfc3339(args.deadline);
    if (!deadline.ok()) {
      rc = Invalid("--deadline", deadline.status());
      return;
    }
    *request.mutable_deadline() = *deadline;
    request.set_reason(args.reason);
    submit(&Stub::RescheduleActivity, request);
  });
}

void AddItemQueryCommands(CLI::App& app, const Common& common, int& rc) {
  static DuplicateArgs duplicate;
  static std::string counters_user;
  static auto* counters = app.add_subcommand(
      "counters", "What a responsible has due today, overdue, and open without activity");
  counters->add_option("user", counters_user, "The responsible's user id")->required();
  counters->callback([&] {
    v1::GetCountersRequest request;
    request.set_responsible_id(counters_user);
    rc = Unary(*StubOf<v1::CrmService>(common), &v1::CrmService::Stub::GetCounters, request,
               common.timeout);
  });

  static std::string item_name;
  static auto* item_timeline = app.add_subcommand(
      "timeline", "Any item's history, oldest first: one event (who, when, why) per line");
  item_timeline
      ->add_option("name", item_name,
                   "leads/ID, contacts/ID, companies/ID, deals/ID or activities/ID")
      ->required();
  item_timeline->callback([&] {
    v1::ListTimelineRequest request;
    request.set_name(item_name);
    request.set_page_size(1000);
    rc = Paged(
        *StubOf<v1::CrmService>(common), &v1::CrmService::Stub::ListTimeline, request,
        common.timeout, /*all_pages=*/true,
        [](const v1::ListTimelineResponse& response) -> const auto& { return response.events(); });
  });

  static auto* all_duplicates = app.add_subcommand(
      "duplicates",
      "Leads, contacts and companies that may be the same person or firm, one per line");
  AddDuplicateOptions(all_duplicates, duplicate);
  all_duplicates->callback([&] {
    v1::FindDuplicateLeadsRequest request = DuplicateRequest(duplicate);
    do {
      rc = Call(*StubOf<v1::CrmService>(common), &v1::CrmService::Stub::FindDuplicates, request,
                common.timeout, [&request](const v1::FindDuplicatesResponse& response) {
                  request.set_page_token(response.next_page_token());
                  PrintEach(response.leads());
                  PrintEach(response.contacts());
                  return PrintEach(response.companies());
                });
    } while (rc == 0 && !request.page_token().empty());
  });
}

}  // namespace leadflow::cli
