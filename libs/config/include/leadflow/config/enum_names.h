#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/generated_enum_reflection.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace leadflow::config {

// Reads a flag or YAML value ("web-form", "in_progress") as the value
// PREFIX_WEB_FORM of an enum whose zero is PREFIX_UNSPECIFIED; the zero is
// not accepted. The error lists the values that are.
template <typename Enum>
absl::StatusOr<Enum> ParseEnum(absl::string_view text) {
  const google::protobuf::EnumDescriptor* type = google::protobuf::GetEnumDescriptor<Enum>();
  const std::string zero = type->FindValueByNumber(0)->name();
  const std::string prefix(absl::StripSuffix(zero, "UNSPECIFIED"));
  std::string wanted = absl::StrCat(prefix, text);
  for (char& c : wanted) c = c == '-' ? '_' : absl::ascii_toupper(c);
  std::vector<std::string> accepted;
  for (int i = 0; i < type->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* value = type->value(i);
    if (value->number() == 0) continue;
    if (value->name() == wanted) return static_cast<Enum>(value->number());
    accepted.push_back(absl::AsciiStrToLower(absl::StripPrefix(value->name(), prefix)));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", text, "' is not ", absl::StrJoin(accepted, "|")));
}

}  // namespace leadflow::config
