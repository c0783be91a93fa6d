// Robots and triggers: what runs when an item enters a stage, and what moves
// an item when something happens to it. See robots.h.

#include "leadflow/domain/robots.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/pipelines.h"
#include "robot_rules.h"

namespace leadflow::domain {
namespace {

using google::protobuf::util::TimeUtil;

std::string StageOf(const v1::AggregateState& state) {
  if (state.has_lead()) return state.lead().status_id();
  if (state.has_deal()) return state.deal().stage_id();
  return "";
}

std::string ResponsibleOf(const v1::AggregateState& state) {
  if (state.has_lead()) return state.lead().responsible_id();
  if (state.has_deal()) return state.deal().responsible_id();
  if (state.has_activity()) return state.activity().responsible_id();
  return "";
}

const v1::Pipeline* PipelineOf(const v1::AggregateState& state, const PipelineSet& config) {
  if (state.has_lead()) return &config.lead();
  if (state.has_deal()) return config.FindDeal(state.deal().pipeline_id());
  return nullptr;
}

const v1::Robot* FindRobot(const v1::Pipeline* pipeline, absl::string_view robot_id) {
  if (pipeline == nullptr) return nullptr;
  for (const auto& robot : pipeline->robots()) {
    if (robot.robot_id() == robot_id) return &robot;
  }
  return nullptr;
}

v1::RobotCause MakeCause(absl::string_view pipeline_id, const v1::EventEnvelope& event,
                         absl::string_view item, const google::protobuf::Timestamp& due) {
  v1::RobotCause cause;
  cause.set_pipeline_id(std::string(pipeline_id));
  cause.set_cause_event_id(event.event_id());
  cause.set_cause_event_type(event.type());
  cause.set_item(std::string(item));
  *cause.mutable_due_time() = due;
  cause.set_correlation_id(event.correlation_id());
  return cause;
}

// A command of a rule: its id derives from the cause event and the rule
// (and `part`, when a rule issues several), its time is when it was due.
v1::Command RuleCommand(const v1::RobotCause& cause, absl::string_view aggregate_id,
                        absl::string_view part = {}) {
  v1::Command command;
  const std::string rule =
      cause.trigger_id().empty()
          ? absl::StrCat(cause.pipeline_id(), "/", cause.robot_id(), part)
          : absl::StrCat(cause.pipeline_id(), "/trigger:", cause.trigger_id(), part);
  command.set_command_id(DeriveId("robot", cause.cause_event_id(), rule));
  command.set_aggregate_id(std::string(aggregate_id));
  *command.mutable_issue_time() = cause.due_time();
  command.set_actor("robot");
  command.set_causation_id(cause.cause_event_id());
  command.set_correlation_id(cause.correlation_id().empty() ? cause.cause_event_id()
                                                            : cause.correlation_id());
  *command.mutable_robot() = cause;
  return command;
}

// A rule's move of a lead (ChangeLeadStatus) or deal (MoveDeal).
v1::Command StageCommand(const v1::RobotCause& cause, absl::string_view item_id, bool lead,
                         const std::string& stage_id) {
  v1::Command command = RuleCommand(cause, item_id);
  if (lead) {
    command.mutable_change_lead_status()->set_status_id(stage_id);
  } else {
    command.mutable_move_deal()->set_stage_id(stage_id);
  }
  return command;
}

std::string PickFromTeam(const v1::TeamPick& team, absl::string_view queue, TeamQueues& teams) {
  if (team.members().empty()) return "";
  if (team.rule() == v1::TEAM_PICK_RULE_LEAST_LOADED) {
    return teams.LeastLoaded(queue, team.members());
  }
  return teams.NextInTurn(queue, team.members());
}

std::string Assignee(const v1::AssignAction& assign, const v1::RobotItem& item,
                     absl::string_view queue, TeamQueues& teams) {
  switch (assign.to_case()) {
    case v1::AssignAction::kCallOperator: {
      if (!item.call_operator_id().empty()) return item.call_operator_id();
      if (!item.state().has_lead()) return "";
      const auto& details = item.state().lead().source_details();
      auto found = details.find("operator_id");
      return found == details.end() ? "" : found->second;
    }
    case v1::AssignAction::kUserId:
      return assign.user_id();
    case v1::AssignAction::kTeam:
      return PickFromTeam(assign.team(), queue, teams);
    case v1::AssignAction::kByField: {
      const auto& map = assign.by_field();
      const std::string value = FieldText(item.state(), map.field());
      auto found = map.teams().find(value);
      if (found != map.teams().end()) {
        return PickFromTeam(found->second, absl::StrCat(queue, "/", value), teams);
      }
      return map.has_otherwise() ? PickFromTeam(map.otherwise(), queue, teams) : "";
    }
    case v1::AssignAction::TO_NOT_SET:
      break;
  }
  return "";
}

// What one robot does to its item. `responsible` is the item's responsible
// as the robots before this one in the same step left it.
void ActionCommands(const v1::Robot& robot, const v1::RobotItem& item, const v1::RobotCause& cause,
                    TeamQueues& teams, std::string& responsible, std::vector<v1::Command>& out) {
  const v1::AggregateState& state = item.state();
  const std::string id = IdOf(state);
  const bool lead = state.has_lead();
  const std::string queue = absl::StrCat(cause.pipeline_id(), "/", robot.robot_id());
  const TemplateValues values = ItemValues(state, responsible);
  const auto& action = robot.action();
  switch (action.action_case()) {
    case v1::RobotAction::kAssign: {
      const std::string user = Assignee(action.assign(), item, queue, teams);
      if (user.empty()) return;
      v1::Command command = RuleCommand(cause, id);
      if (lead) {
        command.mutable_assign_lead()->set_responsible_id(user);
      } else {
        auto* update = command.mutable_update_deal();
        update->mutable_deal()->set_responsible_id(user);
        update->mutable_update_mask()->add_paths("responsible_id");
      }
      responsible = user;
      out.push_back(std::move(command));
      return;
    }
    case v1::RobotAction::kCreateActivity: {
      const auto& create = action.create_activity();
      const std::string activity_id = DeriveId(
          "act", cause.cause_event_id(), absl::StrCat(cause.pipeline_id(), "/", robot.robot_id()));
      v1::Command command = RuleCommand(cause, activity_id);
      v1::Activity* activity = command.mutable_plan_activity()->mutable_activity();
      activity->set_type(create.type() == v1::ACTIVITY_TYPE_UNSPECIFIED ? v1::ACTIVITY_TYPE_TASK
                                                                        : create.type());
      activity->set_subject(Render(create.subject(), values));
      activity->set_description(Render(create.description(), values));
      activity->set_owner(ResourceName(AggregateTypeOf(state), id));
      activity->set_responsible_id(create.responsible_id().empty() ? responsible
                                                                   : create.responsible_id());
      *activity->mutable_deadline() = cause.due_time() + create.deadline_in();
      out.push_back(std::move(command));
      return;
    }
    case v1::RobotAction::kNotify: {
      v1::Command command = RuleCommand(cause, id);
      v1::NotifyUser* notify =
          lead ? command.mutable_notify_about_lead() : command.mutable_notify_about_deal();
      notify->set_user_id(action.notify().user_id().empty() ? responsible
                                                            : action.notify().user_id());
      notify->set_text(Render(action.notify().text(), values));
      notify->set_priority(action.notify().priority());
      out.push_back(std::move(command));
      return;
    }
    case v1::RobotAction::kChangeStage:
      out.push_back(StageCommand(cause, id, lead, action.change_stage().stage_id()));
      return;
    case v1::RobotAction::kConvert: {
      if (!lead) return;
      const auto& convert = action.convert();
      v1::Command command = RuleCommand(cause, id);
      auto* to = command.mutable_convert_lead();
      to->set_deal_pipeline_id(convert.deal_pipeline_id());
      to->set_create_company(convert.create_company());
      if (convert.has_responsible()) {
        to->set_responsible_id(PickFromTeam(convert.responsible(), queue, teams));
      }
      out.push_back(std::move(command));
      return;
    }
    case v1::RobotAction::kSendMessage: {
      if (!lead) return;
      const auto& send = action.send_message();
      v1::Command command = RuleCommand(cause, id);
      auto* message = command.mutable_send_lead_message();
      message->set_channel(send.channel());
      message->set_template_id(send.template_id());
      message->set_subject(Render(send.subject(), values));
      message->set_body(Render(send.body(), values));
      out.push_back(std::move(command));
      return;
    }
    case v1::RobotAction::kRemind:  // after_deadline only: see DeadlineCommands
    case v1::RobotAction::ACTION_NOT_SET:
      return;
  }
}

// An after_deadline robot, run on the activity it watches: the commands go
// to the activity's item (its owner).
void DeadlineCommands(const v1::Robot& robot, const v1::RobotItem& item,
                      const v1::RobotCause& cause, std::vector<v1::Command>& out) {
  const v1::Activity& activity = item.state().activity();
  if (activity.state() != v1::ACTIVITY_STATE_PLANNED) return;
  auto owner = ParseResourceName(activity.owner(), "owner");
  if (!owner.ok()) return;
  const bool lead = owner->first == "lead";
  TemplateValues values = ItemValues(item.state(), activity.responsible_id());
  values["item"] = activity.owner();
  const auto notify = [&](absl::string_view user, absl::string_view text, bool priority,
                          absl::string_view part) {
    v1::Command command = RuleCommand(cause, owner->second, part);
    v1::NotifyUser* to =
        lead ? command.mutable_notify_about_lead() : command.mutable_notify_about_deal();
    to->set_user_id(std::string(user));
    to->set_text(Render(text, values));
    to->set_priority(priority);
    to->set_activity_id(activity.activity_id());
    out.push_back(std::move(command));
  };
  const auto& action = robot.action();
  if (action.has_remind()) {
    const auto& remind = action.remind();
    const std::string text =
        remind.text().empty() ? "Overdue: {{activity}} ({{item}})" : remind.text();
    notify(activity.responsible_id(), text, remind.priority(), "");
    if (!remind.also_user_id().empty()) {
      notify(remind.also_user_id(), text, remind.priority(), "/also");
    }
  } else if (action.has_notify()) {
    const auto& n = action.notify();
    notify(n.user_id().empty() ? activity.responsible_id() : n.user_id(), n.text(), n.priority(),
           "");
  } else if (action.has_change_stage()) {
    out.push_back(StageCommand(cause, owner->second, lead, action.change_stage().stage_id()));
  }
}

// Whether `event` happened before `pipeline`'s rules were configured: read
// late (a processor catching up, a data dir upgraded), it sets off nothing.
bool BeforeRules(const v1::EventEnvelope& event, const v1::Pipeline& pipeline) {
  return pipeline.has_configure_time() &&
         TimeUtil::TimestampToMilliseconds(event.occur_time()) <
             TimeUtil::TimestampToMilliseconds(pipeline.configure_time());
}

v1::TriggerEvent TriggerOf(const v1::ChannelEvent& channel_event) {
  switch (channel_event.payload_case()) {
    case v1::ChannelEvent::kEmail:
      return v1::TRIGGER_EVENT_EMAIL_RECEIVED;
    case v1::ChannelEvent::kCall:
      return channel_event.call().kind() == v1::CALL_KIND_MISSED ||
                     channel_event.call().kind() == v1::CALL_KIND_VOICEMAIL
                 ? v1::TRIGGER_EVENT_CALL_MISSED
                 : v1::TRIGGER_EVENT_UNSPECIFIED;
    case v1::ChannelEvent::kWebForm:
    case v1::ChannelEvent::kCallbackRequest:
      return v1::TRIGGER_EVENT_FORM_SUBMITTED;
    default:
      return v1::TRIGGER_EVENT_UNSPECIFIED;
  }
}

std::string FormIdOf(const v1::ChannelEvent& channel_event) {
  if (channel_event.has_web_form()) return channel_event.web_form().form_id();
  if (channel_event.has_callback_request()) return channel_event.callback_request().form_id();
  return "";
}

// The moves the triggers of `pipeline` make when `what` happens to the item
// `item_type`/`item_id`.
void TriggerCommands(const v1::Pipeline& pipeline, v1::TriggerEvent what, absl::string_view form_id,
                     const v1::EventEnvelope& event, absl::string_view item_type,
                     absl::string_view item_id, std::vector<v1::Command>& out) {
  if (what == v1::TRIGGER_EVENT_UNSPECIFIED || pipeline.removed() || BeforeRules(event, pipeline)) {
    return;
  }
  for (const auto& trigger : pipeline.triggers()) {
    if (trigger.on() != what) continue;
    if (!trigger.form_id().empty() && trigger.form_id() != form_id) continue;
    v1::RobotCause cause = MakeCause(pipeline.pipeline_id(), event,
                                     ResourceName(item_type, item_id), event.occur_time());
    cause.set_trigger_id(trigger.trigger_id());
    const bool lead = item_type == "lead";
    v1::Command command = StageCommand(cause, item_id, lead, trigger.stage_id());
    if (lead) {
      command.mutable_change_lead_status()->set_only_forward(!trigger.allow_backwards());
    } else {
      command.mutable_move_deal()->set_only_forward(!trigger.allow_backwards());
    }
    out.push_back(std::move(command));
  }
}

void RemoveTimers(v1::RobotItem& item, const std::function<bool(const v1::RobotTimer&)>& drop) {
  auto* timers = item.mutable_timers();
  timers->erase(std::remove_if(timers->begin(), timers->end(), drop), timers->end());
}

void ArmTimer(v1::RobotItem& item, const v1::Robot& robot, v1::RobotCause cause,
              google::protobuf::Timestamp due, absl::string_view entry_event_id,
              absl::string_view owner) {
  for (const auto& timer : item.timers()) {
    if (timer.cause().cause_event_id() == cause.cause_event_id() &&
        timer.robot_id() == robot.robot_id()) {
      return;
    }
  }
  v1::RobotTimer* timer = item.add_timers();
  timer->set_timer_id(DeriveId("timer", cause.cause_event_id(),
                               absl::StrCat(cause.pipeline_id(), "/", robot.robot_id())));
  *cause.mutable_due_time() = due;
  *timer->mutable_due_time() = due;
  timer->set_pipeline_id(cause.pipeline_id());
  timer->set_robot_id(robot.robot_id());
  *timer->mutable_cause() = std::move(cause);
  timer->set_entry_event_id(std::string(entry_event_id));
  timer->set_owner(std::string(owner));
}

// Arms the after_deadline robots that watch the activity `item` (created by
// a robot of theirs) and have no timer on it yet; `event` is the cause.
void ArmDeadlineTimers(v1::RobotItem& item, const v1::EventEnvelope& event,
                       const PipelineSet& config) {
  const v1::Activity& activity = item.state().activity();
  const v1::Pipeline* pipeline = config.Find(item.created_by().pipeline_id());
  const v1::Robot* creator = FindRobot(pipeline, item.created_by().robot_id());
  if (creator == nullptr || pipeline->removed()) return;
  for (const auto& robot : pipeline->robots()) {
    if (!robot.has_after_deadline() ||
        robot.after_deadline().activity_robot_id() != creator->robot_id() ||
        robot.stage_id() != creator->stage_id()) {
      continue;
    }
    const auto& timers = item.timers();
    if (std::any_of(timers.begin(), timers.end(),
                    [&](const v1::RobotTimer& t) { return t.robot_id() == robot.robot_id(); })) {
      continue;
    }
    ArmTimer(item, robot,
             MakeCause(pipeline->pipeline_id(), event, activity.owner(), event.occur_time()),
             activity.deadline() + robot.after_deadline().offset(), "", activity.owner());
  }
}

std::vector<v1::Command> ActivityEvent(v1::RobotItem& item, const v1::EventEnvelope& event,
                                       const PipelineSet& config) {
  std::vector<v1::Command> out;
  const v1::Activity& activity = item.state().activity();
  if (event.has_activity_planned() && event.has_robot() && event.robot().trigger_id().empty()) {
    *item.mutable_created_by() = event.robot();
    ArmDeadlineTimers(item, event, config);
  } else if (event.has_activity_rescheduled()) {
    const auto shift =
        event.activity_rescheduled().to_deadline() - event.activity_rescheduled().from_deadline();
    for (auto& timer : *item.mutable_timers()) {
      *timer.mutable_due_time() = timer.due_time() + shift;
      *timer.mutable_cause()->mutable_due_time() = timer.due_time();
    }
    // "Call again later" after a reminder went out: the new deadline gets
    // its own reminder (caused by this event, so with ids of its own).
    if (item.has_created_by()) ArmDeadlineTimers(item, event, config);
  } else if (event.has_activity_completed()) {
    item.clear_timers();
    auto owner = ParseResourceName(activity.owner(), "owner");
    if (!owner.ok()) return out;
    if (owner->first == "lead") {
      TriggerCommands(config.lead(), v1::TRIGGER_EVENT_ACTIVITY_COMPLETED, "", event, "lead",
                      owner->second, out);
    } else {
      // The deal's pipeline is kept with the deal, not here: each deal
      // pipeline's trigger is sent, and a deal ignores a forward move to a
      // stage not of its pipeline.
      for (const auto& [id, pipeline] : config.all()) {
        if (pipeline.kind() != v1::PIPELINE_KIND_DEAL) continue;
        TriggerCommands(pipeline, v1::TRIGGER_EVENT_ACTIVITY_COMPLETED, "", event, "deal",
                        owner->second, out);
      }
    }
  }
  return out;
}

}  // namespace

bool RobotsWatch(absl::string_view aggregate_type) {
  return aggregate_type == "lead" || aggregate_type == "deal" || aggregate_type == "activity";
}

std::vector<v1::Command> RobotsOnEvent(v1::RobotItem& item, const v1::EventEnvelope& event,
                                       const PipelineSet& config, TeamQueues& teams) {
  std::vector<v1::Command> out;
  if (!RobotsWatch(event.aggregate_type())) return out;
  if (event.aggregate_version() <= VersionOf(item.state())) return out;
  const std::string before = StageOf(item.state());
  *item.mutable_state() = Evolve(std::move(*item.mutable_state()), event);
  if (event.aggregate_type() == "activity") return ActivityEvent(item, event, config);
  const v1::AggregateState& state = item.state();
  const std::string id = IdOf(state);
  if (event.has_communication_recorded()) {
    const auto& channel_event = event.communication_recorded().channel_event();
    if (channel_event.has_call() && !channel_event.call().operator_id().empty() &&
        (channel_event.call().kind() == v1::CALL_KIND_INCOMING ||
         channel_event.call().kind() == v1::CALL_KIND_OUTGOING)) {
      item.set_call_operator_id(channel_event.call().operator_id());
    }
    TriggerCommands(config.lead(), TriggerOf(channel_event), FormIdOf(channel_event), event, "lead",
                    id, out);
  }
  const std::string after = StageOf(state);
  if (after == before || after.empty()) return out;
  item.set_entry_event_id(event.event_id());
  *item.mutable_entry_time() = event.occur_time();
  // Delayed robots of the stage left behind do not run.
  RemoveTimers(item, [](const v1::RobotTimer& timer) { return !timer.entry_event_id().empty(); });
  const v1::Pipeline* pipeline = PipelineOf(state, config);
  if (pipeline == nullptr || pipeline->removed() || BeforeRules(event, *pipeline)) return out;
  std::string responsible = ResponsibleOf(state);
  // The item as the robots before each one left it: an assignment is seen
  // by the conditions of the robots after it.
  v1::AggregateState view = state;
  const std::string name = ResourceName(event.aggregate_type(), id);
  for (const auto& robot : pipeline->robots()) {
    if (robot.stage_id() != after || robot.has_after_deadline()) continue;
    v1::RobotCause cause = MakeCause(pipeline->pipeline_id(), event, name, event.occur_time());
    cause.set_robot_id(robot.robot_id());
    if (robot.has_delay() && TimeUtil::DurationToMilliseconds(robot.delay()) > 0) {
      ArmTimer(item, robot, std::move(cause), event.occur_time() + robot.delay(), event.event_id(),
               "");
      continue;
    }
    if (!ConditionsHold(view, robot.conditions())) continue;
    ActionCommands(robot, item, cause, teams, responsible, out);
    if (view.has_lead()) view.mutable_lead()->set_responsible_id(responsible);
    if (view.has_deal()) view.mutable_deal()->set_responsible_id(responsible);
  }
  return out;
}

std::vector<v1::Command> RobotsOnTimer(v1::RobotItem& item, absl::string_view timer_id,
                                       const PipelineSet& config, TeamQueues& teams) {
  std::vector<v1::Command> out;
  auto* timers = item.mutable_timers();
  auto found = std::find_if(timers->begin(), timers->end(),
                            [&](const v1::RobotTimer& t) { return t.timer_id() == timer_id; });
  if (found == timers->end()) return out;
  const v1::RobotTimer timer = *found;
  timers->erase(found);
  const v1::Pipeline* pipeline = config.Find(timer.pipeline_id());
  const v1::Robot* robot = FindRobot(pipeline, timer.robot_id());
  if (robot == nullptr || pipeline->removed()) return out;
  v1::RobotCause cause = timer.cause();
  cause.set_robot_id(robot->robot_id());
  if (!timer.owner().empty()) {
    if (item.state().has_activity()) DeadlineCommands(*robot, item, cause, out);
    return out;
  }
  if (timer.entry_event_id() != item.entry_event_id() ||
      StageOf(item.state()) != robot->stage_id() ||
      !ConditionsHold(item.state(), robot->conditions())) {
    return out;
  }
  std::string responsible = ResponsibleOf(item.state());
  ActionCommands(*robot, item, cause, teams, responsible, out);
  return out;
}

std::string DescribeRobotCommand(const v1::Command& command) {
  const std::string item = command.robot().item();
  switch (command.command_case()) {
    case v1::Command::kAssignLead:
      return absl::StrCat("assign ", item, " to ", command.assign_lead().responsible_id());
    case v1::Command::kUpdateDeal:
      return absl::StrCat("assign ", item, " to ", command.update_deal().deal().responsible_id());
    case v1::Command::kPlanActivity: {
      const auto& activity = command.plan_activity().activity();
      return absl::StrCat("plan activity ", command.aggregate_id(), " on ", item, " for ",
                          activity.responsible_id(), " due ",
                          TimeUtil::ToString(activity.deadline()), ": ", activity.subject());
    }
    case v1::Command::kNotifyAboutLead:
    case v1::Command::kNotifyAboutDeal: {
      const auto& notify = command.has_notify_about_lead() ? command.notify_about_lead()
                                                           : command.notify_about_deal();
      return absl::StrCat(notify.activity_id().empty() ? "notify " : "remind ", notify.user_id(),
                          notify.priority() ? " (priority)" : "", " about ", item, ": ",
                          notify.text());
    }
    case v1::Command::kChangeLeadStatus:
      return absl::StrCat("move ", item, " to ", command.change_lead_status().status_id(),
                          command.change_lead_status().only_forward() ? " (if forward)" : "");
    case v1::Command::kMoveDeal:
      return absl::StrCat("move deals/", command.aggregate_id(), " to ",
                          command.move_deal().stage_id(),
                          command.move_deal().only_forward() ? " (if forward)" : "");
    case v1::Command::kConvertLead: {
      const auto& convert = command.convert_lead();
      return absl::StrCat(
          "convert ", item, " into pipeline ",
          convert.deal_pipeline_id().empty() ? "default" : convert.deal_pipeline_id(),
          convert.responsible_id().empty() ? "" : absl::StrCat(" for ", convert.responsible_id()));
    }
    case v1::Command::kSendLeadMessage: {
      const auto& send = command.send_lead_message();
      return absl::StrCat(
          "send ", send.channel() == v1::MESSAGE_CHANNEL_SMS ? "SMS" : "email", " to ", item,
          send.template_id().empty() ? "" : absl::StrCat(" (", send.template_id(), ")"),
          send.subject().empty() ? "" : absl::StrCat(": ", send.subject()));
    }
    default:
      return absl::StrCat(AggregateTypeOf(command), " command on ", command.aggregate_id());
  }
}

PipelineSet WithAccessTeams(PipelineSet pipelines, const v1::AccessPolicy& policy) {
  // A team reference holds no members of its own (ValidateRobots).
  if (policy.teams().empty()) return pipelines;
  bool touched = false;
  auto resolve = [&policy, &touched](v1::TeamPick* pick) {
    if (pick->team().empty()) return;
    touched = true;
    pick->clear_members();
    for (const v1::AccessTeam& team : policy.teams()) {
      if (team.team_id() == pick->team()) *pick->mutable_members() = team.members();
    }
  };
  std::vector<v1::Pipeline> changed;
  for (const auto& [id, pipeline] : pipelines.all()) {
    if (pipeline.robots().empty()) continue;
    v1::Pipeline copy = pipeline;
    touched = false;
    for (v1::Robot& robot : *copy.mutable_robots()) {
      v1::RobotAction* action = robot.mutable_action();
      if (action->has_assign()) {
        v1::AssignAction* assign = action->mutable_assign();
        if (assign->has_team()) resolve(assign->mutable_team());
        if (assign->has_by_field()) {
          for (auto& [value, team] : *assign->mutable_by_field()->mutable_teams()) resolve(&team);
          if (assign->by_field().has_otherwise()) {
            resolve(assign->mutable_by_field()->mutable_otherwise());
          }
        }
      }
      if (action->has_convert() && action->convert().has_responsible()) {
        resolve(action->mutable_convert()->mutable_responsible());
      }
    }
    if (touched) changed.push_back(std::move(copy));
  }
  for (v1::Pipeline& pipeline : changed) pipelines.Put(std::move(pipeline));
  return pipelines;
}

}  // namespace leadflow::domain
