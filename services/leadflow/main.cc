// leadflow: command-line client of a running leadflowd.
//
// Prints each result as one JSON object per line (protobuf's JSON mapping);
// `apply` and `pipelines remove` print what changed as text, and `robots
// dry-run` what robots and triggers would do (JSON with --json). Errors go
// to stderr: a server's refusal as "leadflow: CODE: message" with exit
// status 1, a mistake in the command line or an input file as "leadflow:
// what: message" with exit status 2.

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
#include "backup_commands.h"
#include "client.h"
#include "completion.h"
#include "import_command.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/config/access_yaml.h"
#include "leadflow/config/enum_names.h"
#include "leadflow/config/pipelines_yaml.h"
#include "leadflow/tls/grpc_tls.h"
#include "leadflow/v1/reports.grpc.pb.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "output.h"
#include "report_tables.h"

namespace {

using namespace leadflow;       // NOLINT: the binary's own wiring
using namespace leadflow::cli;  // NOLINT

// --- publish -------------------------------------------------------------

struct CallArgs {
  std::string id, phone, kind = "incoming", op, line, name, recording, source = "cli";
  int duration = 0;
};
struct EmailArgs {
  std::string id, from, name, subject, body, message_id, source = "cli";
};
struct FormArgs {
  std::string id, form_id, page, source = "cli", utm_source, utm_medium, utm_campaign;
  std::vector<std::string> fields;
};

int Publish(const Common& common, const v1::ChannelEvent& event) {
  v1::PublishChannelEventRequest request;
  *request.mutable_event() = event;
  return Unary(*StubOf<v1::IntakeService>(common), &v1::IntakeService::Stub::PublishChannelEvent,
               request, common.timeout);
}

// --- duplicates ----------------------------------------------------------

// The criteria of `leads duplicates` and `duplicates`.
struct DuplicateArgs {
  std::string phone, email, name, company;
};

void AddDuplicateOptions(CLI::App* command, DuplicateArgs& args) {
  command->add_option("--phone", args.phone);
  command->add_option("--email", args.email);
  command->add_option("--name", args.name, "With --company");
  command->add_option("--company", args.company, "With --name");
}

v1::FindDuplicateLeadsRequest DuplicateRequest(const DuplicateArgs& args) {
  v1::FindDuplicateLeadsRequest request;
  request.set_phone(args.phone);
  request.set_email(args.email);
  request.set_name(args.name);
  request.set_company_title(args.company);
  return request;
}

// The pipelines of a YAML file ("pipelines: [...]").
absl::Status ReadPipelinesFile(const std::string& file,
                               google::protobuf::RepeatedPtrField<v1::Pipeline>* pipelines) {
  LEADFLOW_ASSIGN_OR_RETURN(std::string text, ReadTextFile(file));
  return config::ReadPipelinesYaml(text, pipelines);
}

// One line per change of roles, teams or users; "no changes" when none.
int PrintAccessChanges(const v1::ApplyAccessPolicyResponse& response, bool dry_run) {
  for (const auto& change : response.changes()) std::printf("%s\n", change.c_str());
  if (response.changes().empty()) {
    std::printf("no changes\n");
  } else if (dry_run) {
    std::printf("dry run: nothing was changed\n");
  }
  return 0;
}

// "<id>: <action>" per pipeline with what differs indented below it; "no
// changes" when every pipeline is unchanged.
int PrintChanges(const v1::ApplyPipelinesResponse& response, bool dry_run) {
  bool changed = false;
  for (const auto& change : response.changes()) {
    std::printf("%s: %s\n", change.pipeline_id().c_str(), change.action().c_str());
    for (const auto& detail : change.details()) std::printf("  %s\n", detail.c_str());
    changed = changed || change.action() != "unchanged";
  }
  if (!changed) {
    std::printf("no changes\n");
  } else if (dry_run) {
    std::printf("dry run: nothing was changed\n");
  }
  return 0;
}

// One line per run: "RUN_TIME RULE ITEM SUMMARY[ REFUSED: WHY]", the rule as
// "PIPELINE/ROBOT" or "PIPELINE/trigger:TRIGGER"; then "N runs over M events".
int PrintRobotRuns(const v1::DryRunRobotsResponse& response) {
  for (const auto& run : response.runs()) {
    const v1::RobotCause& cause = run.cause();
    const std::string rule =
        cause.robot_id().empty() ? absl::StrCat("trigger:", cause.trigger_id()) : cause.robot_id();
    const std::string line =
        absl::StrCat(google::protobuf::util::TimeUtil::ToString(run.run_time()),  // UTC, as in JSON
                     " ", cause.pipeline_id(), "/", rule, " ", cause.item(), " ", run.summary(),
                     run.refused().empty() ? "" : " REFUSED: ", run.refused());
    std::printf("%s\n", line.c_str());
  }
  std::printf(
      "%lld runs over %lld events%s\n",
      static_cast<long long>(std::max<int64_t>(response.runs_total(), response.runs_size())),
      static_cast<long long>(response.events_read()),
      response.runs_total() > response.runs_size()
          ? absl::StrCat(" (the first ", response.runs_size(), " shown)").c_str()
          : "");
  return 0;
}

struct PipelineArgs {
  std::string file, id, actor, until;
  bool dry_run = false, show_removed = false, json = false;
};

void AddPipelineCommands(CLI::App& app, PipelineArgs& args, const Common& common, int& rc) {
  auto changes = [&args](const v1::ApplyPipelinesResponse& response) {
    return PrintChanges(response, args.dry_run);
  };
  auto* apply = app.add_subcommand("apply",
                                   "Set lead statuses and deal pipelines (with their robots and "
                                   "triggers), or roles, teams and users (access:), as a YAML "
                                   "file has them; print what changed");
  apply->add_option("-f,--file", args.file, "YAML file (see examples/pipelines/, examples/access/)")
      ->required();
  apply->add_flag("--dry-run", args.dry_run, "Only say what would change");
  apply->add_option("--actor", args.actor, kActorHelp);
  apply->callback([&args, &common, &rc, changes] {
    absl::StatusOr<std::string> text = ReadTextFile(args.file);
    if (!text.ok()) {
      rc = Invalid(args.file, text.status());
      return;
    }
    if (config::IsAccessYaml(*text)) {
      v1::ApplyAccessPolicyRequest request;
      if (auto s = config::ReadAccessYaml(*text, request.mutable_policy()); !s.ok()) {
        rc = Invalid(args.file, s);
        return;
      }
      request.set_validate_only(args.dry_run);
      rc = Call(*StubOf<v1::AccessService>(common), &v1::AccessService::Stub::ApplyAccessPolicy,
                request, common.timeout, [&args](const v1::ApplyAccessPolicyResponse& response) {
                  return PrintAccessChanges(response, args.dry_run);
                });
      return;
    }
    v1::ApplyPipelinesRequest request;
    if (auto s = config::ReadPipelinesYaml(*text, request.mutable_pipelines()); !s.ok()) {
      rc = Invalid(args.file, s);
      return;
    }
    request.set_dry_run(args.dry_run);
    request.set_actor(args.actor);
    rc = Call(*StubOf<v1::PipelineService>(common), &v1::PipelineService::Stub::ApplyPipelines,
              request, common.timeout, changes);
  });

  auto* pipelines = app.add_subcommand("pipelines", "Lead statuses and deal pipelines");
  pipelines->require_subcommand(1);
  auto* list = pipelines->add_subcommand(
      "list", "The lead pipeline, then deal pipelines by id, one JSON object per line");
  list->add_flag("--show-removed", args.show_removed, "Include removed deal pipelines");
  list->callback([&args, &common, &rc] {
    v1::ListPipelinesRequest request;
    request.set_show_removed(args.show_removed);
    rc = Call(*StubOf<v1::PipelineService>(common), &v1::PipelineService::Stub::ListPipelines,
              request, common.timeout, [](const v1::ListPipelinesResponse& response) {
                return PrintEach(response.pipelines());
              });
  });

  auto* get = pipelines->add_subcommand("get", "Get one pipeline");
  get->add_option("id", args.id, "Pipeline id (\"lead\" for the lead statuses)")->required();
  get->callback([&args, &common, &rc] {
    v1::GetItemRequest request;
    request.set_name(NameIn("pipelines", args.id));
    rc = Unary(*StubOf<v1::PipelineService>(common), &v1::PipelineService::Stub::GetPipeline,
               request, common.timeout);
  });

  auto* remove = pipelines->add_subcommand(
      "remove", "Remove a deal pipeline (its deals stay on record); print what changed");
  remove->add_option("id", args.id, "Deal pipeline id")->required();
  remove->add_flag("--dry-run", args.dry_run, "Only say what would change");
  remove->add_option("--actor", args.actor, kActorHelp);
  remove->callback([&args, &common, &rc, changes] {
    v1::RemovePipelineRequest request;
    request.set_name(NameIn("pipelines", args.id));
    request.set_dry_run(args.dry_run);
    request.set_actor(args.actor);
    rc = Call(*StubOf<v1::PipelineService>(common), &v1::PipelineService::Stub::RemovePipeline,
              request, common.timeout, changes);
  });

  auto* robots = app.add_subcommand("robots", "Robots and triggers");
  robots->require_subcommand(1);
  auto* dry_run = robots->add_subcommand(
      "dry-run",
      "Replay the event log with a YAML file's robots and triggers; print what they would have "
      "done, one run per line (changes nothing)");
  dry_run->add_option("-f,--file", args.file, "YAML file, as for apply")->required();
  dry_run->add_option("--until", args.until,
                      "Run timers due up to this RFC 3339 time (default: the server's now)");
  dry_run->add_flag("--json", args.json, "Print the response as one JSON object instead");
  dry_run->callback([&args, &common, &rc] {
    v1::DryRunRobotsRequest request;
    if (auto s = ReadPipelinesFile(args.file, request.mutable_pipelines()); !s.ok()) {
      rc = Invalid(args.file, s);
      return;
    }
    if (!args.until.empty()) {
      absl::StatusOr<google::protobuf::Timestamp> until = ParseRfc3339(args.until);
      if (!until.ok()) {
        rc = Invalid("--until", until.status());
        return;
      }
      *request.mutable_until() = *until;
    }
    rc = Call(*StubOf<v1::PipelineService>(common), &v1::PipelineService::Stub::DryRunRobots,
              request, common.timeout, [&args](const v1::DryRunRobotsResponse& response) {
                return args.json ? Print(response) : PrintRobotRuns(response);
              });
  });
}

// --- contacts, companies, deals, activities ------------------------------

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

void AddCrmCommands(CLI::App& app, CrmArgs& args, const Common& common, int& rc) {
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

// --- events --------------------------------------------------------------

struct ReportArgs {
  std::string from;
  std::string to;
  std::string by;
  std::string time_zone;
  std::string pipeline;
  std::string source;
  std::string responsible;
  std::string team;
  std::string detail;
  std::string target;
  std::string format = "table";
};

// "2026-11-01" (midnight in `zone`) or RFC 3339.
absl::StatusOr<absl::Time> ParseReportTime(const std::string& text, const absl::TimeZone& zone) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime("%Y-%m-%d", text, zone, &time, &error)) return time;
  if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return time;
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not a date (2026-11-01) or an RFC 3339 time"));
}

