#include "leadflow/domain/access_policy.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/pipelines.h"

namespace leadflow::domain {
namespace {

constexpr int kMaxRoles = 200;
constexpr int kMaxGrants = 100;
constexpr int kMaxTeams = 500;
constexpr int kMaxTeamMembers = 2000;
constexpr int kMaxUsers = 20000;
constexpr int kMaxUserRoles = 20;

constexpr std::array<v1::AccessItem, 5> kItems = {v1::ACCESS_ITEM_LEAD, v1::ACCESS_ITEM_CONTACT,
                                                  v1::ACCESS_ITEM_COMPANY, v1::ACCESS_ITEM_DEAL,
                                                  v1::ACCESS_ITEM_ACTIVITY};
constexpr std::array<v1::AccessAction, 8> kActions = {
    v1::ACCESS_ACTION_READ,   v1::ACCESS_ACTION_CREATE,   v1::ACCESS_ACTION_UPDATE,
    v1::ACCESS_ACTION_MOVE,   v1::ACCESS_ACTION_MERGE,    v1::ACCESS_ACTION_DELETE,
    v1::ACCESS_ACTION_EXPORT, v1::ACCESS_ACTION_CONFIGURE};

absl::string_view PipelineOf(absl::string_view deal_pipeline_id) {
  return deal_pipeline_id.empty() ? kDefaultDealPipelineId : deal_pipeline_id;
}

bool GrantCovers(const v1::AccessGrant& grant, v1::AccessAction action, v1::AccessItem item,
                 absl::string_view deal_pipeline_id) {
  if (grant.item() != item) return false;
  if (item == v1::ACCESS_ITEM_DEAL && !grant.deal_pipeline_id().empty() &&
      grant.deal_pipeline_id() != PipelineOf(deal_pipeline_id)) {
    return false;
  }
  return grant.actions().empty() ||
         std::find(grant.actions().begin(), grant.actions().end(), action) != grant.actions().end();
}

// NONE for UNSPECIFIED, so scopes compare by their numbers.
v1::AccessScope Effective(v1::AccessScope scope) {
  return scope == v1::ACCESS_SCOPE_UNSPECIFIED ? v1::ACCESS_SCOPE_NONE : scope;
}

bool SharesTeam(const v1::AccessPolicy& policy, absl::string_view a, absl::string_view b) {
  for (const v1::AccessTeam& team : policy.teams()) {
    const auto& members = team.members();
    if (std::find(members.begin(), members.end(), a) != members.end() &&
        std::find(members.begin(), members.end(), b) != members.end()) {
      return true;
    }
  }
  return false;
}

bool InScope(const v1::AccessPolicy& policy, const Principal& principal, v1::AccessScope scope,
             const AccessTarget& target) {
  switch (Effective(scope)) {
    case v1::ACCESS_SCOPE_ALL:
      return true;
    case v1::ACCESS_SCOPE_TEAM:
      if (!target.responsible_id.empty() &&
          SharesTeam(policy, principal.name, target.responsible_id)) {
        return true;
      }
      [[fallthrough]];
    case v1::ACCESS_SCOPE_OWN:
      return target.responsible_id == principal.name ||
             (target.creating && target.responsible_id.empty());
    default:
      return false;
  }
}

std::string Describe(const AccessTarget& target) {
  std::string what =
      target.name.empty() ? absl::StrCat("a new ", AccessItemName(target.item)) : target.name;
  if (target.item == v1::ACCESS_ITEM_DEAL) {
    absl::StrAppend(&what, " (pipeline ", PipelineOf(target.deal_pipeline_id), ")");
  }
  if (!target.responsible_id.empty()) {
    absl::StrAppend(&what, ", responsible ", target.responsible_id);
  }
  return what;
}

template <typename Message>
std::string Bytes(const Message& message) {
  return message.SerializeAsString();
}

// Adds "kind id: added|removed|changed" for entries of `current` and
// `next` matched by `id`.
template <typename Entries, typename IdOf>
void DiffEntries(absl::string_view kind, const Entries& current, const Entries& next, IdOf id_of,
                 std::vector<std::string>* changes) {
  for (const auto& entry : next) {
    const auto before = std::find_if(current.begin(), current.end(),
                                     [&](const auto& e) { return id_of(e) == id_of(entry); });
    if (before == current.end()) {
      changes->push_back(absl::StrCat(kind, " ", id_of(entry), ": added"));
    } else if (Bytes(*before) != Bytes(entry)) {
      changes->push_back(absl::StrCat(kind, " ", id_of(entry), ": changed"));
    }
  }
  for (const auto& entry : current) {
    if (std::none_of(next.begin(), next.end(),
                     [&](const auto& e) { return id_of(e) == id_of(entry); })) {
      changes->push_back(absl::StrCat(kind, " ", id_of(entry), ": removed"));
    }
  }
}

// The command's action and item, and whether it creates its aggregate.
struct CommandRight {
  v1::AccessAction action = v1::ACCESS_ACTION_UNSPECIFIED;
  v1::AccessItem item = v1::ACCESS_ITEM_UNSPECIFIED;
};

CommandRight RightOf(const v1::Command& command) {
  using C = v1::Command;
  switch (command.command_case()) {
    case C::kCreateLead:
      return {v1::ACCESS_ACTION_CREATE, v1::ACCESS_ITEM_LEAD};
    case C::kUpdateLead:
    case C::kAssignLead:
    case C::kRecordCommunication:
    case C::kNotifyAboutLead:
    case C::kSendLeadMessage:
      return {v1::ACCESS_ACTION_UPDATE, v1::ACCESS_ITEM_LEAD};
    case C::kChangeLeadStatus:
    case C::kMarkLeadJunk:
    case C::kReopenLead:
    case C::kConvertLead:
      return {v1::ACCESS_ACTION_MOVE, v1::ACCESS_ITEM_LEAD};
    case C::kMergeLeadInto:
    case C::kAbsorbLead:
      return {v1::ACCESS_ACTION_MERGE, v1::ACCESS_ITEM_LEAD};
    case C::kCreateContact:
      return {v1::ACCESS_ACTION_CREATE, v1::ACCESS_ITEM_CONTACT};
    case C::kUpdateContact:
      return {v1::ACCESS_ACTION_UPDATE, v1::ACCESS_ITEM_CONTACT};
    case C::kCreateCompany:
      return {v1::ACCESS_ACTION_CREATE, v1::ACCESS_ITEM_COMPANY};
    case C::kUpdateCompany:
      return {v1::ACCESS_ACTION_UPDATE, v1::ACCESS_ITEM_COMPANY};
    case C::kCreateDeal:
      return {v1::ACCESS_ACTION_CREATE, v1::ACCESS_ITEM_DEAL};
    case C::kUpdateDeal:
    case C::kNotifyAboutDeal:
      return {v1::ACCESS_ACTION_UPDATE, v1::ACCESS_ITEM_DEAL};
    case C::kMoveDeal:
      return {v1::ACCESS_ACTION_MOVE, v1::ACCESS_ITEM_DEAL};
    case C::kPlanActivity:
      return {v1::ACCESS_ACTION_CREATE, v1::ACCESS_ITEM_ACTIVITY};
    case C::kCompleteActivity:
    case C::kRescheduleActivity:
      return {v1::ACCESS_ACTION_UPDATE, v1::ACCESS_ITEM_ACTIVITY};
    case C::kConfigurePipeline:
      return {v1::ACCESS_ACTION_CONFIGURE,
              command.configure_pipeline().pipeline().kind() == v1::PIPELINE_KIND_LEAD
                  ? v1::ACCESS_ITEM_LEAD
                  : v1::ACCESS_ITEM_DEAL};
    case C::kRemovePipeline:
      return {v1::ACCESS_ACTION_CONFIGURE, v1::ACCESS_ITEM_DEAL};
    default:
      return {};
  }
}

// The target a create command describes.
AccessTarget CreatedTarget(const v1::Command& command, v1::AccessItem item) {
  AccessTarget target;
  target.item = item;
  target.creating = true;
  switch (command.command_case()) {
    case v1::Command::kCreateLead:
      target.responsible_id = command.create_lead().lead().responsible_id();
      break;
    case v1::Command::kCreateContact:
      target.responsible_id = command.create_contact().contact().responsible_id();
      break;
    case v1::Command::kCreateCompany:
      target.responsible_id = command.create_company().company().responsible_id();
      break;
    case v1::Command::kCreateDeal:
      target.responsible_id = command.create_deal().deal().responsible_id();
      target.deal_pipeline_id = command.create_deal().deal().pipeline_id();
      break;
    case v1::Command::kPlanActivity:
      target.responsible_id = command.plan_activity().activity().responsible_id();
      break;
    default:
      break;
  }
  return target;
}

}  // namespace

bool IsOpen(const v1::AccessPolicy& policy) { return policy.version() == 0; }

std::vector<std::string> RolesOf(const v1::AccessPolicy& policy, const Principal& principal) {
  std::vector<std::string> roles = principal.roles;
  for (const v1::AccessUser& user : policy.users()) {
    if (user.user_id() != principal.name) continue;
    for (const std::string& role : user.roles()) {
      if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.push_back(role);
    }
  }
  return roles;
}

v1::AccessScope ScopeFor(const v1::AccessPolicy& policy, const Principal& principal,
                         v1::AccessAction action, v1::AccessItem item,
                         absl::string_view deal_pipeline_id) {
  if (IsOpen(policy) || principal.HasRole(kAdministratorRole)) return v1::ACCESS_SCOPE_ALL;
  const std::vector<std::string> roles = RolesOf(policy, principal);
  v1::AccessScope widest = v1::ACCESS_SCOPE_NONE;
  for (const v1::AccessRole& role : policy.roles()) {
    if (std::find(roles.begin(), roles.end(), role.role_id()) == roles.end()) continue;
    for (const v1::AccessGrant& grant : role.grants()) {
      if (GrantCovers(grant, action, item, deal_pipeline_id)) {
        widest = std::max(widest, Effective(grant.scope()));
      }
    }
  }
  return widest;
}

bool Permits(const v1::AccessPolicy& policy, const Principal& principal, v1::AccessAction action,
             const AccessTarget& target) {
  const v1::AccessScope scope =
      ScopeFor(policy, principal, action, target.item, target.deal_pipeline_id);
  // Pipelines belong to no one: configuring one needs scope all.
  if (action == v1::ACCESS_ACTION_CONFIGURE) return scope == v1::ACCESS_SCOPE_ALL;
  return InScope(policy, principal, scope, target);
}

absl::Status Permit(const v1::AccessPolicy& policy, const Principal& principal,
                    v1::AccessAction action, const AccessTarget& target) {
  if (Permits(policy, principal, action, target)) return absl::OkStatus();
  const v1::AccessScope scope =
      ScopeFor(policy, principal, action, target.item, target.deal_pipeline_id);
  const std::vector<std::string> roles = RolesOf(policy, principal);
  return absl::PermissionDeniedError(absl::StrCat(
      "'", principal.name, "' may not ", AccessActionName(action), " ", Describe(target), ": ",
      roles.empty() ? std::string("it holds no role")
                    : absl::StrCat("its roles (", absl::StrJoin(roles, ", "), ") grant"),
      roles.empty()
          ? ""
          : absl::StrCat(" ", AccessActionName(action), " on ", AccessItemName(target.item),
                         " items with scope ", AccessScopeName(scope))));
}

absl::Status PermitCounters(const v1::AccessPolicy& policy, const Principal& principal,
                            absl::string_view responsible_id) {
  // Deals count in every pipeline: a right in any one will do.
  std::vector<std::pair<v1::AccessItem, std::string>> targets = {
      {v1::ACCESS_ITEM_LEAD, ""}, {v1::ACCESS_ITEM_ACTIVITY, ""}, {v1::ACCESS_ITEM_DEAL, ""}};
  for (const v1::AccessRole& role : policy.roles()) {
    for (const v1::AccessGrant& grant : role.grants()) {
      if (!grant.deal_pipeline_id().empty()) {
        targets.emplace_back(v1::ACCESS_ITEM_DEAL, grant.deal_pipeline_id());
      }
    }
  }
  for (const auto& [item, pipeline] : targets) {
    AccessTarget target;
    target.item = item;
    target.deal_pipeline_id = pipeline;
    target.responsible_id = std::string(responsible_id);
    if (Permits(policy, principal, v1::ACCESS_ACTION_READ, target)) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat("'", principal.name, "' may not read the counters of '", responsible_id,
                   "': its roles grant read on none of their leads, deals or activities"));
}

AccessTarget TargetOf(const v1::Lead& lead) {
  AccessTarget target;
  target.item = v1::ACCESS_ITEM_LEAD;
  target.responsible_id = lead.responsible_id();
  target.name = lead.name();
  return target;
}

AccessTarget TargetOf(const v1::AggregateState& state) {
  AccessTarget target;
  switch (state.state_case()) {
    case v1::AggregateState::kLead:
      return TargetOf(state.lead());
    case v1::AggregateState::kContact:
      target.item = v1::ACCESS_ITEM_CONTACT;
      target.responsible_id = state.contact().responsible_id();
      target.name = state.contact().name();
      break;
    case v1::AggregateState::kCompany:
      target.item = v1::ACCESS_ITEM_COMPANY;
      target.responsible_id = state.company().responsible_id();
      target.name = state.company().name();
      break;
    case v1::AggregateState::kDeal:
      target.item = v1::ACCESS_ITEM_DEAL;
      target.responsible_id = state.deal().responsible_id();
      target.deal_pipeline_id = state.deal().pipeline_id();
      target.name = state.deal().name();
      break;
    case v1::AggregateState::kActivity:
      target.item = v1::ACCESS_ITEM_ACTIVITY;
      target.responsible_id = state.activity().responsible_id();
      target.name = state.activity().name();
      break;
    default:
      break;
  }
  return target;
}

absl::Status PermitCommand(const v1::AccessPolicy& policy, const Principal& principal,
                           const v1::Command& command, const CommandItems& items) {
  const CommandRight right = RightOf(command);
  if (right.item == v1::ACCESS_ITEM_UNSPECIFIED) return absl::OkStatus();
  if (IsOpen(policy) || principal.HasRole(kAdministratorRole)) return absl::OkStatus();
  AccessTarget target;
  if (right.action == v1::ACCESS_ACTION_CONFIGURE) {
    target.item = right.item;
    if (command.has_configure_pipeline()) {
      target.deal_pipeline_id = command.configure_pipeline().pipeline().pipeline_id();
    } else {
      target.deal_pipeline_id = command.aggregate_id();
    }
    if (target.item == v1::ACCESS_ITEM_LEAD) target.deal_pipeline_id.clear();
    target.name = absl::StrCat("pipelines/", target.item == v1::ACCESS_ITEM_LEAD
                                                 ? kLeadPipelineId
                                                 : absl::string_view(target.deal_pipeline_id));
  } else if (right.action == v1::ACCESS_ACTION_CREATE) {
    target = CreatedTarget(command, right.item);
  } else if (items.current == nullptr || TargetOf(*items.current).item != right.item) {
    // Not (yet) in the read model, or of another type: nobody's item.
    target.item = right.item;
    target.name = ResourceName(AggregateTypeOf(command), command.aggregate_id());
  } else {
    target = TargetOf(*items.current);
  }
  LEADFLOW_RETURN_IF_ERROR(Permit(policy, principal, right.action, target));

  if (command.has_merge_lead_into()) {
    AccessTarget kept;
    if (items.merge_target != nullptr && items.merge_target->has_lead()) {
      kept = TargetOf(items.merge_target->lead());
    } else {
      kept.item = v1::ACCESS_ITEM_LEAD;
      kept.name = ResourceName("lead", command.merge_lead_into().target_lead_id());
    }
    LEADFLOW_RETURN_IF_ERROR(Permit(policy, principal, v1::ACCESS_ACTION_MERGE, kept));
  }
  if (command.has_convert_lead()) {
    const v1::ConvertLead& convert = command.convert_lead();
    const std::string responsible =
        !convert.responsible_id().empty() ? convert.responsible_id() : target.responsible_id;
    AccessTarget made;
    made.creating = true;
    made.responsible_id = responsible;
    made.item = v1::ACCESS_ITEM_DEAL;
    made.deal_pipeline_id = convert.deal_pipeline_id();
    LEADFLOW_RETURN_IF_ERROR(Permit(policy, principal, v1::ACCESS_ACTION_CREATE, made));
    if (convert.contact_id().empty()) {
      made.item = v1::ACCESS_ITEM_CONTACT;
      made.deal_pipeline_id.clear();
      LEADFLOW_RETURN_IF_ERROR(Permit(policy, principal, v1::ACCESS_ACTION_CREATE, made));
    }
    if (convert.create_company() && convert.company_id().empty()) {
      made.item = v1::ACCESS_ITEM_COMPANY;
      made.deal_pipeline_id.clear();
      LEADFLOW_RETURN_IF_ERROR(Permit(policy, principal, v1::ACCESS_ACTION_CREATE, made));
    }
  }
  if (command.has_plan_activity() && items.activity_owner != nullptr) {
    const AccessTarget owner = TargetOf(*items.activity_owner);
    if (owner.item != v1::ACCESS_ITEM_UNSPECIFIED) {
      LEADFLOW_RETURN_IF_ERROR(Permit(policy, principal, v1::ACCESS_ACTION_UPDATE, owner));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> RightsOf(const v1::AccessPolicy& policy, const Principal& principal) {
  std::set<std::string> pipelines;
  const std::vector<std::string> roles = RolesOf(policy, principal);
  for (const v1::AccessRole& role : policy.roles()) {
    if (std::find(roles.begin(), roles.end(), role.role_id()) == roles.end()) continue;
    for (const v1::AccessGrant& grant : role.grants()) {
      if (grant.item() == v1::ACCESS_ITEM_DEAL && !grant.deal_pipeline_id().empty()) {
        pipelines.insert(grant.deal_pipeline_id());
      }
    }
  }
  std::vector<std::string> lines;
  auto line = [&](v1::AccessItem item, absl::string_view pipeline) {
    std::string text(AccessItemName(item));
    if (!pipeline.empty()) absl::StrAppend(&text, "[", pipeline, "]");
    absl::StrAppend(&text, ":");
    for (v1::AccessAction action : kActions) {
      absl::StrAppend(&text, " ", AccessActionName(action), "=",
                      AccessScopeName(ScopeFor(policy, principal, action, item, pipeline)));
    }
    lines.push_back(std::move(text));
  };
  for (v1::AccessItem item : kItems) {
    if (item != v1::ACCESS_ITEM_DEAL) {
      line(item, "");
      continue;
    }
    line(item, kDefaultDealPipelineId);
    for (const std::string& pipeline : pipelines) {
      if (pipeline != kDefaultDealPipelineId) line(item, pipeline);
    }
  }
  return lines;
}

absl::Status ValidateAccessPolicy(const v1::AccessPolicy& policy) {
  if (policy.roles_size() > kMaxRoles) {
    return InvalidField("policy.roles", absl::StrCat("more than ", kMaxRoles));
  }
  if (policy.teams_size() > kMaxTeams) {
    return InvalidField("policy.teams", absl::StrCat("more than ", kMaxTeams));
  }
  if (policy.users_size() > kMaxUsers) {
    return InvalidField("policy.users", absl::StrCat("more than ", kMaxUsers));
  }
  std::set<std::string> roles;
  for (int r = 0; r < policy.roles_size(); ++r) {
    const v1::AccessRole& role = policy.roles(r);
    const std::string at = absl::StrCat("policy.roles[", r, "]");
    if (auto s = CheckPrincipalName(role.role_id(), at + ".role_id"); !s.ok()) return s;
    if (role.role_id() == kAdministratorRole) {
      return InvalidField(at + ".role_id",
                          "'administrator' is built in (it may do everything) and not configured");
    }
    if (!roles.insert(role.role_id()).second) {
      return InvalidField(at + ".role_id", absl::StrCat("role '", role.role_id(), "' repeats"));
    }
    if (role.grants_size() > kMaxGrants) {
      return InvalidField(at + ".grants", absl::StrCat("more than ", kMaxGrants));
    }
    for (int g = 0; g < role.grants_size(); ++g) {
      const v1::AccessGrant& grant = role.grants(g);
      const std::string grant_at = absl::StrCat(at, ".grants[", g, "]");
      if (!v1::AccessItem_IsValid(grant.item()) || !v1::AccessScope_IsValid(grant.scope())) {
        return InvalidField(grant_at, "an item or scope this server does not know");
      }
      if (grant.item() == v1::ACCESS_ITEM_UNSPECIFIED) {
        return InvalidField(grant_at + ".item", "required: lead|contact|company|deal|activity");
      }
      if (grant.scope() == v1::ACCESS_SCOPE_UNSPECIFIED) {
        return InvalidField(grant_at + ".scope", "required: none|own|team|all");
      }
      if (!grant.deal_pipeline_id().empty()) {
        if (grant.item() != v1::ACCESS_ITEM_DEAL) {
          return InvalidField(grant_at + ".deal_pipeline_id", "only deal grants name a pipeline");
        }
        if (auto s = CheckAggregateId(grant.deal_pipeline_id(), grant_at + ".deal_pipeline_id");
            !s.ok()) {
          return s;
        }
      }
      const bool configures = grant.actions().empty() ||
                              std::find(grant.actions().begin(), grant.actions().end(),
                                        v1::ACCESS_ACTION_CONFIGURE) != grant.actions().end();
      if (configures && !grant.actions().empty() && grant.scope() != v1::ACCESS_SCOPE_ALL &&
          grant.scope() != v1::ACCESS_SCOPE_NONE) {
        return InvalidField(grant_at + ".scope",
                            "configure is granted with scope all or none (pipelines belong to no "
                            "one)");
      }
      for (int a = 0; a < grant.actions_size(); ++a) {
        if (grant.actions(a) == v1::ACCESS_ACTION_UNSPECIFIED ||
            !v1::AccessAction_IsValid(grant.actions(a))) {
          return InvalidField(absl::StrCat(grant_at, ".actions[", a, "]"),
                              "unspecified, or an action this server does not know");
        }
      }
    }
  }
  std::set<std::string> teams;
  for (int t = 0; t < policy.teams_size(); ++t) {
    const v1::AccessTeam& team = policy.teams(t);
    const std::string at = absl::StrCat("policy.teams[", t, "]");
    if (auto s = CheckPrincipalName(team.team_id(), at + ".team_id"); !s.ok()) return s;
    if (!teams.insert(team.team_id()).second) {
      return InvalidField(at + ".team_id", absl::StrCat("team '", team.team_id(), "' repeats"));
    }
    if (team.members_size() > kMaxTeamMembers) {
      return InvalidField(at + ".members", absl::StrCat("more than ", kMaxTeamMembers));
    }
    for (int m = 0; m < team.members_size(); ++m) {
      if (auto s = CheckPrincipalName(team.members(m), absl::StrCat(at, ".members[", m, "]"));
          !s.ok()) {
        return s;
      }
    }
  }
  std::set<std::string> users;
  for (int u = 0; u < policy.users_size(); ++u) {
    const v1::AccessUser& user = policy.users(u);
    const std::string at = absl::StrCat("policy.users[", u, "]");
    if (auto s = CheckPrincipalName(user.user_id(), at + ".user_id"); !s.ok()) return s;
    if (!users.insert(user.user_id()).second) {
      return InvalidField(at + ".user_id", absl::StrCat("user '", user.user_id(), "' repeats"));
    }
    if (user.roles_size() > kMaxUserRoles) {
      return InvalidField(at + ".roles", absl::StrCat("more than ", kMaxUserRoles));
    }
    for (int r = 0; r < user.roles_size(); ++r) {
      if (user.roles(r) == kAdministratorRole) {
        return InvalidField(absl::StrCat(at, ".roles[", r, "]"),
                            "the administrator role comes with a credential (an API key's roles, "
                            "a JWT's roles claim), not from the policy");
      }
      if (roles.count(user.roles(r)) == 0) {
        return InvalidField(absl::StrCat(at, ".roles[", r, "]"),
                            absl::StrCat("no role '", ValidUtf8(user.roles(r)), "' is defined"));
      }
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> AccessPolicyChanges(const v1::AccessPolicy& current,
                                             const v1::AccessPolicy& next) {
  std::vector<std::string> changes;
  DiffEntries(
      "role", current.roles(), next.roles(), [](const v1::AccessRole& r) { return r.role_id(); },
      &changes);
  DiffEntries(
      "team", current.teams(), next.teams(), [](const v1::AccessTeam& t) { return t.team_id(); },
      &changes);
  DiffEntries(
      "user", current.users(), next.users(), [](const v1::AccessUser& u) { return u.user_id(); },
      &changes);
  return changes;
}

absl::string_view AccessActionName(v1::AccessAction action) {
  switch (action) {
    case v1::ACCESS_ACTION_READ:
      return "read";
    case v1::ACCESS_ACTION_CREATE:
      return "create";
    case v1::ACCESS_ACTION_UPDATE:
      return "update";
    case v1::ACCESS_ACTION_MOVE:
      return "move";
    case v1::ACCESS_ACTION_MERGE:
      return "merge";
    case v1::ACCESS_ACTION_DELETE:
      return "delete";
    case v1::ACCESS_ACTION_EXPORT:
      return "export";
    case v1::ACCESS_ACTION_CONFIGURE:
      return "configure";
    default:
      return "unspecified";
  }
}

absl::string_view AccessItemName(v1::AccessItem item) {
  switch (item) {
    case v1::ACCESS_ITEM_LEAD:
      return "lead";
    case v1::ACCESS_ITEM_CONTACT:
      return "contact";
    case v1::ACCESS_ITEM_COMPANY:
      return "company";
    case v1::ACCESS_ITEM_DEAL:
      return "deal";
    case v1::ACCESS_ITEM_ACTIVITY:
      return "activity";
    default:
      return "unspecified";
  }
}

absl::string_view AccessScopeName(v1::AccessScope scope) {
  switch (Effective(scope)) {
    case v1::ACCESS_SCOPE_OWN:
      return "own";
    case v1::ACCESS_SCOPE_TEAM:
      return "team";
    case v1::ACCESS_SCOPE_ALL:
      return "all";
    default:
      return "none";
  }
}

}  // namespace leadflow::domain
