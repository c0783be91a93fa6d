#include "leadflow/api/intake_service.h"

#include "absl/strings/str_cat.h"
#include "leadflow/api/caller_access.h"
#include "leadflow/api/command_gateway.h"
#include "leadflow/api/status_mapping.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/channel_event_rules.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/input_limits.h"
#include "leadflow/processors/intake_processor.h"

namespace leadflow::api {
namespace {

constexpr int kMaxBatch = domain::InputLimits::kBatchItems;

absl::StatusOr<log::OutgoingRecord> ToIntakeRecord(const v1::ChannelEvent& event,
                                                   absl::string_view field,
                                                   const ServiceContext& context) {
  auto normalized = domain::NormalizeChannelEvent(event, context.config);
  if (!normalized.ok()) return domain::NestField(normalized.status(), field);
  if (!normalized->has_occur_time()) {
    *normalized->mutable_occur_time() = ToTimestamp(context.clock->Now());
  }
  log::OutgoingRecord record;
  record.topic = std::string(log::kIntakeTopic);
  record.key = domain::IntakeRoutingKey(*normalized);
  record.headers =
      log::CloudEventHeaders(normalized->id(), "leadflow.v1.ChannelEvent", normalized->source(),
                             FromTimestamp(normalized->occur_time()));
  record.value = SerializeDeterministic(*normalized);
  return record;
}

void SetPosition(const log::Position& from, v1::LogPosition* to) {
  to->set_topic(from.topic);
  to->set_partition(from.partition);
  to->set_offset(from.offset);
}

// Publishing makes leads: it needs the right to create them.
absl::Status MayPublish(const ServiceContext& context, const domain::Principal& caller) {
  LEADFLOW_ASSIGN_OR_RETURN(CallerAccess access,
                            CallerAccess::For(caller, *context.items, *context.leads));
  return access.MayPublish();
}

}  // namespace

grpc::Status IntakeServiceImpl::PublishChannelEvent(grpc::ServerContext* ctx,
                                                    const v1::PublishChannelEventRequest* request,
                                                    v1::PublishChannelEventResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (auto s = MayPublish(*context_, *caller); !s.ok()) return ToGrpcStatus(s);
  if (!request->has_event()) return ToGrpcStatus(domain::InvalidField("event", "required"));
  auto record = ToIntakeRecord(request->event(), "event", *context_);
  if (!record.ok()) return ToGrpcStatus(record.status());
  std::vector<log::OutgoingRecord> records;
  records.push_back(*std::move(record));
  auto positions = context_->log->Append(
      std::move(records), CommandGateway::CallDeadline(ctx, absl::InfiniteDuration()));
  if (!positions.ok()) return ToGrpcStatus(positions.status());
  SetPosition(positions->front(), response->mutable_position());
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::PublishChannelEvents(grpc::ServerContext* ctx,
                                                     const v1::PublishChannelEventsRequest* request,
                                                     v1::PublishChannelEventsResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (auto s = MayPublish(*context_, *caller); !s.ok()) return ToGrpcStatus(s);
  if (request->events_size() == 0) return ToGrpcStatus(domain::InvalidField("events", "empty"));
  if (request->events_size() > kMaxBatch) {
    return ToGrpcStatus(
        domain::InvalidField("events", absl::StrCat("more than ", kMaxBatch, " events")));
  }
  std::vector<log::OutgoingRecord> records;
  records.reserve(request->events_size());
  for (int i = 0; i < request->events_size(); ++i) {
    auto record = ToIntakeRecord(request->events(i), absl::StrCat("events[", i, "]"), *context_);
    if (!record.ok()) return ToGrpcStatus(record.status());
    records.push_back(*std::move(record));
  }
  auto positions = context_->log->Append(
      std::move(records), CommandGateway::CallDeadline(ctx, absl::InfiniteDuration()));
  if (!positions.ok()) return ToGrpcStatus(positions.status());
  for (const auto& position : *positions) SetPosition(position, response->add_positions());
  return grpc::Status::OK;
}

}  // namespace leadflow::api