// The request the flags describe; the exit status 2 with the flag named
// when one is wrong.
absl::StatusOr<v1::ReportRequest> ReportRequestOf(const ReportArgs& args) {
  v1::ReportRequest request;
  absl::TimeZone zone = absl::UTCTimeZone();
  if (!args.time_zone.empty()) {
    if (!absl::LoadTimeZone(args.time_zone, &zone)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--time-zone: unknown zone '", args.time_zone, "'"));
    }
    request.set_time_zone(args.time_zone);
  }
  // Without --from and --to the server reports this month in the zone.
  if (!args.from.empty()) {
    auto parsed = ParseReportTime(args.from, zone);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--from: ", parsed.status().message()));
    }
    *request.mutable_from_time() = ToTimestamp(*parsed);
  }
  if (!args.to.empty()) {
    auto parsed = ParseReportTime(args.to, zone);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--to: ", parsed.status().message()));
    }
    *request.mutable_to_time() = ToTimestamp(*parsed);
  }
  if (!args.by.empty()) {
    auto by = config::ParseEnum<v1::ReportPeriod>(args.by);
    if (!by.ok()) return absl::InvalidArgumentError(absl::StrCat("--by: ", by.status().message()));
    request.set_group_by(*by);
  }
  if (!args.source.empty()) {
    auto source = config::ParseEnum<v1::LeadSource>(args.source);
    if (!source.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--source: ", source.status().message()));
    }
    request.set_source(*source);
  }
  if (!args.detail.empty()) {
    auto detail = config::ParseEnum<v1::SourceDetail>(args.detail);
    if (!detail.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--detail: ", detail.status().message()));
    }
    request.set_detail(*detail);
  }
  if (!args.target.empty()) {
    absl::Duration target;
    if (!absl::ParseDuration(args.target, &target) || target < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--target: '", args.target, "' is not a duration (60s, 5m, 1h)"));
    }
    request.mutable_first_contact_target()->set_seconds(absl::ToInt64Seconds(target));
  }
  if (args.format != "table" && args.format != "csv" && args.format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("--format: '", args.format, "' is not table|csv|json"));
  }
  request.set_pipeline_id(args.pipeline);
  request.set_responsible_id(args.responsible);
  request.set_team(args.team);
  return request;
}

