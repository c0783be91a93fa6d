#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace leadflow::auth {

// Whose JWTs are accepted: the identity provider's public keys (a JWKS
// file: RSA keys for RS256, P-256 keys for ES256), its issuer and the
// audience leadflow is known by there.
struct JwtSettings {
  std::string jwks_file;
  std::string issuer;
  std::vector<std::string> audiences;
  // The claim naming the principal (the actor of its events).
  std::string principal_claim = "sub";
  // The claim listing its roles (an array of strings; may be absent).
  std::string roles_claim = "roles";
  // Clock skew tolerated on exp and nbf.
  absl::Duration leeway = absl::Seconds(60);
};

struct JwtClaims {
  std::string principal;
  std::vector<std::string> roles;
  absl::Time expiry;
};

// Verifies bearer JWTs: signature (RS256 or ES256 only; "none" and HMAC are
// refused), `iss`, `aud`, `exp` (required) and `nbf`. Thread-safe.
class JwtVerifier {
 public:
  // Reads the JWKS file; INVALID_ARGUMENT naming the file and what is wrong
  // in it (no usable key, a key without kid when there are several, …),
  // or when the issuer or audience is not set.
  static absl::StatusOr<std::unique_ptr<JwtVerifier>> Create(const JwtSettings& settings);
  ~JwtVerifier();
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  // The token's claims, or UNAUTHENTICATED saying why it is refused
  // (malformed, unknown key id, bad signature, wrong issuer or audience,
  // expired, not yet valid). The token is never quoted.
  absl::StatusOr<JwtClaims> Verify(absl::string_view token, absl::Time now) const;

  size_t key_count() const;

 private:
  struct Keys;
  JwtVerifier(JwtSettings settings, std::unique_ptr<Keys> keys);
  JwtSettings settings_;
  std::unique_ptr<Keys> keys_;
};

// Whether a bearer token looks like a JWT (three base64url parts).
bool LooksLikeJwt(absl::string_view token);

}  // namespace leadflow::auth
