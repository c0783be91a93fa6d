#pragma once

// The pieces every YAML reader of this library is made of: errors that name
// the line and the key at fault as a path ("line 7: pipelines[0].stages[1]
// .semantic: …"), mappings whose keys are checked, lists, and fields read
// straight into protobuf messages. Internal to libs/config.

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/config/enum_names.h"
#include "leadflow/v1/robots.pb.h"

namespace leadflow::config {

absl::Status YamlError(const YAML::Node& node, absl::string_view path, absl::string_view message);
std::string KeyPath(const std::string& path, const std::string& key);

// Reads one value of a mapping; `path` names it.
using YamlField = std::function<absl::Status(const YAML::Node& value, const std::string& path)>;
using YamlFields = std::map<std::string, YamlField>;

// A mapping whose keys must be among `fields`, each at most once.
absl::Status ReadMap(const YAML::Node& node, const std::string& path, const YamlFields& fields);
// After ReadMap: at most one of the keys of `group` is in the mapping `node`
// (a oneof would keep the last silently); with `required`, exactly one.
absl::Status OneOf(const YAML::Node& node, const std::string& path, const YamlFields& group,
                   bool required);
absl::Status ReadString(const YAML::Node& node, const std::string& path, std::string* out);
// true|false.
absl::Status ReadBool(const YAML::Node& node, const std::string& path, bool* out);
// Condition operators go by short names (eq, gte…), not by their enum's.
absl::Status ReadEnum(const YAML::Node& node, const std::string& path, v1::ConditionOperator* out);

// An enum value by its short name (see ParseEnum).
template <typename Enum>
absl::Status ReadEnum(const YAML::Node& node, const std::string& path, Enum* out) {
  std::string text;
  LEADFLOW_RETURN_IF_ERROR(ReadString(node, path, &text));
  absl::StatusOr<Enum> value = ParseEnum<Enum>(text);
  if (!value.ok()) return YamlError(node, path, value.status().message());
  *out = *value;
  return absl::OkStatus();
}

// A sequence into a repeated field, each item read by `read`.
template <typename Item, typename Read>
absl::Status ReadList(const YAML::Node& node, const std::string& path,
                      google::protobuf::RepeatedPtrField<Item>* out, Read read) {
  if (!node.IsSequence()) return YamlError(node, path, "expected a list");
  int i = 0;
  for (const auto& item : node) {
    LEADFLOW_RETURN_IF_ERROR(read(item, absl::StrCat(path, "[", i++, "]"), out->Add()));
  }
  return absl::OkStatus();
}

// The reader of a list whose items `read` reads, for Into.
template <typename Read>
auto ListOf(Read read) {
  return [read](const YAML::Node& node, const std::string& path, auto* out) {
    return ReadList(node, path, out, read);
  };
}

// Reads a field of `message` with `read`, e.g. Into(stage,
// &v1::PipelineStage::mutable_title, ReadString). The field is touched only
// when its key is there, so a message field stays unset and a oneof is not
// chosen without it.
template <typename Message, typename Field, typename Read>
YamlField Into(Message* message, Field* (Message::*mutable_field)(), Read read) {
  return [message, mutable_field, read](const YAML::Node& value, const std::string& at) {
    return read(value, at, (message->*mutable_field)());
  };
}

// Reads a bool (true|false) or enum field through its setter, e.g.
// Set(stage, &v1::PipelineStage::set_semantic).
template <typename Message, typename Value>
YamlField Set(Message* message, void (Message::*set)(Value)) {
  return [message, set](const YAML::Node& value, const std::string& at) -> absl::Status {
    Value parsed{};
    if constexpr (std::is_same_v<Value, bool>) {
      LEADFLOW_RETURN_IF_ERROR(ReadBool(value, at, &parsed));
    } else {
      LEADFLOW_RETURN_IF_ERROR(ReadEnum(value, at, &parsed));
    }
    (message->*set)(parsed);
    return absl::OkStatus();
  };
}

}  // namespace leadflow::config
