// Robots and triggers in the pure domain: what runs on entering a stage,
// timers and their cancellation, after_deadline reminders, triggers that
// move only forward, conditions, team picks, validation and the dry run.

#include "leadflow/domain/robots.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/domain/aggregate.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/pipelines.h"
#include "support/channel_events.h"
#include "support/proto_time.h"

namespace leadflow::domain {
namespace {

using testing::At;
using testing::Secs;

constexpr int64_t kStart = 1700000000;

v1::Robot MakeRobot(const std::string& id, const std::string& stage) {
  v1::Robot robot;
  robot.set_robot_id(id);
  robot.set_stage_id(stage);
  return robot;
}

// The default lead statuses (NEW, IN_PROCESS, PROCESSED, CONVERTED, JUNK)
// with the seed robots on NEW.
DomainConfig SeedConfig() {
  v1::Pipeline lead = DefaultLeadPipeline();
  v1::Robot assign = MakeRobot("assign", "NEW");
  assign.mutable_action()->mutable_assign()->set_call_operator(true);
  *lead.add_robots() = assign;
  v1::Robot task = MakeRobot("task", "NEW");
  auto* create = task.mutable_action()->mutable_create_activity();
  create->set_subject("Call {{name}} back");
  create->set_description("Help: https://help.example.com ({{item}})");
  *create->mutable_deadline_in() = Secs(60);
  *lead.add_robots() = task;
  v1::Robot remind = MakeRobot("remind", "NEW");
  remind.mutable_after_deadline()->set_activity_robot_id("task");
  remind.mutable_action()->mutable_remind()->set_priority(true);
  *lead.add_robots() = remind;
  v1::Robot repeat = MakeRobot("repeat", "NEW");
  auto* condition = repeat.add_conditions();
  condition->set_field("repeat");
  condition->set_op(v1::CONDITION_OPERATOR_EQUALS);
  condition->add_values("true");
  repeat.mutable_action()->mutable_notify()->set_text("Client is back");
  repeat.mutable_action()->mutable_notify()->set_priority(true);
  *lead.add_robots() = repeat;
  v1::Robot later = MakeRobot("later", "IN_PROCESS");
  *later.mutable_delay() = Secs(600);
  later.mutable_action()->mutable_send_message()->set_channel(v1::MESSAGE_CHANNEL_SMS);
  later.mutable_action()->mutable_send_message()->set_body("Still interested, {{name}}?");
  *lead.add_robots() = later;
  v1::Trigger missed;
  missed.set_trigger_id("missed");
  missed.set_on(v1::TRIGGER_EVENT_CALL_MISSED);
  missed.set_stage_id("PROCESSED");
  *lead.add_triggers() = missed;
  REQUIRE(ValidatePipeline(lead).ok());
  DomainConfig config;
  config.pipelines.Put(lead);
  return config;
}

// Turns and loads a test can see.
class FakeTeams final : public TeamQueues {
 public:
  std::string NextInTurn(absl::string_view queue,
                         const google::protobuf::RepeatedPtrField<std::string>& members) override {
    return members.Get(static_cast<int>(turns[std::string(queue)]++ % members.size()));
  }
  std::string LeastLoaded(absl::string_view /*queue*/,
                          const google::protobuf::RepeatedPtrField<std::string>& members) override {
    const std::string* best = &members.Get(0);
    for (const auto& m : members) {
      if (load[m] < load[*best]) best = &m;
    }
    return *best;
  }
  std::map<std::string, int64_t> turns;
  std::map<std::string, int64_t> load;
};

// Items, decided and folded, with their robot views.
struct World {
  DomainConfig config = SeedConfig();
  FakeTeams teams;
  std::map<std::string, v1::RobotItem> items;
  int seq = 0;

  // Decides `command` and feeds its events to the robots: what they issue.
  std::vector<v1::Command> Run(v1::Command command) {
    const std::string key = absl::StrCat(AggregateTypeOf(command), "/", command.aggregate_id());
    v1::RobotItem& item = items[key];
    const v1::AggregateState* current = VersionOf(item.state()) == 0 ? nullptr : &item.state();
    auto events = Decide(current, command, config);
    INFO(events.status().ToString());
    REQUIRE(events.ok());
    std::vector<v1::Command> issued;
    for (const auto& event : *events) {
      for (auto& c : RobotsOnEvent(items[key], event, config.pipelines, teams)) {
        issued.push_back(std::move(c));
      }
    }
    return issued;
  }

