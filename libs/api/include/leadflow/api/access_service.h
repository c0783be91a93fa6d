#pragma once

#include <string>

#include "leadflow/api/command_gateway.h"
#include "leadflow/api/service_context.h"
#include "leadflow/auth/api_key.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::api {

// Service credentials and the access policy over gRPC. Each API key is an aggregate
// ("apiKeys/<id>") changed by commands, so issuing and revoking are events
// like every other change. Calls return once the change is in force on
// this instance (projected: the new key works, the revoked one is refused).
class AccessServiceImpl final : public v1::AccessService::Service {
 public:
  explicit AccessServiceImpl(const ServiceContext* context)
      : context_(context), gateway_(context) {}

  grpc::Status CreateApiKey(grpc::ServerContext* ctx, const v1::CreateApiKeyRequest* request,
                            v1::CreateApiKeyResponse* response) override;
  grpc::Status ListApiKeys(grpc::ServerContext* ctx, const v1::ListApiKeysRequest* request,
                           v1::ListApiKeysResponse* response) override;
  // The administrator may revoke any key; any key may revoke itself (a
  // holder who finds it leaked).
  grpc::Status RevokeApiKey(grpc::ServerContext* ctx, const v1::RevokeApiKeyRequest* request,
                            v1::ApiKey* response) override;
  grpc::Status GetCaller(grpc::ServerContext* ctx, const v1::GetCallerRequest* request,
                         v1::Caller* response) override;
  // Roles, teams and users: the "access" aggregate, replaced whole by an
  // apply (validate_only answers with the changes and makes none).
  grpc::Status GetAccessPolicy(grpc::ServerContext* ctx, const v1::GetAccessPolicyRequest* request,
                               v1::AccessPolicy* response) override;
  grpc::Status ApplyAccessPolicy(grpc::ServerContext* ctx,
                                 const v1::ApplyAccessPolicyRequest* request,
                                 v1::ApplyAccessPolicyResponse* response) override;

 private:
  const ServiceContext* context_;
  const CommandGateway gateway_;
};

// leadflowd's first-start credential: issues `key` to `principal` with the
// administrator role (acting for others), unless it is issued already, and
// waits until this instance accepts it. FAILED_PRECONDITION when a key
// with its id exists with another secret, or was revoked.
absl::Status EnsureAdministratorKey(const ServiceContext* context, const auth::ApiKey& key,
                                    const std::string& principal);

}  // namespace leadflow::api
