#include "yaml_fields.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_join.h"

namespace leadflow::config {

absl::Status YamlError(const YAML::Node& node, absl::string_view path, absl::string_view message) {
  const int line = std::max(node.Mark().line, 0) + 1;
  return absl::InvalidArgumentError(
      absl::StrCat("line ", line, ": ", path, path.empty() ? "" : ": ", message));
}

std::string KeyPath(const std::string& path, const std::string& key) {
  return path.empty() ? key : absl::StrCat(path, ".", key);
}

absl::Status ReadMap(const YAML::Node& node, const std::string& path, const YamlFields& fields) {
  const auto known = absl::StrJoin(
      fields, ", ", [](std::string* out, const auto& field) { out->append(field.first); });
  if (!node.IsMap()) return YamlError(node, path, absl::StrCat("expected keys (", known, ")"));
  std::set<std::string> seen;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string at = KeyPath(path, key);
    const auto field = fields.find(key);
    if (field == fields.end()) {
      return YamlError(entry.first, at, absl::StrCat("unknown key (known: ", known, ")"));
    }
    if (!seen.insert(key).second) return YamlError(entry.first, at, "given twice");
    // An empty value has no place of its own: it is at its key.
    if (entry.second.IsNull()) return YamlError(entry.first, at, "needs a value");
    LEADFLOW_RETURN_IF_ERROR(field->second(entry.second, at));
  }
  return absl::OkStatus();
}

absl::Status OneOf(const YAML::Node& node, const std::string& path, const YamlFields& group,
                   bool required) {
  const auto names = absl::StrJoin(
      group, ", ", [](std::string* out, const auto& field) { out->append(field.first); });
  std::string given;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    if (group.count(key) == 0) continue;
    if (!given.empty()) {
      return YamlError(entry.first, KeyPath(path, key),
                       absl::StrCat("not with ", given, " (one of ", names, ")"));
    }
    given = key;
  }
  if (required && given.empty()) {
    return YamlError(node, path, absl::StrCat("needs one of ", names));
  }
  return absl::OkStatus();
}

absl::Status ReadString(const YAML::Node& node, const std::string& path, std::string* out) {
  if (!node.IsScalar()) {
    return YamlError(node, path, node.IsNull() ? "needs a value" : "expected a string");
  }
  *out = node.Scalar();
  return absl::OkStatus();
}

absl::Status ReadBool(const YAML::Node& node, const std::string& path, bool* out) {
  std::string text;
  LEADFLOW_RETURN_IF_ERROR(ReadString(node, path, &text));
  if (text != "true" && text != "false") {
    return YamlError(node, path, absl::StrCat("'", text, "' is not true|false"));
  }
  *out = text == "true";
  return absl::OkStatus();
}

absl::Status ReadEnum(const YAML::Node& node, const std::string& path, v1::ConditionOperator* out) {
  static const std::pair<const char*, v1::ConditionOperator> kOperators[] = {
      {"eq", v1::CONDITION_OPERATOR_EQUALS},
      {"ne", v1::CONDITION_OPERATOR_NOT_EQUALS},
      {"gt", v1::CONDITION_OPERATOR_GREATER},
      {"gte", v1::CONDITION_OPERATOR_GREATER_OR_EQUAL},
      {"lt", v1::CONDITION_OPERATOR_LESS},
      {"lte", v1::CONDITION_OPERATOR_LESS_OR_EQUAL},
      {"in", v1::CONDITION_OPERATOR_IN},
      {"not_in", v1::CONDITION_OPERATOR_NOT_IN},
      {"empty", v1::CONDITION_OPERATOR_EMPTY},
      {"not_empty", v1::CONDITION_OPERATOR_NOT_EMPTY},
      {"contains", v1::CONDITION_OPERATOR_CONTAINS}};
  std::string text;
  LEADFLOW_RETURN_IF_ERROR(ReadString(node, path, &text));
  for (const auto& [name, op] : kOperators) {
    if (text == name) {
      *out = op;
      return absl::OkStatus();
    }
  }
  return YamlError(
      node, path,
      absl::StrCat("'", text, "' is not ",
                   absl::StrJoin(kOperators, "|", [](std::string* names, const auto& op) {
                     names->append(op.first);
                   })));
}

}  // namespace leadflow::config
