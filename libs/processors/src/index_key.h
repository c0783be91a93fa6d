#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/store/state_store.h"

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

// The ids under an index prefix (IndexKeyPrefix) in the views, in id
// order: those after `after` (all when empty), at most `limit`.
inline absl::StatusOr<std::vector<std::string>> IndexedIds(const store::StateStore& db,
                                                           const std::string& prefix,
                                                           absl::string_view after, size_t limit) {
  std::vector<std::string> ids;
  // Ids hold no NUL: the first key past `after`'s is `after` + NUL.
  const std::string start =
      after.empty() ? prefix : absl::StrCat(prefix, after, absl::string_view("\0", 1));
  LEADFLOW_RETURN_IF_ERROR(db.Scan(store::Keyspace::kViews, prefix, start,
                                   [&](absl::string_view key, absl::string_view) {
                                     if (ids.size() == limit) return false;
                                     ids.emplace_back(key.substr(prefix.size()));
                                     return true;
                                   }));
  return ids;
}

}  // namespace leadflow::processors
