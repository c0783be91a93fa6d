#include "leadflow/http/http_server.h"

#include <grpcpp/client_context.h>
#include <httplib.h>

#include <chrono>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/http/web_form_post.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::http {

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

constexpr absl::string_view kJson = "application/json";
// How long an intake post may wait for the log.
constexpr auto kIntakeDeadline = std::chrono::seconds(10);

Value StringValue(absl::string_view s) {
  Value v;
  v.set_string_value(std::string(s));
  return v;
}

// {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": …,
//  "field_violations": [{"field": …, "description": …}]}}
std::string ErrorBody(int http_code, absl::StatusCode code, absl::string_view message,
                      const google::rpc::BadRequest* bad_request) {
  Struct error;
  auto& fields = *error.mutable_fields();
  fields["code"].set_number_value(http_code);
  fields["status"] = StringValue(absl::StatusCodeToString(code));
  fields["message"] = StringValue(message);
  if (bad_request != nullptr && bad_request->field_violations_size() > 0) {
    auto* list = fields["field_violations"].mutable_list_value();
    for (const auto& violation : bad_request->field_violations()) {
      Struct item;
      (*item.mutable_fields())["field"] = StringValue(violation.field());
      (*item.mutable_fields())["description"] = StringValue(violation.description());
      *list->add_values()->mutable_struct_value() = std::move(item);
    }
  }
  Struct body;
  *(*body.mutable_fields())["error"].mutable_struct_value() = std::move(error);
  return ToJson(body);
}

void ReplyError(httplib::Response& res, const absl::Status& status,
                const google::rpc::BadRequest* bad_request = nullptr, int retry_after = 0) {
  const int http_code = HttpStatusFor(status.code());
  res.status = http_code;
  if (retry_after > 0) res.set_header("Retry-After", absl::StrCat(retry_after));
  res.set_content(ErrorBody(http_code, status.code(), status.message(), bad_request),
                  std::string(kJson));
}

// The credential: the Authorization header, or (for a browser's form post,
// which cannot set headers) an api_key field or query parameter.
std::string Credential(const httplib::Request& req, const Params& fields) {
  std::string header = req.get_header_value("Authorization");
  if (!header.empty()) return header;
  for (const auto& [name, value] : fields) {
    if (name == "api_key") return absl::StrCat("Bearer ", value);
  }
  if (req.has_param("api_key")) return absl::StrCat("Bearer ", req.get_param_value("api_key"));
  return "";
}

absl::StatusOr<Params> QueryOf(const httplib::Request& req) {
  const size_t question = req.target.find('?');
  if (question == std::string::npos) return Params{};
  return ParseUrlEncoded(absl::string_view(req.target).substr(question + 1));
}

}  // namespace

class HttpServer::Impl {
 public:
  explicit Impl(Options options) : options_(std::move(options)) {
    metrics::Registry& registry = *options_.registry;
    requests_ = &registry.AddCounter("leadflow_http_requests_total",
                                     "HTTP requests by route and status code.", {"route", "code"});
    latency_ = &registry.AddHistogram("leadflow_http_request_duration_seconds",
                                      "HTTP request latency by route.", {"route"});
  }

