#include "leadflow/auth/jwt.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace leadflow::auth {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

struct VerificationKey {
  // "RS256" or "ES256".
  std::string algorithm;
  Pkey key;
};

absl::StatusOr<Struct> ParseJson(absl::string_view text) {
  Struct parsed;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status =
      google::protobuf::util::JsonStringToMessage(std::string(text), &parsed, options);
  if (!status.ok()) return absl::InvalidArgumentError("not a JSON object");
  return parsed;
}

std::string StringField(const Struct& object, const std::string& name) {
  auto it = object.fields().find(name);
  if (it == object.fields().end() || !it->second.has_string_value()) return "";
  return it->second.string_value();
}

bool Base64UrlDecode(absl::string_view text, std::string* out) {
  return absl::WebSafeBase64Unescape(text, out);
}

// Builds a public key from OSSL parameters of `type` ("RSA", "EC").
Pkey KeyFromParams(const char* type, OSSL_PARAM_BLD* builder) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(builder);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  if (params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1) {
    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
  }
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return Pkey(key);
}

absl::StatusOr<VerificationKey> RsaKey(const Struct& jwk) {
  std::string n, e;
  if (!Base64UrlDecode(StringField(jwk, "n"), &n) || n.empty() ||
      !Base64UrlDecode(StringField(jwk, "e"), &e) || e.empty()) {
    return absl::InvalidArgumentError("an RSA key needs base64url n and e");
  }
  if (n.size() < 256) return absl::InvalidArgumentError("an RSA key shorter than 2048 bits");
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                           static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                           static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* builder = OSSL_PARAM_BLD_new();
  Pkey key;
  if (bn_n != nullptr && bn_e != nullptr && builder != nullptr &&
      OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(builder, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1) {
    key = KeyFromParams("RSA", builder);
  }
  OSSL_PARAM_BLD_free(builder);
  BN_free(bn_n);
  BN_free(bn_e);
  if (key == nullptr) return absl::InvalidArgumentError("not a usable RSA public key");
  return VerificationKey{"RS256", std::move(key)};
}

absl::StatusOr<VerificationKey> EcKey(const Struct& jwk) {
  if (StringField(jwk, "crv") != "P-256") {
    return absl::InvalidArgumentError("only EC keys on curve P-256 (ES256) are accepted");
  }
  std::string x, y;
  if (!Base64UrlDecode(StringField(jwk, "x"), &x) || x.size() != 32 ||
      !Base64UrlDecode(StringField(jwk, "y"), &y) || y.size() != 32) {
    return absl::InvalidArgumentError("an EC key needs 32-byte base64url x and y");
  }
  const std::string point = absl::StrCat("\x04", x, y);
  OSSL_PARAM_BLD* builder = OSSL_PARAM_BLD_new();
  Pkey key;
  if (builder != nullptr &&
      OSSL_PARAM_BLD_push_utf8_string(builder, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(builder, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) == 1) {
    key = KeyFromParams("EC", builder);
  }
  OSSL_PARAM_BLD_free(builder);
  if (key == nullptr) return absl::InvalidArgumentError("not a point on P-256");
  return VerificationKey{"ES256", std::move(key)};
}

// A raw ES256 signature (r || s, 32 bytes each) as the DER OpenSSL checks.
std::string EcdsaDer(absl::string_view raw) {
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  std::string der;
  if (sig != nullptr && r != nullptr && s != nullptr && ECDSA_SIG_set0(sig, r, s) == 1) {
    r = s = nullptr;  // owned by sig now
    unsigned char* out = nullptr;
    const int size = i2d_ECDSA_SIG(sig, &out);
    if (size > 0) der.assign(reinterpret_cast<char*>(out), size);
    OPENSSL_free(out);
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  return der;
}

bool SignatureVerifies(const VerificationKey& key, absl::string_view signed_part,
                       absl::string_view signature) {
  std::string der;
  if (key.algorithm == "ES256") {
    if (signature.size() != 64) return false;
    der = EcdsaDer(signature);
    signature = der;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      ctx != nullptr &&
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key.key.get()) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(signed_part.data()),
                       signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

absl::Status Refused(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("JWT refused: ", why));
}

// A NumericDate claim, or nullopt when absent; an error when not a number.
absl::StatusOr<std::optional<absl::Time>> TimeClaim(const Struct& claims, const std::string& name) {
  auto it = claims.fields().find(name);
  if (it == claims.fields().end()) return std::nullopt;
  if (!it->second.has_number_value()) return Refused(absl::StrCat(name, " is not a number"));
  return absl::FromUnixSeconds(static_cast<int64_t>(it->second.number_value()));
}

}  // namespace

struct JwtVerifier::Keys {
  std::map<std::string, VerificationKey> by_id;
};

JwtVerifier::JwtVerifier(JwtSettings settings, std::unique_ptr<Keys> keys)
    : settings_(std::move(settings)), keys_(std::move(keys)) {}
JwtVerifier::~JwtVerifier() = default;
size_t JwtVerifier::key_count() const { return keys_->by_id.size(); }

absl::StatusOr<std::unique_ptr<JwtVerifier>> JwtVerifier::Create(const JwtSettings& settings) {
  const std::string& file = settings.jwks_file;
  if (settings.issuer.empty()) {
    return absl::InvalidArgumentError("--jwt-issuer: required with --jwt-jwks");
  }
  if (settings.audiences.empty()) {
    return absl::InvalidArgumentError("--jwt-audience: required with --jwt-jwks");
  }
  std::ifstream in(file);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("--jwt-jwks: cannot read ", file));
  std::stringstream text;
  text << in.rdbuf();
  auto jwks = ParseJson(text.str());
  const Value* keys_field = nullptr;
  if (jwks.ok()) {
    auto it = jwks->fields().find("keys");
    if (it != jwks->fields().end() && it->second.has_list_value()) keys_field = &it->second;
  }
  if (keys_field == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--jwt-jwks: ", file, " is not a JWKS (a JSON object with \"keys\")"));
  }
  auto keys = std::make_unique<Keys>();
  const auto& list = keys_field->list_value().values();
  for (int i = 0; i < list.size(); ++i) {
    if (!list[i].has_struct_value()) continue;
    const Struct& jwk = list[i].struct_value();
    const std::string use = StringField(jwk, "use");
    if (!use.empty() && use != "sig") continue;  // encryption keys are not ours
    const std::string kty = StringField(jwk, "kty");
    absl::StatusOr<VerificationKey> key =
        kty == "RSA" ? RsaKey(jwk)
        : kty == "EC"
            ? EcKey(jwk)
            : absl::InvalidArgumentError(absl::StrCat("key type '", kty, "' (RSA or EC only)"));
    const std::string alg = StringField(jwk, "alg");
    if (key.ok() && !alg.empty() && alg != key->algorithm) {
      key = absl::InvalidArgumentError(
          absl::StrCat("alg ", alg, " does not match the key (", key->algorithm, ")"));
    }
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--jwt-jwks: ", file, ": keys[", i, "]: ", key.status().message()));
    }
    const std::string kid = StringField(jwk, "kid");
    if (!keys->by_id.emplace(kid, *std::move(key)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--jwt-jwks: ", file, ": keys[", i, "]: kid '", kid, "' repeated"));
    }
  }
  if (keys->by_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--jwt-jwks: ", file, " holds no RSA or P-256 signing key"));
  }
  if (keys->by_id.size() > 1 && keys->by_id.count("") > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--jwt-jwks: ", file, ": a key without kid among several"));
  }
  return std::unique_ptr<JwtVerifier>(new JwtVerifier(settings, std::move(keys)));
}

