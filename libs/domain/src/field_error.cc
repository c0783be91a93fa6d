#include "leadflow/domain/field_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/rpc/error_details.pb.h"

namespace leadflow::domain {

std::string ValidUtf8(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t min = 0;
    if (byte < 0x80) {
      out += text[i++];
      continue;
    }
    if ((byte & 0xE0) == 0xC0) {
      length = 2;
      min = 0x80;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      min = 0x800;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      min = 0x10000;
    }
    bool valid = length > 0 && i + length <= text.size();
    uint32_t code = length > 0 ? byte & (0xFF >> (length + 1)) : 0;
    for (size_t k = 1; valid && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      valid = (next & 0xC0) == 0x80;
      code = (code << 6) | (next & 0x3F);
    }
    valid = valid && code >= min && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
    if (valid) {
      out.append(text.data() + i, length);
      i += length;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

absl::Status FieldError(absl::StatusCode code, absl::string_view field,
                        absl::string_view description) {
  absl::Status status(code, absl::StrCat(field, ": ", description));
  google::rpc::BadRequest bad_request;
  auto* violation = bad_request.add_field_violations();
  violation->set_field(ValidUtf8(field));
  violation->set_description(ValidUtf8(description));
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

absl::Status FieldErrors(absl::StatusCode code, const std::vector<std::string>& fields,
                         absl::string_view description) {
  absl::Status status(code, absl::StrCat(absl::StrJoin(fields, ", "), ": ", description));
  google::rpc::BadRequest bad_request;
  for (const auto& field : fields) {
    auto* violation = bad_request.add_field_violations();
    violation->set_field(ValidUtf8(field));
    violation->set_description(ValidUtf8(description));
  }
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

void FieldViolations::Add(const absl::Status& status) {
  if (!status.ok()) errors_.push_back(status);
}

absl::Status FieldViolations::ToStatus() const {
  if (errors_.empty()) return absl::OkStatus();
  if (errors_.size() == 1) return errors_.front();
  std::vector<std::string> messages;
  google::rpc::BadRequest merged;
  for (const auto& error : errors_) {
    messages.emplace_back(error.message());
    auto payload = error.GetPayload(kBadRequestTypeUrl);
    google::rpc::BadRequest one;
    if (payload.has_value() && one.ParseFromString(std::string(*payload))) {
      for (const auto& v : one.field_violations()) *merged.add_field_violations() = v;
    }
  }
  absl::Status status(errors_.front().code(), absl::StrJoin(messages, "; "));
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(merged.SerializeAsString()));
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
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  google::rpc::BadRequest bad_request;
  if (!payload.has_value() || !bad_request.ParseFromString(std::string(*payload)) ||
      bad_request.field_violations().empty()) {
    return absl::Status(status.code(), absl::StrCat(prefix, ": ", status.message()));
  }
  // Every violation moves under the prefix (a refusal may name several).
  std::vector<std::string> messages;
  for (auto& violation : *bad_request.mutable_field_violations()) {
    violation.set_field(absl::StrCat(prefix, ".", violation.field()));
    messages.push_back(absl::StrCat(violation.field(), ": ", violation.description()));
  }
  absl::Status nested(status.code(), absl::StrJoin(messages, "; "));
  nested.SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
  return nested;
}

}  // namespace leadflow::domain
