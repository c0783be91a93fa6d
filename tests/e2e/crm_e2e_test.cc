// The CRM core through the real binary: pipelines as configuration, required
// fields, the three conversion forms, a conversion cut by SIGKILL, repeat
// leads, merging, deals, and counters under an injected clock.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/base/proto_util.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "support/channel_events.h"
#include "support/grpc_status.h"
#include "support/pipeline_client.h"
#include "support/server_process.h"

namespace leadflow {
namespace {

using testing::Deadline;
using testing::FieldsOf;
using testing::ServerProcess;
using testing::TempDir;

v1::PipelineStage Stage(const std::string& id, v1::StatusSemantic semantic,
                        std::vector<std::string> required = {}) {
  v1::PipelineStage stage;
  stage.set_stage_id(id);
  stage.set_title(id);
  stage.set_semantic(semantic);
  for (auto& field : required) stage.add_required_fields(std::move(field));
  return stage;
}

constexpr auto kInProgress = v1::STATUS_SEMANTIC_IN_PROGRESS;
constexpr auto kSuccess = v1::STATUS_SEMANTIC_SUCCESS;
constexpr auto kFailure = v1::STATUS_SEMANTIC_FAILURE;

v1::Pipeline MakePipeline(const std::string& id, v1::PipelineKind kind,
                          std::vector<v1::PipelineStage> stages,
                          std::vector<std::string> conversion_required = {}) {
  v1::Pipeline pipeline;
  pipeline.set_pipeline_id(id);
  pipeline.set_kind(kind);
  pipeline.set_title(id);
  for (auto& stage : stages) *pipeline.add_stages() = std::move(stage);
  for (auto& field : conversion_required) pipeline.add_conversion_required_fields(field);
  return pipeline;
}

v1::Pipeline DealPipeline(const std::string& id) {
  return MakePipeline(id, v1::PIPELINE_KIND_DEAL,
                      {Stage("NEW", kInProgress), Stage("CONTRACT", kInProgress),
                       Stage("WON", kSuccess), Stage("LOST", kFailure)});
}

struct Crm {
  explicit Crm(std::vector<std::string> args = {}) : server(dir.Sub("data"), std::move(args)) {
    Connect();
  }

  void Connect() {
    server.Start();
    channel = server.Channel();
    leads = v1::LeadService::NewStub(channel);
    crm = v1::CrmService::NewStub(channel);
    pipelines = v1::PipelineService::NewStub(channel);
  }

  v1::ApplyPipelinesResponse Apply(std::vector<v1::Pipeline> list) {
    return testing::ApplyPipelines(*pipelines, std::move(list));
  }

