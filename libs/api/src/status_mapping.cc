#include "leadflow/api/status_mapping.h"

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::api {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  const std::string message(status.message());
  auto payload = status.GetPayload(domain::kBadRequestTypeUrl);
  // Trouble that passes (storage or brokers away, a full disk): the client
  // is told when to try again, as google.rpc.RetryInfo.
  const bool retry = status.code() == absl::StatusCode::kUnavailable ||
                     status.code() == absl::StatusCode::kResourceExhausted;
  if (!payload.has_value() && !retry) return grpc::Status(code, message);
  google::rpc::Status details;
  details.set_code(static_cast<int32_t>(status.code()));
  details.set_message(domain::ValidUtf8(message));
  if (payload.has_value()) {
    auto* any = details.add_details();
    any->set_type_url(std::string(domain::kBadRequestTypeUrl));
    any->set_value(std::string(*payload));
  }
  if (retry) {
    google::rpc::RetryInfo retry_info;
    retry_info.mutable_retry_delay()->set_seconds(kRetryDelaySeconds);
    details.add_details()->PackFrom(retry_info);
  }
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace leadflow::api