  v1::Command Cmd(const std::string& aggregate_id, int64_t at) {
    v1::Command command;
    command.set_command_id(absl::StrCat("cmd-", ++seq));
    command.set_aggregate_id(aggregate_id);
    command.set_actor("alice");
    *command.mutable_issue_time() = At(at);
    return command;
  }

  std::vector<v1::Command> CallIn(const std::string& lead_id, const std::string& operator_id,
                                  v1::CallKind kind = v1::CALL_KIND_INCOMING) {
    v1::Command command = Cmd(lead_id, kStart);
    auto* create = command.mutable_create_lead();
    create->mutable_lead()->set_first_name("Ivan");
    create->mutable_lead()->add_phones()->set_number("+74951234567");
    if (kind == v1::CALL_KIND_INCOMING) create->mutable_lead()->set_responsible_id(operator_id);
    (*create->mutable_lead()->mutable_source_details())["operator_id"] = operator_id;
    *create->mutable_origin() =
        testing::CallEvent("c-" + lead_id, "+74951234567", operator_id, kind);
    return Run(command);
  }

  std::vector<v1::Command> Move(const std::string& lead_id, const std::string& status, int64_t at) {
    v1::Command command = Cmd(lead_id, at);
    command.mutable_change_lead_status()->set_status_id(status);
    return Run(command);
  }
};

const v1::Command* Find(const std::vector<v1::Command>& commands, v1::Command::CommandCase what) {
  for (const auto& c : commands) {
    if (c.command_case() == what) return &c;
  }
  return nullptr;
}

TEST_CASE("entering a status runs its robots: the task for the responsible, conditions checked") {
  World world;
  auto issued = world.CallIn("l1", "op-7");
  // The operator is responsible already: the task is theirs; not a repeat
  // lead, so nobody is notified.
  const v1::Command* plan = Find(issued, v1::Command::kPlanActivity);
  REQUIRE(plan != nullptr);
  const auto& activity = plan->plan_activity().activity();
  CHECK(activity.responsible_id() == "op-7");
  CHECK(activity.subject() == "Call Ivan back");
  CHECK(activity.description() == "Help: https://help.example.com (leads/l1)");
  CHECK(activity.owner() == "leads/l1");
  CHECK(activity.deadline().seconds() == kStart + 60);
  CHECK(plan->robot().robot_id() == "task");
  CHECK(plan->robot().item() == "leads/l1");
  CHECK(plan->robot().cause_event_type() == "leadflow.v1.LeadCreated");
  CHECK(plan->causation_id() == plan->robot().cause_event_id());
  CHECK(Find(issued, v1::Command::kNotifyAboutLead) == nullptr);

  // Ids derive from cause and rule: the same event again gives the same
  // ids; a replayed event (one the item has) gives nothing.
  World again;
  auto reissued = again.CallIn("l1", "op-7");
  REQUIRE(reissued.size() == issued.size());
  for (size_t i = 0; i < issued.size(); ++i) {
    CHECK(reissued[i].command_id() == issued[i].command_id());
    CHECK(SerializeDeterministic(reissued[i]) == SerializeDeterministic(issued[i]));
  }
  v1::EventEnvelope created;
  created.set_aggregate_type("lead");
  created.set_aggregate_id("l1");
  created.set_aggregate_version(1);
  CHECK(
      RobotsOnEvent(world.items["lead/l1"], created, world.config.pipelines, world.teams).empty());
}

TEST_CASE("a repeat lead's responsible is told with priority") {
  World world;
  v1::Command command = world.Cmd("l2", kStart);
  auto* create = command.mutable_create_lead();
  create->mutable_lead()->set_title("Back again");
  create->mutable_client()->set_contact_id("anna");
  create->mutable_client()->set_responsible_id("mgr-1");
  create->mutable_client()->set_matched_on("phone");
  auto issued = world.Run(command);
  const v1::Command* notify = Find(issued, v1::Command::kNotifyAboutLead);
  REQUIRE(notify != nullptr);
  CHECK(notify->notify_about_lead().user_id() == "mgr-1");
  CHECK(notify->notify_about_lead().priority());
  CHECK(notify->notify_about_lead().text() == "Client is back");
}

TEST_CASE("a delayed robot waits in a timer and runs only if the item is still there") {
  World world;
  world.CallIn("l3", "op-1");
  world.CallIn("l4", "op-1");
  CHECK(world.Move("l3", "IN_PROCESS", kStart + 10).empty());
  world.Move("l4", "IN_PROCESS", kStart + 10);
  v1::RobotItem& waiting = world.items["lead/l3"];
  REQUIRE(waiting.timers_size() == 1);
  const v1::RobotTimer timer = waiting.timers(0);
  CHECK(timer.due_time().seconds() == kStart + 610);

  auto fired = RobotsOnTimer(waiting, timer.timer_id(), world.config.pipelines, world.teams);
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].send_lead_message().body() == "Still interested, Ivan?");
  // Its time is when it was due, however late it fires.
  CHECK(fired[0].issue_time().seconds() == kStart + 610);
  CHECK(waiting.timers().empty());
  CHECK(RobotsOnTimer(waiting, timer.timer_id(), world.config.pipelines, world.teams).empty());

