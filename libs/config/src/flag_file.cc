#include "leadflow/config/flag_file.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "yaml_fields.h"

namespace leadflow::config {
namespace {

absl::StatusOr<std::vector<FlagSetting>> ReadSettings(const YAML::Node& root) {
  std::vector<FlagSetting> settings;
  if (root.IsNull()) return settings;  // an empty file: nothing set
  if (!root.IsMap()) return YamlError(root, "", "expected a map of flag: value");
  std::set<std::string> seen;
  for (const auto& entry : root) {
    if (!entry.first.IsScalar()) return YamlError(entry.first, "", "a key must be a flag's name");
    FlagSetting setting;
    setting.name = absl::StrReplaceAll(entry.first.Scalar(), {{"_", "-"}});
    setting.line = entry.first.Mark().line + 1;
    if (!seen.insert(setting.name).second) {
      return YamlError(entry.first, setting.name, "given twice");
    }
    const YAML::Node& value = entry.second;
    if (value.IsNull()) return YamlError(entry.first, setting.name, "needs a value");
    if (value.IsMap()) {
      return YamlError(value, setting.name, "expected a value or a list of values, not a map");
    }
    if (value.IsSequence()) {
      for (const auto& item : value) {
        if (!item.IsScalar()) {
          return YamlError(item, setting.name, "a list of plain values only");
        }
        setting.values.push_back(item.Scalar());
      }
    } else {
      setting.values.push_back(value.Scalar());
    }
    settings.push_back(std::move(setting));
  }
  return settings;
}

}  // namespace

absl::StatusOr<std::vector<FlagSetting>> ParseFlagFile(absl::string_view text) {
  try {
    return ReadSettings(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", std::max(e.mark.line, 0) + 1, ": ", e.msg));
  }
}

}  // namespace leadflow::config
