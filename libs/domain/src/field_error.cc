#include "leadflow/domain/field_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/rpc/error_details.pb.h"

namespace leadflow::domain {

absl::Status FieldError(absl::StatusCode code, absl::string_view field,
                        absl::string_view description) {
  absl::Status status(code, absl::StrCat(field, ": ", description));
  google::rpc::BadRequest bad_request;
  auto* violation = bad_request.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_description(std::string(description));
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

absl::Status FieldErrors(absl::StatusCode code, const std::vector<std::string>& fields,
                         absl::string_view description) {
  absl::Status status(code, absl::StrCat(absl::StrJoin(fields, ", "), ": ", description));
  google::rpc::BadRequest bad_request;
  for (const auto& field : fields) {
    auto* violation = bad_request.add_field_violations();
    violation->set_field(field);
    violation->set_description(std::string(description));
  }
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

std::vector<std::string> FieldsOf(const absl::Status& status) {
  std::vector<std::string> fields;
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  if (!payload.has_value()) return fields;
  google::rpc::BadRequest bad_request;
  if (!bad_request.ParseFromString(std::string(*payload))) return fields;
  for (const auto& violation : bad_request.field_violations()) fields.push_back(violation.field());
  return fields;
}

std::string FieldOf(const absl::Status& status) {
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  if (!payload.has_value()) return "";
  google::rpc::BadRequest bad_request;
  if (!bad_request.ParseFromString(std::string(*payload)) ||
      bad_request.field_violations_size() == 0) {
    return "";
  }
  return bad_request.field_violations(0).field();
}

absl::Status NestField(const absl::Status& status, absl::string_view prefix) {
  std::string field = FieldOf(status);
  if (field.empty()) {
    return absl::Status(status.code(), absl::StrCat(prefix, ": ", status.message()));
  }
  absl::string_view description = status.message();
  const std::string head = absl::StrCat(field, ": ");
  if (absl::StartsWith(description, head)) description.remove_prefix(head.size());
  return FieldError(status.code(), absl::StrCat(prefix, ".", field), description);
}

}  // namespace leadflow::domain
