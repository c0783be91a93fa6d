#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace leadflow::auth {

// An API key: `lfk_<id>_<secret>`. The id (16 lowercase hex digits) names
// the key's record; the secret (32 random bytes, base64url) proves it.
struct ApiKey {
  std::string id;
  std::string secret;

  // The key as given to its holder.
  std::string ToString() const;
};

inline constexpr absl::string_view kApiKeyPrefix = "lfk_";

// A fresh key from the system's random source (OpenSSL's DRBG); INTERNAL
// when it cannot give one.
absl::StatusOr<ApiKey> NewApiKey();

// Parses a key; UNAUTHENTICATED "malformed API key" (never quoting it)
// when it is not one.
absl::StatusOr<ApiKey> ParseApiKey(absl::string_view key);

// Lowercase hex SHA-256 of `secret`: what is stored instead of it.
std::string SecretSha256(absl::string_view secret);

// Compares two digests in time independent of where they differ.
bool SameDigest(absl::string_view a, absl::string_view b);

}  // namespace leadflow::auth

namespace leadflow::auth {

// The key kept in `path` (its first line), or a new one written there when
// the file does not exist: created whole or not at all (written beside it,
// then linked into place, so two processes starting together end up with
// the same key), mode 0600, parent directories made 0700. `created` says
// which. INVALID_ARGUMENT naming the file when it holds no key (never
// quoting it); the errno text when it cannot be read or written.
struct KeyFile {
  ApiKey key;
  bool created = false;
};
absl::StatusOr<KeyFile> LoadOrCreateKeyFile(const std::string& path);

}  // namespace leadflow::auth