absl::StatusOr<JwtClaims> JwtVerifier::Verify(absl::string_view token, absl::Time now) const {
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) return Refused("malformed (not three dot-separated parts)");
  std::string header_json, claims_json, signature;
  if (!Base64UrlDecode(parts[0], &header_json) || !Base64UrlDecode(parts[1], &claims_json) ||
      !Base64UrlDecode(parts[2], &signature)) {
    return Refused("malformed (a part is not base64url)");
  }
  auto header = ParseJson(header_json);
  auto claims = ParseJson(claims_json);
  if (!header.ok() || !claims.ok()) return Refused("malformed (a part is not a JSON object)");

  const std::string alg = StringField(*header, "alg");
  if (alg != "RS256" && alg != "ES256") {
    return Refused(
        absl::StrCat("algorithm '", alg.substr(0, 16), "' is not accepted (RS256 or ES256)"));
  }
  const std::string kid = StringField(*header, "kid");
  auto key = keys_->by_id.find(kid);
  if (key == keys_->by_id.end() && keys_->by_id.size() == 1 && kid.empty()) {
    key = keys_->by_id.begin();
  }
  if (key == keys_->by_id.end()) {
    return Refused(absl::StrCat("signed with unknown key id '", kid.substr(0, 64),
                                "' (not in the configured JWKS)"));
  }
  if (key->second.algorithm != alg) {
    return Refused(absl::StrCat("algorithm ", alg, " does not match key '", kid, "'"));
  }
  const absl::string_view signed_part(parts[0].data(), parts[0].size() + 1 + parts[1].size());
  if (!SignatureVerifies(key->second, signed_part, signature)) {
    return Refused("signature does not verify");
  }

  const std::string issuer = StringField(*claims, "iss");
  if (issuer != settings_.issuer) {
    return Refused(absl::StrCat("issuer '", issuer.substr(0, 200), "' is not the configured '",
                                settings_.issuer, "'"));
  }
  std::vector<std::string> audiences;
  if (auto aud = claims->fields().find("aud"); aud != claims->fields().end()) {
    if (aud->second.has_string_value()) audiences.push_back(aud->second.string_value());
    if (aud->second.has_list_value()) {
      for (const Value& v : aud->second.list_value().values()) {
        if (v.has_string_value()) audiences.push_back(v.string_value());
      }
    }
  }
  bool audience_ok = false;
  for (const auto& a : audiences) {
    for (const auto& want : settings_.audiences) audience_ok = audience_ok || a == want;
  }
  if (!audience_ok) {
    return Refused(absl::StrCat("wrong audience: [", absl::StrJoin(audiences, ", "),
                                "] does not include ", absl::StrJoin(settings_.audiences, " or ")));
  }
  auto expiry = TimeClaim(*claims, "exp");
  if (!expiry.ok()) return expiry.status();
  if (!expiry->has_value()) return Refused("no exp claim (tokens must expire)");
  if (now > **expiry + settings_.leeway) {
    return Refused(absl::StrCat("expired at ", absl::FormatTime(**expiry, absl::UTCTimeZone())));
  }
  auto not_before = TimeClaim(*claims, "nbf");
  if (!not_before.ok()) return not_before.status();
  if (not_before->has_value() && now + settings_.leeway < **not_before) {
    return Refused(
        absl::StrCat("not valid before ", absl::FormatTime(**not_before, absl::UTCTimeZone())));
  }

  JwtClaims out;
  out.principal = StringField(*claims, settings_.principal_claim);
  if (out.principal.empty() || out.principal.size() > 200) {
    return Refused(absl::StrCat("claim ", settings_.principal_claim,
                                " (the principal) is missing, not a string or too long"));
  }
  if (auto roles = claims->fields().find(settings_.roles_claim);
      roles != claims->fields().end() && roles->second.has_list_value()) {
    for (const Value& v : roles->second.list_value().values()) {
      if (v.has_string_value()) out.roles.push_back(v.string_value());
    }
  }
  out.expiry = **expiry;
  return out;
}

bool LooksLikeJwt(absl::string_view token) {
  return std::count(token.begin(), token.end(), '.') == 2;
}

}  // namespace leadflow::auth
