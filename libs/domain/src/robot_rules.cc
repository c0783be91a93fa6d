#include "robot_rules.h"

#include <google/protobuf/util/time_util.h>

#include <cmath>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "leadflow/base/status_macros.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/pipelines.h"
#include "leadflow/domain/principal.h"
#include "leadflow/domain/robots.h"

namespace leadflow::domain {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const Message* ItemMessage(const v1::AggregateState& state) {
  if (state.has_lead()) return &state.lead();
  if (state.has_deal()) return &state.deal();
  if (state.has_activity()) return &state.activity();
  return nullptr;
}

// "LEAD_SOURCE_CALL" → "CALL": the enum's common prefix goes.
std::string ShortEnumName(const google::protobuf::EnumValueDescriptor* value) {
  const auto* type = value->type();
  std::string prefix = type->value(0)->name();
  for (int i = 1; i < type->value_count(); ++i) {
    const std::string& name = type->value(i)->name();
    size_t n = 0;
    while (n < prefix.size() && n < name.size() && prefix[n] == name[n]) ++n;
    prefix.resize(n);
  }
  prefix.resize(prefix.rfind('_') == std::string::npos ? 0 : prefix.rfind('_') + 1);
  return value->name().substr(prefix.size());
}

std::string MapEntry(const google::protobuf::Map<std::string, std::string>& map,
                     absl::string_view key) {
  auto found = map.find(std::string(key));
  return found == map.end() ? "" : found->second;
}

std::optional<double> Number(absl::string_view text) {
  double value = 0;
  if (text.empty() || !absl::SimpleAtod(text, &value)) return std::nullopt;
  return value;
}

bool Same(absl::string_view actual, absl::string_view wanted) {
  auto a = Number(actual);
  auto w = Number(wanted);
  if (a.has_value() && w.has_value()) return std::fabs(*a - *w) < 1e-9;
  return absl::EqualsIgnoreCase(actual, wanted);
}

// <0, 0, >0 as actual is below, at or above wanted.
int Order(absl::string_view actual, absl::string_view wanted) {
  auto a = Number(actual);
  auto w = Number(wanted);
  if (a.has_value() && w.has_value()) return *a < *w ? -1 : (*a > *w ? 1 : 0);
  return actual.compare(wanted);
}

bool Holds(const v1::AggregateState& state, const v1::RobotCondition& condition) {
  const std::string actual = FieldText(state, condition.field());
  const std::string wanted = condition.values().empty() ? "" : condition.values(0);
  const auto any_same = [&] {
    for (const auto& value : condition.values()) {
      if (Same(actual, value)) return true;
    }
    return false;
  };
  switch (condition.op()) {
    case v1::CONDITION_OPERATOR_EQUALS:
      return Same(actual, wanted);
    case v1::CONDITION_OPERATOR_NOT_EQUALS:
      return !Same(actual, wanted);
    case v1::CONDITION_OPERATOR_GREATER:
      return !actual.empty() && Order(actual, wanted) > 0;
    case v1::CONDITION_OPERATOR_GREATER_OR_EQUAL:
      return !actual.empty() && Order(actual, wanted) >= 0;
    case v1::CONDITION_OPERATOR_LESS:
      return !actual.empty() && Order(actual, wanted) < 0;
    case v1::CONDITION_OPERATOR_LESS_OR_EQUAL:
      return !actual.empty() && Order(actual, wanted) <= 0;
    case v1::CONDITION_OPERATOR_IN:
      return any_same();
    case v1::CONDITION_OPERATOR_NOT_IN:
      return !any_same();
    case v1::CONDITION_OPERATOR_EMPTY:
    case v1::CONDITION_OPERATOR_NOT_EMPTY: {
      bool empty = actual.empty() || actual == "false" || actual == "0";
      const Message* item = ItemMessage(state);
      const FieldDescriptor* field =
          item == nullptr ? nullptr : item->GetDescriptor()->FindFieldByName(condition.field());
      if (field != nullptr &&
          (field->is_repeated() || field->type() == FieldDescriptor::TYPE_MESSAGE)) {
        google::protobuf::RepeatedPtrField<std::string> path;
        path.Add(std::string(condition.field()));
        empty = !MissingFields(*item, path).empty();
      }
      return condition.op() == v1::CONDITION_OPERATOR_EMPTY ? empty : !empty;
    }
    case v1::CONDITION_OPERATOR_CONTAINS:
      return absl::StrContains(absl::AsciiStrToLower(actual), absl::AsciiStrToLower(wanted));
    default:
      return false;
  }
}

constexpr int64_t kMaxRobotMs = int64_t{366} * 24 * 3600 * 1000;

// Refuses change_stage robots that would move an item round in a circle
// (NEW → IN_PROCESS → NEW …): each step has a new cause, so nothing would
// stop it.
absl::Status CheckNoStageCycle(const v1::Pipeline& pipeline, absl::string_view prefix) {
  std::map<std::string, std::vector<std::pair<std::string, int>>> moves;  // stage → (target, robot)
  for (int i = 0; i < pipeline.robots_size(); ++i) {
    const auto& robot = pipeline.robots(i);
    if (robot.action().has_change_stage()) {
      moves[robot.stage_id()].push_back({robot.action().change_stage().stage_id(), i});
    }
  }
  for (const auto& [start, unused] : moves) {
    // Depth-first from `start`, looking for a way back to it.
    std::vector<std::pair<std::string, std::vector<std::string>>> stack = {{start, {start}}};
    std::set<std::string> seen;
    while (!stack.empty()) {
      auto [stage, path] = stack.back();
      stack.pop_back();
      for (const auto& [target, robot] : moves[stage]) {
        std::vector<std::string> next = path;
        next.push_back(target);
        if (target == start) {
          return InvalidField(absl::StrCat(prefix, ".robots[", robot, "].action.change_stage"),
                              absl::StrCat("robots would move items round in a circle: ",
                                           absl::StrJoin(next, " → ")));
        }
        if (seen.insert(target).second) stack.push_back({target, std::move(next)});
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckRuleId(absl::string_view id, absl::string_view field) {
  if (id.empty() || id.size() > 40) return InvalidField(field, "required: 1-40 of a-z, 0-9, '-'");
  for (char c : id) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-')) {
      return InvalidField(field, absl::StrCat("'", id, "' may hold only a-z, 0-9 and '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTeam(const v1::TeamPick& team, absl::string_view field) {
  if (!team.team().empty()) {
    if (!team.members().empty()) {
      return InvalidField(absl::StrCat(field, ".team"),
                          "members or a team of the access policy, not both");
    }
    return CheckPrincipalName(team.team(), absl::StrCat(field, ".team"));
  }
  if (team.members().empty()) {
    return InvalidField(absl::StrCat(field, ".members"),
                        "required (or team: a team of the access policy)");
  }
  std::set<std::string> seen;
  for (int i = 0; i < team.members_size(); ++i) {
    if (team.members(i).empty() || !seen.insert(team.members(i)).second) {
      return InvalidField(absl::StrCat(field, ".members[", i, "]"), "empty or listed twice");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckStageTarget(const v1::Pipeline& pipeline, absl::string_view stage_id,
                              absl::string_view field) {
  const v1::PipelineStage* stage = FindStage(pipeline, stage_id);
  if (stage == nullptr) {
    return InvalidField(field, absl::StrCat("'", stage_id, "' is not a stage of this pipeline"));
  }
  if (pipeline.kind() == v1::PIPELINE_KIND_LEAD &&
      stage->semantic() != v1::STATUS_SEMANTIC_IN_PROGRESS) {
    return InvalidField(field, absl::StrCat("'", stage_id,
                                            "' is not in progress: a lead is converted (robot "
                                            "action convert) or marked junk, not moved there"));
  }
  return absl::OkStatus();
}

absl::Status CheckAction(const v1::Pipeline& pipeline, const v1::Robot& robot,
                         absl::string_view at) {
  const bool lead = pipeline.kind() == v1::PIPELINE_KIND_LEAD;
  const auto& action = robot.action();
  const std::string field = absl::StrCat(at, ".action");
  if (robot.has_after_deadline() && !action.has_remind() && !action.has_notify() &&
      !action.has_change_stage()) {
    return InvalidField(field, "with after_deadline a robot may remind, notify or change_stage");
  }
  if (action.has_remind() && !robot.has_after_deadline()) {
    return InvalidField(field, "remind needs after_deadline timing (which activity is overdue)");
  }
  switch (action.action_case()) {
    case v1::RobotAction::kAssign: {
      const auto& assign = action.assign();
      const std::string f = absl::StrCat(field, ".assign");
      switch (assign.to_case()) {
        case v1::AssignAction::kCallOperator:
          if (!lead) return InvalidField(f, "call_operator is for leads");
          return absl::OkStatus();
        case v1::AssignAction::kUserId:
          return assign.user_id().empty() ? InvalidField(absl::StrCat(f, ".user_id"), "required")
                                          : absl::OkStatus();
        case v1::AssignAction::kTeam:
          return CheckTeam(assign.team(), absl::StrCat(f, ".team"));
        case v1::AssignAction::kByField: {
          const auto& map = assign.by_field();
          const auto* item = lead ? v1::Lead::descriptor() : v1::Deal::descriptor();
          if (!IsConditionField(item, map.field())) {
            return InvalidField(
                absl::StrCat(f, ".by_field.field"),
                absl::StrCat("'", map.field(), "' is not a field of a ", item->name()));
          }
          if (map.teams().empty())
            return InvalidField(absl::StrCat(f, ".by_field.teams"), "required");
          for (const auto& [value, team] : map.teams()) {
            LEADFLOW_RETURN_IF_ERROR(
                CheckTeam(team, absl::StrCat(f, ".by_field.teams[", value, "]")));
          }
          if (map.has_otherwise()) {
            return CheckTeam(map.otherwise(), absl::StrCat(f, ".by_field.otherwise"));
          }
          return absl::OkStatus();
        }
        case v1::AssignAction::TO_NOT_SET:
          break;
      }
      return InvalidField(f, "say to whom: call_operator, user_id, team or by_field");
    }
    case v1::RobotAction::kCreateActivity: {
      const auto& create = action.create_activity();
      const std::string f = absl::StrCat(field, ".create_activity");
      if (create.subject().empty()) return InvalidField(absl::StrCat(f, ".subject"), "required");
      const int64_t ms =
          google::protobuf::util::TimeUtil::DurationToMilliseconds(create.deadline_in());
      if (ms <= 0 || ms > kMaxRobotMs) {
        return InvalidField(absl::StrCat(f, ".deadline_in"),
                            "required: a positive duration of at most 366 days");
      }
      return absl::OkStatus();
    }
    case v1::RobotAction::kNotify:
      return action.notify().text().empty()
                 ? InvalidField(absl::StrCat(field, ".notify.text"), "required")
                 : absl::OkStatus();
    case v1::RobotAction::kChangeStage:
      return CheckStageTarget(pipeline, action.change_stage().stage_id(),
                              absl::StrCat(field, ".change_stage.stage_id"));
    case v1::RobotAction::kConvert:
      if (!lead) return InvalidField(absl::StrCat(field, ".convert"), "converts leads only");
      if (action.convert().has_responsible()) {
        return CheckTeam(action.convert().responsible(),
                         absl::StrCat(field, ".convert.responsible"));
      }
      return absl::OkStatus();
    case v1::RobotAction::kSendMessage: {
      const auto& send = action.send_message();
      const std::string f = absl::StrCat(field, ".send_message");
      if (!lead) {
        return InvalidField(f, "lead pipelines only: a deal's person is its contact's record");
      }
      if (send.channel() == v1::MESSAGE_CHANNEL_UNSPECIFIED) {
        return InvalidField(absl::StrCat(f, ".channel"), "required: email or sms");
      }
      if (send.body().empty() && send.template_id().empty()) {
        return InvalidField(absl::StrCat(f, ".body"), "required unless template_id is given");
      }
      return absl::OkStatus();
    }
    case v1::RobotAction::kRemind:
      return absl::OkStatus();
    case v1::RobotAction::ACTION_NOT_SET:
      break;
  }
  return InvalidField(field, "required: one action");
}

}  // namespace

std::string FieldText(const v1::AggregateState& state, absl::string_view field) {
  const Message* item = ItemMessage(state);
  if (item == nullptr) return "";
  absl::string_view key = field;
  if (absl::ConsumePrefix(&key, "custom_fields.")) {
    if (state.has_lead()) return MapEntry(state.lead().custom_fields(), key);
    if (state.has_deal()) return MapEntry(state.deal().custom_fields(), key);
    return "";
  }
  if (absl::ConsumePrefix(&key, "source_details.")) {
    return state.has_lead() ? MapEntry(state.lead().source_details(), key) : "";
  }
  const v1::Money* money = state.has_lead()   ? &state.lead().opportunity()
                           : state.has_deal() ? &state.deal().opportunity()
                                              : nullptr;
  if (field == "opportunity") {
    if (money == nullptr || money->currency_code().empty()) return "";
    return absl::StrFormat("%.2f", static_cast<double>(money->amount_minor()) / 100.0);
  }
  if (field == "currency") return money == nullptr ? "" : money->currency_code();
  const FieldDescriptor* descriptor = item->GetDescriptor()->FindFieldByName(std::string(field));
  if (descriptor == nullptr || descriptor->is_repeated()) return "";
  const auto* reflection = item->GetReflection();
  switch (descriptor->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return reflection->GetString(*item, descriptor);
    case FieldDescriptor::CPPTYPE_BOOL:
      return reflection->GetBool(*item, descriptor) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return ShortEnumName(reflection->GetEnum(*item, descriptor));
    case FieldDescriptor::CPPTYPE_INT32:
      return absl::StrCat(reflection->GetInt32(*item, descriptor));
    case FieldDescriptor::CPPTYPE_INT64:
      return absl::StrCat(reflection->GetInt64(*item, descriptor));
    default:
      return "";
  }
}

bool IsConditionField(const google::protobuf::Descriptor* item, absl::string_view field) {
  absl::string_view key = field;
  if (absl::ConsumePrefix(&key, "custom_fields.")) return !key.empty();
  if (absl::ConsumePrefix(&key, "source_details.")) {
    return !key.empty() && item == v1::Lead::descriptor();
  }
  if (field == "opportunity" || field == "currency") return true;
  return item->FindFieldByName(std::string(field)) != nullptr;
}

bool ConditionsHold(const v1::AggregateState& state,
                    const google::protobuf::RepeatedPtrField<v1::RobotCondition>& conditions) {
  for (const auto& condition : conditions) {
    if (!Holds(state, condition)) return false;
  }
  return true;
}

TemplateValues ItemValues(const v1::AggregateState& state, absl::string_view responsible) {
  TemplateValues values;
  values["responsible"] = std::string(responsible);
  if (state.has_lead()) {
    const v1::Lead& lead = state.lead();
    values["title"] = lead.title();
    values["name"] = absl::StrCat(lead.first_name(),
                                  lead.first_name().empty() || lead.last_name().empty() ? "" : " ",
                                  lead.last_name());
    if (!lead.phones().empty()) values["phone"] = lead.phones(0).number();
    if (!lead.emails().empty()) values["email"] = lead.emails(0).address();
    values["item"] = ResourceName("lead", lead.lead_id());
    values["stage"] = lead.status_id();
    for (const auto& [key, value] : lead.custom_fields()) values["custom_fields." + key] = value;
  } else if (state.has_deal()) {
    const v1::Deal& deal = state.deal();
    values["title"] = deal.title();
    values["item"] = ResourceName("deal", deal.deal_id());
    values["stage"] = deal.stage_id();
    for (const auto& [key, value] : deal.custom_fields()) values["custom_fields." + key] = value;
  } else if (state.has_activity()) {
    values["title"] = state.activity().subject();
    values["activity"] = state.activity().subject();
  }
  return values;
}

std::string Render(absl::string_view text, const TemplateValues& values) {
  std::string out;
  while (true) {
    const size_t open = text.find("{{");
    const size_t close = open == absl::string_view::npos ? open : text.find("}}", open + 2);
    if (close == absl::string_view::npos) break;
    absl::StrAppend(&out, text.substr(0, open));
    const std::string key(absl::StripAsciiWhitespace(text.substr(open + 2, close - open - 2)));
    auto found = values.find(key);
    if (found != values.end()) absl::StrAppend(&out, found->second);
    text.remove_prefix(close + 2);
  }
  absl::StrAppend(&out, text);
  return out;
}

absl::Status ValidateRobots(const v1::Pipeline& pipeline, absl::string_view prefix) {
  const auto* item =
      pipeline.kind() == v1::PIPELINE_KIND_LEAD ? v1::Lead::descriptor() : v1::Deal::descriptor();
  std::set<std::string> ids;
  for (int i = 0; i < pipeline.robots_size(); ++i) {
    const v1::Robot& robot = pipeline.robots(i);
    const std::string at = absl::StrCat(prefix, ".robots[", i, "]");
    LEADFLOW_RETURN_IF_ERROR(CheckRuleId(robot.robot_id(), absl::StrCat(at, ".robot_id")));
    if (!ids.insert(robot.robot_id()).second) {
      return InvalidField(absl::StrCat(at, ".robot_id"),
                          absl::StrCat("'", robot.robot_id(), "' appears twice"));
    }
    if (FindStage(pipeline, robot.stage_id()) == nullptr) {
      return InvalidField(absl::StrCat(at, ".stage_id"),
                          absl::StrCat("'", robot.stage_id(), "' is not a stage of this pipeline"));
    }
    const int64_t delay_ms =
        google::protobuf::util::TimeUtil::DurationToMilliseconds(robot.delay());
    if (delay_ms < 0 || delay_ms > int64_t{366} * 24 * 3600 * 1000) {
      return InvalidField(absl::StrCat(at, ".delay"), "between 0 and 366 days");
    }
    if (robot.has_after_deadline()) {
      const int64_t offset_ms =
          google::protobuf::util::TimeUtil::DurationToMilliseconds(robot.after_deadline().offset());
      if (offset_ms < -kMaxRobotMs || offset_ms > kMaxRobotMs) {
        return InvalidField(absl::StrCat(at, ".after_deadline.offset"), "within 366 days");
      }
      if (delay_ms > 0) {
        return InvalidField(absl::StrCat(at, ".after_deadline"), "either delay or after_deadline");
      }
      if (!robot.conditions().empty()) {
        return InvalidField(absl::StrCat(at, ".conditions"),
                            "not allowed with after_deadline: the robot watches the activity");
      }
      const std::string& creator = robot.after_deadline().activity_robot_id();
      bool found = false;
      for (const auto& other : pipeline.robots()) {
        found = found || (other.robot_id() == creator && other.stage_id() == robot.stage_id() &&
                          other.action().has_create_activity() && !other.has_after_deadline());
      }
      if (!found) {
        return InvalidField(absl::StrCat(at, ".after_deadline.activity_robot_id"),
                            absl::StrCat("'", creator,
                                         "' is not a robot of this stage that creates an "
                                         "activity"));
      }
    }
    for (int j = 0; j < robot.conditions_size(); ++j) {
      const auto& condition = robot.conditions(j);
      const std::string c = absl::StrCat(at, ".conditions[", j, "]");
      if (!IsConditionField(item, condition.field())) {
        return InvalidField(
            absl::StrCat(c, ".field"),
            absl::StrCat("'", condition.field(), "' is not a field of a ", item->name()));
      }
      const auto op = condition.op();
      if (op == v1::CONDITION_OPERATOR_UNSPECIFIED) {
        return InvalidField(absl::StrCat(c, ".op"), "required");
      }
      const bool unary =
          op == v1::CONDITION_OPERATOR_EMPTY || op == v1::CONDITION_OPERATOR_NOT_EMPTY;
      const auto* field = item->FindFieldByName(condition.field());
      if (!unary && condition.field() != "opportunity" && field != nullptr &&
          (field->is_repeated() ||
           field->type() == google::protobuf::FieldDescriptor::TYPE_MESSAGE)) {
        return InvalidField(absl::StrCat(c, ".op"),
                            absl::StrCat("'", condition.field(),
                                         "' is a list or a message: only empty / not_empty"));
      }
      const bool list = op == v1::CONDITION_OPERATOR_IN || op == v1::CONDITION_OPERATOR_NOT_IN;
      if (unary && !condition.values().empty()) {
        return InvalidField(absl::StrCat(c, ".values"), "none with empty / not_empty");
      }
      if (!unary && !list && condition.values_size() != 1) {
        return InvalidField(absl::StrCat(c, ".values"), "exactly one");
      }
      if (list && condition.values().empty()) {
        return InvalidField(absl::StrCat(c, ".values"), "at least one");
      }
    }
    LEADFLOW_RETURN_IF_ERROR(CheckAction(pipeline, robot, at));
  }
  LEADFLOW_RETURN_IF_ERROR(CheckNoStageCycle(pipeline, prefix));
  std::set<std::string> trigger_ids;
  for (int i = 0; i < pipeline.triggers_size(); ++i) {
    const v1::Trigger& trigger = pipeline.triggers(i);
    const std::string at = absl::StrCat(prefix, ".triggers[", i, "]");
    LEADFLOW_RETURN_IF_ERROR(CheckRuleId(trigger.trigger_id(), absl::StrCat(at, ".trigger_id")));
    if (!trigger_ids.insert(trigger.trigger_id()).second) {
      return InvalidField(absl::StrCat(at, ".trigger_id"),
                          absl::StrCat("'", trigger.trigger_id(), "' appears twice"));
    }
    if (trigger.on() == v1::TRIGGER_EVENT_UNSPECIFIED) {
      return InvalidField(absl::StrCat(at, ".on"),
                          "required: email_received, call_missed, form_submitted or "
                          "activity_completed");
    }
    if (pipeline.kind() == v1::PIPELINE_KIND_DEAL &&
        trigger.on() != v1::TRIGGER_EVENT_ACTIVITY_COMPLETED) {
      return InvalidField(absl::StrCat(at, ".on"),
                          "channel events are recorded on leads: a deal pipeline's trigger is "
                          "activity_completed");
    }
    if (!trigger.form_id().empty() && trigger.on() != v1::TRIGGER_EVENT_FORM_SUBMITTED) {
      return InvalidField(absl::StrCat(at, ".form_id"), "only for form_submitted");
    }
    LEADFLOW_RETURN_IF_ERROR(
        CheckStageTarget(pipeline, trigger.stage_id(), absl::StrCat(at, ".stage_id")));
  }
  return absl::OkStatus();
}

}  // namespace leadflow::domain