  // l4 moves on before the delay is over: its timer is dropped.
  world.Move("l4", "PROCESSED", kStart + 20);
  CHECK(world.items["lead/l4"].timers().empty());
}

TEST_CASE("an after_deadline robot waits with the activity and follows its deadline") {
  World world;
  auto issued = world.CallIn("l5", "op-2");
  const v1::Command* plan = Find(issued, v1::Command::kPlanActivity);
  REQUIRE(plan != nullptr);
  world.Run(*plan);
  const std::string key = "activity/" + plan->aggregate_id();
  REQUIRE(world.items[key].timers_size() == 1);
  CHECK(world.items[key].timers(0).due_time().seconds() == kStart + 60);
  CHECK(world.items[key].timers(0).owner() == "leads/l5");

  // "Call again later": the reminder moves with the deadline.
  v1::Command reschedule = world.Cmd(plan->aggregate_id(), kStart + 30);
  *reschedule.mutable_reschedule_activity()->mutable_deadline() = At(kStart + 3600);
  reschedule.mutable_reschedule_activity()->set_reason("asked to call after lunch");
  world.Run(reschedule);
  REQUIRE(world.items[key].timers_size() == 1);
  const v1::RobotTimer timer = world.items[key].timers(0);
  CHECK(timer.due_time().seconds() == kStart + 3600);

  v1::RobotItem copy = world.items[key];
  auto fired = RobotsOnTimer(copy, timer.timer_id(), world.config.pipelines, world.teams);
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].aggregate_id() == "l5");
  CHECK(fired[0].notify_about_lead().user_id() == "op-2");
  CHECK(fired[0].notify_about_lead().activity_id() == plan->aggregate_id());
  CHECK(fired[0].notify_about_lead().text() == "Overdue: Call Ivan back (leads/l5)");
  CHECK(fired[0].notify_about_lead().priority());
  CHECK(fired[0].robot().robot_id() == "remind");

  // Reminded, then "call again later": the new deadline gets a reminder of
  // its own (another cause, so other ids).
  world.items[key] = copy;
  CHECK(world.items[key].timers().empty());
  v1::Command later = world.Cmd(plan->aggregate_id(), kStart + 3700);
  *later.mutable_reschedule_activity()->mutable_deadline() = At(kStart + 7200);
  later.mutable_reschedule_activity()->set_reason("not reached");
  world.Run(later);
  REQUIRE(world.items[key].timers_size() == 1);
  CHECK(world.items[key].timers(0).due_time().seconds() == kStart + 7200);
  CHECK(world.items[key].timers(0).timer_id() != timer.timer_id());
  v1::RobotItem second = world.items[key];
  auto again =
      RobotsOnTimer(second, second.timers(0).timer_id(), world.config.pipelines, world.teams);
  REQUIRE(again.size() == 1);
  CHECK(again[0].command_id() != fired[0].command_id());

  // Done in time: no reminder is left.
  v1::Command complete = world.Cmd(plan->aggregate_id(), kStart + 40);
  complete.mutable_complete_activity()->set_result("reached");
  world.Run(complete);
  CHECK(world.items[key].timers().empty());
}

