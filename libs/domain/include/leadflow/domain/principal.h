#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadflow::domain {

// Who is calling, as the credential says: every call but health has one
// (the API refuses the rest UNAUTHENTICATED before any rule runs).
struct Principal {
  enum class Credential { kApiKey, kJwt, kClientCertificate, kServer };

  // The actor of every event its calls cause.
  std::string name;
  std::vector<std::string> roles;
  // May name another actor in its requests.
  bool act_for_others = false;
  Credential credential = Credential::kApiKey;
  // The key's id, for an API key.
  std::string api_key_id;

  bool HasRole(absl::string_view role) const;
};

// The built-in role that may do everything, managing credentials and
// access among it (access_policy.h).
inline constexpr absl::string_view kAdministratorRole = "administrator";

// leadflowd itself (the administrator key it issues at first start).
Principal ServerPrincipal();

// "api_key", "jwt", "client_certificate", "server".
absl::string_view CredentialName(Principal::Credential credential);

// Who a command is done by: the actor its events carry. A request naming
// no actor, or the principal itself, acts as the principal; one naming
// someone else is refused with PERMISSION_DENIED on `actor` unless the
// principal may act for others (a front end acting for its signed-in users,
// an integration recording the operator who took a call).
absl::StatusOr<std::string> ActingAs(const Principal& principal, absl::string_view requested);

// PERMISSION_DENIED unless the principal holds the administrator role:
// issuing, listing and revoking credentials; reading and applying the
// access policy.
absl::Status MayManageCredentials(const Principal& principal);

// PERMISSION_DENIED unless the principal holds the administrator role:
// operating the server itself (backups), `what` naming the operation.
absl::Status MayOperateServer(const Principal& principal, absl::string_view what);

// A principal's or role's name: 1-80 characters of a-z, A-Z, 0-9, '.',
// '_', '@' and '-' (user ids, e-mail addresses, service names). Refusals
// name `field`.
absl::Status CheckPrincipalName(absl::string_view name, absl::string_view field);

}  // namespace leadflow::domain
