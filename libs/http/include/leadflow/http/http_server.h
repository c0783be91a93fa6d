#pragma once

#include <grpcpp/channel.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "leadflow/metrics/registry.h"

namespace leadflow::http {

// leadflowd's HTTP face, beside gRPC (--http-listen):
//   GET  /metrics              Prometheus text exposition of the registry
//   GET  /healthz              200 while the process can go on (liveness)
//   GET  /readyz               200 when it takes traffic, else 503 and why
//   POST /v1/channel-events    a channel event as protobuf JSON
//   POST /v1/forms/{form_id}   a plain HTML form (x-www-form-urlencoded)
// Intake goes through the gRPC IntakeService in process, so an HTTP post
// is authenticated, validated, limited and deduplicated exactly as a gRPC
// call is; its status is mapped to an HTTP code with a JSON error body
// naming the fields (Google API error shape).
class HttpServer {
 public:
  struct Options {
    // host:port; port 0 picks a free one.
    std::string listen;
    metrics::Registry* registry = nullptr;
    // OK, or why the server should not take traffic now (/readyz).
    std::function<absl::Status()> readiness;
    // OK, or why the process cannot go on (/healthz).
    std::function<absl::Status()> liveness;
    // Larger bodies get 413.
    size_t max_body_bytes = 4 << 20;
  };

  // Listens and serves on its own threads until Stop.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(Options options);
  ~HttpServer();

  // From now on intake posts go to this channel's IntakeService; before,
  // they get 503 (the server is still starting).
  void ServeIntake(std::shared_ptr<grpc::Channel> channel);
  int port() const;
  void Stop();

  class Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The HTTP status for a canonical code (as Google's HTTP/JSON APIs map them).
int HttpStatusFor(absl::StatusCode code);

}  // namespace leadflow::http
