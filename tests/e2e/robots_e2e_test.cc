// Robots and triggers through the real binary, one test case per seed
// scenario: the call-back task and its overdue reminder, the repeat
// customer's priority notification, the hand-over to the services team, the
// missed-call trigger, timers that come due while the server is SIGKILLed,
// the dry run of a changed rule set against the live run of it, and, on the
// Kafka dev broker, timers taken over from a SIGKILLed instance. Time is
// the server's --clock-file: nothing sleeps for a robot's delay, and no
// check waits a fixed time for something not to happen: it reads the
// stream up to a marker that comes after whatever it looks for (see
// Server::FollowUpsSoFar), and every stream read checks how it ended.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/base/derived_id.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "support/channel_events.h"
#include "support/intake_scenario.h"
#include "support/pipeline_client.h"
#include "support/proto_time.h"
#include "support/server_process.h"

namespace leadflow {
namespace {

using testing::Deadline;
using testing::Secs;
using testing::ServerProcess;
using testing::TempDir;

constexpr auto kInProgress = v1::STATUS_SEMANTIC_IN_PROGRESS;

v1::PipelineStage Stage(const std::string& id, v1::StatusSemantic semantic) {
  v1::PipelineStage stage;
  stage.set_stage_id(id);
  stage.set_title(id);
  stage.set_semantic(semantic);
  return stage;
}

v1::Robot MakeRobot(const std::string& id, const std::string& stage) {
  v1::Robot robot;
  robot.set_robot_id(id);
  robot.set_title(id);
  robot.set_stage_id(stage);
  return robot;
}

// The first/second-line lead statuses with the seed robots: the operator who
// answered is responsible and gets a one-minute call-back task, reminded
// when it is overdue; a repeat client's responsible is told with priority;
// "Hand over — services" converts into the services pipeline for a member
// of the services team; a missed call moves the lead to CALL_BACK.
v1::Pipeline SeedLeadPipeline(bool with_robots = true) {
  v1::Pipeline lead;
  lead.set_pipeline_id("lead");
  lead.set_kind(v1::PIPELINE_KIND_LEAD);
  lead.set_title("Leads");
  for (const char* id : {"NEW", "IN_PROCESS", "CALL_BACK", "HANDOVER_SERVICES"}) {
    *lead.add_stages() = Stage(id, kInProgress);
  }
  *lead.add_stages() = Stage("CONVERTED", v1::STATUS_SEMANTIC_SUCCESS);
  *lead.add_stages() = Stage("JUNK", v1::STATUS_SEMANTIC_FAILURE);
  if (!with_robots) return lead;

  v1::Robot assign = MakeRobot("assign-operator", "NEW");
  assign.mutable_action()->mutable_assign()->set_call_operator(true);
  *lead.add_robots() = assign;

  v1::Robot task = MakeRobot("call-back-task", "NEW");
  auto* create = task.mutable_action()->mutable_create_activity();
  create->set_type(v1::ACTIVITY_TYPE_CALL);
  create->set_subject("Contact {{title}} within 1 minute");
  create->set_description(
      "Qualify and fill the required fields: https://help.example.com/leads/qualify");
  *create->mutable_deadline_in() = Secs(60);
  *lead.add_robots() = task;

  v1::Robot remind = MakeRobot("call-back-overdue", "NEW");
  remind.mutable_after_deadline()->set_activity_robot_id("call-back-task");
  remind.mutable_action()->mutable_remind()->set_text("Overdue: {{activity}}");
  remind.mutable_action()->mutable_remind()->set_priority(true);
  *lead.add_robots() = remind;

  v1::Robot repeat = MakeRobot("repeat-priority", "NEW");
  auto* condition = repeat.add_conditions();
  condition->set_field("repeat");
  condition->set_op(v1::CONDITION_OPERATOR_EQUALS);
  condition->add_values("true");
  repeat.mutable_action()->mutable_notify()->set_text("Repeat client is back: {{title}}");
  repeat.mutable_action()->mutable_notify()->set_priority(true);
  *lead.add_robots() = repeat;

  v1::Robot handover = MakeRobot("to-services", "HANDOVER_SERVICES");
  auto* convert = handover.mutable_action()->mutable_convert();
  convert->set_deal_pipeline_id("services");
  convert->mutable_responsible()->add_members("svc-1");
  convert->mutable_responsible()->add_members("svc-2");
  convert->mutable_responsible()->set_rule(v1::TEAM_PICK_RULE_ROUND_ROBIN);
  *lead.add_robots() = handover;

  v1::Trigger missed;
  missed.set_trigger_id("missed-call");
  missed.set_on(v1::TRIGGER_EVENT_CALL_MISSED);
  missed.set_stage_id("CALL_BACK");
  *lead.add_triggers() = missed;
  return lead;
}

v1::Pipeline ServicesPipeline() {
  v1::Pipeline services;
  services.set_pipeline_id("services");
  services.set_kind(v1::PIPELINE_KIND_DEAL);
  services.set_title("Services");
  *services.add_stages() = Stage("NEW", kInProgress);
  *services.add_stages() = Stage("EXECUTING", kInProgress);
  *services.add_stages() = Stage("WON", v1::STATUS_SEMANTIC_SUCCESS);
  *services.add_stages() = Stage("LOSE", v1::STATUS_SEMANTIC_FAILURE);
  return services;
}

// The tests' markers, a deal pipeline of their own: a deal made in PING
// notifies "marker" at once (as the robot processor reads its creation), one
// made in PING_LATER a second after it was made (by a timer).
v1::Pipeline MarkerPipeline() {
  v1::Pipeline markers;
  markers.set_pipeline_id("markers");
  markers.set_kind(v1::PIPELINE_KIND_DEAL);
  markers.set_title("Markers");
  *markers.add_stages() = Stage("PING", kInProgress);
  *markers.add_stages() = Stage("PING_LATER", kInProgress);
  *markers.add_stages() = Stage("DONE", v1::STATUS_SEMANTIC_SUCCESS);
  *markers.add_stages() = Stage("DROPPED", v1::STATUS_SEMANTIC_FAILURE);
  v1::Robot ping = MakeRobot("ping", "PING");
  ping.mutable_action()->mutable_notify()->set_user_id("marker");
  ping.mutable_action()->mutable_notify()->set_text("marker");
  *markers.add_robots() = ping;
  v1::Robot later = MakeRobot("ping-later", "PING_LATER");
  *later.mutable_delay() = Secs(1);
  later.mutable_action()->mutable_notify()->set_user_id("marker");
  later.mutable_action()->mutable_notify()->set_text("marker");
  *markers.add_robots() = later;
  return markers;
}

// One partition per topic: each topic is then one sequence, which the
// markers need (see Server::FollowUpsSoFar).
const std::vector<std::string> kOnePartition = {"--partitions", "1"};

constexpr absl::string_view kEventsTopic = "leadflow.events.v1";

// Reads a server stream, opened by `open` on a context with a deadline
// `timeout` away, until `enough` holds of the message just read; then
// cancels it and returns every message read. The streams follow the log
// until the client cancels, so a stream that ends any other way (an error,
// the server closing it, the deadline) fails the test with its status: a
// broken subscription is never taken for "nothing came".
template <typename Message, typename Open, typename Enough>
std::vector<Message> ReadUntil(Open open, Enough enough, int timeout_seconds = 30) {
  auto context = Deadline(timeout_seconds);
  std::unique_ptr<grpc::ClientReader<Message>> reader = open(context.get());
  std::vector<Message> read;
  Message message;
  while (reader->Read(&message)) {
    read.push_back(message);
    if (!enough(read.back())) continue;
    context->TryCancel();
    while (reader->Read(&message)) {
    }
    const grpc::Status status = reader->Finish();
    INFO(status.error_message());
    CHECK(status.error_code() == grpc::StatusCode::CANCELLED);
    return read;
  }
  const grpc::Status status = reader->Finish();
  FAIL("the stream ended after " << read.size() << " messages without what was awaited: status "
                                 << static_cast<int>(status.error_code()) << " "
                                 << status.error_message());
  return read;
}

// Sets a --clock-file (atomically: the server reads it at any time).
absl::Time WriteClock(const std::string& file, const std::string& rfc3339) {
  std::ofstream(file + ".tmp") << rfc3339 << "\n";
  std::rename((file + ".tmp").c_str(), file.c_str());
  absl::Time t;
  std::string error;
  REQUIRE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &error));
  return t;
}

