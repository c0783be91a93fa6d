#include "leadflow/domain/principal.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::domain {

bool Principal::HasRole(absl::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Principal ServerPrincipal() {
  Principal server;
  server.name = "leadflowd";
  server.roles = {std::string(kAdministratorRole)};
  server.act_for_others = true;
  server.credential = Principal::Credential::kServer;
  return server;
}

absl::string_view CredentialName(Principal::Credential credential) {
  switch (credential) {
    case Principal::Credential::kApiKey:
      return "api_key";
    case Principal::Credential::kJwt:
      return "jwt";
    case Principal::Credential::kClientCertificate:
      return "client_certificate";
    case Principal::Credential::kServer:
      return "server";
  }
  return "";
}

absl::StatusOr<std::string> ActingAs(const Principal& principal, absl::string_view requested) {
  if (requested.empty() || requested == principal.name) return principal.name;
  if (principal.act_for_others) return std::string(requested);
  return FieldError(
      absl::StatusCode::kPermissionDenied, "actor",
      absl::StrCat("the caller is '", principal.name, "' and may act only as itself, not as '",
                   ValidUtf8(requested), "' (a credential allowed to act for others may)"));
}

absl::Status MayManageCredentials(const Principal& principal) {
  if (principal.HasRole(kAdministratorRole)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("'", principal.name, "' may not manage credentials or access: that needs the ",
                   kAdministratorRole, " role"));
}

absl::Status MayOperateServer(const Principal& principal, absl::string_view what) {
  if (principal.HasRole(kAdministratorRole)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "'", principal.name, "' may not ", what, ": that needs the ", kAdministratorRole, " role"));
}

absl::Status CheckPrincipalName(absl::string_view name, absl::string_view field) {
  if (name.empty()) return InvalidField(field, "required");
  if (name.size() > 80) return InvalidField(field, "longer than 80 characters");
  for (char c : name) {
    if (!(absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '@' || c == '-')) {
      return InvalidField(field, absl::StrCat("'", ValidUtf8(name),
                                              "' may hold only a-z, A-Z, 0-9, '.', '_', '@' "
                                              "and '-'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace leadflow::domain