  absl::Status Listen() {
    const size_t colon = options_.listen.rfind(':');
    int port = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(options_.listen.substr(colon + 1), &port) ||
        port < 0 || port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("--http-listen: expected host:port, got '", options_.listen, "'"));
    }
    host_ = options_.listen.substr(0, colon);
    server_.set_payload_max_length(options_.max_body_bytes);
    server_.set_read_timeout(10, 0);
    Route("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(options_.registry->Render(), "text/plain; version=0.0.4; charset=utf-8");
    });
    Route("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      Probe(options_.liveness, res);
    });
    Route("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      Probe(options_.readiness, res);
    });
    server_.Post("/v1/channel-events",
                 Timed("/v1/channel-events",
                       [this](const auto& req, auto& res) { PostChannelEvent(req, res); }));
    server_.Post(
        R"(/v1/forms/([^/?]+))",
        Timed("/v1/forms/{form_id}", [this](const auto& req, auto& res) { PostForm(req, res); }));
    server_.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      // Routes answer with their own body; this covers what httplib itself
      // refused (unknown path 404, body too large 413).
      if (!res.body.empty()) return;
      const absl::Status status =
          res.status == 413
              ? absl::InvalidArgumentError("request body: larger than the limit")
              : absl::NotFoundError("no such path (see docs/operations.md: HTTP endpoints)");
      const int code = res.status;
      res.set_content(ErrorBody(code, status.code(), status.message(), nullptr),
                      std::string(kJson));
    });
    if (port == 0) {
      port_ = server_.bind_to_any_port(host_);
    } else {
      port_ = server_.bind_to_port(host_, port) ? port : -1;
    }
    if (port_ <= 0) {
      return absl::UnavailableError(
          absl::StrCat("--http-listen: cannot listen on ", options_.listen));
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return absl::OkStatus();
  }

  void ServeIntake(std::shared_ptr<grpc::Channel> channel) {
    absl::MutexLock lock(&mu_);
    intake_ = v1::IntakeService::NewStub(std::move(channel));
  }

  int port() const { return port_; }

  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  Handler Timed(std::string route, Handler handler) {
    return [this, route = std::move(route), handler = std::move(handler)](
               const httplib::Request& req, httplib::Response& res) {
      const absl::Time start = absl::Now();
      handler(req, res);
      // httplib fills in 200 after the handler when it set none.
      if (res.status == -1) res.status = 200;
      requests_->With({route, absl::StrCat(res.status)}).Increment();
      latency_->With({route}).ObserveDuration(absl::Now() - start);
    };
  }

  void Route(const std::string& path, Handler handler) {
    server_.Get(path, Timed(path, std::move(handler)));
  }

  static void Probe(const std::function<absl::Status()>& check, httplib::Response& res) {
    const absl::Status status = check ? check() : absl::OkStatus();
    if (status.ok()) {
      res.set_content("ok\n", "text/plain");
      return;
    }
    res.status = 503;
    res.set_content(absl::StrCat(status.ToString(), "\n"), "text/plain");
  }

  void PostChannelEvent(const httplib::Request& req, httplib::Response& res) {
    if (!absl::StartsWith(absl::AsciiStrToLower(req.get_header_value("Content-Type")), kJson)) {
      ReplyError(res, absl::InvalidArgumentError(
                          "Content-Type: expected application/json (a leadflow.v1.ChannelEvent "
                          "in protobuf JSON); plain HTML forms post to /v1/forms/{form_id}"));
      return;
    }
    v1::PublishChannelEventRequest request;
    if (absl::Status parsed = FromJson(req.body, request.mutable_event()); !parsed.ok()) {
      ReplyError(res, absl::InvalidArgumentError(absl::StrCat(
                          "body: not a leadflow.v1.ChannelEvent: ", parsed.message())));
      return;
    }
    Publish(Credential(req, {}), request, res);
  }

  void PostForm(const httplib::Request& req, httplib::Response& res) {
    const std::string content_type = absl::AsciiStrToLower(req.get_header_value("Content-Type"));
    if (!absl::StartsWith(content_type, "application/x-www-form-urlencoded")) {
      ReplyError(res, absl::InvalidArgumentError(
                          "Content-Type: expected application/x-www-form-urlencoded (a plain "
                          "HTML form); JSON channel events post to /v1/channel-events"));
      return;
    }
    FormPost post;
    post.form_id = req.matches[1];
    post.referer = req.get_header_value("Referer");
    post.idempotency_key = req.get_header_value("Idempotency-Key");
    post.received = absl::Now();
    absl::StatusOr<Params> fields = ParseUrlEncoded(req.body);
    absl::StatusOr<Params> query = QueryOf(req);
    if (!fields.ok() || !query.ok()) {
      ReplyError(res, absl::InvalidArgumentError(
                          !fields.ok() ? absl::StrCat("body: ", fields.status().message())
                                       : absl::StrCat("query: ", query.status().message())));
      return;
    }
    post.fields = *fields;
    post.query = *std::move(query);
    absl::StatusOr<v1::ChannelEvent> event = WebFormEvent(post);
    if (!event.ok()) {
      ReplyError(res, event.status());
      return;
    }
    v1::PublishChannelEventRequest request;
    *request.mutable_event() = *std::move(event);
    Publish(Credential(req, *fields), request, res);
  }

  void Publish(const std::string& credential, const v1::PublishChannelEventRequest& request,
               httplib::Response& res) {
    std::shared_ptr<v1::IntakeService::Stub> intake;
    {
      absl::MutexLock lock(&mu_);
      intake = intake_;
    }
    if (intake == nullptr) {
      ReplyError(res, absl::UnavailableError("starting: intake is not served yet"), nullptr, 1);
      return;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kIntakeDeadline);
    if (!credential.empty()) ctx.AddMetadata("authorization", credential);
    v1::PublishChannelEventResponse response;
    const grpc::Status status = intake->PublishChannelEvent(&ctx, request, &response);
    if (status.ok()) {
      Struct body;
      auto& fields = *body.mutable_fields();
      fields["event_id"] = StringValue(request.event().id());
      fields["consistency_token"] = StringValue(response.consistency_token());
      res.set_content(ToJson(body), std::string(kJson));
      return;
    }
    google::rpc::Status details;
    google::rpc::BadRequest bad_request;
    int retry_after = 0;
    if (details.ParseFromString(status.error_details())) {
      for (const auto& any : details.details()) {
        if (any.Is<google::rpc::BadRequest>()) any.UnpackTo(&bad_request);
        google::rpc::RetryInfo retry;
        if (any.Is<google::rpc::RetryInfo>() && any.UnpackTo(&retry)) {
          retry_after = static_cast<int>(std::max<int64_t>(1, retry.retry_delay().seconds()));
        }
      }
    }
    ReplyError(
        res,
        absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message()),
        &bad_request, retry_after);
  }

  Options options_;
  httplib::Server server_;
  std::string host_;
  int port_ = -1;
  std::thread thread_;
  metrics::Family<metrics::Counter>* requests_;
  metrics::Family<metrics::Histogram>* latency_;
  absl::Mutex mu_;
  std::shared_ptr<v1::IntakeService::Stub> intake_ ABSL_GUARDED_BY(mu_);
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(Options options) {
  if (options.registry == nullptr) options.registry = &metrics::DefaultRegistry();
  auto impl = std::make_unique<Impl>(std::move(options));
  if (absl::Status s = impl->Listen(); !s.ok()) return s;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::ServeIntake(std::shared_ptr<grpc::Channel> channel) {
  impl_->ServeIntake(std::move(channel));
}

int HttpServer::port() const { return impl_->port(); }

void HttpServer::Stop() {
  if (impl_ != nullptr) impl_->Stop();
}

}  // namespace leadflow::http
