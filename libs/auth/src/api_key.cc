#include "leadflow/auth/api_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "leadflow/base/status_macros.h"

namespace leadflow::auth {
namespace {

constexpr size_t kIdBytes = 8;
constexpr size_t kSecretBytes = 32;
// base64url of 32 bytes, unpadded.
constexpr size_t kSecretChars = 43;

bool IsLowerHex(absl::string_view text) {
  for (char c : text) {
    if (!(absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool IsBase64Url(absl::string_view text) {
  for (char c : text) {
    if (!(absl::ascii_isalnum(c) || c == '-' || c == '_')) return false;
  }
  return true;
}

}  // namespace

std::string ApiKey::ToString() const { return absl::StrCat(kApiKeyPrefix, id, "_", secret); }

absl::StatusOr<ApiKey> NewApiKey() {
  std::array<unsigned char, kIdBytes + kSecretBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return absl::InternalError("no random bytes for an API key (OpenSSL RAND_bytes failed)");
  }
  const absl::string_view raw(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  ApiKey key;
  key.id = absl::BytesToHexString(raw.substr(0, kIdBytes));
  absl::WebSafeBase64Escape(raw.substr(kIdBytes), &key.secret);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return key;
}

absl::StatusOr<ApiKey> ParseApiKey(absl::string_view key) {
  const auto malformed = absl::UnauthenticatedError(
      absl::StrCat("malformed API key: expected ", kApiKeyPrefix, "<16 hex digits>_<", kSecretChars,
                   " base64url characters>"));
  if (!absl::ConsumePrefix(&key, kApiKeyPrefix)) return malformed;
  const size_t separator = key.find('_');
  if (separator != kIdBytes * 2) return malformed;
  ApiKey parsed{std::string(key.substr(0, separator)), std::string(key.substr(separator + 1))};
  if (!IsLowerHex(parsed.id) || parsed.secret.size() != kSecretChars ||
      !IsBase64Url(parsed.secret)) {
    return malformed;
  }
  return parsed;
}

std::string SecretSha256(absl::string_view secret) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  EVP_Digest(secret.data(), secret.size(), digest.data(), &size, EVP_sha256(), nullptr);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), size));
}

bool SameDigest(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace leadflow::auth

namespace leadflow::auth {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::StatusOr<ApiKey> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ErrnoError("cannot read", path);
  std::string line;
  std::getline(in, line);
  absl::StatusOr<ApiKey> key = ParseApiKey(absl::StripAsciiWhitespace(line));
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " does not hold an API key (", kApiKeyPrefix, "…) on its first line"));
  }
  return key;
}

}  // namespace

absl::StatusOr<KeyFile> LoadOrCreateKeyFile(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0) {
    LEADFLOW_ASSIGN_OR_RETURN(ApiKey key, ReadKeyFile(path));
    return KeyFile{std::move(key), false};
  }
  const std::filesystem::path target(path);
  if (target.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(target.parent_path(), error);
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("cannot make ", target.parent_path().string(), ": ", error.message()));
    }
  }
  LEADFLOW_ASSIGN_OR_RETURN(ApiKey key, NewApiKey());
  std::string temp = absl::StrCat(path, ".XXXXXX");
  const int fd = ::mkstemp(temp.data());  // mode 0600
  if (fd < 0) return ErrnoError("cannot create", temp);
  const std::string text = absl::StrCat(key.ToString(), "\n");
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written) {
    ::unlink(temp.c_str());
    return ErrnoError("cannot write", temp);
  }
  // link() fails when the file appeared meanwhile: then that one holds the
  // key everyone uses.
  const bool linked = ::link(temp.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(temp.c_str());
  if (!linked) {
    if (link_errno != EEXIST) {
      errno = link_errno;
      return ErrnoError("cannot create", path);
    }
    LEADFLOW_ASSIGN_OR_RETURN(ApiKey existing, ReadKeyFile(path));
    return KeyFile{std::move(existing), false};
  }
  return KeyFile{std::move(key), true};
}

}  // namespace leadflow::auth
