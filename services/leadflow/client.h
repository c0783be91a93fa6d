#pragma once

// What every command of the leadflow CLI shares: the connection to
// leadflowd (target, TLS, the bearer credential), calls with retries and
// request ids, and how results and errors are printed (one JSON object per
// line on stdout; errors on stderr, exit status 1 for a server's refusal,
// 2 for a mistake in the command line or an input file).

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "leadflow/tls/grpc_tls.h"

namespace leadflow::cli {

const char* CodeName(grpc::StatusCode code);

int Report(const grpc::Status& status);

// A mistake in the command line or an input file (`what` names the flag or
// the file). Returns the exit status, 2.
int Invalid(absl::string_view what, const absl::Status& status);

// Prints a result as --output says (output.h).
int Print(const google::protobuf::Message& message);

// One line per item of a repeated field.
template <typename Items>
int PrintEach(const Items& items) {
  for (const auto& item : items) Print(item);
  return 0;
}

std::unique_ptr<grpc::ClientContext> Context(int timeout_seconds);

struct Common {
  std::string target = "127.0.0.1:50051";
  int timeout = 30;
  tls::ClientTls tls;
  // Where the bearer credential is, when LEADFLOW_TOKEN does not hold it.
  std::string token_file;
  // Made at the first call, from target, tls and the credential.
  mutable std::shared_ptr<grpc::Channel> channel;
};

// The first line of `path`, "" when it cannot be read.
std::string FirstLine(const std::string& path);

// The bearer credential (an API key or a JWT), found as kubectl and psql
// find theirs: $LEADFLOW_TOKEN, else the file --token-file or
// $LEADFLOW_TOKEN_FILE names, else $XDG_CONFIG_HOME/leadflow/token
// (~/.config/leadflow/token). "" when there is none: a client certificate
// may be the credential, and otherwise the server says what is missing.
std::string TokenOf(const Common& common);

// The channel to leadflowd; a TLS file that cannot be used ends the CLI
// with the reason (exit code 2, as for a bad flag).
std::shared_ptr<grpc::Channel> ChannelOf(const Common& common);

template <typename Service>
std::unique_ptr<typename Service::Stub> StubOf(const Common& common) {
  return Service::NewStub(ChannelOf(common));
}

// A unary method of a generated stub.
template <typename Stub, typename Request, typename Response>
using Method = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*);

constexpr const char* kActorHelp =
    "Who does it (default: the caller; naming another needs the right to act for others)";

// Gives a request that has a `request_id` field one when it has none, and
// returns it ("" for requests without the field): every change the CLI
// sends is idempotent, so its own retries and a person re-running the
// command with --request-id apply it once.
// --request-id given before or after the subcommand.
std::string& RequestIdFlag();

std::string EnsureRequestId(google::protobuf::Message* request);

// One unary call: hands the response to `handle` (which returns the exit
// status), or reports the error. UNAVAILABLE (the server restarting, a
// command not applied in time) is retried a few times with the same
// request; a change that still fails says its request id.
template <typename Stub, typename Request, typename Response, typename Handle>
int Call(Stub& stub, Method<Stub, Request, Response> method, const Request& request,
         int timeout_seconds, Handle handle) {
  Request sent = request;
  const std::string request_id = EnsureRequestId(&sent);
  constexpr int kAttempts = 4;
  for (int attempt = 1;; ++attempt) {
    Response response;
    auto ctx = Context(timeout_seconds);
    grpc::Status status = (stub.*method)(ctx.get(), sent, &response);
    if (status.ok()) return handle(response);
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE && attempt < kAttempts) {
      absl::SleepFor(absl::Milliseconds(250) * attempt);
      continue;
    }
    if (!request_id.empty() && (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                                status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)) {
      std::fprintf(stderr,
                   "leadflow: the change may or may not be applied: run it again with "
                   "--request-id %s to apply it once\n",
                   request_id.c_str());
    }
    return Report(status);
  }
}

// One unary call: prints the response, or reports the error. Returns the
// exit status.
template <typename Stub, typename Request, typename Response>
int Unary(Stub& stub, Method<Stub, Request, Response> method, const Request& request,
          int timeout_seconds) {
  return Call(stub, method, request, timeout_seconds,
              [](const Response& response) { return Print(response); });
}

// A list call: prints the items `items` picks from each response, one per
// line, following page tokens to the end when `all_pages` (else the first
// page only).
template <typename Stub, typename Request, typename Response, typename Items>
int Paged(Stub& stub, Method<Stub, Request, Response> method, Request request, int timeout_seconds,
          bool all_pages, Items items) {
  do {
    const int rc = Call(stub, method, request, timeout_seconds, [&](const Response& response) {
      request.set_page_token(response.next_page_token());
      return PrintEach(items(response));
    });
    if (rc != 0) return rc;
  } while (all_pages && !request.page_token().empty());
  return 0;
}

// "ID" or "COLLECTION/ID" → "COLLECTION/ID".
std::string NameIn(absl::string_view collection, const std::string& id_or_name);

// The whole of a text file; NOT_FOUND when it cannot be read.
absl::StatusOr<std::string> ReadTextFile(const std::string& file);

// An RFC 3339 time, e.g. 2025-03-01T15:00:00+03:00.
absl::StatusOr<google::protobuf::Timestamp> ParseRfc3339(const std::string& text);

}  // namespace leadflow::cli
