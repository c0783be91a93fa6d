#include "support/access_policies.h"

#include <array>
#include <utility>

namespace leadflow::testing {

v1::AccessGrant* AddGrant(v1::AccessRole* role, v1::AccessItem item, v1::AccessScope scope,
                          const std::vector<v1::AccessAction>& actions,
                          const std::string& deal_pipeline_id) {
  v1::AccessGrant* grant = role->add_grants();
  grant->set_item(item);
  grant->set_scope(scope);
  grant->set_deal_pipeline_id(deal_pipeline_id);
  for (auto action : actions) grant->add_actions(action);
  return grant;
}

v1::AccessPolicy SeedAccessPolicy() {
  constexpr std::array<v1::AccessItem, 5> kItems = {v1::ACCESS_ITEM_LEAD, v1::ACCESS_ITEM_CONTACT,
                                                    v1::ACCESS_ITEM_COMPANY, v1::ACCESS_ITEM_DEAL,
                                                    v1::ACCESS_ITEM_ACTIVITY};
  v1::AccessPolicy policy;
  v1::AccessRole* first_line = policy.add_roles();
  first_line->set_role_id("first-line");
  AddGrant(first_line, v1::ACCESS_ITEM_LEAD, v1::ACCESS_SCOPE_ALL,
           {v1::ACCESS_ACTION_READ, v1::ACCESS_ACTION_CREATE, v1::ACCESS_ACTION_UPDATE,
            v1::ACCESS_ACTION_MOVE});
  v1::AccessRole* services = policy.add_roles();
  services->set_role_id("services-team");
  AddGrant(services, v1::ACCESS_ITEM_DEAL, v1::ACCESS_SCOPE_TEAM, {}, "services");
  AddGrant(services, v1::ACCESS_ITEM_CONTACT, v1::ACCESS_SCOPE_ALL, {v1::ACCESS_ACTION_READ});
  v1::AccessRole* manager = policy.add_roles();
  manager->set_role_id("manager");
  for (auto item : kItems) AddGrant(manager, item, v1::ACCESS_SCOPE_OWN);
  v1::AccessRole* supervisor = policy.add_roles();
  supervisor->set_role_id("supervisor");
  for (auto item : kItems) AddGrant(supervisor, item, v1::ACCESS_SCOPE_ALL);
  v1::AccessTeam* team = policy.add_teams();
  team->set_team_id("services");
  team->add_members("olga");
  team->add_members("ivan");
  for (const auto& [user_id, role] :
       std::array<std::pair<const char*, const char*>, 5>{{{"fedor", "first-line"},
                                                           {"olga", "services-team"},
                                                           {"ivan", "services-team"},
                                                           {"boris", "manager"},
                                                           {"sveta", "supervisor"}}}) {
    v1::AccessUser* user = policy.add_users();
    user->set_user_id(user_id);
    user->add_roles(role);
  }
  return policy;
}

}  // namespace leadflow::testing
