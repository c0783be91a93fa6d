#include "leadflow/domain/principal.h"

#include <catch2/catch.hpp>

#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"

namespace leadflow::domain {
namespace {

Principal Named(std::string name, bool act_for_others = false,
                std::vector<std::string> roles = {}) {
  Principal p;
  p.name = std::move(name);
  p.act_for_others = act_for_others;
  p.roles = std::move(roles);
  return p;
}

TEST_CASE("a principal acts as itself") {
  CHECK(*ActingAs(Named("telephony"), "") == "telephony");
  CHECK(*ActingAs(Named("telephony"), "telephony") == "telephony");
  auto spoofed = ActingAs(Named("telephony"), "sveta");
  REQUIRE_FALSE(spoofed.ok());
  CHECK(spoofed.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(FieldOf(spoofed.status()) == "actor");
  CHECK(spoofed.status().message().find("'telephony'") != std::string::npos);
}

TEST_CASE("a principal allowed to act for others names whom it acts for") {
  CHECK(*ActingAs(Named("front-office", true), "sveta") == "sveta");
  CHECK(*ActingAs(Named("front-office", true), "") == "front-office");
}

TEST_CASE("only the administrator role manages credentials") {
  CHECK(MayManageCredentials(Named("admin", false, {"administrator"})).ok());
  CHECK(MayManageCredentials(ServerPrincipal()).ok());
  const absl::Status refused = MayManageCredentials(Named("telephony", true, {"integration"}));
  CHECK(refused.code() == absl::StatusCode::kPermissionDenied);
  CHECK(refused.message().find("administrator") != std::string::npos);
}

TEST_CASE("principal names are user ids, e-mail addresses or service names") {
  CHECK(CheckPrincipalName("anna.petrova@example.com", "p").ok());
  CHECK(CheckPrincipalName("svc_telephony-2", "p").ok());
  CHECK(FieldOf(CheckPrincipalName("", "principal")) == "principal");
  CHECK(FieldOf(CheckPrincipalName("a b", "principal")) == "principal");
  CHECK(FieldOf(CheckPrincipalName(std::string(81, 'a'), "principal")) == "principal");
}

v1::Command Issue(const std::string& id, const std::string& principal, const std::string& hash) {
  v1::Command command;
  command.set_command_id("c-" + id);
  command.set_aggregate_id(id);
  command.set_actor("admin");
  command.mutable_issue_time()->set_seconds(1'700'000'000);
  auto* issue = command.mutable_issue_api_key();
  issue->set_principal(principal);
  issue->add_roles("integration");
  issue->set_secret_sha256(hash);
  return command;
}

TEST_CASE("an api key is issued once, with a hash, and revoked once") {
  const std::string hash(64, 'a');
  auto issued = Decide(nullptr, Issue("0123456789abcdef", "telephony", hash), {});
  REQUIRE(issued.ok());
  REQUIRE(issued->size() == 1);
  CHECK(issued->front().type() == "leadflow.v1.ApiKeyIssued");
  v1::AggregateState state = Evolve({}, issued->front());
  CHECK(state.api_key().name() == "apiKeys/0123456789abcdef");
  CHECK(state.api_key().principal() == "telephony");
  CHECK(state.api_key().secret_sha256() == hash);
  CHECK(state.api_key().created_by() == "admin");
  CHECK_FALSE(state.api_key().has_revoke_time());

  auto again = Decide(&state, Issue("0123456789abcdef", "other", hash), {});
  CHECK(again.status().code() == absl::StatusCode::kAlreadyExists);

  v1::Command revoke;
  revoke.set_command_id("r-1");
  revoke.set_aggregate_id("0123456789abcdef");
  revoke.set_actor("admin");
  revoke.mutable_revoke_api_key()->set_reason("leaked");
  auto revoked = Decide(&state, revoke, {});
  REQUIRE(revoked.ok());
  state = Evolve(state, revoked->front());
  CHECK(state.api_key().has_revoke_time());
  CHECK(state.api_key().revoke_reason() == "leaked");
  revoke.set_command_id("r-2");
  CHECK(Decide(&state, revoke, {}).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("an api key's fields are checked, each naming its field") {
  CHECK(
      FieldOf(Decide(nullptr, Issue("0123456789abcdef", "", std::string(64, 'a')), {}).status()) ==
      "principal");
  CHECK(FieldOf(Decide(nullptr, Issue("0123456789abcdef", "telephony", "secret"), {}).status()) ==
        "secret_sha256");
  CHECK(FieldOf(Decide(nullptr, Issue("0123456789abcdef", "telephony", std::string(64, 'G')), {})
                    .status()) == "secret_sha256");
  v1::Command bad_role = Issue("0123456789abcdef", "telephony", std::string(64, 'a'));
  bad_role.mutable_issue_api_key()->add_roles("no spaces");
  CHECK(FieldOf(Decide(nullptr, bad_role, {}).status()) == "roles[1]");
}

}  // namespace
}  // namespace leadflow::domain
