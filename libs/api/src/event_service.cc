#include "leadflow/api/event_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/api/caller_access.h"
#include "leadflow/api/status_mapping.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::api {

namespace {

// Streams `topic` from the request's start offsets until the client
// cancels or the server shuts down; `write` sends one record (false: the
// client went away) given what the caller may read.
template <typename Write>
grpc::Status StreamTopic(const ServiceContext* context, const std::atomic<bool>& shutting_down,
                         grpc::ServerContext* ctx, absl::string_view topic_name,
                         const v1::SubscribeEventsRequest& request, Write write) {
  const auto caller = context->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  // The policy as the stream starts: a principal's rights are those it
  // subscribed with (a changed policy applies when it subscribes again).
  auto access = CallerAccess::For(*caller, *context->items, *context->leads);
  if (!access.ok()) return ToGrpcStatus(access.status());
  const std::string topic(topic_name);
  const int32_t partitions = context->log->PartitionCount(topic);
  std::vector<int64_t> next(partitions, 0);
  for (int i = 0; i < request.start_size(); ++i) {
    const auto& start = request.start(i);
    if (!start.topic().empty() && start.topic() != topic) {
      return ToGrpcStatus(domain::InvalidField(absl::StrCat("start[", i, "].topic"),
                                               absl::StrCat("these come from ", topic)));
    }
    if (start.partition() < 0 || start.partition() >= partitions) {
      return ToGrpcStatus(
          domain::InvalidField(absl::StrCat("start[", i, "].partition"),
                               absl::StrCat("the topic has partitions 0..", partitions - 1)));
    }
    if (start.offset() < 0) {
      return ToGrpcStatus(domain::InvalidField(absl::StrCat("start[", i, "].offset"), "negative"));
    }
    next[start.partition()] = start.offset();
  }
  auto reader = context->log->OpenReader(topic, next);
  if (!reader.ok()) return ToGrpcStatus(reader.status());
  while (!ctx->IsCancelled() && !shutting_down) {
    auto records = (*reader)->Poll(500, absl::Milliseconds(200));
    if (!records.ok()) return ToGrpcStatus(records.status());
    for (const auto& record : *records) {
      v1::LogPosition position;
      position.set_topic(topic);
      position.set_partition(record.partition);
      position.set_offset(record.offset);
      auto written = write(*access, record, std::move(position));
      if (!written.ok()) return ToGrpcStatus(written.status());
      if (!*written) return grpc::Status::OK;  // the client went away
    }
  }
  return grpc::Status::OK;
}

absl::Status Undecodable(const log::Record& record) {
  return absl::DataLossError(
      absl::StrCat(record.topic, " ", record.partition, "@", record.offset, " does not decode"));
}

}  // namespace

grpc::Status EventServiceImpl::SubscribeEvents(grpc::ServerContext* ctx,
                                               const v1::SubscribeEventsRequest* request,
                                               grpc::ServerWriter<v1::SubscribedEvent>* writer) {
  return StreamTopic(
      context_, shutting_down_, ctx, log::kEventsTopic, *request,
      [writer, context = context_](const CallerAccess& access, const log::Record& record,
                                   v1::LogPosition position) -> absl::StatusOr<bool> {
        v1::SubscribedEvent out;
        *out.mutable_position() = std::move(position);
        if (!out.mutable_event()->ParseFromString(record.value)) {
          return Undecodable(record);
        }
        // A restricted principal sees the events of items it may read
        // now, judged once the read model has this event (a new item's
        // first event is judged on the item it made).
        if (!access.Unrestricted() &&
            !context->projection->WaitForApplied(record.partition, record.offset,
                                                 absl::Now() + absl::Seconds(10))) {
          return absl::UnavailableError(
              "the read model is behind the event stream; subscribe again");
        }
        LEADFLOW_ASSIGN_OR_RETURN(
            bool visible,
            access.VisibleAggregate(out.event().aggregate_type(), out.event().aggregate_id()));
        if (!visible) return true;
        return writer->Write(out);
      });
}

grpc::Status EventServiceImpl::SubscribeFollowUps(
    grpc::ServerContext* ctx, const v1::SubscribeEventsRequest* request,
    grpc::ServerWriter<v1::SubscribedFollowUp>* writer) {
  return StreamTopic(context_, shutting_down_, ctx, log::kFollowupsTopic, *request,
                     [writer](const CallerAccess& access, const log::Record& record,
                              v1::LogPosition position) -> absl::StatusOr<bool> {
                       // Keyed by the item's resource name ("leads/{id}").
                       if (!access.Unrestricted()) {
                         auto item = domain::ParseResourceName(record.key, "key");
                         if (!item.ok()) return true;
                         LEADFLOW_ASSIGN_OR_RETURN(
                             bool visible, access.VisibleAggregate(item->first, item->second));
                         if (!visible) return true;
                       }
                       v1::SubscribedFollowUp out;
                       *out.mutable_position() = std::move(position);
                       if (!out.mutable_follow_up()->ParseFromString(record.value)) {
                         return Undecodable(record);
                       }
                       for (const auto& header : record.headers) {
                         (*out.mutable_headers())[header.key] = header.value;
                       }
                       return writer->Write(out);
                     });
}

grpc::Status AdminServiceImpl::GetServerStatus(grpc::ServerContext* ctx,
                                               const v1::GetServerStatusRequest*,
                                               v1::ServerStatus* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  *response = context_->server_status();
  return grpc::Status::OK;
}

}  // namespace leadflow::api