template <typename Response>
int PrintReport(const Response& response, const std::string& format, const std::string& title,
                std::vector<cli::ReportTable> (*tables)(const Response&)) {
  if (format == "json") return Print(response);
  const std::string text =
      format == "csv" ? cli::RenderCsv(tables(response)) : cli::RenderText(tables(response), title);
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (format == "table" && response.restricted()) {
    std::printf("(figures of items you may not read are left out)\n");
  }
  return 0;
}

void AddReportCommands(CLI::App& app, ReportArgs& args, const Common& common, int& rc) {
  auto* report =
      app.add_subcommand("report", "Funnel, channel yield, managers and time to first contact");
  report->require_subcommand(1);
  auto add = [&](const std::string& name, const std::string& description) {
    auto* command = report->add_subcommand(name, description);
    command->add_option("--from", args.from,
                        "Start: a date (midnight in --time-zone, else UTC) or RFC 3339; "
                        "without --from and --to: this month");
    command->add_option("--to", args.to, "End (not included), as --from");
    command->add_option("--by", args.by, "day|week|month (default: the whole range)");
    command->add_option("--time-zone", args.time_zone,
                        "IANA zone of dates and periods (default: the server's --time-zone; "
                        "dates without it are UTC)");
    command->add_option("--source", args.source, "Only leads of this source (call, web-form, ...)");
    command->add_option("--responsible", args.responsible, "Only this responsible's figures");
    command->add_option("--team", args.team, "Only the members of this access-policy team");
    command->add_option("--format", args.format, "table|csv|json (default: table)");
    return command;
  };
  auto run = [&](auto method, auto tables, const std::string& title) {
    auto request = ReportRequestOf(args);
    if (!request.ok()) {
      rc = Invalid("report", request.status());
      return;
    }
    auto stub = StubOf<v1::ReportService>(common);
    rc = Call(*stub, method, *request, common.timeout, [&](const auto& response) {
      return PrintReport(response, args.format, title, tables);
    });
  };
  auto* funnel = add("funnel", "Leads (or a deal pipeline's deals) created in the range, by stage");
  funnel->add_option("--pipeline", args.pipeline, "A deal pipeline (default: the lead statuses)");
  funnel->callback([&, run] {
    run(&v1::ReportService::Stub::GetFunnelReport, &cli::FunnelTables,
        args.pipeline.empty() ? "Funnel: leads" : "Funnel: " + args.pipeline);
  });
  auto* sources = add("sources", "Channel yield: leads, conversion and deals won per source");
  sources->add_option("--detail", args.detail,
                      "Group by form-id|call-line|utm-source|utm-campaign within each source");
  sources->callback(
      [&, run] { run(&v1::ReportService::Stub::GetSourceReport, &cli::SourceTables, "Sources"); });
  auto* managers = add("managers", "Per responsible: leads, conversion, deals won, activities");
  managers->add_option("--pipeline", args.pipeline, "Deals of this pipeline only");
  managers->callback([&, run] {
    run(&v1::ReportService::Stub::GetManagerReport, &cli::ManagerTables, "Managers");
  });
  auto* first_contact = add("first-contact", "Time from a lead's creation to its first contact");
  first_contact->add_option("--target", args.target, "The target (default 60s)");
  first_contact->callback([&, run] {
    run(&v1::ReportService::Stub::GetFirstContactReport, &cli::FirstContactTables, "First contact");
  });
}

