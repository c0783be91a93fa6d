// The processors in-process on a temp data dir: intake → commands →
// projection, dead letters, restart from stored offsets, and rebuilding the
// read model from the event log.
#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/domain/channel_event_rules.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/log/embedded_log.h"
#include "leadflow/processors/command_processor.h"
#include "leadflow/processors/command_record.h"
#include "leadflow/processors/crm_projection.h"
#include "leadflow/processors/follow_up_processor.h"
#include "leadflow/processors/intake_processor.h"
#include "leadflow/storage/v1/storage.pb.h"
#include "leadflow/store/database.h"
#include "leadflow/store/fault_injecting_state_store.h"
#include "leadflow/store/memory_state_store.h"
#include "support/channel_events.h"
#include "support/server_process.h"

namespace leadflow::processors {
namespace {

using leadflow::testing::TempDir;

// One data dir with the four processors, driven by hand (RunOnce).
// `keep_changelogs`: as on a log where partitions move between instances.
// `decide_inline`: intake decides its commands itself, as on one instance
// of the embedded engine (leadflowd).
struct Pipeline {
  explicit Pipeline(const std::string& path, bool keep_changelogs = false,
                    bool decide_inline = false) {
    auto opened = store::Database::Open({path, false});
    REQUIRE(opened.ok());
    owned_db = *std::move(opened);
    Wire(owned_db.get(), keep_changelogs, decide_inline);
  }
  // On a store the test keeps (in memory, or failing on demand).
  explicit Pipeline(store::StateStore* store) { Wire(store, false); }

  void Wire(store::StateStore* store, bool keep_changelogs, bool decide_inline = false) {
    db = store;
    auto opened_log = log::EmbeddedLog::Open(db, log::StandardTopics(3), keep_changelogs);
    REQUIRE(opened_log.ok());
    log = *std::move(opened_log);
    leads = std::make_unique<LeadReadModel>(db);
    items = std::make_unique<ItemReadModel>(db);
    counters = std::make_unique<ActivityCounters>(db);
    reports = std::make_unique<ReportReadModel>(db);
    intake = std::make_unique<IntakeProcessor>(leads.get(), items.get(), domain::DomainConfig(), 3);
    commands =
        std::make_unique<CommandProcessor>(&outcomes, items.get(), domain::DomainConfig(), 3);
    timeline = std::make_unique<TimelineReadModel>(db);
    projection = std::make_unique<CrmProjection>(CrmProjection::Models{
        leads.get(), items.get(), timeline.get(), counters.get(), reports.get()});
    follow_ups = std::make_unique<FollowUpProcessor>();
    for (Processor* p : std::vector<Processor*>{intake.get(), commands.get(), projection.get(),
                                                follow_ups.get()}) {
      runners.push_back(std::make_unique<ProcessorRunner>(log.get(), db, p, 64));
      REQUIRE(runners.back()->Init().ok());
    }
    if (decide_inline) {
      intake->DecideInline(&outcomes);
      runners[0]->ShareWriterLock(&aggregate_writer);
      runners[1]->ShareWriterLock(&aggregate_writer);
    }
  }

  void Publish(const v1::ChannelEvent& event) {
    auto normalized = domain::NormalizeChannelEvent(event, domain::DomainConfig());
    REQUIRE(normalized.ok());
    PublishRaw(domain::IntakeRoutingKey(*normalized), normalized->SerializeAsString());
  }

  void PublishRaw(const std::string& key, const std::string& value,
                  std::vector<log::Header> headers = {}) {
    auto appended = log->Append(
        {log::MakeRecord(std::string(log::kIntakeTopic), key, value, std::move(headers))});
    REQUIRE(appended.ok());
  }

  // Runs every processor until none has work.
  void Drain() {
    for (int rounds = 0; rounds < 1000; ++rounds) {
      size_t handled = 0;
      for (auto& runner : runners) {
        auto n = runner->RunOnce();
        REQUIRE(n.ok());
        handled += *n;
      }
      if (handled == 0) return;
    }
    FAIL("processors did not settle");
  }

  std::vector<v1::Lead> AllLeads() {
    LeadReadModel::Query query;
    query.page_size = 1000;
    auto page = leads->List(query);
    REQUIRE(page.ok());
    return page->leads;
  }

