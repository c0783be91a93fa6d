#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace leadflow::testing {

// An identity provider for tests: a fresh signing key (RSA 2048 for RS256
// or P-256 for ES256), its JWKS, and tokens signed with it.
class JwtMinter {
 public:
  enum class Algorithm { kRs256, kEs256 };
  JwtMinter(Algorithm algorithm, std::string kid);
  ~JwtMinter();
  JwtMinter(const JwtMinter&) = delete;
  JwtMinter& operator=(const JwtMinter&) = delete;

  // {"keys":[<this key's public JWK>]}.
  std::string Jwks() const;
  // The public JWK alone, to put several in one JWKS.
  std::string Jwk() const;
  // A token with the given claims (a JSON object's members, without the
  // braces), signed by this key; `header_extra` adds header members.
  std::string Sign(const std::string& claims_json, const std::string& header_extra = "") const;
  // Claims of a token valid now: iss, aud, sub, exp `lifetime` away.
  static std::string Claims(const std::string& issuer, const std::string& audience,
                            const std::string& subject, absl::Duration lifetime,
                            const std::string& extra = "");

 private:
  struct Key;
  Algorithm algorithm_;
  std::string kid_;
  std::unique_ptr<Key> key_;
};

}  // namespace leadflow::testing