TEST_CASE("a trigger moves its item forward only") {
  World world;
  world.CallIn("l6", "op-1");
  v1::Command missed = world.Cmd("l6", kStart + 5);
  *missed.mutable_record_communication()->mutable_channel_event() =
      testing::CallEvent("c-missed", "+74951234567", "", v1::CALL_KIND_MISSED);
  auto issued = world.Run(missed);
  const v1::Command* move = Find(issued, v1::Command::kChangeLeadStatus);
  REQUIRE(move != nullptr);
  CHECK(move->change_lead_status().status_id() == "PROCESSED");
  CHECK(move->change_lead_status().only_forward());
  CHECK(move->robot().trigger_id() == "missed");
  world.Run(*move);
  CHECK(world.items["lead/l6"].state().lead().status_id() == "PROCESSED");

  // From a later status the same move changes nothing and refuses nothing.
  v1::Command backwards = *move;
  backwards.set_command_id("again");
  backwards.mutable_change_lead_status()->set_status_id("IN_PROCESS");
  auto events = Decide(&world.items["lead/l6"].state(), backwards, world.config);
  REQUIRE(events.ok());
  CHECK(events->empty());
  // An email is not a missed call: nothing moves.
  v1::Command email = world.Cmd("l6", kStart + 6);
  *email.mutable_record_communication()->mutable_channel_event() =
      testing::EmailEvent("m-1", "ivan@example.org");
  CHECK(world.Run(email).empty());
}

TEST_CASE("a form submitted and an activity completed move the lead by trigger") {
  World world;
  v1::Pipeline lead = world.config.pipelines.lead();
  v1::Trigger form;
  form.set_trigger_id("price-form");
  form.set_on(v1::TRIGGER_EVENT_FORM_SUBMITTED);
  form.set_form_id("price");
  form.set_stage_id("IN_PROCESS");
  *lead.add_triggers() = form;
  v1::Trigger done;
  done.set_trigger_id("task-done");
  done.set_on(v1::TRIGGER_EVENT_ACTIVITY_COMPLETED);
  done.set_stage_id("PROCESSED");
  *lead.add_triggers() = done;
  REQUIRE(ValidatePipeline(lead).ok());
  world.config.pipelines.Put(lead);

  auto issued = world.CallIn("f1", "op-1");
  const v1::Command* plan = Find(issued, v1::Command::kPlanActivity);
  REQUIRE(plan != nullptr);
  world.Run(*plan);
  // Another form than the one named: nothing.
  v1::Command other = world.Cmd("f1", kStart + 5);
  *other.mutable_record_communication()->mutable_channel_event() =
      testing::FormEvent("form-1", "+74951234567", "");
  other.mutable_record_communication()->mutable_channel_event()->mutable_web_form()->set_form_id(
      "newsletter");
  CHECK(world.Run(other).empty());
  v1::Command price = world.Cmd("f1", kStart + 6);
  *price.mutable_record_communication()->mutable_channel_event() =
      testing::FormEvent("form-2", "+74951234567", "");
  price.mutable_record_communication()->mutable_channel_event()->mutable_web_form()->set_form_id(
      "price");
  auto moved = world.Run(price);
  REQUIRE(moved.size() == 1);
  CHECK(moved[0].robot().trigger_id() == "price-form");
  world.Run(moved[0]);
  CHECK(world.items["lead/f1"].state().lead().status_id() == "IN_PROCESS");

  v1::Command complete = world.Cmd(plan->aggregate_id(), kStart + 30);
  complete.mutable_complete_activity()->set_result("qualified");
  auto after_task = world.Run(complete);
  const v1::Command* next = Find(after_task, v1::Command::kChangeLeadStatus);
  REQUIRE(next != nullptr);
  CHECK(next->aggregate_id() == "f1");
  CHECK(next->robot().trigger_id() == "task-done");
  CHECK(next->robot().item() == "leads/f1");
  world.Run(*next);
  CHECK(world.items["lead/f1"].state().lead().status_id() == "PROCESSED");
}

