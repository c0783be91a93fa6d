// `leadflow leads`: reading and changing leads.
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

void AddLeadCommands(CLI::App& app, const Common& common, int& rc) {
  using LeadStub = v1::LeadService::Stub;
  static auto* leads = app.add_subcommand("leads", "Read and change leads");
  leads->require_subcommand(1);
  static std::string status_filter, responsible_filter, source_filter;
  static int page_size = 100;
  static bool all_pages = false;
  static auto* list = leads->add_subcommand("list", "List leads, one JSON object per line");
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

  static std::string lead_id;
  static auto* get = leads->add_subcommand("get", "Get one lead");
  get->add_option("id", lead_id, "Lead id or leads/{id}")->required();
  get->callback([&] {
    v1::GetLeadRequest request;
    request.set_name(NameIn("leads", lead_id));
    rc = Unary(*StubOf<v1::LeadService>(common), &LeadStub::GetLead, request, common.timeout);
  });

  static auto* timeline = leads->add_subcommand(
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

  static std::string new_status, request_id;
  static int64_t expected_version = -1;
  static auto* set_status = leads->add_subcommand("set-status", "Move a lead to a status");
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

  static std::string responsible;
  static auto* assign = leads->add_subcommand("assign", "Set a lead's responsible");
  assign->add_option("id", lead_id)->required();
  assign->add_option("user", responsible)->required();
  assign->callback([&] {
    v1::AssignLeadRequest request;
    request.set_name(NameIn("leads", lead_id));
    request.set_responsible_id(responsible);
    rc = Unary(*StubOf<v1::LeadService>(common), &LeadStub::AssignLead, request, common.timeout);
  });

  static DuplicateArgs duplicate;
  static auto* duplicates = leads->add_subcommand(
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

  static std::string reopen_reason, reopen_status, actor;
  static auto* reopen =
      leads->add_subcommand("reopen", "Take a junk lead back into work (supervisors)");
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

  static std::string junk_reason, junk_text;
  static auto* junk = leads->add_subcommand("junk", "Mark a lead junk");
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

  static v1::ConvertLead conversion;
  static auto* convert = leads->add_subcommand(
      "convert", "Convert a lead into a contact (+ company) and a deal, or a deal for a client");
  convert->add_option("id", lead_id, "Lead id or leads/{id}")->required();
  convert->add_option("--pipeline", *conversion.mutable_deal_pipeline_id(),
                      "The deal pipeline (default: default)");
  convert->add_option("--contact", *conversion.mutable_contact_id(), "An existing contact's id");
  convert->add_option("--company", *conversion.mutable_company_id(), "An existing company's id");
  static bool create_company = false;
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

  static std::string merged_id;
  static auto* merge = leads->add_subcommand(
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
}

}  // namespace leadflow::cli
