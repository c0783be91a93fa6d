#include "leadflow/api/event_service.h"

#include "absl/strings/str_cat.h"
#include "leadflow/api/status_mapping.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::api {

grpc::Status EventServiceImpl::SubscribeEvents(grpc::ServerContext* ctx,
                                               const v1::SubscribeEventsRequest* request,
                                               grpc::ServerWriter<v1::SubscribedEvent>* writer) {
  const std::string topic(log::kEventsTopic);
  const int32_t partitions = context_->log->PartitionCount(topic);
  std::vector<int64_t> next(partitions, 0);
  for (int i = 0; i < request->start_size(); ++i) {
    const auto& start = request->start(i);
    if (!start.topic().empty() && start.topic() != topic) {
      return ToGrpcStatus(domain::InvalidField(absl::StrCat("start[", i, "].topic"),
                                               absl::StrCat("events come from ", topic)));
    }
    if (start.partition() < 0 || start.partition() >= partitions) {
      return ToGrpcStatus(domain::InvalidField(
          absl::StrCat("start[", i, "].partition"),
          absl::StrCat("the events topic has partitions 0..", partitions - 1)));
    }
    if (start.offset() < 0) {
      return ToGrpcStatus(domain::InvalidField(absl::StrCat("start[", i, "].offset"), "negative"));
    }
    next[start.partition()] = start.offset();
  }
  auto reader = context_->log->OpenReader(topic, next);
  if (!reader.ok()) return ToGrpcStatus(reader.status());
  while (!ctx->IsCancelled() && !shutting_down_) {
    auto records = (*reader)->Poll(500, absl::Milliseconds(200));
    if (!records.ok()) return ToGrpcStatus(records.status());
    for (const auto& record : *records) {
      v1::SubscribedEvent out;
      out.mutable_position()->set_topic(topic);
      out.mutable_position()->set_partition(record.partition);
      out.mutable_position()->set_offset(record.offset);
      if (!out.mutable_event()->ParseFromString(record.value)) {
        return grpc::Status(
            grpc::StatusCode::DATA_LOSS,
            absl::StrCat("event ", record.partition, "@", record.offset, " does not decode"));
      }
      if (!writer->Write(out)) return grpc::Status::OK;  // the client went away
    }
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::GetServerStatus(grpc::ServerContext*,
                                               const v1::GetServerStatusRequest*,
                                               v1::ServerStatus* response) {
  *response = context_->server_status();
  return grpc::Status::OK;
}

}  // namespace leadflow::api