TEST_CASE("conditions compare fields, enums, amounts and custom fields") {
  v1::AggregateState state;
  v1::Lead* lead = state.mutable_lead();
  lead->set_source(v1::LEAD_SOURCE_WEB_FORM);
  lead->mutable_opportunity()->set_currency_code("RUB");
  lead->mutable_opportunity()->set_amount_minor(150050);
  (*lead->mutable_custom_fields())["product"] = "tiles";
  lead->set_responsible_id("op-1");
  auto holds = [&](const std::string& field, v1::ConditionOperator op,
                   std::vector<std::string> values) {
    google::protobuf::RepeatedPtrField<v1::RobotCondition> conditions;
    auto* c = conditions.Add();
    c->set_field(field);
    c->set_op(op);
    for (auto& v : values) c->add_values(v);
    DomainConfig config;
    v1::Pipeline pipeline = DefaultLeadPipeline();
    v1::Robot robot = MakeRobot("r", "NEW");
    *robot.mutable_conditions() = conditions;
    robot.mutable_action()->mutable_notify()->set_text("x");
    *pipeline.add_robots() = robot;
    config.pipelines.Put(pipeline);
    v1::RobotItem item;
    v1::EventEnvelope created;
    created.set_event_id("e1");
    created.set_aggregate_type("lead");
    created.set_aggregate_id("c1");
    created.set_aggregate_version(1);
    *created.mutable_lead_created()->mutable_lead() = *lead;
    created.mutable_lead_created()->mutable_lead()->set_status_id("NEW");
    created.mutable_lead_created()->mutable_lead()->set_lead_id("c1");
    FakeTeams teams;
    return !RobotsOnEvent(item, created, config.pipelines, teams).empty();
  };
  using Op = v1::ConditionOperator;
  CHECK(holds("source", Op::CONDITION_OPERATOR_EQUALS, {"WEB_FORM"}));
  CHECK(holds("source", Op::CONDITION_OPERATOR_EQUALS, {"web_form"}));
  CHECK(holds("source", Op::CONDITION_OPERATOR_IN, {"CALL", "WEB_FORM"}));
  CHECK_FALSE(holds("source", Op::CONDITION_OPERATOR_NOT_IN, {"CALL", "WEB_FORM"}));
  CHECK(holds("opportunity", Op::CONDITION_OPERATOR_GREATER, {"1500"}));
  CHECK_FALSE(holds("opportunity", Op::CONDITION_OPERATOR_LESS_OR_EQUAL, {"1500.49"}));
  CHECK(holds("currency", Op::CONDITION_OPERATOR_EQUALS, {"RUB"}));
  CHECK(holds("custom_fields.product", Op::CONDITION_OPERATOR_EQUALS, {"tiles"}));
  CHECK(holds("custom_fields.size", Op::CONDITION_OPERATOR_EMPTY, {}));
  CHECK(holds("repeat", Op::CONDITION_OPERATOR_EQUALS, {"false"}));
  CHECK(holds("responsible_id", Op::CONDITION_OPERATOR_NOT_EQUALS, {"op-2"}));
  CHECK(holds("phones", Op::CONDITION_OPERATOR_EMPTY, {}));
  CHECK(holds("title", Op::CONDITION_OPERATOR_EMPTY, {}));
}

