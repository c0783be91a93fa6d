#include "client.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "leadflow/base/proto_util.h"
#include "output.h"

namespace leadflow::cli {

const char* CodeName(grpc::StatusCode code) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i < 17 ? kNames[i] : "UNKNOWN";
}

int Report(const grpc::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "leadflow: %s: %s\n", CodeName(status.error_code()),
               status.error_message().c_str());
  return 1;
}

int Invalid(absl::string_view what, const absl::Status& status) {
  std::fprintf(stderr, "leadflow: %s: %s\n", std::string(what).c_str(),
               std::string(status.message()).c_str());
  return 2;
}

int Print(const google::protobuf::Message& message) {
  Emit(message);
  return 0;
}

std::unique_ptr<grpc::ClientContext> Context(int timeout_seconds) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (timeout_seconds > 0) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(timeout_seconds));
  }
  return ctx;
}

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return std::string(absl::StripAsciiWhitespace(line));
}

std::string TokenOf(const Common& common) {
  if (const char* token = std::getenv("LEADFLOW_TOKEN"); token != nullptr && *token != '\0') {
    return token;
  }
  if (!common.token_file.empty()) {
    std::string token = FirstLine(common.token_file);
    if (token.empty()) {
      std::fprintf(stderr, "leadflow: --token-file %s: no credential there\n",
                   common.token_file.c_str());
      std::exit(2);
    }
    return token;
  }
  const char* config = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  const std::string dir = config != nullptr && *config != '\0' ? config
                          : home != nullptr                    ? absl::StrCat(home, "/.config")
                                                               : "";
  return dir.empty() ? "" : FirstLine(absl::StrCat(dir, "/leadflow/token"));
}

std::shared_ptr<grpc::Channel> ChannelOf(const Common& common) {
  if (common.channel == nullptr) {
    auto channel = tls::ChannelTo(common.target, common.tls, TokenOf(common));
    if (!channel.ok()) {
      std::fprintf(stderr, "leadflow: %s\n", std::string(channel.status().message()).c_str());
      std::exit(2);
    }
    common.channel = *std::move(channel);
  }
  return common.channel;
}

std::string& RequestIdFlag() {
  static auto* id = new std::string();
  return *id;
}

std::string EnsureRequestId(google::protobuf::Message* request) {
  const google::protobuf::FieldDescriptor* field =
      request->GetDescriptor()->FindFieldByName("request_id");
  if (field == nullptr || field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
    return "";
  }
  const google::protobuf::Reflection* reflection = request->GetReflection();
  std::string id = reflection->GetString(*request, field);
  if (id.empty()) id = RequestIdFlag();
  if (id.empty()) {
    thread_local absl::BitGen gen;
    id = absl::StrFormat("cli-%016x%016x", absl::Uniform<uint64_t>(gen),
                         absl::Uniform<uint64_t>(gen));
  }
  reflection->SetString(request, field, id);
  return id;
}

std::string NameIn(absl::string_view collection, const std::string& id_or_name) {
  const std::string prefix = absl::StrCat(collection, "/");
  return id_or_name.rfind(prefix, 0) == 0 ? id_or_name : prefix + id_or_name;
}

absl::StatusOr<std::string> ReadTextFile(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read the file");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<google::protobuf::Timestamp> ParseRfc3339(const std::string& text) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not an RFC 3339 time (2025-03-01T15:00:00+03:00): ", error));
  }
  return ToTimestamp(time);
}

}  // namespace leadflow::cli