std::vector<std::string> ServerArgs(const std::string& clock_file,
                                    const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"--clock-file", clock_file};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// A leadflowd whose clock is a file the test moves.
struct Server {
  explicit Server(const std::vector<std::string>& extra_args = {},
                  const std::string& start = "2026-11-23T09:00:00Z")
      : clock_file(dir.Sub("now")), server(dir.Sub("data"), ServerArgs(clock_file, extra_args)) {
    SetClock(start);
    Connect();
  }

  void Connect() {
    server.Start();
    ConnectStubs();
  }

  // After server.Start(): the server listens on a new port.
  void ConnectStubs() {
    channel = server.Channel();
    intake = v1::IntakeService::NewStub(channel);
    leads = v1::LeadService::NewStub(channel);
    crm = v1::CrmService::NewStub(channel);
    pipelines = v1::PipelineService::NewStub(channel);
    events = v1::EventService::NewStub(channel);
  }

  void SetClock(const std::string& rfc3339) { now = WriteClock(clock_file, rfc3339); }
  void Advance(absl::Duration d) {
    SetClock(absl::FormatTime(absl::RFC3339_full, now + d, absl::UTCTimeZone()));
  }

  void Apply(std::vector<v1::Pipeline> list) {
    testing::ApplyPipelines(*pipelines, std::move(list));
  }

  void Publish(const v1::ChannelEvent& event) {
    v1::PublishChannelEventRequest request;
    *request.mutable_event() = event;
    v1::PublishChannelEventResponse response;
    auto status = intake->PublishChannelEvent(Deadline().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
  }

  std::optional<v1::Lead> GetLead(const std::string& id) {
    v1::GetLeadRequest request;
    request.set_name("leads/" + id);
    v1::Lead lead;
    if (!leads->GetLead(Deadline().get(), request, &lead).ok()) return std::nullopt;
    return lead;
  }

  // Waits until the lead exists and `ready` holds of it.
  v1::Lead AwaitLead(const std::string& id,
                     const std::function<bool(const v1::Lead&)>& ready = nullptr) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      auto lead = GetLead(id);
      if (lead.has_value() && (ready == nullptr || ready(*lead))) return *lead;
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL("lead " << id
                 << " never got there: " << (GetLead(id) ? GetLead(id)->DebugString() : "none"));
    return {};
  }

  std::vector<v1::Activity> ActivitiesOf(const std::string& owner) {
    v1::ListItemsRequest request;
    request.set_owner(owner);
    request.set_page_size(100);
    v1::ListActivitiesResponse response;
    auto status = crm->ListActivities(Deadline().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return {response.activities().begin(), response.activities().end()};
  }

  // Waits until `owner` has an activity; returns its activities.
  std::vector<v1::Activity> AwaitActivities(const std::string& owner) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      auto activities = ActivitiesOf(owner);
      if (!activities.empty()) return activities;
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL(owner << " never got an activity");
    return {};
  }

