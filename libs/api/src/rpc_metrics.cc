#include "leadflow/api/rpc_metrics.h"

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "leadflow/base/logger.h"

namespace leadflow::api {
namespace {

using grpc::experimental::InterceptionHookPoints;

class RpcMetrics final : public grpc::experimental::Interceptor {
 public:
  RpcMetrics(grpc::experimental::ServerRpcInfo* info, metrics::Family<metrics::Counter>* handled,
             metrics::Family<metrics::Histogram>* latency, absl::Duration slow)
      : handled_(handled), latency_(latency), slow_(slow), start_(absl::Now()) {
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
      const std::string code =
          absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code()));
      handled_->With({service_, method_, code}).Increment();
      const absl::Duration took = absl::Now() - start_;
      latency_->With({service_, method_}).ObserveDuration(took);
      if (took > slow_) {
        logging::Warning("grpc", "slow request",
                         {{"service", service_},
                          {"method", method_},
                          {"code", code},
                          {"duration_ms", absl::ToInt64Milliseconds(took)}});
      }
    }
    methods->Proceed();
  }

 private:
  metrics::Family<metrics::Counter>* handled_;
  metrics::Family<metrics::Histogram>* latency_;
  const absl::Duration slow_;
  const absl::Time start_;
  std::string service_;
  std::string method_;
};

class RpcMetricsFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  RpcMetricsFactory(metrics::Registry* registry, absl::Duration slow)
      : slow_(slow),
        handled_(&registry->AddCounter("leadflow_grpc_server_handled_total",
                                       "gRPC calls finished, by service, method and status code.",
                                       {"grpc_service", "grpc_method", "grpc_code"})),
        latency_(&registry->AddHistogram(
            "leadflow_grpc_server_handling_seconds",
            "gRPC call latency from arrival to status, by service and method.",
            {"grpc_service", "grpc_method"})) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RpcMetrics(info, handled_, latency_, slow_);
  }

 private:
  const absl::Duration slow_;
  metrics::Family<metrics::Counter>* handled_;
  metrics::Family<metrics::Histogram>* latency_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> RpcMetricsInterceptor(
    metrics::Registry* registry, absl::Duration slow) {
  return std::make_unique<RpcMetricsFactory>(registry, slow);
}

}  // namespace leadflow::api
