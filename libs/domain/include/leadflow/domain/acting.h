#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadflow::domain {

// Who a command is done by: the actor its events carry.
//
// Without a principal (the caller did not authenticate: plaintext, or TLS
// without a client certificate) it is the request's `actor`, "api" when
// empty. With one it is the principal: a request naming no actor, or the
// principal itself, acts as the principal; one naming someone else is
// refused with PERMISSION_DENIED on `actor`, unless the principal is in
// `act_for_others` (a front end acting for its signed-in users).
absl::StatusOr<std::string> ActingAs(const std::optional<std::string>& principal,
                                     absl::string_view requested,
                                     const std::vector<std::string>& act_for_others);

}  // namespace leadflow::domain