  // Reads the follow-ups topic from its start until `last` holds of the
  // follow-up just read; returns every follow-up read.
  std::vector<v1::SubscribedFollowUp> FollowUpsUntil(
      const std::function<bool(const v1::SubscribedFollowUp&)>& last) {
    return ReadUntil<v1::SubscribedFollowUp>(
        [&](grpc::ClientContext* context) { return events->SubscribeFollowUps(context, {}); },
        last);
  }

  // Waits until `count` follow-ups match `wanted`; returns them.
  std::vector<v1::SubscribedFollowUp> AwaitFollowUps(
      const std::function<bool(const v1::SubscribedFollowUp&)>& wanted, size_t count = 1) {
    std::vector<v1::SubscribedFollowUp> matching;
    FollowUpsUntil([&](const v1::SubscribedFollowUp& f) {
      if (wanted(f)) matching.push_back(f);
      return matching.size() >= count;
    });
    return matching;
  }

  // Makes a deal in `stage` of MarkerPipeline(); returns its name, the
  // item of the notification its robot sends.
  std::string MakeMarker(const std::string& stage) {
    v1::CreateDealRequest create;
    create.set_deal_id(absl::StrCat("marker-", ++markers_made));
    create.mutable_deal()->set_title("marker");
    create.mutable_deal()->set_pipeline_id("markers");
    create.set_stage_id(stage);
    v1::ItemCommandResponse created;
    auto status = crm->CreateDeal(Deadline().get(), create, &created);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return "deals/" + create.deal_id();
  }

  // Every follow-up so far, read up to the notification of a marker made
  // now. On a server with kOnePartition each topic is one sequence: the
  // robots read the marker's creation after every event logged before it,
  // the marker's notify command follows every command they issued for
  // those events or for timers run before it, and its notification
  // follows what those commands caused. So what the robots did on an event
  // logged before the marker (or on a timer run before it) is read here
  // or was not done, and the marker coming proves the subscription live.
  std::vector<v1::SubscribedFollowUp> FollowUpsSoFar() {
    const std::string marker = MakeMarker("PING");
    auto read = FollowUpsUntil(
        [&](const v1::SubscribedFollowUp& f) { return f.follow_up().item() == marker; });
    read.pop_back();  // the marker's
    return read;
  }

  // Moves the clock by `d` (at least a second) and waits until the robots
  // have run their timers at the new time: a marker's timer, due a second
  // after the old time, fires. With kOnePartition every timer due by the
  // new time fires in the same unit as the marker's, or before (they are
  // run in due order), so FollowUpsSoFar() after this sees what they did.
  void AdvanceAndRunTimers(absl::Duration d) {
    REQUIRE(d >= absl::Seconds(1));
    const std::string marker = MakeMarker("PING_LATER");
    Advance(d);
    FollowUpsUntil([&](const v1::SubscribedFollowUp& f) { return f.follow_up().item() == marker; });
  }

  // Every event on the log so far: read until each partition's end offset
  // as the server reports it now (the embedded log's offsets have no gaps),
  // which also proves the stream live.
  std::vector<v1::EventEnvelope> Events() {
    v1::ServerStatus status;
    REQUIRE(
        v1::AdminService::NewStub(channel)->GetServerStatus(Deadline().get(), {}, &status).ok());
    std::map<int32_t, int64_t> ends;
    for (const auto& row : status.processors()) {
      if (row.topic() != kEventsTopic || row.end_offset() == 0) continue;
      ends[row.partition()] = std::max(ends[row.partition()], row.end_offset());
    }
    REQUIRE_FALSE(ends.empty());
    size_t partitions_left = ends.size();
    std::vector<v1::EventEnvelope> out;
    ReadUntil<v1::SubscribedEvent>(
        [&](grpc::ClientContext* context) { return events->SubscribeEvents(context, {}); },
        [&](const v1::SubscribedEvent& event) {
          out.push_back(event.event());
          auto end = ends.find(event.position().partition());
          if (end != ends.end() && event.position().offset() == end->second - 1) {
            --partitions_left;
          }
          return partitions_left == 0;
        });
    return out;
  }

  TempDir dir;
  std::string clock_file;
  absl::Time now;
  ServerProcess server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::IntakeService::Stub> intake;
  std::unique_ptr<v1::LeadService::Stub> leads;
  std::unique_ptr<v1::CrmService::Stub> crm;
  std::unique_ptr<v1::PipelineService::Stub> pipelines;
  std::unique_ptr<v1::EventService::Stub> events;
  int markers_made = 0;
};

std::string LeadIdOf(const v1::ChannelEvent& event) { return DeriveId("ld", event.id()); }

bool IsReminderFor(const v1::SubscribedFollowUp& f, const std::string& lead_id) {
  return f.headers().at("ce_type") == "leadflow.followup.v1.Reminder" &&
         f.follow_up().item() == "leads/" + lead_id;
}

