#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace leadflow::domain {

// A refusal that names the request field at fault. The field travels as a
// google.rpc.BadRequest payload of the status, so the gRPC edge can put it in
// the error details; the message also starts with "<field>: ".
absl::Status FieldError(absl::StatusCode code, absl::string_view field,
                        absl::string_view description);

inline absl::Status InvalidField(absl::string_view field, absl::string_view description) {
  return FieldError(absl::StatusCode::kInvalidArgument, field, description);
}

// A refusal naming several fields, each with the same description (e.g.
// every missing required field). The message lists them all.
absl::Status FieldErrors(absl::StatusCode code, const std::vector<std::string>& fields,
                         absl::string_view description);

// Collects every violation of a request, so one refusal names them all
// (a bad phone and a bad email both).
class FieldViolations {
 public:
  // Keeps `status` when it is an error.
  void Add(const absl::Status& status);
  bool empty() const { return errors_.empty(); }
  // OK when there is none; else the first one's code, every message joined
  // with "; ", and every field in the BadRequest.
  absl::Status ToStatus() const;

 private:
  std::vector<absl::Status> errors_;
};

// The field a status names, or "" when it names none.
std::string FieldOf(const absl::Status& status);
// Every field a status names.
std::vector<std::string> FieldsOf(const absl::Status& status);

// The same refusal with the field nested under `prefix`, e.g. "events[3]".
absl::Status NestField(const absl::Status& status, absl::string_view prefix);

// The payload URL of the field violation.
// `text` with every byte that does not belong to valid UTF-8 replaced by
// U+FFFD: status details are protobuf strings, which clients refuse to
// parse when they are not UTF-8, and a refusal may quote what it refuses.
std::string ValidUtf8(absl::string_view text);

inline constexpr absl::string_view kBadRequestTypeUrl = "type.googleapis.com/google.rpc.BadRequest";

}  // namespace leadflow::domain
