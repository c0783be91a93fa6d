#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "leadflow/metrics/registry.h"

namespace leadflow::api {

// A server interceptor that counts every finished call by service, method
// and status code (leadflow_grpc_server_handled_total) and times it
// (leadflow_grpc_server_handling_seconds), the names grpc-ecosystem's
// go-grpc-prometheus uses, with the project prefix. Streams are timed to
// their end.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> RpcMetricsInterceptor(
    metrics::Registry* registry);

}  // namespace leadflow::api