TEST_CASE("an incoming call gets its operator a one-minute call-back task, reminded when overdue") {
  Server s(kOnePartition);
  s.Apply({SeedLeadPipeline(), ServicesPipeline(), MarkerPipeline()});

  const v1::ChannelEvent call = testing::CallEvent("pbx-call-1", "+7 495 123-45-67", "op-7");
  s.Publish(call);
  const std::string lead_id = LeadIdOf(call);
  const v1::Lead lead = s.AwaitLead(lead_id);
  CHECK(lead.responsible_id() == "op-7");

  // The task, for the operator, due a minute after the call.
  const std::vector<v1::Activity> tasks = s.AwaitActivities("leads/" + lead_id);
  REQUIRE(tasks.size() == 1);
  CHECK(tasks[0].responsible_id() == "op-7");
  CHECK(tasks[0].type() == v1::ACTIVITY_TYPE_CALL);
  CHECK(tasks[0].subject() == "Contact " + lead.title() + " within 1 minute");
  CHECK(tasks[0].description().find("https://help.example.com") != std::string::npos);
  CHECK(FromTimestamp(tasks[0].deadline()) == s.now + absl::Seconds(60));

  // A second call whose task is done in time: no reminder for it.
  const v1::ChannelEvent handled = testing::CallEvent("pbx-call-2", "+7 495 765-43-21", "op-8");
  s.Publish(handled);
  const std::string handled_id = LeadIdOf(handled);
  s.AwaitLead(handled_id);
  const std::vector<v1::Activity> handled_tasks = s.AwaitActivities("leads/" + handled_id);
  v1::CompleteActivityRequest complete;
  complete.set_name(handled_tasks[0].name());
  complete.set_result("called back, qualified");
  v1::ItemCommandResponse completed;
  REQUIRE(s.crm->CompleteActivity(Deadline().get(), complete, &completed).ok());

  // Within the minute nothing is overdue.
  s.AdvanceAndRunTimers(absl::Seconds(30));
  for (const auto& f : s.FollowUpsSoFar()) {
    CHECK(f.headers().at("ce_type") != "leadflow.followup.v1.Reminder");
  }

  // The minute passes undone: the operator is reminded, with priority,
  // once; the operator who did the task is not.
  s.AdvanceAndRunTimers(absl::Seconds(31));
  std::vector<v1::SubscribedFollowUp> reminders;
  for (auto& f : s.FollowUpsSoFar()) {
    CHECK_FALSE(IsReminderFor(f, handled_id));
    if (IsReminderFor(f, lead_id)) reminders.push_back(std::move(f));
  }
  REQUIRE(reminders.size() == 1);
  const v1::FollowUp& reminder = reminders[0].follow_up();
  CHECK(reminder.notification().user_id() == "op-7");
  CHECK(reminder.notification().priority());
  CHECK(reminder.notification().activity_id() == tasks[0].activity_id());
  CHECK(reminder.notification().text() == "Overdue: " + tasks[0].subject());
  CHECK(reminder.robot().robot_id() == "call-back-overdue");
  CHECK(reminders[0].headers().at("ce_id") == reminder.followup_id());
  CHECK(reminders[0].headers().at("ce_source") == "leadflow/lead");
  CHECK(reminders[0].headers().count("ce_specversion") == 1);

  // Every robot action is on the event log with its cause: the rule and the
  // event that set it off.
  std::string lead_created;
  std::set<std::string> robots_seen;
  for (const auto& event : s.Events()) {
    if (event.aggregate_id() == lead_id && event.has_lead_created())
      lead_created = event.event_id();
    if (event.has_robot() && event.robot().item() == "leads/" + lead_id) {
      robots_seen.insert(event.robot().robot_id());
      if (event.has_activity_planned()) {
        CHECK(event.robot().cause_event_id() == lead_created);
        CHECK(event.robot().cause_event_type() == "leadflow.v1.LeadCreated");
      }
    }
  }
  CHECK(robots_seen == std::set<std::string>{"call-back-task", "call-back-overdue"});
}

TEST_CASE("a repeat customer's request notifies its responsible with priority") {
  Server s(kOnePartition);
  s.Apply({SeedLeadPipeline(), ServicesPipeline(), MarkerPipeline()});
  v1::CreateContactRequest create;
  create.mutable_contact()->set_first_name("Anna");
  create.mutable_contact()->add_emails()->set_address("anna@client.example");
  create.mutable_contact()->set_responsible_id("mgr-1");
  create.set_contact_id("anna");
  v1::ItemCommandResponse created;
  auto status = s.crm->CreateContact(Deadline().get(), create, &created);
  INFO(status.error_message());
  REQUIRE(status.ok());

  const v1::ChannelEvent back = testing::EmailEvent("mail-1", "anna@client.example", "Again");
  const v1::ChannelEvent fresh = testing::EmailEvent("mail-2", "new@person.example", "Hello");
  s.Publish(back);
  s.Publish(fresh);
  const v1::Lead repeat = s.AwaitLead(LeadIdOf(back));
  CHECK(repeat.repeat());
  CHECK(repeat.responsible_id() == "mgr-1");

  auto told = s.AwaitFollowUps(
      [&](const auto& f) { return f.follow_up().robot().robot_id() == "repeat-priority"; });
  CHECK(told[0].headers().at("ce_type") == "leadflow.followup.v1.Notification");
  CHECK(told[0].follow_up().item() == "leads/" + LeadIdOf(back));
  CHECK(told[0].follow_up().notification().user_id() == "mgr-1");
  CHECK(told[0].follow_up().notification().priority());
  CHECK(told[0].follow_up().notification().text() == "Repeat client is back: " + repeat.title());
  // The new person's lead (created, so read by the robots before the
  // marker) tells nobody.
  s.AwaitLead(LeadIdOf(fresh));
  for (const auto& f : s.FollowUpsSoFar()) {
    if (f.follow_up().robot().robot_id() == "repeat-priority") {
      CHECK(f.follow_up().item() != "leads/" + LeadIdOf(fresh));
    }
  }
}

