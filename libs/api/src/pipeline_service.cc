#include "leadflow/api/pipeline_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "leadflow/api/status_mapping.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/pipelines.h"
#include "leadflow/domain/robots.h"

namespace leadflow::api {
namespace {

v1::Command PipelineCommand(absl::string_view pipeline_id, absl::string_view actor) {
  v1::Command command;
  command.set_command_id(CommandGateway::CommandId(pipeline_id, ""));
  command.set_aggregate_id(std::string(pipeline_id));
  command.set_actor(std::string(actor));
  return command;
}

absl::StatusOr<std::string> PipelineIdFromName(absl::string_view name) {
  LEADFLOW_ASSIGN_OR_RETURN(auto parsed, domain::ParseResourceName(name, "name"));
  if (parsed.first != "pipeline") {
    return domain::InvalidField("name", absl::StrCat("'", name, "' is not pipelines/{id}"));
  }
  return parsed.second;
}

// A proposed pipeline as a client may give it: output-only fields cleared.
void ClearOutputOnly(v1::Pipeline& pipeline) {
  pipeline.clear_version();
  pipeline.clear_removed();
  pipeline.clear_configure_time();
}

// Every proposed pipeline valid, none twice, none changing its kind.
absl::Status CheckProposed(const google::protobuf::RepeatedPtrField<v1::Pipeline>& proposed,
                           const domain::PipelineSet& current) {
  if (proposed.empty()) return domain::InvalidField("pipelines", "required");
  std::set<std::string> seen;
  for (int i = 0; i < proposed.size(); ++i) {
    const v1::Pipeline& pipeline = proposed.Get(i);
    const std::string at = absl::StrCat("pipelines[", i, "]");
    LEADFLOW_RETURN_IF_ERROR(domain::ValidatePipeline(pipeline, at));
    if (!seen.insert(pipeline.pipeline_id()).second) {
      return domain::InvalidField(absl::StrCat(at, ".pipeline_id"),
                                  absl::StrCat("'", pipeline.pipeline_id(), "' appears twice"));
    }
    const v1::Pipeline* before = current.Find(pipeline.pipeline_id());
    if (before != nullptr && before->kind() != pipeline.kind()) {
      return domain::InvalidField(absl::StrCat(at, ".kind"), "a pipeline's kind does not change");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PipelineServiceImpl::CheckRemovedStagesEmpty(const v1::Pipeline& before,
                                                          const v1::Pipeline& after,
                                                          absl::string_view field) const {
  for (const auto& stage : before.stages()) {
    if (domain::FindStage(after, stage.stage_id()) != nullptr) continue;
    size_t held = 0;
    if (before.kind() == v1::PIPELINE_KIND_LEAD) {
      processors::LeadReadModel::Query query;
      query.status_id = stage.stage_id();
      query.page_size = 1;
      LEADFLOW_ASSIGN_OR_RETURN(auto page, context_->leads->List(query));
      held = page.leads.size();
    } else {
      LEADFLOW_ASSIGN_OR_RETURN(
          auto page, context_->items->List("deal",
                                           {{"pipeline", before.pipeline_id(), "pipeline_id"},
                                            {"stage", stage.stage_id(), "stage_id"}},
                                           1, ""));
      held = page.items.size();
    }
    if (held > 0) {
      return domain::FieldError(
          absl::StatusCode::kFailedPrecondition, absl::StrCat(field, ".stages"),
          absl::StrCat("stage ", stage.stage_id(), " of ", before.pipeline_id(), " still holds ",
                       before.kind() == v1::PIPELINE_KIND_LEAD ? "leads" : "deals",
                       ": move them to another stage before removing it"));
    }
  }
  return absl::OkStatus();
}

absl::Status PipelineServiceImpl::SubmitAll(const grpc::ServerContext* ctx,
                                            std::vector<v1::Command> commands,
                                            v1::ApplyPipelinesResponse* response) const {
  // Pipelines land on different partitions: each must be projected before
  // the change is in force.
  std::vector<v1::LogPosition> positions;
  for (auto& command : commands) {
    LEADFLOW_ASSIGN_OR_RETURN(v1::CommandOutcome outcome, gateway_.Submit(ctx, command));
    if (outcome.has_position()) positions.push_back(outcome.position());
  }
  for (const auto& position : positions) {
    LEADFLOW_RETURN_IF_ERROR(gateway_.AwaitPosition(ctx, position, true));
    *response->mutable_position() = position;
  }
  return absl::OkStatus();
}

grpc::Status PipelineServiceImpl::ListPipelines(grpc::ServerContext* ctx,
                                                const v1::ListPipelinesRequest* request,
                                                v1::ListPipelinesResponse* response) {
  if (auto s = gateway_.AwaitPosition(ctx, request->min_position(), request->has_min_position());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  auto pipelines = gateway_.Pipelines();
  if (!pipelines.ok()) return ToGrpcStatus(pipelines.status());
  *response->add_pipelines() = pipelines->lead();
  for (const auto& [id, pipeline] : pipelines->all()) {
    if (pipeline.kind() != v1::PIPELINE_KIND_DEAL) continue;
    if (pipeline.removed() && !request->show_removed()) continue;
    *response->add_pipelines() = pipeline;
  }
  return grpc::Status::OK;
}

grpc::Status PipelineServiceImpl::GetPipeline(grpc::ServerContext* ctx,
                                              const v1::GetItemRequest* request,
                                              v1::Pipeline* response) {
  auto id = PipelineIdFromName(request->name());
  if (!id.ok()) return ToGrpcStatus(id.status());
  if (auto s = gateway_.AwaitPosition(ctx, request->min_position(), request->has_min_position());
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  auto pipelines = gateway_.Pipelines();
  if (!pipelines.ok()) return ToGrpcStatus(pipelines.status());
  const v1::Pipeline* pipeline = pipelines->Find(*id);
  if (pipeline == nullptr) {
    return ToGrpcStatus(domain::FieldError(absl::StatusCode::kNotFound, "name",
                                           absl::StrCat("pipeline ", *id, " does not exist")));
  }
  *response = *pipeline;
  return grpc::Status::OK;
}

grpc::Status PipelineServiceImpl::ApplyPipelines(grpc::ServerContext* ctx,
                                                 const v1::ApplyPipelinesRequest* request,
                                                 v1::ApplyPipelinesResponse* response) {
  auto current = gateway_.Pipelines();
  if (!current.ok()) return ToGrpcStatus(current.status());
  // Everything is checked before anything changes.
  if (auto s = CheckProposed(request->pipelines(), *current); !s.ok()) return ToGrpcStatus(s);
  std::vector<v1::Command> commands;
  for (int i = 0; i < request->pipelines_size(); ++i) {
    v1::Pipeline pipeline = request->pipelines(i);
    ClearOutputOnly(pipeline);
    const std::string at = absl::StrCat("pipelines[", i, "]");
    const v1::Pipeline* before = current->Find(pipeline.pipeline_id());
    v1::PipelineChange* change = response->add_changes();
    change->set_pipeline_id(pipeline.pipeline_id());
    if (before == nullptr) {
      change->set_action("create");
      v1::Pipeline empty;
      empty.set_title(pipeline.title());
      for (auto& line : domain::DiffPipeline(empty, pipeline)) change->add_details(std::move(line));
    } else {
      for (auto& line : domain::DiffPipeline(*before, pipeline)) {
        change->add_details(std::move(line));
      }
      if (auto s = CheckRemovedStagesEmpty(*before, pipeline, at); !s.ok()) return ToGrpcStatus(s);
      change->set_action(change->details_size() == 0 ? "unchanged" : "update");
    }
    if (change->action() == "unchanged") continue;
    v1::Command command = PipelineCommand(pipeline.pipeline_id(), request->actor());
    *command.mutable_configure_pipeline()->mutable_pipeline() = std::move(pipeline);
    commands.push_back(std::move(command));
  }
  if (request->dry_run()) return grpc::Status::OK;
  return ToGrpcStatus(SubmitAll(ctx, std::move(commands), response));
}

grpc::Status PipelineServiceImpl::RemovePipeline(grpc::ServerContext* ctx,
                                                 const v1::RemovePipelineRequest* request,
                                                 v1::ApplyPipelinesResponse* response) {
  auto id = PipelineIdFromName(request->name());
  if (!id.ok()) return ToGrpcStatus(id.status());
  auto current = gateway_.Pipelines();
  if (!current.ok()) return ToGrpcStatus(current.status());
  const v1::Pipeline* before = current->Find(*id);
  if (before == nullptr) {
    return ToGrpcStatus(domain::FieldError(absl::StatusCode::kNotFound, "name",
                                           absl::StrCat("pipeline ", *id, " does not exist")));
  }
  v1::PipelineChange* change = response->add_changes();
  change->set_pipeline_id(*id);
  change->set_action(before->removed() ? "unchanged" : "remove");
  if (request->dry_run() || before->removed()) return grpc::Status::OK;
  v1::Command command = PipelineCommand(*id, request->actor());
  command.mutable_remove_pipeline();
  std::vector<v1::Command> commands;
  commands.push_back(std::move(command));
  return ToGrpcStatus(SubmitAll(ctx, std::move(commands), response));
}

grpc::Status PipelineServiceImpl::DryRunRobots(grpc::ServerContext* ctx,
                                               const v1::DryRunRobotsRequest* request,
                                               v1::DryRunRobotsResponse* response) {
  auto current = gateway_.Pipelines();
  if (!current.ok()) return ToGrpcStatus(current.status());
  if (auto s = CheckProposed(request->pipelines(), *current); !s.ok()) return ToGrpcStatus(s);
  domain::DomainConfig config = context_->config;
  config.pipelines = *std::move(current);
  for (v1::Pipeline pipeline : request->pipelines()) {
    ClearOutputOnly(pipeline);
    config.pipelines.Put(std::move(pipeline));
  }
  const std::string topic(log::kEventsTopic);
  const int32_t partitions = context_->log->PartitionCount(topic);
  // The log as it is now, read whole, then replayed in time order (ties in
  // partition and offset order, as the records were read).
  std::vector<int64_t> ends(partitions, 0);
  for (int32_t p = 0; p < partitions; ++p) {
    auto end = context_->log->EndOffset(topic, p);
    if (!end.ok()) return ToGrpcStatus(end.status());
    ends[p] = *end;
  }
  auto reader = context_->log->OpenReader(topic, std::vector<int64_t>(partitions, 0));
  if (!reader.ok()) return ToGrpcStatus(reader.status());
  // Per partition in log order; merged by time below without reordering a
  // partition (an aggregate's events keep their order whatever their
  // times say).
  std::vector<std::vector<v1::EventEnvelope>> by_partition(partitions);
  const auto done = [&] {
    for (int32_t p = 0; p < partitions; ++p) {
      if ((*reader)->Position(p) < ends[p]) return false;
    }
    return true;
  };
  while (!done()) {
    if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    auto records = (*reader)->Poll(1000, absl::Milliseconds(200));
    if (!records.ok()) return ToGrpcStatus(records.status());
    for (const auto& record : *records) {
      if (record.offset >= ends[record.partition]) continue;
      v1::EventEnvelope event;
      if (event.ParseFromString(record.value)) {  // else dead-lettered
        by_partition[record.partition].push_back(std::move(event));
      }
    }
  }
  std::vector<size_t> next(partitions, 0);
  std::vector<v1::EventEnvelope> events;
  while (true) {
    int32_t earliest = -1;
    for (int32_t p = 0; p < partitions; ++p) {
      if (next[p] == by_partition[p].size()) continue;
      if (earliest < 0 || FromTimestamp(by_partition[p][next[p]].occur_time()) <
                              FromTimestamp(by_partition[earliest][next[earliest]].occur_time())) {
        earliest = p;
      }
    }
    if (earliest < 0) break;
    events.push_back(std::move(by_partition[earliest][next[earliest]++]));
  }
  domain::RobotDryRun dry_run(std::move(config), [partitions](absl::string_view id) {
    return log::PartitionForKey(id, partitions);
  });
  for (const auto& event : events) dry_run.Replay(event);
  dry_run.Finish(request->has_until() ? FromTimestamp(request->until()) : context_->clock->Now());
  response->set_events_read(static_cast<int64_t>(events.size()));
  for (const auto& run : dry_run.runs()) {
    if (!run.changes && run.refused.empty()) continue;  // a trigger's move that moves nothing
    v1::RobotRun* out = response->add_runs();
    *out->mutable_cause() = run.command.robot();
    *out->mutable_run_time() = ToTimestamp(run.run_time);
    *out->mutable_command() = run.command;
    out->set_summary(run.summary);
    out->set_refused(run.refused);
  }
  return grpc::Status::OK;
}

}  // namespace leadflow::api
