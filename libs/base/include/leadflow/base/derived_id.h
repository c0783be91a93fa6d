#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace leadflow {

// An id derived from its cause: the same (kind, cause, part) always gives the
// same id, so a replayed or retried step never creates a second thing.
// Result: "<kind>-<32 lowercase hex digits>" (XXH3-128 of cause and part).
std::string DeriveId(absl::string_view kind, absl::string_view cause, absl::string_view part = {});

}  // namespace leadflow
