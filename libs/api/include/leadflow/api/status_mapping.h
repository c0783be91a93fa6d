#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace leadflow::api {

// The one place absl::Status becomes grpc::Status: same canonical code, same
// message, and when the status names a field, a google.rpc.Status with a
// google.rpc.BadRequest in the error details.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace leadflow::api
