#include "leadflow/domain/access_policy.h"

#include <catch2/catch.hpp>

#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"
#include "support/access_policies.h"

namespace leadflow::domain {
namespace {

constexpr std::array<v1::AccessItem, 5> kItems = {v1::ACCESS_ITEM_LEAD, v1::ACCESS_ITEM_CONTACT,
                                                  v1::ACCESS_ITEM_COMPANY, v1::ACCESS_ITEM_DEAL,
                                                  v1::ACCESS_ITEM_ACTIVITY};
constexpr std::array<v1::AccessAction, 7> kItemActions = {
    v1::ACCESS_ACTION_READ,  v1::ACCESS_ACTION_CREATE, v1::ACCESS_ACTION_UPDATE,
    v1::ACCESS_ACTION_MOVE,  v1::ACCESS_ACTION_MERGE,  v1::ACCESS_ACTION_DELETE,
    v1::ACCESS_ACTION_EXPORT};
constexpr std::array<v1::AccessScope, 4> kScopes = {v1::ACCESS_SCOPE_NONE, v1::ACCESS_SCOPE_OWN,
                                                    v1::ACCESS_SCOPE_TEAM, v1::ACCESS_SCOPE_ALL};

Principal Named(std::string name, std::vector<std::string> roles = {}) {
  Principal p;
  p.name = std::move(name);
  p.roles = std::move(roles);
  return p;
}

using testing::AddGrant;

// An applied policy (version 1): one role "r" holding `scope` for `action`
// on `item`; "me" holds r and shares team "t" with "mate"; "stranger" is
// in no team.
v1::AccessPolicy OneGrant(v1::AccessItem item, v1::AccessAction action, v1::AccessScope scope) {
  v1::AccessPolicy policy;
  policy.set_version(1);
  v1::AccessRole* role = policy.add_roles();
  role->set_role_id("r");
  AddGrant(role, item, scope, {action});
  v1::AccessTeam* team = policy.add_teams();
  team->set_team_id("t");
  team->add_members("me");
  team->add_members("mate");
  v1::AccessUser* user = policy.add_users();
  user->set_user_id("me");
  user->add_roles("r");
  return policy;
}

AccessTarget Item(v1::AccessItem item, std::string responsible, bool creating = false) {
  AccessTarget target;
  target.item = item;
  target.responsible_id = std::move(responsible);
  target.name = "items/x";
  target.creating = creating;
  return target;
}

// The seed roles, applied.
v1::AccessPolicy SeedPolicy() {
  v1::AccessPolicy policy = testing::SeedAccessPolicy();
  policy.set_version(3);
  return policy;
}

AccessTarget Deal(std::string pipeline, std::string responsible) {
  AccessTarget target = Item(v1::ACCESS_ITEM_DEAL, std::move(responsible));
  target.deal_pipeline_id = std::move(pipeline);
  return target;
}

TEST_CASE("every scope, action and item type: own, team and all reach as far as they say") {
  for (auto item : kItems) {
    for (auto action : kItemActions) {
      for (auto scope : kScopes) {
        const v1::AccessPolicy policy = OneGrant(item, action, scope);
        const Principal me = Named("me");
        INFO(AccessItemName(item) << " " << AccessActionName(action) << " "
                                  << AccessScopeName(scope));
        const bool own = scope != v1::ACCESS_SCOPE_NONE;
        const bool team = scope == v1::ACCESS_SCOPE_TEAM || scope == v1::ACCESS_SCOPE_ALL;
        const bool all = scope == v1::ACCESS_SCOPE_ALL;
        CHECK(Permits(policy, me, action, Item(item, "me")) == own);
        CHECK(Permits(policy, me, action, Item(item, "mate")) == team);
        CHECK(Permits(policy, me, action, Item(item, "stranger")) == all);
        CHECK(Permits(policy, me, action, Item(item, "")) == all);
        // An item made with nobody responsible is the maker's own.
        CHECK(Permits(policy, me, action, Item(item, "", true)) == own);
        // Another action or item type is not granted.
        for (auto other : kItemActions) {
          if (other != action) CHECK_FALSE(Permits(policy, me, other, Item(item, "me")));
        }
        for (auto other : kItems) {
          if (other != item) CHECK_FALSE(Permits(policy, me, action, Item(other, "me")));
        }
        // Who holds no role may do nothing once a policy is applied.
        CHECK_FALSE(Permits(policy, Named("stranger"), action, Item(item, "stranger")));
      }
    }
  }
}

TEST_CASE("configuring pipelines needs scope all") {
  for (auto scope : kScopes) {
    const v1::AccessPolicy policy =
        OneGrant(v1::ACCESS_ITEM_DEAL, v1::ACCESS_ACTION_CONFIGURE, scope);
    CHECK(Permits(policy, Named("me"), v1::ACCESS_ACTION_CONFIGURE, Deal("services", "")) ==
          (scope == v1::ACCESS_SCOPE_ALL));
  }
}

TEST_CASE("a policy never applied lets everyone do everything; administrators always may") {
  const v1::AccessPolicy open;
  CHECK(IsOpen(open));
  for (auto item : kItems) {
    CHECK(Permits(open, Named("anyone"), v1::ACCESS_ACTION_DELETE, Item(item, "someone")));
  }
  v1::AccessPolicy closed;
  closed.set_version(1);
  CHECK_FALSE(Permits(closed, Named("anyone"), v1::ACCESS_ACTION_READ,
                      Item(v1::ACCESS_ITEM_LEAD, "anyone")));
  CHECK(Permits(closed, Named("root", {"administrator"}), v1::ACCESS_ACTION_CONFIGURE,
                Deal("services", "")));
}

TEST_CASE("seed roles: first line sees leads only") {
  const v1::AccessPolicy policy = SeedPolicy();
  const Principal fedor = Named("fedor");
  CHECK(Permits(policy, fedor, v1::ACCESS_ACTION_READ, Item(v1::ACCESS_ITEM_LEAD, "boris")));
  CHECK(Permits(policy, fedor, v1::ACCESS_ACTION_MOVE, Item(v1::ACCESS_ITEM_LEAD, "")));
  CHECK_FALSE(Permits(policy, fedor, v1::ACCESS_ACTION_MERGE, Item(v1::ACCESS_ITEM_LEAD, "")));
  CHECK_FALSE(Permits(policy, fedor, v1::ACCESS_ACTION_READ, Deal("default", "fedor")));
  CHECK_FALSE(Permits(policy, fedor, v1::ACCESS_ACTION_READ, Item(v1::ACCESS_ITEM_CONTACT, "")));
  const absl::Status refused =
      Permit(policy, fedor, v1::ACCESS_ACTION_READ, Deal("default", "boris"));
  CHECK(refused.code() == absl::StatusCode::kPermissionDenied);
  CHECK(refused.message() ==
        "'fedor' may not read items/x (pipeline default), responsible boris: its roles "
        "(first-line) grant read on deal items with scope none");
}

TEST_CASE("seed roles: a deal team sees its own pipeline's deals of its team") {
  const v1::AccessPolicy policy = SeedPolicy();
  const Principal olga = Named("olga");
  CHECK(Permits(policy, olga, v1::ACCESS_ACTION_READ, Deal("services", "ivan")));
  CHECK(Permits(policy, olga, v1::ACCESS_ACTION_MOVE, Deal("services", "olga")));
  CHECK_FALSE(Permits(policy, olga, v1::ACCESS_ACTION_READ, Deal("services", "boris")));
  CHECK_FALSE(Permits(policy, olga, v1::ACCESS_ACTION_READ, Deal("default", "olga")));
  CHECK_FALSE(Permits(policy, olga, v1::ACCESS_ACTION_READ, Deal("", "olga")));
  CHECK(Permits(policy, olga, v1::ACCESS_ACTION_READ, Item(v1::ACCESS_ITEM_CONTACT, "boris")));
  CHECK_FALSE(
      Permits(policy, olga, v1::ACCESS_ACTION_UPDATE, Item(v1::ACCESS_ITEM_CONTACT, "olga")));
  CHECK_FALSE(Permits(policy, olga, v1::ACCESS_ACTION_READ, Item(v1::ACCESS_ITEM_LEAD, "olga")));
}

TEST_CASE("seed roles: a manager changes own items, a supervisor all") {
  const v1::AccessPolicy policy = SeedPolicy();
  for (auto item : kItems) {
    for (auto action : kItemActions) {
      AccessTarget own = Item(item, "boris");
      AccessTarget others = Item(item, "sveta");
      CHECK(Permits(policy, Named("boris"), action, own));
      CHECK_FALSE(Permits(policy, Named("boris"), action, others));
      CHECK(Permits(policy, Named("sveta"), action, own));
      CHECK(Permits(policy, Named("sveta"), action, others));
    }
  }
}

TEST_CASE("counters: a manager reads own, a deal team its team's, a supervisor everyone's") {
  const v1::AccessPolicy policy = SeedPolicy();
  CHECK(PermitCounters(policy, Named("boris"), "boris").ok());
  const absl::Status others = PermitCounters(policy, Named("boris"), "sveta");
  CHECK(others.code() == absl::StatusCode::kPermissionDenied);
  CHECK(others.message() ==
        "'boris' may not read the counters of 'sveta': its roles grant read on none of their "
        "leads, deals or activities");
  CHECK(PermitCounters(policy, Named("olga"), "ivan").ok());
  CHECK_FALSE(PermitCounters(policy, Named("olga"), "boris").ok());
  CHECK(PermitCounters(policy, Named("sveta"), "boris").ok());
  CHECK(PermitCounters(policy, Named("fedor"), "boris").ok());
}

TEST_CASE("a credential's roles count with the policy's") {
  const v1::AccessPolicy policy = SeedPolicy();
  // A JWT saying "supervisor" for someone the policy does not list.
  CHECK(Permits(policy, Named("newcomer", {"supervisor"}), v1::ACCESS_ACTION_READ,
                Deal("services", "olga")));
  CHECK(RolesOf(policy, Named("boris", {"first-line"})) ==
        std::vector<std::string>{"first-line", "manager"});
}

TEST_CASE("commands need the right their action and item name") {
  const v1::AccessPolicy policy = SeedPolicy();
  v1::AggregateState lead;
  lead.mutable_lead()->set_lead_id("ld-1");
  lead.mutable_lead()->set_name("leads/ld-1");
  lead.mutable_lead()->set_responsible_id("sveta");
  v1::Command move;
  move.set_aggregate_id("ld-1");
  move.mutable_change_lead_status()->set_status_id("PROCESSED");
  CHECK(PermitCommand(policy, Named("fedor"), move, {&lead}).ok());
  CHECK(PermitCommand(policy, Named("boris"), move, {&lead}).code() ==
        absl::StatusCode::kPermissionDenied);
  lead.mutable_lead()->set_responsible_id("boris");
  CHECK(PermitCommand(policy, Named("boris"), move, {&lead}).ok());

  v1::Command create;
  create.set_aggregate_id("dl-1");
  create.mutable_create_deal()->mutable_deal()->set_pipeline_id("services");
  CHECK(PermitCommand(policy, Named("olga"), create, {}).ok());
  create.mutable_create_deal()->mutable_deal()->set_responsible_id("boris");
  CHECK(PermitCommand(policy, Named("olga"), create, {}).code() ==
        absl::StatusCode::kPermissionDenied);
  create.mutable_create_deal()->mutable_deal()->set_pipeline_id("default");
  create.mutable_create_deal()->mutable_deal()->clear_responsible_id();
  CHECK(PermitCommand(policy, Named("olga"), create, {}).code() ==
        absl::StatusCode::kPermissionDenied);

  v1::Command configure;
  configure.set_aggregate_id("services");
  configure.mutable_configure_pipeline()->mutable_pipeline()->set_pipeline_id("services");
  configure.mutable_configure_pipeline()->mutable_pipeline()->set_kind(v1::PIPELINE_KIND_DEAL);
  CHECK(PermitCommand(policy, Named("olga"), configure, {}).code() ==
        absl::StatusCode::kPermissionDenied);
  // A grant of every action holds configure too, where its scope is all.
  CHECK(PermitCommand(policy, Named("boris"), configure, {}).code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(PermitCommand(policy, Named("sveta"), configure, {}).ok());
  CHECK(PermitCommand(policy, Named("root", {"administrator"}), configure, {}).ok());
}

TEST_CASE("a command is judged on every item it touches") {
  const v1::AccessPolicy policy = SeedPolicy();
  v1::AggregateState own;
  own.mutable_lead()->set_name("leads/ld-own");
  own.mutable_lead()->set_responsible_id("boris");
  v1::AggregateState others;
  others.mutable_lead()->set_name("leads/ld-other");
  others.mutable_lead()->set_responsible_id("sveta");

  // A merge needs merge on the lead kept too.
  v1::Command merge;
  merge.set_aggregate_id("ld-own");
  merge.mutable_merge_lead_into()->set_target_lead_id("ld-other");
  CHECK(PermitCommand(policy, Named("boris"), merge, {&own, &others}).code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(PermitCommand(policy, Named("boris"), merge, {&own, &own}).ok());
  CHECK(PermitCommand(policy, Named("boris"), merge, {&own, nullptr}).code() ==
        absl::StatusCode::kPermissionDenied);

  // A conversion needs create on the deal it makes, in its pipeline.
  v1::Command convert;
  convert.set_aggregate_id("ld-own");
  convert.mutable_convert_lead()->set_deal_pipeline_id("default");
  CHECK(PermitCommand(policy, Named("boris"), convert, {&own}).ok());
  convert.mutable_convert_lead()->set_responsible_id("sveta");
  CHECK(PermitCommand(policy, Named("boris"), convert, {&own}).code() ==
        absl::StatusCode::kPermissionDenied);
  // First line moves leads but makes no deals.
  convert.mutable_convert_lead()->clear_responsible_id();
  CHECK(PermitCommand(policy, Named("fedor"), convert, {&own}).code() ==
        absl::StatusCode::kPermissionDenied);

  // An activity needs update on its owner.
  v1::Command plan;
  plan.set_aggregate_id("ac-1");
  plan.mutable_plan_activity()->mutable_activity()->set_owner("leads/ld-other");
  CHECK(PermitCommand(policy, Named("boris"), plan, {nullptr, nullptr, &others}).code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(PermitCommand(policy, Named("boris"), plan, {nullptr, nullptr, &own}).ok());

  // A change of an item the read model does not have reaches only scope all.
  v1::Command move;
  move.set_aggregate_id("ld-new");
  move.mutable_change_lead_status()->set_status_id("PROCESSED");
  CHECK(PermitCommand(policy, Named("boris"), move, {}).code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(PermitCommand(policy, Named("sveta"), move, {}).ok());
}

TEST_CASE("a policy is checked before it is applied, naming the field") {
  v1::AccessPolicy policy = SeedPolicy();
  CHECK(ValidateAccessPolicy(policy).ok());
  auto refused = [](v1::AccessPolicy p) { return FieldOf(ValidateAccessPolicy(p)); };
  {
    v1::AccessPolicy p = policy;
    p.mutable_users(0)->set_roles(0, "nobody");
    CHECK(refused(p) == "policy.users[0].roles[0]");
  }
  {
    v1::AccessPolicy p = policy;
    p.mutable_users(0)->set_roles(0, "administrator");
    CHECK(refused(p) == "policy.users[0].roles[0]");
  }
  {
    v1::AccessPolicy p = policy;
    p.mutable_roles(1)->set_role_id("first-line");
    CHECK(refused(p) == "policy.roles[1].role_id");
  }
  {
    v1::AccessPolicy p = policy;
    p.mutable_roles(0)->mutable_grants(0)->set_scope(v1::ACCESS_SCOPE_UNSPECIFIED);
    CHECK(refused(p) == "policy.roles[0].grants[0].scope");
  }
  {
    v1::AccessPolicy p = policy;
    p.mutable_roles(0)->mutable_grants(0)->set_deal_pipeline_id("services");
    CHECK(refused(p) == "policy.roles[0].grants[0].deal_pipeline_id");
  }
  {
    v1::AccessPolicy p = policy;
    AddGrant(p.mutable_roles(2), v1::ACCESS_ITEM_DEAL, v1::ACCESS_SCOPE_OWN,
             {v1::ACCESS_ACTION_CONFIGURE});
    CHECK(refused(p) == "policy.roles[2].grants[5].scope");
  }
  {
    v1::AccessPolicy p = policy;
    p.mutable_roles(0)->mutable_grants(0)->set_scope(static_cast<v1::AccessScope>(99));
    CHECK(refused(p) == "policy.roles[0].grants[0]");
  }
  {
    v1::AccessPolicy p = policy;
    p.mutable_roles(0)->mutable_grants(0)->set_actions(0, static_cast<v1::AccessAction>(42));
    CHECK(refused(p) == "policy.roles[0].grants[0].actions[0]");
  }
  {
    v1::AccessPolicy p = policy;
    p.mutable_teams(0)->set_members(1, "bad name");
    CHECK(refused(p) == "policy.teams[0].members[1]");
  }
}

TEST_CASE("the access aggregate records what changed, and nothing when nothing does") {
  v1::Command command;
  command.set_command_id("cmd-1");
  command.set_aggregate_id("policy");
  *command.mutable_configure_access()->mutable_policy() = SeedPolicy();
  auto first = Decide(nullptr, command, DomainConfig());
  REQUIRE(first.ok());
  REQUIRE(first->size() == 1);
  CHECK(first->front().access_configured().changes_size() == 10);
  v1::AggregateState state = Evolve(v1::AggregateState(), first->front());
  CHECK(state.access_policy().version() == 1);
  CHECK(state.access_policy().roles_size() == 4);

  command.set_command_id("cmd-2");
  auto again = Decide(&state, command, DomainConfig());
  REQUIRE(again.ok());
  CHECK(again->empty());

  command.set_command_id("cmd-3");
  command.mutable_configure_access()->mutable_policy()->mutable_teams(0)->add_members("boris");
  command.mutable_configure_access()->mutable_policy()->mutable_users()->RemoveLast();
  auto changed = Decide(&state, command, DomainConfig());
  REQUIRE(changed.ok());
  REQUIRE(changed->size() == 1);
  const auto& changes = changed->front().access_configured().changes();
  CHECK(std::vector<std::string>(changes.begin(), changes.end()) ==
        std::vector<std::string>{"team services: changed", "user sveta: removed"});

  command.set_aggregate_id("other");
  CHECK(FieldOf(Decide(&state, command, DomainConfig()).status()) == "aggregate_id");
}

TEST_CASE("rights read as one line per item type and named pipeline") {
  const auto rights = RightsOf(SeedPolicy(), Named("olga"));
  REQUIRE(rights.size() == 6);
  CHECK(rights[0] ==
        "lead: read=none create=none update=none move=none merge=none delete=none export=none "
        "configure=none");
  CHECK(rights[4] ==
        "deal[services]: read=team create=team update=team move=team merge=team delete=team "
        "export=team configure=team");
}

}  // namespace
}  // namespace leadflow::domain
