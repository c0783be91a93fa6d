#include "leadflow/api/report_service.h"

#include "absl/strings/str_cat.h"
#include "leadflow/api/status_mapping.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::api {

absl::StatusOr<ReportServiceImpl::Prepared> ReportServiceImpl::Prepare(
    grpc::ServerContext* ctx, const v1::ReportRequest& request, v1::AccessItem item,
    absl::string_view pipeline_id) const {
  LEADFLOW_ASSIGN_OR_RETURN(const domain::Principal caller, context_->auth->Authenticate(*ctx));
  Prepared prepared;
  LEADFLOW_ASSIGN_OR_RETURN(prepared.query,
                            domain::ReadReportQuery(request, context_->time_zone_name,
                                                    context_->time_zone, context_->clock->Now()));
  LEADFLOW_ASSIGN_OR_RETURN(CallerAccess access, gateway_.AccessOf(caller));
  if (!access.MayReadAny(item, pipeline_id)) {
    return absl::PermissionDeniedError(
        absl::StrCat(caller.name, " may read no ", domain::AccessItemName(item),
                     item == v1::ACCESS_ITEM_DEAL ? absl::StrCat(" of pipeline ", pipeline_id) : "",
                     ": the report counts them"));
  }
  if (!request.team().empty()) {
    LEADFLOW_ASSIGN_OR_RETURN(prepared.query.members, access.TeamMembers(request.team(), "team"));
    prepared.query.team_filter = true;
  }
  prepared.access.emplace(std::move(access));
  LEADFLOW_RETURN_IF_ERROR(gateway_.AwaitPosition(
      ctx, request.min_position(), request.has_min_position(), request.consistency_token()));
  return prepared;
}

absl::StatusOr<std::vector<domain::ReportCellView>> ReportServiceImpl::VisibleCells(
    const Prepared& prepared, absl::string_view families, bool* restricted) const {
  std::vector<domain::ReportCellView> visible;
  std::map<std::tuple<char, std::string, std::string>, bool> seen;
  for (char family : families) {
    LEADFLOW_ASSIGN_OR_RETURN(
        auto cells, context_->reports->Cells(family, prepared.query.from, prepared.query.to));
    for (auto& view : cells) {
      const auto& dims = view.key.dims;
      const bool deal = family == 'd' || family == 'w';
      auto [it, added] = seen.try_emplace(
          {family, deal ? dims.pipeline_id() : std::string(), dims.responsible_id()}, false);
      if (added) {
        const v1::AccessItem item = deal            ? v1::ACCESS_ITEM_DEAL
                                    : family == 'a' ? v1::ACCESS_ITEM_ACTIVITY
                                                    : v1::ACCESS_ITEM_LEAD;
        it->second =
            prepared.access->VisibleFigures(item, dims.pipeline_id(), dims.responsible_id());
      }
      if (!it->second) {
        *restricted = true;
        continue;
      }
      visible.push_back(std::move(view));
    }
  }
  return visible;
}

grpc::Status ReportServiceImpl::GetFunnelReport(grpc::ServerContext* ctx,
                                                const v1::ReportRequest* request,
                                                v1::FunnelReport* response) {
  const bool leads =
      request->pipeline_id().empty() || request->pipeline_id() == domain::kLeadPipelineId;
  const std::string pipeline_id =
      leads ? std::string(domain::kLeadPipelineId) : request->pipeline_id();
  auto prepared =
      Prepare(ctx, *request, leads ? v1::ACCESS_ITEM_LEAD : v1::ACCESS_ITEM_DEAL, pipeline_id);
  if (!prepared.ok()) return ToGrpcStatus(prepared.status());
  auto pipelines = gateway_.Pipelines();
  if (!pipelines.ok()) return ToGrpcStatus(pipelines.status());
  const v1::Pipeline* pipeline = leads ? &pipelines->lead() : pipelines->FindDeal(pipeline_id);
  if (pipeline == nullptr) {
    return ToGrpcStatus(domain::FieldError(absl::StatusCode::kNotFound, "pipeline_id",
                                           absl::StrCat("no pipeline '", pipeline_id, "'")));
  }
  bool restricted = false;
  auto cells = VisibleCells(*prepared, leads ? "l" : "d", &restricted);
  if (!cells.ok()) return ToGrpcStatus(cells.status());
  *response = domain::BuildFunnelReport(prepared->query, *pipeline, *cells);
  response->set_restricted(restricted);
  return grpc::Status::OK;
}

grpc::Status ReportServiceImpl::GetSourceReport(grpc::ServerContext* ctx,
                                                const v1::ReportRequest* request,
                                                v1::SourceReport* response) {
  auto prepared = Prepare(ctx, *request, v1::ACCESS_ITEM_LEAD, "");
  if (!prepared.ok()) return ToGrpcStatus(prepared.status());
  bool restricted = false;
  auto cells = VisibleCells(*prepared, "lw", &restricted);
  if (!cells.ok()) return ToGrpcStatus(cells.status());
  *response = domain::BuildSourceReport(prepared->query, *cells);
  response->set_restricted(restricted);
  return grpc::Status::OK;
}

grpc::Status ReportServiceImpl::GetManagerReport(grpc::ServerContext* ctx,
                                                 const v1::ReportRequest* request,
                                                 v1::ManagerReport* response) {
  auto prepared = Prepare(ctx, *request, v1::ACCESS_ITEM_LEAD, "");
  if (!prepared.ok()) return ToGrpcStatus(prepared.status());
  bool restricted = false;
  auto cells = VisibleCells(*prepared, "lwa", &restricted);
  if (!cells.ok()) return ToGrpcStatus(cells.status());
  const absl::Time now = context_->clock->Now();
  absl::Status failed = absl::OkStatus();
  *response = domain::BuildManagerReport(
      prepared->query, *cells, [&](const std::string& responsible) -> int64_t {
        if (!prepared->access->CheckCountersOf(responsible).ok()) return 0;
        auto overdue = context_->counters->Overdue(responsible, now);
        if (!overdue.ok()) {
          failed = overdue.status();
          return 0;
        }
        return *overdue;
      });
  if (!failed.ok()) return ToGrpcStatus(failed);
  response->set_restricted(restricted);
  return grpc::Status::OK;
}

grpc::Status ReportServiceImpl::GetFirstContactReport(grpc::ServerContext* ctx,
                                                      const v1::ReportRequest* request,
                                                      v1::FirstContactReport* response) {
  auto prepared = Prepare(ctx, *request, v1::ACCESS_ITEM_LEAD, "");
  if (!prepared.ok()) return ToGrpcStatus(prepared.status());
  bool restricted = false;
  auto cells = VisibleCells(*prepared, "l", &restricted);
  if (!cells.ok()) return ToGrpcStatus(cells.status());
  *response = domain::BuildFirstContactReport(prepared->query, *cells);
  response->set_restricted(restricted);
  return grpc::Status::OK;
}

}  // namespace leadflow::api
