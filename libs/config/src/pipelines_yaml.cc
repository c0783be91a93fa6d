#include "leadflow/config/pipelines_yaml.h"

#include <google/protobuf/util/time_util.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/config/enum_names.h"
#include "leadflow/v1/robots.pb.h"
#include "yaml_fields.h"

namespace leadflow::config {
namespace {

// --- pipelines from YAML -------------------------------------------------
//
// The format is in examples/pipelines/default.yaml. Errors name the line and
// the key at fault as a path: "line 7: pipelines[0].stages[1].semantic: …".
// Each Read* reads one node into its value or message; ReadMap hands each
// key of a mapping to its YamlField (mostly made by Into or Set).

// Whole days, hours, minutes and seconds, largest first: 90s, 5m, 1h30m, 1d.
absl::Status ReadDuration(const YAML::Node& node, const std::string& path,
                          google::protobuf::Duration* out) {
  static const std::pair<char, int64_t> kUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
  const int64_t max = google::protobuf::util::TimeUtil::kDurationMaxSeconds;
  std::string text;
  LEADFLOW_RETURN_IF_ERROR(ReadString(node, path, &text));
  const auto bad = [&] {
    return YamlError(node, path,
                     absl::StrCat("'", text, "' is not a duration (30s, 5m, 2h, 1d, 1h30m)"));
  };
  if (text.empty()) return bad();
  absl::string_view rest = text;
  int64_t seconds = 0;
  size_t unit = 0;  // the largest unit that may come next
  while (!rest.empty()) {
    const size_t digits = rest.find_first_not_of("0123456789");
    int64_t n = 0;
    if (digits == 0 || digits == absl::string_view::npos ||
        !absl::SimpleAtoi(rest.substr(0, digits), &n)) {
      return bad();
    }
    while (unit < std::size(kUnits) && kUnits[unit].first != rest[digits]) ++unit;
    if (unit == std::size(kUnits) || n > (max - seconds) / kUnits[unit].second) return bad();
    seconds += n * kUnits[unit++].second;
    rest.remove_prefix(digits + 1);
  }
  out->set_seconds(seconds);
  out->set_nanos(0);
  return absl::OkStatus();
}

absl::Status ReadActivityRequirement(const YAML::Node& node, const std::string& path,
                                     v1::ActivityRequirement* need) {
  using R = v1::ActivityRequirement;
  return ReadMap(
      node, path,
      {{"type", Set(need, &R::set_type)}, {"robot", Into(need, &R::mutable_robot_id, ReadString)}});
}

absl::Status ReadStage(const YAML::Node& node, const std::string& path, v1::PipelineStage* stage) {
  using S = v1::PipelineStage;
  return ReadMap(node, path,
                 {{"id", Into(stage, &S::mutable_stage_id, ReadString)},
                  {"title", Into(stage, &S::mutable_title, ReadString)},
                  {"semantic", Set(stage, &S::set_semantic)},
                  {"required_fields", Into(stage, &S::mutable_required_fields, ListOf(ReadString))},
                  {"required_activities",
                   Into(stage, &S::mutable_required_activities, ListOf(ReadActivityRequirement))}});
}

// Robots and triggers (Pipeline.robots, Pipeline.triggers).

absl::Status ReadTeam(const YAML::Node& node, const std::string& path, v1::TeamPick* team) {
  return ReadMap(node, path,
                 {{"members", Into(team, &v1::TeamPick::mutable_members, ListOf(ReadString))},
                  {"team", Into(team, &v1::TeamPick::mutable_team, ReadString)},
                  {"rule", Set(team, &v1::TeamPick::set_rule)}});
}

// A team per value of a field: "VALUE: {members: […], rule: …}".
absl::Status ReadTeams(const YAML::Node& node, const std::string& path,
                       google::protobuf::Map<std::string, v1::TeamPick>* teams) {
  if (!node.IsMap()) {
    return YamlError(node, path, "expected a team per value (VALUE: {members: [...]})");
  }
  YamlFields fields;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    fields[key] = [teams, key](const YAML::Node& value, const std::string& at) {
      return ReadTeam(value, at, &(*teams)[key]);
    };
  }
  return ReadMap(node, path, fields);
}

absl::Status ReadFieldTeams(const YAML::Node& node, const std::string& path,
                            v1::FieldTeamMap* map) {
  using M = v1::FieldTeamMap;
  return ReadMap(node, path,
                 {{"field", Into(map, &M::mutable_field, ReadString)},
                  {"teams", Into(map, &M::mutable_teams, ReadTeams)},
                  {"otherwise", Into(map, &M::mutable_otherwise, ReadTeam)}});
}

absl::Status ReadAssign(const YAML::Node& node, const std::string& path, v1::AssignAction* assign) {
  using A = v1::AssignAction;
  // "call_operator: false" would choose that way of assigning and assign nobody.
  const YamlField call_operator = [assign](const YAML::Node& value, const std::string& at) {
    LEADFLOW_RETURN_IF_ERROR(Set(assign, &A::set_call_operator)(value, at));
    return assign->call_operator() ? absl::OkStatus() : YamlError(value, at, "only true");
  };
  const YamlFields to = {{"call_operator", call_operator},
                         {"user", Into(assign, &A::mutable_user_id, ReadString)},
                         {"team", Into(assign, &A::mutable_team, ReadTeam)},
                         {"by_field", Into(assign, &A::mutable_by_field, ReadFieldTeams)}};
  LEADFLOW_RETURN_IF_ERROR(ReadMap(node, path, to));
  return OneOf(node, path, to, /*required=*/true);
}

absl::Status ReadCreateActivity(const YAML::Node& node, const std::string& path,
                                v1::CreateActivityAction* create) {
  using C = v1::CreateActivityAction;
  return ReadMap(node, path,
                 {{"type", Set(create, &C::set_type)},
                  {"subject", Into(create, &C::mutable_subject, ReadString)},
                  {"description", Into(create, &C::mutable_description, ReadString)},
                  {"deadline_in", Into(create, &C::mutable_deadline_in, ReadDuration)},
                  {"responsible", Into(create, &C::mutable_responsible_id, ReadString)}});
}

absl::Status ReadNotify(const YAML::Node& node, const std::string& path, v1::NotifyAction* notify) {
  using N = v1::NotifyAction;
  return ReadMap(node, path,
                 {{"user", Into(notify, &N::mutable_user_id, ReadString)},
                  {"text", Into(notify, &N::mutable_text, ReadString)},
                  {"priority", Set(notify, &N::set_priority)}});
}

absl::Status ReadChangeStage(const YAML::Node& node, const std::string& path,
                             v1::ChangeStageAction* change) {
  return ReadMap(node, path,
                 {{"stage", Into(change, &v1::ChangeStageAction::mutable_stage_id, ReadString)}});
}

absl::Status ReadConvert(const YAML::Node& node, const std::string& path,
                         v1::ConvertAction* convert) {
  using C = v1::ConvertAction;
  return ReadMap(node, path,
                 {{"deal_pipeline", Into(convert, &C::mutable_deal_pipeline_id, ReadString)},
                  {"responsible", Into(convert, &C::mutable_responsible, ReadTeam)},
                  {"create_company", Set(convert, &C::set_create_company)}});
}

absl::Status ReadSendMessage(const YAML::Node& node, const std::string& path,
                             v1::SendMessageAction* send) {
  using S = v1::SendMessageAction;
  return ReadMap(node, path,
                 {{"channel", Set(send, &S::set_channel)},
                  {"template", Into(send, &S::mutable_template_id, ReadString)},
                  {"subject", Into(send, &S::mutable_subject, ReadString)},
                  {"body", Into(send, &S::mutable_body, ReadString)}});
}

absl::Status ReadRemind(const YAML::Node& node, const std::string& path, v1::RemindAction* remind) {
  using R = v1::RemindAction;
  return ReadMap(node, path,
                 {{"text", Into(remind, &R::mutable_text, ReadString)},
                  {"priority", Set(remind, &R::set_priority)},
                  {"also_user", Into(remind, &R::mutable_also_user_id, ReadString)}});
}

absl::Status ReadDeadlineTiming(const YAML::Node& node, const std::string& path,
                                v1::DeadlineTiming* timing) {
  using D = v1::DeadlineTiming;
  return ReadMap(node, path,
                 {{"robot", Into(timing, &D::mutable_activity_robot_id, ReadString)},
                  {"offset", Into(timing, &D::mutable_offset, ReadDuration)}});
}

absl::Status ReadCondition(const YAML::Node& node, const std::string& path,
                           v1::RobotCondition* condition) {
  using C = v1::RobotCondition;
  const YamlFields values = {{"value",
                              [condition](const YAML::Node& value, const std::string& at) {
                                return ReadString(value, at, condition->add_values());
                              }},
                             {"values", Into(condition, &C::mutable_values, ListOf(ReadString))}};
  YamlFields fields = {{"field", Into(condition, &C::mutable_field, ReadString)},
                       {"op", Set(condition, &C::set_op)}};
  fields.insert(values.begin(), values.end());
  LEADFLOW_RETURN_IF_ERROR(ReadMap(node, path, fields));
  return OneOf(node, path, values, /*required=*/false);
}

// A robot: when, on which condition, and exactly one action.
absl::Status ReadRobot(const YAML::Node& node, const std::string& path, v1::Robot* robot) {
  using R = v1::Robot;
  using A = v1::RobotAction;
  A* action = robot->mutable_action();
  const YamlFields actions = {
      {"assign", Into(action, &A::mutable_assign, ReadAssign)},
      {"create_activity", Into(action, &A::mutable_create_activity, ReadCreateActivity)},
      {"notify", Into(action, &A::mutable_notify, ReadNotify)},
      {"change_stage", Into(action, &A::mutable_change_stage, ReadChangeStage)},
      {"convert", Into(action, &A::mutable_convert, ReadConvert)},
      {"send_message", Into(action, &A::mutable_send_message, ReadSendMessage)},
      {"remind", Into(action, &A::mutable_remind, ReadRemind)}};
  YamlFields fields = {
      {"id", Into(robot, &R::mutable_robot_id, ReadString)},
      {"title", Into(robot, &R::mutable_title, ReadString)},
      {"stage", Into(robot, &R::mutable_stage_id, ReadString)},
      {"delay", Into(robot, &R::mutable_delay, ReadDuration)},
      {"after_deadline", Into(robot, &R::mutable_after_deadline, ReadDeadlineTiming)},
      {"if", Into(robot, &R::mutable_conditions, ListOf(ReadCondition))}};
  fields.insert(actions.begin(), actions.end());
  LEADFLOW_RETURN_IF_ERROR(ReadMap(node, path, fields));
  return OneOf(node, path, actions, /*required=*/true);
}

absl::Status ReadTrigger(const YAML::Node& node, const std::string& path, v1::Trigger* trigger) {
  using T = v1::Trigger;
  return ReadMap(node, path,
                 {{"id", Into(trigger, &T::mutable_trigger_id, ReadString)},
                  {"on", Set(trigger, &T::set_on)},
                  {"stage", Into(trigger, &T::mutable_stage_id, ReadString)},
                  {"form_id", Into(trigger, &T::mutable_form_id, ReadString)},
                  {"allow_backwards", Set(trigger, &T::set_allow_backwards)}});
}

absl::Status ReadPipeline(const YAML::Node& node, const std::string& path, v1::Pipeline* pipeline) {
  using P = v1::Pipeline;
  return ReadMap(node, path,
                 {{"id", Into(pipeline, &P::mutable_pipeline_id, ReadString)},
                  {"kind", Set(pipeline, &P::set_kind)},
                  {"title", Into(pipeline, &P::mutable_title, ReadString)},
                  {"conversion_required_fields",
                   Into(pipeline, &P::mutable_conversion_required_fields, ListOf(ReadString))},
                  {"stages", Into(pipeline, &P::mutable_stages, ListOf(ReadStage))},
                  {"robots", Into(pipeline, &P::mutable_robots, ListOf(ReadRobot))},
                  {"triggers", Into(pipeline, &P::mutable_triggers, ListOf(ReadTrigger))}});
}

}  // namespace

absl::Status ReadPipelinesYaml(absl::string_view text,
                               google::protobuf::RepeatedPtrField<v1::Pipeline>* pipelines) {
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    LEADFLOW_RETURN_IF_ERROR(ReadMap(
        root, "", {{"pipelines", [pipelines](const YAML::Node& value, const std::string& at) {
                      return ReadList(value, at, pipelines, ReadPipeline);
                    }}}));
    if (pipelines->empty()) return YamlError(root, "pipelines", "needs at least one pipeline");
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", std::max(e.mark.line, 0) + 1, ": ", e.msg));
  }
  return absl::OkStatus();
}

}  // namespace leadflow::config
