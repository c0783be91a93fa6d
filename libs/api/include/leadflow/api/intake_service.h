#pragma once

#include "leadflow/api/command_gateway.h"
#include "leadflow/api/service_context.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::api {

// Checks channel events and appends them to the intake topic, keyed by the
// person's identity. Invalid events are refused with the field named and
// never reach the log.
class IntakeServiceImpl final : public v1::IntakeService::Service {
 public:
  explicit IntakeServiceImpl(const ServiceContext* context)
      : context_(context), gateway_(context) {}

  grpc::Status PublishChannelEvent(grpc::ServerContext* ctx,
                                   const v1::PublishChannelEventRequest* request,
                                   v1::PublishChannelEventResponse* response) override;
  grpc::Status PublishChannelEvents(grpc::ServerContext* ctx,
                                    const v1::PublishChannelEventsRequest* request,
                                    v1::PublishChannelEventsResponse* response) override;
  grpc::Status GetChannelEventLead(grpc::ServerContext* ctx,
                                   const v1::GetChannelEventLeadRequest* request,
                                   v1::ChannelEventLead* response) override;

 private:
  const ServiceContext* context_;
  const CommandGateway gateway_;
};

}  // namespace leadflow::api
