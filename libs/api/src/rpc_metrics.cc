#include "leadflow/api/rpc_metrics.h"

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

namespace leadflow::api {
namespace {

using grpc::experimental::InterceptionHookPoints;

class RpcMetrics final : public grpc::experimental::Interceptor {
 public:
  RpcMetrics(grpc::experimental::ServerRpcInfo* info, metrics::Family<metrics::Counter>* handled,
             metrics::Family<metrics::Histogram>* latency)
      : handled_(handled), latency_(latency), start_(absl::Now()) {
    // "/leadflow.v1.LeadService/GetLead"
    const absl::string_view full = info->method() == nullptr ? "" : info->method();
    const size_t slash = full.rfind('/');
    if (slash != absl::string_view::npos && slash > 0) {
      service_ = std::string(full.substr(1, slash - 1));
      method_ = std::string(full.substr(slash + 1));
    } else {
      method_ = std::string(full);
    }
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      handled_
          ->With({service_, method_,
                  absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()))})
          .Increment();
      latency_->With({service_, method_}).ObserveDuration(absl::Now() - start_);
    }
    methods->Proceed();
  }

 private:
  metrics::Family<metrics::Counter>* handled_;
  metrics::Family<metrics::Histogram>* latency_;
  const absl::Time start_;
  std::string service_;
  std::string method_;
};

class RpcMetricsFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcMetricsFactory(metrics::Registry* registry)
      : handled_(&registry->AddCounter("leadflow_grpc_server_handled_total",
                                       "gRPC calls finished, by service, method and status code.",
                                       {"grpc_service", "grpc_method", "grpc_code"})),
        latency_(&registry->AddHistogram(
            "leadflow_grpc_server_handling_seconds",
            "gRPC call latency from arrival to status, by service and method.",
            {"grpc_service", "grpc_method"})) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcMetrics(info, handled_, latency_);
  }

 private:
  metrics::Family<metrics::Counter>* handled_;
  metrics::Family<metrics::Histogram>* latency_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> RpcMetricsInterceptor(
    metrics::Registry* registry) {
  return std::make_unique<RpcMetricsFactory>(registry);
}

}  // namespace leadflow::api
