#include "leadflow/api/access_service.h"

#include "absl/strings/str_cat.h"
#include "leadflow/api/status_mapping.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/access_policy.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/principal.h"

namespace leadflow::api {
namespace {

// A key as the API shows it: never its hash.
v1::ApiKey Shown(v1::ApiKey key) {
  key.clear_secret_sha256();
  return key;
}

v1::Command IssueCommand(const std::string& key_id, const std::string& request_id,
                         const v1::IssueApiKey& issue) {
  v1::Command command;
  command.set_command_id(CommandGateway::CommandId(key_id, request_id));
  command.set_aggregate_id(key_id);
  *command.mutable_issue_api_key() = issue;
  return command;
}

// Issues and waits until the key is projected here (so it works at once).
absl::StatusOr<v1::CommandOutcome> SubmitAndAwait(const CommandGateway& gateway,
                                                  const grpc::ServerContext* ctx,
                                                  const domain::Principal& caller,
                                                  v1::Command command) {
  LEADFLOW_ASSIGN_OR_RETURN(v1::CommandOutcome outcome,
                            gateway.Submit(ctx, caller, std::move(command)));
  LEADFLOW_RETURN_IF_ERROR(gateway.AwaitPosition(ctx, outcome.position(), outcome.has_position()));
  return outcome;
}

}  // namespace

grpc::Status AccessServiceImpl::CreateApiKey(grpc::ServerContext* ctx,
                                             const v1::CreateApiKeyRequest* request,
                                             v1::CreateApiKeyResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (auto s = domain::MayManageCredentials(*caller); !s.ok()) return ToGrpcStatus(s);
  if (auto s = CommandGateway::CheckRequestId(request->request_id()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<auth::ApiKey> key = auth::NewApiKey();
  if (!key.ok()) return ToGrpcStatus(key.status());
  // A retried create names the same key, so it makes one.
  if (!request->request_id().empty()) {
    key->id = auth::SecretSha256(absl::StrCat("api-key-request:", request->request_id()))
                  .substr(0, key->id.size());
  }
  v1::IssueApiKey issue;
  issue.set_principal(request->principal());
  *issue.mutable_roles() = request->roles();
  issue.set_act_for_others(request->act_for_others());
  issue.set_secret_sha256(auth::SecretSha256(key->secret));
  auto outcome =
      SubmitAndAwait(gateway_, ctx, *caller, IssueCommand(key->id, request->request_id(), issue));
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  const v1::ApiKey& issued = outcome->state().api_key();
  // A retry answered with the first create's outcome holds another secret,
  // which was shown once, to the first reply.
  if (issued.secret_sha256() == issue.secret_sha256()) response->set_key(key->ToString());
  *response->mutable_api_key() = Shown(issued);
  return grpc::Status::OK;
}

grpc::Status AccessServiceImpl::ListApiKeys(grpc::ServerContext* ctx,
                                            const v1::ListApiKeysRequest* request,
                                            v1::ListApiKeysResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (auto s = domain::MayManageCredentials(*caller); !s.ok()) return ToGrpcStatus(s);
  std::string page_token;
  do {
    auto page = context_->items->List("api_key", {}, 1000, page_token);
    if (!page.ok()) return ToGrpcStatus(page.status());
    for (auto& item : page->items) {
      if (!item.has_api_key()) continue;
      if (item.api_key().has_revoke_time() && !request->show_revoked()) continue;
      *response->add_api_keys() = Shown(std::move(*item.mutable_api_key()));
    }
    page_token = std::move(page->next_page_token);
  } while (!page_token.empty());
  return grpc::Status::OK;
}

grpc::Status AccessServiceImpl::RevokeApiKey(grpc::ServerContext* ctx,
                                             const v1::RevokeApiKeyRequest* request,
                                             v1::ApiKey* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  auto id = CommandGateway::IdFromName(request->name(), "api_key", "name");
  if (!id.ok()) return ToGrpcStatus(id.status());
  if (*id != caller->api_key_id) {
    if (auto s = domain::MayManageCredentials(*caller); !s.ok()) return ToGrpcStatus(s);
  }
  v1::Command command;
  command.set_command_id(CommandGateway::CommandId(*id, ""));
  command.set_aggregate_id(*id);
  command.mutable_revoke_api_key()->set_reason(request->reason());
  auto outcome = SubmitAndAwait(gateway_, ctx, *caller, std::move(command));
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  *response = Shown(outcome->state().api_key());
  return grpc::Status::OK;
}

grpc::Status AccessServiceImpl::GetCaller(grpc::ServerContext* ctx, const v1::GetCallerRequest*,
                                          v1::Caller* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  response->set_principal(caller->name);
  for (const auto& role : caller->roles) response->add_roles(role);
  response->set_act_for_others(caller->act_for_others);
  response->set_credential(std::string(domain::CredentialName(caller->credential)));
  if (!caller->api_key_id.empty()) {
    response->set_api_key(absl::StrCat("apiKeys/", caller->api_key_id));
  }
  auto policy = context_->items->AccessPolicy();
  if (!policy.ok()) return ToGrpcStatus(policy.status());
  for (auto& line : domain::RightsOf(**policy, *caller)) response->add_rights(std::move(line));
  return grpc::Status::OK;
}

grpc::Status AccessServiceImpl::GetAccessPolicy(grpc::ServerContext* ctx,
                                                const v1::GetAccessPolicyRequest*,
                                                v1::AccessPolicy* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (auto s = domain::MayManageCredentials(*caller); !s.ok()) return ToGrpcStatus(s);
  auto policy = context_->items->AccessPolicy();
  if (!policy.ok()) return ToGrpcStatus(policy.status());
  *response = **policy;
  return grpc::Status::OK;
}

grpc::Status AccessServiceImpl::ApplyAccessPolicy(grpc::ServerContext* ctx,
                                                  const v1::ApplyAccessPolicyRequest* request,
                                                  v1::ApplyAccessPolicyResponse* response) {
  const auto caller = context_->auth->Authenticate(*ctx);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (auto s = domain::MayManageCredentials(*caller); !s.ok()) return ToGrpcStatus(s);
  v1::AccessPolicy wanted = request->policy();
  wanted.clear_update_time();
  wanted.clear_updated_by();
  wanted.clear_version();
  if (auto s = domain::ValidateAccessPolicy(wanted); !s.ok()) return ToGrpcStatus(s);
  auto current = context_->items->AccessPolicy();
  if (!current.ok()) return ToGrpcStatus(current.status());
  for (auto& change : domain::AccessPolicyChanges(**current, wanted)) {
    response->add_changes(std::move(change));
  }
  if (request->validate_only()) {
    *response->mutable_policy() = std::move(wanted);
    return grpc::Status::OK;
  }
  v1::Command command;
  command.set_command_id(CommandGateway::CommandId(domain::kAccessPolicyId, ""));
  command.set_aggregate_id(std::string(domain::kAccessPolicyId));
  *command.mutable_configure_access()->mutable_policy() = std::move(wanted);
  auto outcome = SubmitAndAwait(gateway_, ctx, *caller, std::move(command));
  if (!outcome.ok()) return ToGrpcStatus(outcome.status());
  *response->mutable_policy() = outcome->state().access_policy();
  if (outcome->has_position()) *response->mutable_position() = outcome->position();
  return grpc::Status::OK;
}

absl::Status EnsureAdministratorKey(const ServiceContext* context, const auth::ApiKey& key,
                                    const std::string& principal) {
  v1::IssueApiKey issue;
  issue.set_principal(principal);
  issue.add_roles(std::string(domain::kAdministratorRole));
  issue.set_act_for_others(true);
  issue.set_secret_sha256(auth::SecretSha256(key.secret));
  const CommandGateway gateway(context);
  // The command id is the key's: every instance starting with this key
  // file issues it once between them (a repeat gets the first outcome).
  auto outcome = SubmitAndAwait(gateway, nullptr, domain::ServerPrincipal(),
                                IssueCommand(key.id, "administrator", issue));
  if (!outcome.ok() && !absl::IsAlreadyExists(outcome.status())) return outcome.status();
  // What is in force now (the outcome may be an earlier start's).
  LEADFLOW_ASSIGN_OR_RETURN(auto stored, context->items->Get("api_key", key.id));
  if (!stored.has_value() || !stored->has_api_key()) {
    return absl::UnavailableError(absl::StrCat("apiKeys/", key.id, " is not projected yet"));
  }
  if (stored->api_key().secret_sha256() != issue.secret_sha256()) {
    return absl::FailedPreconditionError(
        absl::StrCat("apiKeys/", key.id, " exists with another secret"));
  }
  if (stored->api_key().has_revoke_time()) {
    return absl::FailedPreconditionError(absl::StrCat("apiKeys/", key.id, " is revoked"));
  }
  return absl::OkStatus();
}

}  // namespace leadflow::api
