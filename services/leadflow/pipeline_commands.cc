// `leadflow apply`, `pipelines`, `robots`: configuration from YAML files.
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

}  // namespace

void AddPipelineCommands(CLI::App& app, const Common& common, int& rc) {
  // Lives as long as the command line it is parsed from: the process.
  PipelineArgs& args = *new PipelineArgs();
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

}  // namespace leadflow::cli