TEST_CASE("hand over to services: a contact and a deal in the services pipeline for the team") {
  Server s;
  s.Apply({SeedLeadPipeline(), ServicesPipeline()});
  std::set<std::string> responsibles;
  for (int i = 0; i < 4; ++i) {
    v1::CreateLeadRequest create;
    create.set_lead_id(absl::StrCat("first-line-", i));
    create.mutable_lead()->set_first_name(absl::StrCat("Client", i));
    create.mutable_lead()->add_phones()->set_number(absl::StrCat("+7 495 000-00-1", i));
    create.mutable_lead()->set_responsible_id("first-line-user");
    v1::LeadCommandResponse response;
    REQUIRE(s.leads->CreateLead(Deadline().get(), create, &response).ok());
    v1::ChangeLeadStatusRequest move;
    move.set_name(absl::StrCat("leads/first-line-", i));
    move.set_status_id("HANDOVER_SERVICES");
    move.set_actor("first-line-user");
    auto moved = s.leads->ChangeLeadStatus(Deadline().get(), move, &response);
    INFO(moved.error_message());
    REQUIRE(moved.ok());

    const v1::Lead lead = s.AwaitLead(absl::StrCat("first-line-", i), [](const v1::Lead& l) {
      return l.status_semantic() == v1::STATUS_SEMANTIC_SUCCESS;
    });
    CHECK(lead.status_id() == "CONVERTED");
    REQUIRE_FALSE(lead.deal_id().empty());
    REQUIRE_FALSE(lead.contact_id().empty());
    v1::GetItemRequest get;
    get.set_name("deals/" + lead.deal_id());
    v1::Deal deal;
    absl::Time limit = absl::Now() + absl::Seconds(30);
    while (!s.crm->GetDeal(Deadline().get(), get, &deal).ok() && absl::Now() < limit) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    CHECK(deal.pipeline_id() == "services");
    CHECK(deal.stage_id() == "NEW");
    CHECK(deal.contact_id() == lead.contact_id());
    CHECK(deal.source_lead_id() == lead.lead_id());
    responsibles.insert(deal.responsible_id());
    get.set_name("contacts/" + lead.contact_id());
    v1::Contact contact;
    REQUIRE(s.crm->GetContact(Deadline().get(), get, &contact).ok());
    CHECK(contact.first_name() == absl::StrCat("Client", i));
  }
  // Picked from the services team only (in turn per partition).
  for (const auto& r : responsibles) CHECK((r == "svc-1" || r == "svc-2"));
}

TEST_CASE("a missed call moves its lead to the configured status by trigger") {
  Server s;
  s.Apply({SeedLeadPipeline(), ServicesPipeline()});
  const v1::ChannelEvent first = testing::CallEvent("pbx-10", "+7 495 111-22-33", "op-1");
  s.Publish(first);
  const std::string lead_id = LeadIdOf(first);
  CHECK(s.AwaitLead(lead_id).status_id() == "NEW");

  s.Advance(absl::Seconds(5));
  s.Publish(testing::CallEvent("pbx-11", "+7 495 111-22-33", "", v1::CALL_KIND_MISSED));
  const v1::Lead moved =
      s.AwaitLead(lead_id, [](const v1::Lead& l) { return l.status_id() == "CALL_BACK"; });
  CHECK(moved.communication_count() == 2);
  bool by_trigger = false;
  for (const auto& event : s.Events()) {
    if (event.aggregate_id() == lead_id && event.has_lead_status_changed()) {
      by_trigger = event.robot().trigger_id() == "missed-call" &&
                   event.lead_status_changed().to_status_id() == "CALL_BACK";
    }
  }
  CHECK(by_trigger);

  // A trigger moves forward only: a lead handed over further on stays.
  v1::ChangeLeadStatusRequest back;
  back.set_name("leads/" + lead_id);
  back.set_status_id("IN_PROCESS");
  v1::LeadCommandResponse response;
  REQUIRE(s.leads->ChangeLeadStatus(Deadline().get(), back, &response).ok());
  s.Publish(testing::CallEvent("pbx-12", "+7 495 111-22-33", "", v1::CALL_KIND_MISSED));
  s.AwaitLead(lead_id, [](const v1::Lead& l) { return l.status_id() == "CALL_BACK"; });
}

TEST_CASE("timers due while the server was SIGKILLed fire once after the restart") {
  Server s(kOnePartition);
  v1::Pipeline lead = SeedLeadPipeline();
  v1::Robot sms = MakeRobot("in-process-sms", "IN_PROCESS");
  *sms.mutable_delay() = Secs(600);
  auto* send = sms.mutable_action()->mutable_send_message();
  send->set_channel(v1::MESSAGE_CHANNEL_SMS);
  send->set_template_id("still-interested");
  send->set_body("Are you still interested, {{name}}?");
  *lead.add_robots() = sms;
  s.Apply({lead, ServicesPipeline(), MarkerPipeline()});

  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    const v1::ChannelEvent call =
        testing::CallEvent(absl::StrCat("pbx-k", i), absl::StrCat("+7 495 200-00-0", i), "op-3");
    s.Publish(call);
    ids.push_back(LeadIdOf(call));
  }
  for (const auto& id : ids) {
    s.AwaitLead(id);
    v1::ChangeLeadStatusRequest move;
    move.set_name("leads/" + id);
    move.set_status_id("IN_PROCESS");
    v1::LeadCommandResponse response;
    REQUIRE(s.leads->ChangeLeadStatus(Deadline().get(), move, &response).ok());
  }
  // The call-back tasks exist before the server goes down.
  for (const auto& id : ids) s.AwaitActivities("leads/" + id);
  REQUIRE(testing::WaitUntilIdle(s.channel));

  s.server.Kill();
  const absl::Time killed_at = s.now;
  s.Advance(absl::Minutes(11));  // past every reminder and every SMS
  s.server.Start();
  s.ConnectStubs();

  const auto reminder_or_sms = [&](const v1::SubscribedFollowUp& f) {
    return f.headers().at("ce_type") == "leadflow.followup.v1.Reminder" ||
           f.headers().at("ce_type") == "leadflow.followup.v1.Sms";
  };
  s.AwaitFollowUps(reminder_or_sms, 2 * ids.size());
  // Restarted once more (gracefully), nothing fires again: neither a timer
  // the restart restores (it would fire with the marker's timer or before)
  // nor an event read again.
  REQUIRE(s.server.Stop() == 0);
  s.server.Start();
  s.ConnectStubs();
  s.AdvanceAndRunTimers(absl::Seconds(1));
  const std::vector<v1::SubscribedFollowUp> follow_ups = s.FollowUpsSoFar();
  std::map<std::string, int> per_item;
  for (const auto& f : follow_ups) {
    if (reminder_or_sms(f)) ++per_item[f.follow_up().item() + " " + f.headers().at("ce_type")];
  }
  CHECK(per_item.size() == 2 * ids.size());
  for (const auto& [item, count] : per_item) {
    INFO(item);
    CHECK(count == 1);
  }
  for (const auto& f : follow_ups) {
    if (f.headers().at("ce_type") != "leadflow.followup.v1.Sms") continue;
    CHECK(f.follow_up().message().template_id() == "still-interested");
    CHECK(f.follow_up().message().to().rfind("+7495200000", 0) == 0);
    CHECK(FromTimestamp(f.follow_up().robot().due_time()) > killed_at);
  }
}

