// `leadflow events tail|export`, `status`: the event log and the processors' progress.
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
#include "output.h"

namespace leadflow::cli {
namespace {

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

void AddEventCommands(CLI::App& app, const Common& common, int& rc) {
  static auto* events = app.add_subcommand("events", "The domain event log");
  events->require_subcommand(1);
  static std::vector<std::string> from;
  static bool follow = false;
  static int64_t limit = 0;
  static auto* tail = events->add_subcommand("tail", "Print events from a position");
  tail->add_option("--from", from, "PARTITION:OFFSET (repeatable; others start at 0)");
  tail->add_flag("--follow,-f", follow, "Keep following new events");
  tail->add_option("--limit", limit, "Stop after this many events");
  tail->callback([&] { rc = TailEvents(common, from, follow, false, limit); });
  static std::string export_format = "jsonl";
  static auto* export_cmd = events->add_subcommand(
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

  static auto* status_cmd = app.add_subcommand("status", "Processor progress and lag");
  status_cmd->callback([&] {
    rc = Unary(*StubOf<v1::AdminService>(common), &v1::AdminService::Stub::GetServerStatus,
               v1::GetServerStatusRequest(), common.timeout);
  });
}

}  // namespace leadflow::cli
