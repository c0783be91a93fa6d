#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "aggregates.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/principal.h"

namespace leadflow::domain {
namespace {

constexpr int kMaxRoles = 20;

absl::Status CheckSecretHash(absl::string_view hash) {
  if (hash.size() != 64) return InvalidField("secret_sha256", "not 64 hex digits");
  for (char c : hash) {
    if (!(absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'))) {
      return InvalidField("secret_sha256", "not lowercase hex");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DecideApiKeyCommand(const v1::ApiKey* current, const v1::Command& command,
                                 EventSink& sink) {
  if (command.has_issue_api_key()) {
    const v1::IssueApiKey& issue = command.issue_api_key();
    if (absl::Status s = CheckPrincipalName(issue.principal(), "principal"); !s.ok()) return s;
    if (issue.roles_size() > kMaxRoles) {
      return InvalidField("roles", absl::StrCat("more than ", kMaxRoles, " roles"));
    }
    for (int i = 0; i < issue.roles_size(); ++i) {
      if (absl::Status s = CheckPrincipalName(issue.roles(i), absl::StrCat("roles[", i, "]"));
          !s.ok()) {
        return s;
      }
    }
    if (absl::Status s = CheckSecretHash(issue.secret_sha256()); !s.ok()) return s;
    auto* issued = sink.Add().mutable_api_key_issued();
    issued->set_principal(issue.principal());
    *issued->mutable_roles() = issue.roles();
    issued->set_act_for_others(issue.act_for_others());
    issued->set_secret_sha256(issue.secret_sha256());
    return absl::OkStatus();
  }
  if (command.has_revoke_api_key()) {
    if (current->has_revoke_time()) {
      return FieldError(absl::StatusCode::kFailedPrecondition, "name",
                        absl::StrCat("api key ", current->api_key_id(), " is revoked already"));
    }
    sink.Add().mutable_api_key_revoked()->set_reason(command.revoke_api_key().reason());
    return absl::OkStatus();
  }
  return InvalidField("command", "not an api key command");
}

void EvolveApiKeyState(v1::ApiKey& key, const v1::EventEnvelope& event) {
  key.set_version(event.aggregate_version());
  if (event.has_api_key_issued()) {
    const v1::ApiKeyIssued& issued = event.api_key_issued();
    key.set_name(absl::StrCat("apiKeys/", event.aggregate_id()));
    key.set_api_key_id(event.aggregate_id());
    key.set_principal(issued.principal());
    *key.mutable_roles() = issued.roles();
    key.set_act_for_others(issued.act_for_others());
    key.set_secret_sha256(issued.secret_sha256());
    *key.mutable_create_time() = event.occur_time();
    key.set_created_by(event.actor());
  } else if (event.has_api_key_revoked()) {
    *key.mutable_revoke_time() = event.occur_time();
    key.set_revoked_by(event.actor());
    key.set_revoke_reason(event.api_key_revoked().reason());
  }
}

}  // namespace leadflow::domain