// "rule item cause-event due-time" of what robots did or would do.
using RuleRun = std::string;

std::string RuleOf(const v1::RobotCause& cause) {
  return cause.pipeline_id() + "/" +
         (cause.trigger_id().empty() ? cause.robot_id() : "trigger:" + cause.trigger_id());
}

RuleRun RunOf(const v1::RobotCause& cause) {
  return absl::StrCat(RuleOf(cause), " ", cause.item(), " ", cause.cause_event_id(), " ",
                      absl::FormatTime(FromTimestamp(cause.due_time())));
}

// The same traffic at the same clock times: calls answered and missed, an
// email, a hand-over, one task done in time.
void Traffic(Server& s) {
  s.Publish(testing::CallEvent("dr-1", "+7 495 300-00-01", "op-1"));
  s.Advance(absl::Seconds(2));
  s.Publish(testing::CallEvent("dr-2", "+7 495 300-00-02", "op-2"));
  s.Advance(absl::Seconds(2));
  s.Publish(testing::CallEvent("dr-3", "+7 495 300-00-03", "", v1::CALL_KIND_MISSED));
  s.Advance(absl::Seconds(2));
  s.Publish(testing::EmailEvent("dr-4", "someone@example.org", "Price list?"));
  s.Advance(absl::Seconds(2));
  s.Publish(testing::CallEvent("dr-5", "+7 495 300-00-01", "", v1::CALL_KIND_MISSED));
  for (const char* id : {"dr-1", "dr-2", "dr-3", "dr-4"}) s.AwaitLead(DeriveId("ld", id));
  REQUIRE(testing::WaitUntilIdle(s.channel));
  s.Advance(absl::Seconds(2));
  v1::ChangeLeadStatusRequest move;
  move.set_name("leads/" + DeriveId("ld", "dr-2"));
  move.set_status_id("HANDOVER_SERVICES");
  // Ids derive from the request id: both runs see the same events.
  move.set_request_id("handover-dr-2");
  v1::LeadCommandResponse response;
  REQUIRE(s.leads->ChangeLeadStatus(Deadline().get(), move, &response).ok());
  s.Advance(absl::Seconds(2));
  REQUIRE(testing::WaitUntilIdle(s.channel));
  s.Advance(absl::Minutes(5));
}

