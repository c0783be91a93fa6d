#include "leadflow/config/access_yaml.h"

#include <algorithm>

#include "yaml_fields.h"

namespace leadflow::config {
namespace {

absl::Status ReadActions(const YAML::Node& node, const std::string& path,
                         google::protobuf::RepeatedField<int>* actions) {
  if (!node.IsSequence()) return YamlError(node, path, "expected a list");
  int i = 0;
  for (const auto& item : node) {
    v1::AccessAction action{};
    LEADFLOW_RETURN_IF_ERROR(ReadEnum(item, absl::StrCat(path, "[", i++, "]"), &action));
    actions->Add(action);
  }
  return absl::OkStatus();
}

absl::Status ReadGrant(const YAML::Node& node, const std::string& path, v1::AccessGrant* grant) {
  using G = v1::AccessGrant;
  return ReadMap(node, path,
                 {{"item", Set(grant, &G::set_item)},
                  {"pipeline", Into(grant, &G::mutable_deal_pipeline_id, ReadString)},
                  {"actions", Into(grant, &G::mutable_actions, ReadActions)},
                  {"scope", Set(grant, &G::set_scope)}});
}

absl::Status ReadRole(const YAML::Node& node, const std::string& path, v1::AccessRole* role) {
  using R = v1::AccessRole;
  return ReadMap(node, path,
                 {{"id", Into(role, &R::mutable_role_id, ReadString)},
                  {"title", Into(role, &R::mutable_title, ReadString)},
                  {"grants", Into(role, &R::mutable_grants, ListOf(ReadGrant))}});
}

absl::Status ReadTeam(const YAML::Node& node, const std::string& path, v1::AccessTeam* team) {
  using T = v1::AccessTeam;
  return ReadMap(node, path,
                 {{"id", Into(team, &T::mutable_team_id, ReadString)},
                  {"members", Into(team, &T::mutable_members, ListOf(ReadString))}});
}

absl::Status ReadUser(const YAML::Node& node, const std::string& path, v1::AccessUser* user) {
  using U = v1::AccessUser;
  return ReadMap(node, path,
                 {{"id", Into(user, &U::mutable_user_id, ReadString)},
                  {"roles", Into(user, &U::mutable_roles, ListOf(ReadString))}});
}

absl::Status ReadPolicy(const YAML::Node& node, const std::string& path, v1::AccessPolicy* policy) {
  using P = v1::AccessPolicy;
  return ReadMap(node, path,
                 {{"roles", Into(policy, &P::mutable_roles, ListOf(ReadRole))},
                  {"teams", Into(policy, &P::mutable_teams, ListOf(ReadTeam))},
                  {"users", Into(policy, &P::mutable_users, ListOf(ReadUser))}});
}

}  // namespace

absl::Status ReadAccessYaml(absl::string_view text, v1::AccessPolicy* policy) {
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    LEADFLOW_RETURN_IF_ERROR(
        ReadMap(root, "", {{"access", [policy](const YAML::Node& value, const std::string& at) {
                              return ReadPolicy(value, at, policy);
                            }}}));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", std::max(e.mark.line, 0) + 1, ": ", e.msg));
  }
  return absl::OkStatus();
}

bool IsAccessYaml(absl::string_view text) {
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    return root.IsMap() && root["access"] && !root["pipelines"];
  } catch (const YAML::Exception&) {
    return false;
  }
}

}  // namespace leadflow::config