int TailEvents(const Common& common, const std::vector<std::string>& from, bool follow,
               bool progress, int64_t limit) {
  auto channel = ChannelOf(common);
  v1::SubscribeEventsRequest request;
  for (const auto& spec : from) {
    std::pair<std::string, std::string> parts = absl::StrSplit(spec, ':');
    int32_t partition = 0;
    int64_t offset = 0;
    if (!absl::SimpleAtoi(parts.first, &partition) || !absl::SimpleAtoi(parts.second, &offset)) {
      std::fprintf(stderr, "leadflow: --from takes PARTITION:OFFSET, not '%s'\n", spec.c_str());
      return 2;
    }
    auto* start = request.add_start();
    start->set_partition(partition);
    start->set_offset(offset);
  }
  // Without --follow, stop at the end offsets of the moment.
  std::map<int32_t, int64_t> end;
  if (!follow) {
    auto admin = v1::AdminService::NewStub(channel);
    v1::ServerStatus server_status;
    auto ctx = Context(common.timeout);
    grpc::Status status = admin->GetServerStatus(ctx.get(), {}, &server_status);
    if (!status.ok()) return Report(status);
    for (const auto& row : server_status.processors()) {
      if (row.topic() == "leadflow.events.v1") end[row.partition()] = row.end_offset();
    }
    for (const auto& start : request.start()) {
      end[start.partition()] = std::max(end[start.partition()], start.offset());
    }
  }
  auto reached_end = [&](const std::map<int32_t, int64_t>& next) {
    for (const auto& [partition, offset] : end) {
      auto it = next.find(partition);
      if ((it == next.end() ? 0 : it->second) < offset) return false;
    }
    return true;
  };
  std::map<int32_t, int64_t> next;
  for (const auto& start : request.start()) next[start.partition()] = start.offset();
  if (!follow && reached_end(next)) return 0;
  int64_t total = 0;
  for (const auto& [partition, offset] : end) {
    auto it = next.find(partition);
    total += offset - (it == next.end() ? 0 : it->second);
  }
  std::optional<ProgressBar> bar;
  if (progress && !follow) bar.emplace(limit > 0 ? std::min(limit, total) : total, "events");
  auto stub = v1::EventService::NewStub(channel);
  grpc::ClientContext ctx;
  auto reader = stub->SubscribeEvents(&ctx, request);
  v1::SubscribedEvent event;
  int64_t printed = 0;
  int64_t read = 0;
  while (reader->Read(&event)) {
    Print(event);
    if (bar) bar->Update(++read);
    // A stream a person watches shows each event as it comes.
    if (follow) FlushOutput();
    next[event.position().partition()] = event.position().offset() + 1;
    if ((limit > 0 && ++printed >= limit) || (!follow && reached_end(next))) {
      ctx.TryCancel();
      break;
    }
  }
  if (bar) bar->Finish();
  grpc::Status status = reader->Finish();
  if (status.error_code() == grpc::StatusCode::CANCELLED) return 0;
  return Report(status);
}

}  // namespace

struct AccessArgs {
  std::string principal, name, reason;
  std::vector<std::string> roles;
  bool act_for_others = false;
  bool show_revoked = false;
};