  std::unique_ptr<store::StateStore> owned_db;
  store::StateStore* db = nullptr;
  std::unique_ptr<log::EmbeddedLog> log;
  std::unique_ptr<LeadReadModel> leads;
  std::unique_ptr<TimelineReadModel> timeline;
  CommandOutcomes outcomes;
  std::unique_ptr<IntakeProcessor> intake;
  std::unique_ptr<ItemReadModel> items;
  std::unique_ptr<ActivityCounters> counters;
  std::unique_ptr<ReportReadModel> reports;
  std::unique_ptr<CommandProcessor> commands;
  std::unique_ptr<CrmProjection> projection;
  std::unique_ptr<FollowUpProcessor> follow_ups;
  std::vector<std::unique_ptr<ProcessorRunner>> runners;
  absl::Mutex aggregate_writer;
};

void PublishScenario(Pipeline& pipeline) {
  for (int i = 0; i < 40; ++i) {
    const std::string phone = absl::StrCat("+7916", 1000000 + i);
    pipeline.Publish(leadflow::testing::CallEvent(absl::StrCat("call-", i), phone, "op"));
    if (i % 4 == 0) {
      pipeline.Publish(leadflow::testing::FormEvent(absl::StrCat("form-", i), phone, ""));
    }
    if (i % 10 == 0) {
      pipeline.Publish(leadflow::testing::CallEvent(absl::StrCat("call-", i), phone, "op"));
    }
  }
  for (int i = 0; i < 5; ++i) {
    pipeline.Publish(leadflow::testing::EmailEvent(absl::StrCat("mail-", i),
                                                   absl::StrCat("client", i, "@example.com")));
  }
}

TEST_CASE("intake creates one lead per person and attaches repeats") {
  TempDir dir;
  Pipeline pipeline(dir.path());
  PublishScenario(pipeline);
  pipeline.Drain();
  auto leads = pipeline.AllLeads();
  CHECK(leads.size() == 45);
  int forms_attached = 0;
  for (const auto& lead : leads) {
    if (lead.source() == v1::LEAD_SOURCE_CALL) {
      CHECK(lead.responsible_id() == "op");
      if (lead.communication_count() == 2) ++forms_attached;
    }
  }
  CHECK(forms_attached == 10);
  // One instance holds every partition of the embedded log for good: no
  // changelog is kept.
  for (int32_t p = 0; p < 3; ++p) {
    CHECK(*pipeline.log->EndOffset(log::kIntakeStateTopic, p) == 0);
    CHECK(*pipeline.log->EndOffset(log::kOutcomesTopic, p) == 0);
  }
}

TEST_CASE("rebuilding the read model from the event log gives identical bytes") {
  TempDir dir;
  const bool decide_inline = GENERATE(false, true);
  Pipeline pipeline(dir.path(), false, decide_inline);
  PublishScenario(pipeline);
  pipeline.Drain();
  auto live = pipeline.leads->Dump();
  REQUIRE(live.ok());
  REQUIRE(live->size() > 45);

  // The command side's state and the read model fold the same events.
  for (const auto& lead : pipeline.AllLeads()) {
    auto state = pipeline.db->Get(store::Keyspace::kState,
                                  CommandProcessor::StateKey("lead", lead.lead_id()));
    REQUIRE(state.ok());
    REQUIRE(state->has_value());
    v1::AggregateState expected;
    *expected.mutable_lead() = lead;
    CHECK(**state == SerializeDeterministic(expected));
  }

  REQUIRE(pipeline.db->Clear(store::Keyspace::kViews).ok());
  CHECK(pipeline.AllLeads().empty());
  ProcessorRunner rebuild(pipeline.log.get(), pipeline.db, pipeline.projection.get(), 7);
  REQUIRE(rebuild.Init().ok());
  while (*rebuild.RunOnce() > 0) {
  }
  auto rebuilt = pipeline.leads->Dump();
  REQUIRE(rebuilt.ok());
  CHECK(*rebuilt == *live);
}

TEST_CASE(
    "intake deciding inline makes the leads and events of the two-step path, without the hop") {
  TempDir two_step_dir;
  TempDir inline_dir;
  Pipeline two_step(two_step_dir.path());
  Pipeline decided_inline(inline_dir.path(), false, true);
  PublishScenario(two_step);
  two_step.Drain();
  PublishScenario(decided_inline);
  decided_inline.Drain();
  // Times differ (intake takes a channel event's time from its record when
  // it has none); what was decided does not.
  auto summary = [](Pipeline& pipeline) {
    std::vector<std::string> out;
    for (const auto& lead : pipeline.AllLeads()) {
      out.push_back(absl::StrCat(lead.lead_id(), " v", lead.version(), " ", lead.status_id(), " ",
                                 lead.responsible_id(), " ", lead.communication_count(), " ",
                                 lead.phones_size() > 0 ? lead.phones(0).number() : ""));
    }
    return out;
  };
  const std::vector<std::string> expected = summary(two_step);
  CHECK(expected.size() == 45);
  CHECK(summary(decided_inline) == expected);
  int64_t two_step_events = 0;
  int64_t inline_events = 0;
  int64_t inline_commands = 0;
  for (int32_t p = 0; p < 3; ++p) {
    two_step_events += *two_step.log->EndOffset(log::kEventsTopic, p);
    inline_events += *decided_inline.log->EndOffset(log::kEventsTopic, p);
    inline_commands += *decided_inline.log->EndOffset(log::kCommandsTopic, p);
  }
  CHECK(inline_events == two_step_events);
  CHECK(inline_commands == 0);  // no hop: intake's commands never reach the topic
  // Nor are outcomes kept for them (the seen key makes intake idempotent).
  bool any_outcome = false;
  REQUIRE(decided_inline.db
              ->Scan(store::Keyspace::kState, "cmd/", "",
                     [&](absl::string_view, absl::string_view) {
                       any_outcome = true;
                       return false;
                     })
              .ok());
  CHECK_FALSE(any_outcome);
}

TEST_CASE("a lead's timeline lists its events in order, with actor and cause, page by page") {
  TempDir dir;
  Pipeline pipeline(dir.path());
  PublishScenario(pipeline);
  pipeline.Drain();
  auto ids = pipeline.leads->FindByIdentity("phone:+79161000000");
  REQUIRE(ids.ok());
  REQUIRE(ids->size() == 1);
  // call-0 created it; form-0 attached to it (call-0 again changed nothing).
  std::vector<v1::EventEnvelope> events;
  std::string token;
  int pages = 0;
  do {
    auto page = pipeline.timeline->List("lead", ids->front(), 2, token);
    REQUIRE(page.ok());
    for (auto& event : page->events) events.push_back(std::move(event));
    token = page->next_page_token;
    ++pages;
  } while (!token.empty());
  REQUIRE(events.size() == 4);
  CHECK(pages == 2);
  const std::vector<std::string> types = {
      "leadflow.v1.LeadCreated", "leadflow.v1.CommunicationRecorded",
      "leadflow.v1.CommunicationRecorded", "leadflow.v1.ResponsibleNotified"};
  for (size_t i = 0; i < events.size(); ++i) {
    CHECK(events[i].type() == types[i]);
    CHECK(events[i].aggregate_version() == static_cast<int64_t>(i) + 1);
    CHECK(events[i].actor() == "intake");
  }
  CHECK(events[0].causation_id() == "call-0");
  CHECK(events[2].causation_id() == "form-0");

  auto bad = pipeline.timeline->List("lead", ids->front(), 2, "not-a-token");
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(domain::FieldOf(bad.status()) == "page_token");
  auto none = pipeline.timeline->List("lead", "no-such-lead", 0, "");
  REQUIRE(none.ok());
  CHECK(none->events.empty());
}

TEST_CASE("undecodable and invalid intake records go to the dead-letter topic with a reason") {
  TempDir dir;
  Pipeline pipeline(dir.path());
  pipeline.PublishRaw("k", "\xff\xff\xff not protobuf");
  v1::ChannelEvent invalid = leadflow::testing::CallEvent("c-bad", "123");
  pipeline.PublishRaw("k", invalid.SerializeAsString());
  pipeline.PublishRaw(
      "k",
      R"({"id":"j1","source":"kcat","call":{"kind":"CALL_KIND_MISSED","customerPhone":"+79161112233"}})",
      {{"content-type", "application/json"}});
  pipeline.Drain();
  auto dead = pipeline.log->Read(log::kDeadLetterTopic, 0, 0, 10);
  REQUIRE(dead.ok());
  REQUIRE(dead->size() == 2);
  CHECK(dead->at(0).HeaderValue("leadflow_reason").find("cannot decode") !=
        absl::string_view::npos);
  CHECK(dead->at(0).value == "\xff\xff\xff not protobuf");
  CHECK(dead->at(1).HeaderValue("leadflow_reason").find("call.customer_phone") !=
        absl::string_view::npos);
  CHECK(dead->at(1).HeaderValue("leadflow_source_topic") == log::kIntakeTopic);
  // The JSON one became a lead; processing went on past the bad ones.
  auto leads = pipeline.AllLeads();
  REQUIRE(leads.size() == 1);
  CHECK(leads[0].phones(0).number() == "+79161112233");
}

TEST_CASE("a person's events on other partitions than leadflow's are forwarded to one resolver") {
  TempDir dir;
  Pipeline pipeline(dir.path());
  // As a producer with another partitioner (kcat's consistent_random)
  // would place them: each call of one person on a different partition.
  const std::string phone = "+79161112244";
  const int32_t home = log::PartitionForKey(absl::StrCat("phone:", phone), 3);
  for (int i = 0; i < 3; ++i) {
    log::OutgoingRecord record =
        log::MakeRecord(std::string(log::kIntakeTopic), "whatever",
                        leadflow::testing::CallEvent(absl::StrCat("elsewhere-", i), phone, "op")
                            .SerializeAsString(),
                        {});
    record.partition = (home + 1 + i) % 3;
    REQUIRE(pipeline.log->Append({std::move(record)}).ok());
  }
  // The same three calls of another person, where leadflow puts them.
  const std::string other = "+79161112255";
  for (int i = 0; i < 3; ++i) {
    pipeline.Publish(leadflow::testing::CallEvent(absl::StrCat("home-", i), other, "op"));
  }
  pipeline.Drain();
  auto leads = pipeline.AllLeads();
  REQUIRE(leads.size() == 2);
  // One lead each, with the same history.
  CHECK(leads[0].version() == leads[1].version());
  CHECK(pipeline.intake->forwarded() == 2);
  auto dead = pipeline.log->Read(log::kDeadLetterTopic, 0, 0, 10);
  REQUIRE(dead.ok());
  CHECK(dead->empty());
}

TEST_CASE("processors resume from their stored offsets after a reopen, applying nothing twice") {
  TempDir dir;
  {
    Pipeline pipeline(dir.path());
    PublishScenario(pipeline);
    pipeline.Drain();
  }
  Pipeline reopened(dir.path());
  for (auto& runner : reopened.runners) CHECK(*runner->RunOnce() == 0);
  reopened.Publish(leadflow::testing::CallEvent("call-0", "+79161000000", "op"));    // redelivery
  reopened.Publish(leadflow::testing::CallEvent("call-new", "+79161000000", "op"));  // repeat
  reopened.Drain();
  auto leads = reopened.AllLeads();
  CHECK(leads.size() == 45);
  auto ids = reopened.leads->FindByIdentity("phone:+79161000000");
  REQUIRE(ids.ok());
  REQUIRE(ids->size() == 1);
  auto lead = reopened.leads->Get(ids->front());
  REQUIRE(lead.ok());
  // call-0, form-0, then call-new; the redelivered call-0 changed nothing.
  CHECK((*lead)->communication_count() == 3);
}

TEST_CASE("a command applied once is answered again, not applied again") {
  TempDir dir;
  Pipeline pipeline(dir.path());
  pipeline.Publish(leadflow::testing::CallEvent("c1", "+79161234567", "op"));
  pipeline.Drain();
  auto lead = pipeline.AllLeads().at(0);
  v1::Command command;
  command.set_command_id("req:once");
  command.set_aggregate_id(lead.lead_id());
  command.mutable_change_lead_status()->set_status_id("IN_PROCESS");
  for (int i = 0; i < 2; ++i) {
    auto ticket = pipeline.outcomes.Register("req:once");
    REQUIRE(pipeline.log
                ->Append({log::MakeRecord(std::string(log::kCommandsTopic), lead.lead_id(),
                                          command.SerializeAsString())})
                .ok());
    pipeline.Drain();
    auto outcome = ticket->Wait(absl::Now() + absl::Seconds(5));
    REQUIRE(outcome.has_value());
    CHECK(outcome->code() == 0);
    CHECK(outcome->state().lead().version() == 3);
    CHECK(outcome->position().topic() == log::kEventsTopic);
  }
  CHECK(pipeline.leads->Get(lead.lead_id())->value().version() == 3);
}

// Every key and value of a keyspace, in order.
std::vector<std::pair<std::string, std::string>> Dump(const store::StateStore& db,
                                                      store::Keyspace keyspace) {
  std::vector<std::pair<std::string, std::string>> out;
  REQUIRE(db.Scan(keyspace, "", "", [&](absl::string_view key, absl::string_view value) {
              out.emplace_back(key, value);
              return true;
            }).ok());
  return out;
}

// What a new owner of every partition has: the log, and no processor state.
void ForgetProcessorState(const std::string& path) {
  auto db = store::Database::Open({path, false});
  REQUIRE(db.ok());
  REQUIRE((*db)->Clear(store::Keyspace::kState).ok());
}

TEST_CASE("a new owner rebuilds the processor state from the changelogs") {
  TempDir dir;
  std::vector<std::pair<std::string, std::string>> before;
  {
    Pipeline pipeline(dir.path(), /*keep_changelogs=*/true);
    PublishScenario(pipeline);
    pipeline.Drain();
    before = Dump(*pipeline.db, store::Keyspace::kState);
  }
  REQUIRE(before.size() > 100);
  ForgetProcessorState(dir.path());
  Pipeline owner(dir.path(), /*keep_changelogs=*/true);
  std::vector<int64_t> commands_end;
  for (int32_t p = 0; p < 3; ++p) {
    commands_end.push_back(*owner.log->EndOffset(log::kCommandsTopic, p));
  }
  for (auto& runner : owner.runners) {
    // The follow-up processor marks only units that caused something, so a
    // new owner reads again the events that caused nothing: and again
    // causes nothing.
    if (runner->processor().Name() == "follow-ups") continue;
    CHECK(*runner->RunOnce() == 0);
  }
  REQUIRE(owner.runners.back()->processor().Name() == "follow-ups");
  CHECK(*owner.runners.back()->RunOnce() > 0);
  while (*owner.runners.back()->RunOnce() > 0) {
  }
  for (int32_t p = 0; p < 3; ++p) {
    CHECK(*owner.log->EndOffset(log::kCommandsTopic, p) == commands_end[p]);
  }
  // Dedupe keys, identity claims, lead state, outcomes, offsets and
  // checkpoints: all as they were.
  CHECK(Dump(*owner.db, store::Keyspace::kState) == before);

  // And it goes on from there: redeliveries are known, repeats attach.
  PublishScenario(owner);
  owner.Publish(leadflow::testing::CallEvent("call-new", "+79161000000", "op"));
  owner.Drain();
  CHECK(owner.AllLeads().size() == 45);
  auto ids = owner.leads->FindByIdentity("phone:+79161000000");
  REQUIRE(ids.ok());
  REQUIRE(ids->size() == 1);
  CHECK(owner.leads->Get(ids->front())->value().communication_count() == 3);
}

TEST_CASE("records of a unit that never finished are not restored") {
  TempDir dir;
  {
    Pipeline pipeline(dir.path(), /*keep_changelogs=*/true);
    pipeline.Publish(leadflow::testing::CallEvent("c1", "+79161234567", "op"));
    pipeline.Drain();
    // An owner killed mid-commit on a broker that shows unfinished
    // transactions: its changelog record is there, its marker is not.
    storage::v1::IntakeResolution unfinished;
    unfinished.set_event_id("c2");
    unfinished.set_lead_id("ld-never");
    unfinished.add_claimed_identity_keys("phone:+79167654321");
    log::OutgoingRecord record =
        log::MakeRecord(std::string(log::kIntakeStateTopic), "c2", unfinished.SerializeAsString(),
                        {{std::string(ProcessorRunner::kUnitHeader), "killed-1"}});
    record.partition = log::PartitionForKey("phone:+79167654321", 3);
    REQUIRE(pipeline.log->Append({record}).ok());
  }
  ForgetProcessorState(dir.path());
  Pipeline owner(dir.path(), /*keep_changelogs=*/true);
  owner.Publish(leadflow::testing::CallEvent("c2", "+79167654321", "op"));
  owner.Drain();
  auto leads = owner.AllLeads();
  REQUIRE(leads.size() == 2);
  for (const auto& lead : leads) CHECK(lead.lead_id() != "ld-never");
}

// Runs every processor but the follow-ups until none has work: the state a
// crash leaves when it comes between a conversion and its next steps.
void DrainAllButFollowUps(Pipeline& pipeline) {
  for (int rounds = 0; rounds < 1000; ++rounds) {
    size_t handled = 0;
    for (auto& runner : pipeline.runners) {
      if (runner->processor().Name() == "follow-ups") continue;
      auto n = runner->RunOnce();
      REQUIRE(n.ok());
      handled += *n;
    }
    if (handled == 0) return;
  }
  FAIL("processors did not settle");
}

// Runs only the deciding processors (intake and commands): the read
// models and the follow-ups see nothing of what they decide.
void DrainDecidersOnly(Pipeline& pipeline) {
  for (int rounds = 0; rounds < 1000; ++rounds) {
    size_t handled = 0;
    for (auto& runner : pipeline.runners) {
      const std::string name = runner->processor().Name();
      if (name != "intake" && name != "commands") continue;
      auto n = runner->RunOnce();
      REQUIRE(n.ok());
      handled += *n;
    }
    if (handled == 0) return;
  }
  FAIL("processors did not settle");
}

TEST_CASE("a request right after a conversion is the new contact's, before any read model has it") {
  for (const bool inline_decisions : {true, false}) {
    DYNAMIC_SECTION(
        (inline_decisions ? "intake deciding inline" : "the command processor deciding")) {
      TempDir dir;
      Pipeline pipeline(dir.path(), /*keep_changelogs=*/!inline_decisions, inline_decisions);
      pipeline.Publish(leadflow::testing::CallEvent("first-call", "+79161234567", "op"));
      pipeline.Publish(leadflow::testing::EmailEvent("first-mail", "client@example.com"));
      pipeline.Drain();
      std::string by_phone;
      std::string by_mail;
      for (const auto& lead : pipeline.AllLeads()) {
        (lead.phones_size() > 0 ? by_phone : by_mail) = lead.lead_id();
      }
      REQUIRE_FALSE(by_phone.empty());
      REQUIRE_FALSE(by_mail.empty());
      for (const std::string& lead_id : {by_phone, by_mail}) {
        v1::Command convert;
        convert.set_command_id("req:convert-" + lead_id);
        convert.set_aggregate_id(lead_id);
        convert.mutable_convert_lead();
        REQUIRE(pipeline.log->Append({CommandRecord(convert, "test")}).ok());
      }
      DrainDecidersOnly(pipeline);
      // The caller calls again, and the writer's CreateLead comes through
      // the API, while neither the projection nor the follow-ups (which
      // create the contacts) have run since the conversions.
      pipeline.Publish(leadflow::testing::CallEvent("second-call", "+79161234567", "op"));
      v1::Command create;
      create.set_command_id("req:create-again");
      create.set_aggregate_id("ld-again");
      create.mutable_create_lead()->mutable_lead()->set_title("Writes again");
      create.mutable_create_lead()->mutable_lead()->add_emails()->set_address("client@example.com");
      log::OutgoingRecord via_api = CommandRecord(create, "leadflow/api");
      via_api.topic = std::string(log::kIntakeTopic);
      via_api.key = "email:client@example.com";
      REQUIRE(pipeline.log->Append({std::move(via_api)}).ok());
      DrainDecidersOnly(pipeline);
      REQUIRE(pipeline.items->Get("contact", by_phone + "-contact")->has_value() == false);
      pipeline.Drain();

      int repeats = 0;
      for (const auto& lead : pipeline.AllLeads()) {
        if (lead.lead_id() == by_phone || lead.lead_id() == by_mail) continue;
        INFO(lead.lead_id());
        CHECK(lead.repeat());
        CHECK(lead.contact_id() == (lead.phones_size() > 0 ? by_phone : by_mail) + "-contact");
        ++repeats;
      }
      CHECK(repeats == 2);
    }
  }
}

TEST_CASE("a conversion cut before its next steps finishes once, however often they replay") {
  TempDir dir;
  std::string lead_id;
  {
    Pipeline pipeline(dir.path());
    pipeline.Publish(leadflow::testing::CallEvent("c1", "+79161234567", "op"));
    pipeline.Drain();
    lead_id = pipeline.AllLeads().at(0).lead_id();
    v1::Command convert;
    convert.set_command_id("req:convert");
    convert.set_aggregate_id(lead_id);
    convert.mutable_convert_lead();
    REQUIRE(pipeline.log
                ->Append({log::MakeRecord(std::string(log::kCommandsTopic), lead_id,
                                          convert.SerializeAsString())})
                .ok());
    DrainAllButFollowUps(pipeline);
    CHECK(pipeline.leads->Get(lead_id)->value().status_semantic() == v1::STATUS_SEMANTIC_SUCCESS);
    CHECK(!pipeline.items->Get("deal", lead_id + "-deal")->has_value());
  }
  auto check_created_once = [&lead_id](Pipeline& pipeline) {
    auto deal = pipeline.items->Get("deal", lead_id + "-deal");
    REQUIRE(deal.ok());
    REQUIRE(deal->has_value());
    CHECK((*deal)->deal().version() == 1);
    CHECK((*deal)->deal().contact_id() == lead_id + "-contact");
    auto contact = pipeline.items->Get("contact", lead_id + "-contact");
    REQUIRE(contact.ok());
    REQUIRE(contact->has_value());
    CHECK((*contact)->contact().version() == 1);
    CHECK((*contact)->contact().phones(0).number() == "+79161234567");
  };
  {
    // The restarted server takes the steps up where they were.
    Pipeline pipeline(dir.path());
    pipeline.Drain();
    check_created_once(pipeline);
  }
  {
    // Replayed from the start (its offsets lost): the same commands again,
    // answered from their outcomes, applied never.
    auto db = store::Database::Open({dir.path(), false});
    REQUIRE(db.ok());
    for (int32_t p = 0; p < 3; ++p) {
      auto forget = (*db)->NewBatch();
      forget->Delete(store::Keyspace::kState,
                     log::CommittedOffsetKey("follow-ups", log::kEventsTopic, p));
      REQUIRE((*db)->Write(forget.get()).ok());
    }
  }
  Pipeline pipeline(dir.path());
  pipeline.Drain();
  check_created_once(pipeline);
  CHECK(pipeline.items->Get("company", lead_id + "-company")->has_value() == false);
}

TEST_CASE("a lead kept by an older version as a bare Lead is read and carried on") {
  TempDir dir;
  Pipeline pipeline(dir.path());
  pipeline.Publish(leadflow::testing::CallEvent("c1", "+79161234567", "op"));
  pipeline.Drain();
  const v1::Lead lead = pipeline.AllLeads().at(0);
  auto old_format = pipeline.db->NewBatch();
  old_format->Put(store::Keyspace::kState, CommandProcessor::StateKey("lead", lead.lead_id()),
                  SerializeDeterministic(lead));
  REQUIRE(pipeline.db->Write(old_format.get()).ok());
  v1::Command command;
  command.set_command_id("req:after-upgrade");
  command.set_aggregate_id(lead.lead_id());
  command.mutable_change_lead_status()->set_status_id("IN_PROCESS");
  REQUIRE(pipeline.log
              ->Append({log::MakeRecord(std::string(log::kCommandsTopic), lead.lead_id(),
                                        command.SerializeAsString())})
              .ok());
  pipeline.Drain();
  const v1::Lead after = pipeline.leads->Get(lead.lead_id())->value();
  CHECK(after.status_id() == "IN_PROCESS");
  CHECK(after.version() == lead.version() + 1);
  v1::AggregateState stored;
  REQUIRE(stored.ParseFromString(**pipeline.db->Get(
      store::Keyspace::kState, CommandProcessor::StateKey("lead", lead.lead_id()))));
  CHECK(stored.lead().version() == after.version());
}

TEST_CASE("a transaction reads its own writes and deletes over what the store has") {
  store::MemoryStateStore db;
  auto stored = db.NewBatch();
  stored->Put(store::Keyspace::kState, "kept", "stored");
  stored->Put(store::Keyspace::kState, "changed", "stored");
  stored->Put(store::Keyspace::kState, "deleted", "stored");
  stored->Put(store::Keyspace::kViews, "changed", "view");
  REQUIRE(db.Write(stored.get()).ok());

  ProcessorTransaction txn(&db);
  txn.Put(store::Keyspace::kState, "changed", "first");
  txn.Put(store::Keyspace::kState, "changed", "mine");
  txn.Delete(store::Keyspace::kState, "deleted");
  txn.Put(store::Keyspace::kState, "new", "mine");
  txn.Delete(store::Keyspace::kState, "reborn");
  txn.Put(store::Keyspace::kState, "reborn", "again");
  txn.ReplaceIndexKeys(store::Keyspace::kViews, {"ix/a", "ix/b"}, {"ix/b", "ix/c"});

  auto get = [&](store::Keyspace keyspace, const std::string& key) {
    auto value = txn.Get(keyspace, key);
    REQUIRE(value.ok());
    return *value;
  };
  CHECK(get(store::Keyspace::kState, "kept") == "stored");
  CHECK(get(store::Keyspace::kState, "changed") == "mine");
  CHECK(get(store::Keyspace::kState, "deleted") == std::nullopt);
  CHECK(get(store::Keyspace::kState, "new") == "mine");
  CHECK(get(store::Keyspace::kState, "reborn") == "again");
  CHECK(get(store::Keyspace::kState, "absent") == std::nullopt);
  // Keyspaces are apart, in the transaction as in the store.
  CHECK(get(store::Keyspace::kViews, "changed") == "view");
  CHECK(get(store::Keyspace::kViews, "new") == std::nullopt);
  CHECK(get(store::Keyspace::kViews, "ix/a") == std::nullopt);
  CHECK(get(store::Keyspace::kViews, "ix/c") == "");

  auto many = txn.MultiGet(store::Keyspace::kState,
                           {"absent", "changed", "kept", "deleted", "new", "kept"});
  REQUIRE(many.ok());
  CHECK(*many == std::vector<std::optional<std::string>>{std::nullopt, "mine", "stored",
                                                         std::nullopt, "mine", "stored"});

  // Nothing reaches the store before the runner commits.
  CHECK(**db.Get(store::Keyspace::kState, "changed") == "stored");
  CHECK(db.Get(store::Keyspace::kState, "deleted")->has_value());
  CHECK_FALSE(db.Get(store::Keyspace::kState, "new")->has_value());
}

TEST_CASE("a runner whose commit fails commits nothing, and the batch succeeds when retried") {
  store::MemoryStateStore memory;
  store::FaultInjectingStateStore db(&memory);
  Pipeline pipeline(&db);
  pipeline.Publish(leadflow::testing::CallEvent("c1", "+79161234567", "op"));
  pipeline.Drain();
  REQUIRE(pipeline.AllLeads().size() == 1);

  ProcessorRunner& intake = *pipeline.runners.front();
  REQUIRE(intake.processor().Name() == "intake");
  pipeline.Publish(leadflow::testing::CallEvent("c2", "+79167654321", "op"));
  const std::vector<int64_t> committed = intake.CommittedOffsets();
  auto commands_end = [&] {
    int64_t total = 0;
    for (int32_t p = 0; p < 3; ++p) total += *pipeline.log->EndOffset(log::kCommandsTopic, p);
    return total;
  };
  const int64_t commands_before = commands_end();

  // A read fails while the batch is processed, then the commit's write.
  for (const auto op :
       {store::FaultInjectingStateStore::Op::kGet, store::FaultInjectingStateStore::Op::kWrite}) {
    db.Fail(op, absl::UnavailableError("disk trouble"));
    auto failed = intake.RunOnce();
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.status().code() == absl::StatusCode::kUnavailable);
    CHECK(failed.status().message() == "disk trouble");
    CHECK(db.Failures(op) == 1);
    CHECK(intake.CommittedOffsets() == committed);
    CHECK(commands_end() == commands_before);
    CHECK_FALSE(memory.Get(store::Keyspace::kState, "intake/seen/c2")->has_value());
  }

