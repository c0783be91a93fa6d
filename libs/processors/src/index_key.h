#pragma once

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace leadflow::processors {

// The prefix of a read model's index entries for one value:
// "<head><value>\0", followed by the item id. The value's own 0x00 and 0x01
// bytes are escaped (0x01 0x01, 0x01 0x02), so the terminator is the only
// 0x00 and a lookup of "@h" never matches the entries of "@h\0zzz": index
// lookups are exact, whatever bytes older data holds.
inline std::string IndexKeyPrefix(absl::string_view head, absl::string_view value) {
  std::string key(head);
  key.reserve(head.size() + value.size() + 1);
  for (char c : value) {
    if (c == '\0' || c == '\1') {
      key.push_back('\1');
      key.push_back(c == '\0' ? '\1' : '\2');
    } else {
      key.push_back(c);
    }
  }
  key.push_back('\0');
  return key;
}

}  // namespace leadflow::processors