void AddAccessCommands(CLI::App& app, AccessArgs& args, const Common& common, int& rc) {
  auto* keys = app.add_subcommand("api-keys", "Service credentials (the administrator's)");
  keys->require_subcommand(1);
  auto* create =
      keys->add_subcommand("create", "Issue an API key; prints it once (only its hash is kept)");
  create->add_option("--principal", args.principal, "Who the key acts as")->required();
  create->add_option("--role", args.roles, "A role of the principal (repeatable)");
  create->add_flag("--act-for-others", args.act_for_others,
                   "May name another actor (an integration recording the operator of a call)");
  create->callback([&args, &common, &rc] {
    v1::CreateApiKeyRequest request;
    request.set_principal(args.principal);
    for (const auto& role : args.roles) request.add_roles(role);
    request.set_act_for_others(args.act_for_others);
    rc = Unary(*StubOf<v1::AccessService>(common), &v1::AccessService::Stub::CreateApiKey, request,
               common.timeout);
  });
  auto* list = keys->add_subcommand("list", "API keys, one JSON object per line");
  list->add_flag("--show-revoked", args.show_revoked, "Revoked keys too");
  list->callback([&args, &common, &rc] {
    v1::ListApiKeysRequest request;
    request.set_show_revoked(args.show_revoked);
    rc = Call(*StubOf<v1::AccessService>(common), &v1::AccessService::Stub::ListApiKeys, request,
              common.timeout, [](const v1::ListApiKeysResponse& response) {
                return PrintEach(response.api_keys());
              });
  });
  auto* revoke = keys->add_subcommand("revoke", "Refuse an API key from now on");
  revoke->add_option("id", args.name, "Key id (or apiKeys/{id})")->required();
  revoke->add_option("--reason", args.reason, "Why (kept in its event)");
  revoke->callback([&args, &common, &rc] {
    v1::RevokeApiKeyRequest request;
    request.set_name(NameIn("apiKeys", args.name));
    request.set_reason(args.reason);
    rc = Unary(*StubOf<v1::AccessService>(common), &v1::AccessService::Stub::RevokeApiKey, request,
               common.timeout);
  });
  auto* access = app.add_subcommand("access", "Roles, teams and users (apply with `apply -f`)");
  access->require_subcommand(1);
  access->add_subcommand("show", "The access policy in force, as JSON")->callback([&common, &rc] {
    rc = Unary(*StubOf<v1::AccessService>(common), &v1::AccessService::Stub::GetAccessPolicy,
               v1::GetAccessPolicyRequest(), common.timeout);
  });
  auto* whoami = app.add_subcommand("whoami", "Who the server takes the caller for");
  whoami->callback([&common, &rc] {
    rc = Unary(*StubOf<v1::AccessService>(common), &v1::AccessService::Stub::GetCaller,
               v1::GetCallerRequest(), common.timeout);
  });
}