  auto retried = intake.RunOnce();
  REQUIRE(retried.ok());
  CHECK(*retried == 1);
  CHECK(intake.CommittedOffsets() != committed);
  CHECK(commands_end() == commands_before + 1);
  CHECK(memory.Get(store::Keyspace::kState, "intake/seen/c2")->has_value());
  pipeline.Drain();
  auto leads = pipeline.AllLeads();
  REQUIRE(leads.size() == 2);
  for (const auto& lead : leads) CHECK(lead.version() >= 1);
}

// Records when it was punctuated and as of which input time.
class TimedProcessor final : public Processor {
 public:
  std::string Name() const override { return "timed"; }
  std::string InputTopic() const override { return "in"; }
  store::Keyspace StateKeyspace() const override { return store::Keyspace::kState; }
  absl::Status Process(const std::vector<log::Record>& batch, ProcessorTransaction&) override {
    processed += static_cast<int>(batch.size());
    return absl::OkStatus();
  }
  bool Punctuates() const override { return true; }
  absl::Status Punctuate(int32_t, absl::Time input_time, ProcessorTransaction&) override {
    punctuated.emplace_back(processed, input_time);
    return absl::OkStatus();
  }
  int processed = 0;
  // (records processed by then, input_time)
  std::vector<std::pair<int, absl::Time>> punctuated;
};

TEST_CASE("timers keep firing under a backlog, as far as the input has been read") {
  store::MemoryStateStore db;
  auto log = log::EmbeddedLog::Open(&db, {{"in", 1}});
  REQUIRE(log.ok());
  std::vector<log::OutgoingRecord> records;
  for (int i = 0; i < 35; ++i) {
    log::OutgoingRecord record = log::MakeRecord("in", "k", absl::StrCat(i), {});
    record.timestamp_ms = 1000 + i;
    records.push_back(std::move(record));
  }
  REQUIRE((*log)->Append(std::move(records)).ok());
  TimedProcessor timed;
  ProcessorRunner runner(log->get(), &db, &timed, /*max_batch=*/10);
  REQUIRE(runner.Init().ok());
  for (int poll = 0; poll < 4; ++poll) {
    // Punctuation runs at most every 100 ms.
    absl::SleepFor(absl::Milliseconds(110));
    REQUIRE(runner.RunOnce().ok());
  }
  // Every poll punctuated: the three full ones as of the last record read,
  // the one that drained the input with no bound.
  REQUIRE(timed.punctuated.size() == 4);
  CHECK(timed.punctuated[0] == std::make_pair(10, absl::FromUnixMillis(1009)));
  CHECK(timed.punctuated[1] == std::make_pair(20, absl::FromUnixMillis(1019)));
  CHECK(timed.punctuated[2] == std::make_pair(30, absl::FromUnixMillis(1029)));
  CHECK(timed.punctuated[3] == std::make_pair(35, absl::InfiniteFuture()));
}

TEST_CASE("the processors keep the same keys on the memory store as on RocksDB") {
  TempDir dir;
  Pipeline on_disk(dir.path());
  PublishScenario(on_disk);
  on_disk.Drain();
  store::MemoryStateStore memory;
  Pipeline in_memory(&memory);
  PublishScenario(in_memory);
  in_memory.Drain();
  // Values differ where they hold the time records were appended at.
  auto keys = [](const store::StateStore& db, store::Keyspace keyspace) {
    std::vector<std::string> out;
    for (auto& [key, value] : Dump(db, keyspace)) out.push_back(std::move(key));
    return out;
  };
  for (const auto keyspace :
       {store::Keyspace::kLog, store::Keyspace::kState, store::Keyspace::kViews}) {
    const std::vector<std::string> on_disk_keys = keys(*on_disk.db, keyspace);
    CHECK(on_disk_keys.size() > 45);
    CHECK(keys(memory, keyspace) == on_disk_keys);
  }
  CHECK(in_memory.AllLeads().size() == 45);
}

}  // namespace
}  // namespace leadflow::processors
