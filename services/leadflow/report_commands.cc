// `leadflow report`: the four reports as tables, CSV or JSON.
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
#include "report_tables.h"

namespace leadflow::cli {
namespace {

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

}  // namespace

void AddReportCommands(CLI::App& app, const Common& common, int& rc) {
  // Lives as long as the command line it is parsed from: the process.
  ReportArgs& args = *new ReportArgs();
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

}  // namespace leadflow::cli
