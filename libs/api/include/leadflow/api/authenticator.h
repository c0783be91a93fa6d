#pragma once

#include <grpcpp/server_context.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "leadflow/auth/jwt.h"
#include "leadflow/domain/principal.h"
#include "leadflow/processors/item_read_model.h"

namespace leadflow::api {

// Who a call comes from. Every RPC handler asks first and answers
// UNAUTHENTICATED with the reason when there is no one: a call must carry
// `authorization: Bearer <credential>` (an API key, or a JWT when an
// identity provider is configured) or, under mutual TLS, a client
// certificate. Thread-safe.
class Authenticator {
 public:
  struct Options {
    // JWTs are refused when null.
    std::shared_ptr<const auth::JwtVerifier> jwt;
    // Client-certificate common names that may act for others.
    std::vector<std::string> certificates_acting_for_others;
  };

  Authenticator(const processors::ItemReadModel* items, Options options)
      : items_(items), options_(std::move(options)) {}

  // The principal, or UNAUTHENTICATED saying why not (no credentials, a
  // malformed one, an unknown or revoked key, a wrong secret, a JWT that is
  // expired or for another audience, …). Secrets are never quoted.
  // UNAVAILABLE for every call until SetReady: before the read models have
  // caught up with the log, keys and the access policy are not known yet
  // (a policy not yet projected would read as open).
  absl::StatusOr<domain::Principal> Authenticate(const grpc::ServerContext& ctx) const;
  // Called once the read models hold what the log had at start.
  void SetReady() { ready_.store(true, std::memory_order_release); }
  // The same for a bearer credential (what follows "Bearer ").
  absl::StatusOr<domain::Principal> FromBearer(absl::string_view credential) const;

 private:
  absl::StatusOr<domain::Principal> FromApiKey(absl::string_view key) const;

  const processors::ItemReadModel* items_;
  Options options_;
  std::atomic<bool> ready_{false};
};

}  // namespace leadflow::api
