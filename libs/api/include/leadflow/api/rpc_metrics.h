#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "absl/time/time.h"
#include "leadflow/metrics/registry.h"

namespace leadflow::api {

// A server interceptor that counts every finished call by service, method
// and status code (leadflow_grpc_server_handled_total) and times it
// (leadflow_grpc_server_handling_seconds), the names grpc-ecosystem's
// go-grpc-prometheus uses, with the project prefix. Streams are timed to
// their end. A call slower than `slow` is logged (warning, with its
// method, code and duration).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> RpcMetricsInterceptor(
    metrics::Registry* registry, absl::Duration slow = absl::InfiniteDuration());

}  // namespace leadflow::api
