#pragma once

#include "leadflow/api/command_gateway.h"
#include "leadflow/api/service_context.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::api {

// Leads over gRPC. Changes become Commands on the commands topic; the
// call waits for the partition's writer to apply them and returns the
// outcome. Reads come from the read model, optionally after waiting for a
// log position.
class LeadServiceImpl final : public v1::LeadService::Service {
 public:
  explicit LeadServiceImpl(const ServiceContext* context) : context_(context), gateway_(context) {}

  grpc::Status CreateLead(grpc::ServerContext* ctx, const v1::CreateLeadRequest* request,
                          v1::LeadCommandResponse* response) override;
  grpc::Status GetLead(grpc::ServerContext* ctx, const v1::GetLeadRequest* request,
                       v1::Lead* response) override;
  grpc::Status ListLeads(grpc::ServerContext* ctx, const v1::ListLeadsRequest* request,
                         v1::ListLeadsResponse* response) override;
  grpc::Status FindDuplicateLeads(grpc::ServerContext* ctx,
                                  const v1::FindDuplicateLeadsRequest* request,
                                  v1::FindDuplicateLeadsResponse* response) override;
  grpc::Status ListLeadTimeline(grpc::ServerContext* ctx,
                                const v1::ListLeadTimelineRequest* request,
                                v1::ListLeadTimelineResponse* response) override;
  grpc::Status UpdateLead(grpc::ServerContext* ctx, const v1::UpdateLeadRequest* request,
                          v1::LeadCommandResponse* response) override;
  grpc::Status ChangeLeadStatus(grpc::ServerContext* ctx,
                                const v1::ChangeLeadStatusRequest* request,
                                v1::LeadCommandResponse* response) override;
  grpc::Status AssignLead(grpc::ServerContext* ctx, const v1::AssignLeadRequest* request,
                          v1::LeadCommandResponse* response) override;
  grpc::Status ReopenLead(grpc::ServerContext* ctx, const v1::ReopenLeadRequest* request,
                          v1::LeadCommandResponse* response) override;
  grpc::Status MarkLeadJunk(grpc::ServerContext* ctx, const v1::MarkLeadJunkRequest* request,
                            v1::LeadCommandResponse* response) override;

  grpc::Status ConvertLead(grpc::ServerContext* ctx, const v1::ConvertLeadRequest* request,
                           v1::LeadCommandResponse* response) override;
  grpc::Status MergeLeads(grpc::ServerContext* ctx, const v1::MergeLeadsRequest* request,
                          v1::LeadCommandResponse* response) override;

 private:
  const ServiceContext* context_;
  const CommandGateway gateway_;
};

}  // namespace leadflow::api
