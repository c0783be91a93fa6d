#include "leadflow/auth/api_key.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "support/server_process.h"

namespace leadflow::auth {
namespace {

TEST_CASE("a new API key parses back, and each is different") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto key = NewApiKey();
    REQUIRE(key.ok());
    CHECK(key->id.size() == 16);
    CHECK(key->secret.size() == 43);
    auto parsed = ParseApiKey(key->ToString());
    REQUIRE(parsed.ok());
    CHECK(parsed->id == key->id);
    CHECK(parsed->secret == key->secret);
    CHECK(seen.insert(key->ToString()).second);
  }
}

TEST_CASE("a malformed API key is refused without quoting it") {
  auto key = NewApiKey();
  REQUIRE(key.ok());
  const std::string good = key->ToString();
  for (const std::string& bad :
       {std::string("lfk_"), good.substr(0, good.size() - 1), "lfk_0123456789ABCDEF_" + key->secret,
        "xyz_" + key->id + "_" + key->secret, good + "x",
        "lfk_" + key->id + "_" + key->secret.substr(1) + "!"}) {
    auto parsed = ParseApiKey(bad);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(parsed.status().message().find(key->secret) == std::string::npos);
  }
}

TEST_CASE("the stored hash is SHA-256 of the secret") {
  CHECK(SecretSha256("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(SameDigest(SecretSha256("abc"), SecretSha256("abc")));
  CHECK_FALSE(SameDigest(SecretSha256("abc"), SecretSha256("abd")));
  CHECK_FALSE(SameDigest("ab", "abc"));
}

TEST_CASE("the key file is made once, private, and read back after") {
  testing::TempDir dir;
  const std::string path = dir.Sub("config/leadflow/admin.key");
  auto made = LoadOrCreateKeyFile(path);
  REQUIRE(made.ok());
  CHECK(made->created);
  struct stat file {};
  REQUIRE(stat(path.c_str(), &file) == 0);
  CHECK((file.st_mode & 0777) == 0600);
  auto again = LoadOrCreateKeyFile(path);
  REQUIRE(again.ok());
  CHECK_FALSE(again->created);
  CHECK(again->key.ToString() == made->key.ToString());

  std::ofstream(dir.Sub("bogus.key")) << "SECRET-not-a-key\n";
  auto bogus = LoadOrCreateKeyFile(dir.Sub("bogus.key"));
  REQUIRE_FALSE(bogus.ok());
  CHECK(bogus.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bogus.status().message().find("bogus.key does not hold an API key") != std::string::npos);
  CHECK(bogus.status().message().find("SECRET") == std::string::npos);
}

}  // namespace
}  // namespace leadflow::auth
