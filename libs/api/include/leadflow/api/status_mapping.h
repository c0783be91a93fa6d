#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace leadflow::api {

// How long UNAVAILABLE and RESOURCE_EXHAUSTED answers tell clients to wait
// before trying again (google.rpc.RetryInfo).
inline constexpr int kRetryDelaySeconds = 1;

// The one place absl::Status becomes grpc::Status: same canonical code, same
// message, and in the error details a google.rpc.Status with a
// google.rpc.BadRequest when the status names a field, and a
// google.rpc.RetryInfo when it is trouble that passes (UNAVAILABLE,
// RESOURCE_EXHAUSTED). Detail strings are always UTF-8.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace leadflow::api
