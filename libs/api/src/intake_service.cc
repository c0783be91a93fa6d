#include "leadflow/api/intake_service.h"

#include "absl/strings/str_cat.h"
#include "leadflow/api/caller_access.h"
#include "leadflow/api/command_gateway.h"
#include "leadflow/api/consistency_token.h"
#include "leadflow/api/status_mapping.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/channel_event_rules.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/input_limits.h"
#include "leadflow/domain/lead_aggregate.h"
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
  ConsistencyToken token;
  token.channel_events.insert(request->event().id());
  response->set_consistency_token(FormatConsistencyToken(token));
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
  ConsistencyToken token;
  for (const auto& event : request->events()) token.channel_events.insert(event.id());
  response->set_consistency_token(FormatConsistencyToken(token));
  return grpc::Status::OK;
}

grpc::Status IntakeServiceImpl::GetChannelEventLead(grpc::ServerContext* ctx,
                                                    const v1::GetChannelEventLeadRequest* request,
                                                    v1::ChannelEventLead* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->event_id().empty()) {
    return ToGrpcStatus(domain::InvalidField("event_id", "required"));
  }
  if (auto s = gateway_.AwaitPosition(ctx, {}, false, request->consistency_token()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  auto lead_id = context_->leads->LeadOfChannelEvent(request->event_id());
  if (!lead_id.ok()) return ToGrpcStatus(lead_id.status());
  if (!lead_id->has_value()) {
    return ToGrpcStatus(domain::FieldError(
        absl::StatusCode::kNotFound, "event_id",
        absl::StrCat("channel event ", request->event_id(),
                     " has not reached a lead (not published, not processed yet, or refused: "
                     "pass the publish reply's consistency_token to wait)")));
  }
  auto access = gateway_.AccessOf(*caller);
  if (!access.ok()) return ToGrpcStatus(access.status());
  // Follow merges to the lead that holds the event now (a merge chain is
  // short; the bound guards a cycle a bug could make).
  std::string current = **lead_id;
  for (int hops = 0; hops < 100; ++hops) {
    auto lead = context_->leads->Get(current);
    if (!lead.ok()) return ToGrpcStatus(lead.status());
    if (!lead->has_value()) break;
    if (hops == 0) {
      if (auto s = access->Check(**lead); !s.ok()) return ToGrpcStatus(s);
    }
    if ((*lead)->merged_into_lead_id().empty()) break;
    current = (*lead)->merged_into_lead_id();
  }
  response->set_event_id(request->event_id());
  response->set_lead(domain::LeadResourceName(**lead_id));
  response->set_current_lead(domain::LeadResourceName(current));
  return grpc::Status::OK;
}

}  // namespace leadflow::api
