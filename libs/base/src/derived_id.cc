#include "leadflow/base/derived_id.h"

#include <xxhash.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace leadflow {

std::string DeriveId(absl::string_view kind, absl::string_view cause, absl::string_view part) {
  // Length-prefix the cause so ("ab", "c") and ("a", "bc") differ.
  std::string input = absl::StrCat(cause.size(), ":", cause, part);
  XXH128_hash_t h = XXH3_128bits(input.data(), input.size());
  return absl::StrFormat("%s-%016x%016x", kind, h.high64, h.low64);
}

}  // namespace leadflow