TEST_CASE("the dry run of a changed rule set lists exactly what its live run then does") {
  // Recorded with yesterday's automation: only the operator assignment.
  Server recorded;
  v1::Pipeline old_rules = SeedLeadPipeline(false);
  v1::Robot assign = MakeRobot("assign-operator", "NEW");
  assign.mutable_action()->mutable_assign()->set_call_operator(true);
  *old_rules.add_robots() = assign;
  recorded.Apply({old_rules, ServicesPipeline()});
  Traffic(recorded);

  // The proposed rules: the seed robots, plus an email robot.
  v1::Pipeline proposed = SeedLeadPipeline();
  v1::Robot welcome = MakeRobot("welcome-email", "NEW");
  auto* condition = welcome.add_conditions();
  condition->set_field("source");
  condition->set_op(v1::CONDITION_OPERATOR_IN);
  condition->add_values("EMAIL");
  condition->add_values("WEB_FORM");
  auto* send = welcome.mutable_action()->mutable_send_message();
  send->set_channel(v1::MESSAGE_CHANNEL_EMAIL);
  send->set_subject("We got your message");
  send->set_body("Hello {{name}}, we will call you back.");
  *proposed.add_robots() = welcome;

  v1::DryRunRobotsRequest dry;
  *dry.add_pipelines() = proposed;
  *dry.add_pipelines() = ServicesPipeline();
  *dry.mutable_until() = ToTimestamp(recorded.now);
  v1::DryRunRobotsResponse planned;
  auto status = recorded.pipelines->DryRunRobots(Deadline(60).get(), dry, &planned);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(planned.events_read() > 10);
  CHECK(planned.runs_total() == planned.runs_size());
  std::set<RuleRun> dry_runs;
  std::set<std::string> rules;
  int refused = 0;
  for (const auto& run : planned.runs()) {
    INFO(run.summary());
    if (!run.refused().empty()) {
      // The missed call and the email have nobody responsible to give the
      // task to: the dry run says so, as the live run's outcome will.
      CHECK(run.command().has_plan_activity());
      CHECK(run.command().plan_activity().activity().responsible_id().empty());
      CHECK(run.refused().find("responsible_id") != std::string::npos);
      ++refused;
      continue;
    }
    dry_runs.insert(RunOf(run.cause()));
    rules.insert(RuleOf(run.cause()));
  }
  CHECK(refused == 2);
  // Every kind of rule that changes something fired somewhere: tasks and
  // their overdue reminders, the hand-over, the missed-call trigger, the
  // email. (The operator is already responsible for a call's lead: that
  // assignment changes nothing and is not listed.)
  CHECK(rules == std::set<std::string>{"lead/call-back-task", "lead/call-back-overdue",
                                       "lead/to-services", "lead/trigger:missed-call",
                                       "lead/welcome-email"});
  // Nothing was written: the recorded log has no robot's event of these.
  // (Commands the dry run wrote would have made their events by the time
  // the server is idle, and Events() reads up to the log's end.)
  REQUIRE(testing::WaitUntilIdle(recorded.channel));
  for (const auto& event : recorded.Events()) {
    if (event.has_robot()) CHECK(event.robot().robot_id() == "assign-operator");
  }

  // The live run of the same rules on the same traffic.
  Server live;
  live.Apply({proposed, ServicesPipeline()});
  Traffic(live);
  REQUIRE(live.now == recorded.now);
  REQUIRE(testing::WaitUntilIdle(live.channel));
  std::set<RuleRun> live_runs;
  const absl::Time limit = absl::Now() + absl::Seconds(30);
  while (absl::Now() < limit) {
    live_runs.clear();
    for (const auto& event : live.Events()) {
      if (event.has_robot()) live_runs.insert(RunOf(event.robot()));
    }
    if (live_runs.size() >= dry_runs.size()) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  CHECK(live_runs == dry_runs);

  // And what they did is what the dry run said: the tasks (same ids, for
  // the same people, due at the same time) and the conversion's deal for
  // the member whose turn it was.
  int compared = 0;
  for (const auto& run : planned.runs()) {
    if (!run.refused().empty()) continue;
    const v1::Command& command = run.command();
    if (command.has_plan_activity()) {
      v1::GetItemRequest get;
      get.set_name("activities/" + command.aggregate_id());
      v1::Activity activity;
      auto got = live.crm->GetActivity(Deadline().get(), get, &activity);
      INFO(run.summary());
      REQUIRE(got.ok());
      CHECK(activity.responsible_id() == command.plan_activity().activity().responsible_id());
      CHECK(activity.subject() == command.plan_activity().activity().subject());
      CHECK(FromTimestamp(activity.deadline()) ==
            FromTimestamp(command.plan_activity().activity().deadline()));
      ++compared;
    } else if (command.has_convert_lead()) {
      const v1::Lead lead = live.AwaitLead(command.aggregate_id(),
                                           [](const v1::Lead& l) { return !l.deal_id().empty(); });
      v1::GetItemRequest get;
      get.set_name("deals/" + lead.deal_id());
      v1::Deal deal;
      REQUIRE(live.crm->GetDeal(Deadline().get(), get, &deal).ok());
      CHECK(deal.pipeline_id() == "services");
      CHECK(deal.responsible_id() == command.convert_lead().responsible_id());
      ++compared;
    }
  }
  CHECK(compared >= 3);
}

// The partitions of the robot processor that `channel`'s instance owns.
std::set<int32_t> OwnedRobotPartitions(const std::shared_ptr<grpc::Channel>& channel) {
  v1::ServerStatus status;
  REQUIRE(v1::AdminService::NewStub(channel)->GetServerStatus(Deadline().get(), {}, &status).ok());
  std::set<int32_t> owned;
  for (const auto& row : status.processors()) {
    if (row.processor() == "robots" && row.owned()) owned.insert(row.partition());
  }
  return owned;
}

TEST_CASE(
    "on Kafka, a SIGKILLed instance's timers fire on the instance that takes its partitions") {
  testing::DevBrokerProcess broker;
  broker.Start();
  TempDir dir;
  const std::string clock = dir.Sub("now");
  absl::Time now = WriteClock(clock, "2026-11-23T09:00:00Z");
  const std::vector<std::string> args = {"--kafka-brokers",
                                         broker.bootstrap_servers(),
                                         "--kafka-session-timeout-ms",
                                         "6000",
                                         "--clock-file",
                                         clock};
  ServerProcess a(dir.Sub("a"), args);
  ServerProcess b(dir.Sub("b"), args);
  a.Start();
  b.Start();
  const absl::Time joined = absl::Now() + absl::Seconds(60);
  while ((OwnedRobotPartitions(a.Channel()).empty() || OwnedRobotPartitions(b.Channel()).empty()) &&
         absl::Now() < joined) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const std::set<int32_t> owned_by_b = OwnedRobotPartitions(b.Channel());
  REQUIRE_FALSE(owned_by_b.empty());
  REQUIRE(testing::WaitUntilClusterIdle({a.Channel(), b.Channel()}));
  testing::ApplyPipelines(*v1::PipelineService::NewStub(a.Channel()),
                          {SeedLeadPipeline(), ServicesPipeline()});
  REQUIRE(testing::WaitUntilClusterIdle({a.Channel(), b.Channel()}));

  // Calls whose leads (and tasks) fall on both instances' partitions.
  auto intake = v1::IntakeService::NewStub(a.Channel());
  std::set<std::string> leads;
  for (int i = 0; i < 16; ++i) {
    const v1::ChannelEvent call = testing::CallEvent(
        absl::StrCat("kafka-call-", i), absl::StrCat("+7 495 400-00-", 10 + i), "op-9");
    v1::PublishChannelEventRequest request;
    *request.mutable_event() = call;
    v1::PublishChannelEventResponse response;
    REQUIRE(intake->PublishChannelEvent(Deadline().get(), request, &response).ok());
    leads.insert("leads/" + LeadIdOf(call));
  }
  REQUIRE(testing::WaitUntilClusterIdle({a.Channel(), b.Channel()}));
  auto crm = v1::CrmService::NewStub(a.Channel());
  for (const auto& lead : leads) {
    v1::ListItemsRequest request;
    request.set_owner(lead);
    v1::ListActivitiesResponse response;
    REQUIRE(crm->ListActivities(Deadline().get(), request, &response).ok());
    REQUIRE(response.activities_size() == 1);
  }

  // B dies with its partitions' timers armed; the minute passes; A takes
  // the partitions over, restores their timers from the changelog and
  // fires them.
  b.Kill();
  now = WriteClock(
      clock, absl::FormatTime(absl::RFC3339_full, now + absl::Minutes(2), absl::UTCTimeZone()));
  REQUIRE(testing::WaitUntilIdle(a.Channel(), absl::Seconds(90)));
  auto events = v1::EventService::NewStub(a.Channel());
  std::map<std::string, std::set<std::string>> reminded;  // item → follow-up ids
  ReadUntil<v1::SubscribedFollowUp>(
      [&](grpc::ClientContext* context) { return events->SubscribeFollowUps(context, {}); },
      [&](const v1::SubscribedFollowUp& f) {
        if (f.headers().at("ce_type") == "leadflow.followup.v1.Reminder") {
          reminded[f.follow_up().item()].insert(f.headers().at("ce_id"));
        }
        return reminded.size() == leads.size();
      },
      60);
  CHECK(OwnedRobotPartitions(a.Channel()).size() >= owned_by_b.size());
  REQUIRE(reminded.size() == leads.size());
  // One reminder each (a consumer that drops repeated ce_ids sees one).
  for (const auto& [item, ids] : reminded) {
    INFO(item);
    CHECK(ids.size() == 1);
  }
}

// A lead pipeline whose NEW leads go to a team of three by `rule`.
v1::Pipeline TeamLeadPipeline(v1::TeamPickRule rule = v1::TEAM_PICK_RULE_ROUND_ROBIN) {
  v1::Pipeline lead = SeedLeadPipeline(/*with_robots=*/false);
  v1::Robot assign = MakeRobot("assign-team", "NEW");
  auto* team = assign.mutable_action()->mutable_assign()->mutable_team();
  for (const char* member : {"rr-1", "rr-2", "rr-3"}) team->add_members(member);
  team->set_rule(rule);
  *lead.add_robots() = assign;
  return lead;
}

// 900 new people call at once (on every intake partition, through
// `intake`); returns how many of their leads each member got.
std::map<std::string, int> NineHundredLeads(
    const std::shared_ptr<grpc::Channel>& intake_channel,
    const std::vector<std::shared_ptr<grpc::Channel>>& cluster) {
  auto intake = v1::IntakeService::NewStub(intake_channel);
  for (int batch = 0; batch < 9; ++batch) {
    v1::PublishChannelEventsRequest request;
    for (int i = 0; i < 100; ++i) {
      const int n = batch * 100 + i;
      *request.add_events() =
          testing::CallEvent(absl::StrCat("rr-call-", n), absl::StrCat("+7 495 600-", 1000 + n));
    }
    v1::PublishChannelEventsResponse response;
    grpc::Status published = intake->PublishChannelEvents(Deadline().get(), request, &response);
    INFO(published.error_message());
    REQUIRE(published.ok());
  }
  std::map<std::string, int> per_member;
  const absl::Time limit = absl::Now() + absl::Seconds(120);
  while (absl::Now() < limit) {
    REQUIRE(testing::WaitUntilClusterIdle(cluster));
    per_member.clear();
    for (const auto& lead : testing::ListAll(cluster.front())) ++per_member[lead.responsible_id()];
    if (per_member.count("") == 0 && per_member.size() == 3) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  CHECK(per_member.size() == 3);
  return per_member;
}

// Whichever partition and instance ran the robot: 300 / 300 / 300.
void NineHundredLeadsInTurn(const std::shared_ptr<grpc::Channel>& intake_channel,
                            const std::vector<std::shared_ptr<grpc::Channel>>& cluster) {
  auto per_member = NineHundredLeads(intake_channel, cluster);
  CHECK(per_member["rr-1"] == 300);
  CHECK(per_member["rr-2"] == 300);
  CHECK(per_member["rr-3"] == 300);
}

TEST_CASE("a team of three takes 900 new leads 300 / 300 / 300 in turn across partitions") {
  Server s;
  s.Apply({TeamLeadPipeline()});
  NineHundredLeadsInTurn(s.server.Channel(), {s.server.Channel()});
}

TEST_CASE("least loaded: a burst of 900 new leads spreads evenly over a team of three") {
  // The burst is far faster than the read model the loads come from: the
  // team's own recent picks keep one member from taking them all.
  Server s;
  s.Apply({TeamLeadPipeline(v1::TEAM_PICK_RULE_LEAST_LOADED)});
  auto per_member = NineHundredLeads(s.server.Channel(), {s.server.Channel()});
  for (const char* member : {"rr-1", "rr-2", "rr-3"}) {
    INFO(member);
    CHECK(per_member[member] >= 250);
    CHECK(per_member[member] <= 350);
  }
}

TEST_CASE("on Kafka with two instances, the team's turn is one: 300 / 300 / 300") {
  testing::DevBrokerProcess broker;
  broker.Start();
  TempDir dir;
  const std::vector<std::string> args = {"--kafka-brokers", broker.bootstrap_servers()};
  ServerProcess a(dir.Sub("a"), args);
  ServerProcess b(dir.Sub("b"), args);
  a.Start();
  b.Start();
  REQUIRE(testing::WaitUntilClusterIdle({a.Channel(), b.Channel()}));
  testing::ApplyPipelines(*v1::PipelineService::NewStub(a.Channel()), {TeamLeadPipeline()});
  REQUIRE(testing::WaitUntilClusterIdle({a.Channel(), b.Channel()}));
  NineHundredLeadsInTurn(b.Channel(), {a.Channel(), b.Channel()});
}

}  // namespace
}  // namespace leadflow
