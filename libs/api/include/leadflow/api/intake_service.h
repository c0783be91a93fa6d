#pragma once

#include "leadflow/api/service_context.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::api {

// Checks channel events and appends them to the intake topic, keyed by the
// person's identity. Invalid events are refused with the field named and
// never reach the log.
class IntakeServiceImpl final : public v1::IntakeService::Service {
 public:
  explicit IntakeServiceImpl(const ServiceContext* context) : context_(context) {}

  grpc::Status PublishChannelEvent(grpc::ServerContext* ctx,
                                   const v1::PublishChannelEventRequest* request,
                                   v1::PublishChannelEventResponse* response) override;
  grpc::Status PublishChannelEvents(grpc::ServerContext* ctx,
                                    const v1::PublishChannelEventsRequest* request,
                                    v1::PublishChannelEventsResponse* response) override;

 private:
  const ServiceContext* context_;
};

}  // namespace leadflow::api
