// Authentication through the real binary: the administrator key made at
// first start, API keys issued, used and revoked, JWTs of a configured
// identity provider, the actor taken from the credential, and every
// refusal with its reason.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "support/grpc_status.h"
#include "support/jwt_minter.h"
#include "support/server_process.h"

namespace leadflow {
namespace {

using testing::Deadline;
using testing::JwtMinter;
using testing::ServerProcess;
using testing::TempDir;

constexpr char kIssuer[] = "https://id.example.com/";

struct Fixture {
  Fixture()
      : server(dir.Sub("data"), {"--jwt-jwks", JwksFile(), "--jwt-issuer", kIssuer,
                                 "--jwt-audience", "leadflow,leadflow-staging"}) {
    server.Start();
  }
  std::string JwksFile() {
    std::ofstream(dir.Sub("jwks.json")) << idp.Jwks();
    return dir.Sub("jwks.json");
  }

  grpc::Status Caller(const std::string& token, v1::Caller* caller) const {
    auto access = v1::AccessService::NewStub(server.ChannelWithToken(token));
    auto ctx = Deadline();
    return access->GetCaller(ctx.get(), v1::GetCallerRequest(), caller);
  }
  grpc::Status Refusal(const std::string& token) const {
    v1::Caller caller;
    return Caller(token, &caller);
  }
  v1::CreateApiKeyResponse Issue(const std::string& principal, bool act_for_others = false) const {
    auto access = v1::AccessService::NewStub(server.Channel());
    v1::CreateApiKeyRequest request;
    request.set_principal(principal);
    request.add_roles("integration");
    request.set_act_for_others(act_for_others);
    v1::CreateApiKeyResponse response;
    auto ctx = Deadline();
    const grpc::Status status = access->CreateApiKey(ctx.get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response;
  }
  grpc::Status CreateLead(const std::string& token, const std::string& phone,
                          const std::string& actor, v1::LeadCommandResponse* response) const {
    auto leads = v1::LeadService::NewStub(server.ChannelWithToken(token));
    v1::CreateLeadRequest request;
    request.mutable_lead()->set_first_name("Olga");
    request.mutable_lead()->add_phones()->set_number(phone);
    request.set_actor(actor);
    auto ctx = Deadline();
    return leads->CreateLead(ctx.get(), request, response);
  }

  TempDir dir;
  JwtMinter idp{JwtMinter::Algorithm::kRs256, "idp-1"};
  ServerProcess server;
};

void CheckUnauthenticated(const grpc::Status& status, const std::string& reason) {
  INFO(status.error_message());
  CHECK(status.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(status.error_message().find(reason) != std::string::npos);
}

TEST_CASE("the first start makes a private administrator key; calls without one are refused") {
  Fixture f;
  CHECK(f.server.Output().find("administrator API key written to " + f.server.AdminKeyFile()) !=
        std::string::npos);
  struct stat file {};
  REQUIRE(stat(f.server.AdminKeyFile().c_str(), &file) == 0);
  CHECK((file.st_mode & 0777) == 0600);

  v1::Caller admin;
  REQUIRE(f.Caller(f.server.AdminKey(), &admin).ok());
  CHECK(admin.principal() == "admin");
  CHECK(admin.roles(0) == "administrator");
  CHECK(admin.credential() == "api_key");

  // Anonymous: every service refuses, saying what to send.
  auto anonymous = f.server.ChannelWithToken("");
  CheckUnauthenticated(f.Refusal(""), "no credentials");
  v1::ListLeadsResponse leads;
  auto ctx = Deadline();
  CheckUnauthenticated(
      v1::LeadService::NewStub(anonymous)->ListLeads(ctx.get(), v1::ListLeadsRequest(), &leads),
      "no credentials");
  v1::PublishChannelEventResponse published;
  ctx = Deadline();
  CheckUnauthenticated(v1::IntakeService::NewStub(anonymous)->PublishChannelEvent(
                           ctx.get(), v1::PublishChannelEventRequest(), &published),
                       "no credentials");
  v1::ServerStatus status;
  ctx = Deadline();
  CheckUnauthenticated(v1::AdminService::NewStub(anonymous)->GetServerStatus(
                           ctx.get(), v1::GetServerStatusRequest(), &status),
                       "no credentials");
  ctx = Deadline();
  auto stream = v1::EventService::NewStub(anonymous)->SubscribeEvents(ctx.get(),
                                                                      v1::SubscribeEventsRequest());
  v1::SubscribedEvent event;
  CHECK_FALSE(stream->Read(&event));
  CheckUnauthenticated(stream->Finish(), "no credentials");
  // Health stays open: probes carry no credentials.
  std::string bytes;
  REQUIRE(testing::RawUnaryCall(anonymous, "/grpc.health.v1.Health/Check", "", &bytes).ok());
  CHECK(bytes == std::string("\x08\x01", 2));
}

TEST_CASE("an API key acts as its principal until it is revoked") {
  Fixture f;
  const v1::CreateApiKeyResponse issued = f.Issue("telephony");
  const std::string key = issued.key();
  CHECK(key.rfind("lfk_", 0) == 0);
  CHECK(issued.api_key().principal() == "telephony");
  CHECK(issued.api_key().secret_sha256().empty());
  CHECK(issued.api_key().created_by() == "admin");

  v1::Caller caller;
  REQUIRE(f.Caller(key, &caller).ok());
  CHECK(caller.principal() == "telephony");
  CHECK(caller.api_key() == issued.api_key().name());

  // Its changes carry it as their actor; naming another is refused.
  v1::LeadCommandResponse created;
  REQUIRE(f.CreateLead(key, "+79167100001", "", &created).ok());
  auto timeline = v1::LeadService::NewStub(f.server.Channel());
  v1::ListLeadTimelineRequest history;
  history.set_name(created.lead().name());
  *history.mutable_min_position() = created.position();
  v1::ListLeadTimelineResponse events;
  auto ctx = Deadline();
  REQUIRE(timeline->ListLeadTimeline(ctx.get(), history, &events).ok());
  REQUIRE(events.events_size() == 1);
  CHECK(events.events(0).actor() == "telephony");
  const grpc::Status spoofed = f.CreateLead(key, "+79167100002", "sveta", &created);
  CHECK(spoofed.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(testing::FieldsOf(spoofed) == std::vector<std::string>{"actor"});
  // A key allowed to act for others may name the operator.
  const std::string front = f.Issue("front-office", true).key();
  REQUIRE(f.CreateLead(front, "+79167100003", "sveta", &created).ok());

  // It may not manage credentials.
  auto as_telephony = v1::AccessService::NewStub(f.server.ChannelWithToken(key));
  v1::ListApiKeysResponse listed;
  ctx = Deadline();
  const grpc::Status list_refused =
      as_telephony->ListApiKeys(ctx.get(), v1::ListApiKeysRequest(), &listed);
  CHECK(list_refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(list_refused.error_message().find("administrator") != std::string::npos);

  // Wrong secret, unknown id, malformed: each says which, none quotes it.
  std::string wrong = key;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  CheckUnauthenticated(f.Refusal(wrong), "the secret is wrong");
  std::string unknown = key;
  unknown[4] = unknown[4] == 'a' ? 'b' : 'a';
  CheckUnauthenticated(f.Refusal(unknown), "unknown API key");
  CheckUnauthenticated(f.Refusal("lfk_nope"), "malformed API key");
  CHECK(f.Refusal(wrong).error_message().find(key.substr(22)) == std::string::npos);

  // The administrator lists keys (never their hashes) and revokes one.
  auto as_admin = v1::AccessService::NewStub(f.server.Channel());
  ctx = Deadline();
  REQUIRE(as_admin->ListApiKeys(ctx.get(), v1::ListApiKeysRequest(), &listed).ok());
  CHECK(listed.api_keys_size() == 3);  // admin, telephony, front-office
  for (const auto& k : listed.api_keys()) CHECK(k.secret_sha256().empty());
  v1::RevokeApiKeyRequest revoke;
  revoke.set_name(issued.api_key().name());
  revoke.set_reason("rotated");
  v1::ApiKey revoked;
  ctx = Deadline();
  REQUIRE(as_admin->RevokeApiKey(ctx.get(), revoke, &revoked).ok());
  CHECK(revoked.revoke_reason() == "rotated");
  CheckUnauthenticated(f.Refusal(key), "was revoked at");
  ctx = Deadline();
  CHECK(as_admin->RevokeApiKey(ctx.get(), revoke, &revoked).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  listed.Clear();
  ctx = Deadline();
  REQUIRE(as_admin->ListApiKeys(ctx.get(), v1::ListApiKeysRequest(), &listed).ok());
  CHECK(listed.api_keys_size() == 2);
  v1::ListApiKeysRequest all;
  all.set_show_revoked(true);
  listed.Clear();
  ctx = Deadline();
  REQUIRE(as_admin->ListApiKeys(ctx.get(), all, &listed).ok());
  CHECK(listed.api_keys_size() == 3);

  // A key may revoke itself (its holder found it leaked).
  const v1::CreateApiKeyResponse leaked = f.Issue("mail");
  auto as_mail = v1::AccessService::NewStub(f.server.ChannelWithToken(leaked.key()));
  revoke.set_name(leaked.api_key().name());
  ctx = Deadline();
  REQUIRE(as_mail->RevokeApiKey(ctx.get(), revoke, &revoked).ok());
  CheckUnauthenticated(f.Refusal(leaked.key()), "was revoked");

  // All of it survives a restart: the same administrator key, the
  // revocation kept.
  const std::string admin_key = f.server.AdminKey();
  REQUIRE(f.server.Stop() == 0);
  f.server.Start();
  CHECK(f.server.Output().find("administrator API key from") != std::string::npos);
  CHECK(f.server.AdminKey() == admin_key);
  v1::Caller admin;
  REQUIRE(f.Caller(admin_key, &admin).ok());
  REQUIRE(f.Caller(front, &caller).ok());
  CHECK(caller.principal() == "front-office");
  CheckUnauthenticated(f.Refusal(key), "was revoked at");
}

TEST_CASE("a JWT of the configured provider acts as its subject; others are refused") {
  Fixture f;
  const std::string token =
      f.idp.Sign(JwtMinter::Claims(kIssuer, "leadflow-staging", "anna@example.com",
                                   absl::Minutes(5), R"(,"roles":["manager"])"));
  v1::Caller caller;
  const grpc::Status accepted = f.Caller(token, &caller);
  INFO(accepted.error_message());
  REQUIRE(accepted.ok());
  CHECK(caller.principal() == "anna@example.com");
  CHECK(caller.credential() == "jwt");
  CHECK(caller.roles(0) == "manager");
  v1::LeadCommandResponse created;
  REQUIRE(f.CreateLead(token, "+79167100010", "", &created).ok());
  CHECK(created.lead().responsible_id().empty());

  CheckUnauthenticated(
      f.Refusal(f.idp.Sign(JwtMinter::Claims(kIssuer, "leadflow", "anna", absl::Minutes(-10)))),
      "expired at");
  CheckUnauthenticated(
      f.Refusal(f.idp.Sign(JwtMinter::Claims(kIssuer, "billing", "anna", absl::Minutes(5)))),
      "wrong audience");
  JwtMinter stranger(JwtMinter::Algorithm::kRs256, "idp-1");
  CheckUnauthenticated(
      f.Refusal(stranger.Sign(JwtMinter::Claims(kIssuer, "leadflow", "anna", absl::Minutes(5)))),
      "signature does not verify");
  // The scheme must be Bearer.
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Basic YWRtaW46YWRtaW4=");
  v1::Caller ignored;
  CheckUnauthenticated(v1::AccessService::NewStub(f.server.ChannelWithToken(""))
                           ->GetCaller(&ctx, v1::GetCallerRequest(), &ignored),
                       "expected 'Bearer");
}

}  // namespace
}  // namespace leadflow
