#include "leadflow/auth/jwt.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "support/jwt_minter.h"
#include "support/server_process.h"

namespace leadflow::auth {
namespace {

using testing::JwtMinter;

constexpr char kIssuer[] = "https://id.example.com/";
constexpr char kAudience[] = "leadflow";

struct Provider {
  testing::TempDir dir;
  JwtMinter rsa{JwtMinter::Algorithm::kRs256, "rsa-1"};
  JwtMinter ec{JwtMinter::Algorithm::kEs256, "ec-1"};
  std::unique_ptr<JwtVerifier> verifier;

  Provider() {
    std::ofstream(dir.Sub("jwks.json"))
        << absl::StrCat(R"({"keys":[)", rsa.Jwk(), ",", ec.Jwk(), "]}");
    JwtSettings settings;
    settings.jwks_file = dir.Sub("jwks.json");
    settings.issuer = kIssuer;
    settings.audiences = {kAudience};
    auto made = JwtVerifier::Create(settings);
    REQUIRE(made.ok());
    verifier = *std::move(made);
  }
  absl::StatusOr<JwtClaims> Verify(const std::string& token) const {
    return verifier->Verify(token, absl::Now());
  }
};

std::string ValidClaims(const std::string& extra = "") {
  return JwtMinter::Claims(kIssuer, kAudience, "anna@example.com", absl::Minutes(5), extra);
}

void CheckRefused(const absl::StatusOr<JwtClaims>& claims, const std::string& why) {
  REQUIRE_FALSE(claims.ok());
  CHECK(claims.status().code() == absl::StatusCode::kUnauthenticated);
  INFO(claims.status().message());
  CHECK(claims.status().message().find(why) != std::string::npos);
}

TEST_CASE("RS256 and ES256 tokens of the provider are accepted, with sub and roles") {
  Provider provider;
  CHECK(provider.verifier->key_count() == 2);
  for (const JwtMinter* minter : {&provider.rsa, &provider.ec}) {
    auto claims = provider.Verify(minter->Sign(ValidClaims(R"(,"roles":["manager","sales"])")));
    REQUIRE(claims.ok());
    CHECK(claims->principal == "anna@example.com");
    CHECK(claims->roles == std::vector<std::string>{"manager", "sales"});
  }
  // aud may be a list.
  auto listed = provider.Verify(provider.rsa.Sign(
      absl::StrCat(R"("iss":")", kIssuer, R"(","aud":["crm","leadflow"],"sub":"x","exp":)",
                   absl::ToUnixSeconds(absl::Now() + absl::Minutes(1)))));
  CHECK(listed.ok());
}

TEST_CASE("tokens are refused with the reason") {
  Provider provider;
  CheckRefused(provider.Verify(provider.rsa.Sign(
                   JwtMinter::Claims(kIssuer, kAudience, "anna", absl::Minutes(-5)))),
               "expired at");
  CheckRefused(provider.Verify(provider.rsa.Sign(
                   JwtMinter::Claims(kIssuer, "another-app", "anna", absl::Minutes(5)))),
               "wrong audience");
  CheckRefused(provider.Verify(provider.rsa.Sign(JwtMinter::Claims(
                   "https://evil.example.com/", kAudience, "anna", absl::Minutes(5)))),
               "issuer 'https://evil.example.com/' is not the configured");
  CheckRefused(provider.Verify(provider.rsa.Sign(ValidClaims(
                   absl::StrCat(R"(,"nbf":)", absl::ToUnixSeconds(absl::Now() + absl::Hours(1)))))),
               "not valid before");
  CheckRefused(provider.Verify(provider.rsa.Sign(absl::StrCat(R"("iss":")", kIssuer, R"(","aud":")",
                                                              kAudience, R"(","sub":"anna")"))),
               "no exp claim");
  CheckRefused(provider.Verify(
                   provider.rsa.Sign(JwtMinter::Claims(kIssuer, kAudience, "", absl::Minutes(5)))),
               "claim sub");

  JwtMinter stranger(JwtMinter::Algorithm::kRs256, "rsa-1");  // same kid, another key
  CheckRefused(provider.Verify(stranger.Sign(ValidClaims())), "signature does not verify");
  JwtMinter unknown(JwtMinter::Algorithm::kEs256, "ec-9");
  CheckRefused(provider.Verify(unknown.Sign(ValidClaims())), "unknown key id 'ec-9'");

  // A token whose claims were changed after signing.
  std::string token = provider.ec.Sign(ValidClaims());
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  std::string forged_claims;
  absl::WebSafeBase64Escape(
      absl::StrCat("{", JwtMinter::Claims(kIssuer, kAudience, "admin", absl::Minutes(5)), "}"),
      &forged_claims);
  token = absl::StrCat(token.substr(0, first + 1), forged_claims, token.substr(second));
  CheckRefused(provider.Verify(token), "signature does not verify");

  // alg "none", and HMAC with the public key as secret: the classic attacks.
  std::string none_header, claims;
  absl::WebSafeBase64Escape(R"({"alg":"none","kid":"rsa-1"})", &none_header);
  absl::WebSafeBase64Escape(absl::StrCat("{", ValidClaims(), "}"), &claims);
  CheckRefused(provider.Verify(absl::StrCat(none_header, ".", claims, ".")),
               "algorithm 'none' is not accepted");
  std::string hs_header;
  absl::WebSafeBase64Escape(R"({"alg":"HS256","kid":"rsa-1"})", &hs_header);
  CheckRefused(provider.Verify(absl::StrCat(hs_header, ".", claims, ".c2ln")),
               "algorithm 'HS256' is not accepted");

  CheckRefused(provider.Verify("not-a-jwt"), "malformed");
  CheckRefused(provider.Verify("a.b"), "malformed");
  CheckRefused(provider.Verify("!!!.???.###"), "malformed");
}

TEST_CASE("a bad JWKS stops the start, naming the file and the key") {
  testing::TempDir dir;
  JwtSettings settings;
  settings.jwks_file = dir.Sub("jwks.json");
  settings.issuer = kIssuer;
  settings.audiences = {kAudience};
  auto refused = [&](const std::string& content, const std::string& why) {
    std::ofstream(settings.jwks_file) << content;
    auto made = JwtVerifier::Create(settings);
    REQUIRE_FALSE(made.ok());
    INFO(made.status().message());
    CHECK(made.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(made.status().message().find(why) != std::string::npos);
  };
  refused("not json", "is not a JWKS");
  refused(R"({"keys":[]})", "holds no RSA or P-256 signing key");
  refused(R"({"keys":[{"kty":"oct","k":"c2VjcmV0"}]})", "keys[0]: key type 'oct'");
  refused(R"({"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]})", "shorter than 2048 bits");
  refused(R"({"keys":[{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}]})", "P-256");
  JwtMinter rsa(JwtMinter::Algorithm::kRs256, "k");
  refused(absl::StrCat(R"({"keys":[)", rsa.Jwk(), ",", rsa.Jwk(), "]}"), "kid 'k' repeated");
  settings.audiences.clear();
  refused(rsa.Jwks(), "--jwt-audience");
  settings.audiences = {kAudience};
  settings.jwks_file = dir.Sub("absent.json");
  auto absent = JwtVerifier::Create(settings);
  REQUIRE_FALSE(absent.ok());
  CHECK(absent.status().message().find("cannot read") != std::string::npos);
}

}  // namespace
}  // namespace leadflow::auth
