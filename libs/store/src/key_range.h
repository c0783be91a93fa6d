#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace leadflow::store {

// The least key greater than every key that starts with `prefix`; empty
// when there is none (an empty prefix, or one of 0xff bytes only).
inline std::string PrefixEnd(absl::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

inline bool HasPrefix(absl::string_view key, absl::string_view prefix) {
  return key.substr(0, prefix.size()) == prefix;
}

}  // namespace leadflow::store
