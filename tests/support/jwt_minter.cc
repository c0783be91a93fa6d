#include "support/jwt_minter.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace leadflow::testing {
namespace {

std::string B64(absl::string_view bytes) {
  std::string out;
  absl::WebSafeBase64Escape(bytes, &out);
  return out;
}

std::string BigNumParam(EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(key, name, &bn) == 1);
  std::string out(pad_to > 0 ? pad_to : BN_num_bytes(bn), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

}  // namespace

struct JwtMinter::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

JwtMinter::JwtMinter(Algorithm algorithm, std::string kid)
    : algorithm_(algorithm), kid_(std::move(kid)), key_(std::make_unique<Key>()) {
  key_->pkey = algorithm == Algorithm::kRs256
                   ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                   : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  REQUIRE(key_->pkey != nullptr);
}

JwtMinter::~JwtMinter() = default;

std::string JwtMinter::Jwk() const {
  if (algorithm_ == Algorithm::kRs256) {
    return absl::StrCat(R"({"kty":"RSA","alg":"RS256","use":"sig","kid":")", kid_, R"(","n":")",
                        B64(BigNumParam(key_->pkey, OSSL_PKEY_PARAM_RSA_N)), R"(","e":")",
                        B64(BigNumParam(key_->pkey, OSSL_PKEY_PARAM_RSA_E)), R"("})");
  }
  return absl::StrCat(R"({"kty":"EC","crv":"P-256","alg":"ES256","kid":")", kid_, R"(","x":")",
                      B64(BigNumParam(key_->pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32)), R"(","y":")",
                      B64(BigNumParam(key_->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32)), R"("})");
}

std::string JwtMinter::Jwks() const { return absl::StrCat(R"({"keys":[)", Jwk(), "]}"); }

std::string JwtMinter::Sign(const std::string& claims_json, const std::string& header_extra) const {
  const std::string header =
      absl::StrCat(R"({"alg":")", algorithm_ == Algorithm::kRs256 ? "RS256" : "ES256",
                   R"(","typ":"JWT","kid":")", kid_, "\"", header_extra, "}");
  const std::string signed_part =
      absl::StrCat(B64(header), ".", B64(absl::StrCat("{", claims_json, "}")));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  REQUIRE(EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_->pkey) == 1);
  size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(signed_part.data());
  REQUIRE(EVP_DigestSign(ctx, nullptr, &size, data, signed_part.size()) == 1);
  std::vector<unsigned char> signature(size);
  REQUIRE(EVP_DigestSign(ctx, signature.data(), &size, data, signed_part.size()) == 1);
  EVP_MD_CTX_free(ctx);
  std::string raw(reinterpret_cast<char*>(signature.data()), size);
  if (algorithm_ == Algorithm::kEs256) {
    // DER → r || s, as JWS wants it.
    const unsigned char* p = signature.data();
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(size));
    REQUIRE(sig != nullptr);
    raw.assign(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(sig);
  }
  return absl::StrCat(signed_part, ".", B64(raw));
}

std::string JwtMinter::Claims(const std::string& issuer, const std::string& audience,
                              const std::string& subject, absl::Duration lifetime,
                              const std::string& extra) {
  return absl::StrCat(R"("iss":")", issuer, R"(","aud":")", audience, R"(","sub":")", subject,
                      R"(","exp":)", absl::ToUnixSeconds(absl::Now() + lifetime), extra);
}

}  // namespace leadflow::testing
