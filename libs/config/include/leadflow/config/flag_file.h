#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadflow::config {

// One setting of a configuration file: a flag's name as on the command line
// without "--" ("data-dir"; "data_dir" is read as the same), and its values
// (one, or several for a flag that repeats or takes a list).
struct FlagSetting {
  std::string name;
  std::vector<std::string> values;
  int line = 0;
};

// A YAML configuration file of a binary's flags:
//
//   data-dir: /var/lib/leadflow
//   kafka-brokers: kafka-1:9092,kafka-2:9092
//   supervisors: [olga, ivan]
//   sync-writes: true
//
// A map of names to a value or a list of values, in file order.
// INVALID_ARGUMENT naming the line (and the key) when the text is not YAML,
// not a map, a key is given twice, or a value is empty or a map.
absl::StatusOr<std::vector<FlagSetting>> ParseFlagFile(absl::string_view text);

}  // namespace leadflow::config
