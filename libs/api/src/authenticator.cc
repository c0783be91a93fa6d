#include "leadflow/api/authenticator.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/auth/api_key.h"
#include "leadflow/tls/grpc_tls.h"

namespace leadflow::api {

absl::StatusOr<domain::Principal> Authenticator::Authenticate(
    const grpc::ServerContext& ctx) const {
  if (!ready_.load(std::memory_order_acquire)) {
    return absl::UnavailableError(
        "leadflowd is catching up with the event log (credentials and rights are not known "
        "yet); retry");
  }
  const auto& metadata = ctx.client_metadata();
  auto header = metadata.find("authorization");
  if (header != metadata.end()) {
    const absl::string_view value(header->second.data(), header->second.size());
    constexpr absl::string_view kScheme = "bearer ";
    if (value.size() <= kScheme.size() ||
        !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
      return absl::UnauthenticatedError(
          "authorization metadata: expected 'Bearer <API key or JWT>'");
    }
    return FromBearer(absl::StripAsciiWhitespace(value.substr(kScheme.size())));
  }
  if (std::optional<std::string> certified = tls::PeerPrincipal(ctx); certified.has_value()) {
    domain::Principal principal;
    principal.name = *std::move(certified);
    principal.credential = domain::Principal::Credential::kClientCertificate;
    const auto& allowed = options_.certificates_acting_for_others;
    principal.act_for_others =
        std::find(allowed.begin(), allowed.end(), principal.name) != allowed.end();
    return principal;
  }
  return absl::UnauthenticatedError(
      "no credentials: send 'authorization: Bearer <API key or JWT>' metadata (leadflowd writes "
      "an administrator key to its --admin-key-file at first start; the CLI reads "
      "LEADFLOW_TOKEN or LEADFLOW_TOKEN_FILE)");
}

absl::StatusOr<domain::Principal> Authenticator::FromBearer(absl::string_view credential) const {
  if (absl::StartsWith(credential, auth::kApiKeyPrefix)) return FromApiKey(credential);
  if (!auth::LooksLikeJwt(credential)) {
    return absl::UnauthenticatedError(absl::StrCat("the bearer credential is neither an API key (",
                                                   auth::kApiKeyPrefix, "…) nor a JWT"));
  }
  if (options_.jwt == nullptr) {
    return absl::UnauthenticatedError(
        "JWTs are not accepted here: leadflowd runs without --jwt-jwks (use an API key)");
  }
  absl::StatusOr<auth::JwtClaims> claims = options_.jwt->Verify(credential, absl::Now());
  if (!claims.ok()) return claims.status();
  domain::Principal principal;
  principal.name = std::move(claims->principal);
  principal.roles = std::move(claims->roles);
  principal.credential = domain::Principal::Credential::kJwt;
  return principal;
}

absl::StatusOr<domain::Principal> Authenticator::FromApiKey(absl::string_view key) const {
  absl::StatusOr<auth::ApiKey> parsed = auth::ParseApiKey(key);
  if (!parsed.ok()) return parsed.status();
  absl::StatusOr<std::optional<v1::AggregateState>> stored = items_->Get("api_key", parsed->id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value() || !(*stored)->has_api_key()) {
    return absl::UnauthenticatedError(
        absl::StrCat("unknown API key apiKeys/", parsed->id, " (never issued here)"));
  }
  const v1::ApiKey& record = (*stored)->api_key();
  if (!auth::SameDigest(auth::SecretSha256(parsed->secret), record.secret_sha256())) {
    return absl::UnauthenticatedError(
        absl::StrCat("API key apiKeys/", parsed->id, ": the secret is wrong"));
  }
  if (record.has_revoke_time()) {
    return absl::UnauthenticatedError(
        absl::StrCat("API key apiKeys/", parsed->id, " was revoked at ",
                     absl::FormatTime(absl::FromUnixSeconds(record.revoke_time().seconds()),
                                      absl::UTCTimeZone())));
  }
  domain::Principal principal;
  principal.name = record.principal();
  principal.roles.assign(record.roles().begin(), record.roles().end());
  principal.act_for_others = record.act_for_others();
  principal.credential = domain::Principal::Credential::kApiKey;
  principal.api_key_id = record.api_key_id();
  return principal;
}

}  // namespace leadflow::api