int main(int argc, char** argv) {
  CLI::App app{"leadflow: client of a running leadflowd"};
  app.require_subcommand(1);
  Common common;
  app.add_option("--target", common.target, "leadflowd address host:port")
      ->envname("LEADFLOW_TARGET")
      ->capture_default_str();
  app.add_option("--timeout", common.timeout, "Seconds per call")->capture_default_str();
  app.add_option("--tls-ca", common.tls.ca_file,
                 "Connect over TLS, trusting these CAs (PEM; without it: the system's)")
      ->envname("LEADFLOW_TLS_CA")
      ->group("TLS");
  app.add_option("--tls-cert", common.tls.cert_file, "Client certificate for mutual TLS (PEM)")
      ->envname("LEADFLOW_TLS_CERT")
      ->group("TLS");
  app.add_option("--tls-key", common.tls.key_file, "The client certificate's private key (PEM)")
      ->envname("LEADFLOW_TLS_KEY")
      ->group("TLS");
  app.add_option("--tls-server-name", common.tls.server_name,
                 "Name to check the server's certificate against (default: the target's host)")
      ->envname("LEADFLOW_TLS_SERVER_NAME")
      ->group("TLS");
  app.add_option("--token-file", common.token_file,
                 "File whose first line is the credential (an API key or a JWT; default: "
                 "$LEADFLOW_TOKEN, else ~/.config/leadflow/token)")
      ->envname("LEADFLOW_TOKEN_FILE");
  app.add_option("--request-id", RequestIdFlag(),
                 "Idempotency key of a change (default: a fresh one per run; the CLI's retries "
                 "reuse it)");
  app.add_option("-o,--output", OutputFlag(),
                 "json (one object per line), table or csv; auto: a table on a terminal, JSON "
                 "otherwise (reports take --format)")
      ->check(CLI::IsMember({"auto", "json", "table", "csv"}))
      ->envname("LEADFLOW_OUTPUT")
      ->capture_default_str();
  // Options of the whole CLI are accepted after the subcommand too.
  app.fallthrough();
  int rc = 0;

  // publish
  auto* publish = app.add_subcommand("publish", "Publish a channel event");
  publish->require_subcommand(1);
  CallArgs call;
  auto* pub_call =
      publish->add_subcommand("call", "A call (incoming, outgoing, missed, voicemail)");
  pub_call->add_option("--id", call.id, "Event id (idempotency key)")->required();
  pub_call->add_option("--phone", call.phone, "The customer's phone")->required();
  pub_call->add_option("--kind", call.kind, "incoming|outgoing|missed|voicemail")
      ->capture_default_str();
  pub_call->add_option("--operator", call.op, "The user who answered or called");
  pub_call->add_option("--line", call.line, "The telephony line");
  pub_call->add_option("--name", call.name, "Caller id name");
  pub_call->add_option("--duration", call.duration, "Seconds");
  pub_call->add_option("--recording", call.recording, "Recording URL");
  pub_call->add_option("--source", call.source, "The publishing integration")
      ->capture_default_str();
  pub_call->callback([&] {
    v1::ChannelEvent event;
    event.set_id(call.id);
    event.set_source(call.source);
    auto* c = event.mutable_call();
    absl::StatusOr<v1::CallKind> kind = config::ParseEnum<v1::CallKind>(call.kind);
    if (!kind.ok()) {
      rc = Invalid("--kind", kind.status());
      return;
    }
    c->set_kind(*kind);
    c->set_customer_phone(call.phone);
    c->set_operator_id(call.op);
    c->set_line(call.line);
    c->set_customer_name(call.name);
    c->set_duration_seconds(call.duration);
    c->set_recording_url(call.recording);
    rc = Publish(common, event);
  });
  EmailArgs email;
  auto* pub_email = publish->add_subcommand("email", "An email");
  pub_email->add_option("--id", email.id, "Event id (idempotency key)")->required();
  pub_email->add_option("--from", email.from, "Sender address")->required();
  pub_email->add_option("--name", email.name, "Sender name");
  pub_email->add_option("--subject", email.subject);
  pub_email->add_option("--body", email.body);
  pub_email->add_option("--message-id", email.message_id);
  pub_email->add_option("--source", email.source)->capture_default_str();
  pub_email->callback([&] {
    v1::ChannelEvent event;
    event.set_id(email.id);
    event.set_source(email.source);
    auto* e = event.mutable_email();
    e->set_from_address(email.from);
    e->set_from_name(email.name);
    e->set_subject(email.subject);
    e->set_body(email.body);
    e->set_message_id(email.message_id);
    rc = Publish(common, event);
  });

  FormArgs form;
  auto* pub_form = publish->add_subcommand("form", "A web form post");
  pub_form->add_option("--id", form.id, "Event id (idempotency key)")->required();
  pub_form->add_option("--form-id", form.form_id)->required();
  pub_form->add_option("--field", form.fields, "KEY=VALUE (name, phone, email, company, comment…)");
  pub_form->add_option("--page", form.page, "Page URL");
  pub_form->add_option("--utm-source", form.utm_source);
  pub_form->add_option("--utm-medium", form.utm_medium);
  pub_form->add_option("--utm-campaign", form.utm_campaign);
  pub_form->add_option("--source", form.source)->capture_default_str();
  pub_form->callback([&] {
    v1::ChannelEvent event;
    event.set_id(form.id);
    event.set_source(form.source);
    auto* f = event.mutable_web_form();
    f->set_form_id(form.form_id);
    f->set_page_url(form.page);
    f->mutable_utm()->set_source(form.utm_source);
    f->mutable_utm()->set_medium(form.utm_medium);
    f->mutable_utm()->set_campaign(form.utm_campaign);
    for (const auto& kv : form.fields) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "leadflow: --field takes KEY=VALUE, not '%s'\n", kv.c_str());
        rc = 2;
        return;
      }
      (*f->mutable_fields())[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    rc = Publish(common, event);
  });

  std::string json_file;
  auto* pub_json =
      publish->add_subcommand("json", "Any channel event as JSON (file or - for stdin)");
  pub_json->add_option("file", json_file, "File with a leadflow.v1.ChannelEvent in JSON")
      ->required();
  pub_json->callback([&] {
    std::stringstream text;
    if (json_file == "-") {
      text << std::cin.rdbuf();
    } else {
      std::ifstream in(json_file);
      if (!in) {
        std::fprintf(stderr, "leadflow: cannot read %s\n", json_file.c_str());
        rc = 2;
        return;
      }
      text << in.rdbuf();
    }
    v1::ChannelEvent event;
    if (auto s = FromJson(text.str(), &event); !s.ok()) {
      std::fprintf(stderr, "leadflow: %s\n", std::string(s.message()).c_str());
      rc = 2;
      return;
    }
    rc = Publish(common, event);
  });

  // leads
  using LeadStub = v1::LeadService::Stub;
  auto* leads = app.add_subcommand("leads", "Read and change leads");
  leads->require_subcommand(1);
  std::string status_filter, responsible_filter, source_filter;
  int page_size = 100;
  bool all_pages = false;
  auto* list = leads->add_subcommand("list", "List leads, one JSON object per line");
  list->add_option("--status", status_filter);
  list->add_option("--responsible", responsible_filter);
  list->add_option("--source", source_filter, "call|email|web-form|callback|chat|manual");
  list->add_option("--page-size", page_size)->capture_default_str();
  list->add_flag("--all", all_pages, "Follow page tokens to the end");
  list->callback([&] {
    v1::ListLeadsRequest request;
    request.set_status_id(status_filter);
    request.set_responsible_id(responsible_filter);
    request.set_page_size(page_size);
    if (!source_filter.empty()) {
      absl::StatusOr<v1::LeadSource> source = config::ParseEnum<v1::LeadSource>(source_filter);
      if (!source.ok()) {
        rc = Invalid("--source", source.status());
        return;
      }
      request.set_source(*source);
    }
    rc = Paged(
        *StubOf<v1::LeadService>(common), &LeadStub::ListLeads, request, common.timeout, all_pages,
        [](const v1::ListLeadsResponse& response) -> const auto& { return response.leads(); });
  });

  std::string lead_id;
  auto* get = leads->add_subcommand("get", "Get one lead");
  get->add_option("id", lead_id, "Lead id or leads/{id}")->required();
  get->callback([&] {
    v1::GetLeadRequest request;
    request.set_name(NameIn("leads", lead_id));
    rc = Unary(*StubOf<v1::LeadService>(common), &LeadStub::GetLead, request, common.timeout);
  });

  auto* timeline = leads->add_subcommand(
      "timeline", "A lead's history, oldest first: one event (who, when, why) per line");
  timeline->add_option("id", lead_id, "Lead id or leads/{id}")->required();
  timeline->callback([&] {
    v1::ListLeadTimelineRequest request;
    request.set_name(NameIn("leads", lead_id));
    request.set_page_size(1000);
    rc = Paged(
        *StubOf<v1::LeadService>(common), &LeadStub::ListLeadTimeline, request, common.timeout,
        /*all_pages=*/true, [](const v1::ListLeadTimelineResponse& response) -> const auto& {
          return response.events();
        });
  });

  std::string new_status, request_id;
  int64_t expected_version = -1;
  auto* set_status = leads->add_subcommand("set-status", "Move a lead to a status");
  set_status->add_option("id", lead_id)->required();
  set_status->add_option("status", new_status)->required();
  set_status->add_option("--expected-version", expected_version);
  set_status->add_option("--request-id", request_id);
  set_status->callback([&] {
    v1::ChangeLeadStatusRequest request;
    request.set_name(NameIn("leads", lead_id));
    request.set_status_id(new_status);
    request.set_request_id(request_id);
    if (expected_version >= 0) request.set_expected_version(expected_version);
    rc = Unary(*StubOf<v1::LeadService>(common), &LeadStub::ChangeLeadStatus, request,
               common.timeout);
  });

  std::string responsible;
  auto* assign = leads->add_subcommand("assign", "Set a lead's responsible");
  assign->add_option("id", lead_id)->required();
  assign->add_option("user", responsible)->required();
  assign->callback([&] {
    v1::AssignLeadRequest request;
    request.set_name(NameIn("leads", lead_id));
    request.set_responsible_id(responsible);
    rc = Unary(*StubOf<v1::LeadService>(common), &LeadStub::AssignLead, request, common.timeout);
  });

  DuplicateArgs duplicate;
  auto* duplicates = leads->add_subcommand(
      "duplicates", "Leads that may be the same person, one JSON object per line");
  AddDuplicateOptions(duplicates, duplicate);
  duplicates->callback([&] {
    // Every page, one after another.
    v1::FindDuplicateLeadsRequest request = DuplicateRequest(duplicate);
    do {
      rc = Call(*StubOf<v1::LeadService>(common), &LeadStub::FindDuplicateLeads, request,
                common.timeout, [&request](const v1::FindDuplicateLeadsResponse& response) {
                  request.set_page_token(response.next_page_token());
                  return PrintEach(response.duplicates());
                });
    } while (rc == 0 && !request.page_token().empty());
  });

  std::string reopen_reason, reopen_status, actor;
  auto* reopen = leads->add_subcommand("reopen", "Take a junk lead back into work (supervisors)");
  reopen->add_option("id", lead_id)->required();
  reopen->add_option("--reason", reopen_reason, "Why it is not junk")->required();
  reopen->add_option("--status", reopen_status, "An in-progress status (default: the first)");
  reopen->add_option("--actor", actor,
                     "Who does it: a supervisor (default: the caller; naming another needs the "
                     "right to act for others)");
  reopen->callback([&] {
    v1::ReopenLeadRequest request;
    request.set_name(NameIn("leads", lead_id));
    request.set_reason(reopen_reason);
    request.set_status_id(reopen_status);
    request.set_actor(actor);
    rc = Unary(*StubOf<v1::LeadService>(common), &LeadStub::ReopenLead, request, common.timeout);
  });

  std::string junk_reason, junk_text;
  auto* junk = leads->add_subcommand("junk", "Mark a lead junk");
  junk->add_option("id", lead_id)->required();
  junk->add_option("--reason", junk_reason, "spam|wrong-number|unreachable|defunct|duplicate|other")
      ->required();
  junk->add_option("--text", junk_text, "Required with --reason other");
  junk->callback([&] {
    v1::MarkLeadJunkRequest request;
    request.set_name(NameIn("leads", lead_id));
    absl::StatusOr<v1::JunkReason> reason = config::ParseEnum<v1::JunkReason>(junk_reason);
    if (!reason.ok()) {
      rc = Invalid("--reason", reason.status());
      return;
    }
    request.set_reason(*reason);
    request.set_text(junk_text);
    rc = Unary(*StubOf<v1::LeadService>(common), &LeadStub::MarkLeadJunk, request, common.timeout);
  });

  v1::ConvertLead conversion;
  auto* convert = leads->add_subcommand(
      "convert", "Convert a lead into a contact (+ company) and a deal, or a deal for a client");
  convert->add_option("id", lead_id, "Lead id or leads/{id}")->required();
  convert->add_option("--pipeline", *conversion.mutable_deal_pipeline_id(),
                      "The deal pipeline (default: default)");
  convert->add_option("--contact", *conversion.mutable_contact_id(), "An existing contact's id");
  convert->add_option("--company", *conversion.mutable_company_id(), "An existing company's id");
  bool create_company = false;
  convert->add_flag("--create-company", create_company,
                    "Also create a company from the lead's company title");
  convert->add_option("--title", *conversion.mutable_deal_title(),
                      "The deal's title (default: the lead's)");
  convert->add_option("--responsible", *conversion.mutable_responsible_id(),
                      "Of the deal and new records (default: the lead's)");
  convert->add_option("--request-id", request_id, "Idempotency key");
  convert->add_option("--actor", actor, kActorHelp);
  convert->callback([&] {
    v1::ConvertLeadRequest request;
    request.set_name(NameIn("leads", lead_id));
    *request.mutable_conversion() = conversion;
    request.mutable_conversion()->set_create_company(create_company);
    request.set_request_id(request_id);
    request.set_actor(actor);
    rc = Unary(*StubOf<v1::LeadService>(common), &LeadStub::ConvertLead, request, common.timeout);
  });

  std::string merged_id;
  auto* merge = leads->add_subcommand(
      "merge", "Merge a duplicate lead into the one kept (the merged one closes as duplicate)");
  merge->add_option("kept", lead_id, "The lead kept: id or leads/{id}")->required();
  merge->add_option("merged", merged_id, "The lead merged into it: id or leads/{id}")->required();
  merge->add_option("--request-id", request_id, "Idempotency key");
  merge->add_option("--actor", actor, kActorHelp);
  merge->callback([&] {
    v1::MergeLeadsRequest request;
    request.set_name(NameIn("leads", lead_id));
    request.set_merged(NameIn("leads", merged_id));
    request.set_request_id(request_id);
    request.set_actor(actor);
    rc = Unary(*StubOf<v1::LeadService>(common), &LeadStub::MergeLeads, request, common.timeout);
  });

  // apply, pipelines, robots
  PipelineArgs pipeline_args;
  AddPipelineCommands(app, pipeline_args, common, rc);

  // contacts, companies, deals, activities
  CrmArgs crm_args;
  AddCrmCommands(app, crm_args, common, rc);
  AccessArgs access_args;
  AddAccessCommands(app, access_args, common, rc);
  ReportArgs report_args;
  AddReportCommands(app, report_args, common, rc);
  AddBackupCommands(app, common, rc);
  AddImportCommand(app, common, rc);

  std::string counters_user;
  auto* counters = app.add_subcommand(
      "counters", "What a responsible has due today, overdue, and open without activity");
  counters->add_option("user", counters_user, "The responsible's user id")->required();
  counters->callback([&] {
    v1::GetCountersRequest request;
    request.set_responsible_id(counters_user);
    rc = Unary(*StubOf<v1::CrmService>(common), &v1::CrmService::Stub::GetCounters, request,
               common.timeout);
  });

  std::string item_name;
  auto* item_timeline = app.add_subcommand(
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

  auto* all_duplicates = app.add_subcommand(
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

  // events
  auto* events = app.add_subcommand("events", "The domain event log");
  events->require_subcommand(1);
  std::vector<std::string> from;
  bool follow = false;
  int64_t limit = 0;
  auto* tail = events->add_subcommand("tail", "Print events from a position");
  tail->add_option("--from", from, "PARTITION:OFFSET (repeatable; others start at 0)");
  tail->add_flag("--follow,-f", follow, "Keep following new events");
  tail->add_option("--limit", limit, "Stop after this many events");
  tail->callback([&] { rc = TailEvents(common, from, follow, false, limit); });
  std::string export_format = "jsonl";
  auto* export_cmd = events->add_subcommand(
      "export", "Write the event log up to its current end, for analytics (progress on stderr)");
  export_cmd->add_option("--from", from, "PARTITION:OFFSET (repeatable; others start at 0)");
  export_cmd
      ->add_option("--format", export_format,
                   "jsonl (one SubscribedEvent per line, as protobuf JSON) or csv "
                   "(position, time, type, aggregate, actor, id, payload as JSON)")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  export_cmd->callback([&] {
    ForceOutputFormat(export_format == "csv" ? OutputFormat::kCsv : OutputFormat::kJson);
    rc = TailEvents(common, from, false, true, 0);
  });

  auto* status_cmd = app.add_subcommand("status", "Processor progress and lag");
  status_cmd->callback([&] {
    rc = Unary(*StubOf<v1::AdminService>(common), &v1::AdminService::Stub::GetServerStatus,
               v1::GetServerStatusRequest(), common.timeout);
  });

  AddCompletionCommand(app, rc);
  CLI11_PARSE(app, argc, argv);
  FlushOutput();
  return rc;
}