TEST_CASE("teams: round robin in turn, least loaded, by a field") {
  World world;
  v1::Pipeline lead = DefaultLeadPipeline();
  v1::Robot assign = MakeRobot("route", "NEW");
  auto* map = assign.mutable_action()->mutable_assign()->mutable_by_field();
  map->set_field("custom_fields.kind");
  auto& wholesale = (*map->mutable_teams())["wholesale"];
  wholesale.add_members("w-1");
  wholesale.add_members("w-2");
  wholesale.set_rule(v1::TEAM_PICK_RULE_ROUND_ROBIN);
  map->mutable_otherwise()->add_members("r-1");
  map->mutable_otherwise()->add_members("r-2");
  map->mutable_otherwise()->set_rule(v1::TEAM_PICK_RULE_LEAST_LOADED);
  *lead.add_robots() = assign;
  REQUIRE(ValidatePipeline(lead).ok());
  world.config.pipelines.Put(lead);
  world.teams.load = {{"r-1", 5}, {"r-2", 2}};
  std::vector<std::string> assigned;
  for (int i = 0; i < 4; ++i) {
    v1::Command command = world.Cmd(absl::StrCat("t", i), kStart);
    command.mutable_create_lead()->mutable_lead()->set_title("x");
    if (i < 3)
      (*command.mutable_create_lead()->mutable_lead()->mutable_custom_fields())["kind"] =
          "wholesale";
    auto issued = world.Run(command);
    REQUIRE(issued.size() == 1);
    assigned.push_back(issued[0].assign_lead().responsible_id());
  }
  CHECK(assigned == std::vector<std::string>{"w-1", "w-2", "w-1", "r-2"});
}

TEST_CASE(
    "rules configured after an event do not act on it; an assignment is seen by the next robot") {
  World world;
  v1::Pipeline lead = DefaultLeadPipeline();
  v1::Robot assign = MakeRobot("assign", "NEW");
  assign.mutable_action()->mutable_assign()->set_user_id("boss");
  *lead.add_robots() = assign;
  v1::Robot tell = MakeRobot("tell-boss", "NEW");
  auto* condition = tell.add_conditions();
  condition->set_field("responsible_id");
  condition->set_op(v1::CONDITION_OPERATOR_EQUALS);
  condition->add_values("boss");
  tell.mutable_action()->mutable_notify()->set_text("yours");
  *lead.add_robots() = tell;
  *lead.mutable_configure_time() = At(kStart + 100);
  world.config.pipelines.Put(lead);
  v1::Command old_event = world.Cmd("before", kStart + 50);
  old_event.mutable_create_lead()->mutable_lead()->set_title("read late");
  CHECK(world.Run(old_event).empty());
  v1::Command new_event = world.Cmd("after", kStart + 150);
  new_event.mutable_create_lead()->mutable_lead()->set_title("on time");
  auto issued = world.Run(new_event);
  REQUIRE(issued.size() == 2);
  CHECK(issued[1].notify_about_lead().user_id() == "boss");
}

TEST_CASE("a deal trigger moves only the deals of its own pipeline") {
  DomainConfig config;
  v1::Pipeline services = DefaultDealPipeline();
  services.set_pipeline_id("services");
  config.pipelines.Put(services);
  v1::AggregateState deal;
  deal.mutable_deal()->set_deal_id("d1");
  deal.mutable_deal()->set_pipeline_id("default");
  deal.mutable_deal()->set_stage_id("NEW");
  deal.mutable_deal()->set_version(1);
  v1::Command move;
  move.set_command_id("m1");
  move.set_aggregate_id("d1");
  move.mutable_move_deal()->set_stage_id("EXECUTING");
  move.mutable_move_deal()->set_only_forward(true);
  move.mutable_robot()->set_pipeline_id("services");
  move.mutable_robot()->set_trigger_id("done");
  auto events = Decide(&deal, move, config);
  REQUIRE(events.ok());
  CHECK(events->empty());
  move.mutable_robot()->set_pipeline_id("default");
  events = Decide(&deal, move, config);
  REQUIRE(events.ok());
  CHECK(events->size() == 1);
}

