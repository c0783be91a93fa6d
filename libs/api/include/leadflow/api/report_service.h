#pragma once

#include "leadflow/api/command_gateway.h"
#include "leadflow/api/service_context.h"
#include "leadflow/v1/reports.grpc.pb.h"

namespace leadflow::api {

// Reports over gRPC: the request is checked (domain::ReadReportQuery),
// the cells of its range read from the ReportReadModel, the cells of items
// the caller may not read left out, and the report built by the domain.
class ReportServiceImpl final : public v1::ReportService::Service {
 public:
  explicit ReportServiceImpl(const ServiceContext* context)
      : context_(context), gateway_(context) {}

  grpc::Status GetFunnelReport(grpc::ServerContext* ctx, const v1::ReportRequest* request,
                               v1::FunnelReport* response) override;
  grpc::Status GetSourceReport(grpc::ServerContext* ctx, const v1::ReportRequest* request,
                               v1::SourceReport* response) override;
  grpc::Status GetManagerReport(grpc::ServerContext* ctx, const v1::ReportRequest* request,
                                v1::ManagerReport* response) override;
  grpc::Status GetFirstContactReport(grpc::ServerContext* ctx, const v1::ReportRequest* request,
                                     v1::FirstContactReport* response) override;

 private:
  struct Prepared {
    domain::ReportQuery query;
    std::optional<CallerAccess> access;
  };
  // Authenticates, checks the request, resolves the team, waits for
  // min_position, and refuses a caller who may read no lead (or, for a
  // deal pipeline's funnel, no deal of it).
  absl::StatusOr<Prepared> Prepare(grpc::ServerContext* ctx, const v1::ReportRequest& request,
                                   v1::AccessItem item, absl::string_view pipeline_id) const;
  // The cells of `families` in the query's range that the caller may read;
  // `restricted` is set when any was left out.
  absl::StatusOr<std::vector<domain::ReportCellView>> VisibleCells(const Prepared& prepared,
                                                                   absl::string_view families,
                                                                   bool* restricted) const;

  const ServiceContext* context_;
  const CommandGateway gateway_;
};

}  // namespace leadflow::api
