#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadflow::domain {

// Parses a phone written in any common format and returns it in E.164
// ("+74951234567"). Numbers without a country code are read in
// `default_region` (ISO 3166 alpha-2, e.g. "RU"). A number that is not a
// valid number of its region is refused with `field` named.
absl::StatusOr<std::string> NormalizePhone(absl::string_view raw, absl::string_view default_region,
                                           absl::string_view field);

// Trims and lower-cases an email address and checks its shape
// (local@domain.tld, no spaces, sane lengths). Refusals name `field`.
absl::StatusOr<std::string> NormalizeEmail(absl::string_view raw, absl::string_view field);

// True when `region` is a region libphonenumber knows.
bool IsKnownPhoneRegion(absl::string_view region);

}  // namespace leadflow::domain