TEST_CASE("a robot's team may be a team of the access policy, with its members as they are") {
  World world;
  v1::Pipeline lead = DefaultLeadPipeline();
  v1::Robot assign = MakeRobot("route", "NEW");
  assign.mutable_action()->mutable_assign()->mutable_team()->set_team("services");
  *lead.add_robots() = assign;
  REQUIRE(ValidatePipeline(lead).ok());
  world.config.pipelines.Put(lead);
  v1::AccessPolicy policy;
  v1::AccessTeam* team = policy.add_teams();
  team->set_team_id("services");
  team->add_members("olga");
  team->add_members("ivan");
  const PipelineSet configured = world.config.pipelines;
  world.config.pipelines = WithAccessTeams(configured, policy);
  std::vector<std::string> assigned;
  for (int i = 0; i < 3; ++i) {
    v1::Command command = world.Cmd(absl::StrCat("a", i), kStart);
    command.mutable_create_lead()->mutable_lead()->set_title("x");
    auto issued = world.Run(command);
    REQUIRE(issued.size() == 1);
    assigned.push_back(issued[0].assign_lead().responsible_id());
  }
  CHECK(assigned == std::vector<std::string>{"olga", "ivan", "olga"});
  // A team the policy does not have picks nobody.
  team->set_team_id("other");
  world.config.pipelines = WithAccessTeams(configured, policy);
  v1::Command command = world.Cmd("a-none", kStart);
  command.mutable_create_lead()->mutable_lead()->set_title("x");
  const auto none = world.Run(command);
  CHECK((none.empty() || none[0].assign_lead().responsible_id().empty()));
}

TEST_CASE("robot configurations are checked, naming the field") {
  auto refusal = [](v1::Robot robot) {
    v1::Pipeline lead = DefaultLeadPipeline();
    *lead.add_robots() = std::move(robot);
    return FieldOf(ValidatePipeline(lead));
  };
  v1::Robot ok = MakeRobot("r", "NEW");
  ok.mutable_action()->mutable_notify()->set_text("hi");
  v1::Robot bad = ok;
  bad.set_stage_id("NOPE");
  CHECK(refusal(bad) == "pipeline.robots[0].stage_id");
  bad = ok;
  bad.set_robot_id("Bad Id");
  CHECK(refusal(bad) == "pipeline.robots[0].robot_id");
  bad = ok;
  bad.clear_action();
  CHECK(refusal(bad) == "pipeline.robots[0].action");
  bad = ok;
  bad.mutable_after_deadline()->set_activity_robot_id("missing");
  CHECK(refusal(bad) == "pipeline.robots[0].after_deadline.activity_robot_id");
  bad = ok;
  bad.mutable_action()->mutable_remind();
  CHECK(refusal(bad) == "pipeline.robots[0].action");
  bad = ok;
  bad.mutable_action()->mutable_assign()->mutable_team()->set_team("services");
  bad.mutable_action()->mutable_assign()->mutable_team()->add_members("olga");
  CHECK(refusal(bad) == "pipeline.robots[0].action.assign.team.team");
  bad.mutable_action()->mutable_assign()->mutable_team()->clear_members();
  bad.mutable_action()->mutable_assign()->mutable_team()->set_team("no spaces");
  CHECK(refusal(bad) == "pipeline.robots[0].action.assign.team.team");
  bad = ok;
  auto* c = bad.add_conditions();
  c->set_field("no_such_field");
  c->set_op(v1::CONDITION_OPERATOR_EQUALS);
  c->add_values("1");
  CHECK(refusal(bad) == "pipeline.robots[0].conditions[0].field");
  bad = ok;
  bad.mutable_action()->mutable_change_stage()->set_stage_id("CONVERTED");
  CHECK(refusal(bad) == "pipeline.robots[0].action.change_stage.stage_id");
  bad = ok;
  bad.mutable_action()->mutable_create_activity()->set_subject("x");
  CHECK(refusal(bad) == "pipeline.robots[0].action.create_activity.deadline_in");
  bad = ok;
  bad.mutable_action()->mutable_assign()->mutable_team();
  CHECK(refusal(bad) == "pipeline.robots[0].action.assign.team.members");

  {
    v1::Pipeline lead = DefaultLeadPipeline();
    v1::Robot forth = MakeRobot("forth", "NEW");
    forth.mutable_action()->mutable_change_stage()->set_stage_id("IN_PROCESS");
    v1::Robot back = MakeRobot("back", "IN_PROCESS");
    *back.mutable_delay() = Secs(3600);
    back.mutable_action()->mutable_change_stage()->set_stage_id("NEW");
    *lead.add_robots() = forth;
    *lead.add_robots() = back;
    const absl::Status circle = ValidatePipeline(lead);
    CHECK(FieldOf(circle) == "pipeline.robots[0].action.change_stage");
    CHECK(circle.message().find("IN_PROCESS → NEW → IN_PROCESS") != absl::string_view::npos);
  }
  bad = ok;
  auto* list = bad.add_conditions();
  list->set_field("phones");
  list->set_op(v1::CONDITION_OPERATOR_EQUALS);
  list->add_values("+7");
  CHECK(refusal(bad) == "pipeline.robots[0].conditions[0].op");

  v1::Pipeline deal = DefaultDealPipeline();
  v1::Trigger trigger;
  trigger.set_trigger_id("t");
  trigger.set_on(v1::TRIGGER_EVENT_EMAIL_RECEIVED);
  trigger.set_stage_id("NEW");
  *deal.add_triggers() = trigger;
  CHECK(FieldOf(ValidatePipeline(deal)) == "pipeline.triggers[0].on");
  v1::Robot convert = MakeRobot("c", "NEW");
  convert.mutable_action()->mutable_convert();
  deal.clear_triggers();
  *deal.add_robots() = convert;
  CHECK(FieldOf(ValidatePipeline(deal)) == "pipeline.robots[0].action.convert");
}

