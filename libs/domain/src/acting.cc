#include "leadflow/domain/acting.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::domain {

absl::StatusOr<std::string> ActingAs(const std::optional<std::string>& principal,
                                     absl::string_view requested,
                                     const std::vector<std::string>& act_for_others) {
  if (!principal.has_value()) return requested.empty() ? "api" : std::string(requested);
  if (requested.empty() || requested == *principal) return *principal;
  if (std::find(act_for_others.begin(), act_for_others.end(), *principal) != act_for_others.end()) {
    return std::string(requested);
  }
  return FieldError(
      absl::StatusCode::kPermissionDenied, "actor",
      absl::StrCat("this client is '", *principal, "' and may act only as itself, not as '",
                   requested, "' (leadflowd --act-for-others lists the clients that may)"));
}

}  // namespace leadflow::domain
