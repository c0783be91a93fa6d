#include "leadflow/api/pipeline_service.h"

#include <algorithm>
#include <deque>
#include <set>

#include "absl/strings/str_cat.h"
#include "leadflow/api/status_mapping.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/access_policy.h"
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
                                            const domain::Principal& caller,
                                            std::vector<v1::Command> commands,
                                            v1::ApplyPipelinesResponse* response) const {
  // Pipelines land on different partitions: each must be projected before
  // the change is in force.
  std::vector<v1::LogPosition> positions;
  // All or nothing: every pipeline's right is checked before any is applied.
  LEADFLOW_ASSIGN_OR_RETURN(std::shared_ptr<const v1::AccessPolicy> policy,
                            context_->items->AccessPolicy());
  for (const auto& command : commands) {
    LEADFLOW_RETURN_IF_ERROR(domain::PermitCommand(*policy, caller, command, {}));
  }
  for (auto& command : commands) {
    LEADFLOW_ASSIGN_OR_RETURN(v1::CommandOutcome outcome, gateway_.Submit(ctx, caller, command));
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
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (auto s = gateway_.AwaitPosition(ctx, request->min_position(), request->has_min_position(),
                                      request->consistency_token());
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
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto id = PipelineIdFromName(request->name());
  if (!id.ok()) return ToGrpcStatus(id.status());
  if (auto s = gateway_.AwaitPosition(ctx, request->min_position(), request->has_min_position(),
                                      request->consistency_token());
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
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
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
  return ToGrpcStatus(SubmitAll(ctx, *caller, std::move(commands), response));
}

grpc::Status PipelineServiceImpl::RemovePipeline(grpc::ServerContext* ctx,
                                                 const v1::RemovePipelineRequest* request,
                                                 v1::ApplyPipelinesResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
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
  return ToGrpcStatus(SubmitAll(ctx, *caller, std::move(commands), response));
}

grpc::Status PipelineServiceImpl::DryRunRobots(grpc::ServerContext* ctx,
                                               const v1::DryRunRobotsRequest* request,
                                               v1::DryRunRobotsResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  // A dry run replays every item's events: it needs the right to
  // configure each pipeline it proposes (the lead statuses when none).
  auto policy = context_->items->AccessPolicy();
  if (!policy.ok()) return ToGrpcStatus(policy.status());
  std::vector<v1::Command> configures;
  for (const v1::Pipeline& pipeline : request->pipelines()) {
    *configures.emplace_back().mutable_configure_pipeline()->mutable_pipeline() = pipeline;
  }
  if (configures.empty()) {
    configures.emplace_back().mutable_configure_pipeline()->mutable_pipeline()->set_kind(
        v1::PIPELINE_KIND_LEAD);
  }
  for (const v1::Command& configure : configures) {
    if (auto s = domain::PermitCommand(**policy, *caller, configure, {}); !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  auto current = gateway_.Pipelines();
  if (!current.ok()) return ToGrpcStatus(current.status());
  if (auto s = CheckProposed(request->pipelines(), *current); !s.ok()) return ToGrpcStatus(s);
  domain::DomainConfig config = context_->config;
  config.pipelines = *std::move(current);
  for (v1::Pipeline pipeline : request->pipelines()) {
    ClearOutputOnly(pipeline);
    config.pipelines.Put(std::move(pipeline));
  }
  config.pipelines = domain::WithAccessTeams(std::move(config.pipelines), **policy);
  const std::string topic(log::kEventsTopic);
  const int32_t partitions = context_->log->PartitionCount(topic);
  // The log as it is now, replayed in time order (ties in partition order)
  // without reordering a partition (an aggregate's events keep their order
  // whatever their times say): a merge of the partitions read side by side,
  // a batch of each in memory at a time, not the whole log.
  std::vector<int64_t> ends(partitions, 0);
  std::vector<std::unique_ptr<log::LogReader>> readers(partitions);
  for (int32_t p = 0; p < partitions; ++p) {
    auto end = context_->log->EndOffset(topic, p);
    if (!end.ok()) return ToGrpcStatus(end.status());
    ends[p] = *end;
    if (ends[p] == 0) continue;
    auto reader = context_->log->OpenPartitionReader(topic, p, 0);
    if (!reader.ok()) return ToGrpcStatus(reader.status());
    readers[p] = *std::move(reader);
  }
  const absl::Time deadline = CommandGateway::CallDeadline(ctx, absl::Minutes(10));
  std::vector<std::deque<v1::EventEnvelope>> heads(partitions);
  // Refills a partition's batch when it ran out; false when it has no more.
  auto refill = [&](int32_t p) -> absl::StatusOr<bool> {
    while (heads[p].empty()) {
      if (readers[p] == nullptr || readers[p]->Position(p) >= ends[p]) return false;
      if (ctx->IsCancelled()) return absl::CancelledError("cancelled");
      if (absl::Now() > deadline) {
        return absl::DeadlineExceededError("the dry run did not finish within the call's deadline");
      }
      LEADFLOW_ASSIGN_OR_RETURN(auto records, readers[p]->Poll(1000, absl::Milliseconds(200)));
      for (const auto& record : records) {
        if (record.offset >= ends[p]) continue;
        v1::EventEnvelope event;
        if (event.ParseFromString(record.value)) {  // else dead-lettered
          heads[p].push_back(std::move(event));
        }
      }
    }
    return true;
  };
  domain::RobotDryRun dry_run(std::move(config), [partitions](absl::string_view id) {
    return log::PartitionForKey(id, partitions);
  });
  int64_t events_read = 0;
  // Runs go into the answer as they come, the first kMaxDryRunRuns of them;
  // the others are counted.
  constexpr int kMaxDryRunRuns = 10000;
  int64_t runs_total = 0;
  auto access = gateway_.AccessOf(*caller);
  if (!access.ok()) return ToGrpcStatus(access.status());
  absl::Status visibility;
  auto take_runs = [&] {
    for (auto& run : dry_run.TakeRuns()) {
      if (!run.changes && run.refused.empty()) continue;  // a trigger's move that moves nothing
      // Only runs on items the caller may read (the item as it is now).
      if (!access->Unrestricted()) {
        auto item = domain::ParseResourceName(run.command.robot().item(), "item");
        if (!item.ok()) continue;
        auto visible = access->VisibleAggregate(item->first, item->second);
        if (!visible.ok()) visibility.Update(visible.status());
        if (!visible.ok() || !*visible) continue;
      }
      if (runs_total++ >= kMaxDryRunRuns) continue;
      v1::RobotRun* out = response->add_runs();
      *out->mutable_cause() = run.command.robot();
      *out->mutable_run_time() = ToTimestamp(run.run_time);
      *out->mutable_command() = std::move(run.command);
      out->set_summary(std::move(run.summary));
      out->set_refused(std::move(run.refused));
    }
  };
  while (true) {
    int32_t earliest = -1;
    for (int32_t p = 0; p < partitions; ++p) {
      absl::StatusOr<bool> more = refill(p);
      if (!more.ok()) return ToGrpcStatus(more.status());
      if (!*more) continue;
      if (earliest < 0 || FromTimestamp(heads[p].front().occur_time()) <
                              FromTimestamp(heads[earliest].front().occur_time())) {
        earliest = p;
      }
    }
    if (earliest < 0) break;
    dry_run.Replay(heads[earliest].front());
    heads[earliest].pop_front();
    ++events_read;
    take_runs();
  }
  dry_run.Finish(request->has_until() ? FromTimestamp(request->until()) : context_->clock->Now());
  take_runs();
  response->set_events_read(events_read);
  if (!visibility.ok()) return ToGrpcStatus(visibility);
  response->set_runs_total(runs_total);
  return grpc::Status::OK;
}

}  // namespace leadflow::api