TEST_CASE("the dry run replays events and runs what the proposed robots set off") {
  // A recorded log: a call's lead created and, a minute and a half later,
  // moved on by hand; an event the old automation caused.
  World recorded;
  recorded.config = DomainConfig();  // no robots when it was recorded
  std::vector<v1::EventEnvelope> log;
  auto record = [&](v1::Command command) {
    const std::string key = absl::StrCat(AggregateTypeOf(command), "/", command.aggregate_id());
    v1::RobotItem& item = recorded.items[key];
    auto events =
        Decide(VersionOf(item.state()) == 0 ? nullptr : &item.state(), command, recorded.config);
    REQUIRE(events.ok());
    for (const auto& e : *events) {
      *item.mutable_state() = Evolve(std::move(*item.mutable_state()), e);
      log.push_back(e);
    }
  };
  v1::Command create = recorded.Cmd("d1", kStart);
  create.mutable_create_lead()->mutable_lead()->set_first_name("Olga");
  create.mutable_create_lead()->mutable_lead()->add_phones()->set_number("+74957654321");
  create.mutable_create_lead()->mutable_lead()->set_responsible_id("op-5");
  record(create);
  v1::Command by_old_robot = recorded.Cmd("d1", kStart + 1);
  by_old_robot.mutable_assign_lead()->set_responsible_id("someone-else");
  by_old_robot.mutable_robot()->set_robot_id("old");
  record(by_old_robot);
  v1::Command move = recorded.Cmd("d1", kStart + 90);
  move.mutable_change_lead_status()->set_status_id("IN_PROCESS");
  record(move);

  RobotDryRun dry_run(SeedConfig(), [](absl::string_view) { return 0; });
  for (const auto& e : log) dry_run.Replay(e);
  dry_run.Finish(FromTimestamp(At(kStart + 3600)));
  std::vector<std::string> summaries;
  for (const auto& run : dry_run.runs()) {
    if (run.changes) summaries.push_back(run.summary);
  }
  // The task at once; its reminder at the deadline (the lead moved on, the
  // task is still open); the IN_PROCESS robot's SMS ten minutes after the
  // move. The old robot's assignment is not replayed: the task is op-5's.
  REQUIRE(summaries.size() == 3);
  CHECK(summaries[0].rfind("plan activity act-", 0) == 0);
  CHECK(summaries[0].find("for op-5 due") != std::string::npos);
  CHECK(summaries[1] ==
        "remind op-5 (priority) about leads/d1: Overdue: Call Olga back (leads/d1)");
  CHECK(summaries[2] == "send SMS to leads/d1");
  CHECK(FromTimestamp(dry_run.runs().back().command.issue_time()) ==
        FromTimestamp(At(kStart + 690)));
}

}  // namespace
}  // namespace leadflow::domain
