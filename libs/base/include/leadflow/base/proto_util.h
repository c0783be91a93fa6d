#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace leadflow {

// Serialises with deterministic map order, so equal messages give equal
// bytes: replays must produce byte-identical state.
std::string SerializeDeterministic(const google::protobuf::Message& message);

// Parses `bytes` into `message`; the error names `what` was undecodable.
absl::Status ParseProto(absl::string_view bytes, google::protobuf::Message* message,
                        absl::string_view what);

// protobuf's JSON mapping.
std::string ToJson(const google::protobuf::Message& message, bool multiline = false);
absl::Status FromJson(absl::string_view json, google::protobuf::Message* message);

google::protobuf::Timestamp ToTimestamp(absl::Time t);
absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);

}  // namespace leadflow
