#pragma once

#include "leadflow/api/command_gateway.h"
#include "leadflow/api/service_context.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::api {

// Lead statuses and deal pipelines over gRPC: each pipeline is an
// aggregate ("pipeline/<id>") changed by commands, so its history is on the
// event log like everything else. Apply calls return once the change is in
// force on this instance (projected, so commands decided after see it).
class PipelineServiceImpl final : public v1::PipelineService::Service {
 public:
  explicit PipelineServiceImpl(const ServiceContext* context)
      : context_(context), gateway_(context) {}

  grpc::Status ListPipelines(grpc::ServerContext* ctx, const v1::ListPipelinesRequest* request,
                             v1::ListPipelinesResponse* response) override;
  grpc::Status GetPipeline(grpc::ServerContext* ctx, const v1::GetItemRequest* request,
                           v1::Pipeline* response) override;
  grpc::Status ApplyPipelines(grpc::ServerContext* ctx, const v1::ApplyPipelinesRequest* request,
                              v1::ApplyPipelinesResponse* response) override;
  grpc::Status RemovePipeline(grpc::ServerContext* ctx, const v1::RemovePipelineRequest* request,
                              v1::ApplyPipelinesResponse* response) override;
  // Reads the whole event log into memory and replays it with the proposed
  // rules (domain::RobotDryRun). Writes nothing.
  grpc::Status DryRunRobots(grpc::ServerContext* ctx, const v1::DryRunRobotsRequest* request,
                            v1::DryRunRobotsResponse* response) override;

 private:
  // Refuses (naming `field`.stages) removing a stage that leads or deals are
  // in, as far as this instance's read model knows: they would be left in a
  // stage nobody can move them out of by its name.
  absl::Status CheckRemovedStagesEmpty(const v1::Pipeline& before, const v1::Pipeline& after,
                                       absl::string_view field) const;
  // Submits the commands in order and waits until the events of each are
  // projected.
  absl::Status SubmitAll(const grpc::ServerContext* ctx, const domain::Principal& caller,
                         std::vector<v1::Command> commands,
                         v1::ApplyPipelinesResponse* response) const;

  const ServiceContext* context_;
  const CommandGateway gateway_;
};

}  // namespace leadflow::api
