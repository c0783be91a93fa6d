#pragma once

#include "leadflow/api/command_gateway.h"
#include "leadflow/api/service_context.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::api {

// Contacts, companies, deals, activities, timelines, duplicate search and
// counters over gRPC. Changes go through the CommandGateway like leads'.
class CrmServiceImpl final : public v1::CrmService::Service {
 public:
  explicit CrmServiceImpl(const ServiceContext* context) : context_(context), gateway_(context) {}

  grpc::Status CreateContact(grpc::ServerContext* ctx, const v1::CreateContactRequest* request,
                             v1::ItemCommandResponse* response) override;
  grpc::Status UpdateContact(grpc::ServerContext* ctx, const v1::UpdateContactRequest* request,
                             v1::ItemCommandResponse* response) override;
  grpc::Status GetContact(grpc::ServerContext* ctx, const v1::GetItemRequest* request,
                          v1::Contact* response) override;
  grpc::Status ListContacts(grpc::ServerContext* ctx, const v1::ListItemsRequest* request,
                            v1::ListContactsResponse* response) override;

  grpc::Status CreateCompany(grpc::ServerContext* ctx, const v1::CreateCompanyRequest* request,
                             v1::ItemCommandResponse* response) override;
  grpc::Status UpdateCompany(grpc::ServerContext* ctx, const v1::UpdateCompanyRequest* request,
                             v1::ItemCommandResponse* response) override;
  grpc::Status GetCompany(grpc::ServerContext* ctx, const v1::GetItemRequest* request,
                          v1::Company* response) override;
  grpc::Status ListCompanies(grpc::ServerContext* ctx, const v1::ListItemsRequest* request,
                             v1::ListCompaniesResponse* response) override;

  grpc::Status CreateDeal(grpc::ServerContext* ctx, const v1::CreateDealRequest* request,
                          v1::ItemCommandResponse* response) override;
  grpc::Status UpdateDeal(grpc::ServerContext* ctx, const v1::UpdateDealRequest* request,
                          v1::ItemCommandResponse* response) override;
  grpc::Status MoveDeal(grpc::ServerContext* ctx, const v1::MoveDealRequest* request,
                        v1::ItemCommandResponse* response) override;
  grpc::Status GetDeal(grpc::ServerContext* ctx, const v1::GetItemRequest* request,
                       v1::Deal* response) override;
  grpc::Status ListDeals(grpc::ServerContext* ctx, const v1::ListItemsRequest* request,
                         v1::ListDealsResponse* response) override;

  grpc::Status PlanActivity(grpc::ServerContext* ctx, const v1::PlanActivityRequest* request,
                            v1::ItemCommandResponse* response) override;
  grpc::Status CompleteActivity(grpc::ServerContext* ctx,
                                const v1::CompleteActivityRequest* request,
                                v1::ItemCommandResponse* response) override;
  grpc::Status RescheduleActivity(grpc::ServerContext* ctx,
                                  const v1::RescheduleActivityRequest* request,
                                  v1::ItemCommandResponse* response) override;
  grpc::Status GetActivity(grpc::ServerContext* ctx, const v1::GetItemRequest* request,
                           v1::Activity* response) override;
  grpc::Status ListActivities(grpc::ServerContext* ctx, const v1::ListItemsRequest* request,
                              v1::ListActivitiesResponse* response) override;

  grpc::Status GetCounters(grpc::ServerContext* ctx, const v1::GetCountersRequest* request,
                           v1::Counters* response) override;
  grpc::Status ListTimeline(grpc::ServerContext* ctx, const v1::ListTimelineRequest* request,
                            v1::ListTimelineResponse* response) override;
  grpc::Status FindDuplicates(grpc::ServerContext* ctx,
                              const v1::FindDuplicateLeadsRequest* request,
                              v1::FindDuplicatesResponse* response) override;

 private:
  // The item `name` names, which must be of `type`; NOT_FOUND naming "name",
  // PERMISSION_DENIED when the caller may not read it. Lists hold only what
  // it may read.
  absl::StatusOr<v1::AggregateState> GetItem(const grpc::ServerContext* ctx,
                                             const domain::Principal& caller,
                                             const v1::GetItemRequest& request,
                                             absl::string_view type) const;
  absl::StatusOr<processors::ItemReadModel::Page> ListItems(const grpc::ServerContext* ctx,
                                                            const domain::Principal& caller,
                                                            const v1::ListItemsRequest& request,
                                                            absl::string_view type) const;

  const ServiceContext* context_;
  const CommandGateway gateway_;
};

}  // namespace leadflow::api