  v1::Lead CreateLead(const v1::Lead& lead, const std::string& id = "") {
    v1::CreateLeadRequest request;
    *request.mutable_lead() = lead;
    request.set_lead_id(id);
    v1::LeadCommandResponse response;
    auto status = leads->CreateLead(Deadline().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response.lead();
  }

  grpc::Status Move(const std::string& name, const std::string& status_id, v1::Lead* out) {
    v1::ChangeLeadStatusRequest request;
    request.set_name(name);
    request.set_status_id(status_id);
    v1::LeadCommandResponse response;
    auto status = leads->ChangeLeadStatus(Deadline().get(), request, &response);
    if (out != nullptr) *out = response.lead();
    return status;
  }

  v1::Lead Update(const v1::Lead& changes, std::vector<std::string> paths) {
    v1::UpdateLeadRequest request;
    *request.mutable_lead() = changes;
    for (auto& path : paths) request.mutable_update_mask()->add_paths(std::move(path));
    v1::LeadCommandResponse response;
    auto status = leads->UpdateLead(Deadline().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response.lead();
  }

  grpc::Status Convert(const std::string& name, const v1::ConvertLead& conversion, v1::Lead* out,
                       const std::string& request_id = "") {
    v1::ConvertLeadRequest request;
    request.set_name(name);
    *request.mutable_conversion() = conversion;
    request.set_request_id(request_id);
    v1::LeadCommandResponse response;
    auto status = leads->ConvertLead(Deadline().get(), request, &response);
    if (out != nullptr) *out = response.lead();
    return status;
  }

  template <typename Item>
  grpc::Status Get(grpc::Status (v1::CrmService::Stub::*method)(grpc::ClientContext*,
                                                                const v1::GetItemRequest&, Item*),
                   const std::string& name, Item* item) {
    v1::GetItemRequest request;
    request.set_name(name);
    return (crm.get()->*method)(Deadline().get(), request, item);
  }

  std::vector<v1::Deal> Deals(const v1::ListItemsRequest& request) {
    v1::ListDealsResponse response;
    auto status = crm->ListDeals(Deadline().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return {response.deals().begin(), response.deals().end()};
  }

  std::vector<v1::Contact> Contacts(const v1::ListItemsRequest& request) {
    v1::ListContactsResponse response;
    auto status = crm->ListContacts(Deadline().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return {response.contacts().begin(), response.contacts().end()};
  }

  TempDir dir;
  ServerProcess server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::LeadService::Stub> leads;
  std::unique_ptr<v1::CrmService::Stub> crm;
  std::unique_ptr<v1::PipelineService::Stub> pipelines;
};

v1::Lead Person(const std::string& first_name, const std::string& phone) {
  v1::Lead lead;
  lead.set_first_name(first_name);
  if (!phone.empty()) lead.add_phones()->set_number(phone);
  lead.set_responsible_id("anna");
  return lead;
}

TEST_CASE("pipelines are applied over gRPC, idempotently, and kept as events") {
  Crm f;
  auto first = f.Apply({DealPipeline("services")});
  REQUIRE(first.changes_size() == 1);
  CHECK(first.changes(0).action() == "create");
  auto again = f.Apply({DealPipeline("services")});
  CHECK(again.changes(0).action() == "unchanged");
  v1::Pipeline renamed = DealPipeline("services");
  renamed.mutable_stages(1)->set_title("Contract signed");
  auto update = f.Apply({renamed});
  CHECK(update.changes(0).action() == "update");
  REQUIRE(update.changes(0).details_size() == 1);
  CHECK(update.changes(0).details(0) == "stage CONTRACT: title 'CONTRACT' → 'Contract signed'");

  v1::ListPipelinesResponse listed;
  REQUIRE(f.pipelines->ListPipelines(Deadline().get(), {}, &listed).ok());
  REQUIRE(listed.pipelines_size() == 3);  // lead, default, services
  CHECK(listed.pipelines(0).pipeline_id() == "lead");
  CHECK(listed.pipelines(2).stages(1).title() == "Contract signed");

  v1::ListTimelineRequest timeline;
  timeline.set_name("pipelines/services");
  v1::ListTimelineResponse history;
  REQUIRE(f.crm->ListTimeline(Deadline().get(), timeline, &history).ok());
  CHECK(history.events_size() == 2);

  // A stage that deals are in is not removed from under them.
  v1::CreateDealRequest deal;
  deal.set_deal_id("in-contract");
  deal.mutable_deal()->set_title("Contract");
  deal.mutable_deal()->set_pipeline_id("services");
  deal.set_stage_id("CONTRACT");
  v1::ItemCommandResponse created;
  REQUIRE(f.crm->CreateDeal(Deadline().get(), deal, &created).ok());
  v1::GetItemRequest projected;
  projected.set_name("deals/in-contract");
  *projected.mutable_min_position() = created.position();
  v1::Deal in_contract;
  REQUIRE(f.crm->GetDeal(Deadline().get(), projected, &in_contract).ok());
  v1::ApplyPipelinesRequest shrink;
  *shrink.add_pipelines() =
      MakePipeline("services", v1::PIPELINE_KIND_DEAL,
                   {Stage("NEW", kInProgress), Stage("WON", kSuccess), Stage("LOST", kFailure)});
  v1::ApplyPipelinesResponse kept;
  auto in_use = f.pipelines->ApplyPipelines(Deadline().get(), shrink, &kept);
  CHECK(in_use.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(FieldsOf(in_use) == std::vector<std::string>{"pipelines[0].stages"});

  // Bad configuration is refused whole, naming the field.
  v1::ApplyPipelinesRequest bad;
  *bad.add_pipelines() = DealPipeline("ok-one");
  *bad.add_pipelines() = MakePipeline("broken", v1::PIPELINE_KIND_DEAL,
                                      {Stage("NEW", kInProgress), Stage("WON", kSuccess)});
  v1::ApplyPipelinesResponse refused;
  auto status = f.pipelines->ApplyPipelines(Deadline().get(), bad, &refused);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(FieldsOf(status) == std::vector<std::string>{"pipelines[1].stages"});
  v1::GetItemRequest get;
  get.set_name("pipelines/ok-one");
  v1::Pipeline none;
  CHECK(f.pipelines->GetPipeline(Deadline().get(), get, &none).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("the insurance pipeline is walked from Not verified to converted") {
  Crm f;
  f.Apply(
      {MakePipeline("lead", v1::PIPELINE_KIND_LEAD,
                    {Stage("NOT_VERIFIED", kInProgress), Stage("VERIFIED", kInProgress, {"phones"}),
                     Stage("CARD_READY", kInProgress), Stage("CARD_RECEIVED", kInProgress),
                     Stage("CONVERTED", kSuccess), Stage("JUNK", kFailure)},
                    {"phones", "first_name"}),
       DealPipeline("club-cards")});
  v1::Lead entered;
  entered.set_last_name("Sidorov");
  entered.add_emails()->set_address("sidorov@example.com");
  v1::Lead lead = f.CreateLead(entered);
  CHECK(lead.status_id() == "NOT_VERIFIED");

  auto refused = f.Move(lead.name(), "VERIFIED", nullptr);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(FieldsOf(refused) == std::vector<std::string>{"phones"});

  v1::Lead phone;
  phone.set_name(lead.name());
  phone.add_phones()->set_number("+7 495 100-20-30");
  f.Update(phone, {"phones"});
  for (const char* status : {"VERIFIED", "CARD_READY", "CARD_RECEIVED"}) {
    v1::Lead moved;
    auto s = f.Move(lead.name(), status, &moved);
    INFO(s.error_message());
    REQUIRE(s.ok());
    CHECK(moved.status_id() == status);
  }
  v1::ConvertLead conversion;
  conversion.set_deal_pipeline_id("club-cards");
  auto missing_name = f.Convert(lead.name(), conversion, nullptr);
  CHECK(missing_name.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(FieldsOf(missing_name) == std::vector<std::string>{"first_name"});
  v1::Lead name;
  name.set_name(lead.name());
  name.set_first_name("Pyotr");
  f.Update(name, {"first_name"});
  v1::Lead converted;
  auto ok = f.Convert(lead.name(), conversion, &converted);
  INFO(ok.error_message());
  REQUIRE(ok.ok());
  CHECK(converted.status_id() == "CONVERTED");
  v1::Deal deal;
  REQUIRE(f.Get(&v1::CrmService::Stub::GetDeal, "deals/" + converted.deal_id(), &deal).ok());
  CHECK(deal.pipeline_id() == "club-cards");
  CHECK(deal.stage_id() == "NEW");
  CHECK(deal.source_lead_id() == lead.lead_id());
}

TEST_CASE("the service firm refuses Send proposal until its required fields are filled") {
  Crm f;
  f.Apply({MakePipeline(
      "lead", v1::PIPELINE_KIND_LEAD,
      {Stage("NEW", kInProgress), Stage("QUALIFIED", kInProgress),
       Stage("SEND_PROPOSAL", kInProgress, {"opportunity", "custom_fields.service"}),
       Stage("CONSENT", kInProgress), Stage("CONVERTED", kSuccess), Stage("JUNK", kFailure)})});
  v1::Lead lead = f.CreateLead(Person("Irina", "+74951112233"));
  REQUIRE(f.Move(lead.name(), "QUALIFIED", nullptr).ok());
  auto refused = f.Move(lead.name(), "SEND_PROPOSAL", nullptr);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(FieldsOf(refused) == std::vector<std::string>{"opportunity", "custom_fields.service"});
  CHECK(refused.error_message().find("opportunity, custom_fields.service") != std::string::npos);

  v1::Lead amount;
  amount.set_name(lead.name());
  amount.mutable_opportunity()->set_currency_code("RUB");
  amount.mutable_opportunity()->set_amount_minor(5000000);
  f.Update(amount, {"opportunity"});
  auto still = f.Move(lead.name(), "SEND_PROPOSAL", nullptr);
  CHECK(FieldsOf(still) == std::vector<std::string>{"custom_fields.service"});

  v1::Lead service;
  service.set_name(lead.name());
  (*service.mutable_custom_fields())["service"] = "audit";
  f.Update(service, {"custom_fields"});
  v1::Lead moved;
  REQUIRE(f.Move(lead.name(), "SEND_PROPOSAL", &moved).ok());
  CHECK(moved.status_id() == "SEND_PROPOSAL");
  REQUIRE(f.Move(lead.name(), "CONSENT", nullptr).ok());
}

TEST_CASE("Send proposal needs the proposal task its robot planned, done") {
  Crm f;
  v1::Pipeline lead_statuses = MakePipeline(
      "lead", v1::PIPELINE_KIND_LEAD,
      {Stage("NEW", kInProgress), Stage("QUALIFIED", kInProgress),
       Stage("SEND_PROPOSAL", kInProgress), Stage("CONVERTED", kSuccess), Stage("JUNK", kFailure)});
  auto* need = lead_statuses.mutable_stages(2)->add_required_activities();
  need->set_type(v1::ACTIVITY_TYPE_TASK);
  need->set_robot_id("proposal-task");
  v1::Robot* robot = lead_statuses.add_robots();
  robot->set_robot_id("proposal-task");
  robot->set_title("Prepare the proposal");
  robot->set_stage_id("QUALIFIED");
  auto* task = robot->mutable_action()->mutable_create_activity();
  task->set_type(v1::ACTIVITY_TYPE_TASK);
  task->set_subject("Prepare the commercial proposal");
  task->mutable_deadline_in()->set_seconds(86400);
  f.Apply({lead_statuses});

  v1::Lead person = Person("Irina", "+74951112244");
  person.set_responsible_id("boris");
  v1::Lead lead = f.CreateLead(person);
  REQUIRE(f.Move(lead.name(), "QUALIFIED", nullptr).ok());
  auto refused = f.Move(lead.name(), "SEND_PROPOSAL", nullptr);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(FieldsOf(refused) == std::vector<std::string>{"required_activities[0]"});
  CHECK(refused.error_message().find(
            "status SEND_PROPOSAL needs a task planned by robot proposal-task done first") !=
        std::string::npos);

  // A task planned by hand and done is not the robot's.
  auto plan = [&](const std::string& id) {
    v1::PlanActivityRequest request;
    request.set_activity_id(id);
    auto* activity = request.mutable_activity();
    activity->set_type(v1::ACTIVITY_TYPE_TASK);
    activity->set_subject("Something else");
    activity->set_owner(lead.name());
    activity->set_responsible_id("boris");
    activity->mutable_deadline()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 3600);
    v1::ItemCommandResponse planned;
    REQUIRE(f.crm->PlanActivity(Deadline().get(), request, &planned).ok());
  };
  auto complete = [&](const std::string& name) {
    v1::CompleteActivityRequest request;
    request.set_name(name);
    v1::ItemCommandResponse done;
    REQUIRE(f.crm->CompleteActivity(Deadline().get(), request, &done).ok());
    // The check reads the read model: let it hold the completion.
    v1::GetItemRequest get;
    get.set_name(name);
    get.set_consistency_token(done.consistency_token());
    v1::Activity activity;
    REQUIRE(f.crm->GetActivity(Deadline().get(), get, &activity).ok());
    CHECK(activity.state() == v1::ACTIVITY_STATE_COMPLETED);
  };
  plan("by-hand");
  complete("activities/by-hand");
  CHECK(f.Move(lead.name(), "SEND_PROPOSAL", nullptr).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  // The robot's task, once it is done, lets the lead go on.
  std::string robot_task;
  for (auto until = absl::Now() + absl::Seconds(10); robot_task.empty() && absl::Now() < until;) {
    v1::ListItemsRequest list;
    list.set_owner(lead.name());
    v1::ListActivitiesResponse activities;
    REQUIRE(f.crm->ListActivities(Deadline().get(), list, &activities).ok());
    for (const auto& a : activities.activities()) {
      if (a.robot_id() == "proposal-task") robot_task = a.name();
    }
    if (robot_task.empty()) absl::SleepFor(absl::Milliseconds(20));
  }
  REQUIRE_FALSE(robot_task.empty());
  complete(robot_task);
  v1::Lead moved;
  auto ok = f.Move(lead.name(), "SEND_PROPOSAL", &moved);
  INFO(ok.error_message());
  REQUIRE(ok.ok());
  CHECK(moved.status_id() == "SEND_PROPOSAL");

  // A requirement naming a robot the pipeline does not have is refused.
  lead_statuses.mutable_stages(2)->mutable_required_activities(0)->set_robot_id("nobody");
  v1::ApplyPipelinesRequest apply;
  *apply.add_pipelines() = lead_statuses;
  v1::ApplyPipelinesResponse applied;
  auto bad = f.pipelines->ApplyPipelines(Deadline().get(), apply, &applied);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(FieldsOf(bad) ==
        std::vector<std::string>{"pipelines[0].stages[2].required_activities[0].robot_id"});
}

TEST_CASE("the three conversion forms create and link exactly their records") {
  Crm f;
  SECTION("a new private person becomes a contact and a deal") {
    v1::Lead person = Person("Olga", "8 916 200-00-01");
    person.add_emails()->set_address("olga@example.com");
    person.mutable_opportunity()->set_currency_code("RUB");
    person.mutable_opportunity()->set_amount_minor(120000);
    v1::Lead lead = f.CreateLead(person, "olga");
    v1::Lead converted;
    REQUIRE(f.Convert(lead.name(), {}, &converted, "conv-1").ok());
    CHECK(converted.status_semantic() == v1::STATUS_SEMANTIC_SUCCESS);
    CHECK(converted.contact_id() == "olga-contact");
    CHECK(converted.company_id().empty());
    CHECK(converted.deal_id() == "olga-deal");
    v1::Contact contact;
    REQUIRE(f.Get(&v1::CrmService::Stub::GetContact, "contacts/olga-contact", &contact).ok());
    CHECK(contact.first_name() == "Olga");
    CHECK(contact.phones(0).number() == "+79162000001");
    CHECK(contact.emails(0).address() == "olga@example.com");
    CHECK(contact.source_lead_id() == "olga");
    v1::Deal deal;
    REQUIRE(f.Get(&v1::CrmService::Stub::GetDeal, "deals/olga-deal", &deal).ok());
    CHECK(deal.contact_id() == "olga-contact");
    CHECK(deal.company_id().empty());
    CHECK(deal.pipeline_id() == "default");
    CHECK(deal.opportunity().amount_minor() == 120000);

    // A retried request gets the same answer; a second conversion is refused.
    v1::Lead retried;
    REQUIRE(f.Convert(lead.name(), {}, &retried, "conv-1").ok());
    CHECK(retried.deal_id() == "olga-deal");
    CHECK(f.Convert(lead.name(), {}, nullptr, "conv-2").error_code() ==
          grpc::StatusCode::FAILED_PRECONDITION);
    v1::ListItemsRequest by_lead;
    by_lead.set_source_lead_id("olga");
    CHECK(f.Deals(by_lead).size() == 1);
    CHECK(f.Contacts(by_lead).size() == 1);
  }
  SECTION("a new company becomes a contact, a company and a deal; phones go to both") {
    v1::Lead person = Person("Boris", "+74957000001");
    person.set_company_title("ООО «Ромашка»");
    v1::Lead lead = f.CreateLead(person, "boris");
    v1::ConvertLead conversion;
    conversion.set_create_company(true);
    v1::Lead converted;
    REQUIRE(f.Convert(lead.name(), conversion, &converted).ok());
    CHECK(converted.company_id() == "boris-company");
    v1::Company company;
    REQUIRE(f.Get(&v1::CrmService::Stub::GetCompany, "companies/boris-company", &company).ok());
    CHECK(company.title() == "ООО «Ромашка»");
    CHECK(company.phones(0).number() == "+74957000001");
    v1::Contact contact;
    REQUIRE(f.Get(&v1::CrmService::Stub::GetContact, "contacts/boris-contact", &contact).ok());
    CHECK(contact.phones(0).number() == "+74957000001");
    REQUIRE(contact.company_ids_size() == 1);
    CHECK(contact.company_ids(0) == "boris-company");
    v1::Deal deal;
    REQUIRE(f.Get(&v1::CrmService::Stub::GetDeal, "deals/boris-deal", &deal).ok());
    CHECK(deal.contact_id() == "boris-contact");
    CHECK(deal.company_id() == "boris-company");
    v1::ListItemsRequest of_company;
    of_company.set_company_id("boris-company");
    CHECK(f.Contacts(of_company).size() == 1);
  }
  SECTION("a known client gets a deal only, and a contact keeps many deals") {
    v1::CreateContactRequest create;
    create.set_contact_id("known");
    create.mutable_contact()->set_first_name("Vera");
    create.mutable_contact()->add_phones()->set_number("+79163000003");
    create.mutable_contact()->set_responsible_id("pavel");
    v1::ItemCommandResponse created;
    REQUIRE(f.crm->CreateContact(Deadline().get(), create, &created).ok());
    v1::GetItemRequest projected;
    projected.set_name("contacts/known");
    *projected.mutable_min_position() = created.position();
    v1::Contact known;
    REQUIRE(f.crm->GetContact(Deadline().get(), projected, &known).ok());
    // The repeat lead is linked to the client, whose responsible keeps it.
    v1::Lead again = Person("Vera", "8 916 300-00-03");
    again.clear_responsible_id();
    v1::Lead lead = f.CreateLead(again, "vera-1");
    CHECK(lead.repeat());
    CHECK(lead.contact_id() == "known");
    CHECK(lead.responsible_id() == "pavel");
    v1::Lead converted;
    REQUIRE(f.Convert(lead.name(), {}, &converted).ok());
    CHECK(converted.contact_id() == "known");
    CHECK(converted.deal_id() == "vera-1-deal");
    v1::Contact none;
    CHECK(f.Get(&v1::CrmService::Stub::GetContact, "contacts/vera-1-contact", &none).error_code() ==
          grpc::StatusCode::NOT_FOUND);
    v1::Lead second = f.CreateLead(again, "vera-2");
    v1::ConvertLead explicit_client;
    explicit_client.set_contact_id("known");
    REQUIRE(f.Convert(second.name(), explicit_client, nullptr).ok());
    v1::ListItemsRequest of_contact;
    of_contact.set_contact_id("known");
    auto deals = f.Deals(of_contact);
    REQUIRE(deals.size() == 2);
    CHECK(deals[0].deal_id() == "vera-1-deal");
    CHECK(deals[1].deal_id() == "vera-2-deal");
  }
}

TEST_CASE(
    "a conversion or a deal naming a client that does not exist is refused, naming the "
    "field") {
  Crm f;
  v1::Lead lead = f.CreateLead(Person("Gleb", "+79163000001"), "gleb");
  v1::ConvertLead to_ghost;
  to_ghost.set_contact_id("ghost-contact");
  grpc::Status refused = f.Convert(lead.name(), to_ghost, nullptr);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(FieldsOf(refused) == std::vector<std::string>{"contact_id"});
  CHECK(refused.error_message().find("ghost-contact") != std::string::npos);

  v1::CreateDealRequest deal;
  deal.mutable_deal()->set_title("Nobody's deal");
  deal.mutable_deal()->set_company_id("ghost-company");
  v1::ItemCommandResponse created;
  refused = f.crm->CreateDeal(Deadline().get(), deal, &created);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(FieldsOf(refused) == std::vector<std::string>{"deal.company_id"});

  // A contact made a moment ago is there to link to, at once.
  v1::CreateContactRequest contact;
  contact.mutable_contact()->set_first_name("Gleb");
  contact.set_contact_id("gleb-client");
  v1::ItemCommandResponse made;
  REQUIRE(f.crm->CreateContact(Deadline().get(), contact, &made).ok());
  deal.mutable_deal()->clear_company_id();
  deal.mutable_deal()->set_contact_id("gleb-client");
  grpc::Status linked = f.crm->CreateDeal(Deadline().get(), deal, &created);
  INFO(linked.error_message());
  CHECK(linked.ok());
  v1::ConvertLead to_client;
  to_client.set_contact_id("gleb-client");
  v1::Lead converted;
  grpc::Status converting = f.Convert(lead.name(), to_client, &converted);
  INFO(converting.error_message());
  REQUIRE(converting.ok());
  CHECK(converted.contact_id() == "gleb-client");
}

TEST_CASE("a conversion cut by SIGKILL finishes after restart, creating nothing twice") {
  Crm f;
  constexpr int kLeads = 40;
  for (int i = 0; i < kLeads; ++i) {
    f.CreateLead(Person(absl::StrCat("P", i), absl::StrCat("+7916400", 1000 + i)),
                 absl::StrCat("k", i));
  }
  // Conversions in flight when the server dies: it is SIGKILLed as soon as
  // the first is acknowledged, so at least one lead was converted before
  // the crash (its contact and deal, made after the conversion by the
  // follow-ups, most likely not yet), and the others were cut anywhere on
  // their way or never got there.
  std::mutex mu;
  std::condition_variable answered;
  int acknowledged = 0;
  int failed = 0;
  std::vector<std::thread> callers;
  for (int i = 0; i < kLeads; ++i) {
    callers.emplace_back([&, i] {
      const bool ok =
          f.Convert(absl::StrCat("leads/k", i), {}, nullptr, absl::StrCat("convert-", i)).ok();
      std::lock_guard<std::mutex> lock(mu);
      ++(ok ? acknowledged : failed);
      answered.notify_all();
    });
  }
  int acknowledged_before_kill = 0;
  {
    std::unique_lock<std::mutex> lock(mu);
    answered.wait_for(lock, std::chrono::seconds(30),
                      [&] { return acknowledged > 0 || failed == kLeads; });
    acknowledged_before_kill = acknowledged;
  }
  f.server.Kill();
  for (auto& caller : callers) caller.join();
  INFO(acknowledged_before_kill << " conversions acknowledged before the SIGKILL, " << acknowledged
                                << " in all, " << failed << " failed");
  REQUIRE(acknowledged_before_kill > 0);
  CHECK(failed > 0);  // and the SIGKILL cut some
  f.Connect();
  // Retried with the same request ids: each conversion completes once.
  for (int i = 0; i < kLeads; ++i) {
    v1::Lead converted;
    auto status =
        f.Convert(absl::StrCat("leads/k", i), {}, &converted, absl::StrCat("convert-", i));
    INFO(status.error_message());
    REQUIRE(status.ok());
    CHECK(converted.deal_id() == absl::StrCat("k", i, "-deal"));
  }
  REQUIRE(testing::WaitUntilIdle(f.channel));
  v1::ListItemsRequest all;
  all.set_page_size(1000);
  auto deals = f.Deals(all);
  auto contacts = f.Contacts(all);
  CHECK(deals.size() == kLeads);
  CHECK(contacts.size() == kLeads);
  for (const auto& deal : deals) CHECK(deal.contact_id() == deal.source_lead_id() + "-contact");
  // One creation event each, however often the follow-ups were replayed.
  for (int i = 0; i < kLeads; i += 7) {
    v1::ListTimelineRequest request;
    request.set_name(absl::StrCat("deals/k", i, "-deal"));
    v1::ListTimelineResponse history;
    REQUIRE(f.crm->ListTimeline(Deadline().get(), request, &history).ok());
    CHECK(history.events_size() == 1);
  }
}

TEST_CASE("merging two leads keeps one with the other's contact points and history") {
  Crm f({"--supervisors", "boss"});
  v1::Lead a = f.CreateLead(Person("Anna", "+79165000001"), "anna-a");
  v1::Lead b_lead = Person("", "+79165000002");
  b_lead.add_emails()->set_address("anna@example.com");
  b_lead.set_company_title("Acme");
  v1::Lead b = f.CreateLead(b_lead, "anna-b");
  v1::MergeLeadsRequest merge;
  merge.set_name(a.name());
  merge.set_merged(b.name());
  v1::LeadCommandResponse merged;
  auto status = f.leads->MergeLeads(Deadline().get(), merge, &merged);
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(merged.lead().phones_size() == 2);
  CHECK(merged.lead().emails(0).address() == "anna@example.com");
  CHECK(merged.lead().company_title() == "Acme");
  CHECK(merged.lead().first_name() == "Anna");
  REQUIRE(merged.lead().merged_lead_ids_size() == 1);

  v1::GetLeadRequest get;
  get.set_name(b.name());
  v1::Lead closed;
  REQUIRE(f.leads->GetLead(Deadline().get(), get, &closed).ok());
  CHECK(closed.merged_into_lead_id() == "anna-a");
  CHECK(closed.junk_reason() == v1::JUNK_REASON_DUPLICATE);

  v1::ListTimelineRequest timeline;
  timeline.set_name(a.name());
  v1::ListTimelineResponse history;
  REQUIRE(f.crm->ListTimeline(Deadline().get(), timeline, &history).ok());
  std::set<std::string> ids;
  for (const auto& event : history.events()) ids.insert(event.aggregate_id());
  CHECK(ids == std::set<std::string>{"anna-a", "anna-b"});
  std::set<std::string> types;
  for (const auto& event : history.events()) types.insert(event.type());
  CHECK(types.count("leadflow.v1.LeadMergedInto") == 1);
  CHECK(types.count("leadflow.v1.LeadAbsorbed") == 1);

  // A refusal names the request field that named the missing lead.
  v1::MergeLeadsRequest unknown;
  unknown.set_name(a.name());
  unknown.set_merged("leads/no-such-lead");
  v1::LeadCommandResponse none;
  auto missing = f.leads->MergeLeads(Deadline().get(), unknown, &none);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(FieldsOf(missing) == std::vector<std::string>{"merged"});
  v1::UpdateContactRequest update;
  update.mutable_contact()->set_name("contacts/no-such-contact");
  update.mutable_contact()->set_first_name("X");
  update.mutable_update_mask()->add_paths("first_name");
  v1::ItemCommandResponse updated;
  auto no_contact = f.crm->UpdateContact(Deadline().get(), update, &updated);
  CHECK(no_contact.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(FieldsOf(no_contact) == std::vector<std::string>{"contact.name"});

  // Merged away means gone: it is not merged twice nor reopened.
  CHECK(f.leads->MergeLeads(Deadline().get(), merge, &merged).ok());
  v1::ReopenLeadRequest reopen;
  reopen.set_name(b.name());
  reopen.set_reason("mistake");
  reopen.set_actor("boss");
  CHECK(f.leads->ReopenLead(Deadline().get(), reopen, &merged).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE("deals move only within their pipeline; won deals stay on record") {
  Crm f;
  f.Apply({DealPipeline("services")});
  v1::CreateDealRequest create;
  create.set_deal_id("d1");
  create.mutable_deal()->set_title("Audit");
  create.mutable_deal()->set_pipeline_id("services");
  create.mutable_deal()->set_responsible_id("anna");
  v1::ItemCommandResponse created;
  REQUIRE(f.crm->CreateDeal(Deadline().get(), create, &created).ok());
  CHECK(created.item().deal().stage_id() == "NEW");
  v1::MoveDealRequest move;
  move.set_name("deals/d1");
  move.set_stage_id("INVOICE");  // a stage of the default pipeline
  v1::ItemCommandResponse moved;
  auto refused = f.crm->MoveDeal(Deadline().get(), move, &moved);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(FieldsOf(refused) == std::vector<std::string>{"stage_id"});
  move.set_stage_id("WON");
  REQUIRE(f.crm->MoveDeal(Deadline().get(), move, &moved).ok());
  CHECK(moved.item().deal().stage_semantic() == v1::STATUS_SEMANTIC_SUCCESS);
  CHECK(moved.item().deal().has_close_time());
  const v1::LogPosition won_at = moved.position();
  move.set_stage_id("NEW");
  CHECK(f.crm->MoveDeal(Deadline().get(), move, &moved).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  v1::ListItemsRequest won;
  won.set_pipeline_id("services");
  won.set_stage_id("WON");
  *won.mutable_min_position() = won_at;
  CHECK(f.Deals(won).size() == 1);
}

TEST_CASE("counters move as activities become due and overdue on the server's clock") {
  TempDir clock_dir;
  const std::string clock_file = clock_dir.Sub("now");
  auto set_clock = [&](const std::string& rfc3339) {
    std::ofstream(clock_file) << rfc3339 << "\n";
  };
  set_clock("2026-11-23T09:00:00Z");
  Crm f({"--clock-file", clock_file, "--time-zone", "UTC"});
  auto counters = [&f](const v1::LogPosition* after = nullptr) {
    v1::GetCountersRequest request;
    request.set_responsible_id("ivan");
    if (after != nullptr) *request.mutable_min_position() = *after;
    v1::Counters response;
    auto status = f.crm->GetCounters(Deadline().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response;
  };
  v1::CreateLeadRequest create;
  create.set_lead_id("ivans-lead");
  *create.mutable_lead() = Person("Client", "+79166000001");
  create.mutable_lead()->set_responsible_id("ivan");
  v1::LeadCommandResponse lead;
  REQUIRE(f.leads->CreateLead(Deadline().get(), create, &lead).ok());
  CHECK(counters(&lead.position()).leads_without_activity() == 1);

  auto plan = [&f](const std::string& id, const std::string& deadline) {
    v1::PlanActivityRequest request;
    request.set_activity_id(id);
    auto* activity = request.mutable_activity();
    activity->set_type(v1::ACTIVITY_TYPE_CALL);
    activity->set_subject("Call back");
    activity->set_owner("leads/ivans-lead");
    activity->set_responsible_id("ivan");
    absl::Time t;
    std::string error;
    REQUIRE(absl::ParseTime(absl::RFC3339_full, deadline, &t, &error));
    *activity->mutable_deadline() = ToTimestamp(t);
    v1::ItemCommandResponse response;
    auto status = f.crm->PlanActivity(Deadline().get(), request, &response);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return response.position();
  };
  plan("call-today", "2026-11-23T11:00:00Z");
  auto at = plan("call-tomorrow", "2026-11-24T10:00:00Z");
  auto now = counters(&at);
  CHECK(now.activities_due_today() == 1);
  CHECK(now.activities_overdue() == 0);
  CHECK(now.leads_without_activity() == 0);

  set_clock("2026-11-23T12:00:00Z");
  now = counters();
  CHECK(now.activities_due_today() == 0);
  CHECK(now.activities_overdue() == 1);

  v1::CompleteActivityRequest complete;
  complete.set_name("activities/call-today");
  complete.set_result("reached, sending an offer");
  v1::ItemCommandResponse done;
  REQUIRE(f.crm->CompleteActivity(Deadline().get(), complete, &done).ok());
  CHECK(counters(&done.position()).activities_overdue() == 0);

  set_clock("2026-11-24T08:00:00Z");
  CHECK(counters().activities_due_today() == 1);
  set_clock("2026-11-24T11:00:00Z");
  CHECK(counters().activities_overdue() == 1);
  v1::RescheduleActivityRequest reschedule;
  reschedule.set_name("activities/call-tomorrow");
  absl::Time later;
  std::string error;
  REQUIRE(absl::ParseTime(absl::RFC3339_full, "2026-11-25T10:00:00Z", &later, &error));
  *reschedule.mutable_deadline() = ToTimestamp(later);
  reschedule.set_reason("asked to call on Wednesday");
  REQUIRE(f.crm->RescheduleActivity(Deadline().get(), reschedule, &done).ok());
  now = counters(&done.position());
  CHECK(now.activities_overdue() == 0);
  CHECK(now.activities_due_today() == 0);

  complete.set_name("activities/call-tomorrow");
  REQUIRE(f.crm->CompleteActivity(Deadline().get(), complete, &done).ok());
  CHECK(counters(&done.position()).leads_without_activity() == 1);

  v1::CreateDealRequest deal;
  deal.set_deal_id("ivans-deal");
  deal.mutable_deal()->set_title("Deal");
  deal.mutable_deal()->set_responsible_id("ivan");
  v1::ItemCommandResponse created;
  REQUIRE(f.crm->CreateDeal(Deadline().get(), deal, &created).ok());
  CHECK(counters(&created.position()).deals_without_activity() == 1);
}

TEST_CASE("a call from a known client makes a repeat lead whose responsible is told first") {
  Crm f;
  v1::CreateCompanyRequest company;
  company.set_company_id("romashka");
  company.mutable_company()->set_title("ООО Ромашка");
  company.mutable_company()->set_responsible_id("pavel");
  v1::ItemCommandResponse created;
  REQUIRE(f.crm->CreateCompany(Deadline().get(), company, &created).ok());
  v1::CreateContactRequest contact;
  contact.set_contact_id("nina");
  contact.mutable_contact()->set_first_name("Nina");
  contact.mutable_contact()->add_phones()->set_number("+79167770001");
  contact.mutable_contact()->add_company_ids("romashka");
  contact.mutable_contact()->set_responsible_id("pavel");
  REQUIRE(f.crm->CreateContact(Deadline().get(), contact, &created).ok());
  v1::GetItemRequest projected;
  projected.set_name("contacts/nina");
  *projected.mutable_min_position() = created.position();
  v1::Contact nina;
  REQUIRE(f.crm->GetContact(Deadline().get(), projected, &nina).ok());

  auto intake = v1::IntakeService::NewStub(f.channel);
  v1::PublishChannelEventRequest publish;
  *publish.mutable_event() = testing::CallEvent("call-known", "8 916 777-00-01", "op-3");
  v1::PublishChannelEventResponse published;
  REQUIRE(intake->PublishChannelEvent(Deadline().get(), publish, &published).ok());
  REQUIRE(testing::WaitUntilIdle(f.channel));
  v1::ListLeadsRequest list;
  v1::ListLeadsResponse leads;
  REQUIRE(f.leads->ListLeads(Deadline().get(), list, &leads).ok());
  REQUIRE(leads.leads_size() == 1);
  const v1::Lead& lead = leads.leads(0);
  CHECK(lead.repeat());
  CHECK(lead.contact_id() == "nina");
  CHECK(lead.company_id() == "romashka");
  v1::ListTimelineRequest timeline;
  timeline.set_name(lead.name());
  v1::ListTimelineResponse history;
  REQUIRE(f.crm->ListTimeline(Deadline().get(), timeline, &history).ok());
  // The client's responsible and the operator who took the call (the
  // lead's own) both hear that it has priority.
  std::set<std::string> told;
  for (const auto& event : history.events()) {
    if (event.has_responsible_notified()) {
      CHECK(event.responsible_notified().priority());
      told.insert(event.responsible_notified().user_id());
    }
  }
  CHECK(lead.responsible_id() == "op-3");
  CHECK(told == std::set<std::string>{"pavel", "op-3"});

  // The duplicate search finds the lead, the contact and the company.
  v1::FindDuplicateLeadsRequest search;
  search.set_phone("+7 916 777 00 01");
  v1::FindDuplicatesResponse found;
  REQUIRE(f.crm->FindDuplicates(Deadline().get(), search, &found).ok());
  CHECK(found.leads_size() == 1);
  REQUIRE(found.contacts_size() == 1);
  CHECK(found.contacts(0).contact().contact_id() == "nina");
  v1::FindDuplicateLeadsRequest by_name;
  by_name.set_name("Nina");
  by_name.set_company_title("ооо ромашка");
  REQUIRE(f.crm->FindDuplicates(Deadline().get(), by_name, &found).ok());
  REQUIRE(found.companies_size() == 1);
  CHECK(found.companies(0).company().company_id() == "romashka");
}

TEST_CASE("a call right after its lead's conversion is the new contact's repeat lead") {
  // Conversions and the same people's next calls sent at once, from two
  // clients: a call the resolver takes before the conversion is decided
  // belongs to the open lead; one after it must make a repeat lead of the
  // new contact — never land on the converted lead, and never miss the
  // contact because the read models have not caught up with the
  // conversion (they lag it by the projection and the follow-ups).
  Crm f;
  auto intake = v1::IntakeService::NewStub(f.channel);
  constexpr int kPeople = 60;
  auto phone_of = [](int i) { return absl::StrCat("+7916555", 1000 + i); };
  for (int i = 0; i < kPeople; ++i) {
    v1::PublishChannelEventRequest publish;
    *publish.mutable_event() = testing::CallEvent(absl::StrCat("first-", i), phone_of(i), "op");
    v1::PublishChannelEventResponse published;
    REQUIRE(intake->PublishChannelEvent(Deadline().get(), publish, &published).ok());
  }
  REQUIRE(testing::WaitUntilIdle(f.channel));
  v1::ListLeadsRequest list;
  list.set_page_size(1000);
  v1::ListLeadsResponse first;
  REQUIRE(f.leads->ListLeads(Deadline().get(), list, &first).ok());
  REQUIRE(first.leads_size() == kPeople);
  std::map<std::string, v1::Lead> by_phone;
  for (const auto& lead : first.leads()) by_phone[lead.phones(0).number()] = lead;

  std::vector<std::string> errors;
  std::mutex errors_mu;
  auto fail = [&](std::string error) {
    std::lock_guard<std::mutex> lock(errors_mu);
    errors.push_back(std::move(error));
  };
  // Each call goes out as its person's conversion is sent, so it races
  // the conversion's decision and the projection of what follows it.
  std::atomic<int> converting{0};
  std::thread converter([&] {
    for (int i = 0; i < kPeople; ++i) {
      converting = i + 1;
      grpc::Status status =
          f.Convert(by_phone[phone_of(i)].name(), v1::ConvertLead(), nullptr, absl::StrCat("c", i));
      if (!status.ok()) fail(absl::StrCat("convert ", i, ": ", status.error_message()));
    }
  });
  std::thread caller([&] {
    for (int i = 0; i < kPeople; ++i) {
      const absl::Time limit = absl::Now() + absl::Seconds(30);
      while (converting <= i && absl::Now() < limit) absl::SleepFor(absl::Microseconds(100));
      v1::PublishChannelEventRequest publish;
      *publish.mutable_event() = testing::CallEvent(absl::StrCat("again-", i), phone_of(i), "op");
      v1::PublishChannelEventResponse published;
      grpc::Status status = intake->PublishChannelEvent(Deadline().get(), publish, &published);
      if (!status.ok()) fail(absl::StrCat("call ", i, ": ", status.error_message()));
    }
  });
  converter.join();
  caller.join();
  for (const auto& error : errors) FAIL_CHECK(error);
  REQUIRE(testing::WaitUntilIdle(f.channel));

  v1::ListLeadsResponse after;
  REQUIRE(f.leads->ListLeads(Deadline().get(), list, &after).ok());
  std::map<std::string, std::vector<v1::Lead>> leads_of;
  for (const auto& lead : after.leads()) leads_of[lead.phones(0).number()].push_back(lead);
  int before_conversion = 0;
  int repeat_leads = 0;
  for (int i = 0; i < kPeople; ++i) {
    const v1::Lead& converted = by_phone[phone_of(i)];
    INFO("person " << i << ", first lead " << converted.lead_id());
    // Where the second call went: the first lead's history, in order.
    v1::ListTimelineRequest timeline;
    timeline.set_name(converted.name());
    timeline.set_page_size(100);
    v1::ListTimelineResponse history;
    REQUIRE(f.crm->ListTimeline(Deadline().get(), timeline, &history).ok());
    int converted_at = -1;
    int second_call_at = -1;
    for (int e = 0; e < history.events_size(); ++e) {
      const auto& event = history.events(e);
      if (event.has_lead_converted()) converted_at = e;
      if (event.has_communication_recorded() &&
          event.communication_recorded().channel_event().id() == absl::StrCat("again-", i)) {
        second_call_at = e;
      }
    }
    REQUIRE(converted_at >= 0);
    const std::vector<v1::Lead>& leads = leads_of[phone_of(i)];
    if (second_call_at >= 0) {
      CHECK(second_call_at < converted_at);  // never onto the converted lead
      CHECK(leads.size() == 1);
      ++before_conversion;
      continue;
    }
    REQUIRE(leads.size() == 2);
    const v1::Lead& repeat = leads[0].lead_id() == converted.lead_id() ? leads[1] : leads[0];
    CHECK(repeat.repeat());
    CHECK(repeat.contact_id() == converted.lead_id() + "-contact");
    ++repeat_leads;
  }
  CHECK(before_conversion + repeat_leads == kPeople);
  WARN("second calls before the conversion: " << before_conversion
                                              << ", repeat leads after it: " << repeat_leads);
}

}  // namespace
}  // namespace leadflow
