#pragma once

#include "leadflow/api/service_context.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::api {

// Streams the events topic to consumers that do not speak Kafka: every
// partition from its start offset, then new events as they come, until the
// client cancels or the server shuts down.
class EventServiceImpl final : public v1::EventService::Service {
 public:
  explicit EventServiceImpl(const ServiceContext* context) : context_(context) {}

  grpc::Status SubscribeEvents(grpc::ServerContext* ctx, const v1::SubscribeEventsRequest* request,
                               grpc::ServerWriter<v1::SubscribedEvent>* writer) override;
  grpc::Status SubscribeFollowUps(grpc::ServerContext* ctx,
                                  const v1::SubscribeEventsRequest* request,
                                  grpc::ServerWriter<v1::SubscribedFollowUp>* writer) override;

  // Makes open streams end (server shutdown).
  void Shutdown() { shutting_down_ = true; }

 private:
  const ServiceContext* context_;
  std::atomic<bool> shutting_down_{false};
};

// Operations status: how far each processor is behind.
class AdminServiceImpl final : public v1::AdminService::Service {
 public:
  explicit AdminServiceImpl(const ServiceContext* context) : context_(context) {}

  grpc::Status GetServerStatus(grpc::ServerContext* ctx, const v1::GetServerStatusRequest* request,
                               v1::ServerStatus* response) override;

 private:
  const ServiceContext* context_;
};

}  // namespace leadflow::api
