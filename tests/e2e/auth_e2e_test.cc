// Authentication and access through the real binary: the administrator key
// made at first start, API keys issued, used and revoked, JWTs of a
// configured identity provider, the actor taken from the credential, every
// refusal with its reason, and the access policy's roles enforced on
// commands, reads, lists, duplicates and the event stream.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "absl/strings/str_cat.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "support/access_policies.h"
#include "support/grpc_status.h"
#include "support/jwt_minter.h"
#include "support/pipeline_client.h"
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

TEST_CASE("roles decide what each principal may see and change") {
  Fixture f;
  auto admin = f.server.Channel();
  auto access = v1::AccessService::NewStub(admin);
  auto pipelines = v1::PipelineService::NewStub(admin);
  auto crm = v1::CrmService::NewStub(admin);
  auto leads = v1::LeadService::NewStub(admin);
  auto user = [&](const std::string& name) {
    return f.server.ChannelWithToken(
        f.idp.Sign(JwtMinter::Claims(kIssuer, "leadflow", name, absl::Minutes(5))));
  };

  // Before any policy everyone may do everything (as before roles).
  v1::LeadCommandResponse early;
  REQUIRE(
      f.CreateLead(f.idp.Sign(JwtMinter::Claims(kIssuer, "leadflow", "nobody", absl::Minutes(5))),
                   "+79167100020", "", &early)
          .ok());

  v1::Pipeline services;
  services.set_pipeline_id("services");
  services.set_kind(v1::PIPELINE_KIND_DEAL);
  services.set_title("Services");
  for (const auto& [id, semantic] : std::vector<std::pair<std::string, v1::StatusSemantic>>{
           {"NEW", v1::STATUS_SEMANTIC_IN_PROGRESS},
           {"WON", v1::STATUS_SEMANTIC_SUCCESS},
           {"LOST", v1::STATUS_SEMANTIC_FAILURE}}) {
    v1::PipelineStage* stage = services.add_stages();
    stage->set_stage_id(id);
    stage->set_title(id);
    stage->set_semantic(semantic);
  }
  testing::ApplyPipelines(*pipelines, {services});

  // Only an administrator applies a policy; a dry run changes nothing.
  v1::ApplyAccessPolicyRequest apply;
  *apply.mutable_policy() = testing::SeedAccessPolicy();
  v1::ApplyAccessPolicyResponse applied;
  auto ctx = Deadline();
  CHECK(v1::AccessService::NewStub(user("boris"))
            ->ApplyAccessPolicy(ctx.get(), apply, &applied)
            .error_code() == grpc::StatusCode::PERMISSION_DENIED);
  apply.set_validate_only(true);
  ctx = Deadline();
  REQUIRE(access->ApplyAccessPolicy(ctx.get(), apply, &applied).ok());
  CHECK(applied.changes_size() == 10);
  v1::AccessPolicy in_force;
  ctx = Deadline();
  REQUIRE(access->GetAccessPolicy(ctx.get(), v1::GetAccessPolicyRequest(), &in_force).ok());
  CHECK(in_force.version() == 0);
  apply.set_validate_only(false);
  ctx = Deadline();
  REQUIRE(access->ApplyAccessPolicy(ctx.get(), apply, &applied).ok());
  CHECK(applied.policy().version() == 1);
  ctx = Deadline();
  REQUIRE(access->ApplyAccessPolicy(ctx.get(), apply, &applied).ok());
  CHECK(applied.changes().empty());
  CHECK(applied.policy().version() == 1);
  // A user naming a role nobody defined is refused, naming the field.
  v1::ApplyAccessPolicyRequest bad = apply;
  bad.mutable_policy()->mutable_users(0)->set_roles(0, "ghost");
  ctx = Deadline();
  const grpc::Status refused = access->ApplyAccessPolicy(ctx.get(), bad, &applied);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(refused.error_message().find("policy.users[0].roles[0]") != std::string::npos);

  // Deals: one of olga's pipeline and team, one of ivan's, one of boris's
  // in the default pipeline, one of boris's in services.
  auto deal = [&](const std::string& pipeline, const std::string& responsible) {
    v1::CreateDealRequest request;
    request.mutable_deal()->set_title(responsible + " " + pipeline);
    request.mutable_deal()->set_pipeline_id(pipeline);
    request.mutable_deal()->set_responsible_id(responsible);
    v1::ItemCommandResponse response;
    auto call = Deadline();
    const grpc::Status status = crm->CreateDeal(call.get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response.item().deal();
  };
  const v1::Deal olgas = deal("services", "olga");
  const v1::Deal ivans = deal("services", "ivan");
  const v1::Deal borises_default = deal("default", "boris");
  const v1::Deal borises_services = deal("services", "boris");

  // The services team lists only its pipeline's deals of its team, and is
  // refused another pipeline's deal.
  auto olga_crm = v1::CrmService::NewStub(user("olga"));
  v1::ListDealsResponse listed;
  ctx = Deadline();
  v1::ListItemsRequest page_of_one;
  page_of_one.set_page_size(1);
  REQUIRE(olga_crm->ListDeals(ctx.get(), page_of_one, &listed).ok());
  REQUIRE(listed.deals_size() == 1);
  CHECK(listed.deals(0).deal_id() == std::min(olgas.deal_id(), ivans.deal_id()));
  // The page token leads to the other visible deal and then ends: hidden
  // deals are neither counted nor paged through.
  page_of_one.set_page_token(listed.next_page_token());
  REQUIRE_FALSE(listed.next_page_token().empty());
  ctx = Deadline();
  REQUIRE(olga_crm->ListDeals(ctx.get(), page_of_one, &listed).ok());
  REQUIRE(listed.deals_size() == 1);
  CHECK(listed.deals(0).deal_id() == std::max(olgas.deal_id(), ivans.deal_id()));
  CHECK(listed.next_page_token().empty());
  v1::GetItemRequest get;
  get.set_name(borises_default.name());
  v1::Deal got;
  ctx = Deadline();
  const grpc::Status other_pipeline = olga_crm->GetDeal(ctx.get(), get, &got);
  CHECK(other_pipeline.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(other_pipeline.error_message().find("'olga' may not read " + borises_default.name()) !=
        std::string::npos);
  get.set_name(borises_services.name());
  ctx = Deadline();
  CHECK(olga_crm->GetDeal(ctx.get(), get, &got).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  get.set_name(ivans.name());
  ctx = Deadline();
  CHECK(olga_crm->GetDeal(ctx.get(), get, &got).ok());
  // She moves her team's deal, not another's.
  v1::MoveDealRequest move;
  move.set_name(ivans.name());
  move.set_stage_id("WON");
  v1::ItemCommandResponse moved;
  ctx = Deadline();
  CHECK(olga_crm->MoveDeal(ctx.get(), move, &moved).ok());
  move.set_name(borises_services.name());
  ctx = Deadline();
  CHECK(olga_crm->MoveDeal(ctx.get(), move, &moved).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);

  // First line sees leads, not deals.
  auto fedor_crm = v1::CrmService::NewStub(user("fedor"));
  get.set_name(olgas.name());
  ctx = Deadline();
  CHECK(fedor_crm->GetDeal(ctx.get(), get, &got).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  ctx = Deadline();
  REQUIRE(fedor_crm->ListDeals(ctx.get(), v1::ListItemsRequest(), &listed).ok());
  CHECK(listed.deals().empty());

  // A manager changes only own leads, and lists only those.
  v1::CreateLeadRequest own;
  own.mutable_lead()->set_first_name("Own");
  own.mutable_lead()->add_phones()->set_number("+79167100021");
  own.mutable_lead()->set_responsible_id("boris");
  v1::LeadCommandResponse own_lead;
  ctx = Deadline();
  REQUIRE(v1::LeadService::NewStub(user("boris"))->CreateLead(ctx.get(), own, &own_lead).ok());
  own.mutable_lead()->set_responsible_id("sveta");
  ctx = Deadline();
  CHECK(
      v1::LeadService::NewStub(user("boris"))->CreateLead(ctx.get(), own, &own_lead).error_code() ==
      grpc::StatusCode::PERMISSION_DENIED);
  auto boris_leads = v1::LeadService::NewStub(user("boris"));
  v1::ChangeLeadStatusRequest status_change;
  status_change.set_status_id("PROCESSED");
  status_change.set_name(own_lead.lead().name());
  ctx = Deadline();
  const grpc::Status own_move = boris_leads->ChangeLeadStatus(ctx.get(), status_change, &own_lead);
  INFO(own_move.error_message());
  CHECK(own_move.ok());
  status_change.set_name(early.lead().name());
  v1::LeadCommandResponse not_moved;
  ctx = Deadline();
  const grpc::Status others_move =
      boris_leads->ChangeLeadStatus(ctx.get(), status_change, &not_moved);
  CHECK(others_move.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(others_move.error_message().find("'boris' may not move " + early.lead().name()) !=
        std::string::npos);
  v1::ListLeadsResponse boris_list;
  ctx = Deadline();
  REQUIRE(boris_leads->ListLeads(ctx.get(), v1::ListLeadsRequest(), &boris_list).ok());
  REQUIRE(boris_list.leads_size() == 1);
  CHECK(boris_list.leads(0).responsible_id() == "boris");
  // The duplicate check finds the lead he may not read, saying only that
  // it is there.
  v1::FindDuplicateLeadsRequest duplicates;
  duplicates.set_phone("+79167100020");
  v1::FindDuplicateLeadsResponse found;
  ctx = Deadline();
  REQUIRE(boris_leads->FindDuplicateLeads(ctx.get(), duplicates, &found).ok());
  REQUIRE(found.duplicates_size() == 1);
  CHECK(found.duplicates(0).hidden());
  CHECK(found.duplicates(0).lead().name() == early.lead().name());
  CHECK(found.duplicates(0).lead().phones().empty());
  // A spoofed actor is still refused.
  own.mutable_lead()->set_responsible_id("boris");
  own.set_actor("sveta");
  ctx = Deadline();
  CHECK(boris_leads->CreateLead(ctx.get(), own, &not_moved).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  // Who holds no role may do nothing now, publishing included.
  v1::PublishChannelEventRequest publish;
  publish.mutable_event()->set_id("nobody-1");
  publish.mutable_event()->set_source("test");
  publish.mutable_event()->mutable_call()->set_customer_phone("+79167100022");
  v1::PublishChannelEventResponse published;
  ctx = Deadline();
  CHECK(v1::IntakeService::NewStub(user("nobody"))
            ->PublishChannelEvent(ctx.get(), publish, &published)
            .error_code() == grpc::StatusCode::PERMISSION_DENIED);

  // The event stream of a restricted principal carries only what it may
  // read: olga sees her team's deals' events and nothing else.
  auto stream_ctx = Deadline();
  auto reader = v1::EventService::NewStub(user("olga"))
                    ->SubscribeEvents(stream_ctx.get(), v1::SubscribeEventsRequest());
  std::set<std::string> seen;
  v1::SubscribedEvent event;
  // Every deal event is written before this point; the stream shows those
  // of the two deals she may read (created, and ivan's moved).
  while (seen.size() < 2 && reader->Read(&event)) {
    CHECK(event.event().aggregate_type() == "deal");
    seen.insert(event.event().aggregate_id());
  }
  CHECK(seen == std::set<std::string>{olgas.deal_id(), ivans.deal_id()});
  // Nothing hidden arrives before the cancel takes effect either.
  stream_ctx->TryCancel();
  while (reader->Read(&event)) {
    CHECK(event.event().aggregate_type() == "deal");
    CHECK((event.event().aggregate_id() == olgas.deal_id() ||
           event.event().aggregate_id() == ivans.deal_id()));
  }

  // GetCaller shows the rights a policy gives.
  v1::Caller olga;
  REQUIRE(
      f.Caller(f.idp.Sign(JwtMinter::Claims(kIssuer, "leadflow", "olga", absl::Minutes(5))), &olga)
          .ok());
  CHECK(std::find(olga.rights().begin(), olga.rights().end(),
                  "deal[services]: read=team create=team update=team move=team merge=team "
                  "delete=team export=team configure=team") != olga.rights().end());
}

}  // namespace
}  // namespace leadflow
